"""Overlap, AUC and the two normalisations of spec §5, against values worked out by hand."""
import numpy as np
import pytest

from silverscore.meta.measures import discrimination_stats, joint_overlap, minmax, robustness_stats, roc_auc
from silverscore.meta.pairs import draw_random_pairs, load_pairs, save_pairs
from silverscore.errors import InputError


def test_overlap_identical_series_is_100():
    x = np.array([0.1, 0.4, 0.4, 0.9])
    assert joint_overlap(x, x) == pytest.approx(100.0)


def test_overlap_disjoint_series_is_0():
    assert joint_overlap([0.0, 0.01], [0.99, 1.0]) == pytest.approx(0.0)


def test_overlap_partial_by_hand():
    # Joint range [0, 1]; bins of width 0.02. correct: one value each in bins 0, 25, 49 ->
    # density 1/3 / 0.02; random: bin 25 once, bin 49 (closed last bin) twice.
    # min: bin 25 -> 1/3/0.02, bin 49 -> 1/3/0.02; sum * 0.02 = 2/3.
    assert joint_overlap([0.0, 0.5, 1.0], [0.5, 1.0, 1.0]) == pytest.approx(200.0 / 3.0)


def test_overlap_uses_joint_not_separate_normalisation():
    # Shifted copies: separately normalised they would coincide (100 %); jointly they do not touch.
    a = np.array([0.0, 1.0, 2.0])
    assert joint_overlap(a, a + 10.0) == pytest.approx(0.0)
    assert robustness_stats(a, a + 10.0)["overlap"] == pytest.approx(100.0)


def test_auc_by_hand_with_tie():
    # pairs (pos, neg): (3,1)=1, (3,3)=0.5, (4,1)=1, (4,3)=1 -> 3.5 / 4
    assert roc_auc([3.0, 4.0], [1.0, 3.0]) == pytest.approx(0.875)


def test_robustness_offset_is_forgiven_but_reported():
    original = np.array([1.0, 2.0, 3.0, 5.0])
    result = robustness_stats(original, original - 7.0)
    assert result["auc"] == pytest.approx(0.5)
    assert result["raw_auc"] == pytest.approx(1.0)
    assert result["original"]["mean"] - result["rewritten"]["mean"] == pytest.approx(7.0)


def test_minmax_constant_series_does_not_divide_by_zero():
    assert np.all(minmax(np.array([2.0, 2.0])) == 0.0)


def test_discrimination_rejects_nan():
    with pytest.raises(ValueError):
        discrimination_stats([1.0, np.nan], [0.0, 0.5])


def test_random_pairs_reproducible_independent_and_reusable(tmp_path):
    a = draw_random_pairs(200, seed=3)
    assert np.array_equal(a, draw_random_pairs(200, seed=3))
    assert not np.array_equal(a, draw_random_pairs(200, seed=4))
    assert a.shape == (200, 2) and a.min() >= 0 and a.max() < 200
    assert not np.array_equal(a[:, 0], a[:, 1])  # two independent draws, not one
    path = tmp_path / "pairs.json"
    save_pairs(path, a, seed=3)
    assert np.array_equal(load_pairs(path, 200), a)
    with pytest.raises(InputError, match="199"):
        load_pairs(path, 199)
    path.write_text('{"pairs": [[0, 5]]}')
    with pytest.raises(InputError, match="0..0"):
        load_pairs(path, 1)


def test_own_pairs_counted_and_left_out_of_the_second_auc():
    from silverscore.meta import analyses
    from silverscore.meta.pairs import own_pair_mask

    pairs = np.array([[0, 2], [1, 1], [2, 0]])
    own = own_pair_mask(pairs)
    assert own.tolist() == [False, True, False]
    # correct 3, 4, 5; random 1, 5 (item 1's own pair, scored like a correct one), 2.
    # Protocol: wins 2 + 2 + 2.5 (5 vs 5 ties) of 9; without the own pair every correct score wins.
    stats = analyses.discrimination([3.0, 4.0, 5.0], [1.0, 5.0, 2.0], own)
    assert stats["auc"] == pytest.approx(6.5 / 9)
    assert stats["own_pairs"] == 1
    assert stats["auc_without_own_pairs"] == pytest.approx(1.0)
    assert "own_pairs" not in analyses.discrimination([3.0, 4.0, 5.0], [1.0, 5.0, 2.0])
    assert analyses.discrimination([3.0], [3.0], [True])["auc_without_own_pairs"] is None
    with pytest.raises(ValueError, match="2 own-pair flags for 3"):
        analyses.discrimination([3.0, 4.0, 5.0], [1.0, 5.0, 2.0], [True, False])


def test_reports_name_the_own_pairs(tmp_path):
    from silverscore.meta import experiments

    series = {"S": ([3.0, 4.0, 5.0], [1.0, 5.0, 2.0]), "B": ([3.0, 4.0, 5.0], [1.0, 5.0, 2.0])}
    result = experiments.discrimination_experiment(series, "sig", tmp_path / "one",
                                                   own={"S": np.array([False, True, False])})
    text = (tmp_path / "one" / "discrimination.md").read_text()
    assert result["own_pairs"] == 1 and result["auc_without_own_pairs"] == pytest.approx(1.0)
    assert result["auc"] == pytest.approx(6.5 / 9)  # the protocol's figure stays the headline
    assert "own_pairs" not in result["metrics"]["B"]  # no flags given for B
    assert "1 of the 3 random pairs is an item's own correct pair" in text
    assert "without it S's AUC is 1.0000" in text
    none = experiments.discrimination_experiment(series, "sig", tmp_path / "none", own={"S": np.zeros(3, bool)})
    assert none["own_pairs"] == 0 and "own correct pair" not in (tmp_path / "none" / "discrimination.md").read_text()

    cells = {("m", "a"): series["S"], ("m", "b"): ([3.0, 4.0], [1.0, 2.0])}
    own = {("m", "a"): np.array([False, True, False]), ("m", "b"): np.array([False, False])}
    general = experiments.generalization_experiment(cells, "sig", tmp_path / "g", own=own)
    text = (tmp_path / "g" / "generalization.md").read_text()
    assert general["own_pairs"] == {"m": {"a": 1, "b": 0}}
    assert general["auc_without_own_pairs"]["m"]["a"] == pytest.approx(1.0)
    assert general["auc"]["m"]["a"] == pytest.approx(6.5 / 9)
    assert "m on a: 1, AUC 1.0000 without" in text and "m on b" not in text
    partial = experiments.generalization_experiment(cells, "sig", own={("m", "a"): own[("m", "a")]})
    assert partial["own_pairs"] == {"m": {"a": 1}} and partial["auc"]["m"]["b"] == pytest.approx(1.0)
