"""Writing and reading synthetic datasets on disk: ``manifest.jsonl`` plus ``poses/<id>.pose``.

A manifest row has at least ``id``, ``text`` and ``pose`` (relative to the manifest), the same
convention as the scorer's reference files, so a manifest can be passed to the scorer as is.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Callable, Iterable

from ..errors import InputError
from ..io_utils import atomic_write
from .posefile import write_pose


def write_manifest(path: str | Path, rows: Iterable[dict]) -> None:
    with atomic_write(path) as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")


def write_items(directory: str | Path, items: Iterable, row: Callable | None = None,
                video: bool = False, progress: str | None = None) -> list[dict]:
    """Write items' poses under ``directory/poses`` and ``directory/manifest.jsonl``.

    ``row(item, pose_path)`` builds the manifest row (default: ``item.manifest_row``). With
    ``video`` an ``.mp4`` rendering is written beside each pose and named in ``video``.
    """
    directory = Path(directory)
    rows = []
    items = list(items)
    iterator = items
    if progress:
        from tqdm import tqdm
        iterator = tqdm(items, desc=progress, unit="item")
    for item in iterator:
        if item.pose is None:
            raise ValueError(f"item {item.id} has no pose (render it first)")
        pose_rel = f"poses/{item.id}.pose"
        write_pose(directory / pose_rel, item.pose, item.confidence, item.fps)
        data = row(item, pose_rel) if row else item.manifest_row(pose_rel)
        if video:
            from .video import render_video
            video_rel = f"videos/{item.id}.mp4"
            render_video(item.pose, item.confidence, directory / video_rel, item.fps)
            data["video"] = video_rel
        rows.append(data)
    write_manifest(directory / "manifest.jsonl", rows)
    return rows


def read_manifest(path: str | Path) -> list[dict]:
    """Rows of a ``manifest.jsonl`` (a directory means its ``manifest.jsonl``)."""
    path = Path(path)
    if path.is_dir():
        path = path / "manifest.jsonl"
    if not path.exists():
        raise InputError(path, "no such manifest")
    rows = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as err:
                raise InputError(path, f"line {number} is not JSON ({err.msg})") from None
    return rows
