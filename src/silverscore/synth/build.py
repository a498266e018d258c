"""Build a synthetic dataset directory: references, hard negatives and simulated systems.

Layout (all paths in manifests are relative to the manifest's directory)::

    DIR/manifest.jsonl                       reference items
    DIR/poses/<id>.pose
    DIR/hard_negatives/<set>/manifest.jsonl  sets negation, minimal_pair, role_swap, number
    DIR/hard_negatives/<set>/poses/<id>.pose
    DIR/systems/systems.json                 systems and their true corpus quality
    DIR/systems/<system>/manifest.jsonl      one output per reference item (same id)
    DIR/systems/<system>/poses/<id>.pose
"""
from __future__ import annotations

import json
from pathlib import Path

from ..io_utils import atomic_write
from .corpus import generate_corpus
from .dataset import write_items
from .negatives import HARD_NEGATIVE_SETS, hard_negatives as make_hard_negatives


def write_dataset(out: str | Path, n_sentences: int, seed: int, split: str, signers: int | None = None,
                  video: bool = False, hard_negatives: bool = True, systems: bool = False,
                  progress: bool = True) -> dict:
    """Generate and write a dataset; returns a small summary (counts per part)."""
    out = Path(out)
    items = generate_corpus(n_sentences, seed, split, signers, progress=progress)
    write_items(out, items, video=video, progress="write poses" if progress else None)
    summary = {"out": str(out), "split": split, "seed": seed, "items": len(items),
               "frames": sum(i.frames for i in items)}
    if hard_negatives:
        per_set: dict[str, list] = {name: [] for name in HARD_NEGATIVE_SETS}
        iterator = items
        if progress:
            from tqdm import tqdm
            iterator = tqdm(items, desc="hard negatives", unit="item")
        for item in iterator:
            for name, negative in make_hard_negatives(item).items():
                per_set[name].append(negative)
        for name, negatives in per_set.items():
            if negatives:  # a set that applies to no item (tiny corpora) is left out, not empty
                write_items(out / "hard_negatives" / name, negatives, video=video)
        summary["hard_negatives"] = {name: len(v) for name, v in per_set.items()}
    if systems:
        from .systems import write_systems
        summary["systems"] = write_systems(out / "systems", items, seed, video=video, progress=progress)
    with atomic_write(out / "synth.json") as handle:
        handle.write(json.dumps(summary, indent=2) + "\n")
    return summary
