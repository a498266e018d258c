"""InceptionI3d (RGB stream) as BSL-1K trains it and CiCo reuses it for clip features (spec §3).

Why it is written here rather than imported: the official SiLVERScore package builds the network
with the wrong head (981 classes where ``bsl5k.pth.tar`` has 5,383), so the real checkpoint fails to
load and the package silently keeps random weights. This module builds the same network with
attribute names matching the BSL-1K state dict (``Conv3d_1a_7x7.conv3d.weight``,
``Mixed_3b.b1b.bn.running_mean``, ...), loads it *strictly* through the project's safe loader
(:func:`silverscore.models.checkpoints.read_state_dict`: ``torch.load(weights_only=True)``, legacy
and zip formats, ``{'state_dict': ...}`` wrapper and ``module.`` prefixes), and stops at the
1024-d embedding: the classifier head (``logits.conv3d``) is checked for shape and dropped.

Numerics follow the TensorFlow original that BSL-1K ported: every convolution and max-pool pads
"same" with zeros, recomputed from the input size on each forward (total ``k − s`` when the size
divides by the stride, else ``k − size mod s``; the front gets ``total // 2``), and BatchNorm uses
eps 1e-3. Padding with zeros before max-pooling is harmless because every pooled tensor comes out
of a ReLU (all values ≥ 0).
"""
from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import CheckpointError

#: Frames per clip: the window the checkpoints were trained on (the final average pool assumes it).
WINDOW_FRAMES = 16
#: Spatial input size after the centre crop.
CROP_SIZE = 224
#: Dimension of one clip feature (channels of Mixed_5c).
FEATURE_DIM = 1024

# Per inception block: input channels, then the six branch widths
# (1x1 | 1x1 -> 3x3 | 1x1 -> 3x3 | maxpool -> 1x1), as in the Inception-v1 paper, table 1.
_INCEPTION_BLOCKS = {
    "Mixed_3b": (192, (64, 96, 128, 16, 32, 32)),
    "Mixed_3c": (256, (128, 128, 192, 32, 96, 64)),
    "Mixed_4b": (480, (192, 96, 208, 16, 48, 64)),
    "Mixed_4c": (512, (160, 112, 224, 24, 64, 64)),
    "Mixed_4d": (512, (128, 128, 256, 24, 64, 64)),
    "Mixed_4e": (512, (112, 144, 288, 32, 64, 64)),
    "Mixed_4f": (528, (256, 160, 320, 32, 128, 128)),
    "Mixed_5b": (832, (256, 160, 320, 32, 128, 128)),
    "Mixed_5c": (832, (384, 192, 384, 48, 128, 128)),
}


def same_padding(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """(front, back) zero padding of TensorFlow's "SAME" for one axis of length ``size``."""
    total = max(kernel - stride, 0) if size % stride == 0 else max(kernel - size % stride, 0)
    return total // 2, total - total // 2


def pad_same(x: torch.Tensor, kernel: tuple[int, int, int], stride: tuple[int, int, int]) -> torch.Tensor:
    """Zero-pad a ``B×C×T×H×W`` tensor so a valid conv/pool behaves like TF "SAME"."""
    pads: list[int] = []
    # F.pad takes the last axis first: (W front, W back, H front, H back, T front, T back).
    for axis in (4, 3, 2):
        pads.extend(same_padding(x.shape[axis], kernel[axis - 2], stride[axis - 2]))
    if not any(pads):
        return x
    return F.pad(x, pads)


class Unit3D(nn.Module):
    """Conv3d (no padding of its own) + optional BatchNorm3d (eps 1e-3) + optional ReLU."""

    def __init__(self, in_channels: int, out_channels: int, kernel=(1, 1, 1), stride=(1, 1, 1),
                 batch_norm: bool = True, relu: bool = True, bias: bool = False):
        super().__init__()
        self.kernel = tuple(kernel)
        self.stride = tuple(stride)
        self.relu = relu
        self.conv3d = nn.Conv3d(in_channels, out_channels, self.kernel, self.stride, padding=0, bias=bias)
        # momentum only matters for training; 0.01 is what BSL-1K trained with.
        self.bn = nn.BatchNorm3d(out_channels, eps=1e-3, momentum=0.01) if batch_norm else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv3d(pad_same(x, self.kernel, self.stride))
        if self.bn is not None:
            x = self.bn(x)
        return F.relu(x) if self.relu else x


class MaxPool3dSame(nn.Module):
    """Max-pool with TF "SAME" zero padding (no parameters, so nothing in the state dict)."""

    def __init__(self, kernel, stride):
        super().__init__()
        self.kernel = tuple(kernel)
        self.stride = tuple(stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.max_pool3d(pad_same(x, self.kernel, self.stride), self.kernel, self.stride)


class InceptionBlock(nn.Module):
    """Four parallel branches concatenated on channels; names match the BSL-1K state dict."""

    def __init__(self, in_channels: int, widths: tuple[int, int, int, int, int, int]):
        super().__init__()
        self.b0 = Unit3D(in_channels, widths[0])
        self.b1a = Unit3D(in_channels, widths[1])
        self.b1b = Unit3D(widths[1], widths[2], kernel=(3, 3, 3))
        self.b2a = Unit3D(in_channels, widths[3])
        self.b2b = Unit3D(widths[3], widths[4], kernel=(3, 3, 3))
        self.b3a = MaxPool3dSame((3, 3, 3), (1, 1, 1))
        self.b3b = Unit3D(in_channels, widths[5])
        self.out_channels = widths[0] + widths[2] + widths[4] + widths[5]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat(
            [self.b0(x), self.b1b(self.b1a(x)), self.b2b(self.b2a(x)), self.b3b(self.b3a(x))], dim=1
        )


class InceptionI3d(nn.Module):
    """I3D RGB trunk up to Mixed_5c plus the (2, 7, 7) average pool: ``B×3×16×224×224 → B×1024``.

    The classifier head is not built: features are what SiLVERScore needs, and leaving it out
    means a checkpoint with any number of classes (BSL-1K's 5,383, a domain-aware fine-tune's
    own) loads into the same module. Always call in ``eval()`` mode: BatchNorm must use the
    checkpoint's running statistics (dropout, used only before the head, does not exist here).
    """

    #: Forward order of the trunk; each name is also the state-dict prefix of that stage.
    END_POINTS = (
        "Conv3d_1a_7x7", "MaxPool3d_2a_3x3", "Conv3d_2b_1x1", "Conv3d_2c_3x3", "MaxPool3d_3a_3x3",
        "Mixed_3b", "Mixed_3c", "MaxPool3d_4a_3x3", "Mixed_4b", "Mixed_4c", "Mixed_4d", "Mixed_4e",
        "Mixed_4f", "MaxPool3d_5a_2x2", "Mixed_5b", "Mixed_5c",
    )

    def __init__(self, in_channels: int = 3):
        super().__init__()
        stages: dict[str, nn.Module] = {
            "Conv3d_1a_7x7": Unit3D(in_channels, 64, kernel=(7, 7, 7), stride=(2, 2, 2)),
            "MaxPool3d_2a_3x3": MaxPool3dSame((1, 3, 3), (1, 2, 2)),
            "Conv3d_2b_1x1": Unit3D(64, 64),
            "Conv3d_2c_3x3": Unit3D(64, 192, kernel=(3, 3, 3)),
            "MaxPool3d_3a_3x3": MaxPool3dSame((1, 3, 3), (1, 2, 2)),
            "MaxPool3d_4a_3x3": MaxPool3dSame((3, 3, 3), (2, 2, 2)),
            "MaxPool3d_5a_2x2": MaxPool3dSame((2, 2, 2), (2, 2, 2)),
        }
        for name, (channels, widths) in _INCEPTION_BLOCKS.items():
            stages[name] = InceptionBlock(channels, widths)
        for name in self.END_POINTS:
            self.add_module(name, stages[name])

    def trunk(self, x: torch.Tensor) -> torch.Tensor:
        """Mixed_5c activations, ``B×1024×T/8×H/32×W/32``."""
        for name in self.END_POINTS:
            x = getattr(self, name)(x)
        return x

    def forward(self, clips: torch.Tensor) -> torch.Tensor:
        """Clip features ``B×1024`` for pre-processed clips ``B×3×16×224×224``."""
        if clips.ndim != 5 or tuple(clips.shape[1:]) != (3, WINDOW_FRAMES, CROP_SIZE, CROP_SIZE):
            raise ValueError(f"expected clips B x 3 x {WINDOW_FRAMES} x {CROP_SIZE} x {CROP_SIZE}, "
                             f"got shape {tuple(clips.shape)}")
        x = self.trunk(clips)
        # BSL-1K's head pools over (T/8, 7, 7) with stride 1; for the 16×224×224 windows the
        # checkpoints were trained on that is the whole 2×7×7 map, i.e. one feature per clip.
        x = F.avg_pool3d(x, kernel_size=(WINDOW_FRAMES // 8, 7, 7), stride=(1, 1, 1))
        return x.flatten(1)


#: Keys of the BSL-1K classifier head; checked for a consistent shape, then dropped.
_HEAD_KEYS = ("logits.conv3d.weight", "logits.conv3d.bias")


def load_i3d_state(model: InceptionI3d, state: dict[str, torch.Tensor], path: str | Path | None = None) -> None:
    """Copy a BSL-1K-layout state dict into ``model``: every key, every shape, nothing extra.

    The official code let a mismatch pass and kept random weights; here any missing key, unknown
    key or shape mismatch is a :class:`CheckpointError` naming the file and the first few keys.
    """
    state = dict(state)
    head = {key: state.pop(key) for key in _HEAD_KEYS if key in state}
    if head:
        weight, bias = head.get("logits.conv3d.weight"), head.get("logits.conv3d.bias")
        if weight is None or weight.ndim != 5 or weight.shape[1:] != (FEATURE_DIM, 1, 1, 1) or (
            bias is not None and bias.shape != (weight.shape[0],)
        ):
            raise CheckpointError(path, "not an I3D checkpoint: the logits.conv3d head has an unexpected shape")
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    unknown = sorted(set(state) - set(expected))
    if missing or unknown:
        parts = []
        if missing:
            parts.append(f"{len(missing)} missing keys (e.g. {', '.join(missing[:3])})")
        if unknown:
            parts.append(f"{len(unknown)} unknown keys (e.g. {', '.join(unknown[:3])})")
        raise CheckpointError(path, "not a BSL-1K InceptionI3d checkpoint: " + "; ".join(parts))
    wrong = [key for key, tensor in expected.items() if tuple(state[key].shape) != tuple(tensor.shape)]
    if wrong:
        key = wrong[0]
        raise CheckpointError(
            path,
            f"not a BSL-1K InceptionI3d checkpoint: {len(wrong)} tensors have the wrong shape "
            f"(e.g. {key}: {tuple(state[key].shape)}, expected {tuple(expected[key].shape)})",
        )
    with torch.no_grad():
        for key, tensor in expected.items():
            tensor.copy_(state[key].to(dtype=tensor.dtype))


def load_i3d(path: str | Path, device: str | torch.device = "cpu") -> InceptionI3d:
    """Build an :class:`InceptionI3d` from a ``bsl5k.pth.tar``-layout file, strictly, in eval mode.

    Accepts the legacy (pre-zip) torch serialisation the BSL-1K and CiCo checkpoints were saved
    with, the zip format, and safetensors. Refuses pickles that would import or run code.
    """
    from .checkpoints import read_state_dict  # the project's one safe reader of weight files

    if path is None or not Path(path).is_file():
        raise CheckpointError(path, "no such I3D checkpoint file (pass the path of bsl5k.pth.tar or the domain-aware I3D)")
    state = read_state_dict(path)
    model = InceptionI3d()
    load_i3d_state(model, state, path)
    return model.to(device).eval()
