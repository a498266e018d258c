"""I3D features from video: exactness against a straightforward per-window computation, windows,
pre-processing, the resumable `silverscore extract` runner, bad videos, torchrun, and scoring."""
from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

av = pytest.importorskip("av", reason="PyAV (extra 'video') is needed to read and write test videos")

from silverscore.cli import main as cli_main  # noqa: E402
from silverscore.errors import InputError  # noqa: E402
from silverscore.extract import extract_features, iter_clips, window_starts  # noqa: E402
from silverscore.inputs.video import preprocess, read_video_frames, resized_size  # noqa: E402
from silverscore.models.i3d import InceptionI3d, load_i3d  # noqa: E402

from i3d_fixtures import random_i3d  # noqa: E402

torch.set_num_threads(1)
REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


# ---------------------------------------------------------------------------------------------
# Test inputs: videos of moving shapes (PyAV) and random checkpoints in the bsl5k layout
# ---------------------------------------------------------------------------------------------
def write_video(path: Path, frames: int, width: int = 480, height: int = 360, seed: int = 0) -> Path:
    """H.264 video of a textured background with two moving rectangles."""
    rng = np.random.default_rng(seed)
    background = rng.integers(0, 120, size=(height, width, 3), dtype=np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for t in range(frames):
            img = background.copy()
            y, x = (height // 6 + 7 * t) % (height // 2), (width // 8 + 11 * t) % (width // 2)
            img[y:y + height // 3, x:x + width // 4] = (230, 60 + 5 * t % 190, 40)
            img[height // 2:height // 2 + 30, (width - 5 * t) % (width - 40):][:, :40] = (20, 200, 240)
            for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def write_bsl5k_checkpoint(path: Path, seed: int, classes: int = 5383) -> Path:
    """Random weights that keep activations O(1) (so a 1e-5 comparison means something), saved
    like bsl5k.pth.tar: legacy serialisation, {'state_dict'} wrapper, `module.` prefixes, head."""
    model = random_i3d(seed)
    state = {f"module.{k}": v for k, v in model.state_dict().items()}
    state["module.logits.conv3d.weight"] = torch.randn(classes, 1024, 1, 1, 1) * 0.01
    state["module.logits.conv3d.bias"] = torch.zeros(classes)
    torch.save({"epoch": 1, "arch": "InceptionI3d", "state_dict": state, "optimizer": {"state": {}, "param_groups": []}},
               path, _use_new_zipfile_serialization=False)
    return path


def render_synthetic_signing(path: Path, frames: int, size: int, seed: int) -> Path:
    """The synthetic language's own video rendering (``silverscore.synth.render_video``)."""
    from silverscore.synth import generate_corpus, render_video

    item = generate_corpus(1, seed=seed, split="test")[0]
    assert len(item.pose) >= frames
    render_video(item.pose[:frames], item.confidence[:frames], path, size=size)
    return path


@pytest.fixture(scope="module")
def assets(tmp_path_factory):
    root = tmp_path_factory.mktemp("video_assets")
    return {
        "agnostic": write_bsl5k_checkpoint(root / "bsl5k.pth.tar", seed=1),
        "aware": write_bsl5k_checkpoint(root / "aware.pth.tar", seed=2, classes=1000),
        # 2 windows at stride 1; 320 -> 256 exercises downscaling.
        "long": render_synthetic_signing(root / "long.mp4", 17, 320, seed=1),
        # Shorter than a window (last frame repeated); 200 -> 256 exercises upscaling.
        "short": render_synthetic_signing(root / "short.mp4", 10, 200, seed=2),
    }


# ---------------------------------------------------------------------------------------------
# The independent reference: decode with PyAV directly, resize by a hand-written bilinear,
# windows by CiCo's formula, one window per forward pass, blend in float64.
# ---------------------------------------------------------------------------------------------
def _bilinear_indices(n_out: int, n_in: int):
    src = np.maximum((np.arange(n_out) + 0.5) * (n_in / n_out) - 0.5, 0.0)
    i0 = np.minimum(np.floor(src).astype(int), n_in - 1)
    return i0, np.minimum(i0 + 1, n_in - 1), src - i0


def reference_preprocess(frame: np.ndarray) -> np.ndarray:
    """uint8 H×W×3 → float32 3×224×224, spec §3 written out directly."""
    h, w = frame.shape[:2]
    out_h, out_w = (256, int(256 * w / h)) if w > h else (int(256 * h / w), 256)
    img = frame.astype(np.float64) / 255.0
    y0, y1, wy = _bilinear_indices(out_h, h)
    x0, x1, wx = _bilinear_indices(out_w, w)
    rows = img[y0] * (1 - wy)[:, None, None] + img[y1] * wy[:, None, None]
    resized = rows[:, x0] * (1 - wx)[None, :, None] + rows[:, x1] * wx[None, :, None]
    top, left = int((out_h - 224) / 2), int((out_w - 224) / 2)
    crop = resized[top:top + 224, left:left + 224] - 0.5
    return crop.transpose(2, 0, 1).astype(np.float32)


def reference_features(video: Path, models: list[InceptionI3d], stride: int = 1) -> list[np.ndarray]:
    """Per model, ``n × 1024`` float64 features computed one window per forward pass."""
    with av.open(str(video)) as container:
        frames = [reference_preprocess(f.to_ndarray(format="rgb24")) for f in container.decode(video=0)]
    while len(frames) < 16:
        frames.append(frames[-1])
    count = len(frames)
    num_clips = math.ceil((count - 16) / stride) + 1
    rows = []
    for j in range(num_clips):
        start = j * stride if j * stride + 16 <= count else count - 16
        clip = torch.from_numpy(np.stack(frames[start:start + 16], axis=1))[None]
        with torch.no_grad():
            rows.append([model.eval()(clip)[0].double().numpy() for model in models])
    return [np.stack([row[k] for row in rows]) for k in range(len(models))]


ALPHA = 0.8


@pytest.fixture(scope="module")
def blended(assets):
    """Both streams, α = 0.8, two windows in one batch plus a short video."""
    return extract_features([assets["long"], assets["short"]], assets["agnostic"], assets["aware"], alpha=ALPHA,
                            stride=1, batch_size=2, progress=False)


@pytest.fixture(scope="module")
def short_single(assets):
    """The agnostic stream alone on the short video (what the runner tests expect in files)."""
    return extract_features([assets["short"]], assets["agnostic"], alpha=0.3, progress=False)[str(assets["short"])]


def test_features_equal_straightforward_per_window_computation(assets, blended, short_single):
    """Done-when: synthetic signing rendered as video, stride 1, a blended pair of streams, batched,
    and a video shorter than 16 frames (non-square frames: the pre-processing tests below)."""
    models = [load_i3d(assets["agnostic"]), load_i3d(assets["aware"])]
    for key, clips in (("long", 2), ("short", 1)):
        features = blended[str(assets[key])]
        assert features.dtype == np.float32 and features.shape == (clips, 1024)
        agnostic, aware = reference_features(assets[key], models)
        expected = ALPHA * agnostic + (1 - ALPHA) * aware
        assert np.abs(features - expected).max() <= 1e-5, key
        assert expected.std() > 1e-2  # the comparison is not between two near-zero arrays
        if key == "short":  # one stream: α is ignored
            assert short_single.shape == (1, 1024) and np.abs(short_single - agnostic).max() <= 1e-5
    long = blended[str(assets["long"])]
    assert np.abs(long[0] - long[1]).max() > 1e-3  # windows see different frames


@pytest.mark.parametrize("frames, stride, starts", [
    (16, 1, [0]),
    (10, 1, [0]),
    (18, 1, [0, 1, 2]),
    (20, 3, [0, 3, 4]),
    (22, 2, [0, 2, 4, 6]),
    (21, 2, [0, 2, 4, 5]),
    (40, 16, [0, 16, 24]),
])
def test_window_starts_follow_cico(frames, stride, starts):
    assert window_starts(frames, stride) == starts


@pytest.mark.parametrize("frames, stride, chunk", [(21, 2, 4), (18, 1, 16), (5, 1, 2), (40, 16, 7), (16, 3, 5)])
def test_streamed_clips_hold_the_right_frames(frames, stride, chunk):
    values = torch.arange(frames, dtype=torch.float32).view(frames, 1, 1, 1)
    chunks = [values[i:i + chunk] for i in range(0, frames, chunk)]
    clips = [clip.flatten().tolist() for clip in iter_clips(chunks, stride)]
    padded = list(range(frames)) + [frames - 1] * max(0, 16 - frames)
    expected = [[float(v) for v in padded[s:s + 16]] for s in window_starts(frames, stride)]
    assert clips == expected


@pytest.mark.parametrize("hw, expected", [((360, 480), (256, 341)), ((480, 360), (341, 256)),
                                          ((100, 100), (256, 256)), ((1080, 1920), (256, 455))])
def test_resized_size_truncates_the_long_side(hw, expected):
    assert resized_size(*hw) == expected


def test_preprocess_equals_written_out_reference_and_opencv():
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 256, size=(2, 360, 480, 3), dtype=np.uint8)
    got = preprocess(frames).numpy()
    assert got.shape == (2, 3, 224, 224) and got.dtype == np.float32
    for k in range(2):
        assert np.abs(got[k] - reference_preprocess(frames[k])).max() < 1e-6
    cv2 = pytest.importorskip("cv2", reason="OpenCV (CiCo's resizer) not installed")
    resized = cv2.resize(frames[0].astype(np.float32) / 255.0, (341, 256), interpolation=cv2.INTER_LINEAR)
    expected = resized[16:240, 58:282].transpose(2, 0, 1) - 0.5
    assert np.abs(got[0] - expected).max() < 1e-6


def test_pyav_frames_equal_opencv_frames(assets):
    cv2 = pytest.importorskip("cv2", reason="OpenCV (CiCo's decoder) not installed")
    capture = cv2.VideoCapture(str(assets["short"]))
    expected = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        expected.append(frame[:, :, ::-1])
    capture.release()
    got = read_video_frames(assets["short"])
    assert got.shape == (10, 200, 200, 3) and got.dtype == np.uint8
    assert np.array_equal(got, np.stack(expected))


# ---------------------------------------------------------------------------------------------
# `silverscore extract`: files, resuming, bad videos
# ---------------------------------------------------------------------------------------------
def _bad_videos(folder: Path, good: Path) -> dict[str, str]:
    """name -> a word the error message must contain."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "garbage.mp4").write_bytes(os.urandom(4096))
    (folder / "empty.mp4").write_bytes(b"")
    data = good.read_bytes()
    (folder / "truncated.mp4").write_bytes(data[: len(data) // 3])
    write_video(folder / "one_frame.mp4", 1, 160, 120)
    write_video(folder / "huge.mp4", 2, 640, 480)
    with av.open(str(folder / "no_frames.avi"), "w", format="avi") as container:  # a stream, no frames
        stream = container.add_stream("mpeg4", rate=25)
        stream.width, stream.height, stream.pix_fmt = 64, 64, "yuv420p"
        container.start_encoding()
    return {"garbage.mp4": "cannot open as a video", "empty.mp4": "cannot open as a video",
            "truncated.mp4": "cannot open as a video", "one_frame.mp4": "only 1 frame",
            "huge.mp4": "resolution 640x480 is over the limit", "no_frames.avi": "no decodable frames"}


def test_extract_command_writes_resumes_and_reports_bad_videos(assets, short_single, tmp_path, capsys):
    videos = tmp_path / "videos"
    (videos / "sub").mkdir(parents=True)
    (videos / "sub" / "short.mp4").write_bytes(assets["short"].read_bytes())
    bad = _bad_videos(videos, assets["short"])
    out = tmp_path / "out"
    args = ["extract", "--videos", str(videos), "--agnostic-ckpt", str(assets["agnostic"]), "--out", str(out),
            "--pkl", "--quiet", "--max-pixels", "200000"]
    assert cli_main(args) == 1
    err = capsys.readouterr().err
    assert "1 written, 0 already done, 6 failed" in err
    for name, word in bad.items():
        line = next(line for line in err.splitlines() if name in line)
        assert word in line, line
    written = np.load(out / "sub" / "short.npy", allow_pickle=False)
    expected = short_single
    assert written.dtype == np.float32 and np.array_equal(written, expected)
    from silverscore.inputs.safe_pickle import safe_load

    assert np.array_equal(safe_load(out / "sub" / "short.pkl")["feature"], expected)
    leftovers = [p.name for p in out.rglob("*") if p.is_file() and p.suffix not in (".npy", ".pkl", ".json")]
    assert leftovers == []
    assert not any((out / name).with_suffix(".npy").exists() for name in bad)
    assert sorted(p.name for p in out.rglob("*.npy")) == ["short.npy"]

    # Resuming skips what is done (the failures are retried and fail again).
    assert cli_main(args) == 1
    assert "0 written, 1 already done, 6 failed" in capsys.readouterr().err

    # Other settings into the same folder are refused before any work.
    assert cli_main(args + ["--stride", "2"]) == 2
    assert "different settings (stride)" in capsys.readouterr().err


def test_extract_command_input_errors(assets, tmp_path, capsys):
    empty = tmp_path / "none"
    empty.mkdir()
    assert cli_main(["extract", "--videos", str(empty), "--agnostic-ckpt", str(assets["agnostic"]),
                     "--out", str(tmp_path / "o"), "--quiet"]) == 2
    assert "no video files" in capsys.readouterr().err
    assert cli_main(["extract", "--videos", str(empty), "--agnostic-ckpt", str(tmp_path / "missing.pth.tar"),
                     "--out", str(tmp_path / "o"), "--quiet"]) == 2
    assert "missing.pth.tar" in capsys.readouterr().err
    with pytest.raises(InputError):
        extract_features([tmp_path / "absent.mp4"], assets["agnostic"], progress=False)
    errors: dict[str, str] = {}
    assert extract_features([tmp_path / "absent.mp4"], assets["agnostic"], progress=False, errors=errors) == {}
    assert "not found" in errors[str(tmp_path / "absent.mp4")]
    assert cli_main(["extract", "--videos", str(empty), "--agnostic-ckpt", str(assets["agnostic"]),
                     "--out", str(tmp_path / "o"), "--no-npy", "--quiet"]) == 2
    assert "nothing to write" in capsys.readouterr().err
    if not torch.cuda.is_available():
        with pytest.raises(InputError, match="CUDA"):
            extract_features([assets["short"]], assets["agnostic"], device="cuda", progress=False)


# ---------------------------------------------------------------------------------------------
# Scoring from videos and from the written files gives identical scores
# ---------------------------------------------------------------------------------------------
def test_scores_from_memory_and_from_files_are_identical(assets, blended, tmp_path):
    ckpt = SHARED / "parity" / "tiny_official_ckpt.pt"
    if not ckpt.is_file():
        pytest.skip("../shared/parity/tiny_official_ckpt.pt is absent (fresh clone without shared data)")
    from silverscore.api import Scorer
    from silverscore.extract import write_feature_files

    arrays = [blended[str(assets["long"])], blended[str(assets["short"])]]
    paths = []
    for name, array in zip(("long", "short"), arrays):
        write_feature_files(array, tmp_path / f"{name}.npy", tmp_path / f"{name}.pkl")
        paths.append(tmp_path / f"{name}.npy")
    refs = ["the weather is nice today", "tomorrow it will rain in the north"]
    scorer = Scorer(str(ckpt))
    in_memory = scorer.score(arrays, refs).scores
    assert np.array_equal(in_memory, scorer.score([str(p) for p in paths], refs).scores)
    assert np.array_equal(in_memory, scorer.score([str(p.with_suffix(".pkl")) for p in paths], refs).scores)


# ---------------------------------------------------------------------------------------------
# torchrun with 2 processes
# ---------------------------------------------------------------------------------------------
def _torchrun(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(REPO / "src"))
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", *args]
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=240)


def test_torchrun_two_processes_share_the_videos(assets, short_single, tmp_path):
    """2 ranks: the CLI runner shares the files; extract_features gathers results in memory."""
    videos = tmp_path / "videos"
    videos.mkdir()
    for name in ("a", "b"):
        (videos / f"{name}.mp4").write_bytes(assets["short"].read_bytes())
    out = tmp_path / "out"
    done = _torchrun(["-m", "silverscore.cli", "extract", "--videos", str(videos), "--agnostic-ckpt",
                      str(assets["agnostic"]), "--out", str(out), "--quiet"], tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stderr.count("extract: 2 written, 0 already done, 0 failed") == 1  # rank 0 reports the total
    for name in ("a", "b"):
        assert np.array_equal(np.load(out / f"{name}.npy"), short_single)

    # A caller that already runs under torchrun with its own process group (e.g. a scorer): each
    # rank computes its share and every rank receives all features.
    script = tmp_path / "job.py"
    script.write_text(
        "import os, sys, numpy as np, torch.distributed as dist\n"
        "from silverscore.extract import extract_features\n"
        "dist.init_process_group('gloo')\n"
        "got = extract_features(sys.argv[2:], sys.argv[1], progress=False)\n"
        "np.savez(f\"rank{os.environ['RANK']}.npz\", **{os.path.basename(k): v for k, v in got.items()})\n"
        "dist.destroy_process_group()\n"
    )
    done = _torchrun([str(script), str(assets["agnostic"]), str(videos / "a.mp4"), str(videos / "b.mp4")], tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    for rank in (0, 1):
        with np.load(tmp_path / f"rank{rank}.npz") as gathered:
            assert sorted(gathered.files) == ["a.mp4", "b.mp4"]
            for name in gathered.files:
                assert np.array_equal(gathered[name], short_single)
