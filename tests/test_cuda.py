"""`--device cuda`: the GPU gives the CPU's numbers (skipped on machines without CUDA, e.g. CI).

Each check computes the same thing on two devices through the public code paths and compares. The
helpers take the device pair as an argument, so ``test_device_helpers_run_on_cpu`` exercises them
on CPU alone wherever the suite runs (it cannot fail for device reasons, but it catches a broken
helper before a GPU machine is at hand).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from conftest import official_state

needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")

TEXTS = ["tomorrow it will rain in the north", "the shop is closed on monday",
         "my brother gives mary a book", "no", "i do not like coffee at all"]


def scores_on(device: str, ckpt: Path, precision: str = "fp32") -> np.ndarray:
    """Raw scores (κ = 1) of fixed random features against ``TEXTS`` with batches of 2."""
    from silverscore.api import Scorer

    scorer = Scorer(str(ckpt), device=device, precision=precision, batch_size=2, scale=1.0)
    rng = np.random.default_rng(0)
    feats = [rng.normal(size=(n, scorer.feature_dim)).astype(np.float32) for n in (3, 17, 40, 1, 9)]
    return np.asarray(scorer.score(feats, TEXTS).scores, dtype=np.float64)


def compare_scores(reference: str, other: str, tmp_path: Path) -> dict[str, float]:
    ckpt = tmp_path / "small_official.pth"
    torch.save(official_state(), ckpt)
    return {p: float(np.abs(scores_on(reference, ckpt, p) - scores_on(other, ckpt, p)).max()) for p in ("fp32", "fp16")}


def compare_features(reference: str, other: str, tmp_path: Path, batch_sizes=(1, 16), frames: int = 40) -> float:
    """Largest |difference| of blended I3D features (a ``frames``-frame and a 10-frame video)."""
    pytest.importorskip("av", reason="PyAV (extra 'video') writes and reads the test videos")
    from test_video_extract import write_bsl5k_checkpoint, write_video

    from silverscore.extract import extract_features

    videos = [write_video(tmp_path / "long.mp4", frames), write_video(tmp_path / "short.mp4", 10, seed=1)]
    agnostic = write_bsl5k_checkpoint(tmp_path / "agnostic.pth.tar", seed=0)
    aware = write_bsl5k_checkpoint(tmp_path / "aware.pth.tar", seed=1, classes=981)
    want = extract_features(videos, agnostic, aware, alpha=0.8, device=reference, batch_size=1, progress=False)
    worst = 0.0
    for b in batch_sizes:
        got = extract_features(videos, agnostic, aware, alpha=0.8, device=other, batch_size=b, progress=False)
        for key in want:
            assert got[key].shape == want[key].shape and got[key].dtype == np.float32
            worst = max(worst, float(np.abs(got[key] - want[key]).max()))
    return worst


def test_device_helpers_run_on_cpu(tmp_path):
    diffs = compare_scores("cpu", "cpu", tmp_path)
    assert diffs["fp32"] == 0.0 and diffs["fp16"] == 0.0


@needs_cuda
def test_scores_on_cuda_equal_cpu(tmp_path):
    diffs = compare_scores("cpu", "cuda", tmp_path)
    print(f"max |score difference| cuda vs cpu: {diffs}")
    assert diffs["fp32"] <= 5e-5  # the official fp32 parity tolerance
    assert diffs["fp16"] <= 5e-2  # fp16 rounding differs between CPU emulation and GPU kernels


@needs_cuda
def test_i3d_features_on_cuda_equal_cpu(tmp_path):
    worst = compare_features("cpu", "cuda", tmp_path)
    print(f"max |feature difference| cuda (batch 1 and 16) vs cpu: {worst:.2e}")
    assert worst <= 1e-5


def preprocess_difference(device: str) -> float:
    """Largest |difference| of CiCo pre-processing run on ``device`` vs on the CPU, over frame
    sizes whose resize ratios are not exact in binary (480x360 -> 341x256, 100x60, 1920x1080)."""
    from silverscore.inputs.video import preprocess

    rng = np.random.default_rng(0)
    worst = 0.0
    for h, w in ((360, 480), (60, 100), (1080, 1920), (256, 256)):
        frames = torch.from_numpy(rng.integers(0, 256, size=(3, h, w, 3), dtype=np.uint8))
        on_device = preprocess(frames.to(device))
        assert on_device.device.type == torch.device(device).type
        worst = max(worst, float((on_device.cpu() - preprocess(frames)).abs().max()))
    return worst


def test_preprocess_helper_runs_on_cpu():
    assert preprocess_difference("cpu") == 0.0


@needs_cuda
def test_preprocessing_on_cuda_gives_the_cpu_values():
    assert preprocess_difference("cuda") == 0.0  # gathers and correctly rounded float32 operations


@needs_cuda
def test_extraction_leaves_the_callers_tf32_setting_alone(tmp_path):
    from silverscore.extract import full_fp32_convolutions

    before = torch.backends.cudnn.allow_tf32
    torch.backends.cudnn.allow_tf32 = True
    try:
        with full_fp32_convolutions(torch.device("cuda")):
            assert torch.backends.cudnn.allow_tf32 is False
        assert torch.backends.cudnn.allow_tf32 is True
    finally:
        torch.backends.cudnn.allow_tf32 = before


@needs_cuda
def test_cli_extract_on_cuda_writes_the_cpu_features(tmp_path):
    pytest.importorskip("av", reason="PyAV (extra 'video') writes and reads the test videos")
    from test_video_extract import write_bsl5k_checkpoint, write_video

    from silverscore.cli import main as cli_main

    videos = tmp_path / "videos"
    write_video(videos / "a.mp4", 24)
    ckpt = write_bsl5k_checkpoint(tmp_path / "bsl5k.pth.tar", seed=0)
    for device in ("cpu", "cuda"):
        assert cli_main(["extract", "--videos", str(videos), "--agnostic-ckpt", str(ckpt),
                         "--out", str(tmp_path / device), "--device", device, "--quiet"]) == 0
    cpu, cuda = np.load(tmp_path / "cpu" / "a.npy"), np.load(tmp_path / "cuda" / "a.npy")
    assert cpu.shape == cuda.shape == (9, 1024)
    assert float(np.abs(cpu - cuda).max()) <= 1e-5
