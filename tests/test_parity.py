"""Reproduce every case of ../shared/parity/vectors_public.npz (the official code's outputs on a
random checkpoint in the official layout), through the library and through the CLI."""
import json
import subprocess
import sys

import numpy as np
import pytest
import torch

from silverscore.api import Scorer
from silverscore.models.checkpoints import load_model
from silverscore.text.tokenizer import tokenize

# precision -> (key prefix in the npz, absolute tolerance on raw scores)
PRECISIONS = {"fp32": ("fp32", 5e-5), "fp16": ("fp16", 5e-2), "fp64": ("ref64", 1e-9)}


def cases(vectors):
    return json.loads(str(vectors["meta_json"]))["cases"]


def video_items(vectors, name):
    x = vectors[f"video__{name}"]
    return [x] if x.ndim == 2 else list(x)


@pytest.fixture(scope="module")
def loaded(parity_ckpt):
    return load_model(parity_ckpt)


def test_tokenizer_ids_and_masks(parity_vectors):
    tok = tokenize([str(t) for t in parity_vectors["texts"]])
    np.testing.assert_array_equal(tok.input_ids, parity_vectors["input_ids"])
    np.testing.assert_array_equal(tok.valid, parity_vectors["attention_mask"].astype(bool))
    # Only the long weather sentence (index 3) exceeds 30 BPE tokens; "sign" × 30 (index 11) fits exactly.
    assert tok.truncated.tolist() == [i == 3 for i in range(13)]
    assert (parity_vectors["input_ids"][11] != 0).sum() == 32


@pytest.mark.parametrize("precision", list(PRECISIONS))
def test_every_case(parity_vectors, loaded, precision):
    prefix, atol = PRECISIONS[precision]
    scorer = Scorer(loaded, precision=precision, scale=1.0)
    texts = [str(t) for t in parity_vectors["texts"]]
    checked = 0
    for case in cases(parity_vectors):
        items = video_items(parity_vectors, case["video"])
        key = case["case"]
        if case["single_text"] or key.startswith("list1"):
            index = case["text_index"] if isinstance(case["text_index"], int) else case["text_index"][0]
            result = scorer.score(items, [texts[index]] * len(items))
            got = {"score": result.scores, "i2t": result.z_v2t, "t2i": result.z_t2v}
        else:
            idx = case["text_index"]
            result = scorer.score_matrix(items, [texts[i] for i in idx])
            got = {"score": result.scores, "i2t": result.z_v2t, "t2i": result.z_t2v}
        for what, value in got.items():
            expected = np.asarray(parity_vectors[f"{prefix}__{what}__{key}"], dtype=np.float64)
            np.testing.assert_allclose(np.asarray(value).reshape(expected.shape), expected, atol=atol, rtol=0, err_msg=f"{precision} {what} {key}")
            checked += 1
    assert checked == 3 * len(cases(parity_vectors))


@pytest.mark.parametrize("precision,atol", [("fp32", 1e-4), ("fp64", 1e-10), ("fp16", 1e-2)])
def test_hidden_states(parity_vectors, loaded, precision, atol):
    prefix = PRECISIONS[precision][0]
    model = loaded.model.set_precision(precision)
    with torch.no_grad():
        seq, _, _ = model.encode_texts([str(t) for t in parity_vectors["texts"]])
        np.testing.assert_allclose(seq.double().numpy(), parity_vectors[f"{prefix}__seq_hidden"], atol=atol, rtol=0)
        for name in ("v1", "v65", "b3x140"):
            vis, valid = model.encode_videos(video_items(parity_vectors, name))
            np.testing.assert_allclose(vis.double().numpy(), parity_vectors[f"{prefix}__vis_hidden__{name}"], atol=atol, rtol=0)
            np.testing.assert_array_equal(~valid.numpy(), parity_vectors[f"video_mask__{name}"].astype(bool))
    model.set_precision("fp32")


def test_sampling_rows(parity_vectors, loaded):
    model = loaded.model
    for name in ("v3", "v64", "v65", "v100", "v300"):
        x = parity_vectors[f"video__{name}"]
        expected = parity_vectors[f"sample_idx__{name}"][0]
        sampled, count = model.sample_clips(x)
        for slot, row in enumerate(expected):
            if row < 0:
                assert not sampled[slot].any() and slot >= count
            else:
                np.testing.assert_array_equal(sampled[slot], x[row])


@pytest.mark.parametrize("precision", ["fp32", "fp16"])
def test_cli_on_feature_files(tmp_path, parity_vectors, parity_ckpt, precision):
    """The same numbers through `silverscore score` on .npy files written from the npz."""
    prefix, atol = PRECISIONS[precision]
    texts = [str(t) for t in parity_vectors["texts"]]
    feats = tmp_path / "feats"
    feats.mkdir()
    expected = {}
    with open(tmp_path / "refs.jsonl", "w", encoding="utf-8") as refs:
        for case in cases(parity_vectors):
            if not case["case"].startswith("single__"):
                continue
            name = case["video"]
            np.save(feats / f"{name}.npy", parity_vectors[f"video__{name}"])
            refs.write(json.dumps({"id": name, "text": texts[case["text_index"]]}) + "\n")
            expected[name] = float(parity_vectors[f"{prefix}__score__{case['case']}"])
    out = tmp_path / "scores.jsonl"
    proc = subprocess.run(
        [sys.executable, "-m", "silverscore.cli", "score", "--model", str(parity_ckpt), "--hyps", str(feats),
         "--refs", str(tmp_path / "refs.jsonl"), "--scale", "1", "--precision", precision, "--out", str(out), "--quiet"],
        capture_output=True, text=True, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == len(expected) == 10
    for row in rows:
        assert row["score"] == pytest.approx(expected[row["id"]], abs=atol)
    summary = json.loads(proc.stdout)
    assert summary["mean"] == pytest.approx(np.mean(list(expected.values())), abs=atol)
    assert summary["signature"].startswith("silverscore|model:tiny_official_ckpt@fea5c401a5e1|")
