"""`silverscore score --videos` chains extraction and scoring: identical to scoring the files
that `silverscore extract` writes."""
import contextlib
import io
import json

import numpy as np
import pytest

from conftest import shared_path
from silverscore.cli import main

pytest.importorskip("av")
from test_video_extract import write_bsl5k_checkpoint, write_video  # noqa: E402  (the video tests' helpers)


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in args])
    return code, out.getvalue(), err.getvalue()


def test_score_from_videos_equals_score_from_extracted_files(tmp_path):
    ckpt = shared_path("parity", "tiny_official_ckpt.pt")
    videos = tmp_path / "videos"
    videos.mkdir()
    write_video(videos / "a.mp4", frames=20, width=96, height=80, seed=1)
    write_video(videos / "b.mp4", frames=9, width=80, height=96, seed=2)
    i3d = write_bsl5k_checkpoint(tmp_path / "bsl5k.pth.tar", seed=3, classes=7)
    refs = tmp_path / "refs.jsonl"
    refs.write_text(json.dumps({"id": "a", "text": "rain in the north"}) + "\n" + json.dumps({"id": "b", "text": "sunny"}) + "\n")

    code, _, err = run("extract", "--videos", videos, "--agnostic-ckpt", i3d, "--out", tmp_path / "feats", "--quiet")
    assert code == 0, err
    code, _, err = run("score", "--model", ckpt, "--hyps", tmp_path / "feats", "--refs", refs, "--out", tmp_path / "files.jsonl", "--quiet")
    assert code == 0, err
    code, _, err = run("score", "--model", ckpt, "--videos", videos, "--agnostic-ckpt", i3d, "--refs", refs,
                       "--out", tmp_path / "videos.jsonl", "--quiet")
    assert code == 0, err
    from_files = [json.loads(line) for line in (tmp_path / "files.jsonl").read_text().splitlines()]
    from_videos = [json.loads(line) for line in (tmp_path / "videos.jsonl").read_text().splitlines()]
    assert [r["id"] for r in from_videos] == ["a", "b"]
    assert [r["clips"] for r in from_videos] == [5, 1]  # 20 frames → 5 windows; 9 frames → 1 (repeat last)
    assert np.array_equal([r["score"] for r in from_files], [r["score"] for r in from_videos])
