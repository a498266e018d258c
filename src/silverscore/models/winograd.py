"""Winograd convolutions F(2×2, 3×3) and F(4×4, 3×3) for I3D's 3×3×3 layers on folded maps.

Pure tensor code, no I/O. Why this exists: on a CPU, oneDNN's direct 3×3 convolution already runs
at the core's peak multiply-add rate (docs/video.md), so the only way left to make the
shared-window path faster is to do fewer multiply-adds. Winograd's minimal filtering (Lavin &
Gray, 2016, "Fast Algorithms for Convolutional Neural Networks") computes an ``m×m`` block of
outputs of a 3×3 kernel from an ``(m+2)×(m+2)`` block of inputs:

    Y = Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d B) ] A

with ``(m+2)²`` multiplications instead of ``9m²``: 16 instead of 36 for ``m = 2``, 36 instead
of 144 for ``m = 4``. Over a layer, the element-wise product over tiles becomes ``(m+2)²`` matrix
products ``(tiles × C_in) @ (C_in × C_out)``. The temporal taps of a 3×3×3 kernel are three such
products added in the transformed domain (tap 0 reads the previous step, tap 2 the next; zero
padding in time contributes nothing), so each input step is transformed once and each output
step transformed back once.

The input and output transforms are a few additions with small integer factors, applied first
to rows, then to columns; the kernel transform (fractions) is computed once in float64. The
result equals the direct convolution up to float rounding (measured on I3D-sized layers in
float32, largest error over the largest output: ~1e-6 for F(2×2, 3×3), 3e-6 to 9e-6 for
F(4×4, 3×3), whose transforms have larger factors; tests compare against ``conv3d``).

Layout: activations are ``(N·T)×C×H×W`` in the channels-last memory format (``N`` windows of
``T`` steps folded into the batch dimension), as in :mod:`silverscore.models.i3d_sliding`.
"""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F

#: Kernel transforms G, by output tile size m (interpolation points 0, ±1, ∞ and 0, ±1, ±2, ∞).
_G = {
    2: ((1.0, 0.0, 0.0), (0.5, 0.5, 0.5), (0.5, -0.5, 0.5), (0.0, 0.0, 1.0)),
    4: ((1 / 4, 0.0, 0.0), (-1 / 6, -1 / 6, -1 / 6), (-1 / 6, 1 / 6, -1 / 6),
        (1 / 24, 1 / 12, 1 / 6), (1 / 24, -1 / 12, 1 / 6), (0.0, 0.0, 1.0)),
}
TILE_SIZES = tuple(_G)


def winograd_kernels(weight: torch.Tensor, tile: int = 2) -> torch.Tensor:
    """``O×C×kT×3×3`` kernels → ``kT×(tile+2)²×C×O`` transformed kernels ``G g Gᵀ`` (float32).

    Position ``(tile+2)·i + j`` is row ``i``, column ``j`` of the transformed tile.
    """
    if tile not in _G:
        raise ValueError(f"tile size must be one of {TILE_SIZES}, got {tile}")
    if weight.ndim != 5 or tuple(weight.shape[3:]) != (3, 3):
        raise ValueError(f"expected O x C x kT x 3 x 3 kernels, got {tuple(weight.shape)}")
    g = torch.tensor(_G[tile], dtype=torch.float64, device=weight.device)
    transformed = torch.einsum("ai,octij,bj->tabco", g, weight.detach().double(), g)
    out_channels, in_channels, taps = weight.shape[:3]
    return transformed.reshape(taps, (tile + 2) ** 2, in_channels, out_channels).float().contiguous()


def _input_1d(d: Sequence[torch.Tensor], out: Sequence[torch.Tensor]) -> None:
    """``out = Bᵀ d`` along one axis, for 4 (F(2, 3)) or 6 (F(4, 3)) inputs."""
    if len(d) == 4:  # Bᵀ = [[1, 0, −1, 0], [0, 1, 1, 0], [0, −1, 1, 0], [0, 1, 0, −1]]
        torch.sub(d[0], d[2], out=out[0])
        torch.add(d[1], d[2], out=out[1])
        torch.sub(d[2], d[1], out=out[2])
        torch.sub(d[1], d[3], out=out[3])
        return
    # Bᵀ rows: [4, 0, −5, 0, 1, 0], [0, −4, −4, 1, 1, 0], [0, 4, −4, −1, 1, 0],
    #          [0, −2, −1, 2, 1, 0], [0, 2, −1, −2, 1, 0], [0, 4, 0, −5, 0, 1]
    a = torch.add(d[4], d[2], alpha=-4)
    b = torch.add(d[3], d[1], alpha=-4)
    torch.add(a, b, out=out[1])
    torch.sub(a, b, out=out[2])
    c = torch.sub(d[4], d[2], out=a)  # a and b are used up: their memory is reused
    e = torch.sub(d[3], d[1], out=b)
    torch.add(c, e, alpha=2, out=out[3])
    torch.add(c, e, alpha=-2, out=out[4])
    torch.add(d[4], d[0], alpha=4, out=out[0]).add_(d[2], alpha=-5)
    torch.add(d[5], d[1], alpha=4, out=out[5]).add_(d[3], alpha=-5)


def _output_1d(m: Sequence[torch.Tensor], out: Sequence[torch.Tensor]) -> None:
    """``out = Aᵀ m`` along one axis, for 4 or 6 inputs (2 or 4 outputs)."""
    if len(m) == 4:  # Aᵀ = [[1, 1, 1, 0], [0, 1, −1, −1]]
        torch.add(m[0] + m[1], m[2], out=out[0])
        torch.sub(m[1] - m[2], m[3], out=out[1])
        return
    # Aᵀ rows: [1, 1, 1, 1, 1, 0], [0, 1, −1, 2, −2, 0], [0, 1, 1, 4, 4, 0], [0, 1, −1, 8, −8, 1]
    p, q = m[1] + m[2], m[1] - m[2]
    r, s = m[3] + m[4], m[3] - m[4]
    torch.add(m[0], p, out=out[0]).add_(r)
    torch.add(q, s, alpha=2, out=out[1])
    torch.add(p, r, alpha=4, out=out[2])
    torch.add(q, s, alpha=8, out=out[3]).add_(m[5])


def transform_input(x: torch.Tensor, tile: int) -> torch.Tensor:
    """``N×C×H×W`` channels-last → ``(tile+2)² × (N·⌈H/tile⌉·⌈W/tile⌉) × C`` transformed tiles.

    Tile ``(a, b)`` reads rows ``tile·a − 1 … tile·a + tile`` and the same columns (zero padding
    around the map, and up to a whole tile more at the bottom and right).
    """
    n, c, h, w = x.shape
    size = tile + 2
    th, tw = -(-h // tile), -(-w // tile)
    padded = F.pad(x.permute(0, 2, 3, 1), (0, 0, 1, tile * tw + 1 - w, 1, tile * th + 1 - h))
    rows = [padded[:, k::tile][:, :th] for k in range(size)]
    row_mixed = torch.empty((size, *rows[0].shape), dtype=x.dtype, device=x.device)
    _input_1d(rows, row_mixed)
    tiles = torch.empty((size, size, n, th, tw, c), dtype=x.dtype, device=x.device)
    for i in range(size):
        _input_1d([row_mixed[i][:, :, k::tile][:, :, :tw] for k in range(size)], tiles[i])
    return tiles.view(size * size, n * th * tw, c)


def transform_output(products: torch.Tensor, n: int, h: int, w: int, tile: int,
                      bias: torch.Tensor | None, relu: bool) -> torch.Tensor:
    """``(tile+2)² × tiles × O`` products → ``N×O×H×W`` channels-last ``Aᵀ m A`` (+ bias, ReLU).

    ``products`` are :func:`transform_input`'s tiles of ``n`` maps of ``h×w`` times transformed
    kernels (``torch.bmm(tiles, kernels[tap])``, summed over taps as the caller needs).
    """
    out_channels = products.shape[-1]
    size = tile + 2
    th, tw = -(-h // tile), -(-w // tile)
    m = products.view(size, size, n, th, tw, out_channels)
    row_sums = torch.empty((tile, size, n, th, tw, out_channels), dtype=products.dtype, device=products.device)
    _output_1d(m, row_sums)
    exact = (tile * th, tile * tw) == (h, w)
    full = torch.empty((n, out_channels, tile * th, tile * tw), dtype=products.dtype, device=products.device,
                       memory_format=torch.channels_last)
    blocks = full.permute(0, 2, 3, 1).view(n, th, tile, tw, tile, out_channels)
    for p in range(tile):
        _output_1d(row_sums[p], [blocks[:, :, p, :, q] for q in range(tile)])
    out = full if exact else full[:, :, :h, :w].contiguous(memory_format=torch.channels_last)
    if bias is not None:
        out.add_(bias.view(1, -1, 1, 1))
    return F.relu_(out) if relu else out


def conv3x3_time(x: torch.Tensor, steps: int, kernels: torch.Tensor, bias: torch.Tensor | None = None,
                 relu: bool = False) -> torch.Tensor:
    """A ``kT×3×3`` convolution (``kT`` = 1 or 3), stride 1, zero "same" padding, on folded maps.

    ``x`` is ``(N·steps)×C×H×W`` channels-last; ``kernels`` come from :func:`winograd_kernels`,
    whose tile size they carry. Returns ``(N·steps)×O×H×W`` channels-last, with ``bias`` added
    and a ReLU applied if asked.
    """
    n, c, h, w = x.shape
    if n % steps:
        raise ValueError(f"{n} folded maps are not whole windows of {steps} steps")
    taps, positions = kernels.shape[:2]
    tile = {(size + 2) ** 2: size for size in TILE_SIZES}.get(positions)
    if taps not in (1, 3) or tile is None or kernels.shape[2] != c:
        raise ValueError(f"kernels {tuple(kernels.shape)} do not fit {c} input channels")
    tiles = transform_input(x, tile)
    per_step = tiles.shape[1] // n
    centre = taps // 2
    products = torch.bmm(tiles, kernels[centre])
    if taps == 3 and steps > 1:
        span = (steps - 1) * per_step
        for start in range(0, n * per_step, steps * per_step):
            # Tap 0 reads the previous step (nothing before the first), tap 2 the next one.
            products[:, start + per_step:start + steps * per_step].baddbmm_(tiles[:, start:start + span], kernels[0])
            products[:, start:start + span].baddbmm_(tiles[:, start + per_step:start + steps * per_step], kernels[2])
    return transform_output(products, n, h, w, tile, bias, relu)
