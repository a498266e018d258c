"""The separation measures of the paper's meta-evaluation (spec §5), on plain score arrays.

Everything here works on numbers only, so any metric's scores (SiLVERScore, BLEU, a user's own)
go through exactly the same code as the paper's table. The two protocols differ only in how the
series are normalised before the histogram overlap:

* **correct vs random** – the two series are min-max normalised *together* (one min and one
  max over both), so a metric that separates them keeps its separation; AUC on the raw scores.
* **robustness (reorder, paraphrase)** – each series is min-max normalised *on its own*, so a
  constant offset between original and rewritten references is forgiven; overlap *and* AUC are
  computed on the normalised series (the paper's choice: its reordering AUCs are on those).
"""
from __future__ import annotations

import numpy as np
from sklearn.metrics import roc_auc_score

N_BINS = 50


def as_scores(values, name: str = "scores") -> np.ndarray:
    """A 1-D float64 array with finite values, or ValueError naming the series."""
    array = np.asarray(values, dtype=np.float64).reshape(-1)
    if array.size == 0:
        raise ValueError(f"{name}: empty series")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name}: contains NaN or infinite values")
    return array


def minmax(values: np.ndarray, lo: float | None = None, hi: float | None = None) -> np.ndarray:
    """Map ``values`` linearly so that ``lo`` → 0 and ``hi`` → 1 (defaults: the series' own range).

    A constant series (hi == lo) maps to all zeros rather than dividing by zero: it then fills one
    histogram bin, which is what its (degenerate) distribution is.
    """
    values = np.asarray(values, dtype=np.float64)
    lo = float(values.min()) if lo is None else float(lo)
    hi = float(values.max()) if hi is None else float(hi)
    if hi == lo:
        return np.zeros_like(values)
    return (values - lo) / (hi - lo)


def histogram_overlap(a_unit: np.ndarray, b_unit: np.ndarray, bins: int = N_BINS) -> float:
    """Overlap in percent of two series already in [0, 1]: 100 · Σ_b min(h_a, h_b) · bin width.

    ``np.histogram`` with ``range=(0, 1)`` has equal bins with the last one closed, and
    ``density=True`` makes each histogram integrate to 1, as spec §5 requires.
    """
    h_a, _ = np.histogram(a_unit, bins=bins, range=(0.0, 1.0), density=True)
    h_b, _ = np.histogram(b_unit, bins=bins, range=(0.0, 1.0), density=True)
    return float(100.0 * np.sum(np.minimum(h_a, h_b)) * (1.0 / bins))


def roc_auc(positive, negative) -> float:
    """ROC AUC with ``positive`` labelled 1 and ``negative`` 0 (scikit-learn, ties counted half)."""
    positive = as_scores(positive, "positive")
    negative = as_scores(negative, "negative")
    labels = np.concatenate([np.ones(positive.size), np.zeros(negative.size)])
    return float(roc_auc_score(labels, np.concatenate([positive, negative])))


def joint_overlap(correct, random, bins: int = N_BINS) -> float:
    """Spec §5 correct-vs-random overlap: joint min-max of both series, then histogram overlap."""
    correct = as_scores(correct, "correct")
    random = as_scores(random, "random")
    both = np.concatenate([correct, random])
    lo, hi = float(both.min()), float(both.max())
    return histogram_overlap(minmax(correct, lo, hi), minmax(random, lo, hi), bins)


def _describe(values: np.ndarray) -> dict:
    return {
        "n": int(values.size),
        "mean": float(values.mean()),
        "std": float(values.std(ddof=1)) if values.size > 1 else 0.0,
        "median": float(np.median(values)),
        "min": float(values.min()),
        "max": float(values.max()),
    }


def discrimination_stats(correct, random, bins: int = N_BINS) -> dict:
    """Correct vs random: ``auc`` (raw scores) and ``overlap`` (percent, joint min-max).

    A good metric has AUC near 1 and overlap near 0.
    """
    correct = as_scores(correct, "correct")
    random = as_scores(random, "random")
    return {
        "auc": roc_auc(correct, random),
        "overlap": joint_overlap(correct, random, bins),
        "correct": _describe(correct),
        "random": _describe(random),
    }


def robustness_stats(original, rewritten, bins: int = N_BINS) -> dict:
    """Original vs rewritten references (reorder, paraphrase), spec §5 protocol.

    Each series is min-max normalised on its own; overlap and AUC (original labelled 1) are
    computed on the normalised series. A robust metric has overlap near 100 and AUC near 0.5.
    The raw means are reported too because per-series normalisation hides a constant drop.
    """
    original = as_scores(original, "original")
    rewritten = as_scores(rewritten, "rewritten")
    original_unit = minmax(original)
    rewritten_unit = minmax(rewritten)
    return {
        "auc": roc_auc(original_unit, rewritten_unit),
        "overlap": histogram_overlap(original_unit, rewritten_unit, bins),
        "raw_auc": roc_auc(original, rewritten),
        "original": _describe(original),
        "rewritten": _describe(rewritten),
    }
