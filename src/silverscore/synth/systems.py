"""Simulated sign language generation systems of known quality.

Each system renders, for every reference item, an output with errors of one kind at one
strength, and records what the output *actually* signs (``signed_glosses``, ``signed_text``) and
its true quality, so a metric's ranking of systems can be checked against the truth.

Error kinds:

* ``substitution``: a sign replaced by another of its category (meaning changes, still grammatical);
* ``deletion`` / ``insertion``: signs dropped / random signs inserted;
* ``shuffle``: the sign order permuted (sign order carries time-topic-comment structure);
* ``direction``: directional verbs move the wrong way (agent and recipient swapped);
* ``negation``: negation dropped (no NOT sign, no head shake);
* ``jitter``: temporal jitter (random local speed changes), meaning intact;
* ``frozen``: frozen frames (the pose stops for a while; signs mostly inside lost);
* ``noise``: keypoint noise.

True quality of one output (documented in docs/synth.md)::

    quality = sign_similarity × meaning_factor × fidelity
    sign_similarity = 1 − Levenshtein(output tokens, reference tokens) / max(lengths)
    meaning_factor  = 0.5 if the negation polarity or the roles differ from the reference, else 1
    fidelity        = exp(−σ/20) for noise of σ pixels, 1 − 0.25·strength for temporal jitter, else 1

where tokens are the glosses (directions included) plus a head-shake token when present.
A system's corpus quality is the mean over its outputs.
"""
from __future__ import annotations

import json
import math
import random
from pathlib import Path

import numpy as np

from ..io_utils import atomic_write
from .corpus import Item, derive_seed
from .dataset import write_items
from .grammar import copy_frame, gloss_english, realize, render_english
from .lexicon import DIRECTIONAL, VOCABULARY, build_lexicon
from .negatives import substitution_slots, valid_substitute
from .render import render
from .signers import make_signer

#: (name, error kind, strength). Strength is a per-sign or per-item probability, a fraction of
#: frozen frames, a jitter scale or a noise level in pixels, depending on the kind.
SYSTEMS: list[tuple[str, str, float]] = [
    ("reference", "none", 0.0),
    ("substitution-low", "substitution", 0.15),
    ("substitution-high", "substitution", 0.45),
    ("deletion-low", "deletion", 0.15),
    ("deletion-high", "deletion", 0.4),
    ("insertion-low", "insertion", 0.15),
    ("insertion-high", "insertion", 0.4),
    ("shuffle-low", "shuffle", 0.3),
    ("shuffle-high", "shuffle", 1.0),
    ("wrong-direction", "direction", 1.0),
    ("dropped-negation", "negation", 1.0),
    ("temporal-jitter-low", "jitter", 0.3),
    ("temporal-jitter-high", "jitter", 0.9),
    ("frozen-low", "frozen", 0.2),
    ("frozen-high", "frozen", 0.5),
    ("noise-low", "noise", 3.0),
    ("noise-high", "noise", 12.0),
]


def _tokens(glosses: list[str], headshake: list) -> list[str]:
    return list(glosses) + (["<headshake>"] if headshake else [])


def levenshtein(a: list, b: list) -> int:
    """Edit distance between two token lists (insert, delete, substitute: cost 1)."""
    previous = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        current = [i]
        for j, y in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x != y)))
        previous = current
    return previous[-1]


def sign_similarity(output: list[str], reference: list[str]) -> float:
    longest = max(len(output), len(reference), 1)
    return 1.0 - levenshtein(output, reference) / longest


def _substitute(frame: dict, p: float, rng: random.Random) -> dict:
    frame = copy_frame(frame)
    lexicon = build_lexicon()
    for part, key, index in substitution_slots(frame):
        old = part[key] if index is None else part[key][index]
        if old is None or old not in lexicon or rng.random() >= p:
            continue
        pool = [g for g in VOCABULARY[lexicon[old].category] if g != old]
        rng.shuffle(pool)
        for new in pool:
            if valid_substitute(part, key, index, new):
                if index is None:
                    part[key] = new
                else:
                    part[key][index] = new
                break
    return frame


def _polarity(frame: dict) -> list:
    parts = frame["parts"] if frame["kind"] == "compound" else [frame]
    return [bool(p.get("neg")) for p in parts]


def _roles(frame: dict):
    return (frame.get("agent"), frame.get("recipient")) if frame["kind"] == "transfer" else None


def _drop_negation(frame: dict) -> dict:
    frame = copy_frame(frame)
    for part in frame["parts"] if frame["kind"] == "compound" else [frame]:
        if part.get("neg"):
            part["neg"] = False
    return frame


def _swap_roles(frame: dict) -> dict:
    frame = copy_frame(frame)
    if frame["kind"] == "transfer":
        frame["agent"], frame["recipient"] = frame["recipient"], frame["agent"]
    return frame


def _sequence_edit(glosses, predicates, headshake, kind: str, p: float, rng: random.Random):
    """Delete, insert or shuffle signs; keeps predicate and head-shake indices consistent."""
    n = len(glosses)
    marks = [(g, i in predicates, any(a <= i <= b for a, b in headshake)) for i, g in enumerate(glosses)]
    if kind == "deletion":
        kept = [m for m in marks if rng.random() >= p]
        if not kept:
            kept = [marks[rng.randrange(n)]]
        marks = kept
    elif kind == "insertion":
        out = []
        lexicon = [g for g in build_lexicon() if g not in ("IX",)]
        for m in marks:
            out.append(m)
            if rng.random() < p:
                new = rng.choice(lexicon)
                if build_lexicon()[new].movement == DIRECTIONAL:
                    new += rng.choice([":a>b", ":b>a"])
                out.append((new, False, False))
        marks = out
    elif kind == "shuffle" and rng.random() < p and n > 1:
        original = list(marks)
        for _ in range(10):
            rng.shuffle(marks)
            if marks != original:
                break
    glosses = [m[0] for m in marks]
    predicates = [i for i, m in enumerate(marks) if m[1]]
    spans = []
    for i, m in enumerate(marks):
        if m[2]:
            if spans and spans[-1][1] == i - 1:
                spans[-1] = (spans[-1][0], i)
            else:
                spans.append((i, i))
    return glosses, predicates, spans


def _time_warp(pose: np.ndarray, conf: np.ndarray, strength: float, rng: np.random.Generator):
    """Resample frames with a smoothly varying random speed (mean speed 1)."""
    T = len(pose)
    knots = rng.normal(0.0, 0.45 * strength, max(2, T // 12 + 2))
    speed = np.exp(np.interp(np.linspace(0, len(knots) - 1, T), np.arange(len(knots)), knots))
    tau = np.concatenate([[0.0], np.cumsum(speed)])
    tau = tau[tau <= T - 1]
    lo = np.floor(tau).astype(int)
    hi = np.minimum(lo + 1, T - 1)
    w = (tau - lo)[:, None, None]
    new_pose = pose[lo] * (1 - w) + pose[hi] * w
    new_conf = np.minimum(conf[lo], conf[hi])
    new_pose[new_conf == 0] = 0.0
    return new_pose.astype(np.float32), new_conf.astype(np.float32)


def _freeze(pose: np.ndarray, conf: np.ndarray, fraction: float, rng: np.random.Generator):
    """Freeze random spans covering about ``fraction`` of the frames; returns the frozen mask."""
    T = len(pose)
    frozen = np.zeros(T, dtype=bool)
    target = int(round(fraction * T))
    guard = 0
    while frozen.sum() < target and guard < 100:
        guard += 1
        length = int(rng.integers(8, 21))
        start = int(rng.integers(0, max(T - length, 1)))
        frozen[start:start + length] = True
    pose, conf = pose.copy(), conf.copy()
    for t in range(1, T):
        if frozen[t]:
            pose[t], conf[t] = pose[t - 1], conf[t - 1]
    return pose, conf, frozen


def system_output(item: Item, name: str, kind: str, strength: float) -> tuple[Item, dict]:
    """One system's output for one reference item, and its manifest row fields."""
    rng = random.Random(derive_seed("system", name, item.id))
    nrng = np.random.default_rng(derive_seed("system-render", name, item.id))
    real = realize(item.frame)
    ref_tokens = _tokens(real.glosses, real.headshake)
    frame = item.frame
    glosses, predicates, headshake = real.glosses, real.predicates, real.headshake
    signed_text = item.text
    if kind == "substitution":
        frame = _substitute(item.frame, strength, rng)
    elif kind == "direction":
        frame = _swap_roles(item.frame)
    elif kind == "negation":
        frame = _drop_negation(item.frame)
    if frame is not item.frame:
        out = realize(frame)
        glosses, predicates, headshake = out.glosses, out.predicates, out.headshake
        if glosses != real.glosses or headshake != real.headshake:
            signed_text = render_english(frame, rng)
    if kind in ("deletion", "insertion", "shuffle"):
        glosses, predicates, headshake = _sequence_edit(glosses, predicates, headshake, kind, strength, rng)
        if glosses != real.glosses or headshake != real.headshake:
            signed_text = gloss_english(glosses)
    rendered = render(glosses, predicates, headshake, make_signer(item.signer), item.intensity, nrng)
    pose, conf = rendered.pose, rendered.confidence
    signed = list(glosses)
    fidelity = 1.0
    if kind == "jitter":
        pose, conf = _time_warp(pose, conf, strength, nrng)
        fidelity = 1.0 - 0.25 * strength
    elif kind == "noise":
        noise = nrng.normal(0.0, strength, pose.shape).astype(np.float32)
        noise[..., 2] *= 2
        pose = np.where(conf[..., None] > 0, pose + noise, 0.0).astype(np.float32)
        fidelity = math.exp(-strength / 20.0)
    elif kind == "frozen":
        pose, conf, frozen = _freeze(pose, conf, strength, nrng)
        lost = [i for i, (a, b) in enumerate(rendered.sign_spans) if frozen[a:b + 1].mean() >= 0.5]
        if lost:
            signed = [g for i, g in enumerate(glosses) if i not in lost]
            headshake = [(a, b) for a, b in headshake if any(i not in lost for i in range(a, b + 1))]
            signed_text = gloss_english(signed) if signed else ""
    out_tokens = _tokens(signed, headshake)
    meaning_factor = 1.0
    if kind in ("direction", "negation", "substitution"):
        if _polarity(frame) != _polarity(item.frame) or _roles(frame) != _roles(item.frame):
            meaning_factor = 0.5
    quality = sign_similarity(out_tokens, ref_tokens) * meaning_factor * fidelity
    output = Item(id=item.id, text=signed_text, paraphrases=[], glosses=signed, frame=frame,
                  negated=bool(headshake) or "NOT" in signed, intensity=item.intensity,
                  signer=item.signer, split=item.split, pose=pose, confidence=conf,
                  sign_spans=rendered.sign_spans, source_id=item.id, reference_text=item.text)
    fields = {"signed_text": signed_text, "signed_glosses": signed, "quality": round(quality, 4),
              "error": kind, "strength": strength}
    return output, fields


def write_systems(directory: str | Path, items: list[Item], seed: int, video: bool = False,
                  progress: bool = True) -> dict[str, float]:
    """Render every system's outputs for ``items``; returns system -> true corpus quality."""
    directory = Path(directory)
    qualities = {}
    listing = []
    systems = SYSTEMS
    if progress:
        from tqdm import tqdm
        systems = tqdm(SYSTEMS, desc="systems", unit="system")
    for name, kind, strength in systems:
        outputs, extras = [], {}
        for item in items:
            output, fields = system_output(item, name, kind, strength)
            outputs.append(output)
            extras[item.id] = fields

        def row(output, pose_path, extras=extras):
            return {"id": output.id, "pose": pose_path, "text": output.reference_text,
                    "reference_text": output.reference_text, **extras[output.id],
                    "signer": output.signer, "intensity": output.intensity,
                    "frames": output.frames, "fps": output.fps}

        write_items(directory / name, outputs, row=row, video=video)
        quality = float(np.mean([extras[i.id]["quality"] for i in items])) if items else 0.0
        qualities[name] = round(quality, 4)
        listing.append({"name": name, "error": kind, "strength": strength, "quality": qualities[name],
                        "manifest": f"{name}/manifest.jsonl"})
    listing.sort(key=lambda s: -s["quality"])
    with atomic_write(directory / "systems.json") as handle:
        handle.write(json.dumps({"seed": seed, "items": len(items), "systems": listing}, indent=2) + "\n")
    return qualities
