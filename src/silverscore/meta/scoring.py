"""Model-driven scoring for the meta-evaluation, through the public :class:`~silverscore.api.Scorer`.

Only paired scoring (``Scorer.score``) is used, so memory and time stay O(N) whatever the test
size; a random pair (video i, text j) is just another paired item. Hypotheses are read once into
memory (``Scorer.load_hypothesis``) and reused for the correct, random and rewritten pairs.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np


def preload(scorer, hyps: Sequence) -> list:
    """Read every hypothesis once (paths → arrays/pose sequences) so re-scoring does no I/O."""
    return [scorer.load_hypothesis(h) for h in hyps]


def score_paired(scorer, hyps: Sequence, texts: Sequence[str]) -> np.ndarray:
    """SiLVERScore of (hyp k, text k) for every k."""
    return np.asarray(scorer.score(list(hyps), list(texts)).scores, dtype=np.float64)


def score_correct_and_random(scorer, hyps: Sequence, texts: Sequence[str], pairs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Correct S(video_k, text_k) and random S(video_i, text_j) for the given index pairs."""
    correct = score_paired(scorer, hyps, texts)
    random = score_paired(scorer, [hyps[i] for i, _ in pairs], [texts[j] for _, j in pairs])
    return correct, random

