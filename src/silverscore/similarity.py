"""Fine-grained video-text similarity of SiLVERScore / CiCo (spec §1.6), as pure tensor code.

No I/O and no model here: inputs are the per-slot embeddings that the towers produce.

For a video ``a`` with slot embeddings ``v`` (``Lv`` rows, e.g. 65 = CLS + 64 clips) and a text
``b`` with token embeddings ``t`` (``Lt`` rows, e.g. 32), after unit-normalising every row:

* ``s_ij = v̂_i · t̂_j``
* video→text: ``r_i = Σ_j s_ij · softmax_j(s_ij / τ)``; ``Z_V2T = λ · mean_{valid clips i} r_i``
* text→video: ``c_j = Σ_i s_ij · softmax_i(s_ij / τ)``; ``Z_T2V = λ · mean_{valid tokens j} c_j``
* ``S = mix · Z_V2T + (1 − mix) · Z_T2V``; SiLVERScore = ``κ · S``.

Two softmax behaviours exist. ``"official"`` reproduces the released checkpoints, which were
trained with every slot inside both softmaxes (text padding in the video→text softmax; the
video CLS slot and zero-padded slots in the text→video softmax). ``"masked"`` excludes the
invalid slots from the softmax as well; our own models may be trained that way, and record the
choice in their config. In both behaviours the *averages* run over valid slots only, so a
score never depends on padding that a caller adds.

A mask may instead be a float tensor of non-negative **slot weights** (0 = not a slot): the
slots with weight > 0 take part in the softmaxes exactly as a bool mask's True slots, and the two
averages become weighted averages. The official checkpoints use bool masks (every valid slot
weighs 1); our own models may learn how much each clip and token counts (a transition between
signs, or an English function word with no sign, then weighs little).

Two shapes of computation are offered: :func:`paired_similarity` (item k against text k, O(N))
and :func:`matrix_similarity` (every video against every text, chunked so memory is bounded).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn.functional as F

SoftmaxMode = Literal["official", "masked"]

DEFAULT_TAU = 0.07
DEFAULT_MIX = 0.5
DEFAULT_SCALE = 3.5


@dataclass(frozen=True)
class SimilarityConfig:
    """The constants of the metric. ``scale`` is κ (1 gives raw scores)."""

    tau: float = DEFAULT_TAU
    mix: float = DEFAULT_MIX
    scale: float = DEFAULT_SCALE
    softmax: SoftmaxMode = "official"


def normalize(x: torch.Tensor) -> torch.Tensor:
    """Unit-normalise the last dimension (rows of zero norm stay zero instead of NaN)."""
    return x / x.norm(dim=-1, keepdim=True).clamp_min(torch.finfo(x.dtype).tiny)


def _masked_mean(values: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """Mean of ``values`` over the last dim where ``valid`` (weighted if ``valid`` holds float
    weights); NaN-free, empty rows give 0."""
    weight = valid.to(values.dtype)
    return (values * weight).sum(-1) / weight.sum(-1).clamp_min(torch.finfo(values.dtype).tiny)


def _as_mask_or_weights(valid: torch.Tensor) -> torch.Tensor:
    """Float tensors are slot weights and stay as they are; anything else becomes a bool mask."""
    return valid if valid.is_floating_point() else valid.bool()


def _mask(valid: torch.Tensor) -> torch.Tensor:
    """The bool mask of a mask-or-weights tensor."""
    return valid if valid.dtype == torch.bool else valid > 0


def _softmax_weights(sim: torch.Tensor, dim: int, tau: float, allowed: torch.Tensor | None) -> torch.Tensor:
    logits = sim / tau
    if allowed is not None:
        logits = logits.masked_fill(~allowed, float("-inf"))
    weights = torch.softmax(logits, dim=dim)
    if allowed is not None:
        weights = torch.nan_to_num(weights, nan=0.0)  # a row with nothing allowed
    return weights


class _ReweightedFunction(torch.autograd.Function):
    """:func:`_reweighted` with a hand-written backward, for training.

    The forward is the same sequence of operations (so values are bit-identical); the backward
    uses ``∂r/∂s_k = p_k · (1 + (s_k − r)/τ)`` (zero where the softmax was not allowed) instead
    of autograd's chain through division, masking, softmax and product, which on the
    [batch, batch, clips, tokens] tensors of a training step is most of the step's time.
    """

    @staticmethod
    def forward(ctx, sim, dim, tau, allowed):
        weights = _softmax_weights(sim, dim, tau, allowed)
        r = (sim * weights).sum(dim)
        ctx.save_for_backward(sim, weights, r)
        ctx.dim, ctx.tau = dim, tau
        return r

    @staticmethod
    def backward(ctx, grad_r):
        sim, weights, r = ctx.saved_tensors
        dim = ctx.dim if ctx.dim >= 0 else sim.dim() + ctx.dim
        grad = sim - r.unsqueeze(dim)
        grad.mul_(1.0 / ctx.tau).add_(1.0).mul_(weights).mul_(grad_r.unsqueeze(dim))
        return grad, None, None, None


def _reweighted(sim: torch.Tensor, dim: int, tau: float, allowed: torch.Tensor | None) -> torch.Tensor:
    """``Σ_dim sim · softmax_dim(sim / τ)``, the softmax restricted to ``allowed`` if given."""
    if sim.requires_grad and torch.is_grad_enabled():
        return _ReweightedFunction.apply(sim, dim, tau, allowed)
    return (sim * _softmax_weights(sim, dim, tau, allowed)).sum(dim)


def _z_scores(
    sim: torch.Tensor,
    video_valid: torch.Tensor,
    text_valid: torch.Tensor,
    logit_scale: torch.Tensor | float,
    tau: float,
    softmax: SoftmaxMode,
) -> tuple[torch.Tensor, torch.Tensor]:
    """From ``sim`` [..., Lv, Lt] and masks [..., Lv, 1] / [..., 1, Lt] to (Z_V2T, Z_T2V)."""
    if softmax == "official":
        v2t_allowed = t2v_allowed = None
    elif softmax == "masked":
        v2t_allowed = _mask(text_valid)  # over text slots (dim -1)
        t2v_allowed = _mask(video_valid)  # over video slots (dim -2)
    else:
        raise ValueError(f"unknown softmax behaviour {softmax!r} (use 'official' or 'masked')")
    r = _reweighted(sim, -1, tau, v2t_allowed)  # [..., Lv]
    c = _reweighted(sim, -2, tau, t2v_allowed)  # [..., Lt]
    z_v2t = logit_scale * _masked_mean(r, video_valid.squeeze(-1))
    z_t2v = logit_scale * _masked_mean(c, text_valid.squeeze(-2))
    return z_v2t, z_t2v


def paired_similarity(
    video: torch.Tensor,
    video_valid: torch.Tensor,
    text: torch.Tensor,
    text_valid: torch.Tensor,
    logit_scale: torch.Tensor | float,
    tau: float = DEFAULT_TAU,
    softmax: SoftmaxMode = "official",
) -> tuple[torch.Tensor, torch.Tensor]:
    """Z_V2T and Z_T2V of video k against text k, for k = 1..N.

    Args:
        video: [N, Lv, E] slot embeddings (normalised here).
        video_valid: [N, Lv] bool, the clips that count in the video→text average (CLS and
            padding False), or float slot weights (see the module docstring).
        text: [N, Lt, E] token embeddings (normalised here).
        text_valid: [N, Lt] bool, the tokens that count in the text→video average (or weights).
        logit_scale: λ (already exponentiated).

    Returns:
        ``(z_v2t, z_t2v)``, each [N]. Each item's value depends only on its own rows.
    """
    v = normalize(video)
    t = normalize(text)
    sim = torch.einsum("nie,nje->nij", v, t)
    return _z_scores(sim, _as_mask_or_weights(video_valid)[:, :, None], _as_mask_or_weights(text_valid)[:, None, :],
                     logit_scale, tau, softmax)


def matrix_similarity(
    video: torch.Tensor,
    video_valid: torch.Tensor,
    text: torch.Tensor,
    text_valid: torch.Tensor,
    logit_scale: torch.Tensor | float,
    tau: float = DEFAULT_TAU,
    softmax: SoftmaxMode = "official",
    chunk_elements: int = 1 << 25,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Z_V2T and Z_T2V of every video against every text: two [N, M] matrices.

    Work proceeds in blocks of videos × texts so that the [n, m, Lv, Lt] similarity block never
    holds more than about ``chunk_elements`` numbers (default 32 M, ~128 MB in fp32); memory is
    bounded independently of N and M. Entry (a, b) equals ``paired_similarity`` of video a with
    text b.
    """
    n, lv, _ = video.shape
    m, lt, _ = text.shape
    v = normalize(video)
    t = normalize(text)
    vv = _as_mask_or_weights(video_valid)
    tv = _as_mask_or_weights(text_valid)
    z_v2t = torch.empty(n, m, dtype=v.dtype, device=v.device)
    z_t2v = torch.empty(n, m, dtype=v.dtype, device=v.device)
    per_pair = lv * lt
    text_block = max(1, min(m, chunk_elements // per_pair))
    video_block = max(1, min(n, chunk_elements // (per_pair * text_block)))
    for a0 in range(0, n, video_block):
        a1 = min(n, a0 + video_block)
        for b0 in range(0, m, text_block):
            b1 = min(m, b0 + text_block)
            sim = torch.einsum("aie,bje->abij", v[a0:a1], t[b0:b1])
            zv, zt = _z_scores(
                sim,
                vv[a0:a1, None, :, None],
                tv[None, b0:b1, None, :],
                logit_scale,
                tau,
                softmax,
            )
            z_v2t[a0:a1, b0:b1] = zv
            z_t2v[a0:a1, b0:b1] = zt
    return z_v2t, z_t2v


def combine(z_v2t: torch.Tensor, z_t2v: torch.Tensor, mix: float = DEFAULT_MIX, scale: float = DEFAULT_SCALE) -> torch.Tensor:
    """SiLVERScore = κ · (mix · Z_V2T + (1 − mix) · Z_T2V)."""
    return scale * (mix * z_v2t + (1.0 - mix) * z_t2v)


def infonce_loss(z_v2t: torch.Tensor, z_t2v: torch.Tensor) -> torch.Tensor:
    """CiCo's symmetric InfoNCE over a square batch matrix (spec §4).

    ``z_v2t`` and ``z_t2v`` are [B, B] (videos × texts) with the matching pairs on the diagonal:
    ``½[½CE(I2T) + ½CE(I2Tᵀ)] + ½[½CE(T2Iᵀ) + ½CE(T2I)]``.
    """
    target = torch.arange(z_v2t.shape[0], device=z_v2t.device)
    ce = F.cross_entropy
    i2t = 0.5 * ce(z_v2t, target) + 0.5 * ce(z_v2t.t(), target)
    t2i = 0.5 * ce(z_t2v.t(), target) + 0.5 * ce(z_t2v, target)
    return 0.5 * i2t + 0.5 * t2i
