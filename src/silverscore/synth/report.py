"""How hard is a synthetic set? Measures that show the benchmark cannot be solved trivially.

* ``shared_sign_fraction``: fraction of random (video, text) pairs whose sentences share at least
  one sign. If random pairs never shared signs, spotting any one sign would solve correct-vs-random.
* ``minimal_pairs``: number of sign pairs of the lexicon that differ in exactly one parameter.
* ``length_baseline_auc``: ROC AUC of a length-only scorer, ``-|log frames - a·log words|`` with
  the best slope ``a``, on correct vs random pairs drawn as in the paper's meta-evaluation
  (item k with text k vs video i with text j, i and j independent). If it were near 1, a metric
  could "pass" by matching durations to sentence lengths.
"""
from __future__ import annotations

import random
import re
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

from ..errors import InputError
from .dataset import read_manifest
from .lexicon import build_lexicon, minimal_pairs

_WORD = re.compile(r"\w+")
_SLOPES = np.linspace(0.0, 4.0, 401)


def _signs(row: dict) -> set[str]:
    return {g.partition(":")[0] for g in row["glosses"]}


def shared_sign_fraction(rows: list[dict], seed: int = 0, pairs_per_item: int = 10) -> float:
    """Fraction of random pairs (i != j) sharing at least one sign.

    Several random partners per item make the estimate stable on small sets.
    """
    if len(rows) < 2:
        raise InputError(None, "need at least 2 items to draw random pairs")
    rng = random.Random(seed)
    signs = [_signs(row) for row in rows]
    shared = total = 0
    for i in range(len(rows)):
        for _ in range(pairs_per_item):
            j = rng.randrange(len(rows) - 1)
            j += j >= i
            shared += bool(signs[i] & signs[j])
            total += 1
    return shared / total


def length_baseline_auc(frames: np.ndarray, words: np.ndarray, seed: int = 0,
                        with_intercept: bool = False) -> tuple[float, float]:
    """(best AUC, best slope) of the length-only scorer on correct vs random pairs."""
    rng = np.random.default_rng(seed)
    n = len(frames)
    i, j = rng.integers(0, n, n), rng.integers(0, n, n)
    lf = np.log(np.concatenate([frames, frames[i]]).astype(np.float64))
    lw = np.log(np.concatenate([words, words[j]]).astype(np.float64))
    labels = np.concatenate([np.ones(n), np.zeros(n)])
    best = (0.0, 0.0)
    for a in _SLOPES:
        residual = lf - a * lw
        if with_intercept:  # centre on the correct pairs' median (a fitted intercept)
            residual = residual - np.median(residual[:n])
        auc = roc_auc_score(labels, -np.abs(residual))
        if auc > best[0]:
            best = (float(auc), float(a))
    return best


def difficulty_report(directory: str | Path) -> dict:
    """Difficulty measures of a written set (its ``manifest.jsonl``)."""
    rows = read_manifest(directory)
    if len(rows) < 2:
        raise InputError(directory, "need at least 2 items")
    for key in ("glosses", "frames", "text"):
        if any(key not in r for r in rows):
            raise InputError(directory, f"manifest rows lack {key!r}: not a synthetic set")
    frames = np.array([r["frames"] for r in rows], dtype=np.float64)
    words = np.array([max(1, len(_WORD.findall(r["text"]))) for r in rows], dtype=np.float64)
    auc, slope = length_baseline_auc(frames, words)
    auc_b, slope_b = length_baseline_auc(frames, words, with_intercept=True)
    n_signs = np.array([len(r["glosses"]) for r in rows])
    report = {
        "items": len(rows),
        "shared_sign_fraction": round(shared_sign_fraction(rows), 4),
        "minimal_pairs": len(minimal_pairs()),
        "length_baseline_auc": round(auc, 4),
        "length_baseline_slope": round(slope, 3),
        "length_baseline_auc_with_intercept": round(auc_b, 4),
        "lexicon_size": len(build_lexicon()),
        "signs_per_item": {"mean": round(float(n_signs.mean()), 2), "min": int(n_signs.min()),
                           "max": int(n_signs.max())},
        "seconds_per_item": round(float(np.mean(frames / np.array([r.get("fps", 25.0) for r in rows]))), 2),
        "negated_fraction": round(float(np.mean([bool(r.get("negated")) for r in rows])), 4),
        "intensity": {level: sum(r.get("intensity") == level for r in rows) for level in ("none", "low", "high")},
        "distinct_signs_used": len(set().union(*(_signs(r) for r in rows))),
    }
    hn = Path(directory) / "hard_negatives"
    if hn.is_dir():
        report["hard_negatives"] = {p.name: len(read_manifest(p)) for p in sorted(hn.iterdir())
                                    if (p / "manifest.jsonl").exists()}
    return report
