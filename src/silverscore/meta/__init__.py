"""Meta-evaluation of SiLVERScore (and any other metric): does the metric do its job?

The paper's evidence as code: correct vs random separation (ROC AUC and histogram overlap),
robustness to reordering, paraphrase and prosody, hard negatives, system ranking, correlation
with human ratings and cross-dataset generalisation, next to the text baselines (BLEU, chrF,
ROUGE-L on back-translations) and a pose baseline (DTW mean joint error), with plots and a
Markdown report. Layers, bottom up:

* :mod:`.measures` – overlap and AUC on arrays (spec §5), :mod:`.pairs` – seeded random pairs;
* :mod:`.tables`, :mod:`.paper` – score tables and the authors' released PHOENIX-14T data;
* :mod:`.text_baselines`, :mod:`.pose_baselines` – the baselines, by maintained libraries;
* :mod:`.analyses` – one function per experiment on score arrays;
* :mod:`.experiments`, :mod:`.plots`, :mod:`.report` – JSON, Markdown sections, PNGs, report;
* :mod:`.scoring`, :mod:`.synthetic` – model-driven runs and the one-command synthetic benchmark.
"""
from __future__ import annotations

import importlib

_EXPORTS = {
    "discrimination_stats": "measures", "joint_overlap": "measures", "robustness_stats": "measures",
    "roc_auc": "measures", "draw_random_pairs": "pairs", "load_pairs": "pairs", "save_pairs": "pairs",
    "own_pair_mask": "pairs",
}

__all__ = list(_EXPORTS)


def __getattr__(name: str):
    """Exports load on first use, so importing a light submodule does not import scikit-learn."""
    if name in _EXPORTS:
        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
