"""``silverscore extract-poses``: MediaPipe Holistic poses of a folder of videos, as ``.pose`` files.

Thin layer over :func:`silverscore.video.poses.extract_poses_to_dir`. Exit codes as for
``silverscore extract``: 0 all done, 1 some videos failed (listed), 2 usage/input error (e.g. no
model file: the message says where to download it).
"""
from __future__ import annotations

import argparse
import sys

from .extract import add_video_run_options, video_limits


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "extract-poses",
        help="MediaPipe Holistic poses of a folder of videos (pose-format .pose files)",
        description="Run MediaPipe's Holistic landmarker on every video and write <name>.pose files "
                    "(pose-format, Holistic layout) for the pose models. Needs the model file "
                    "holistic_landmarker.task (see --model). Resumable; exit code 1 when some videos failed.",
    )
    add_video_run_options(parser)
    parser.add_argument("--model", default=None,
                        help="MediaPipe holistic_landmarker.task file (from "
                             "https://ai.google.dev/edge/mediapipe/solutions/vision/holistic_landmarker)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..video.corpus import Shard
    from ..video.poses import extract_poses_to_dir

    shard = Shard.current(True if args.distributed else None)
    try:
        report = extract_poses_to_dir(args.videos, args.out, args.model, progress=not args.quiet,
                                      distributed=shard.active or None, **video_limits(args))
    finally:
        shard.close()
    if shard.is_main:
        for line in report.lines("extract-poses"):
            print(line, file=sys.stderr)
    return report.exit_code
