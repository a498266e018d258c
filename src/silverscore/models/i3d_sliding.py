"""I3D features of many overlapping windows of one video, sharing the work the windows have in common.

Why this exists: at CiCo's stride 1, window ``s`` and window ``s + 1`` share 15 of their 16
frames, yet the official approach pushes every window through the whole network on its own. On a
GPU, batching windows is enough (the device is otherwise idle); on a CPU the convolutions are
compute-bound, so batching gains little (docs/video.md) and the only ways to go faster are to
compute less and to avoid slow kernels. This module does both, for the same numbers as
:meth:`InceptionI3d.forward` up to float rounding order (tests check ≤ 1e-5 against the plain
network, window by window):

* **Frame-folded 2-D maps.** Activations of ``B`` windows × ``T`` time steps are one
  ``(B·T)×C×H×W`` tensor in the channels-last layout. A 3-D convolution with temporal kernel 3
  (stride 1, TF "same" zero padding) is one 2-D convolution per temporal tap, added over shifted
  time steps; the zero-padded steps simply contribute nothing, so no padded copies are made and no
  multiply-adds are spent on zeros. Max-pools run as a max over time slices followed by a 2-D
  max-pool (PyTorch's 3-D max-pool on CPU is several times slower, and every pooled tensor comes
  out of a ReLU, so padding with zeros or ignoring the padding gives the same maximum). BatchNorm
  (eval mode) is folded into each convolution's weights and bias.
* **A shared stem.** Conv3d_1a (7×7×7, stride 2) turns a 16-frame window into 8 time steps; step
  ``p`` reads frames ``2p − 2 … 2p + 4`` of the window. Steps 1–5 read no padding, so their value
  depends only on the video frame at their centre, ``s + 2p + 1``: windows whose steps share a centre
  share the step (a "full" step, computed once per centre). Steps 0, 6 and 7 read padding and are
  computed per window from the frames they read, with the taps that meet real frames ("edge"
  steps). MaxPool3d_2a and Conv3d_2b act on each step alone, so they too run once per distinct
  step. Conv3d_2c (3×3×3) then runs one 2-D convolution per tap on the distinct steps, and each
  window's 8 outputs are sums of the taps of its own steps. From MaxPool3d_3a on, every activation
  depends on the window's padding, so the rest of the network runs per window (in batches).
* **Fewer multiply-adds in the 3×3 convolutions.** From Conv3d_2c on, the 3×3×3 convolutions on
  maps of 7×7 and more run as Winograd convolutions (:mod:`.winograd`; F(4×4, 3×3) on 56×56 and
  28×28 maps, F(2×2, 3×3) on 14×14 and 7×7): 2.25 or 4 multiplications per output and tap
  instead of 9, the temporal taps added in the transformed domain.

At stride 1 this cuts Conv3d_1a from 56 to about 26 frame-taps per window and Conv3d_2c from 24 to
about 12 step-taps; together with the faster kernels, ``benchmarks/bench_i3d.py`` measures the gain.
"""
from __future__ import annotations

import math
from typing import Iterable, Iterator, Sequence

import torch
import torch.nn.functional as F

from .i3d import CROP_SIZE, FEATURE_DIM, WINDOW_FRAMES, InceptionBlock, InceptionI3d, Unit3D, same_padding
from .winograd import conv3x3_time, transform_input, transform_output, winograd_kernels

_CHANNELS_LAST = torch.channels_last

#: Winograd tile size for the 3×3×3 convolutions (Conv3d_2c and the inception blocks), by the
#: smallest map side it applies from (:mod:`.winograd`). Measured on one CPU core against the
#: direct convolution: on the 28×28 maps of Mixed_3b/3c F(4×4, 3×3) is 2.2× faster (F(2×2, 3×3)
#: 1.1–1.4×), and Conv3d_2c's 56×56 maps took the stem from 100 to 81 ms per window; on 14×14 and
#: 7×7 maps both tile sizes give 1.1–1.6× on the wide layers, and F(2×2, 3×3), the more
#: accurate, is used. Smaller maps stay with the direct convolution.
WINOGRAD_TILES = ((28, 4), (7, 2))


def _winograd_tile(side: int) -> int | None:
    return next((tile for smallest, tile in WINOGRAD_TILES if side >= smallest), None)


class _FoldedConv:
    """A :class:`Unit3D` in eval mode with BatchNorm folded in: ``kT`` 2-D kernels and one bias."""

    def __init__(self, unit: Unit3D):
        weight = unit.conv3d.weight.detach().float()
        bias = (unit.conv3d.bias.detach().float() if unit.conv3d.bias is not None
                else torch.zeros(weight.shape[0], device=weight.device))
        if unit.bn is not None:
            bn = unit.bn
            scale = bn.weight.detach().float() / torch.sqrt(bn.running_var.detach().float() + bn.eps)
            weight = weight * scale.view(-1, 1, 1, 1, 1)
            bias = (bias - bn.running_mean.detach().float()) * scale + bn.bias.detach().float()
        self.weight = weight  # O × C × kT × kH × kW (the stem stacks Conv3d_1a's temporal taps)
        self.taps = [weight[:, :, k].contiguous(memory_format=_CHANNELS_LAST) for k in range(weight.shape[2])]
        self.bias = bias
        # C × O, for 1×1×1 kernels run as a matrix product.
        self.matrix = weight.reshape(weight.shape[0], -1).t().contiguous() if unit.kernel == (1, 1, 1) else None
        self._winograd: dict[int, torch.Tensor] = {}
        self.relu = unit.relu
        if tuple(unit.stride) != (1, 1, 1) and unit.kernel != (7, 7, 7):
            raise ValueError(f"unsupported strided convolution {unit.kernel} / {unit.stride}")

    def winograd(self, tile: int) -> torch.Tensor:
        """Transformed 3×3×3 kernels for Winograd tile size ``tile``, computed on first use.

        Lazily, because a layer only ever meets one map size: transforming every layer for every
        tile size up front held ~220 MB of kernels that were never used.
        """
        if tile not in self._winograd:
            self._winograd[tile] = winograd_kernels(self.weight, tile)
        return self._winograd[tile]


def _fold(x5: torch.Tensor) -> torch.Tensor:
    """``B×T×C×H×W`` (a view of folded maps) → ``(B·T)×C×H×W`` channels-last, copying only if needed."""
    b, t, c, h, w = x5.shape
    try:
        folded = x5.view(b * t, c, h, w)
        if folded.is_contiguous(memory_format=_CHANNELS_LAST):
            return folded
    except RuntimeError:
        pass
    out = torch.empty((b * t, c, h, w), dtype=x5.dtype, device=x5.device, memory_format=_CHANNELS_LAST)
    out.view(b, t, c, h, w).copy_(x5)
    return out


def _unfold(x: torch.Tensor, t: int) -> torch.Tensor:
    return x.view(x.shape[0] // t, t, *x.shape[1:])


def _pointwise(x: torch.Tensor, conv: _FoldedConv) -> torch.Tensor:
    """1×1×1 convolution as one matrix product over all positions (channels-last rows).

    PyTorch's CPU ``conv2d`` picks a slow im2col path for 1×1 kernels on small maps; a GEMM on the
    ``(N·H·W)×C`` view of a channels-last tensor is the same sum without copies.
    """
    n, c, h, w = x.shape
    rows = x.permute(0, 2, 3, 1).reshape(n * h * w, c)
    y = torch.addmm(conv.bias, rows, conv.matrix)
    if conv.relu:
        F.relu_(y)
    return y.view(n, h, w, -1).permute(0, 3, 1, 2)


def _conv_time3(x: torch.Tensor, t: int, conv: _FoldedConv) -> torch.Tensor:
    """3×3×3 convolution, stride 1, "same" zero padding, on folded maps of ``t`` steps per window.

    Maps large enough for :data:`WINOGRAD_TILES` go through Winograd (fewer multiply-adds,
    :mod:`.winograd`); others through one direct 2-D convolution per temporal tap.
    """
    tile = _winograd_tile(min(x.shape[2:]))
    if tile is not None:
        return conv3x3_time(x, t, conv.winograd(tile), conv.bias, conv.relu)
    x = x.contiguous(memory_format=_CHANNELS_LAST)
    out = F.conv2d(x, conv.taps[1], conv.bias, padding=1)
    if t > 1:
        x5, out5 = _unfold(x, t), _unfold(out, t)
        # Tap 0 reads the previous step (nothing before step 0), tap 2 the next one.
        out5[:, 1:] += _unfold(F.conv2d(_fold(x5[:, :-1]), conv.taps[0], padding=1), t - 1)
        out5[:, :-1] += _unfold(F.conv2d(_fold(x5[:, 1:]), conv.taps[2], padding=1), t - 1)
    return F.relu_(out) if conv.relu else out


def _max_pool(x: torch.Tensor, t: int, kernel: Sequence[int], stride: Sequence[int]) -> tuple[torch.Tensor, int]:
    """TF-"same" max-pool on folded maps of non-negative values: a max over time, then in 2-D."""
    kt, kh, kw = kernel
    st, sh, sw = stride
    if kt > 1 or st > 1:
        front, _ = same_padding(t, kt, st)
        t_out = math.ceil(t / st)
        x5 = _unfold(x, t)
        pooled = torch.empty((x5.shape[0] * t_out, *x.shape[1:]), dtype=x.dtype, device=x.device,
                             memory_format=_CHANNELS_LAST)
        pooled5 = _unfold(pooled, t_out)
        for i in range(t_out):
            lo, hi = max(i * st - front, 0), min(i * st - front + kt, t)
            torch.amax(x5[:, lo:hi], dim=1, out=pooled5[:, i]) if hi - lo > 1 else pooled5[:, i].copy_(x5[:, lo])
        x, t = pooled, t_out
    h, w = x.shape[2:]
    (fh, bh), (fw, bw) = same_padding(h, kh, sh), same_padding(w, kw, sw)
    expected = (math.ceil(h / sh), math.ceil(w / sw))
    if (kh, kw) != (1, 1) or (sh, sw) != (1, 1):
        if fh == bh and fw == bw:
            y = F.max_pool2d(x, (kh, kw), (sh, sw), padding=(fh, fw))
        else:  # one more zero row/column at the back: PyTorch's ceil mode adds that window
            y = F.max_pool2d(x, (kh, kw), (sh, sw), padding=(fh, fw), ceil_mode=True)
        if tuple(y.shape[2:]) != expected:
            y = F.max_pool2d(F.pad(x, (fw, bw, fh, bh)), (kh, kw), (sh, sw))
        x = y
    return x.contiguous(memory_format=_CHANNELS_LAST), t


class _Block:
    """An :class:`InceptionBlock` on folded maps.

    The three 1×1×1 convolutions that read the block's input (branches 0, 1 and 2) run as one
    matrix product with their weights side by side: one pass over the input instead of three.
    """

    def __init__(self, block: InceptionBlock):
        self.b0, self.b1a, self.b1b = _FoldedConv(block.b0), _FoldedConv(block.b1a), _FoldedConv(block.b1b)
        self.b2a, self.b2b, self.b3b = _FoldedConv(block.b2a), _FoldedConv(block.b2b), _FoldedConv(block.b3b)
        heads = (self.b0, self.b1a, self.b2a)
        self.matrix = torch.cat([conv.matrix for conv in heads], dim=1).contiguous()
        self.bias = torch.cat([conv.bias for conv in heads])
        self.widths = [conv.matrix.shape[1] for conv in heads]

    def __call__(self, x: torch.Tensor, t: int) -> torch.Tensor:
        n, c, h, w = x.shape
        pooled, _ = _max_pool(x, t, (3, 3, 3), (1, 1, 1))
        heads = F.relu_(torch.addmm(self.bias, x.permute(0, 2, 3, 1).reshape(n * h * w, c), self.matrix))
        b0, b1, b2 = (part.view(n, h, w, -1).permute(0, 3, 1, 2) for part in heads.split(self.widths, dim=1))
        branches = [
            b0,
            _conv_time3(b1, t, self.b1b),
            _conv_time3(b2, t, self.b2b),
            _pointwise(pooled, self.b3b),
        ]
        return torch.cat(branches, dim=1).contiguous(memory_format=_CHANNELS_LAST)


def _stem_steps(window: int = WINDOW_FRAMES) -> list[tuple[int, int, int]]:
    """Per output step of Conv3d_1a: (first real frame, first tap, number of taps) in the window."""
    front, _ = same_padding(window, 7, 2)
    steps = []
    for p in range(math.ceil(window / 2)):
        first = 2 * p - front
        lo, hi = max(first, 0), min(first + 7, window)
        steps.append((lo, lo - first, hi - lo))
    return steps


class SlidingI3D:
    """Features of many windows of one frame sequence, with the shared stem (see the module doc).

    Built from an :class:`InceptionI3d` in eval mode (its weights are copied, BatchNorm folded);
    call with the pre-processed frames ``F×3×224×224`` and the window starts (each ``s + 16 ≤ F``).
    ``trunk_batch`` windows at a time go through the layers after the stem.
    """

    def __init__(self, model: InceptionI3d, trunk_batch: int = 1):
        if model.training:
            raise ValueError("SlidingI3D needs the model in eval() mode (BatchNorm running statistics)")
        self.conv1a = _FoldedConv(model.Conv3d_1a_7x7)
        self.conv2b = _FoldedConv(model.Conv3d_2b_1x1)
        self.conv2c = _FoldedConv(model.Conv3d_2c_3x3)
        # The stages after the stem, in the network's own order: inception blocks, and max-pools
        # as their (kernel, stride).
        stem_end = model.END_POINTS.index("Conv3d_2c_3x3")
        self.pool2a = (model.MaxPool3d_2a_3x3.kernel, model.MaxPool3d_2a_3x3.stride)
        self.stages = [_Block(stage) if isinstance(stage, InceptionBlock) else (stage.kernel, stage.stride)
                       for stage in (getattr(model, name) for name in model.END_POINTS[stem_end + 1:])]
        self.trunk_batch = int(trunk_batch)
        self.steps = _stem_steps()
        self.full_steps = [p for p, (_, tap, taps) in enumerate(self.steps) if tap == 0 and taps == 7]

    @torch.inference_mode()
    def __call__(self, frames: torch.Tensor, starts: Sequence[int]) -> torch.Tensor:
        """``len(starts)×1024`` features of the windows ``frames[s:s+16]`` (starts ascending)."""
        if frames.ndim != 4 or tuple(frames.shape[1:]) != (3, CROP_SIZE, CROP_SIZE):
            raise ValueError(f"expected frames F x 3 x {CROP_SIZE} x {CROP_SIZE}, got {tuple(frames.shape)}")
        starts = [int(s) for s in starts]
        if not starts or starts[0] < 0 or starts[-1] + WINDOW_FRAMES > len(frames) or starts != sorted(starts):
            raise ValueError(f"window starts {starts[:3]}… are not ascending starts of windows within {len(frames)} frames")
        frames = frames.float()
        return torch.cat(list(self.stream((s, frames[s:s + WINDOW_FRAMES]) for s in starts)))

    def stream(self, windows: Iterable[tuple[int, Sequence[torch.Tensor]]]) -> Iterator[torch.Tensor]:
        """Features of windows given in ascending start order as ``(start, its 16 frames)``.

        Yields ``B×1024`` feature rows (``B ≤ trunk_batch``) as windows complete, so a video of
        any length streams through with a bounded cache: a frame's entry is dropped once a window
        starts after it. ``frames[i]`` must be frame ``start + i`` (a short video padded by
        repeating its last frame is fine: the padding frames are just frames).
        """
        stem = self.stem()
        pending = []
        for start, frames in windows:
            pending.append(stem.window(start, frames))
            if len(pending) == self.trunk_batch:
                yield self.trunk(torch.cat(pending))
                pending = []
        if pending:
            yield self.trunk(torch.cat(pending))

    def stem(self) -> "_StemState":
        """A fresh shared stem for the windows of one frame sequence (see :meth:`stream`)."""
        return _StemState(self)

    @torch.inference_mode()
    def trunk(self, x: torch.Tensor) -> torch.Tensor:
        """Folded Conv3d_2c outputs of some windows (8 steps each) → their ``B×1024`` features."""
        t = len(self.steps)
        for stage in self.stages:
            if isinstance(stage, _Block):
                x = stage(x, t)
            else:
                x, t = _max_pool(x, t, *stage)
        # The head's (2, 7, 7) average pool: the mean over the window's 2 steps and 7 × 7 positions.
        x5 = _unfold(x, t)
        assert x5.shape[2] == FEATURE_DIM and t == WINDOW_FRAMES // 8
        return x5.mean(dim=(1, 3, 4))


class _StemState:
    """The shared stem for the windows of one frame sequence, visited in ascending order.

    Caches, keyed by absolute position and dropped once no later window can use them: each
    frame's Conv3d_1a response to all 7 temporal taps (one 2-D convolution with the taps stacked
    on the output channels), and each full step's three Conv3d_2c tap responses. No tensor here
    is over ~23 MB (one frame's responses), so the allocator reuses memory instead of mapping
    fresh pages each time.
    """

    def __init__(self, net: SlidingI3D):
        self.net = net
        conv = net.conv1a
        self.width1a = conv.weight.shape[0]
        # O × 3 × kT × kH × kW → (kT·O) × 3 × kH × kW: output block k is tap k.
        out_channels, in_channels, taps, kh, kw = conv.weight.shape
        self.stacked1a = (conv.weight.permute(2, 0, 1, 3, 4).reshape(taps * out_channels, in_channels, kh, kw)
                          .contiguous(memory_format=_CHANNELS_LAST))
        self.frame_taps: dict[int, torch.Tensor] = {}
        self.full_taps: dict[int, tuple[torch.Tensor, torch.Tensor, torch.Tensor]] = {}

    def _frame_responses(self, start: int, frames: Sequence[torch.Tensor]) -> None:
        """Convolve the window's frames not seen before, one frame at a time (~23 MB each)."""
        (fh, bh), (fw, bw) = same_padding(CROP_SIZE, 7, 2), same_padding(CROP_SIZE, 7, 2)
        for i, frame in enumerate(frames):
            if start + i not in self.frame_taps:
                padded = F.pad(frame.float()[None], (fw, bw, fh, bh)).contiguous(memory_format=_CHANNELS_LAST)
                self.frame_taps[start + i] = F.conv2d(padded, self.stacked1a, stride=2)[0]  # (7·64) × 112 × 112

    @torch.inference_mode()
    def window(self, start: int, frames: Sequence[torch.Tensor]) -> torch.Tensor:
        """Conv3d_2c's output (after ReLU) for the window at ``start``: ``8×192×56×56``.

        ``frames`` are the window's 16 pre-processed frames (``3×224×224`` each); only those
        not seen before are convolved.
        """
        if len(frames) != WINDOW_FRAMES:
            raise ValueError(f"a window has {WINDOW_FRAMES} frames, got {len(frames)}")
        net = self.net
        steps = net.steps
        for f in [f for f in self.frame_taps if f < start]:
            del self.frame_taps[f]
        centres = {p: start + steps[p][0] + 3 for p in net.full_steps}
        for c in [c for c in self.full_taps if c < min(centres.values())]:
            del self.full_taps[c]
        self._frame_responses(start, frames)

        # Conv3d_1a → MaxPool3d_2a → Conv3d_2b for the steps not seen yet: the edge steps and
        # the full steps whose centre is new.
        new = [p for p in range(len(steps)) if p not in centres or centres[p] not in self.full_taps]
        width = self.width1a
        sample = self.frame_taps[start]
        x = torch.empty((len(new), width, *sample.shape[1:]), dtype=sample.dtype, device=sample.device,
                        memory_format=_CHANNELS_LAST)
        for i, p in enumerate(new):
            lo, tap, taps = steps[p]
            responses = [self.frame_taps[start + lo + k - tap][k * width:(k + 1) * width] for k in range(tap, tap + taps)]
            torch.add(responses[0], responses[1], out=x[i])
            for response in responses[2:]:
                x[i].add_(response)
        x.add_(net.conv1a.bias.view(1, -1, 1, 1))
        F.relu_(x)
        x, _ = _max_pool(x, 1, *net.pool2a)
        x = _pointwise(x, net.conv2b)

        # Conv3d_2c, one 2-D convolution per temporal tap on the new steps; a step's tap 0
        # feeds the next step, tap 2 the previous one, so the first step needs no tap 2 and the
        # last no tap 0. `new` is ascending, so the steps a tap needs are a slice of it.
        conv = net.conv2c
        last = len(steps) - 1
        tile = _winograd_tile(min(x.shape[2:]))
        tiles = transform_input(x, tile) if tile is not None else None
        per_step = tiles.shape[1] // len(new) if tiles is not None else 0
        responses: dict[int, list] = {p: [None, None, None] for p in new}
        for k in range(3):
            lo = 1 if k == 2 and new[0] == 0 else 0
            hi = len(new) - 1 if k == 0 and new[-1] == last else len(new)
            if hi <= lo:
                continue
            bias = conv.bias if k == 1 else None
            if tiles is not None:
                products = torch.bmm(tiles[:, lo * per_step:hi * per_step], conv.winograd(tile)[k])
                y = transform_output(products, hi - lo, *x.shape[2:], tile, bias, relu=False)
            else:
                y = F.conv2d(x[lo:hi].contiguous(memory_format=_CHANNELS_LAST), conv.taps[k], bias, padding=1)
            for i, p in enumerate(new[lo:hi]):
                responses[p][k] = y[i]
        for p in new:
            if p in centres:
                self.full_taps[centres[p]] = tuple(responses[p])
        for p in centres:
            responses[p] = list(self.full_taps[centres[p]])

        out = torch.empty((len(steps), *responses[0][1].shape), dtype=x.dtype, device=x.device,
                          memory_format=_CHANNELS_LAST)
        for t in range(len(steps)):
            if t > 0:
                torch.add(responses[t][1], responses[t - 1][0], out=out[t])
            else:
                out[t].copy_(responses[t][1])
            if t < last:
                out[t].add_(responses[t + 1][2])
        return F.relu_(out)
