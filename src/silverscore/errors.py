"""Errors that the command line turns into one line and exit code 2.

Every problem a user can cause (a missing file, a malformed array, a checkpoint in the wrong
layout, an offline download) is raised as :class:`InputError` naming the file and the problem,
so the CLI can report it without a traceback and library users can catch one type.
"""
from __future__ import annotations

from pathlib import Path


class InputError(Exception):
    """Bad user input: ``path`` (may be None) and a one-line ``problem``."""

    def __init__(self, path: str | Path | None, problem: str):
        self.path = None if path is None else str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}" if self.path else problem)


class CheckpointError(InputError):
    """A checkpoint that cannot be loaded exactly (wrong layout, unsafe pickle, missing file)."""
