"""`silverscore meta` with a model (a small random official-layout checkpoint) on files the test writes."""
import json

import numpy as np
import pytest
import torch

from silverscore.api import Scorer
from silverscore.cli import main

TEXTS = ["rain in the north", "sun in the south", "snow on the alps tonight", "strong wind at the coast",
         "fog in the morning", "warm and dry weekend", "thunderstorms in the east", "cold night with frost"]


@pytest.fixture
def corpus(tmp_path):
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    hyps = tmp_path / "hyps"
    hyps.mkdir()
    for k in range(len(TEXTS)):
        np.save(hyps / f"v{k}.npy", rng.normal(size=(int(rng.integers(5, 30)), 1024)).astype(np.float32))
    refs = tmp_path / "refs.jsonl"
    refs.write_text("".join(json.dumps({"id": f"v{k}", "text": t}) + "\n" for k, t in enumerate(TEXTS)))
    bt = tmp_path / "bt.tsv"
    bt.write_text("id\ttext\n" + "".join(f"v{k}\t{' '.join(reversed(t.split()))}\n" for k, t in enumerate(TEXTS)))
    rewritten = tmp_path / "reordered.jsonl"
    rewritten.write_text("".join(json.dumps({"id": f"v{k}", "text": " ".join(t.split()[1:] + t.split()[:1])}) + "\n"
                                 for k, t in enumerate(TEXTS)))
    return {"hyps": hyps, "refs": refs, "bt": bt, "rewritten": rewritten, "dir": tmp_path}


def _run(capsys, *argv):
    code = main(["meta", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_discrimination_with_model_pairs_and_baselines(small_ckpt, corpus, capsys):
    common = ["--model", str(small_ckpt), "--hyps", str(corpus["hyps"]), "--refs", str(corpus["refs"]), "--quiet"]
    pairs = corpus["dir"] / "pairs.json"
    code, out, err = _run(capsys, "discrimination", *common, "--bt", f"sys={corpus['bt']}", "--save-pairs", str(pairs),
                          "--seed", "7")
    assert code == 0, err
    result = json.loads(out)
    assert {"auc", "overlap", "signature"} <= set(result)
    assert result["signature"].startswith("silverscore|model:")
    assert {"BLEU-1", "BLEU-4", "chrF", "ROUGE-L"} <= set(result["metrics"])
    saved = json.loads(pairs.read_text())
    assert saved["seed"] == 7 and len(saved["pairs"]) == len(TEXTS)
    # the correct-pair scores are plain paired scores (computed here through the API directly)
    direct = Scorer(str(small_ckpt)).score([corpus["hyps"] / f"v{k}.npy" for k in range(len(TEXTS))], TEXTS).scores
    assert result["metrics"]["SiLVERScore"]["correct"]["mean"] == pytest.approx(float(np.mean(direct)), rel=1e-6)
    # random pairs: scores of (video i, text j) for the saved indices
    i, j = np.asarray(saved["pairs"]).T
    rand = Scorer(str(small_ckpt)).score([corpus["hyps"] / f"v{a}.npy" for a in i], [TEXTS[b] for b in j]).scores
    assert result["metrics"]["SiLVERScore"]["random"]["mean"] == pytest.approx(float(np.mean(rand)), rel=1e-6)
    # pairs that drew an item's own correct pair are counted, and an AUC without them is added
    own = i == j
    assert result["own_pairs"] == int(own.sum()) == result["metrics"]["BLEU-1"]["own_pairs"]
    if (~own).any():
        from sklearn.metrics import roc_auc_score

        labels = np.r_[np.ones(len(direct)), np.zeros(int((~own).sum()))]
        expected = roc_auc_score(labels, np.r_[direct, rand[~own]])
        assert result["auc_without_own_pairs"] == pytest.approx(expected, abs=1e-9)
    # reusing the pairs reproduces the result exactly
    code, out2, _ = _run(capsys, "discrimination", *common, "--pairs", str(pairs))
    assert json.loads(out2)["auc"] == result["auc"] and json.loads(out2)["overlap"] == result["overlap"]


def test_reorder_with_model_and_rewritten_file(small_ckpt, corpus, capsys, tmp_path):
    code, out, err = _run(capsys, "reorder", "--model", str(small_ckpt), "--hyps", str(corpus["hyps"]),
                          "--refs", str(corpus["refs"]), "--rewritten", str(corpus["rewritten"]), "--bt", str(corpus["bt"]),
                          "--quiet", "--out", str(tmp_path / "res"))
    assert code == 0, err
    result = json.loads(out)
    assert 0.0 <= result["auc"] <= 1.0 and 0.0 <= result["overlap"] <= 100.0
    assert "BLEU-1" in result["metrics"]
    assert (tmp_path / "res" / "reorder_hist.png").is_file()


def test_rewritten_file_missing_an_id_is_a_user_error(small_ckpt, corpus, capsys):
    short = corpus["dir"] / "short.jsonl"
    short.write_text(json.dumps({"id": "v0", "text": "x"}) + "\n")
    code, out, err = _run(capsys, "paraphrase", "--model", str(small_ckpt), "--hyps", str(corpus["hyps"]),
                          "--refs", str(corpus["refs"]), "--rewritten", str(short), "--quiet")
    assert code == 2 and out == "" and "no rewritten reference for id(s) v1" in err
