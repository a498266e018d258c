"""Corpora of the synthetic language: items with English, glosses and rendered poses.

Splits are disjoint by *meaning*: a frame's canonical key is hashed into 100 buckets (train 0-79,
dev 80-89, test 90-99), so no test sentence (in any wording) ever occurs in training, whatever
the seeds. Signers are disjoint by id (see :mod:`.signers`). The same (n, seed, split, signers)
always gives the same corpus.
"""
from __future__ import annotations

import dataclasses
import hashlib
import random

import numpy as np

from ..errors import InputError
from .grammar import english_renderings, meaning_key, realize, sample_frame
from .lexicon import sign_index
from .render import FPS, INTENSITIES, render
from .signers import make_signer, signer_ids

SPLITS = ("train", "dev", "test")
_BUCKETS = {"train": range(0, 80), "dev": range(80, 90), "test": range(90, 100)}
#: Intensity levels are drawn with these weights (most signing is not emphatic).
INTENSITY_WEIGHTS = (0.4, 0.3, 0.3)


def derive_seed(*parts) -> int:
    """A 63-bit seed from any parts (stable across runs and machines, unlike ``hash``)."""
    text = "\x1f".join(str(p) for p in parts)
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little") >> 1


def split_of(frame: dict) -> str:
    """The split a meaning belongs to."""
    bucket = derive_seed("split", meaning_key(frame)) % 100
    for name, buckets in _BUCKETS.items():
        if bucket in buckets:
            return name
    raise AssertionError(bucket)  # pragma: no cover


@dataclasses.dataclass
class Item:
    """One sentence of the synthetic language, with its signing.

    ``pose`` is ``T × K × 3`` float32 (pixels of a 512 × 512 frame: x right, y down, z relative
    depth) and ``confidence`` ``T × K`` float32 (0 = missing keypoint); both are None for an item
    built without rendering. ``frame`` is the meaning the text and the glosses come from.
    """

    id: str
    text: str
    paraphrases: list[str]
    glosses: list[str]
    frame: dict
    negated: bool
    intensity: str
    signer: str
    split: str
    fps: float = FPS
    pose: np.ndarray | None = None
    confidence: np.ndarray | None = None
    sign_spans: list[tuple[int, int]] = dataclasses.field(default_factory=list)
    headshake: list[tuple[int, int]] = dataclasses.field(default_factory=list)
    nonmanual: list[dict] = dataclasses.field(default_factory=list)
    render_seed: int = 0
    source_id: str | None = None  # for hard negatives and system outputs: the reference item
    reference_text: str | None = None

    @property
    def frames(self) -> int:
        return 0 if self.pose is None else int(self.pose.shape[0])

    @property
    def kind(self) -> str:
        return self.frame["kind"]

    @property
    def sign_ids(self) -> list[int]:
        """Index of each gloss's sign in the lexicon (directional verbs by citation form)."""
        order = sign_index()
        return [order[g.partition(":")[0]] for g in self.glosses]

    def manifest_row(self, pose_path: str) -> dict:
        """The item's ``manifest.jsonl`` row (``pose`` relative to the manifest)."""
        return {
            "id": self.id, "text": self.text, "pose": pose_path, "paraphrases": self.paraphrases,
            "glosses": self.glosses, "negated": self.negated, "intensity": self.intensity,
            "signer": self.signer, "frames": self.frames, "fps": self.fps, "split": self.split,
            "kind": self.kind, "n_signs": len(self.glosses), "sign_ids": self.sign_ids,
            "sign_spans": [list(s) for s in self.sign_spans], "nonmanual": self.nonmanual,
            "meaning": self.frame,
            **({"source_id": self.source_id, "reference_text": self.reference_text}
               if self.source_id is not None else {}),
        }


def is_negated(frame: dict) -> bool:
    if frame["kind"] == "compound":
        return any(is_negated(p) for p in frame["parts"])
    return bool(frame.get("neg"))


def make_item(frame: dict, item_id: str, signer_id: str, intensity: str, split: str,
              text_seed: int, render_seed: int, *, render_pose: bool = True,
              text: str | None = None) -> Item:
    """Build (and by default render) the item of one frame.

    ``text`` forces the reference wording (hard negatives keep their own); otherwise the text
    and at least two paraphrases are drawn with ``text_seed``.
    """
    rng = random.Random(text_seed)
    renderings = english_renderings(frame, rng, 4)
    if text is not None:
        renderings = [text] + [r for r in renderings if r != text]
    real = realize(frame)
    nonmanual = [{"type": "headshake", "first_sign": a, "last_sign": b} for a, b in real.headshake]
    item = Item(id=item_id, text=renderings[0], paraphrases=renderings[1:], glosses=real.glosses,
                frame=frame, negated=is_negated(frame), intensity=intensity, signer=signer_id,
                split=split, nonmanual=nonmanual, render_seed=render_seed)
    if render_pose:
        render_item(item)
    return item


def render_item(item: Item, **kwargs) -> Item:
    """Render (or re-render) an item's pose in place from its glosses, signer and prosody."""
    real = realize(item.frame)
    out = render(real.glosses, real.predicates, real.headshake, make_signer(item.signer),
                 item.intensity, np.random.default_rng(item.render_seed), **kwargs)
    item.pose, item.confidence = out.pose, out.confidence
    item.sign_spans, item.headshake = out.sign_spans, out.headshake_frames
    return item


def _rendered_fields(items: list[Item]) -> list[tuple]:
    """What :func:`render_item` sets, for each item (runs in a worker of :func:`render_items`)."""
    return [(item.pose, item.confidence, item.sign_spans, item.headshake)
            for item in (render_item(item) for item in items)]


def render_items(items: list[Item], processes=0, chunk: int = 32) -> list[Item]:
    """:func:`render_item` for every item, in place, in worker processes (``processes``: a count,
    0 for here, or running :class:`silverscore.parallel.Workers`). The same poses wherever they
    are rendered: an item's render seed is part of the item."""
    from ..parallel import ordered_map

    if chunk < 1:
        raise ValueError(f"chunk must be >= 1, not {chunk}")
    parts = [items[start:start + chunk] for start in range(0, len(items), chunk)]
    for part, fields in zip(parts, ordered_map(_rendered_fields, parts, processes)):
        for item, (pose, confidence, spans, headshake) in zip(part, fields):
            item.pose, item.confidence, item.sign_spans, item.headshake = pose, confidence, spans, headshake
    return items


def generate_corpus(n_sentences: int, seed: int, split: str = "train", signers: int | None = None,
                    *, render_pose: bool = True, progress: bool = False, processes=0) -> list[Item]:
    """``n_sentences`` distinct items of ``split``, deterministic from ``seed``.

    Each item gets one of the split's signers (``signers`` of them, default per split), a
    prosody level and a text with paraphrases. With ``render_pose=False`` no pose is computed
    (fast; the trainer can render later with :func:`render_item`). ``processes`` (a count, or
    running :class:`silverscore.parallel.Workers`) renders the poses in worker processes after the
    items are drawn (:func:`render_items`): the same items, sooner.
    """
    deferred = render_pose and not (isinstance(processes, int) and processes == 0)
    if split not in SPLITS:
        raise InputError(None, f"unknown split {split!r} (choose from {', '.join(SPLITS)})")
    if n_sentences < 0:
        raise InputError(None, "the number of sentences must be >= 0")
    ids = signer_ids(split, signers)
    if not ids:
        raise InputError(None, "at least one signer is needed")
    rng = random.Random(derive_seed("corpus", seed, split))
    seen: set[str] = set()
    items: list[Item] = []
    attempts = 0
    iterator = range(n_sentences)
    if progress:
        from tqdm import tqdm
        iterator = tqdm(iterator, desc=f"synth {split}", unit="item")
    for index in iterator:
        while True:
            attempts += 1
            frame = sample_frame(rng)
            if split_of(frame) != split:
                continue
            key = meaning_key(frame)
            # Duplicates are avoided; a huge corpus may exhaust short sentences, then allow them.
            if key in seen and attempts < 50 * (n_sentences + 10):
                continue
            seen.add(key)
            break
        intensity = rng.choices(INTENSITIES, weights=INTENSITY_WEIGHTS)[0]
        signer_id = ids[rng.randrange(len(ids))]
        item_id = f"{split}-s{seed}-{index:05d}"
        items.append(make_item(frame, item_id, signer_id, intensity, split,
                               text_seed=derive_seed("text", seed, split, index),
                               render_seed=derive_seed("render", seed, split, index),
                               render_pose=render_pose and not deferred))
    if deferred:
        render_items(items, processes)
    return items
