"""Training objectives on top of :mod:`silverscore.similarity`'s Z matrices.

:func:`contrastive_loss` is CiCo's symmetric InfoNCE (spec §4) generalised in two ways that the
synthetic data needs, and reduces to :func:`silverscore.similarity.infonce_loss` exactly when
neither is used (a test checks this):

* **extra negative columns**: hard-negative *texts* (negation added/removed, a sign swapped for
  its minimal pair, roles swapped) are appended after the batch's own texts; they compete in
  the video→text softmax of every video, most importantly of the video they were derived from.
* **several positives per row**: two items of a batch may mean the same thing (same glosses,
  or one's text is the other's paraphrase); both are then positives, ``-log Σ_pos softmax``,
  instead of punishing the model for a correct match.

:func:`calibration_loss` adds what InfoNCE lacks: InfoNCE only ranks candidates *within* a row,
but the metric compares scores *across* items (a correct pair of one sentence against a hard
negative of another), so a logistic loss with one shared threshold pushes every correct pair
above and every negative below the same line.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F


def mixed_similarity(z_v2t: torch.Tensor, z_t2v: torch.Tensor, logit_scale: torch.Tensor) -> torch.Tensor:
    """``½(Z_V2T + Z_T2V)/λ``: the score's similarity on a cosine-like scale (λ held fixed, so the
    terms built on it do not move the temperature)."""
    return 0.5 * (z_v2t + z_t2v) / logit_scale.detach()


def _multi_positive_ce(logits: torch.Tensor, positive: torch.Tensor) -> torch.Tensor:
    """Mean over rows of ``-log Σ_{j positive} softmax(logits)_j``."""
    pos_logits = logits.masked_fill(~positive, float("-inf"))
    return (torch.logsumexp(logits, dim=1) - torch.logsumexp(pos_logits, dim=1)).mean()


def contrastive_loss(z_v2t: torch.Tensor, z_t2v: torch.Tensor, positive: torch.Tensor) -> torch.Tensor:
    """Symmetric InfoNCE over a [B, M] batch (videos × texts), M ≥ B.

    The first B columns are the batch's own texts (text k belongs to video k); the rest are
    extra negatives, used only in the video-anchored directions. ``positive`` [B, M] marks
    matching pairs and must include the diagonal of the first B columns.
    ``½[½CE(I2T) + ½CE(I2Tᵀ)] + ½[½CE(T2Iᵀ) + ½CE(T2I)]`` as in spec §4.
    """
    b = z_v2t.shape[0]
    square = positive[:, :b].t()
    i2t = 0.5 * _multi_positive_ce(z_v2t, positive) + 0.5 * _multi_positive_ce(z_v2t[:, :b].t(), square)
    t2i = 0.5 * _multi_positive_ce(z_t2v[:, :b].t(), square) + 0.5 * _multi_positive_ce(z_t2v, positive)
    return 0.5 * i2t + 0.5 * t2i


def calibration_loss(z_v2t: torch.Tensor, z_t2v: torch.Tensor, positive: torch.Tensor, hard: torch.Tensor,
                     logit_scale: torch.Tensor, threshold: torch.Tensor, sharpness: float = 10.0,
                     valid: torch.Tensor | None = None) -> torch.Tensor:
    """Balanced logistic loss on the mixed similarity ``½(Z_V2T + Z_T2V)/λ`` (a cosine-like value
    in [-1, 1]) against one learnt ``threshold``: positives above, negatives below.

    Positives, hard negatives (``hard``: an item against the texts derived from it, or its
    rendered variants) and all other pairs are averaged separately and weighted ½, ¼, ¼, so the
    few positives and hard negatives are not drowned by the many easy random pairs. ``valid``
    (default: all) marks the entries that are real pairs; others are ignored.
    """
    s = mixed_similarity(z_v2t, z_t2v, logit_scale)
    logits = sharpness * (s - threshold)
    if valid is None:
        valid = torch.ones_like(positive)
    positive = positive & valid
    hard = hard & ~positive & valid
    easy = ~positive & ~hard & valid

    def mean_or_zero(values: torch.Tensor) -> torch.Tensor:
        return values.mean() if values.numel() else logits.new_zeros(())

    return (0.5 * mean_or_zero(F.softplus(-logits[positive])) + 0.25 * mean_or_zero(F.softplus(logits[hard]))
            + 0.25 * mean_or_zero(F.softplus(logits[easy])))


def consistency_loss(z_v2t: torch.Tensor, z_t2v: torch.Tensor, logit_scale: torch.Tensor, rows: torch.Tensor,
                     first: torch.Tensor, second: torch.Tensor) -> torch.Tensor:
    """Mean squared difference of the mixed similarity ``½(Z_V2T + Z_T2V)/λ`` of one video with
    two renderings of its sentence (columns ``first`` and ``second`` of row ``rows``).

    InfoNCE only asks both renderings to beat the negatives; the metric also promises that
    rewording a reference barely moves the score, which is this term."""
    if rows.numel() == 0:
        return z_v2t.new_zeros(())
    s = mixed_similarity(z_v2t, z_t2v, logit_scale)
    return ((s[rows, first] - s[rows, second]) ** 2).mean()


def fidelity_loss(z_v2t: torch.Tensor, z_t2v: torch.Tensor, logit_scale: torch.Tensor, degraded: torch.Tensor,
                  clean: torch.Tensor, fidelity: torch.Tensor, margin: float) -> torch.Tensor:
    """Mean squared error of the *gap* between the clean and the degraded rendering of one sentence
    (mixed similarities with the clean row's text) against ``margin × (1 − fidelity)``.

    Contrastive terms cannot teach this: noise or uneven speed keep the meaning, so a degraded
    video is still a correct match. The metric should nevertheless score it lower, by about how
    much worse it is, which is what a generation system's ranking needs. Only the gap is
    constrained and both ends receive gradient: a target for the degraded score alone (the clean
    one held fixed) is met most cheaply by lowering every score, as both renderings share most of
    their features, and training then collapses."""
    if degraded.numel() == 0:
        return z_v2t.new_zeros(())
    s = mixed_similarity(z_v2t, z_t2v, logit_scale)
    return gap_loss(s[clean, clean], s[degraded, clean], fidelity, margin)


def gap_loss(s_clean: torch.Tensor, s_degraded: torch.Tensor, quality: torch.Tensor, margin: float,
             one_sided: bool = False) -> torch.Tensor:
    """Mean of ``(s_clean − s_degraded − margin × (1 − quality))²`` over the pairs: a worse
    rendering (or output) of a sentence should fall below the clean one in proportion to how much
    worse it is (mixed similarities with the same text, see :func:`fidelity_loss`).

    ``one_sided``: only gaps *smaller* than the target count. A wrong sign is also a contrastive
    negative, which pushes its score as far down as it can; a two-sided target would pull it
    back up to the graded gap and undo that discrimination."""
    gap = s_clean - s_degraded
    short = margin * (1.0 - quality.to(gap.dtype)) - gap
    if one_sided:
        short = short.clamp(min=0.0)
    return (short ** 2).mean()
