"""Metric hygiene of the Scorer: batch size, order and padding never change a score."""
import numpy as np
import pytest

from silverscore.api import Scorer, SilverScoreMetric, score
from silverscore.models.checkpoints import load_model

WORDS = "the rain in the north will be heavy tomorrow while the south stays mostly sunny and warm".split()


@pytest.fixture(scope="module")
def loaded(parity_ckpt):
    return load_model(parity_ckpt)


@pytest.fixture(scope="module")
def batch():
    g = np.random.default_rng(7)
    lengths = g.integers(1, 160, size=64)
    feats = [g.standard_normal((int(n), 1024)).astype(np.float32) for n in lengths]
    texts = [" ".join(g.choice(WORDS, size=int(g.integers(1, 40)))) for _ in lengths]
    return feats, texts


def test_batch_size_order_and_company_do_not_matter(loaded, batch):
    feats, texts = batch
    together = Scorer(loaded, batch_size=64).score(feats, texts).scores
    alone = np.array([Scorer(loaded, batch_size=1).score([f], [t]).scores[0] for f, t in zip(feats, texts)])
    order = np.random.default_rng(1).permutation(len(feats))
    shuffled = Scorer(loaded, batch_size=7).score([feats[i] for i in order], [texts[i] for i in order]).scores
    np.testing.assert_array_equal(together, alone)  # to the last bit (each pair on its own slots)
    np.testing.assert_array_equal(together[order], shuffled)


def test_caller_padding_is_not_signing(loaded):
    """Our padding to L = 64 slots is masked: a 10-clip video scores the same alone and beside
    a 300-clip video in one batch."""
    g = np.random.default_rng(3)
    short = g.standard_normal((10, 1024)).astype(np.float32)
    long = g.standard_normal((300, 1024)).astype(np.float32)
    s = Scorer(loaded)
    a = s.score([short], ["hello there"]).scores[0]
    b = s.score([long, short], ["x", "hello there"]).scores[1]
    assert a == pytest.approx(b, abs=1e-6)


def test_scores_keep_every_bit_with_two_threads_whatever_the_batch(parity_ckpt):
    """In a fresh process with two threads (this suite runs on one): the same video and reference
    score exactly the same alone, beside another reference, and as the last of 64 videos."""
    import os
    import subprocess
    import sys

    code = (
        "import numpy as np, torch\n"
        "torch.set_num_threads(2)\n"
        "from silverscore.api import Scorer\n"
        f"s = Scorer({str(parity_ckpt)!r}, progress=False)\n"
        "short = np.random.default_rng(3).standard_normal((10, 1024)).astype(np.float32)\n"
        "a = s.score([short], ['hello there']).scores[0]\n"
        "b = s.score([short, short], ['x', 'hello there']).scores[1]\n"
        "c = s.score([short] * 64, ['hello there'] * 64).scores[-1]\n"
        "print(repr(float(a)), repr(float(b)), repr(float(c)))\n")
    env = {k: v for k, v in os.environ.items() if k != "MKL_CBWR"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    a, b, c = out.stdout.split()
    assert a == b == c


def test_matrix_diagonal_equals_paired(loaded, batch):
    feats, texts = batch
    s = Scorer(loaded, batch_size=16)
    paired = s.score(feats[:12], texts[:12]).scores
    matrix = s.score_matrix(feats[:12], texts[:12]).scores
    np.testing.assert_allclose(np.diag(matrix), paired, atol=1e-5, rtol=0)


def test_scale_is_linear(loaded, batch):
    feats, texts = batch
    raw = Scorer(loaded, scale=1.0).score(feats[:5], texts[:5])
    scaled = Scorer(loaded).score(feats[:5], texts[:5])
    np.testing.assert_allclose(scaled.scores, 3.5 * raw.scores, rtol=1e-12)
    np.testing.assert_allclose(raw.scores, 0.5 * raw.z_v2t + 0.5 * raw.z_t2v, rtol=1e-12)


def test_summary_and_signature(loaded, batch):
    feats, texts = batch
    result = score(feats[:20], texts[:20], model=loaded)
    summary = result.summary()
    assert summary["mean"] == pytest.approx(result.scores.mean())
    assert summary["ci95"][0] <= summary["mean"] <= summary["ci95"][1]
    assert result.summary() == summary  # seeded
    assert summary["signature"] == (
        "silverscore|model:tiny_official_ckpt@fea5c401a5e1|softmax:official|prec:fp32|scale:3.5|tau:0.07|"
        "mix:0.5|trunc:head|alpha:none|boot:1000|seed:0|v:0.1.0"
    )


def test_metric_adapter_equals_one_shot(loaded, batch):
    feats, texts = batch
    metric = SilverScoreMetric(loaded)
    metric.update(feats[:10], texts[:10])
    metric.update(feats[10:30], texts[10:30])
    once = Scorer(loaded).score(feats[:30], texts[:30]).summary()
    got = metric.compute()
    assert got["mean"] == pytest.approx(once["mean"], abs=1e-9)
    assert got["ci95"] == pytest.approx(once["ci95"], abs=1e-9)


def test_default_pose_model_is_batch_invariant(tmp_path):
    """The bundled pose model too: alone, in one batch, or shuffled in batches of 5."""
    import json

    from silverscore.cli import main

    assert main(["synth", "--out", str(tmp_path), "--sentences", "16", "--seed", "5", "--split", "test", "--quiet"]) == 0
    rows = [json.loads(line) for line in (tmp_path / "manifest.jsonl").read_text().splitlines()]
    hyps = [tmp_path / r["pose"] for r in rows]
    refs = [r["text"] for r in rows]
    scorer = Scorer(None, batch_size=16)
    together = scorer.score(hyps, refs).scores
    single = Scorer(scorer._loaded, batch_size=1)
    alone = np.array([single.score([h], [t]).scores[0] for h, t in zip(hyps, refs)])
    order = np.random.default_rng(2).permutation(len(hyps))
    shuffled = Scorer(scorer._loaded, batch_size=5).score([hyps[i] for i in order], [refs[i] for i in order]).scores
    np.testing.assert_array_equal(together, alone)  # to the last bit (each pair on its own slots)
    np.testing.assert_array_equal(together[order], shuffled)


def test_matrix_with_more_texts_than_batch_size_on_the_pose_model(tmp_path):
    """Text blocks of different padded widths are joined correctly (pose model pads per block)."""
    import json

    from silverscore.cli import main

    assert main(["synth", "--out", str(tmp_path), "--sentences", "6", "--seed", "9", "--split", "test", "--quiet"]) == 0
    rows = [json.loads(line) for line in (tmp_path / "manifest.jsonl").read_text().splitlines()]
    hyps = [tmp_path / r["pose"] for r in rows]
    refs = [r["text"] for r in rows]
    small = Scorer(None, batch_size=2).score_matrix(hyps, refs).scores
    large = Scorer(None, batch_size=8).score_matrix(hyps, refs).scores
    assert small.shape == (6, 6)
    np.testing.assert_allclose(small, large, atol=1e-6, rtol=0)
    np.testing.assert_allclose(np.diag(small), Scorer(None).score(hyps, refs).scores, atol=1e-6, rtol=0)
