"""I3D clip features from videos, exactly as CiCo computes them, batched (spec §3).

A video becomes ``n × 1024`` float32 features, one per 16-frame window:

* frames are decoded once and pre-processed as they arrive
  (:func:`silverscore.inputs.video.iter_preprocessed_chunks`);
* windows start at ``0, s, 2s, …``; when the last full window does not end on the final frame, one
  more window ending on it is added (CiCo's "moved back" last clip), so
  ``n = ceil((T − 16) / s) + 1`` and ``n = T − 15`` at the default stride 1;
* a video shorter than 16 frames repeats its last frame up to 16 (CiCo; the official package
  zero-pads, which changes the features by up to ~1);
* windows go through the network ``batch_size`` at a time, both streams on the same batch, and
  the streams are blended ``α·agnostic + (1 − α)·aware`` in float32.

Only a sliding buffer of pre-processed frames is held (the frames still needed by a window plus
the last 16), so memory does not grow with the video's length.

:func:`extract_features` returns features in memory (what ``silverscore score --videos`` uses);
:func:`extract_to_dir` is the resumable per-file runner behind ``silverscore extract``. The files
hold exactly the arrays :func:`extract_features` returns, so scoring from either gives the same
numbers.
"""
from __future__ import annotations

import contextlib
import json
import math
import pickle
import queue
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, Sequence

import numpy as np
import torch

from .errors import InputError
from .inputs.video import (CHUNK_FRAMES, DEFAULT_MAX_PIXELS, DEFAULT_MIN_FRAMES,
                           iter_preprocessed_chunks)
from .models.i3d import FEATURE_DIM, WINDOW_FRAMES, InceptionI3d, load_i3d
from .models.i3d_sliding import SlidingI3D
from .video import corpus

#: Windows per forward pass by default, per device type. On a GPU a batch fills the device; on
#: a CPU the convolutions are compute-bound and a larger batch only adds cache misses (batch 1
#: was fastest in benchmarks/bench_i3d.py; see docs/video.md).
DEFAULT_BATCH_SIZE = {"cpu": 1, "cuda": 16}


def default_batch_size(device: str | torch.device) -> int:
    return DEFAULT_BATCH_SIZE.get(torch.device(device).type, 1)
#: α of the published models: 0.9 PHOENIX-14T, 0.8 CSL-Daily and How2Sign (spec §1).
DEFAULT_ALPHA = 0.9
#: Bumped whenever the numbers a given video and checkpoint produce would change.
FEATURE_VERSION = 1


def window_starts(num_frames: int, stride: int = 1, window: int = WINDOW_FRAMES) -> list[int]:
    """First frame of every window, CiCo's rule (spec §3).

    ``[0, s, 2s, …]`` while a full window fits, then ``T − window`` if the last full window did
    not end on the final frame. A video shorter than a window has the single start 0 (it is
    padded by repeating its last frame).
    """
    if stride < 1:
        raise ValueError(f"stride must be >= 1, got {stride}")
    if num_frames < 1:
        raise ValueError("a video needs at least one frame")
    if num_frames <= window:
        return [0]
    starts = list(range(0, num_frames - window + 1, stride))
    if starts[-1] != num_frames - window:
        starts.append(num_frames - window)
    assert len(starts) == math.ceil((num_frames - window) / stride) + 1
    return starts


def iter_windows(chunks: Iterable[torch.Tensor], stride: int = 1,
                 window: int = WINDOW_FRAMES) -> Iterator[tuple[int, list[torch.Tensor]]]:
    """``(start, frames)`` of every window, from pre-processed frame chunks (``t×3×H×W``), in order.

    Streaming version of :func:`window_starts`: a window is emitted as soon as its last frame
    has arrived, and frames no window can need any more are dropped. ``frames`` are the window's
    ``window`` frames (``3×H×W`` each); a video shorter than a window repeats its last frame.
    """
    buffer: list[torch.Tensor] = []  # frames first .. total-1
    first = 0
    total = 0
    next_start = 0
    last_emitted = -1
    for chunk in chunks:
        for frame in chunk:
            buffer.append(frame)
            total += 1
            while next_start + window <= total:
                yield next_start, buffer[next_start - first:next_start - first + window]
                last_emitted = next_start
                next_start += stride
            # Keep what a later window may use: from next_start, and the last `window` frames
            # for the final "moved back" window.
            keep_from = max(first, min(next_start, total - window))
            if keep_from > first:
                del buffer[:keep_from - first]
                first = keep_from
    if total == 0:
        raise ValueError("no frames")
    if total < window:
        yield 0, buffer + [buffer[-1]] * (window - total)
    elif last_emitted != total - window:
        yield total - window, buffer[total - window - first:total - first]


def iter_clips(chunks: Iterable[torch.Tensor], stride: int = 1, window: int = WINDOW_FRAMES) -> Iterator[torch.Tensor]:
    """Clips ``3×window×H×W`` of :func:`iter_windows`, in window order."""
    for _, frames in iter_windows(chunks, stride, window):
        yield torch.stack(frames, dim=1)


def _batches(clips: Iterable[torch.Tensor], batch_size: int) -> Iterator[torch.Tensor]:
    pending: list[torch.Tensor] = []
    for clip in clips:
        pending.append(clip)
        if len(pending) == batch_size:
            yield torch.stack(pending)
            pending = []
    if pending:
        yield torch.stack(pending)


def prefetch(items: Iterable, depth: int = 2) -> Iterator:
    """Iterate ``items`` in a background thread, up to ``depth`` items ahead of the consumer.

    Decoding, pre-processing and stacking windows run on the CPU while the network runs: on a GPU
    they would otherwise take most of the time. The values are untouched. An exception raised by
    ``items`` is raised to the consumer at the same place; a consumer that stops early stops the
    thread.
    """
    done = object()
    slots: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                while not stop.is_set():
                    try:
                        slots.put((item, None), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            slots.put((done, None))
        except BaseException as err:  # handed to the consumer, raised there
            slots.put((done, err))
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()  # e.g. a decoding generator: closes its container now, not at GC

    worker = threading.Thread(target=produce, name="silverscore-prefetch", daemon=True)
    worker.start()
    try:
        while True:
            item, err = slots.get()
            if item is done:
                if err is not None:
                    raise err
                return
            yield item
    finally:
        stop.set()
        while worker.is_alive():  # unblock a producer waiting on a full queue
            try:
                slots.get_nowait()
            except queue.Empty:
                pass
            worker.join(timeout=0.05)


def resolve_device(device: str | torch.device | None) -> torch.device:
    """``cpu``, ``cuda`` or ``cuda:N``; a clear InputError when CUDA was asked for but is absent."""
    device = torch.device(device or "cpu")
    if device.type == "cuda" and not torch.cuda.is_available():
        raise InputError(None, f"--device {device} asked for CUDA, but torch sees no CUDA device here")
    if device.type not in ("cpu", "cuda"):
        raise InputError(None, f"unsupported device {device}; use cpu or cuda[:N]")
    return device


@contextlib.contextmanager
def full_fp32_convolutions(device: torch.device) -> Iterator[None]:
    """On CUDA, run convolutions and matmuls in true fp32 (TF32 off) for the duration.

    PyTorch lets cuDNN convolve fp32 tensors in TF32 on Ampere and newer GPUs by default: 10
    mantissa bits instead of 23, far outside the 1e-5 to which features must match CiCo's. The
    previous settings are restored afterwards, so a caller's own choice is left as it was.
    """
    if device.type != "cuda":
        yield
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # newer torch prefers fp32_precision; both spellings work
        saved = torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32
        torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = False
    try:
        yield
    finally:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = saved


class I3DFeatureExtractor:
    """One or two I3D streams, ready to turn videos into blended clip features.

    ``agnostic`` / ``aware`` are checkpoint paths or already-built :class:`InceptionI3d` modules.

    On CPU, at strides below 8, a video's windows go through :class:`SlidingI3D`
    (``share_windows``, default on there): overlapping windows share the stem's work and the
    network runs as 2-D convolutions on frame-folded maps, ~2.5× faster than one window per
    forward pass for the same features to ~3e-6 (docs/video.md); ``batch_size`` is then the
    number of windows per pass through the layers after the stem. Otherwise, and for
    :meth:`features_of_clips`, the plain network runs ``batch_size`` windows per forward pass, in
    the ``channels_last_3d`` memory format on CPU (oneDNN's faster layout; values equal to ~1e-7).
    On CUDA, TF32 is switched off while the networks run (:func:`full_fp32_convolutions`), so GPU
    features equal CPU ones.
    """

    #: Strides from which windows overlap too little for the shared stem to pay: it convolves
    #: every new frame with all 7 temporal taps, which costs more than the plain Conv3d_1a once
    #: fewer than half of a window's frames are shared.
    MAX_SHARED_STRIDE = 7

    def __init__(self, agnostic: str | Path | InceptionI3d, aware: str | Path | InceptionI3d | None = None,
                 alpha: float = DEFAULT_ALPHA, stride: int = 1, batch_size: int | None = None,
                 device: str | torch.device = "cpu", max_pixels: int = DEFAULT_MAX_PIXELS,
                 min_frames: int = DEFAULT_MIN_FRAMES, channels_last: bool = True,
                 share_windows: bool | None = None):
        if stride < 1:
            raise InputError(None, f"stride must be >= 1, got {stride}")
        if batch_size is not None and batch_size < 1:
            raise InputError(None, f"batch size must be >= 1, got {batch_size}")
        if not 0.0 <= alpha <= 1.0:
            raise InputError(None, f"alpha must be in [0, 1], got {alpha}")
        self.device = resolve_device(device)
        batch_size = batch_size or default_batch_size(self.device)
        self.alpha = float(alpha)
        self.stride = int(stride)
        self.batch_size = int(batch_size)
        self.max_pixels = int(max_pixels)
        self.min_frames = int(min_frames)
        self.memory_format = torch.channels_last_3d if channels_last else torch.contiguous_format
        self.agnostic = self._prepare(agnostic)
        self.aware = self._prepare(aware) if aware is not None else None
        if share_windows is None:
            share_windows = self.device.type == "cpu" and self.stride <= self.MAX_SHARED_STRIDE
        self.share_windows = bool(share_windows)
        self._sliding: list[SlidingI3D] | None = None

    def _prepare(self, model: str | Path | InceptionI3d) -> InceptionI3d:
        if not isinstance(model, InceptionI3d):
            model = load_i3d(model, "cpu")
        return model.eval().to(self.device, memory_format=self.memory_format)

    @torch.inference_mode()
    def features_of_clips(self, clips: torch.Tensor) -> torch.Tensor:
        """Blended features ``B×1024`` (float32, on CPU) of pre-processed clips ``B×3×16×224×224``."""
        x = clips.to(self.device, non_blocking=True).contiguous(memory_format=self.memory_format)
        with full_fp32_convolutions(self.device):
            out = self.agnostic(x)
            if self.aware is not None:
                out = self.alpha * out + (1.0 - self.alpha) * self.aware(x)
        return out.float().cpu()

    @torch.inference_mode()
    def shared_window_features(self, windows: Iterable[tuple[int, list[torch.Tensor]]]) -> Iterator[torch.Tensor]:
        """Blended features of ``(start, frames)`` windows through :class:`SlidingI3D`, in order.

        Works whatever ``share_windows`` says (it only picks the path :meth:`video_features` takes).
        """
        if self._sliding is None:  # BatchNorm-folded copies of the streams, built once
            self._sliding = [SlidingI3D(net, trunk_batch=self.batch_size)
                             for net in (self.agnostic, self.aware) if net is not None]
        stems = [net.stem() for net in self._sliding]
        pending: list[list[torch.Tensor]] = [[] for _ in stems]

        def flush() -> torch.Tensor:
            outs = [net.trunk(torch.cat(steps)) for net, steps in zip(self._sliding, pending)]
            for steps in pending:
                steps.clear()
            out = outs[0] if len(outs) == 1 else self.alpha * outs[0] + (1.0 - self.alpha) * outs[1]
            return out.float().cpu()

        with full_fp32_convolutions(self.device):
            for start, frames in windows:
                for stem, steps in zip(stems, pending):
                    steps.append(stem.window(start, frames))
                if len(pending[0]) == self.batch_size:
                    yield flush()
            if pending[0]:
                yield flush()

    def video_features(self, path: str | Path) -> np.ndarray:
        """``n × 1024`` float32 features of one video (InputError on a bad video)."""
        chunks = iter_preprocessed_chunks(path, CHUNK_FRAMES, self.max_pixels, self.min_frames, self.device)
        if self.share_windows:
            rows = list(self.shared_window_features(prefetch(iter_windows(chunks, self.stride), depth=8)))
        else:
            batches = prefetch(_batches(iter_clips(chunks, self.stride), self.batch_size))
            rows = [self.features_of_clips(batch) for batch in batches]
        features = torch.cat(rows).numpy().astype(np.float32, copy=False)
        assert features.ndim == 2 and features.shape[1] == FEATURE_DIM
        return features


def extract_features(video_paths: Sequence[str | Path], agnostic: str | Path | InceptionI3d,
                     aware: str | Path | InceptionI3d | None = None, alpha: float = DEFAULT_ALPHA,
                     stride: int = 1, batch_size: int | None = None, device: str | torch.device = "cpu",
                     progress: bool = True, errors: dict[str, str] | None = None,
                     distributed: bool | None = None, **options) -> dict[str, np.ndarray]:
    """I3D features of each video: ``{str(path): n × 1024 float32}``, blended when ``aware`` is given.

    A bad video raises :class:`InputError` naming it, unless an ``errors`` dict is passed: then
    its message is stored there under ``str(path)`` and the other videos go on.

    Under ``torchrun`` (``distributed=None`` detects an initialised process group, or ``True``
    initialises one from the environment) each rank extracts videos ``i % world == rank`` and
    the results (and errors) are gathered so that every rank returns the whole dict.
    ``options`` go to :class:`I3DFeatureExtractor` (``max_pixels``, ``min_frames``,
    ``channels_last``).
    """
    shard = corpus.Shard.current(distributed)
    device = shard.device_for(device)
    extractor = I3DFeatureExtractor(agnostic, aware, alpha, stride, batch_size, device, **options)
    paths = [str(p) for p in video_paths]
    mine = shard.take(paths)
    results: dict[str, np.ndarray] = {}
    local_errors: dict[str, str] = {}
    for path in corpus.progress_bar(mine, "I3D features", progress and shard.is_main):
        try:
            results[path] = extractor.video_features(path)
        except InputError as err:
            if errors is None and not shard.active:
                raise
            local_errors[path] = err.problem
    results, gathered_errors = shard.gather_dicts(results, local_errors)
    if gathered_errors:
        if errors is None:
            first = sorted(gathered_errors)[0]
            raise InputError(first, gathered_errors[first])
        errors.update(gathered_errors)
    return {p: results[p] for p in paths if p in results}


# ---------------------------------------------------------------------------------------------
# The per-file runner behind `silverscore extract`
# ---------------------------------------------------------------------------------------------
@dataclass
class ExtractionSettings:
    """What determines the numbers in an output folder; stored as ``extract_config.json``."""

    agnostic_sha256: str
    aware_sha256: str | None
    alpha: float
    stride: int
    feature_version: int = FEATURE_VERSION

    def to_json(self) -> dict:
        return {"agnostic_sha256": self.agnostic_sha256, "aware_sha256": self.aware_sha256,
                "alpha": self.alpha if self.aware_sha256 else None, "stride": self.stride,
                "window": WINDOW_FRAMES, "feature_version": self.feature_version}


CONFIG_NAME = "extract_config.json"


def check_output_config(out_dir: Path, settings: ExtractionSettings) -> None:
    """Refuse to resume into a folder extracted with other checkpoints/α/stride; else record them.

    Without this, resuming would silently mix features of two different models in one folder.
    """
    wanted = settings.to_json()
    config_path = out_dir / CONFIG_NAME
    if config_path.is_file():
        try:
            found = json.loads(config_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raise InputError(config_path, "unreadable extraction record; remove it or use a new --out folder") from None
        if found != wanted:
            changed = sorted(k for k in set(found) | set(wanted) if found.get(k) != wanted.get(k))
            raise InputError(out_dir, f"holds features extracted with different settings ({', '.join(changed)}); "
                                      "use a new --out folder or delete the old files")
        return
    from .io_utils import atomic_write

    with atomic_write(config_path, "w") as handle:
        json.dump(wanted, handle, indent=2, sort_keys=True)
        handle.write("\n")


def write_feature_files(features: np.ndarray, npy_path: Path | None, pkl_path: Path | None) -> None:
    """Write the exact array (float32 ``n×1024``) as ``.npy`` and/or CiCo's ``{'feature': …}`` pickle."""
    from .io_utils import atomic_write

    features = np.ascontiguousarray(features, dtype=np.float32)
    if pkl_path is not None:
        with atomic_write(pkl_path, "wb") as handle:
            pickle.dump({"feature": features}, handle, protocol=4)
    if npy_path is not None:  # written last: its presence marks the video as done
        with atomic_write(npy_path, "wb") as handle:
            np.save(handle, features, allow_pickle=False)


def extract_to_dir(videos_dir: str | Path, out_dir: str | Path, agnostic: str | Path,
                   aware: str | Path | None = None, alpha: float = DEFAULT_ALPHA, stride: int = 1,
                   batch_size: int | None = None, device: str = "cpu", write_npy: bool = True,
                   write_pkl: bool = False, progress: bool = True, distributed: bool | None = None,
                   **options) -> corpus.RunReport:
    """Extract every video under ``videos_dir`` into ``out_dir`` (same relative paths), resumably.

    A video whose outputs all exist is skipped; each output is written atomically, so an
    interrupted run leaves only finished files. Bad videos are collected in the report (the run
    goes on). Under torchrun each rank takes its share and the report is gathered.
    """
    from .models.checkpoints import file_sha256

    if not (write_npy or write_pkl):
        raise InputError(None, "nothing to write: ask for .npy and/or .pkl output")
    for ckpt in (agnostic, aware):
        if ckpt is not None and not Path(ckpt).is_file():
            raise InputError(ckpt, "no such I3D checkpoint file")
    jobs = corpus.plan_outputs(videos_dir, out_dir, [".npy"] * write_npy + [".pkl"] * write_pkl)
    out_dir = Path(out_dir)
    settings = ExtractionSettings(file_sha256(agnostic), file_sha256(aware) if aware else None, float(alpha), int(stride))
    shard = corpus.Shard.current(distributed)
    # Rank 0 checks (and records) the settings; every rank learns the verdict, so a mismatch
    # stops all of them instead of leaving the others waiting.
    problem = None
    if shard.is_main:
        try:
            check_output_config(out_dir, settings)
        except InputError as err:
            problem = (err.path, err.problem)
    problem = next((p for p in shard.gather(problem) if p), None)
    if problem:
        raise InputError(*problem)
    todo = [job for job in shard.take(jobs) if not job.done()]
    extractor = None
    if todo:
        extractor = I3DFeatureExtractor(agnostic, aware, alpha, stride, batch_size, shard.device_for(device), **options)

    def work(job: corpus.Job) -> None:
        features = extractor.video_features(job.source)
        write_feature_files(features, job.output(".npy") if write_npy else None,
                            job.output(".pkl") if write_pkl else None)

    return corpus.run_jobs(jobs, work, shard, "I3D features", progress)
