"""``silverscore train`` as a library call: config → data → model → trained checkpoint."""
from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys
from pathlib import Path

import torch

from ..errors import InputError
from .config import RunConfig, load_config
from .sources import build_examples, build_model_for
from .kernels import KernelPinError, pin_cpu_kernels
from .trainer import train


def keep_freed_memory_in_process() -> bool:
    """Ask glibc's allocator to reuse freed blocks instead of returning them to the system.

    A training step allocates and frees tens of [videos, clips, texts, tokens] tensors of
    40–80 MB. glibc serves blocks that large with fresh ``mmap`` pages and unmaps them on ``free``,
    so every step faults in and zeroes the same gigabytes again (a quarter of the CPU time went to
    the kernel). With mmap off and a high trim threshold the blocks stay in the heap and are
    reused: 40 steps of the default recipe ran ~11 % faster, same bits. The process keeps its
    peak memory until it exits, which suits a training run, so ``silverscore train`` (a process
    of its own) calls this and :func:`run_training` does not (a library caller's process keeps
    its allocator). Linux/glibc only; elsewhere a no-op. Returns whether the setting took effect.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (e.g. musl has no mallopt)
        return False
    m_trim_threshold, m_mmap_max = -1, -4  # from glibc's <malloc.h>
    return bool(mallopt(m_mmap_max, 0)) and bool(mallopt(m_trim_threshold, 1 << 30))


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
    try:
        train_examples = build_examples(config.train_data, config.seed)
        val_examples = build_examples(config.val_data, config.seed + 1) if config.val_data else []
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
            figures = {**figures, "form": train_form_head(model, config.form, seed=config.seed, progress=progress)}
        except ValueError as error:  # e.g. a model whose keypoints the synthetic skeleton lacks
            raise InputError(config.source, f"[form]: {error}") from None
        save_own(model, out_dir / "model.safetensors")
    return figures
