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
and :func:`matrix_similarity` (every video against every text, chunked so memory is bounded);
its ``fused=True`` form is the same maths rearranged for the speed of training steps.
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


def _check_softmax(softmax: str) -> None:
    if softmax not in ("official", "masked"):
        raise ValueError(f"unknown softmax behaviour {softmax!r} (use 'official' or 'masked')")


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
    _check_softmax(softmax)
    if softmax == "official":
        v2t_allowed = t2v_allowed = None
    else:
        v2t_allowed = _mask(text_valid)  # over text slots (dim -1)
        t2v_allowed = _mask(video_valid)  # over video slots (dim -2)
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


def _extent(valid: torch.Tensor) -> int:
    """One past the last slot that counts (at least 1): the slots after it are padding."""
    counts = _mask(valid).nonzero()
    return int(counts.max()) + 1 if counts.numel() else 1


def paired_similarity_each(
    video: torch.Tensor,
    video_valid: torch.Tensor,
    text: torch.Tensor,
    text_valid: torch.Tensor,
    logit_scale: torch.Tensor | float,
    tau: float = DEFAULT_TAU,
) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`paired_similarity` with the ``"masked"`` softmax, each pair computed on its own
    slots, the trailing padding of its batch cut off first.

    Why: with the masked softmax, padding changes no value mathematically, but it changes the
    shapes of the products and sums, and on some CPUs (seen on an AMD EPYC machine, whose MKL
    runs its own matrix code) their last bits then depend on the longest text of the batch: a
    score moved by up to 3e-14 with the batch size. Cut to its own slots, an item's computation
    is the same whatever else is scored with it, so its score is the same to the last bit.
    The official softmax keeps padding inside the softmax (the released checkpoints' fixed
    widths), so it has no such form; its widths never depend on the batch anyway.
    """
    z_v2t, z_t2v = [], []
    for k in range(video.shape[0]):
        lv, lt = _extent(video_valid[k]), _extent(text_valid[k])
        zv, zt = paired_similarity(video[k:k + 1, :lv], video_valid[k:k + 1, :lv], text[k:k + 1, :lt],
                                   text_valid[k:k + 1, :lt], logit_scale, tau, "masked")
        z_v2t.append(zv)
        z_t2v.append(zt)
    if not z_v2t:
        empty = video.new_zeros(0)
        return empty, empty.clone()
    return torch.cat(z_v2t), torch.cat(z_t2v)


def matrix_similarity(
    video: torch.Tensor,
    video_valid: torch.Tensor,
    text: torch.Tensor,
    text_valid: torch.Tensor,
    logit_scale: torch.Tensor | float,
    tau: float = DEFAULT_TAU,
    softmax: SoftmaxMode = "official",
    chunk_elements: int = 1 << 25,
    fused: bool = False,
    buckets: int = 1,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Z_V2T and Z_T2V of every video against every text: two [N, M] matrices.

    Work proceeds in blocks of videos × texts so that the [n, m, Lv, Lt] similarity block never
    holds more than about ``chunk_elements`` numbers (default 32 M, ~128 MB in fp32); memory is
    bounded independently of N and M. Entry (a, b) equals ``paired_similarity`` of video a with
    text b. ``fused=True`` computes the same up to float rounding, faster, for training steps
    (:func:`_matrix_similarity_fused`); scores shown to users use the default. With ``fused=True``,
    ``softmax="masked"`` and ``buckets > 1`` the fused path also groups videos and texts by length
    (:func:`_matrix_similarity_bucketed`): the same maths on far less padding, again up to rounding.
    """
    if fused and tau >= _FUSED_MIN_TAU and video.dtype in (torch.float32, torch.float64):
        if buckets > 1 and softmax == "masked":
            return _matrix_similarity_bucketed(video, video_valid, text, text_valid, logit_scale, tau,
                                               chunk_elements, buckets)
        return _matrix_similarity_fused(video, video_valid, text, text_valid, logit_scale, tau, softmax,
                                        chunk_elements)
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


# Below this temperature exp((s - 1)/τ) can underflow for every slot of a row in float32, so the
# shift-free formulation of :func:`_matrix_similarity_fused` is not safe and the reference path runs.
_FUSED_MIN_TAU = 0.03
# Added to the logits of slots the masked softmax excludes: exp(-1000) is exactly 0 in float32 and 64.
_EXCLUDED_LOGIT = 1000.0
# Allowed slots have shifted logits (s - 1)/τ ≥ -2/τ ≥ -66.7 (τ ≥ _FUSED_MIN_TAU); excluded ones are
# below -900. PyTorch's vectorised float32 exp leaves its fast path for inputs whose result is
# subnormal or 0 (below about -87.3): with a training batch's padding (three quarters of the slots
# early in the default recipe) that made the one exp 2.5x slower. So exp runs on the logits clamped
# at this floor and the slots below it are set to exactly 0 afterwards (same values, bit for bit).
_FAST_EXP_FLOOR = -80.0
assert -2.0 / _FUSED_MIN_TAU > _FAST_EXP_FLOOR


class _FusedReweightFunction(torch.autograd.Function):
    """Both re-weighted sums from one tensor of shifted logits ``L = (s − 1)/τ`` [a, i, b, j].

    Cosines are at most 1, so ``E = exp(L)`` needs no max-subtraction; with ``ρ = Σ L·E / Σ E``
    the re-weighted similarity is ``Σ s·softmax(s/τ) = 1 + τ·ρ``. Video→text sums over ``j``,
    text→video over ``i``; one ``exp`` serves both. Returns ``r`` [a, i, b] and ``c`` [a, b, j].
    Excluded slots arrive with ``E`` exactly 0; a row with nothing allowed gives 0, like
    :func:`_softmax_weights`. The backward is ``∂/∂L_ij = τ·E_ij·(α_i(1 + L_ij − ρ_i) +
    β_j(1 + L_ij − κ_j))`` with ``α = g_r/D_r``, ``β = g_c/D_c`` (``D`` the two sums of ``E``).
    """

    @staticmethod
    def forward(ctx, logits, tau):
        e = logits.clamp_min(_FAST_EXP_FLOOR).exp_().masked_fill_(logits < _FAST_EXP_FLOOR, 0.0)
        tiny = torch.finfo(e.dtype).tiny
        d_r, d_c = e.sum(3), e.sum(1)
        le = logits * e
        rho_r = le.sum(3) / d_r.clamp_min(tiny)
        rho_c = le.sum(1) / d_c.clamp_min(tiny)
        del le
        r = torch.where(d_r > 0, 1.0 + tau * rho_r, 0.0)
        c = torch.where(d_c > 0, 1.0 + tau * rho_c, 0.0)
        ctx.save_for_backward(logits, e, d_r, d_c, rho_r, rho_c)
        ctx.tau = tau
        return r, c

    @staticmethod
    def backward(ctx, g_r, g_c):
        logits, e, d_r, d_c, rho_r, rho_c = ctx.saved_tensors
        tiny = torch.finfo(e.dtype).tiny
        # a row with nothing allowed gave the constant 0: no gradient (and no 0 · inf)
        alpha = torch.where(d_r > 0, ctx.tau * g_r / d_r.clamp_min(tiny), 0.0)  # [a, i, b]
        beta = torch.where(d_c > 0, ctx.tau * g_c / d_c.clamp_min(tiny), 0.0)  # [a, b, j]
        alpha4, beta4 = alpha[:, :, :, None], beta[:, None, :, :]
        grad = (alpha * (1.0 - rho_r))[:, :, :, None] + (beta * (1.0 - rho_c))[:, None, :, :]
        grad.addcmul_(alpha4 + beta4, logits).mul_(e)
        return grad, None


def _matrix_similarity_fused(video, video_valid, text, text_valid, logit_scale, tau: float, softmax: SoftmaxMode,
                             chunk_elements: int) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`matrix_similarity` with ``fused=True``: fewer passes over memory, for training steps.

    Same maths and same result up to float rounding (not bit-identical), so scores reported to
    users keep coming from :func:`matrix_similarity`; a training step, whose time is mostly this
    [videos, clips, texts, tokens] tensor and its backward, uses this one. Differences: one GEMM
    writes the shifted logits ``(s − 1)/τ`` straight into [a, i, b, j] order (the shift and the
    masked softmax's exclusions ride along as two extra embedding coordinates, so no permute, no
    ``masked_fill``, no ``nan_to_num``); one ``exp`` serves both directions; the backward is a
    handful of fused passes (:class:`_FusedReweightFunction`). :func:`matrix_similarity` calls
    it only for float32/64 and τ ≥ 0.03, where the shift-free exponent is safe.
    """
    _check_softmax(softmax)
    n, lv, _ = video.shape
    m, lt, _ = text.shape
    vv = _as_mask_or_weights(video_valid)
    tv = _as_mask_or_weights(text_valid)
    v_shift = torch.full((n, lv, 1), -1.0 / tau, dtype=video.dtype, device=video.device)
    t_shift = torch.zeros(m, lt, 1, dtype=text.dtype, device=text.device)
    if softmax == "masked":
        v_shift = v_shift - _EXCLUDED_LOGIT * (~_mask(vv)).to(video.dtype)[:, :, None]
        t_shift = t_shift - _EXCLUDED_LOGIT * (~_mask(tv)).to(text.dtype)[:, :, None]
    # L_ij = v̂_i·t̂_j/τ + v_shift_i·1 + 1·t_shift_j
    v_aug = torch.cat([normalize(video) / tau, v_shift, torch.ones_like(v_shift)], dim=2).reshape(n * lv, -1)
    t_aug = torch.cat([normalize(text), torch.ones_like(t_shift), t_shift], dim=2).reshape(m * lt, -1)
    video_block = max(1, min(n, chunk_elements // (lv * m * lt)))
    z_v2t, z_t2v = [], []
    for a0 in range(0, n, video_block):
        a1 = min(n, a0 + video_block)
        logits = (v_aug[a0 * lv : a1 * lv] @ t_aug.t()).view(a1 - a0, lv, m, lt)
        r, c = _FusedReweightFunction.apply(logits, tau)
        z_v2t.append(_masked_mean(r.transpose(1, 2), vv[a0:a1, None, :]))
        z_t2v.append(_masked_mean(c, tv[None, :, :]))
    return logit_scale * torch.cat(z_v2t), logit_scale * torch.cat(z_t2v)


def _length_groups(valid: torch.Tensor, buckets: int) -> list[tuple[torch.Tensor, int]]:
    """Rows sorted by their number of slots up to the last allowed one, cut into ``buckets``
    groups of (nearly) equal size: (row indices, the group's length) per group."""
    mask = _mask(valid)
    slots = torch.arange(1, mask.shape[1] + 1, device=mask.device)
    lengths = (mask * slots).amax(1).clamp_min(1)  # a row with no allowed slot keeps one (it gives 0)
    order = torch.argsort(lengths, stable=True)
    return [(rows, int(lengths[rows].max())) for rows in torch.tensor_split(order, min(buckets, len(order)))
            if len(rows)]


def _matrix_similarity_bucketed(video, video_valid, text, text_valid, logit_scale, tau: float,
                                chunk_elements: int, buckets: int) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`_matrix_similarity_fused` (masked softmax) block by block over length groups.

    In a training batch most of the [videos, clips, texts, tokens] tensor is padding (three
    quarters of it early in the default recipe): every video is padded to the longest one and
    every text to the longest text. Under the masked softmax a padded slot adds exactly nothing,
    so each block of (videos of similar length) × (texts of similar length) can be cut to its
    own longest members. Same maths; the sums run over fewer zeros, so results agree with the
    unbucketed path up to float rounding (not bit for bit).
    """
    vv = _as_mask_or_weights(video_valid)
    tv = _as_mask_or_weights(text_valid)
    video_groups = _length_groups(vv, buckets)
    text_groups = _length_groups(tv, buckets)
    rows_v2t, rows_t2v = [], []
    for v_rows, lv in video_groups:
        v_part, vv_part = video[v_rows, :lv], vv[v_rows, :lv]
        blocks = [_matrix_similarity_fused(v_part, vv_part, text[t_rows, :lt], tv[t_rows, :lt], 1.0, tau, "masked",
                                           chunk_elements) for t_rows, lt in text_groups]
        rows_v2t.append(torch.cat([b[0] for b in blocks], dim=1))
        rows_t2v.append(torch.cat([b[1] for b in blocks], dim=1))
    # back from (sorted videos, sorted texts) to the callers' order
    v_back = torch.argsort(torch.cat([rows for rows, _ in video_groups]))
    t_back = torch.argsort(torch.cat([rows for rows, _ in text_groups]))
    z_v2t = torch.cat(rows_v2t)[v_back][:, t_back]
    z_t2v = torch.cat(rows_t2v)[v_back][:, t_back]
    return logit_scale * z_v2t, logit_scale * z_t2v


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
