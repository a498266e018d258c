"""Running one job per video over a folder: outputs, resuming, per-file errors, torchrun sharding.

Shared by ``silverscore extract`` (I3D features) and ``silverscore extract-poses`` so both behave
the same way on a large corpus:

* outputs mirror the input folder (``videos/a/b.mp4`` → ``out/a/b.npy``), so names never collide
  across sub-folders, and two inputs that would write the same output are refused up front;
* a video is done when all its outputs exist; every output is written atomically, so an
  interrupted run can simply be started again;
* a bad video is recorded with its message and the run goes on; the report lists them at the end;
* under ``torchrun`` each rank takes videos ``i % world == rank`` (no coordination needed while
  working, and a restarted run re-derives the same split), and the reports are gathered on
  every rank so rank 0 can print the total. The process group uses gloo: it only carries small
  Python objects, works on CPU-only machines, and does not compete with NCCL for GPU memory.
"""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Sequence, TypeVar

from ..errors import InputError

T = TypeVar("T")


@dataclass
class Shard:
    """This process's place in a torchrun job (or the trivial single-process shard)."""

    rank: int = 0
    world: int = 1
    local_rank: int = 0
    active: bool = False
    owns_group: bool = False

    @classmethod
    def current(cls, distributed: bool | None = None) -> "Shard":
        """The shard of this process.

        ``distributed=None``: join an already initialised process group, or initialise one when
        torchrun's environment says there is more than one process; ``False``: single process;
        ``True``: initialise from the environment (``RANK``, ``WORLD_SIZE``, ``MASTER_ADDR``, …).
        """
        import torch.distributed as dist

        if not dist.is_available():
            if distributed:
                raise InputError(None, "--distributed needs torch.distributed, which this torch build lacks")
            return cls()
        initialised = dist.is_initialized()
        if distributed is None:
            distributed = initialised or int(os.environ.get("WORLD_SIZE", "1")) > 1
        if not distributed:
            return cls()
        owns = False
        if not initialised:
            missing = [v for v in ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT") if v not in os.environ]
            if missing:
                raise InputError(None, f"--distributed expects to run under torchrun ({', '.join(missing)} not set); "
                                       "e.g. torchrun --nproc_per_node 2 -m silverscore.cli extract ...")
            dist.init_process_group(backend="gloo")
            owns = True
        world = dist.get_world_size()
        rank = dist.get_rank()
        local_rank = int(os.environ.get("LOCAL_RANK", rank))
        return cls(rank, world, local_rank, world > 1 or owns, owns)

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def take(self, items: Sequence[T]) -> list[T]:
        """This rank's share: items ``i`` with ``i % world == rank``."""
        return list(items[self.rank::self.world])

    def device_for(self, device):
        """``cuda`` means this process's own GPU (``cuda:LOCAL_RANK``) when sharded."""
        if self.active and str(device) == "cuda":
            return f"cuda:{self.local_rank}"
        return device

    def barrier(self) -> None:
        if self.active:
            import torch.distributed as dist

            dist.barrier()

    def gather(self, obj):
        """Every rank's ``obj``, in rank order (just ``[obj]`` when not sharded)."""
        if not self.active:
            return [obj]
        import torch.distributed as dist

        everything = [None] * self.world
        dist.all_gather_object(everything, obj)
        return everything

    def gather_dicts(self, *dicts: dict) -> tuple[dict, ...]:
        """Merge each dict across ranks (keys are disjoint: every rank had its own videos)."""
        merged = tuple({} for _ in dicts)
        for parts in self.gather(dicts):
            for target, part in zip(merged, parts):
                target.update(part)
        return merged

    def close(self) -> None:
        """Tear down the process group if this shard created it."""
        if self.owns_group:
            import torch.distributed as dist

            if dist.is_initialized():
                dist.destroy_process_group()
            self.owns_group = False


def progress_bar(items: Iterable[T], desc: str, enabled: bool, total: int | None = None):
    """A tqdm bar on stderr (or the plain iterable when disabled)."""
    if not enabled:
        return items
    from tqdm import tqdm

    return tqdm(items, desc=desc, total=total, unit="video", file=sys.stderr, dynamic_ncols=True)


@dataclass
class Job:
    """One input video and the output files it produces."""

    source: Path
    key: str
    outputs: dict[str, Path]

    def output(self, suffix: str) -> Path:
        return self.outputs[suffix]

    def done(self) -> bool:
        return all(path.is_file() for path in self.outputs.values())


def plan_outputs(videos_dir: str | Path, out_dir: str | Path, suffixes: Sequence[str]) -> list[Job]:
    """A job per video under ``videos_dir``, outputs at the same relative path under ``out_dir``."""
    from ..inputs.video import VIDEO_SUFFIXES, list_videos

    videos_dir, out_dir = Path(videos_dir), Path(out_dir)
    videos = list_videos(videos_dir)
    if not videos:
        raise InputError(videos_dir, f"no video files ({', '.join(VIDEO_SUFFIXES)}) found")
    jobs: list[Job] = []
    seen: dict[str, Path] = {}
    for video in videos:
        relative = video.relative_to(videos_dir).with_suffix("")
        key = relative.as_posix()
        if key in seen:
            raise InputError(video, f"would write the same output as {seen[key]} (same name, different extension); "
                                    "rename one of them")
        seen[key] = video
        jobs.append(Job(video, key, {s: out_dir / relative.with_suffix(s) for s in suffixes}))
    return jobs


@dataclass
class RunReport:
    """What a corpus run did, over all ranks."""

    written: int = 0
    skipped: int = 0
    failed: dict[str, str] = field(default_factory=dict)

    @property
    def exit_code(self) -> int:
        """0: every video has its outputs; 1: some videos failed (the others were written)."""
        return 1 if self.failed else 0

    def lines(self, what: str) -> list[str]:
        out = [f"{what}: {self.written} written, {self.skipped} already done, {len(self.failed)} failed"]
        out += [f"  failed: {path}: {problem}" for path, problem in sorted(self.failed.items())]
        return out


def run_jobs(jobs: Sequence[Job], work: Callable[[Job], None], shard: Shard, desc: str, progress: bool) -> RunReport:
    """Run ``work`` on this rank's unfinished jobs; collect per-file errors; gather the report.

    Any exception from one video (a clear :class:`InputError`, or something unexpected such as
    running out of memory on a huge file) is recorded against that video and the run continues;
    only an interrupt stops it.
    """
    report = RunReport()
    mine = shard.take(jobs)
    for job in progress_bar(mine, desc, progress and shard.is_main):
        if job.done():
            report.skipped += 1
            continue
        try:
            work(job)
        except InputError as err:
            report.failed[str(job.source)] = err.problem
        except Exception as err:  # noqa: BLE001 - one bad video must not end a corpus run
            first = str(err).strip().splitlines()[0] if str(err).strip() else ""
            report.failed[str(job.source)] = f"unexpected {type(err).__name__}: {first}"
        else:
            report.written += 1
    total = RunReport()
    for part in shard.gather(report):
        total.written += part.written
        total.skipped += part.skipped
        total.failed.update(part.failed)
    return total
