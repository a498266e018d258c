"""Winograd F(2×2, 3×3) and F(4×4, 3×3) on frame-folded maps against PyTorch's direct 3-D convolution."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from silverscore.models.winograd import conv3x3_time, winograd_kernels


def _direct(x: torch.Tensor, steps: int, weight: torch.Tensor, bias: torch.Tensor | None, relu: bool) -> torch.Tensor:
    """The same layer the plain way: unfold windows, ``conv3d`` with padding 1 in time and space."""
    n, c, h, w = x.shape
    clips = x.contiguous().view(n // steps, steps, c, h, w).permute(0, 2, 1, 3, 4)
    pad_t = weight.shape[2] // 2
    y = F.conv3d(clips, weight, bias, padding=(pad_t, 1, 1))
    y = y.permute(0, 2, 1, 3, 4).reshape(n, -1, h, w)
    return F.relu(y) if relu else y


@pytest.mark.parametrize("windows, steps, channels, out_channels, h, w, taps", [
    (1, 8, 5, 7, 28, 28, 3),   # one window, the trunk's first map size
    (3, 4, 6, 4, 14, 14, 3),   # several windows: no tap may read across a window boundary
    (2, 1, 3, 5, 6, 10, 3),    # one step per window: only the centre tap meets real steps
    (2, 3, 4, 6, 8, 4, 1),     # a 1×3×3 kernel, non-square maps
    (1, 4, 3, 5, 7, 9, 3),     # sizes that are not whole tiles: the outputs are cropped
])
@pytest.mark.parametrize("relu", [False, True])
@pytest.mark.parametrize("tile", [2, 4])
def test_winograd_equals_direct_convolution(windows, steps, channels, out_channels, h, w, taps, relu, tile):
    g = torch.Generator().manual_seed(windows * 100 + steps * 10 + taps)
    x = torch.randn(windows * steps, channels, h, w, generator=g, dtype=torch.float64)
    weight = torch.randn(out_channels, channels, taps, 3, 3, generator=g, dtype=torch.float64)
    bias = torch.randn(out_channels, generator=g, dtype=torch.float64)
    expected = _direct(x, steps, weight, bias, relu)

    got64 = conv3x3_time(x.contiguous(memory_format=torch.channels_last), steps,
                         winograd_kernels(weight, tile).double(), bias, relu)
    # The kernels are stored in float32, so float64 inputs agree to float32 rounding of the kernels.
    assert got64.shape == expected.shape
    assert got64.is_contiguous(memory_format=torch.channels_last)
    assert (got64 - expected).abs().max().item() <= 1e-5 * expected.abs().max().item()

    got32 = conv3x3_time(x.float().contiguous(memory_format=torch.channels_last), steps,
                         winograd_kernels(weight.float(), tile), bias.float(), relu)
    assert (got32.double() - expected).abs().max().item() <= 1e-5 * expected.abs().max().item()
    assert expected.abs().max().item() > 1.0


@pytest.mark.parametrize("tile", [2, 4])
def test_winograd_exact_in_float64_with_exact_kernels(tile):
    # With float64 kernels the transforms are the algebra of F(m×m, 3×3), so the result is the
    # direct convolution to float64 rounding: a wrong transform entry would show up far above it.
    g = torch.Generator().manual_seed(7)
    x = torch.randn(4, 3, 12, 12, generator=g, dtype=torch.float64)
    weight = torch.randn(2, 3, 3, 3, 3, generator=g, dtype=torch.float64)
    from silverscore.models import winograd
    matrix = torch.tensor(winograd._G[tile], dtype=torch.float64)
    kernels = torch.einsum("ai,octij,bj->tabco", matrix, weight, matrix).reshape(3, (tile + 2) ** 2, 3, 2)
    got = conv3x3_time(x.contiguous(memory_format=torch.channels_last), 4, kernels.contiguous())
    assert (got - _direct(x, 4, weight, None, False)).abs().max().item() < 1e-12


def test_winograd_refuses_bad_shapes():
    kernels = winograd_kernels(torch.randn(2, 3, 3, 3, 3))
    with pytest.raises(ValueError, match="tile size"):
        winograd_kernels(torch.randn(2, 3, 3, 3, 3), tile=3)
    with pytest.raises(ValueError, match="whole windows"):
        conv3x3_time(torch.randn(5, 3, 8, 8), 4, kernels)
    with pytest.raises(ValueError, match="input channels"):
        conv3x3_time(torch.randn(4, 5, 8, 8), 4, kernels)

