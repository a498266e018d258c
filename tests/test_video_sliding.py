"""SlidingI3D (shared stem, frame-folded 2-D convolutions) against the plain InceptionI3d.

The reference is the straightforward computation: every window through ``InceptionI3d.forward``
on its own, in the default memory layout, with BatchNorm as a separate layer.
"""
from __future__ import annotations

import pytest
import torch

from silverscore.extract import I3DFeatureExtractor, iter_windows
from silverscore.models.i3d import InceptionI3d
from silverscore.models import i3d_sliding
from silverscore.models.i3d_sliding import SlidingI3D, _stem_steps

from i3d_fixtures import random_i3d

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def model() -> InceptionI3d:
    """Random weights with O(1) activations and non-trivial BatchNorm (so folding is exercised)."""
    return random_i3d(3)


@pytest.fixture(scope="module")
def frames() -> torch.Tensor:
    """22 pre-processed frames: smooth random motion, values in [−0.5, 0.5] like CiCo's input."""
    g = torch.Generator().manual_seed(0)
    base = torch.rand(3, 224, 224, generator=g)
    drift = torch.rand(3, 224, 224, generator=g)
    return torch.stack([(base + 0.05 * t * drift) % 1.0 - 0.5 for t in range(22)])


@pytest.fixture(scope="module")
def reference(model, frames) -> dict[int, torch.Tensor]:
    """Plain per-window features for every start the tests use."""
    with torch.inference_mode():
        return {s: model(frames[s:s + 16].permute(1, 0, 2, 3)[None])[0] for s in range(7)}


def test_stem_steps_follow_tf_same_padding():
    # 16 frames, kernel 7, stride 2: front padding 2, so step p reads frames 2p−2 … 2p+4.
    assert _stem_steps() == [(0, 2, 5), (0, 0, 7), (2, 0, 7), (4, 0, 7), (6, 0, 7), (8, 0, 7), (10, 0, 6), (12, 0, 4)]


@pytest.mark.parametrize("starts, trunk_batch", [
    (list(range(7)), 1),   # stride 1: full steps shared between windows
    (list(range(7)), 3),   # other trunk batches, same numbers
    ([0, 4, 6], 2),        # stride 4 with CiCo's moved-back last window
    ([5], 1),              # a single window
])
def test_sliding_features_equal_plain_network(model, frames, reference, starts, trunk_batch):
    got = SlidingI3D(model, trunk_batch=trunk_batch)(frames, starts)
    expected = torch.stack([reference[s] for s in starts])
    assert got.shape == (len(starts), 1024)
    assert (got - expected).abs().max().item() <= 1e-5
    assert expected.std().item() > 1e-2  # not a comparison of near-zero arrays


@pytest.mark.parametrize("tiles", [(), ((1, 2),), ((1, 4),)])
def test_sliding_features_equal_plain_network_with_each_convolution_kind(model, frames, reference, tiles, monkeypatch):
    # The default mixes direct, F(2×2, 3×3) and F(4×4, 3×3) convolutions by map size; here every
    # 3×3 convolution uses one kind: direct (no Winograd), or one Winograd tile size everywhere.
    monkeypatch.setattr(i3d_sliding, "WINOGRAD_TILES", tiles)
    starts = [0, 1, 2, 6]
    got = SlidingI3D(model)(frames, starts)
    expected = torch.stack([reference[s] for s in starts])
    assert (got - expected).abs().max().item() <= 1e-5


def test_streamed_windows_equal_one_call(model, frames, reference):
    """Windows from frame chunks (iter_windows), including a short video's padded window."""
    net = SlidingI3D(model, trunk_batch=2)
    chunks = [frames[i:i + 5] for i in range(0, 22, 5)]
    rows = torch.cat(list(net.stream(iter_windows(chunks, stride=3))))
    assert rows.shape == (3, 1024)  # starts 0, 3, 6
    assert (rows - torch.stack([reference[s] for s in (0, 3, 6)])).abs().max().item() <= 1e-5

    short = frames[:9]  # shorter than a window: its last frame repeats up to 16
    padded = torch.cat([short, short[-1:].expand(7, -1, -1, -1)])
    with torch.inference_mode():
        expected = model(padded.permute(1, 0, 2, 3)[None])[0]
    got = torch.cat(list(net.stream(iter_windows([short]))))
    assert (got[0] - expected).abs().max().item() <= 1e-5


def test_bad_calls_are_refused(model, frames):
    net = SlidingI3D(model)
    with pytest.raises(ValueError, match="ascending"):
        net(frames, [3, 1])
    with pytest.raises(ValueError, match="ascending"):
        net(frames, [7])  # 7 + 16 > 22 frames
    with pytest.raises(ValueError, match="frames"):
        net(frames[:, :, :100], [0])
    with pytest.raises(ValueError, match="eval"):
        SlidingI3D(InceptionI3d().train())


def test_extractor_shares_windows_on_cpu_at_small_strides(model):
    assert I3DFeatureExtractor(model, stride=1).share_windows
    assert I3DFeatureExtractor(model, stride=7).share_windows
    assert not I3DFeatureExtractor(model, stride=8).share_windows
    assert not I3DFeatureExtractor(model, stride=1, share_windows=False).share_windows


def test_extractor_shared_path_blends_two_streams(model, frames, reference):
    """shared_window_features with two streams equals α·agnostic + (1 − α)·aware, plain network."""
    aware = random_i3d(4)
    extractor = I3DFeatureExtractor(model, aware, alpha=0.3, batch_size=2, share_windows=False)
    windows = [(s, list(frames[s:s + 16])) for s in (0, 1, 2)]
    got = torch.cat(list(extractor.shared_window_features(windows)))
    with torch.inference_mode():
        other = torch.stack([aware(frames[s:s + 16].permute(1, 0, 2, 3)[None])[0] for s in (0, 1, 2)])
    expected = 0.3 * torch.stack([reference[s] for s in (0, 1, 2)]) + 0.7 * other
    assert got.shape == (3, 1024) and (got - expected).abs().max().item() <= 1e-5
