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


def _rendered_negatives(item, rendered_fn, count: int, rotation: int, shuffle: bool) -> list:
    """Up to ``count`` rendered hard negatives of ``item``: (set name, rendered item).

    Which sets are used rotates with the item's position, so every set is trained on, except
    that role swaps (which only transfer sentences admit) are always taken when possible. With
    ``shuffle`` the signs in scrambled order (a simulated system's error, signed text recorded
    by the synth package) join the rotation: sign order carries meaning too.
    """
    from ..synth.corpus import render_item

    available = {name: neg for name, neg in rendered_fn(item, render_pose=False).items() if neg is not None}
    names = sorted(available) + (["shuffle"] if shuffle and len(item.glosses) > 1 else [])
    if not names:
        return []
    start = rotation % len(names)
    order = names[start:] + names[:start]
    if "role_swap" in order:
        order.remove("role_swap")
        order.insert(0, "role_swap")
    out = []
    for name in order[:count]:
        if name == "shuffle":
            from ..synth.systems import system_output

            neg, fields = system_output(item, "shuffle-train", "shuffle", 1.0)
            if list(fields["signed_glosses"]) == list(item.glosses):
                continue
            neg.text = fields["signed_text"]
        else:
            neg = render_item(available[name])
        out.append((name, neg))
    return out


#: Degradations a generation system's output suffers (see :mod:`silverscore.synth.systems`), with
#: the range their strength is drawn from: keypoint noise (pixels), uneven speed, frozen frames.
DEGRADATIONS = (("noise", 1.5, 15.0), ("jitter", 0.2, 1.0), ("frozen", 0.1, 0.6))


def _degraded_variants(item, count: int, rotation: int, kinds: tuple[str, ...] | None = None) -> list:
    """Up to ``count`` degraded renderings of ``item``: (kind, rendered item, fidelity).

    Noise and uneven speed keep the meaning; their fidelity (< 1, the synthetic language's own
    definition in :mod:`silverscore.synth.systems`) says how much worse the rendering is. Frozen
    frames lose the signs they cover, so that variant carries the text it actually signs.
    """
    import random

    from ..synth.corpus import derive_seed
    from ..synth.systems import system_output

    menu = [d for d in DEGRADATIONS if kinds is None or d[0] in kinds]
    rng = random.Random(derive_seed("train-degraded", item.id))
    out = []
    for k in range(min(count, len(menu))):
        kind, low, high = menu[(rotation + k) % len(menu)]
        strength = round(rng.uniform(low, high), 3)
        neg, fields = system_output(item, f"train-{kind}", kind, strength)
        if kind == "frozen":
            if not fields["signed_text"]:
                continue
            neg.text, fidelity = fields["signed_text"], 1.0
        else:
            neg.text, fidelity = item.text, float(fields["quality"])
        out.append((kind, neg, fidelity))
    return out


def synth_examples(sentences: int, seed: int, split: str = "train", signers: int | None = None,
                   rendered_negatives: int = 0, hard_texts: bool = True, shuffle_negatives: bool = False,
                   degraded_variants: int = 0, degraded_kinds: tuple[str, ...] | None = None,
                   degraded_every: int = 1) -> list[Example]:
    """``sentences`` items of ``split`` (+ ``rendered_negatives`` hard-negative videos and
    ``degraded_variants`` degraded renderings per item, of ``degraded_kinds`` (default: all of
    :data:`DEGRADATIONS`), batched with it).

    ``degraded_every = k`` gives degraded renderings to every k-th item only, so that a batch of
    fixed size keeps more distinct sentences (each rendering takes a row from other sentences)."""
    if degraded_every < 1:
        raise ValueError(f"degraded_every must be >= 1, got {degraded_every}")
    if degraded_kinds is not None:
        unknown = sorted(set(degraded_kinds) - {d[0] for d in DEGRADATIONS})
        if unknown:
            raise ValueError(f"unknown degraded_kinds {unknown}; known: {[d[0] for d in DEGRADATIONS]}")
    from ..synth.corpus import generate_corpus

    names = keypoint_names()
    items = generate_corpus(sentences, seed, split, signers)
    texts_fn, rendered_fn = _hard_negative_api()
    examples: list[Example] = []
    for index, item in enumerate(items):
        hard = []
        if hard_texts and texts_fn is not None:
            hard = [t for t in dict(texts_fn(item)).values() if t and t != item.text]
        example = Example(id=item.id, video=_pose(item, names), text=item.text, paraphrases=list(item.paraphrases),
                          hard_texts=hard, glosses=tuple(item.glosses), signer=item.signer,
                          meta={"negated": item.negated, "intensity": item.intensity})
        examples.append(example)
        if rendered_negatives and rendered_fn is not None:
            for name, neg in _rendered_negatives(item, rendered_fn, rendered_negatives, len(examples), shuffle_negatives):
                example.group = item.id
                examples.append(Example(id=f"{item.id}~{name}", video=_pose(neg, names), text=neg.text,
                                        glosses=tuple(neg.glosses) if getattr(neg, "glosses", None) else None,
                                        group=item.id, signer=item.signer, meta={"source": item.id, "set": name}))
        if degraded_variants and index % degraded_every == 0:
            for kind, neg, fidelity in _degraded_variants(item, degraded_variants, len(examples), degraded_kinds):
                example.group = item.id
                same = neg.text == item.text
                examples.append(Example(id=f"{item.id}~{kind}", video=_pose(neg, names), text=neg.text,
                                        paraphrases=list(item.paraphrases) if same else [],
                                        glosses=tuple(neg.glosses), group=item.id, signer=item.signer,
                                        meta={"source": item.id, "set": kind}, fidelity=fidelity))
    return examples
