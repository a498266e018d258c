"""A synthetic sign language with exactly known meaning, prosody and errors.

No real sign language data reaches this project's machines, so the metric is trained, shipped,
demonstrated and tested on a language we generate: a fixed lexicon of signs defined by
handshape, location, movement, orientation and hands (:mod:`.lexicon`), a grammar that maps
English sentences of a weather/daily-life domain to glosses in sign order (:mod:`.grammar`),
and a renderer that turns glosses, a signer and a prosody level into MediaPipe-Holistic-like
keypoints (:mod:`.render`), written as ``.pose`` files (:mod:`.posefile`) and optionally video.

The in-process API used by the trainer::

    from silverscore.synth import generate_corpus, hard_negatives, hard_negative_texts
    items = generate_corpus(1000, seed=0, split="train")
    item.pose        # T x K x 3 float32; item.confidence: T x K (0 = missing)
    hard_negative_texts(item)   # {"negation": "...", "minimal_pair": "...", ...}, no rendering
    hard_negatives(item)        # {"negation": Item, ...} rendered with the same signer/prosody

See docs/synth.md for the language and the file layout.
"""
from __future__ import annotations

from .corpus import SPLITS, Item, generate_corpus, make_item, render_item
from .lexicon import build_lexicon, minimal_pairs
from .negatives import HARD_NEGATIVE_SETS, hard_negative_frames, hard_negative_texts, hard_negatives
from .posefile import read_pose, write_pose
from .render import FPS, INTENSITIES

__all__ = [
    "SPLITS", "Item", "generate_corpus", "make_item", "render_item", "build_lexicon",
    "minimal_pairs", "HARD_NEGATIVE_SETS", "hard_negative_frames", "hard_negative_texts",
    "hard_negatives", "read_pose", "write_pose", "FPS", "INTENSITIES", "render_video",
]


def render_video(pose, confidence, path, fps: float = FPS, size: int = 256) -> None:
    """Render keypoints as an ``.mp4`` stick figure (needs the ``video`` extra: PyAV)."""
    from .video import render_video as _render_video

    _render_video(pose, confidence, path, fps, size=size)
