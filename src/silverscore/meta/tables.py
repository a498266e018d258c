"""Read numeric score columns from a CSV/TSV table, skipping and counting unusable rows.

Any metric's scores can enter the meta-evaluation this way. A row where one of the requested
columns is empty or not a number is skipped (and counted, so the user sees how much data was
dropped); a column that does not exist is an error that lists the columns that do, because a
typo there would otherwise silently produce an empty comparison.
"""
from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import InputError


@dataclass
class ScoreColumns:
    """The kept values of each requested column (aligned), and what was dropped."""

    columns: dict[str, np.ndarray]
    skipped: int
    n_rows: int
    kept_rows: list[int] = field(default_factory=list)
    extra: dict[str, list[str]] = field(default_factory=dict)

    def __getitem__(self, name: str) -> np.ndarray:
        return self.columns[name]


def _parse_number(cell: str | None) -> float | None:
    if cell is None:
        return None
    cell = cell.strip()
    if not cell:
        return None
    try:
        value = float(cell)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def read_rows(path: str | Path) -> tuple[list[str], list[dict[str, str]]]:
    """Header and rows of a CSV (``,``) or TSV (``.tsv``/``.tab``: tab) file with a header line."""
    path = Path(path)
    delimiter = "\t" if path.suffix.lower() in {".tsv", ".tab"} else ","
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle, delimiter=delimiter)
            header = list(reader.fieldnames or [])
            rows = list(reader)
    except FileNotFoundError:
        raise InputError(path, "score table not found") from None
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise InputError(path, f"cannot read the table ({err})") from None
    if not header:
        raise InputError(path, "empty table: expected a header line naming the columns")
    return header, rows


def check_columns(path: str | Path, header: list[str], wanted: list[str]) -> None:
    """InputError naming the missing columns and the available ones."""
    missing = [name for name in wanted if name not in header]
    if missing:
        raise InputError(
            path,
            f"no column {', '.join(repr(m) for m in missing)}; the columns are: "
            + ", ".join(header),
        )


def read_score_columns(path: str | Path, numeric: list[str], text: list[str] | None = None) -> ScoreColumns:
    """Read the ``numeric`` columns (and optional ``text`` columns kept as strings).

    A row is kept only when every numeric column holds a finite number; text columns never cause
    a skip (an empty group label is a group like any other).
    """
    text = list(text or [])
    header, rows = read_rows(path)
    check_columns(path, header, list(numeric) + text)
    values: dict[str, list[float]] = {name: [] for name in numeric}
    strings: dict[str, list[str]] = {name: [] for name in text}
    kept: list[int] = []
    skipped = 0
    for index, row in enumerate(rows):
        parsed = [_parse_number(row.get(name)) for name in numeric]
        if any(value is None for value in parsed):
            skipped += 1
            continue
        for name, value in zip(numeric, parsed):
            values[name].append(value)
        for name in text:
            strings[name].append((row.get(name) or "").strip())
        kept.append(index)
    return ScoreColumns(
        columns={name: np.asarray(vals, dtype=np.float64) for name, vals in values.items()},
        skipped=skipped,
        n_rows=len(rows),
        kept_rows=kept,
        extra=strings,
    )
