"""What every alignment model offers the scorer, whatever its towers.

The scorer (``silverscore.api``) only needs slot embeddings and masks from a model, so the
official CiCo model (I3D features + CLIP text tower) and our own pose models plug in the same
way. A model is a ``torch.nn.Module`` with the attributes and methods of
:class:`AlignmentModel`; our own architectures register a constructor in
``silverscore.models.registry`` under the ``architecture`` name stored in their JSON config.
"""
from __future__ import annotations

from typing import Any, Literal, Protocol, Sequence, runtime_checkable

import numpy as np
import torch

InputKind = Literal["i3d", "pose"]


@runtime_checkable
class AlignmentModel(Protocol):
    """The interface between a trained video-text model and the metric.

    Attributes:
        input_kind: ``"i3d"`` (each hypothesis is an ``n × 1024`` clip-feature array) or
            ``"pose"`` (each hypothesis is a ``T × K × D`` pose array with confidences).
        softmax: ``"official"`` or ``"masked"`` — how padding enters the similarity softmax
            (see :mod:`silverscore.similarity`); recorded in the model's config.
    """

    input_kind: InputKind
    softmax: Literal["official", "masked"]

    def logit_scale_value(self) -> torch.Tensor:
        """λ = exp(logit_scale), a 0-d tensor."""

    def encode_videos(self, items: Sequence[Any]) -> tuple[torch.Tensor, torch.Tensor]:
        """Slot embeddings [N, Lv, E] and the bool mask [N, Lv] of slots that count in the
        video→text average (never CLS or padding). One item's rows must not depend on the
        other items in the batch."""

    def encode_texts(self, texts: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Token embeddings [N, Lt, E], bool mask [N, Lt] of tokens that count in the
        text→video average, and a bool [N] flag for texts that were truncated."""

    def config(self) -> dict:
        """JSON-serialisable config from which the registry rebuilds the model."""


def count_valid_clips(item: np.ndarray) -> int:
    """Number of clips a hypothesis contributes (rows of a feature array, frames otherwise)."""
    return int(np.asarray(item).shape[0])
