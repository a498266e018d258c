"""Dataset loaders on small files in each corpus's real layout, written here."""
from __future__ import annotations

import json
import pickle

import numpy as np
import pytest

from silverscore.datasets import load_dataset
from silverscore.errors import InputError


def _media(folder, names, ext=".npy", sub=None):
    base = folder / sub if sub else folder
    base.mkdir(parents=True, exist_ok=True)
    for n in names:
        np.save(base / f"{n}{ext}", np.zeros((3, 1024), np.float32))


def test_phoenix_corpus_csv(tmp_path):
    (tmp_path / "PHOENIX-2014-T.dev.corpus.csv").write_text(
        "name|video|start|end|speaker|orth|translation\n"
        "01April_2010_Thursday_heute-6697|01April_2010_Thursday_heute-6697/1/*.png|-1|-1|Signer08|REGEN|und nun die wettervorhersage\n"
        "02April_2010_Friday_tagesschau-1|x/1/*.png|-1|-1|Signer01|SONNE|es bleibt sonnig\n", encoding="utf-8")
    _media(tmp_path / "feats", ["01April_2010_Thursday_heute-6697"], sub="dev")
    _media(tmp_path / "feats", ["02April_2010_Friday_tagesschau-1"])
    recs = load_dataset("phoenix", root=tmp_path, split="dev", media=tmp_path / "feats", media_kind="i3d")
    assert [r.id for r in recs] == ["01April_2010_Thursday_heute-6697", "02April_2010_Friday_tagesschau-1"]
    assert recs[0].text == "und nun die wettervorhersage" and recs[0].signer == "Signer08"
    assert recs[0].media == tmp_path / "feats" / "dev" / "01April_2010_Thursday_heute-6697.npy"
    assert recs[1].media == tmp_path / "feats" / "02April_2010_Friday_tagesschau-1.npy"


def test_phoenix_missing_media_and_columns(tmp_path):
    (tmp_path / "PHOENIX-2014-T.test.corpus.csv").write_text("name|video|start|end|speaker|orth|translation\na|v|-1|-1|S|X|hallo\n")
    (tmp_path / "feats").mkdir()
    with pytest.raises(InputError, match="no media file for 1 of 1"):
        load_dataset("phoenix", root=tmp_path, split="test", media=tmp_path / "feats", media_kind="i3d")
    (tmp_path / "PHOENIX-2014-T.train.corpus.csv").write_text("name|orth\na|X\n")
    with pytest.raises(InputError, match="missing column"):
        load_dataset("phoenix", root=tmp_path, split="train", media=tmp_path / "feats")


def test_how2sign_realigned_tsv(tmp_path):
    header = "VIDEO_ID\tVIDEO_NAME\tSENTENCE_ID\tSENTENCE_NAME\tSTART_REALIGNED\tEND_REALIGNED\tSENTENCE\n"
    (tmp_path / "how2sign_realigned_val.csv").write_text(
        header + "-d5dN54tH2E\t-d5dN54tH2E-1-rgb_front\t-d5dN54tH2E_0\t-d5dN54tH2E_0-1-rgb_front\t0.0\t1.5\tHi, I'm Jane.\n")
    poses = tmp_path / "poses"
    poses.mkdir()
    np.save(poses / "-d5dN54tH2E_0-1-rgb_front.npy", np.zeros((4, 5, 3), np.float32))
    recs = load_dataset("how2sign", root=tmp_path, split="val", media=poses)
    assert len(recs) == 1 and recs[0].text == "Hi, I'm Jane." and recs[0].id == "-d5dN54tH2E_0-1-rgb_front"


def test_csl_daily_split_and_sentence_pickle(tmp_path):
    (tmp_path / "split_1.txt").write_text("Name|split\nS000001_P0000_T00|train\nS000002_P0001_T00|test\n")
    info = {"info": [{"name": "S000001_P0000_T00", "label_char": ["你", "好"], "label_word": ["你好"]},
                     {"name": "S000002_P0001_T00", "label_char": ["谢", "谢"], "label_word": ["谢谢"]}]}
    (tmp_path / "csl2020ct_v2.pkl").write_bytes(pickle.dumps(info))
    _media(tmp_path / "f", ["S000002_P0001_T00"])
    recs = load_dataset("csl", root=tmp_path, split="test", media=tmp_path / "f", media_kind="i3d")
    assert [(r.id, r.text) for r in recs] == [("S000002_P0001_T00", "谢谢")]


def test_cico_pickle_forms_and_unsafe_pickle(tmp_path):
    _media(tmp_path / "f", ["a", "b"])
    for i, obj in enumerate([{"a": "one", "b": "two"}, [{"name": "a", "text": "one"}, {"video": "b", "sentence": "two"}],
                             {"names": ["a", "b"], "texts": ["one", "two"]}]):
        path = tmp_path / f"t{i}.pkl"
        path.write_bytes(pickle.dumps(obj))
        recs = load_dataset("cico", manifest=path, media=tmp_path / "f", media_kind="i3d")
        assert [(r.id, r.text) for r in recs] == [("a", "one"), ("b", "two")]
    evil = tmp_path / "evil.pkl"
    evil.write_bytes(pickle.dumps(np.random.default_rng))  # a callable global: must be refused
    with pytest.raises(InputError):
        load_dataset("cico", manifest=evil, media=tmp_path / "f", media_kind="i3d")


def test_jsonl_manifest(tmp_path):
    (tmp_path / "poses").mkdir()
    np.save(tmp_path / "poses" / "x.npy", np.zeros((4, 5, 3), np.float32))
    row = {"id": "x", "text": "It rains.", "pose": "poses/x.npy", "paraphrases": ["Rain falls."], "glosses": ["RAIN"],
           "signer": "train-01", "negated": False}
    (tmp_path / "manifest.jsonl").write_text(json.dumps(row) + "\n\n")
    (rec,) = load_dataset("jsonl", manifest=tmp_path / "manifest.jsonl")
    assert rec.paraphrases == ["Rain falls."] and rec.glosses == ["RAIN"] and rec.signer == "train-01"
    assert rec.extra["negated"] is False and rec.media == (tmp_path / "poses" / "x.npy").resolve()
    (tmp_path / "bad.jsonl").write_text('{"id": "y", "text": "t"}\n')
    with pytest.raises(InputError, match="object 1 needs 'id', 'text' and 'pose'"):
        load_dataset("jsonl", manifest=tmp_path / "bad.jsonl")
