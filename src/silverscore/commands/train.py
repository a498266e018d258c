"""``silverscore train --config FILE [--resume] [--out DIR]``: train an alignment model.

Thin by design: the work is in :mod:`silverscore.train`. Multi-process: launch the same command
under ``torchrun --nproc_per_node N -m silverscore.cli train --config FILE``.
"""
from __future__ import annotations

import json
import sys


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "train",
        help="train a video/pose-text alignment model from a TOML/YAML config",
        description="Train an alignment model (CiCo loss + hard negatives) from a TOML or YAML config. "
        "Writes OUT/model.safetensors + OUT/model.json, checkpoints under OUT/checkpoint/.",
    )
    parser.add_argument("--config", required=True, help="TOML or YAML training config")
    parser.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint/last.* if present")
    parser.add_argument("--out", help="output folder (overrides the config's 'out')")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)


def run(args) -> int:
    from ..train.run import keep_freed_memory_in_process, run_training

    keep_freed_memory_in_process()
    figures = run_training(args.config, resume=args.resume, out=args.out, progress=not args.no_progress)
    if figures:
        print(json.dumps(figures, indent=1, sort_keys=True), file=sys.stdout)
    return 0
