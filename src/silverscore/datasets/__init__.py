"""Dataset loaders for training: each reads a corpus's own annotation layout into :class:`Record` rows.

The loaders only pair a media file (I3D feature file or pose file) with its sentence; they read
no media. See :mod:`silverscore.datasets.loaders` for the layouts.
"""
from .loaders import LOADERS, Record, load_dataset

__all__ = ["LOADERS", "Record", "load_dataset"]
