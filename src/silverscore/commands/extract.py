"""``silverscore extract``: I3D clip features of a folder of videos, one file per video.

Thin layer over :func:`silverscore.extract.extract_to_dir`. Exit codes: 0 every video has its
features; 1 some videos failed (listed at the end, the others were written); 2 a usage or input
error that stopped the run before it began (missing checkpoint, no videos, ...).
"""
from __future__ import annotations

import argparse
import sys


def add_video_run_options(parser: argparse.ArgumentParser) -> None:
    """Options every per-video corpus command shares (extract, extract-poses)."""
    parser.add_argument("--videos", required=True, help="folder of videos (searched recursively)")
    parser.add_argument("--out", required=True, help="output folder (mirrors the input folder's layout)")
    parser.add_argument("--max-pixels", type=int, default=None,
                        help="largest accepted frame in pixels (default 7680*4320); bigger videos are reported as failed")
    parser.add_argument("--min-frames", type=int, default=None,
                        help="fewest frames a video must have (default 2: a one-frame video is reported as failed)")
    parser.add_argument("--distributed", action="store_true",
                        help="share the videos among torchrun processes (automatic when WORLD_SIZE > 1)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def video_limits(args: argparse.Namespace) -> dict:
    return {key: value for key, value in (("max_pixels", args.max_pixels), ("min_frames", args.min_frames))
            if value is not None}


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "extract",
        help="I3D features of a folder of videos (CiCo's exact pre-processing, batched)",
        description="Extract I3D clip features (n x 1024 per video, one per 16-frame window) exactly as "
                    "CiCo does, blending the domain-agnostic and domain-aware streams when both are given. "
                    "Resumable: finished videos are skipped. Exit code 1 when some videos failed.",
    )
    add_video_run_options(parser)
    parser.add_argument("--agnostic-ckpt", required=True, help="domain-agnostic I3D checkpoint (BSL-1K bsl5k.pth.tar)")
    parser.add_argument("--aware-ckpt", default=None, help="domain-aware I3D checkpoint (same layout), blended with --alpha")
    parser.add_argument("--alpha", type=float, default=0.9,
                        help="weight of the agnostic stream when both are given (0.9 PHOENIX-14T, 0.8 CSL-Daily/How2Sign)")
    parser.add_argument("--stride", type=int, default=1, help="frames between window starts (default 1, as CiCo)")
    parser.add_argument("--batch-size", type=int, default=None,
                        help="windows per forward pass (default 16 on CUDA); on CPU at strides below 8, where "
                             "overlapping windows share the stem, windows per pass after it (default 1)")
    parser.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N (under torchrun, cuda = each rank's own GPU)")
    parser.add_argument("--pkl", action="store_true", help="also write CiCo's <name>.pkl ({'feature': array})")
    parser.add_argument("--no-npy", action="store_true", help="do not write <name>.npy (use with --pkl)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..extract import extract_to_dir
    from ..video.corpus import Shard

    shard = Shard.current(True if args.distributed else None)
    try:
        report = extract_to_dir(
            args.videos, args.out, args.agnostic_ckpt, args.aware_ckpt, alpha=args.alpha, stride=args.stride,
            batch_size=args.batch_size, device=args.device, write_npy=not args.no_npy,
            write_pkl=args.pkl, progress=not args.quiet, distributed=shard.active or None, **video_limits(args),
        )
    finally:
        shard.close()
    if shard.is_main:
        for line in report.lines("extract"):
            print(line, file=sys.stderr)
    return report.exit_code
