"""The synthetic sign language as training examples, generated in-process (no files).

Uses the public API of :mod:`silverscore.synth`: ``generate_corpus`` for the items and, when the
synth package offers them, its hard negatives (texts without rendering, and rendered variants).
Poses become :class:`~silverscore.inputs.poses.PoseSequence` objects carrying the MediaPipe-style
keypoint names of the synthetic skeleton, so the trained model records its keypoint layout by
name and reads real ``.pose`` files with the same points.
"""
from __future__ import annotations

from ..inputs.poses import PoseSequence
from .data import Example


def keypoint_names() -> list[str]:
    from ..synth import skeleton

    return [f"{component}:{point}" for component, points, _ in skeleton.COMPONENTS for point in points]


def _pose(item, names: list[str]) -> PoseSequence:
    return PoseSequence(item.pose, item.confidence, float(item.fps), names)


def _hard_negative_api():
    """The synth package's hard-negative functions (``{set: text}`` and ``{set: Item}``)."""
    try:
        from ..synth.negatives import hard_negative_texts, hard_negatives
    except ImportError:  # an older synth package without hard negatives
        return None, None
    return hard_negative_texts, hard_negatives


def synth_examples(sentences: int, seed: int, split: str = "train", signers: int | None = None,
                   rendered_negatives: int = 0, hard_texts: bool = True, signer_ids: list[str] | None = None) -> list[Example]:
    """``sentences`` items of ``split`` (+ ``rendered_negatives`` hard-negative videos per item)."""
    from ..synth.corpus import generate_corpus, render_item

    names = keypoint_names()
    items = generate_corpus(sentences, seed, split, signers)
    texts_fn, rendered_fn = _hard_negative_api()
    examples: list[Example] = []
    for item in items:
        hard = []
        if hard_texts and texts_fn is not None:
            hard = [t for t in dict(texts_fn(item)).values() if t and t != item.text]
        example = Example(id=item.id, video=_pose(item, names), text=item.text, paraphrases=list(item.paraphrases),
                          hard_texts=hard, glosses=tuple(item.glosses), signer=item.signer,
                          meta={"negated": item.negated, "intensity": item.intensity})
        examples.append(example)
        if rendered_negatives and rendered_fn is not None:
            # find the applicable sets without rendering, then render only the chosen ones
            available = [(name, neg) for name, neg in rendered_fn(item, render_pose=False).items() if neg is not None]
            if available:
                example.group = item.id
            # which variants: a deterministic rotation over the item index, so every set is used
            start = len(examples) % max(1, len(available))
            chosen = (available[start:] + available[:start])[:rendered_negatives]
            for name, neg in chosen:
                render_item(neg)
                examples.append(Example(id=f"{item.id}~{name}", video=_pose(neg, names), text=neg.text,
                                        paraphrases=list(getattr(neg, "paraphrases", []) or []),
                                        glosses=tuple(neg.glosses) if getattr(neg, "glosses", None) else None,
                                        group=item.id, signer=item.signer, meta={"source": item.id, "set": name}))
    return examples
