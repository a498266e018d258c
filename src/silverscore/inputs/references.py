"""Reference sentences: JSONL (``{"id", "text"}`` per line), TSV/CSV with id and text columns,
or plain text (one sentence per line, ids ``1..N`` by line number).

A synthetic corpus's ``manifest.jsonl`` is a valid reference file as it is. Ids must be unique;
empty or whitespace-only sentences are kept (and flagged by the scorer) rather than dropped, so
the row count always matches the user's file.
"""
from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError


@dataclass(frozen=True)
class Reference:
    id: str
    text: str


def _read_text(path: Path) -> str:
    if not path.is_file():
        raise InputError(path, "no such reference file")
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise InputError(path, f"cannot read file ({err.strerror or err})") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise InputError(path, f"not UTF-8 text (invalid byte at offset {err.start})") from None


def read_jsonl(path: str | Path) -> list[dict]:
    """The objects of a JSON-lines file (blank lines skipped); a bad line is an error naming it.

    Shared by every JSONL reader of the package (references, synthetic manifests, datasets).
    """
    path = Path(path)
    rows = []
    for number, line in enumerate(_read_text(path).splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as err:
            raise InputError(path, f"line {number} is not valid JSON ({err.msg})") from None
        if not isinstance(row, dict):
            raise InputError(path, f"line {number} is not a JSON object")
        rows.append(row)
    return rows


def _from_jsonl(path: Path) -> list[Reference]:
    refs = []
    for number, row in enumerate(read_jsonl(path), 1):
        if "text" not in row:
            raise InputError(path, f"line {number} has no 'text' field")
        if not isinstance(row["text"], str):
            raise InputError(path, f"line {number}: 'text' must be a string")
        refs.append(Reference(str(row.get("id", number)), row["text"]))
    return refs


def _from_table(text: str, path: Path, delimiter: str) -> list[Reference]:
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    columns = reader.fieldnames or []
    if "text" not in columns or "id" not in columns:
        raise InputError(path, f"needs 'id' and 'text' columns (found: {', '.join(columns) or 'none'})")
    return [Reference(str(row["id"]), row["text"] or "") for row in reader]


def read_references(path: str | Path) -> list[Reference]:
    """Read a reference file in any of the supported layouts (chosen by extension)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".json"):
        refs = _from_jsonl(path)
    elif suffix in (".tsv", ".csv"):
        refs = _from_table(_read_text(path), path, "\t" if suffix == ".tsv" else ",")
    else:
        lines = _read_text(path).splitlines()
        while lines and not lines[-1].strip():  # a trailing newline is not an empty sentence
            lines.pop()
        refs = [Reference(str(i), line.rstrip("\r")) for i, line in enumerate(lines, 1)]
    if not refs:
        raise InputError(path, "reference file is empty")
    seen: set[str] = set()
    for ref in refs:
        if ref.id in seen:
            raise InputError(path, f"duplicate id {ref.id!r}")
        seen.add(ref.id)
    return refs
