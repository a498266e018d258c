"""Benchmark: how fast is the synthetic sign language generated? (target: 2,000 items < 2 min, 1 core)

Usage: python benchmarks/bench_synth.py [--items 2000] [--out DIR]

Prints JSON: seconds to generate (grammar + pose rendering, in memory), to write the .pose files
and manifest, their total, items per second and the size on disk. Runs on one thread.
"""
from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import shutil  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--out", help="directory to write to (default: a temporary one, removed after)")
    args = parser.parse_args()

    from silverscore.synth.corpus import generate_corpus
    from silverscore.synth.dataset import write_items

    out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="bench_synth_"))
    try:
        start = time.perf_counter()
        items = generate_corpus(args.items, seed=0, split="train")
        generated = time.perf_counter()
        write_items(out, items)
        written = time.perf_counter()
        size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
        print(json.dumps({
            "items": len(items),
            "frames": sum(i.frames for i in items),
            "generate_s": round(generated - start, 2),
            "write_s": round(written - generated, 2),
            "total_s": round(written - start, 2),
            "items_per_s": round(len(items) / (written - start), 1),
            "disk_mb": round(size / 2**20, 1),
            "target": "2000 items < 120 s on one core",
        }, indent=2))
    finally:
        if not args.out:
            shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
