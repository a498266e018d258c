"""silverscore: SiLVERScore for sign language generation.

The public API is imported lazily so that ``import silverscore`` stays cheap (no torch
start-up, no tokenizer files read) until a scorer is actually built.
"""
from __future__ import annotations

__version__ = "0.1.0"

_LAZY = {
    "Scorer": ("silverscore.api", "Scorer"),
    "ScoreResult": ("silverscore.api", "ScoreResult"),
    "score": ("silverscore.api", "score"),
    "score_matrix": ("silverscore.api", "score_matrix"),
    "SilverScoreMetric": ("silverscore.api", "SilverScoreMetric"),
    "load_model": ("silverscore.models.checkpoints", "load_model"),
    "InputError": ("silverscore.errors", "InputError"),
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'silverscore' has no attribute {name!r}")
