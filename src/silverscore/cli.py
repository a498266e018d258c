"""The ``silverscore`` command line: a thin layer over the library.

Each sub-command lives in ``silverscore.commands.<name>`` and exposes ``register(subparsers)``
(which adds its parser and sets ``func``). This file only assembles them and turns
:class:`~silverscore.errors.InputError` into one line on stderr with exit code 2.
"""
from __future__ import annotations

import argparse
import importlib
import sys

from . import __version__
from .errors import InputError

# Order here is the order in ``silverscore --help``.
COMMAND_MODULES = [
    "score",
    "compare",
    "meta",
    "extract",
    "extract_poses",
    "train",
    "synth",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="silverscore",
        description="SiLVERScore: evaluate sign language generation against reference sentences.",
    )
    parser.add_argument("--version", action="version", version=f"silverscore {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(f"silverscore.commands.{name}").register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        result = args.func(args)
    except InputError as err:
        print(f"silverscore: error: {err}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # e.g. `silverscore ... | head`: the reader left, nothing to report
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print("silverscore: interrupted", file=sys.stderr)
        return 130
    return int(result or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
