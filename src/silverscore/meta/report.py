"""Writing experiment outputs (JSON + Markdown + PNG) and assembling them into one report.

Every experiment writes ``<name>.json`` (the numbers and the signature), ``<name>.md`` (a short
Markdown section with its table and figure links) and ``<name>_*.png`` into one folder;
:func:`assemble_report` joins the sections in a fixed order into ``report.md``, so a folder of
results from separate commands and one from ``meta all`` produce the same report.
"""
from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Sequence

from .. import __version__
from ..errors import InputError
from ..io_utils import atomic_write

# Report order; sections with other names follow alphabetically.
SECTION_ORDER = [
    "paper", "discrimination", "reorder", "paraphrase", "prosody", "hard_negatives",
    "ranking", "correlation", "generalization",
]


def meta_signature(experiment: str, **params) -> str:
    """``silverscore-meta|exp:NAME|key:value…|v:VERSION``: what produced a result, reproducibly."""
    parts = [f"exp:{experiment}"] + [f"{k}:{v}" for k, v in params.items() if v is not None]
    return "|".join(["silverscore-meta", *parts, f"v:{__version__}"])


def _clean(value):
    """JSON-safe copy: numpy scalars to Python, NaN/inf to None (strict JSON has neither)."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def to_json(result: dict) -> str:
    return json.dumps(_clean(result), indent=2, ensure_ascii=False)


def fmt(value, digits: int = 4) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        if not math.isfinite(value):
            return "–"
        return f"{value:.{digits}f}"
    return str(value)


def markdown_table(header: Sequence[str], rows: Sequence[Sequence]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    for row in rows:
        lines.append("| " + " | ".join(fmt(c) if not isinstance(c, str) else c for c in row) + " |")
    return "\n".join(lines) + "\n"


def write_experiment(out_dir: str | Path, name: str, result: dict, markdown: str,
                     figures: Sequence[Path] = ()) -> dict[str, Path]:
    """Write ``name.json`` and ``name.md`` (figures, already written, are linked by file name)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path = out_dir / f"{name}.json"
    md_path = out_dir / f"{name}.md"
    with atomic_write(json_path) as handle:
        handle.write(to_json(result) + "\n")
    body = markdown.rstrip() + "\n"
    for figure in figures:
        figure = Path(figure)
        body += f"\n![{figure.stem}]({figure.name})\n"
    body += f"\n`{result.get('signature', '')}`\n"
    with atomic_write(md_path) as handle:
        handle.write(body)
    return {"json": json_path, "markdown": md_path}


def assemble_report(directory: str | Path, output: str | Path | None = None,
                    title: str = "SiLVERScore meta-evaluation") -> Path:
    """Join every ``*.md`` section of ``directory`` into one ``report.md`` (figures stay beside it)."""
    directory = Path(directory)
    if not directory.is_dir():
        raise InputError(directory, "not a folder of meta-evaluation results")
    output = Path(output) if output else directory / "report.md"
    sections = {p.stem: p for p in directory.glob("*.md") if p.resolve() != output.resolve() and p.stem != "report"}
    if not sections:
        raise InputError(directory, "no experiment sections (*.md) to assemble; run `silverscore meta <experiment> --out DIR` first")
    ordered = [n for n in SECTION_ORDER if n in sections] + sorted(n for n in sections if n not in SECTION_ORDER)
    parts = [f"# {title}\n", "Sections: " + ", ".join(ordered) + "\n"]
    relative = output.parent.resolve() != directory.resolve()
    for name in ordered:
        text = sections[name].read_text(encoding="utf-8")
        if relative:  # keep figure links valid when the report is written elsewhere
            prefix = Path(os.path.relpath(directory.resolve(), output.parent.resolve())).as_posix()
            text = text.replace("](", f"]({prefix}/")
        parts.append(text.rstrip() + "\n")
    with atomic_write(output) as handle:
        handle.write("\n".join(parts))
    return output
