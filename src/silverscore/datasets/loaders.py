"""Readers for the annotation layouts of real sign language corpora and of our JSONL manifests.

Every loader returns :class:`Record` rows (id, sentence, media file) for one split and finds each
item's media in a folder the user names: I3D feature files (``.npy/.npz/.pt/.pkl``) or pose files
(``.pose/.npy/.npz``), looked up as ``MEDIA/<split>/<name>.<ext>`` then ``MEDIA/<name>.<ext>``.
Items whose media is missing are an error by default (a silently shrunken training set is worse
than a clear message); ``skip_missing=True`` drops them instead and says how many.

Layouts (as distributed by their authors):

* ``phoenix`` — RWTH-PHOENIX-Weather-2014-T: ``PHOENIX-2014-T.<split>.corpus.csv``, ``|``-separated
  with header ``name|video|start|end|speaker|orth|translation``; splits ``train/dev/test``.
* ``csl`` — CSL-Daily: a split file (``split_1.txt``, ``|``-separated ``Name|split`` rows) and the
  sentence pickle (``csl2020ct_v2.pkl``: ``{'info': [{'name', 'label_char' | 'label_word', ...}]}``)
  read through the restricted unpickler; the text is the joined characters.
* ``how2sign`` — How2Sign re-aligned CSVs (``how2sign_realigned_<split>.csv``), tab-separated with
  ``VIDEO_ID VIDEO_NAME SENTENCE_ID SENTENCE_NAME START_REALIGNED END_REALIGNED SENTENCE``; the
  media name is ``SENTENCE_NAME``; splits ``train/val/test``.
* ``cico`` — CiCo-style pickled text files (restricted unpickler): a dict ``{name: sentence}``, a
  list of ``{'name'/'video'/'id': ..., 'text'/'sentence'/'translation': ...}`` dicts, or
  ``{'names': [...], 'texts': [...]}``.
* ``jsonl`` — our manifests (the synthetic corpus): one JSON object per line with ``id``, ``text``
  and a media path (``pose`` or ``features``) relative to the manifest; ``paraphrases``,
  ``glosses``, ``signer``, ``negated``, ``intensity`` are kept when present.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

from ..errors import InputError
from ..inputs.safe_pickle import safe_load

POSE_EXTENSIONS = (".pose", ".npy", ".npz")
FEATURE_EXTENSIONS = (".npy", ".npz", ".pt", ".pkl")


@dataclass
class Record:
    """One training item: a sentence and the media file that signs it."""

    id: str
    text: str
    media: Path
    paraphrases: list[str] = field(default_factory=list)
    glosses: list[str] | None = None
    signer: str | None = None
    extra: dict = field(default_factory=dict)


def find_media(folder: Path, name: str, split: str | None, extensions: Sequence[str]) -> Path | None:
    """``folder/<split>/<name>.<ext>`` or ``folder/<name>.<ext>``, first extension that exists."""
    candidates = ([folder / split] if split else []) + [folder]
    for base in candidates:
        for ext in extensions:
            path = base / f"{name}{ext}"
            if path.is_file():
                return path
    return None


def _attach_media(rows: list[tuple[str, str]], media: Path, split: str | None, extensions: Sequence[str],
                  skip_missing: bool, source: Path) -> list[Record]:
    media = Path(media)
    if not media.is_dir():
        raise InputError(media, "media folder not found")
    records, missing = [], []
    for name, text in rows:
        path = find_media(media, name, split, extensions)
        if path is None:
            missing.append(name)
            continue
        records.append(Record(id=name, text=text, media=path))
    if missing and not skip_missing:
        raise InputError(media, f"no media file for {len(missing)} of {len(rows)} items of {source.name} "
                                f"(first: {missing[0]} with extension {'/'.join(extensions)}); pass skip_missing to drop them")
    if not records:
        raise InputError(source, "no items with media")
    return records


def _read_text(path: Path) -> str:
    if not path.is_file():
        raise InputError(path, "annotation file not found")
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as err:
        raise InputError(path, f"not UTF-8 text ({err})") from None


def _delimited(path: Path, delimiter: str, required: Sequence[str]) -> list[dict]:
    rows = list(csv.DictReader(_read_text(path).splitlines(), delimiter=delimiter, quoting=csv.QUOTE_NONE))
    if not rows:
        raise InputError(path, "no rows")
    header = [h.strip() for h in rows[0].keys() if h is not None]
    absent = [c for c in required if c not in header]
    if absent:
        raise InputError(path, f"missing column(s) {', '.join(absent)} (found: {', '.join(header)})")
    return [{(k or "").strip(): (v or "").strip() for k, v in row.items()} for row in rows]


def load_phoenix(root: Path, split: str, media: Path, extensions: Sequence[str], skip_missing: bool = False) -> list[Record]:
    path = Path(root) / f"PHOENIX-2014-T.{split}.corpus.csv"
    rows = _delimited(path, "|", ["name", "speaker", "translation"])
    records = _attach_media([(r["name"], r["translation"]) for r in rows], media, split, extensions, skip_missing, path)
    speakers = {r["name"]: r["speaker"] for r in rows}
    for rec in records:
        rec.signer = speakers.get(rec.id)
        rec.glosses = None
    return records


def load_how2sign(root: Path, split: str, media: Path, extensions: Sequence[str], skip_missing: bool = False) -> list[Record]:
    path = Path(root) / f"how2sign_realigned_{split}.csv"
    rows = _delimited(path, "\t", ["SENTENCE_NAME", "SENTENCE"])
    return _attach_media([(r["SENTENCE_NAME"], r["SENTENCE"]) for r in rows], media, split, extensions, skip_missing, path)


def load_csl(root: Path, split: str, media: Path, extensions: Sequence[str], skip_missing: bool = False,
             split_file: str = "split_1.txt", sentences: str = "csl2020ct_v2.pkl") -> list[Record]:
    root = Path(root)
    split_path = root / split_file
    names = [r["Name"] for r in _delimited(split_path, "|", ["Name", "split"]) if r["split"] == split]
    if not names:
        raise InputError(split_path, f"no items in split {split!r}")
    info = safe_load(root / sentences)
    entries = info.get("info") if isinstance(info, dict) else info
    if not isinstance(entries, list):
        raise InputError(root / sentences, "expected a dict with an 'info' list of items")
    texts = {}
    for entry in entries:
        if isinstance(entry, dict) and "name" in entry:
            chars = entry.get("label_char") or entry.get("label_word") or entry.get("text") or ""
            texts[str(entry["name"])] = "".join(chars) if isinstance(chars, (list, tuple)) else str(chars)
    unknown = [n for n in names if n not in texts]
    if unknown:
        raise InputError(root / sentences, f"no sentence for {len(unknown)} items of the split (first: {unknown[0]})")
    return _attach_media([(n, texts[n]) for n in names], media, split, extensions, skip_missing, split_path)


def load_cico(path: Path, media: Path, extensions: Sequence[str], split: str | None = None, skip_missing: bool = False) -> list[Record]:
    path = Path(path)
    obj = safe_load(path)
    pairs: list[tuple[str, str]] = []
    if isinstance(obj, dict) and "names" in obj and "texts" in obj:
        pairs = list(zip(map(str, obj["names"]), map(str, obj["texts"])))
    elif isinstance(obj, dict):
        pairs = [(str(k), str(v)) for k, v in obj.items() if isinstance(v, str)]
    elif isinstance(obj, list):
        for entry in obj:
            if not isinstance(entry, dict):
                continue
            name = next((entry[k] for k in ("name", "video", "id") if k in entry), None)
            text = next((entry[k] for k in ("text", "sentence", "translation") if k in entry), None)
            if name is not None and text is not None:
                pairs.append((str(name), str(text)))
    if not pairs:
        raise InputError(path, "no (name, sentence) pairs found in the pickle")
    return _attach_media(pairs, media, split, extensions, skip_missing, path)


def load_jsonl(path: Path, media_key: str = "pose", skip_missing: bool = False) -> list[Record]:
    from ..inputs.references import read_jsonl

    path = Path(path)
    if not path.is_file():
        raise InputError(path, "manifest not found")
    records = []
    for number, row in enumerate(read_jsonl(path), 1):
        if "id" not in row or "text" not in row or media_key not in row:
            raise InputError(path, f"object {number} needs 'id', 'text' and '{media_key}'")
        media = (path.parent / row[media_key]).resolve()
        if not media.is_file():
            if skip_missing:
                continue
            raise InputError(media, f"media file of item {row['id']} (object {number}) not found")
        known = {"id", "text", media_key, "paraphrases", "glosses", "signer"}
        records.append(Record(
            id=str(row["id"]), text=str(row["text"]), media=media,
            paraphrases=[str(p) for p in row.get("paraphrases") or []],
            glosses=[str(g) for g in row["glosses"]] if row.get("glosses") is not None else None,
            signer=str(row["signer"]) if row.get("signer") is not None else None,
            extra={k: v for k, v in row.items() if k not in known},
        ))
    if not records:
        raise InputError(path, "manifest has no items")
    return records


LOADERS: dict[str, Callable[..., list[Record]]] = {
    "phoenix": load_phoenix,
    "csl": load_csl,
    "how2sign": load_how2sign,
    "cico": load_cico,
    "jsonl": load_jsonl,
}


def load_dataset(kind: str, *, root: str | Path | None = None, split: str | None = None, media: str | Path | None = None,
                 media_kind: str = "pose", manifest: str | Path | None = None, skip_missing: bool = False) -> list[Record]:
    """One split of a corpus as records. ``media_kind`` ``pose`` or ``i3d`` picks the extensions."""
    extensions = POSE_EXTENSIONS if media_kind == "pose" else FEATURE_EXTENSIONS
    if kind == "jsonl":
        if manifest is None:
            raise InputError(None, "a jsonl dataset needs 'manifest'")
        return load_jsonl(Path(manifest), "pose" if media_kind == "pose" else "features", skip_missing)
    if kind == "cico":
        if manifest is None or media is None:
            raise InputError(None, "a cico dataset needs 'manifest' (the pickled text file) and 'media'")
        return load_cico(Path(manifest), Path(media), extensions, split, skip_missing)
    if kind not in LOADERS:
        raise InputError(None, f"unknown dataset kind {kind!r} (known: {', '.join(LOADERS)})")
    if root is None or media is None or split is None:
        raise InputError(None, f"a {kind} dataset needs 'root', 'split' and 'media'")
    return LOADERS[kind](Path(root), split, Path(media), extensions, skip_missing=skip_missing)
