"""The meta-evaluation analyses on score arrays: one function per experiment, numbers only.

Scoring (by a model, or read from a table) happens elsewhere; these functions take the scores and
return JSON-ready dicts, so the same analysis serves the paper's data, a user's table and the
synthetic benchmark.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
from scipy import stats as sps

from ..stats import approximate_randomization, paired_bootstrap
from .measures import as_scores, discrimination_stats, robustness_stats, roc_auc, joint_overlap


def discrimination(correct, random, own=None) -> dict:
    """Correct vs random (spec §5): AUC on raw scores, overlap after joint min-max.

    ``own`` (optional, one bool per random pair: :func:`silverscore.meta.pairs.own_pair_mask`)
    adds ``own_pairs`` (how many random pairs are an item's own pair) and
    ``auc_without_own_pairs`` (None when every random pair is one); the protocol's figures are
    unchanged."""
    stats = discrimination_stats(correct, random)
    if own is not None:
        own = np.asarray(own, dtype=bool)
        random = np.asarray(random, dtype=np.float64)
        if own.shape != random.shape:
            raise ValueError(f"{own.size} own-pair flags for {random.size} random pairs")
        stats["own_pairs"] = int(own.sum())
        stats["auc_without_own_pairs"] = roc_auc(correct, random[~own]) if (~own).any() else None
    return stats


def robustness(original, rewritten) -> dict:
    """Original vs rewritten references (spec §5 reordering protocol)."""
    return robustness_stats(original, rewritten)


def prosody(scores, groups: Sequence[str], order: Sequence[str] | None = None) -> dict:
    """Score distributions by intensity group, the shift between groups and Kruskal–Wallis.

    ``shift`` is each group's mean minus the first group's (``order[0]``, e.g. "none"), also in
    units of the overall standard deviation, so metrics on different scales compare. A robust
    metric has small shifts and a large p-value.
    """
    scores = as_scores(scores, "scores")
    groups = [str(g) for g in groups]
    if len(groups) != scores.size:
        raise ValueError(f"{scores.size} scores but {len(groups)} group labels")
    present = set(groups)
    order = [g for g in (order or []) if g in present] + sorted(present - set(order or []))
    by_group = {g: scores[np.asarray([x == g for x in groups])] for g in order}
    overall_std = float(scores.std(ddof=1)) if scores.size > 1 else 0.0
    base = by_group[order[0]]
    result: dict = {"groups": {}, "baseline_group": order[0], "overall_std": overall_std}
    for g in order:
        values = by_group[g]
        shift = float(values.mean() - base.mean())
        result["groups"][g] = {
            "n": int(values.size),
            "mean": float(values.mean()),
            "median": float(np.median(values)),
            "std": float(values.std(ddof=1)) if values.size > 1 else 0.0,
            "shift": shift,
            "shift_in_sd": shift / overall_std if overall_std > 0 else 0.0,
        }
    usable = [v for v in by_group.values() if v.size > 0]
    if len(usable) >= 2 and np.ptp(scores) > 0:
        statistic, p_value = sps.kruskal(*usable)
        result["kruskal_wallis"] = {"H": float(statistic), "p_value": float(p_value)}
    else:
        result["kruskal_wallis"] = {"H": 0.0, "p_value": 1.0}
    result["max_abs_shift_in_sd"] = max(abs(v["shift_in_sd"]) for v in result["groups"].values())
    return result


def hard_negatives(correct_by_set: Mapping[str, np.ndarray], negative_by_set: Mapping[str, np.ndarray]) -> dict:
    """AUC and overlap of correct vs each hard-negative set (items paired within a set)."""
    result = {}
    for name, negative in negative_by_set.items():
        correct = as_scores(correct_by_set[name], f"{name} correct")
        negative = as_scores(negative, f"{name} negative")
        result[name] = {
            "auc": roc_auc(correct, negative),
            "overlap": joint_overlap(correct, negative),
            "n": int(negative.size),
            # Share of items where the hard negative scores at least as high as the correct pair:
            # the per-item failure rate (AUC compares across items too).
            "pairwise_error": float(np.mean(negative >= correct)) if negative.size == correct.size else None,
        }
    return result


def ranking(system_scores: Mapping[str, np.ndarray], quality: Mapping[str, float], n_boot: int = 1000,
            n_trials: int = 10000, seed: int = 0) -> dict:
    """Corpus scores of several systems vs their known quality: Kendall τ and neighbour tests.

    Systems are sorted by known quality; each neighbouring pair (same items) gets the paired
    bootstrap and approximate-randomization tests, i.e. "can the metric tell these two apart".
    """
    names = [n for n in system_scores if n in quality]
    if len(names) < 2:
        raise ValueError("ranking needs at least two systems with a known quality")
    corpus = {n: float(np.mean(as_scores(system_scores[n], n))) for n in names}
    ordered = sorted(names, key=lambda n: quality[n])
    tau, p_value = sps.kendalltau([quality[n] for n in ordered], [corpus[n] for n in ordered])
    neighbours = []
    for worse, better in zip(ordered, ordered[1:]):
        a, b = np.asarray(system_scores[better]), np.asarray(system_scores[worse])
        entry = {"better": better, "worse": worse}
        if a.size == b.size:
            boot = paired_bootstrap(a, b, n_boot=n_boot, seed=seed)
            ar = approximate_randomization(a, b, n_trials=n_trials, seed=seed)
            entry.update({
                "mean_diff": float(boot["mean_diff"]),
                "ci95": [float(x) for x in boot["ci95"]],
                "bootstrap_p": float(boot["p_value"]),
                "randomization_p": float(ar["p_value"]),
                "correct_order": bool(boot["mean_diff"] > 0),
            })
        neighbours.append(entry)
    return {
        "systems": {n: {"quality": float(quality[n]), "corpus_score": corpus[n]} for n in ordered},
        "kendall_tau": float(tau) if np.isfinite(tau) else 0.0,
        "kendall_p": float(p_value) if np.isfinite(p_value) else 1.0,
        "neighbours": neighbours,
    }


_CORRELATIONS = {
    "kendall": lambda x, y: sps.kendalltau(x, y)[0],
    "spearman": lambda x, y: sps.spearmanr(x, y)[0],
    "pearson": lambda x, y: sps.pearsonr(x, y)[0],
}
_KENDALL_VECTOR_MAX_N = 120  # measured: above ~120 items the O(n²) pairwise form loses to SciPy


def _rowwise_pearson(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Pearson r of each row pair of two [B, n] arrays (NaN where a row is constant)."""
    xc = x - x.mean(axis=1, keepdims=True)
    yc = y - y.mean(axis=1, keepdims=True)
    denominator = np.sqrt((xc**2).sum(axis=1) * (yc**2).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denominator > 0, (xc * yc).sum(axis=1) / denominator, np.nan)


def _rowwise_kendall_b(x: np.ndarray, y: np.ndarray, chunk_elements: int = 4_000_000) -> np.ndarray:
    """Kendall τ-b of each row pair: Σ sign(Δx)·sign(Δy) / sqrt(Σ sign(Δx)² · Σ sign(Δy)²) over
    all ordered pairs (ties contribute 0 to the numerator and to their own sum), i.e. τ-b."""
    n = x.shape[1]
    out = np.empty(x.shape[0])
    rows = max(1, chunk_elements // (n * n))
    for start in range(0, x.shape[0], rows):
        xs, ys = x[start:start + rows], y[start:start + rows]
        sx = np.sign(xs[:, :, None] - xs[:, None, :])
        sy = np.sign(ys[:, :, None] - ys[:, None, :])
        denominator = np.sqrt((sx * sx).sum(axis=(1, 2)) * (sy * sy).sum(axis=(1, 2)))
        with np.errstate(invalid="ignore", divide="ignore"):
            out[start:start + rows] = np.where(denominator > 0, (sx * sy).sum(axis=(1, 2)) / denominator, np.nan)
    return out


def bootstrap_correlations(metric: np.ndarray, human: np.ndarray, samples: np.ndarray) -> dict[str, np.ndarray]:
    """Replicates of the three coefficients over resampled index rows ``samples`` [B, n].

    Vectorised over resamples (Pearson; Spearman = Pearson of average ranks; Kendall τ-b in its
    pairwise-sign form), which is what makes 1000 resamples of several metrics cheap.
    """
    x, y = metric[samples], human[samples]
    replicates = {
        "pearson": _rowwise_pearson(x, y),
        "spearman": _rowwise_pearson(sps.rankdata(x, axis=1), sps.rankdata(y, axis=1)),
    }
    if metric.size <= _KENDALL_VECTOR_MAX_N:
        replicates["kendall"] = _rowwise_kendall_b(x, y)
    else:
        replicates["kendall"] = np.asarray(
            [sps.kendalltau(a, b)[0] if np.ptp(a) > 0 and np.ptp(b) > 0 else np.nan for a, b in zip(x, y)])
    return replicates


def correlation(metric, human, n_boot: int = 1000, seed: int = 0, level: float = 0.95) -> dict:
    """Kendall τ(-b), Spearman ρ and Pearson r with percentile bootstrap CIs (items resampled).

    Point values come from SciPy; the same resampled index sets serve all three coefficients,
    so their CIs are comparable. Resamples where a series is constant (coefficient undefined)
    are dropped.
    """
    metric = as_scores(metric, "metric")
    human = as_scores(human, "human")
    if metric.size != human.size:
        raise ValueError(f"{metric.size} metric scores but {human.size} human ratings")
    if metric.size < 3:
        raise ValueError("correlation needs at least 3 rated items")
    rng = np.random.default_rng(seed)
    samples = rng.integers(0, metric.size, size=(n_boot, metric.size))
    replicates = bootstrap_correlations(metric, human, samples)
    tail = (1.0 - level) / 2.0
    result: dict = {"n": int(metric.size), "n_boot": n_boot, "level": level}
    for name, fn in _CORRELATIONS.items():
        point = float(fn(metric, human))
        boots = replicates[name][np.isfinite(replicates[name])]
        ci = [float(np.quantile(boots, tail)), float(np.quantile(boots, 1 - tail))] if boots.size else [float("nan")] * 2
        result[name] = {"value": point, "ci": ci}
    return result


def generalization(cells: Mapping[tuple[str, str], tuple[np.ndarray, np.ndarray]],
                   own: Mapping[tuple[str, str], np.ndarray] | None = None) -> dict:
    """Matrix of correct-vs-random AUC (and overlap) for (model/train set, test set) cells.

    ``own`` (optional): each cell's own-pair flags (as in :func:`discrimination`); adds the
    matrices ``own_pairs`` and ``auc_without_own_pairs``. Small test sets need them most: on a
    30-item signer group one self-pair can cost the AUC 0.03."""
    rows = list(dict.fromkeys(r for r, _ in cells))
    cols = list(dict.fromkeys(c for _, c in cells))
    auc = {r: {} for r in rows}
    overlap = {r: {} for r in rows}
    result = {"rows": rows, "columns": cols, "auc": auc, "overlap": overlap}
    if own is not None:
        result["own_pairs"] = {r: {} for r in rows}
        result["auc_without_own_pairs"] = {r: {} for r in rows}
    for (r, c), (correct, random) in cells.items():
        stats = discrimination(correct, random, None if own is None else own.get((r, c)))
        auc[r][c] = stats["auc"]
        overlap[r][c] = stats["overlap"]
        if "own_pairs" in stats:  # cells without flags are left out of the two matrices
            result["own_pairs"][r][c] = stats["own_pairs"]
            result["auc_without_own_pairs"][r][c] = stats["auc_without_own_pairs"]
    return result
