"""``silverscore train`` as a library call: config → data → model → trained checkpoint."""
from __future__ import annotations

from pathlib import Path

import torch

from ..errors import InputError
from .config import RunConfig, load_config
from .sources import build_examples, build_model_for
from .trainer import train


def run_training(config: RunConfig | str | Path, resume: bool = False, out: str | Path | None = None,
                 progress: bool = True) -> dict:
    """Train as the config says; returns the final validation figures.

    The model is initialised under ``torch.manual_seed(seed)`` right after the data is built, so
    the same config gives the same weights on every run and in every process.
    """
    if not isinstance(config, RunConfig):
        config = load_config(config)
    out_dir = Path(out) if out else config.out
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
    return train(model, train_examples, val_examples, config.settings, out_dir, seed=config.seed, resume=resume,
                 progress=progress, run_info=info)
