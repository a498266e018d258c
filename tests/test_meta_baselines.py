"""Text and pose baselines against hand computations."""
import math

import numpy as np
import pytest

from silverscore.inputs.poses import pose_from_array
from silverscore.meta.pose_baselines import dtw_mean_joint_error
from silverscore.meta.text_baselines import sentence_bleu, sentence_chrf, sentence_rouge_l


def test_bleu_identical_is_100_and_no_match_is_0():
    assert sentence_bleu(["a b c d"], ["a b c d"], 4)[0] == pytest.approx(100.0)
    # no smoothing: a missing 4-gram order gives exactly 0
    assert sentence_bleu(["a b x d"], ["a b c d"], 4)[0] == 0.0


def test_bleu1_with_brevity_penalty_by_hand():
    # unigram precision 2/3, hyp length 3 < ref length 4 -> BP = exp(1 - 4/3)
    expected = 100.0 * (2.0 / 3.0) * math.exp(1.0 - 4.0 / 3.0)
    assert sentence_bleu(["a b x"], ["a b c d"], 1)[0] == pytest.approx(expected)


def test_bleu_keeps_umlauts_as_tokens():
    assert sentence_bleu(["schön grün"], ["schön grün"], 2)[0] == pytest.approx(100.0)


def test_13a_tokenization_splits_punctuation():
    from silverscore.meta.text_baselines import text_baselines

    # tokens: "Yesterday , Mark read ." (5) vs "Yesterday Mark read" (3): 3/5 match, no brevity penalty
    scores = text_baselines(["Yesterday, Mark read."], ["Yesterday Mark read"], tokenize="13a")
    assert scores["BLEU-1"][0] == pytest.approx(60.0)
    # untokenised, "Yesterday," and "read." match nothing: 1/3 ("Mark"), BP = 1
    assert text_baselines(["Yesterday, Mark read."], ["Yesterday Mark read"], tokenize="none")["BLEU-1"][0] == pytest.approx(100 / 3)


def test_rouge_variants_by_hand():
    hyp, ref = "a b c d", "a c d e f"  # LCS = a c d -> P = 3/4, R = 3/5
    p, r = 0.75, 0.6
    f1 = 2 * p * r / (p + r)
    beta = p / r
    slt = (1 + beta**2) * p * r / (r + beta**2 * p)
    assert sentence_rouge_l([hyp], [ref], "rougeL-ws")[0] == pytest.approx(100 * f1)
    assert sentence_rouge_l([hyp], [ref], "rougeL-slt")[0] == pytest.approx(100 * slt)
    # rouge-score's default tokenizer treats non-ASCII letters as separators: "süß" becomes "s"
    assert sentence_rouge_l(["süß"], ["s"], "rougeL")[0] == pytest.approx(100.0)
    assert sentence_rouge_l(["süß"], ["s"], "rougeL-ws")[0] == pytest.approx(0.0)
    with pytest.raises(ValueError):
        sentence_rouge_l([hyp], [ref], "rouge-9")


def test_chrf_identical_is_100():
    assert sentence_chrf(["guten morgen"], ["guten morgen"])[0] == pytest.approx(100.0)


def _pose(array):
    return pose_from_array(np.asarray(array, dtype=np.float32))


def test_dtw_zero_for_identical_and_time_stretched():
    rng = np.random.default_rng(0)
    a = rng.random((20, 5, 3)) + 0.1
    assert dtw_mean_joint_error(_pose(a), _pose(a)) == pytest.approx(0.0)
    assert dtw_mean_joint_error(_pose(np.repeat(a, 3, axis=0)), _pose(a)) == pytest.approx(0.0, abs=1e-6)


def test_dtw_constant_offset_is_its_length():
    a = np.random.default_rng(1).random((15, 4, 3)) + 0.1
    shifted = a + np.array([0.3, 0.4, 0.0])  # every joint moved by a 3-4-5 triangle: 0.5
    assert dtw_mean_joint_error(_pose(shifted), _pose(a)) == pytest.approx(0.5, abs=1e-5)


def test_dtw_ignores_missing_joints():
    a = np.random.default_rng(2).random((10, 3, 3)) + 0.1
    b = a.copy()
    b[:, 2] = 50.0  # joint 2 far away but marked missing
    conf = np.ones((10, 3), np.float32)
    conf[:, 2] = 0
    assert dtw_mean_joint_error(pose_from_array(b, conf), _pose(a)) == pytest.approx(0.0, abs=1e-6)


def test_frame_cost_matrix_equals_explicit_loops():
    from silverscore.meta.pose_baselines import frame_cost_matrix

    rng = np.random.default_rng(3)
    a, b = rng.random((6, 4, 3)), rng.random((5, 4, 3))
    ca, cb = np.ones((6, 4)), np.ones((5, 4))
    ca[2, 1] = 0  # joint 1 missing in frame 2 of a
    cost = frame_cost_matrix(pose_from_array(a, ca), pose_from_array(b, cb))
    for i in range(6):
        for j in range(5):
            joints = [k for k in range(4) if ca[i, k] > 0 and cb[j, k] > 0]
            expected = np.mean([np.linalg.norm(a[i, k] - b[j, k]) for k in joints])
            assert cost[i, j] == pytest.approx(expected, abs=1e-6)
