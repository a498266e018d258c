"""Reading and writing ``.pose`` files with pose-format's own classes.

The files carry a MediaPipe-Holistic-compatible header (see :mod:`.skeleton`), float32 ``XYZC``
points and one person, so any tool that reads holistic ``.pose`` files reads ours.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from pose_format import Pose
from pose_format.numpy import NumPyPoseBody
from pose_format.pose_header import PoseHeader, PoseHeaderComponent, PoseHeaderDimensions

from ..io_utils import atomic_write
from . import skeleton as sk

_COLORS = {"POSE_LANDMARKS": (255, 0, 0), "FACE_LANDMARKS": (128, 0, 0),
           "LEFT_HAND_LANDMARKS": (0, 200, 0), "RIGHT_HAND_LANDMARKS": (0, 0, 255)}


def make_header() -> PoseHeader:
    """The header shared by every synthetic ``.pose`` file."""
    components = [
        PoseHeaderComponent(name=name, points=list(points), limbs=list(limbs),
                            colors=[_COLORS[name]], point_format="XYZC")
        for name, points, limbs in sk.COMPONENTS
    ]
    return PoseHeader(version=0.2, dimensions=PoseHeaderDimensions(sk.FRAME_WIDTH, sk.FRAME_HEIGHT, 1),
                      components=components)


def to_pose(pose: np.ndarray, confidence: np.ndarray, fps: float) -> Pose:
    """A pose-format :class:`Pose` from ``T × K × 3`` points and ``T × K`` confidences."""
    data = np.asarray(pose, dtype=np.float32)[:, None]
    conf = np.asarray(confidence, dtype=np.float32)[:, None]
    return Pose(make_header(), NumPyPoseBody(fps=fps, data=data, confidence=conf))


def write_pose(path: str | Path, pose: np.ndarray, confidence: np.ndarray, fps: float) -> None:
    """Write a ``.pose`` file atomically."""
    with atomic_write(path, "wb") as handle:
        to_pose(pose, confidence, fps).write(handle)


def read_pose(path: str | Path) -> tuple[np.ndarray, np.ndarray, float]:
    """Read a ``.pose`` file: (``T × K × 3`` float32 points, ``T × K`` confidences, fps).

    The package's one pose reader (:func:`silverscore.inputs.poses.read_pose`), unpacked: the
    first person only, missing points as zeros with confidence 0.
    """
    from ..inputs.poses import read_pose as read_sequence

    sequence = read_sequence(path)
    return sequence.data, sequence.confidence, sequence.fps
