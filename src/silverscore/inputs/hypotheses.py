"""Hypotheses: a folder of ``<id>.<ext>`` files, or a list file with one path per line.

A folder is matched to the references by id, and a mismatch in either direction is an error
that names the first few ids (silently scoring a subset would change a corpus score). A list
file is matched by position and must have as many lines as there are references.
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

from ..errors import InputError
from .references import Reference


def _listing(folder: Path, extensions: Sequence[str]) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for child in sorted(folder.iterdir()):
        if child.is_file() and child.suffix.lower() in extensions and not child.name.startswith("."):
            if child.stem in found:
                raise InputError(child, f"two hypothesis files for id {child.stem!r} ({found[child.stem].name}, {child.name})")
            found[child.stem] = child
    return found


def _few(ids) -> str:
    ids = sorted(ids)
    return ", ".join(ids[:5]) + (f" … ({len(ids)} in all)" if len(ids) > 5 else "")


def resolve_hypotheses(hyps: str | Path, refs: Sequence[Reference], extensions: Sequence[str]) -> list[Path]:
    """One hypothesis path per reference, in reference order."""
    hyps = Path(hyps)
    if hyps.is_dir():
        files = _listing(hyps, extensions)
        if not files:
            raise InputError(hyps, f"no hypothesis files ({', '.join(extensions)}) in this folder")
        ref_ids = {r.id for r in refs}
        extra = set(files) - ref_ids
        if extra:
            raise InputError(hyps, f"hypotheses without a reference: {_few(extra)}")
        missing = ref_ids - set(files)
        if missing:
            raise InputError(hyps, f"references without a hypothesis: {_few(missing)}")
        return [files[r.id] for r in refs]
    if not hyps.is_file():
        raise InputError(hyps, "no such hypothesis folder or list file")
    try:
        lines = [line.strip() for line in hyps.read_text(encoding="utf-8").splitlines() if line.strip()]
    except UnicodeDecodeError:
        raise InputError(hyps, "hypothesis list is not UTF-8 text") from None
    if len(lines) != len(refs):
        raise InputError(hyps, f"hypothesis list has {len(lines)} entries but there are {len(refs)} references")
    return [p if p.is_absolute() else hyps.parent / p for p in map(Path, lines)]
