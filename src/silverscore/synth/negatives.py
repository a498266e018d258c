"""Hard negatives: signing that differs from a reference in one controlled way.

Each set changes the *meaning frame* of an item and re-renders it with the same signer and
prosody, so the only difference between reference and negative is the one under test:

* ``negation``: negation added (NOT sign and/or head shake) or removed;
* ``minimal_pair``: one sign replaced by a sign of the same category that differs from it in a
  single phonological parameter (so the sentence stays grammatical);
* ``role_swap``: agent and recipient of a directional verb exchanged: same signs, opposite path;
* ``number``: a number (temperature, count, price, hour) changed.

Every negative records the English it actually signs (``text``) next to the reference text.
Not every set applies to every item (a greeting has no number); those items are skipped.
"""
from __future__ import annotations

import random

from .grammar import (COMPLEMENT_CLASSES, OBJECT_VERBS, VERB_COMPLEMENTS, WEATHER_ADJ_OK, copy_frame, realize,
                      render_english)
from . import english as en
from .lexicon import build_lexicon, minimal_partners

HARD_NEGATIVE_SETS = ("negation", "minimal_pair", "role_swap", "number")


def _negation(frame: dict, rng: random.Random) -> dict | None:
    frame = copy_frame(frame)
    targets = frame["parts"] if frame["kind"] == "compound" else [frame]
    candidates = [f for f in targets if "neg" in f and (f["kind"] != "weather" or f["phen"])]
    if not candidates:
        return None
    negated = [f for f in candidates if f["neg"]]
    target = negated[0] if negated else rng.choice(candidates)
    target["neg"] = not target["neg"]
    if target["neg"]:
        target["neg_style"] = rng.choices(("both", "sign", "headshake"), weights=(0.5, 0.25, 0.25))[0]
    return frame


def substitution_slots(frame: dict) -> list[tuple[dict, str, int | None]]:
    """(frame part, key, list index) of every slot holding one sign that could be substituted."""
    if frame["kind"] == "compound":
        return [s for part in frame["parts"] for s in substitution_slots(part)]
    slots = []
    for key, value in frame.items():
        if key in ("kind", "neg", "neg_style", "temp", "count", "hour", "currency", "phrase"):
            continue
        if isinstance(value, list):
            slots += [(frame, key, i) for i in range(len(value))]
        elif isinstance(value, str):
            slots.append((frame, key, None))
    return slots


def valid_substitute(frame: dict, key: str, index: int | None, new: str) -> bool:
    kind = frame["kind"]
    if key == "time":
        time = list(frame["time"])
        time[index] = new
        if len(time) == 2 and time[0] not in en.TIME_WITH_PART and not time[0].endswith("DAY"):
            return False
        if len(time) == 2 and time[0] in en.TIME_WITH_PART and time[1] not in en.TIME_WITH_PART[time[0]]:
            return False
        return True
    if kind == "weather" and key == "wadj":
        return frame["phen"] in WEATHER_ADJ_OK.get(new, set())
    if kind == "weather" and key == "phen" and frame["wadj"]:
        return new in WEATHER_ADJ_OK[frame["wadj"]]
    if kind == "activity" and key == "verb":
        classes = VERB_COMPLEMENTS.get(new)
        if classes is None:
            return False
        return any((c is None and frame["comp"] is None) or (c and frame["comp"] in COMPLEMENT_CLASSES[c])
                   for c in classes)
    if kind == "activity" and key == "comp":
        return any(c and frame["comp"] in COMPLEMENT_CLASSES[c] and new in COMPLEMENT_CLASSES[c]
                   for c in VERB_COMPLEMENTS[frame["verb"]])
    if kind == "transfer" and key in ("agent", "recipient"):
        # Keep the referents' alphabetical order, so only this one sign changes (not the loci).
        other = frame["recipient"] if key == "agent" else frame["agent"]
        return new != other and (new < other) == (frame[key] < other)
    if kind == "transfer" and key == "verb":
        return (frame["obj"] is not None) == (new in OBJECT_VERBS)
    if kind == "quantity" and key == "thing":
        return new in en.NOUN and en.NOUN[new][0][1] is not None
    if kind == "price" and key == "thing":
        return new in en.NOUN
    if kind == "social" and key == "name":
        return True
    return key not in ("phrase",)


def _minimal_pair(frame: dict, rng: random.Random) -> dict | None:
    frame = copy_frame(frame)
    lexicon = build_lexicon()
    partners = minimal_partners()
    options = []
    for part, key, index in substitution_slots(frame):
        old = part[key] if index is None else part[key][index]
        if old is None or old not in lexicon or lexicon[old].category == "number":
            continue
        for new in partners.get(old, []):
            if valid_substitute(part, key, index, new):
                options.append((part, key, index, new))
    if not options:
        return None
    part, key, index, new = rng.choice(options)
    if index is None:
        part[key] = new
    else:
        part[key][index] = new
    return frame


def _role_swap(frame: dict, rng: random.Random) -> dict | None:
    if frame["kind"] != "transfer":
        return None
    frame = copy_frame(frame)
    frame["agent"], frame["recipient"] = frame["recipient"], frame["agent"]
    return frame


def _other_number(value: int, low: int, high: int, rng: random.Random) -> int:
    choices = [v for v in range(max(low, value - 6), min(high, value + 6) + 1) if v != value]
    if value >= 20:  # also swap the digits' roles (25 -> 52), a classic back-translation error
        tens, units = divmod(value, 10)
        swapped = units * 10 + tens
        if units >= 2 and low <= swapped <= high:
            choices.append(swapped)
    return rng.choice(choices)


def _number(frame: dict, rng: random.Random) -> dict | None:
    frame = copy_frame(frame)
    targets = frame["parts"] if frame["kind"] == "compound" else [frame]
    slots = [(f, k) for f in targets for k in ("temp", "count", "hour") if f.get(k) is not None]
    if not slots:
        return None
    part, key = rng.choice(slots)
    bounds = {"temp": (-15, 40), "count": (2, 99), "hour": (1, 12)}[key]
    part[key] = _other_number(part[key], *bounds, rng)
    return frame


_OPERATIONS = {"negation": _negation, "minimal_pair": _minimal_pair, "role_swap": _role_swap,
               "number": _number}


def hard_negative_frames(frame: dict, rng: random.Random,
                         sets: tuple[str, ...] = HARD_NEGATIVE_SETS) -> dict[str, dict]:
    """Changed frames per applicable set (sets that do not apply are absent)."""
    out = {}
    original = realize(frame)
    for name in sets:
        changed = _OPERATIONS[name](frame, rng)
        if changed is None:
            continue
        real = realize(changed)
        if (real.glosses, real.headshake) != (original.glosses, original.headshake):
            out[name] = changed
    return out


def _rng_for(item, name: str) -> random.Random:
    from .corpus import derive_seed
    return random.Random(derive_seed("hard-negative", item.id, name))


def hard_negative_texts(item) -> dict[str, str]:
    """English of each applicable hard negative of ``item``, without rendering any pose.

    Deterministic per item id, and identical to the ``text`` of :func:`hard_negatives`.
    """
    return {name: _negative_text(item, name, frame) for name, frame in _negative_frames(item).items()}


def _negative_frames(item, sets: tuple[str, ...] = HARD_NEGATIVE_SETS) -> dict[str, dict]:
    """The changed frame of each applicable set, each drawn with its own per-item generator."""
    out = {}
    for name in sets:
        frames = hard_negative_frames(item.frame, _rng_for(item, name), (name,))
        if name in frames:
            out[name] = frames[name]
    return out


def _negative_text(item, name: str, frame: dict) -> str:
    """The English a hard negative is given (its first wording)."""
    return render_english(frame, _rng_for(item, name + ":text"))


def hard_negative_renderings(item, n: int) -> dict[str, list[str]]:
    """Up to ``n`` English renderings of each applicable hard negative of ``item`` (the first is
    the ``text`` of :func:`hard_negative_texts`; the others reword it, e.g. a role swap in the
    passive), deterministic per item id.

    Why: a learner that only ever sees one wording of each negative can tell it from the
    reference by its surface (active against passive) instead of by who does what."""
    from .corpus import derive_seed
    from .grammar import english_renderings
    out = {}
    for name, frame in _negative_frames(item).items():
        text = _negative_text(item, name, frame)
        more = english_renderings(frame, random.Random(derive_seed("hn-renderings", item.id, name)), n)
        out[name] = ([text] + [t for t in more if t != text])[:max(1, n)]
    return out


def hard_negatives(item, render_pose: bool = True, sets: tuple[str, ...] = HARD_NEGATIVE_SETS) -> dict:
    """Hard-negative items of ``item`` per applicable set (of ``sets``), rendered with the same
    signer and prosody. Each has ``id`` ``<item id>__<set>``, its own ``text`` and ``glosses``,
    and ``source_id``/``reference_text`` naming the item it derives from."""
    from .corpus import derive_seed, make_item
    out = {}
    for name, frame in _negative_frames(item, sets).items():
        text = _negative_text(item, name, frame)
        negative = make_item(frame, f"{item.id}__{name}", item.signer, item.intensity, item.split,
                             text_seed=derive_seed("hn-text", item.id, name),
                             render_seed=derive_seed("hn-render", item.id, name),
                             render_pose=render_pose, text=text)
        negative.source_id, negative.reference_text = item.id, item.text
        out[name] = negative
    return out
