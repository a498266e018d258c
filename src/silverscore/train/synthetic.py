"""The synthetic sign language as training examples, generated in-process (no files).

Uses the public API of :mod:`silverscore.synth`: ``generate_corpus`` for the items and, when the
synth package offers them, its hard negatives (texts without rendering, and rendered variants).
Poses become :class:`~silverscore.inputs.poses.PoseSequence` objects carrying the MediaPipe-style
keypoint names of the synthetic skeleton, so the trained model records its keypoint layout by
name and reads real ``.pose`` files with the same points.
"""
from __future__ import annotations

import random

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


def _wordings(item, n: int) -> list[str]:
    """The paraphrases of an item with ``n`` wordings in all (text included): the corpus's first,
    then more renderings of its meaning, drawn deterministically from its id (``n = 0``: the
    corpus's paraphrases as they are)."""
    if n == 0:
        return list(item.paraphrases)
    have = [item.text] + [p for p in item.paraphrases if p != item.text]
    from ..synth.corpus import derive_seed
    from ..synth.grammar import english_renderings

    rng = random.Random(derive_seed("train-renderings", item.id))
    for text in english_renderings(item.frame, rng, 3 * n):
        if len(have) >= n:
            break
        if text not in have:
            have.append(text)
    return have[1:n]


#: Sequence edits a rendered negative can carry (see :mod:`silverscore.synth.systems`), with their
#: strength and seeded tries: the signs in scrambled order (one try, as its recipes always had),
#: or some of them dropped (each with probability 0.25; a draw may drop none, so a few tries).
#: Their text is what the video signs, in gloss English, so it has no other wordings.
SEQUENCE_NEGATIVES = {"shuffle": (1.0, 1), "deletion": (0.25, 5)}


def _sequence_negative(item, kind: str):
    """``item`` signed with the sequence edit ``kind`` (a :data:`SEQUENCE_NEGATIVES` key), its
    text what it signs; None when no try changes the signs."""
    from ..synth.systems import system_output

    strength, tries = SEQUENCE_NEGATIVES[kind]
    for attempt in range(tries):
        name = f"{kind}-train" if attempt == 0 else f"{kind}-train-{attempt}"
        neg, fields = system_output(item, name, kind, strength)
        signed = list(fields["signed_glosses"])
        if signed and signed != list(item.glosses):
            neg.text = fields["signed_text"]
            return neg
    return None


def _rendered_negatives(item, rendered_fn, count: int, rotation: int, shuffle: bool) -> list:
    """Up to ``count`` rendered hard negatives of ``item``: (set name, rendered item).

    Which sets are used rotates with the item's position, so every set is trained on, except
    that role swaps (which only transfer sentences admit) are always taken when possible. With
    ``shuffle`` the signs in scrambled order (a simulated system's error, signed text recorded
    by the synth package) join the rotation: sign order carries meaning too. Only the scrambled
    ones come rendered; the others' poses are left to the caller (``render_items``, which can
    render them all at once in worker processes).
    """
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
        neg = _sequence_negative(item, name) if name == "shuffle" else available[name]
        if neg is not None:
            out.append((name, neg))
    return out


#: Degradations a generation system's output suffers (see :mod:`silverscore.synth.systems`), with
#: the range their strength is drawn from: keypoint noise (pixels), uneven speed, frozen frames.
DEGRADATIONS = (("noise", 1.5, 15.0), ("jitter", 0.2, 1.0), ("frozen", 0.1, 0.6))

#: Errors that change what is signed (see :mod:`silverscore.synth.systems`), with their strength
#: range: per-sign substitution, deletion and insertion rates; shuffles, wrong verb directions and
#: dropped negation always applied. Used with ``degraded_target = "quality"`` only: scored against
#: the reference, such an output is neither a correct match nor an unrelated one but a graded one.
MEANING_ERRORS = (("substitution", 0.1, 0.5), ("deletion", 0.1, 0.5), ("insertion", 0.1, 0.5),
                  ("shuffle", 1.0, 1.0), ("direction", 1.0, 1.0), ("negation", 1.0, 1.0))

#: What a degraded rendering is trained towards: ``fidelity`` (noise, uneven speed and frozen
#: frames; a frozen rendering carries the text it still signs) or ``quality`` (any error kind,
#: always paired with the *reference* text and the system's true quality, which is what a
#: generation system's output is scored against).
DEGRADED_TARGETS = ("fidelity", "quality")


def _degraded_variants(item, count: int, rotation: int, kinds: tuple[str, ...] | None = None,
                       target: str = "fidelity") -> list:
    """Up to ``count`` degraded renderings of ``item``: (kind, rendered item, fidelity, strength).

    ``target = "fidelity"``: noise and uneven speed keep the meaning; their fidelity (< 1, the
    synthetic language's own definition in :mod:`silverscore.synth.systems`) says how much worse
    the rendering is. Frozen frames lose the signs they cover, so that variant carries the text it
    actually signs. ``target = "quality"``: every kind (meaning errors included) keeps the
    reference text and carries the output's true quality; a kind that leaves this item intact (no
    directional verb to turn, no negation to drop) gives way to the next kind of the rotation.
    """
    import random

    from ..synth.corpus import derive_seed
    from ..synth.systems import system_output

    table = DEGRADATIONS + (MEANING_ERRORS if target == "quality" else ())
    menu = [d for d in table if kinds is None or d[0] in kinds]
    rng = random.Random(derive_seed("train-degraded", item.id))
    order = list(range(len(menu)))
    if target == "quality":
        rng.shuffle(order)  # each kind about equally often, whatever the rows between two items
        rotation = 0
    out = []
    offset = 0
    for k in range(min(count, len(menu))):
        while offset < len(menu):
            kind, low, high = menu[order[(rotation + k + offset) % len(menu)]]
            strength = round(rng.uniform(low, high), 3)
            neg, fields = system_output(item, f"train-{kind}", kind, strength)
            if target == "quality":
                if fields["quality"] < 1.0:
                    neg.text = item.text
                    out.append((kind, neg, float(fields["quality"]), strength))
                    break
            elif kind == "frozen":
                if fields["signed_text"]:
                    neg.text = fields["signed_text"]
                    out.append((kind, neg, 1.0, strength))
                break
            else:
                neg.text = item.text
                out.append((kind, neg, float(fields["quality"]), strength))
                break
            offset += 1
    return out


def synth_examples(sentences: int, seed: int, split: str = "train", signers: int | None = None,
                   rendered_negatives: int = 0, hard_texts: bool = True, shuffle_negatives: bool = False,
                   deletion_negatives: int = 0,
                   degraded_variants: int = 0, degraded_kinds: tuple[str, ...] | None = None,
                   degraded_every: int = 1, degraded_target: str = "fidelity", renderings: int = 0,
                   hard_text_renderings: int = 1, processes=0) -> list[Example]:
    """``sentences`` items of ``split`` (+ ``rendered_negatives`` hard-negative videos and
    ``degraded_variants`` degraded renderings per item, of ``degraded_kinds`` (default: all of
    :data:`DEGRADATIONS`), batched with it).

    ``deletion_negatives = k`` gives every k-th item (0: none) one more rendered negative, its
    signs with some dropped (gloss English for text), besides those of the rotation. Why: the
    reference text is then a negative of a video that lacks some of its signs, so that a missing
    sign is trained to cost as a wrong one (a minimal pair) does.

    ``degraded_every = k`` gives degraded renderings to every k-th item only, so that a batch of
    fixed size keeps more distinct sentences (each rendering takes a row from other sentences).
    ``degraded_target`` is one of :data:`DEGRADED_TARGETS`; with ``quality`` the renderings are
    marked ``meta["graded"]`` (their text is the reference, not what they sign), and the trainer
    keeps them out of the contrastive terms.

    ``renderings = n`` gives every sentence with a video (rendered negatives included) up to ``n``
    English wordings (the corpus draws 4), and ``hard_text_renderings = k`` up to ``k`` wordings
    of each hard-negative text, drawn anew at each step. Why: the towers see thousands of videos
    but the corpus's few wordings of each; more wordings cost no video and no step time, only
    MiniLM states computed once, and a role swap seen in the passive too cannot be told from its
    reference by voice alone.

    ``processes`` (a count, or running :class:`silverscore.parallel.Workers`) renders the videos
    of the items and of their rendered negatives in worker processes: the same examples, sooner."""
    if renderings < 0 or hard_text_renderings < 1:
        raise ValueError(f"renderings must be >= 0 and hard_text_renderings >= 1, got {renderings}, "
                         f"{hard_text_renderings}")
    if degraded_target not in DEGRADED_TARGETS:
        raise ValueError(f"degraded_target must be one of {list(DEGRADED_TARGETS)}, got {degraded_target!r}")
    if degraded_every < 1:
        raise ValueError(f"degraded_every must be >= 1, got {degraded_every}")
    if degraded_kinds is not None:
        known = [d[0] for d in DEGRADATIONS + (MEANING_ERRORS if degraded_target == "quality" else ())]
        unknown = sorted(set(degraded_kinds) - set(known))
        if unknown:
            raise ValueError(f"unknown degraded_kinds {unknown}; known: {known}")
    from ..synth.corpus import generate_corpus

    names = keypoint_names()
    items = generate_corpus(sentences, seed, split, signers, processes=processes)
    texts_fn, rendered_fn = _hard_negative_api()
    if hard_text_renderings > 1:
        from ..synth.negatives import hard_negative_renderings as hard_renderings
    graded = degraded_target == "quality"
    examples: list[Example] = []
    extra_rows = 0  # deletion negatives so far
    unrendered: list[tuple[Example, object]] = []  # rendered negatives, their videos filled in below
    for index, item in enumerate(items):
        hard, variants = [], {}
        if hard_texts and texts_fn is not None:
            if hard_text_renderings > 1:  # the first wording of each is the hard text itself
                wordings = [ws for ws in hard_renderings(item, hard_text_renderings).values() if ws[0] != item.text]
                variants = {ws[0]: ws for ws in wordings}
                hard = list(variants)
            else:
                hard = [t for t in dict(texts_fn(item)).values() if t and t != item.text]
        example = Example(id=item.id, video=_pose(item, names), text=item.text,
                          paraphrases=_wordings(item, renderings), hard_texts=hard, hard_variants=variants,
                          glosses=tuple(item.glosses), signer=item.signer,
                          meta={"negated": item.negated, "intensity": item.intensity})
        examples.append(example)
        negatives = []
        if rendered_negatives and rendered_fn is not None:
            # the rotation counts rows as if there were no deletion negatives: the same sets as without
            negatives = _rendered_negatives(item, rendered_fn, rendered_negatives, len(examples) - extra_rows,
                                            shuffle_negatives)
        if deletion_negatives and index % deletion_negatives == 0 and len(item.glosses) > 1:
            deleted = _sequence_negative(item, "deletion")
            if deleted is not None:
                negatives.append(("deletion", deleted))
                extra_rows += 1
        for name, neg in negatives:
            example.group = item.id
            reworded = renderings and name not in SEQUENCE_NEGATIVES  # gloss English has no wordings
            examples.append(Example(id=f"{item.id}~{name}", video=None, text=neg.text,
                                    paraphrases=_wordings(neg, renderings) if reworded else [],
                                    glosses=tuple(neg.glosses) if getattr(neg, "glosses", None) else None,
                                    group=item.id, signer=item.signer, meta={"source": item.id, "set": name}))
            unrendered.append((examples[-1], neg))
        if degraded_variants and index % degraded_every == 0:
            variants = _degraded_variants(item, degraded_variants, len(examples), degraded_kinds, degraded_target)
            for kind, neg, fidelity, strength in variants:
                example.group = item.id
                same = neg.text == item.text and not graded
                meta = {"source": item.id, "set": kind,
                        **({"graded": True, "strength": strength} if graded else {})}
                examples.append(Example(id=f"{item.id}~{kind}", video=_pose(neg, names), text=neg.text,
                                        paraphrases=list(item.paraphrases) if same else [],
                                        glosses=tuple(neg.glosses), group=item.id, signer=item.signer,
                                        meta=meta, fidelity=fidelity))
    from ..synth.corpus import render_items

    pending = [neg for _, neg in unrendered if neg.pose is None]
    render_items(pending, processes)
    for example, neg in unrendered:
        example.video = _pose(neg, names)
    return examples
