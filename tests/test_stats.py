"""Statistics against hand-computed values."""
import numpy as np
import pytest

from silverscore.stats import approximate_randomization, bootstrap_ci, paired_bootstrap, retrieval_metrics


def test_retrieval_by_hand():
    m = np.array([[0.9, 0.1, 0.0], [0.95, 0.5, 0.2], [0.1, 0.2, 0.3]])
    r = retrieval_metrics(m)
    # video→text ranks of the diagonal: row0 1, row1 2 (0.95 > 0.5), row2 1
    assert r["v2t_R@1"] == pytest.approx(200 / 3)
    assert r["v2t_MedR"] == 1.0
    # text→video ranks: col0 diag 0.9 < 0.95 → 2, col1 0.5 best → 1, col2 0.3 best → 1
    assert r["t2v_R@1"] == pytest.approx(200 / 3)
    assert r["t2v_MeanR"] == pytest.approx(4 / 3)
    assert r["v2t_R@5"] == 100.0


def test_randomization_extremes():
    a = np.arange(1.0, 21.0)
    same = approximate_randomization(a, a.copy(), n_trials=999)
    assert same["p_value"] == 1.0  # every trial ties the observed difference of 0
    far = approximate_randomization(a + 100.0, a, n_trials=999)
    # With 20 items all differing by +100, only the 2 all-same-sign flips of 2^20 reach it.
    assert far["p_value"] == pytest.approx(1 / 1000, abs=2 / 1000)


def test_paired_bootstrap_direction_and_seed():
    g = np.random.default_rng(0)
    b = g.normal(size=200)
    a = b + 0.5 + g.normal(scale=0.1, size=200)
    out = paired_bootstrap(a, b, n_boot=500, seed=3)
    assert out["mean_diff"] == pytest.approx(np.mean(a - b))
    assert out["ci95"][0] > 0.4 and out["ci95"][1] < 0.6
    assert out["p_value"] == 0.0
    assert paired_bootstrap(a, b, n_boot=500, seed=3) == out


def test_bootstrap_ci_contains_mean_and_is_seeded():
    x = np.random.default_rng(1).normal(10, 2, size=300)
    lo, hi = bootstrap_ci(x, 1000, seed=5)
    assert lo < x.mean() < hi
    assert hi - lo == pytest.approx(2 * 1.96 * x.std() / np.sqrt(300), rel=0.2)
    assert bootstrap_ci(x, 1000, seed=5) == (lo, hi)
    assert bootstrap_ci([4.0], 1000) == (4.0, 4.0)
