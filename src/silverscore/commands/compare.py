"""``silverscore compare A B``: paired significance of two systems' per-sample score files."""
from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..stats import approximate_randomization, paired_bootstrap


def read_score_file(path: str | Path) -> dict[str, float]:
    """id → score from a per-sample file written by ``silverscore score --out`` (JSONL/CSV/TSV)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "no such score file")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InputError(path, "not UTF-8 text") from None
    if path.suffix.lower() in (".csv", ".tsv"):
        reader = csv.DictReader(text.splitlines(), delimiter="\t" if path.suffix.lower() == ".tsv" else ",")
        if not reader.fieldnames or "id" not in reader.fieldnames or "score" not in reader.fieldnames:
            raise InputError(path, f"needs 'id' and 'score' columns (found: {', '.join(reader.fieldnames or []) or 'none'})")
        rows = list(reader)
    else:
        rows = []
        for number, line in enumerate(text.splitlines(), 1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError as err:
                    raise InputError(path, f"line {number} is not valid JSON ({err.msg})") from None
    scores: dict[str, float] = {}
    for number, row in enumerate(rows, 1):
        if not isinstance(row, dict) or "id" not in row or "score" not in row:
            raise InputError(path, f"row {number} lacks 'id' or 'score'")
        try:
            value = float(row["score"])
        except (TypeError, ValueError):
            raise InputError(path, f"row {number}: score {row['score']!r} is not a number") from None
        if not np.isfinite(value):
            raise InputError(path, f"row {number}: score is not finite")
        key = str(row["id"])
        if key in scores:
            raise InputError(path, f"duplicate id {key!r}")
        scores[key] = value
    if not scores:
        raise InputError(path, "score file is empty")
    return scores


def compare(path_a: str | Path, path_b: str | Path, n_boot: int = 1000, n_trials: int = 10000, seed: int = 0) -> dict:
    """Paired bootstrap and approximate randomisation of system A vs system B on shared ids."""
    a = read_score_file(path_a)
    b = read_score_file(path_b)
    if set(a) != set(b):
        only_a = sorted(set(a) - set(b))[:5]
        only_b = sorted(set(b) - set(a))[:5]
        raise InputError(path_b, f"ids differ from {path_a} (only in A: {only_a}, only in B: {only_b})")
    ids = sorted(a)
    va = np.array([a[i] for i in ids])
    vb = np.array([b[i] for i in ids])
    return {
        "n": len(ids),
        "a": str(path_a),
        "b": str(path_b),
        "paired_bootstrap": paired_bootstrap(va, vb, n_boot, seed),
        "approximate_randomization": approximate_randomization(va, vb, n_trials, seed),
        "seed": seed,
    }


def run(args: argparse.Namespace) -> int:
    print(json.dumps(compare(args.a, args.b, args.n_boot, args.trials, args.seed), indent=1))
    return 0


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "compare",
        help="paired significance test of two systems' per-sample scores",
        description="Compare two per-sample score files (from `silverscore score --out`) item by item: "
                    "paired bootstrap CI of the mean difference and paired approximate randomisation "
                    "(p = (c+1)/(n+1)).",
    )
    parser.add_argument("a", help="per-sample scores of system A (.jsonl/.csv/.tsv)")
    parser.add_argument("b", help="per-sample scores of system B")
    parser.add_argument("--n-boot", type=int, default=1000, help="bootstrap resamples (default 1000)")
    parser.add_argument("--trials", type=int, default=10000, help="randomisation trials (default 10000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.set_defaults(func=run)
