"""A randomly initialised full-size InceptionI3d for the video tests.

Weights keep activations of order 1 through all 16 stages (He-normal convolutions), and the
BatchNorm statistics and affine parameters are non-trivial, so that a 1e-5 comparison of features
means something and BatchNorm folding is exercised.
"""
from __future__ import annotations

import math

import torch

from silverscore.models.i3d import InceptionI3d


#: Uniform ranges for the BatchNorm tensors, by state-dict suffix.
_BATCH_NORM_RANGES = {"bn.weight": (0.8, 1.2), "bn.bias": (-0.1, 0.1),
                      "running_mean": (-0.05, 0.05), "running_var": (0.8, 1.25)}


def random_i3d(seed: int) -> InceptionI3d:
    """InceptionI3d in eval mode with seeded random weights (see the module docstring)."""
    torch.manual_seed(seed)
    model = InceptionI3d()
    with torch.no_grad():
        for name, tensor in model.state_dict().items():
            if name.endswith("conv3d.weight"):  # He-normal: fan-in of one output unit
                tensor.normal_(0.0, math.sqrt(2.0 / tensor[0].numel()))
                continue
            ranges = [r for suffix, r in _BATCH_NORM_RANGES.items() if name.endswith(suffix)]
            if ranges:
                tensor.uniform_(*ranges[0])
    return model.eval()
