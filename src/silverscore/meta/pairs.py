"""Random (video, text) pairs for the correct-vs-random protocol, reproducible and reusable.

Spec §5 draws, for each item k, one random pair (video i, text j) with i and j two *independent*
uniform indices (so i == j can happen, as in the paper's data). The pairs are drawn from a seeded
generator and can be saved to a JSON file, so a second metric (or a second model) can be scored
on exactly the same random pairs – the only fair way to compare overlaps and AUCs.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..io_utils import atomic_write


def draw_random_pairs(n_items: int, seed: int = 0) -> np.ndarray:
    """An [n_items, 2] int array of (video index, text index), drawn independently.

    Two child generators (one per column) come from one ``SeedSequence``, so the video indices do
    not depend on how many text indices were drawn and vice versa.
    """
    if n_items < 1:
        raise ValueError("need at least one item to draw random pairs")
    video_seq, text_seq = np.random.SeedSequence(seed).spawn(2)
    video = np.random.default_rng(video_seq).integers(0, n_items, size=n_items)
    text = np.random.default_rng(text_seq).integers(0, n_items, size=n_items)
    return np.stack([video, text], axis=1).astype(np.int64)


def own_pair_mask(pairs: np.ndarray) -> np.ndarray:
    """Which random pairs are an item's own, correct pair (video index == text index).

    Why count them: with independent indices about one pair in n is such a self-pair, scored as
    highly as a correct pair, so it costs even a perfect metric about 1/(2n) of AUC on average,
    and a whole 1/n where the item scores at the top. On a 25-item group one self-pair can move
    the AUC by 0.04. Reports keep the protocol's AUC and add the AUC without them."""
    pairs = np.asarray(pairs)
    return pairs[:, 0] == pairs[:, 1]


def save_pairs(path: str | Path, pairs: np.ndarray, seed: int | None = None, ids: list[str] | None = None) -> None:
    """Write the pairs as JSON: ``{"seed", "n_items", "pairs": [[i, j], ...], "ids"}``."""
    payload = {
        "seed": seed,
        "n_items": int(len(pairs)),
        "pairs": [[int(i), int(j)] for i, j in pairs],
    }
    if ids is not None:
        payload["ids"] = list(ids)
    with atomic_write(path) as handle:
        json.dump(payload, handle, indent=1)
        handle.write("\n")


def load_pairs(path: str | Path, n_items: int) -> np.ndarray:
    """Read pairs saved by :func:`save_pairs` and check they index ``n_items`` items."""
    path = Path(path)
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(path, "pairs file not found") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise InputError(path, f"not a pairs JSON file ({err})") from None
    raw = payload.get("pairs") if isinstance(payload, dict) else None
    if not isinstance(raw, list):
        raise InputError(path, 'expected a JSON object with a "pairs" list of [video, text] indices')
    try:
        pairs = np.asarray(raw, dtype=np.int64).reshape(-1, 2)
    except (TypeError, ValueError):
        raise InputError(path, "each pair must be two integer indices") from None
    if len(pairs) != n_items:
        raise InputError(path, f"has {len(pairs)} pairs but there are {n_items} items")
    if pairs.size and (pairs.min() < 0 or pairs.max() >= n_items):
        raise InputError(path, f"pair indices must lie in 0..{n_items - 1}")
    return pairs
