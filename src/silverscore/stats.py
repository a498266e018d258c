"""Corpus statistics: bootstrap confidence intervals, paired significance tests, retrieval metrics.

The CI of a mean uses SciPy's ``scipy.stats.bootstrap``; the paired tests are a few vectorised
numpy lines because their exact definitions matter (paired resampling of items; the
approximate-randomisation p-value ``(c+1)/(n+1)``). Every generator is seeded, so each figure is
reproducible and the seed goes into the signature.
"""
from __future__ import annotations

import numpy as np


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def bootstrap_ci(values, n_boot: int = 1000, seed: int = 0, level: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap CI of the mean (a single value gives a zero-width interval)."""
    values = np.asarray(values, dtype=np.float64)
    if values.size < 2 or np.all(values == values[0]):
        mean = float(values.mean()) if values.size else float("nan")
        return mean, mean
    from scipy import stats as sps  # imported here: scipy.stats costs ~1 s of start-up

    result = sps.bootstrap(
        (values,), np.mean, n_resamples=n_boot, confidence_level=level, method="percentile", random_state=_rng(seed)
    )
    return float(result.confidence_interval.low), float(result.confidence_interval.high)


def summarize(values, n_boot: int = 1000, seed: int = 0) -> dict:
    """Mean, median, std and 95 % bootstrap CI of per-sample scores."""
    values = np.asarray(values, dtype=np.float64)
    lo, hi = bootstrap_ci(values, n_boot, seed)
    return {
        "n": int(values.size),
        "mean": float(values.mean()),
        "median": float(np.median(values)),
        "std": float(values.std(ddof=1)) if values.size > 1 else 0.0,
        "ci95": [lo, hi],
    }


def paired_bootstrap(a, b, n_boot: int = 1000, seed: int = 0, level: float = 0.95) -> dict:
    """Paired bootstrap of mean(a − b): CI of the difference and a two-sided p-value.

    The p-value is the share of resampled mean differences on the far side of zero, doubled
    (the usual paired-bootstrap test of machine translation evaluation).
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"paired samples differ in length ({a.size} vs {b.size})")
    diff = a - b
    rng = _rng(seed)
    idx = rng.integers(0, diff.size, size=(n_boot, diff.size))
    means = diff[idx].mean(axis=1)
    alpha = (1.0 - level) / 2
    observed = float(diff.mean())
    if observed >= 0:
        tail = float((means <= 0).mean())
    else:
        tail = float((means >= 0).mean())
    return {
        "mean_a": float(a.mean()),
        "mean_b": float(b.mean()),
        "mean_diff": observed,
        "ci95": [float(np.quantile(means, alpha)), float(np.quantile(means, 1 - alpha))],
        "p_value": min(1.0, 2.0 * tail),
        "n_boot": n_boot,
    }


def approximate_randomization(a, b, n_trials: int = 10000, seed: int = 0) -> dict:
    """Paired approximate randomisation test of mean(a) vs mean(b), two-sided.

    Each trial swaps the two systems' scores of every item with probability ½; the p-value is
    ``(c + 1) / (n + 1)`` where c counts trials whose |mean difference| reaches the observed one.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"paired samples differ in length ({a.size} vs {b.size})")
    diff = a - b
    observed = abs(diff.mean())
    rng = _rng(seed)
    count = 0
    done = 0
    block = 1000
    while done < n_trials:
        k = min(block, n_trials - done)
        signs = rng.integers(0, 2, size=(k, diff.size)) * 2 - 1
        trial = np.abs((signs * diff).mean(axis=1))
        count += int((trial >= observed - 1e-12).sum())
        done += k
    return {"mean_diff": float(diff.mean()), "p_value": (count + 1) / (n_trials + 1), "n_trials": n_trials}


def retrieval_metrics(matrix) -> dict:
    """CiCo's retrieval metrics on a square score matrix (rows = videos, columns = texts).

    Item k's match is column k (video→text) / row k (text→video). Ranks count 1 for the best;
    ties are broken pessimistically (the match ranks after every equal score).
    """
    m = np.asarray(matrix, dtype=np.float64)
    if m.ndim != 2 or m.shape[0] != m.shape[1]:
        raise ValueError(f"retrieval needs a square matrix, got {m.shape}")
    diag = np.diag(m)

    def ranks(scores: np.ndarray, target: np.ndarray) -> np.ndarray:
        return (scores >= target[:, None]).sum(axis=1)

    out = {}
    for direction, r in (("v2t", ranks(m, diag)), ("t2v", ranks(m.T, diag))):
        for k in (1, 5, 10):
            out[f"{direction}_R@{k}"] = float((r <= k).mean() * 100)
        out[f"{direction}_MedR"] = float(np.median(r))
        out[f"{direction}_MeanR"] = float(r.mean())
    return out
