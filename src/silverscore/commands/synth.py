"""``silverscore synth``: generate the synthetic sign language, or measure a generated set.

Thin layer over :mod:`silverscore.synth.build` and :mod:`silverscore.synth.report`.
"""
from __future__ import annotations

import argparse
import json

from ..errors import InputError


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "synth",
        help="generate synthetic signing (poses, video) with known meaning, or report its difficulty",
        description="Write DIR/manifest.jsonl and DIR/poses/<id>.pose for N sentences of the synthetic "
                    "sign language, deterministically from the seed. For --split test the hard-negative "
                    "sets are always written under DIR/hard_negatives/<set>/. With --report DIR, print "
                    "the difficulty measures of an existing set as JSON instead.",
    )
    parser.add_argument("--out", metavar="DIR", help="output directory")
    parser.add_argument("--sentences", type=int, default=100, metavar="N", help="number of sentences (default 100)")
    parser.add_argument("--seed", type=int, default=0, metavar="S", help="random seed (default 0)")
    parser.add_argument("--split", choices=("train", "dev", "test"), default="test",
                        help="split: disjoint sentences, unseen signers in test (default test)")
    parser.add_argument("--signers", type=int, default=None, metavar="K",
                        help="number of signers of the split (default: train 12, dev 3, test 4)")
    parser.add_argument("--video", action="store_true", help="also render an .mp4 per item (needs PyAV)")
    parser.add_argument("--hard-negatives", action="store_true",
                        help="write hard-negative sets (always done for --split test)")
    parser.add_argument("--systems", action="store_true",
                        help="also render outputs of simulated generation systems of known quality")
    parser.add_argument("--report", metavar="DIR", help="print difficulty measures of DIR as JSON and exit")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.report:
        from ..synth.report import difficulty_report
        print(json.dumps(difficulty_report(args.report), indent=2))
        return 0
    if not args.out:
        raise InputError(None, "synth needs --out DIR (or --report DIR)")
    if args.sentences < 1:
        raise InputError(None, "--sentences must be at least 1")
    if args.signers is not None and args.signers < 1:
        raise InputError(None, "--signers must be at least 1")
    from ..synth.build import write_dataset
    summary = write_dataset(args.out, args.sentences, args.seed, args.split, signers=args.signers,
                            video=args.video, hard_negatives=args.hard_negatives or args.split == "test",
                            systems=args.systems, progress=not args.quiet)
    print(json.dumps(summary))
    return 0
