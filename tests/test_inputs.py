"""Feature files, references and hypotheses: formats, and one clear error per bad input."""
import json
import os
import pickle

import numpy as np
import pytest
import torch

from silverscore.errors import InputError
from silverscore.inputs.features import blend_streams, read_feature_file
from silverscore.inputs.hypotheses import resolve_hypotheses
from silverscore.inputs.references import Reference, read_references
from silverscore.inputs.safe_pickle import safe_load

ARRAY = np.arange(3 * 1024, dtype=np.float32).reshape(3, 1024) / 1000


@pytest.mark.parametrize("fmt", ["npy", "npz", "pt", "pt_dict", "pkl"])
def test_feature_formats(tmp_path, fmt):
    path = tmp_path / f"x.{fmt.split('_')[0]}"
    if fmt == "npy":
        np.save(path, ARRAY)
    elif fmt == "npz":
        np.savez(path, feature=ARRAY)
    elif fmt == "pt":
        torch.save(torch.from_numpy(ARRAY), path)
    elif fmt == "pt_dict":
        torch.save({"feature": torch.from_numpy(ARRAY)}, path)
    else:
        path.write_bytes(pickle.dumps({"feature": ARRAY, "name": "clip-1", "n": 3}, protocol=2))
    np.testing.assert_array_equal(read_feature_file(path, 1024), ARRAY)


@pytest.mark.parametrize(
    "array,message",
    [
        (np.zeros(1024, np.float32), "rank 1"),
        (np.zeros((2, 3, 1024), np.float32), "rank 3"),
        (np.zeros((4, 512), np.float32), "width is 512"),
        (np.zeros((0, 1024), np.float32), "zero rows"),
        (np.array([[np.nan] * 1024], np.float32), "NaN or Inf"),
        (np.array([[np.inf] * 1024], np.float32), "NaN or Inf"),
    ],
)
def test_bad_feature_arrays(tmp_path, array, message):
    path = tmp_path / "bad.npy"
    np.save(path, array)
    with pytest.raises(InputError, match=message) as info:
        read_feature_file(path, 1024)
    assert str(path) in str(info.value)


class _Exploit:
    def __reduce__(self):
        return (os.system, ("touch PWNED_BY_FEATURES",))


def test_malicious_pkl_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps({"feature": _Exploit()}))
    with pytest.raises(InputError, match="refused to unpickle: global posix.system"):
        read_feature_file(path, 1024)
    assert not (tmp_path / "PWNED_BY_FEATURES").exists()
    with pytest.raises(InputError):
        safe_load(path)


def test_object_arrays_in_npy_are_refused(tmp_path):
    path = tmp_path / "obj.npy"
    np.save(path, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(InputError):
        read_feature_file(path, 1024)


def test_blend():
    a, b = np.ones((2, 4), np.float32), np.zeros((2, 4), np.float32)
    np.testing.assert_allclose(blend_streams(a, b, 0.9), np.full((2, 4), 0.9), rtol=1e-7)
    with pytest.raises(InputError, match="differ in shape"):
        blend_streams(a, np.zeros((3, 4), np.float32), 0.9)


def test_reference_layouts(tmp_path):
    (tmp_path / "r.jsonl").write_text('{"id": "a", "text": "Hello"}\n\n{"id": "b", "text": "  "}\n', encoding="utf-8")
    (tmp_path / "r.tsv").write_text("id\ttext\na\tHello\nb\tWorld\n", encoding="utf-8")
    (tmp_path / "r.csv").write_text('id,text\na,"Hello, there"\n', encoding="utf-8")
    (tmp_path / "r.txt").write_text("one\ntwo\n\n", encoding="utf-8")
    assert read_references(tmp_path / "r.jsonl") == [Reference("a", "Hello"), Reference("b", "  ")]
    assert read_references(tmp_path / "r.tsv")[1] == Reference("b", "World")
    assert read_references(tmp_path / "r.csv") == [Reference("a", "Hello, there")]
    assert read_references(tmp_path / "r.txt") == [Reference("1", "one"), Reference("2", "two")]


@pytest.mark.parametrize(
    "name,content,message",
    [
        ("empty.jsonl", b"", "empty"),
        ("latin.txt", "caf\xe9".encode("latin-1"), "not UTF-8"),
        ("bad.jsonl", b'{"id": 1, "text": "x"}\n{oops\n', "line 2 is not valid JSON"),
        ("dup.jsonl", b'{"id": 1, "text": "x"}\n{"id": 1, "text": "y"}\n', "duplicate id '1'"),
        ("cols.tsv", b"name\tsentence\na\tb\n", "needs 'id' and 'text' columns"),
    ],
)
def test_bad_references(tmp_path, name, content, message):
    (tmp_path / name).write_bytes(content)
    with pytest.raises(InputError, match=message):
        read_references(tmp_path / name)


def test_hypothesis_folder_matches_ids_both_ways(tmp_path):
    refs = [Reference("a", "x"), Reference("b", "y")]
    folder = tmp_path / "h"
    folder.mkdir()
    np.save(folder / "a.npy", ARRAY)
    np.save(folder / "b.npy", ARRAY)
    assert [p.name for p in resolve_hypotheses(folder, refs, (".npy",))] == ["a.npy", "b.npy"]
    np.save(folder / "c.npy", ARRAY)
    with pytest.raises(InputError, match="hypotheses without a reference: c"):
        resolve_hypotheses(folder, refs, (".npy",))
    (folder / "c.npy").unlink()
    (folder / "b.npy").unlink()
    with pytest.raises(InputError, match="references without a hypothesis: b"):
        resolve_hypotheses(folder, refs, (".npy",))


def test_hypothesis_list_file(tmp_path):
    refs = [Reference("1", "x"), Reference("2", "y")]
    (tmp_path / "list.txt").write_text("f1.npy\n/abs/f2.npy\n")
    assert [str(p) for p in resolve_hypotheses(tmp_path / "list.txt", refs, (".npy",))] == [str(tmp_path / "f1.npy"), "/abs/f2.npy"]
    (tmp_path / "short.txt").write_text("f1.npy\n")
    with pytest.raises(InputError, match="1 entries but there are 2 references"):
        resolve_hypotheses(tmp_path / "short.txt", refs, (".npy",))
