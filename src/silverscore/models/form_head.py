"""The form head: how well-formed a pose sequence is as signing, whatever it is meant to say.

Why a separate head: the similarity of the two towers measures *meaning* (which signs, which
roles, negation), and training the towers also to grade rendering defects and sign order costs
them meaning (docs/training.md, runs H–U, Q1, R1, R2: every gain in ranking systems was paid in
minimal pairs, role swaps or numbers). The form head reads the same windows through a path of its
own and outputs one factor ``F ∈ (0, 1]`` per video (``σ(logit)``, calibrated after training
where the checkpoint says so: :meth:`FormHead.factor`); the score of a model with a form head is
its similarity score times ``F`` (:class:`silverscore.api.Scorer`). It is trained after the towers,
which it leaves untouched (:mod:`silverscore.train.form`), on outputs with known defects —
keypoint noise, uneven speed, frozen frames, scrambled sign order (and, if asked, meaning errors
that can show in the signing alone, such as inserted signs) — against clean signing and outputs
whose defects are in meaning only (those it must leave at ``F ≈ 1``: the similarity already sees
them).

It never sees the reference text, so ``F`` cannot move a score between two wordings of the same
reference, and it multiplies every pair of a video alike.

Inputs per window: the frozen encoder's last hidden state (which signs, in which order; detached:
no gradient reaches the towers) and the window's own frame features with their frame-to-frame
differences (fine detail the towers learnt to ignore: jitter, noise, frames that do not move).
Optionally (``noise_floor``, the default model since session 17) also one number per video, its
noise floor (:func:`noise_floor`), added to every window through a small MLP.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import torch
import torch.nn as nn

from .pose_encoder import Packing, TransformerBlock, position_columns, presence_columns

#: Added to the log noise floor (:func:`noise_floor`) before the head's MLP, so that clean
#: synthetic signing (about 0.014 shoulder widths) reads about 0.
NOISE_FLOOR_OFFSET = 4.3


@dataclass
class FormHeadConfig:
    feature_dim: int
    hidden_dim: int
    window: int
    max_windows: int
    frame_dim: int = 32
    width: int = 96
    layers: int = 1
    heads: int = 4
    dropout: float = 0.1
    # also read frame-to-frame changes of velocity: keypoint noise and uneven speed show in them
    # far above smooth signing (off in heads trained before session 12)
    accelerations: bool = False
    # the factor is calibrated after training (FormHead.calibrate): the checkpoint then holds a
    # ``calibration`` tensor [reference, exponent] (heads trained before session 15: no)
    calibrated: bool = False
    # also read the video's noise floor (:func:`noise_floor`), a median no mean-pooled window can
    # compute: keypoint noise of 1.5-3 px was barely graded without it (session 17); ``points``
    # is the number of keypoints in the features' layout (set by the model that attaches the head)
    noise_floor: bool = False
    points: int = 0

    def to_dict(self) -> dict:
        return asdict(self)


class FormHead(nn.Module):
    """(frame features, the encoder's window hidden states) → one logit per video; ``F = σ(logit)``."""

    def __init__(self, config: FormHeadConfig):
        super().__init__()
        self.config = c = config
        inputs = (3 if c.accelerations else 2) * c.feature_dim
        self.frame_mlp = nn.Sequential(
            nn.Linear(inputs, 2 * c.frame_dim), nn.GELU(), nn.Linear(2 * c.frame_dim, c.frame_dim)
        )
        self.window_proj = nn.Linear(c.window * c.frame_dim, c.width)
        self.hidden_proj = nn.Linear(c.hidden_dim, c.width)
        self.positional = nn.Parameter(torch.randn(c.max_windows, c.width) * 0.02)
        if c.noise_floor:
            if c.points < 1:
                raise ValueError("a form head reading the noise floor needs the number of keypoints (points)")
            self.noise_mlp = nn.Sequential(nn.Linear(1, 16), nn.GELU(), nn.Linear(16, c.width))
        self.blocks = nn.ModuleList([TransformerBlock(c.width, c.heads, c.dropout) for _ in range(c.layers)])
        self.ln_post = nn.LayerNorm(c.width)
        self.out = nn.Linear(c.width, 1)
        with torch.no_grad():  # start near F = 0.95: a fresh head leaves scores almost as they were
            self.out.bias.fill_(3.0)
        if c.calibrated:
            self.register_buffer("calibration", torch.tensor([1.0, 1.0]))

    def calibrate(self, reference: float, exponent: float) -> None:
        """Set the map from ``σ(logit)`` to the factor a score uses (:meth:`factor`); kept in the
        checkpoint as a tensor, so it is part of the weights file and of the signature's hash."""
        if not (0.0 < reference <= 1.0 and exponent > 0.0):
            raise ValueError(f"calibration needs 0 < reference <= 1 and exponent > 0, not {reference}, {exponent}")
        values = torch.tensor([float(reference), float(exponent)], dtype=self.out.weight.dtype,
                              device=self.out.weight.device)
        if self.config.calibrated:
            self.calibration.copy_(values)
        else:
            self.register_buffer("calibration", values)
            self.config.calibrated = True

    def factor(self, logits: torch.Tensor) -> torch.Tensor:
        """The factor ``F`` a score is multiplied by: ``σ(logit)``, or for a calibrated head
        ``min(1, (σ(logit) / reference) ^ exponent)``.

        Why a calibration: trained with cross-entropy on soft targets, the head hedges. Clean
        signing that looks like the many outputs with small defects gets ``σ ≈ 0.95`` rather than
        1, and each defect kind falls, relative to its own clean rendering, by about 60 % of its
        target in log terms. A score sees exactly that relative fall. ``reference`` (the median
        ``σ`` of clean dev signing) and ``exponent`` (fitted so that each kind's mean log relative
        factor meets its mean log target on the dev split, :func:`silverscore.train.form.fit_calibration`)
        undo the shrinkage on average and leave the head's ordering of videos as it was."""
        factor = torch.sigmoid(logits)
        if not self.config.calibrated:
            return factor
        reference, exponent = self.calibration[0], self.calibration[1]
        return torch.clamp(factor / reference, max=1.0) ** exponent

    def _first_layer(self, features: torch.Tensor, lengths, frame_valid: torch.Tensor) -> torch.Tensor:
        """The frame MLP's first linear layer on [features, frame-to-frame step, change of step].

        Why not concatenate those inputs and apply the layer: the layer is linear, so the step's
        contribution is the step of the features' contribution, ``W_s (f_t − f_{t−1}) =
        W_s f_t − W_s f_{t−1}``, and likewise for the change. Projecting the features once through
        all weight blocks and taking the differences on the narrow outputs (2 × frame_dim wide)
        gives the same values (up to float rounding) without building and multiplying two or three
        [N, T, feature_dim] tensors; padded frames are left out of the product. A profiled
        training step of the default head: 0.143 → 0.085 s."""
        linear = self.frame_mlp[0]
        blocks = 3 if self.config.accelerations else 2
        out_dim, feature_dim = linear.out_features, self.config.feature_dim
        weight = linear.weight.view(out_dim, blocks, feature_dim).transpose(0, 1).reshape(blocks * out_dim, feature_dim)
        # padded frames (often half a batch) skip the product; the rows are known from the
        # lengths, so no data-dependent shape (a boolean mask would need the values on a GPU)
        n, t, _ = features.shape
        rows = torch.as_tensor(np.concatenate([i * t + np.arange(int(length)) for i, length in enumerate(lengths)]),
                               device=features.device)
        flat = features.reshape(n * t, feature_dim).index_select(0, rows)
        projected = features.new_zeros(n * t, weight.shape[0]).index_copy(0, rows, torch.nn.functional.linear(flat, weight))
        projected = projected.view(n, t, -1).split(out_dim, dim=-1)
        both = frame_valid[:, 1:] * frame_valid[:, :-1]
        pre = projected[0] + linear.bias
        step = projected[1][:, 1:] - projected[1][:, :-1]
        pre = pre + torch.nn.functional.pad(step * both, (0, 0, 1, 0))
        if blocks == 3:
            moved = torch.nn.functional.pad((projected[2][:, 1:] - projected[2][:, :-1]) * both, (0, 0, 1, 0))
            change = (moved[:, 2:] - moved[:, 1:-1]) * frame_valid[:, 2:]
            pre = pre + torch.nn.functional.pad(change, (0, 0, 2, 0))
        return pre

    def forward(self, features: torch.Tensor, lengths, index: torch.Tensor, valid: torch.Tensor,
                hidden: torch.Tensor, floor: tuple[torch.Tensor, torch.Tensor] | None = None,
                skip_padding: bool = False) -> torch.Tensor:
        """``features`` [N, T, F] zero-padded; ``index`` [N, W, window] frame of each window slot
        (−1: none) and ``valid`` [N, W], as the encoder's ``window_index``; ``hidden`` [N, W, H]
        the encoder's hidden states → logits [N]. ``floor``: the videos' :func:`noise_floor`
        when the caller has it already (training reads each video thousands of times; the floor
        is a fixed function of its features), else it is computed here. ``skip_padding``: the
        window tokens' layers run on the real windows only (:class:`~.pose_encoder.Packing`;
        training's option ``[form] skip_padding``), the same values up to float rounding."""
        n, t, _ = features.shape
        device = features.device
        frame_valid = torch.arange(t, device=device)[None, :] < torch.as_tensor(list(lengths), device=device)[:, None]
        frame_valid = frame_valid.to(features.dtype)[..., None]
        h = self.frame_mlp[2](self.frame_mlp[1](self._first_layer(features, lengths, frame_valid))) * frame_valid
        h = torch.cat([h, h.new_zeros(n, 1, h.shape[-1])], dim=1)  # row t = "no frame"
        gather = torch.where(index < 0, torch.full_like(index, t), index)
        noise = None
        if self.config.noise_floor:
            floor, known = floor if floor is not None else noise_floor(features, lengths, self.config.points)
            # a video too short to have a floor adds nothing
            noise = self.noise_mlp((torch.log(floor) + NOISE_FLOOR_OFFSET)[:, None]) * known[:, None]  # [N, width]
        if skip_padding:
            return self._packed_logits(h, gather, valid, hidden, noise)
        windows = h[torch.arange(n, device=device)[:, None, None], gather]
        x = self.window_proj(windows.flatten(2)) + self.hidden_proj(hidden.detach()) + self.positional[: windows.shape[1]]
        if noise is not None:
            x = x + noise[:, None, :]
        for block in self.blocks:
            x = block(x, valid)
        x = self.ln_post(x)
        weights = valid.to(x.dtype)[..., None]
        pooled = (x * weights).sum(1) / weights.sum(1).clamp(min=1.0)
        return self.out(pooled).squeeze(-1)

    def _packed_logits(self, h: torch.Tensor, gather: torch.Tensor, valid: torch.Tensor, hidden: torch.Tensor,
                       noise: torch.Tensor | None) -> torch.Tensor:
        """The window tokens' part of :meth:`forward` on the real windows only: ``h`` [N, T+1,
        frame_dim] frame outputs with a zero "no frame" row, ``gather`` [N, W, window] their
        indices, ``noise`` [N, width] or None."""
        packing = Packing(valid)
        video = packing.rows // packing.length  # each real window's video
        x = (self.window_proj(packing.gather_windows(h, gather))
             + self.hidden_proj(packing.pack(hidden.detach())) + self.positional.index_select(0, packing.positions()))
        if noise is not None:
            x = x + noise.index_select(0, video)
        for block in self.blocks:
            x = block(x, packing.valid, packing)
        pooled = packing.unpack(self.ln_post(x)).sum(1) / packing.valid.sum(1, keepdim=True).clamp(min=1).to(x.dtype)
        return self.out(pooled).squeeze(-1)


def noise_floor(features: torch.Tensor, lengths, points: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Per video, the median absolute second difference of the x and y positions over all
    keypoints present in three consecutive frames (in shoulder widths, the normaliser's unit), and
    whether it had any such frames ([N] each; a floor without frames reads 1). ``features``
    [N, T, F] zero-padded, ``lengths`` the videos' frame counts.

    Why a median: keypoint noise adds the same small jitter to every frame, while signing moves a
    few points fast at a time. The median over thousands of differences sits on the noise floor
    (0.009-0.020 for clean synthetic signing, 0.017-0.029 with 1.5 px of noise, 0.029-0.045 with
    3 px), where a mean is swamped by the moving hands. The features' layout comes from
    :func:`~silverscore.models.pose_encoder.position_columns` and ``presence_columns``."""
    n, t, _ = features.shape
    if t < 3:
        return features.new_ones(n), features.new_zeros(n)
    # every video of the padded batch at once: absent points and padded frames become NaN, which
    # nanmedian skips (the median is a selection, so this is the same value as one video alone)
    frame_counts = torch.as_tensor(list(lengths), device=features.device)
    in_video = torch.arange(t, device=features.device)[None, :] < frame_counts[:, None]
    positions = features[..., position_columns(points)].reshape(n, t, points, 3)[..., :2]
    present = (features[..., presence_columns(points)] > 0) & in_video[..., None]
    both = present[:, 2:] & present[:, 1:-1] & present[:, :-2]
    steps = (positions[:, 2:] - 2 * positions[:, 1:-1] + positions[:, :-2]).abs()
    floor = steps.masked_fill(~both[..., None], float("nan")).reshape(n, -1).nanmedian(dim=1).values
    known = ~torch.isnan(floor)
    return torch.where(known, floor.clamp(min=1e-6), torch.ones_like(floor)), known.to(features.dtype)


def form_head_config_from(d: dict) -> FormHeadConfig:
    fields = FormHeadConfig.__dataclass_fields__
    return FormHeadConfig(**{k: v for k, v in d.items() if k in fields})


__all__ = ["FormHead", "FormHeadConfig", "form_head_config_from", "noise_floor"]
