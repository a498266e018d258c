"""``silverscore train`` as a library call: config → data → model → trained checkpoint."""
from __future__ import annotations

import os
from pathlib import Path

import torch

from ..allocator import keep_freed_memory
from ..errors import InputError
from ..parallel import Workers, available_cores
from .config import RunConfig, load_config
from .sources import build_examples, build_model_for
from .kernels import KernelPinError, pin_cpu_kernels
from .trainer import train


def keep_freed_memory_in_process() -> bool:
    """:func:`silverscore.allocator.keep_freed_memory`, for ``silverscore train`` (a process of its
    own; a library caller's process keeps its allocator)."""
    return keep_freed_memory()


def render_processes() -> int:
    """Worker processes that render a run's synthetic videos (:mod:`silverscore.parallel`): this
    process's cores shared among the run's processes (``WORLD_SIZE`` under torchrun); 0 (render
    here) where that leaves fewer than 2. Any number gives the same data, so it is not a setting."""
    share = available_cores() // max(1, int(os.environ.get("WORLD_SIZE", "1")))
    return share if share >= 2 else 0


def run_training(config: RunConfig | str | Path, resume: bool = False, out: str | Path | None = None,
                 progress: bool = True) -> dict:
    """Train as the config says; returns the final validation figures.

    The model is initialised under ``torch.manual_seed(seed)`` right after the data is built, so
    the same config gives the same weights on every run and in every process.
    """
    if not isinstance(config, RunConfig):
        config = load_config(config)
    out_dir = Path(out) if out else config.out
    try:  # first, before any PyTorch computation fixes the kernels (see silverscore.train.kernels)
        pin_cpu_kernels(config.settings.kernels)
    except KernelPinError as error:
        raise InputError(config.source, f"[train]: {error}") from None
    if config.settings.threads:
        torch.set_num_threads(config.settings.threads)
    synthetic = any(section and section.get("kind") == "synth" for section in (config.train_data, config.val_data))
    # the renderers are forked here, before the run holds any data (see silverscore.parallel.Workers)
    with Workers(render_processes() if synthetic or config.form is not None else 0, niceness=19) as workers:
        return _train_stages(config, out_dir, resume, progress, workers)


def _train_stages(config: RunConfig, out_dir: Path, resume: bool, progress: bool, processes) -> dict:
    try:
        train_examples = build_examples(config.train_data, config.seed, processes)
        val_examples = build_examples(config.val_data, config.seed + 1, processes) if config.val_data else []
    except ValueError as error:  # a bad value in a [data.*] section, before any work
        raise InputError(config.source, f"[data]: {error}") from None
    torch.manual_seed(config.seed)
    model = build_model_for(config.model, train_examples)
    source = None
    if config.source:
        try:  # recorded relative to where it was run, so a shipped model names e.g. configs/default_model.toml
            source = str(config.source.relative_to(Path.cwd()))
        except ValueError:
            source = config.source.name
    info = {"config": source, "data": {"train": config.train_data, "val": config.val_data}}
    figures = train(model, train_examples, val_examples, config.settings, out_dir, seed=config.seed, resume=resume,
                    progress=progress, run_info=info)
    if config.form is not None and int(os.environ.get("RANK", "0")) == 0:
        # second stage, one process (it is small): the form head on the frozen towers, then the
        # model file again, now with the head (see silverscore.train.form)
        from ..models.checkpoints import save_own
        from .form import train_form_head

        del train_examples, val_examples  # the first stage's caches are not needed any more
        try:
            figures = {**figures, "form": train_form_head(model, config.form, seed=config.seed, progress=progress,
                                                          processes=processes)}
        except ValueError as error:  # e.g. a model whose keypoints the synthetic skeleton lacks
            raise InputError(config.source, f"[form]: {error}") from None
        save_own(model, out_dir / "model.safetensors")
    return figures
