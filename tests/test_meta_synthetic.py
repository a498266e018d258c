"""The synthetic-benchmark runner on a tiny hand-made test folder with a transparent toy model.

The toy model "reads" a pose whose frame t carries the vector of word t in joint x-coordinates,
and embeds a text as the same word vectors, so which pairs should score high is known without
running our code: correct pairs share all their words, random pairs few.
"""
import json
import zlib

import numpy as np
import pytest
import torch

from silverscore.api import Scorer
from silverscore.meta import synthetic
from silverscore.meta.measures import roc_auc
from silverscore.meta.pairs import draw_random_pairs

DIM = 16
VOCAB = ("rain snow sun wind cloud north south east west today tomorrow morning evening strong weak cold warm "
         "mother father child buy sell give book apple car house big small red blue three five not").split()


def word_vector(word: str) -> np.ndarray:
    v = np.random.default_rng(zlib.crc32(word.encode())).normal(size=DIM)
    return v / np.linalg.norm(v)


class ToyPoseModel(torch.nn.Module):
    input_kind = "pose"
    softmax = "masked"

    def logit_scale_value(self):
        return torch.tensor(20.0)

    def _pad(self, rows, length=None):
        length = length or max(len(r) for r in rows)
        emb = torch.zeros(len(rows), length, DIM)
        valid = torch.zeros(len(rows), length, dtype=torch.bool)
        for n, r in enumerate(rows):
            emb[n, : len(r)] = torch.as_tensor(np.asarray(r), dtype=torch.float32)
            valid[n, : len(r)] = True
        return emb, valid

    def encode_videos(self, items):
        return self._pad([np.asarray(item.data[:, :, 0]) for item in items])

    def encode_texts(self, texts):
        # fixed text length, as real text towers have (the scorer concatenates batches)
        emb, valid = self._pad([[word_vector(w) for w in (t.split() or ["<empty>"])][:12] for t in texts], 12)
        return emb, valid, torch.zeros(len(texts), dtype=torch.bool)

    def config(self):
        return {"architecture": "toy"}


def render(text: str, rng, noise: float = 0.0, gain: float = 1.0) -> np.ndarray:
    frames = [word_vector(w) * gain + noise * rng.normal(size=DIM) for w in text.split()]
    data = np.zeros((len(frames), DIM, 3), np.float32)
    data[:, :, 0] = frames
    data[:, :, 1] = 1.0  # never all-zero: every joint present
    return data


def make_folder(root, n: int = 36, seed: int = 0):
    rng = np.random.default_rng(seed)
    (root / "poses").mkdir(parents=True)
    rows = []
    for k in range(n):
        words = list(rng.choice(VOCAB[:-1], size=int(rng.integers(4, 8)), replace=False))
        text = " ".join(words)
        intensity = ["none", "low", "high"][k % 3]
        gain = {"none": 1.0, "low": 1.3, "high": 1.8}[intensity]  # toy prosody: bigger signing
        np.save(root / "poses" / f"s{k}.npy", render(text, rng, 0.05, gain))
        rows.append({"id": f"s{k}", "text": text, "pose": f"poses/s{k}.npy", "paraphrases": [" ".join(reversed(words)),
                     " ".join(words[:-1] + ["big"])], "intensity": intensity, "signer": "AB"[k % 2]})
    (root / "manifest.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    for name, make in {"negation": lambda w: ["not"] + w, "number": lambda w: w[:-1] + ["five" if w[-1] != "five" else "three"]}.items():
        folder = root / "hard_negatives" / name
        (folder / "poses").mkdir(parents=True)
        hn = []
        for row in rows:
            signed = " ".join(make(row["text"].split()))
            np.save(folder / "poses" / f"{row['id']}.npy", render(signed, rng, 0.05))
            hn.append({"id": f"{name}-{row['id']}", "source_id": row["id"], "text": signed,
                       "reference_text": row["text"], "pose": f"poses/{row['id']}.npy"})
        (folder / "manifest.jsonl").write_text("\n".join(json.dumps(r) for r in hn) + "\n")
    systems = {}
    for name, quality in (("bad", 0.2), ("mid", 0.55), ("good", 0.9)):
        folder = root / "systems" / name
        (folder / "poses").mkdir(parents=True)
        out = []
        for row in rows:
            words = [w if rng.random() < quality else str(rng.choice(VOCAB)) for w in row["text"].split()]
            signed = " ".join(words)
            np.save(folder / "poses" / f"{row['id']}.npy", render(signed, rng, 0.05))
            kept = np.mean([a == b for a, b in zip(words, row["text"].split())])
            out.append({"id": row["id"], "pose": f"poses/{row['id']}.npy", "signed_text": signed, "quality": float(kept)})
        (folder / "manifest.jsonl").write_text("\n".join(json.dumps(r) for r in out) + "\n")
        systems[name] = {"quality": quality}
    (root / "systems" / "systems.json").write_text(json.dumps(systems))
    return rows


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("synth")
    make_folder(root)
    return root


@pytest.fixture(scope="module")
def scorer():
    torch.set_num_threads(1)
    return Scorer(ToyPoseModel(), batch_size=16)


def test_discrimination_on_reference_signing_and_systems(folder, scorer, tmp_path):
    result = synthetic.run_discrimination(scorer, folder, tmp_path, seed=0, save_pairs_to=tmp_path / "p.json")
    assert result["auc"] > 0.95  # correct pairs share every word with their text
    assert result["best_system"] == "good"
    assert set(result["by_system"]) == {"bad", "mid", "good"}
    metrics = result["metrics"]
    for name in ("BLEU-1 (oracle BT) [good]", "chrF (oracle BT) [good]", "ROUGE-L (oracle BT) [good]", "-DTW-MJE [good]"):
        assert name in metrics
    # SiLVERScore of the correct pairs equals plain paired scoring (independent path)
    from silverscore.meta.synthetic import load_test_set

    test = load_test_set(folder)
    direct = scorer.score(test.poses, test.texts).scores
    assert metrics["SiLVERScore"]["correct"]["mean"] == pytest.approx(float(np.mean(direct)))
    # reusing the saved pairs gives the same numbers; another seed other pairs
    again = synthetic.run_discrimination(scorer, folder, None, pairs_file=tmp_path / "p.json")
    assert again["auc"] == result["auc"] and again["overlap"] == result["overlap"]
    assert (tmp_path / "discrimination_hist.png").is_file()
    assert "Every simulated system" in (tmp_path / "discrimination.md").read_text()
    # the random pairs that are an item's own pair are counted from the saved pairs
    saved = np.asarray(json.loads((tmp_path / "p.json").read_text())["pairs"])
    assert result["own_pairs"] == int((saved[:, 0] == saved[:, 1]).sum())
    assert metrics["SiLVERScore"]["own_pairs"] == result["own_pairs"]
    assert metrics["BLEU-1 (oracle BT) [good]"]["own_pairs"] >= 0


def test_hard_negatives_keys_and_directions(folder, scorer):
    result = synthetic.run_hard_negatives(scorer, folder)
    assert set(result["sets"]) == {"negation", "number"}
    assert 0.0 <= result["negation"]["auc"] <= 1.0
    # oracle back-translation: the correct pair's BT is the reference itself -> BLEU 100 > negative
    assert result["metrics"]["BLEU-1 (oracle BT)"]["negation"]["auc"] == pytest.approx(1.0)
    assert "SiLVERScore (text side)" in result["metrics"]


def test_ranking_orders_the_simulated_systems(folder, scorer):
    result = synthetic.run_ranking(scorer, folder, n_boot=200, n_trials=500)
    assert list(result["systems"]) == ["bad", "mid", "good"]
    assert result["kendall_tau"] == pytest.approx(1.0)
    assert result["metrics"]["BLEU-1 (oracle BT)"]["kendall_tau"] == pytest.approx(1.0)
    assert len(result["neighbours"]) == 2


def test_reorder_paraphrase_prosody_generalization(folder, scorer):
    reorder = synthetic.run_robustness(scorer, folder, kind="reorder")
    assert reorder["examples"][0]["rewritten"].split() == list(reversed(reorder["examples"][0]["original"].split()))
    # the toy model is bag-of-words: a pure reordering changes no score (up to float rounding)
    silver = reorder["metrics"]["SiLVERScore"]
    assert silver["original"]["mean"] == pytest.approx(silver["rewritten"]["mean"], abs=1e-4)
    assert silver["overlap"] > 90.0
    paraphrase = synthetic.run_robustness(scorer, folder, kind="paraphrase")
    assert paraphrase["n"] == 36
    prosody = synthetic.run_prosody(scorer, folder)
    assert set(prosody["groups"]) == {"none", "low", "high"}
    assert "p_value" in prosody["kruskal_wallis"]
    general = synthetic.run_generalization({"toy": scorer}, folder)
    assert general["columns"] == ["signer A", "signer B"]
    assert general["auc"]["toy"]["signer A"] > 0.9
    # own pairs per group: the group's pairs are drawn with the session seed over its members
    from silverscore.meta.synthetic import load_test_set

    signers = [str(s) for s in load_test_set(folder).field("signer")]
    for group in ("A", "B"):
        pairs = draw_random_pairs(signers.count(group), 0)
        assert general["own_pairs"]["toy"][f"signer {group}"] == int((pairs[:, 0] == pairs[:, 1]).sum())


def test_run_all_writes_every_section_and_the_report(folder, scorer, tmp_path):
    summary = synthetic.run_all(scorer, folder, tmp_path, seed=0, paper_dir=False)
    for name in ("discrimination", "reorder", "paraphrase", "prosody", "hard_negatives", "ranking", "correlation",
                 "generalization"):
        assert "skipped" not in summary["experiments"][name], name
        assert (tmp_path / f"{name}.json").is_file()
    report = (tmp_path / "report.md").read_text()
    assert "## ranking" in report and "ranking.png" in report
    assert (tmp_path / "random_pairs.json").is_file()
    # the summary carries the protocol's own pairs with the AUCs (from the sections' JSON)
    section = json.loads((tmp_path / "discrimination.json").read_text())
    assert summary["experiments"]["discrimination"]["own_pairs"] == section["own_pairs"]
    assert summary["experiments"]["generalization"]["own_pairs"] == json.loads(
        (tmp_path / "generalization.json").read_text())["own_pairs"]
    # deterministic for a given seed
    first = json.loads((tmp_path / "ranking.json").read_text())
    again = synthetic.run_ranking(scorer, folder, seed=0)
    assert again["metrics"]["SiLVERScore"]["neighbours"] == first["metrics"]["SiLVERScore"]["neighbours"]


class BatchPaddedToy(ToyPoseModel):
    """Pads texts to the longest of each batch, as pose_minilm does."""

    def encode_texts(self, texts):
        emb, valid = self._pad([[word_vector(w) for w in (t.split() or ["<empty>"])] for t in texts])
        return emb, valid, torch.zeros(len(texts), dtype=torch.bool)


def test_session_matrix_route_with_more_texts_than_a_batch(folder):
    session = synthetic.SynthSession(Scorer(BatchPaddedToy(), batch_size=4), folder)
    test = session.test
    via_matrix = session.score(test.poses, test.texts)
    paired = Scorer(ToyPoseModel(), batch_size=64).score(test.poses, test.texts).scores
    assert np.allclose(via_matrix, paired, atol=1e-4)
