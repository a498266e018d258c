"""Reading pose sequences: pose-format ``.pose`` files and numpy arrays, into one type.

Generation systems output skeletons in several ways (pose-format files from MediaPipe Holistic
or OpenPose, or plain arrays), so the pose models take a single in-memory type,
:class:`PoseSequence`: ``T × K × 3`` coordinates, a ``T × K`` confidence (0 = point missing),
the frame rate and, when the source says so, the ``COMPONENT:POINT`` name of every keypoint. The
names let a model trained on one keypoint layout pick its own points out of a richer file (full
MediaPipe face mesh, extra components) instead of silently reading the wrong columns.

Only the first person of a multi-person file is kept (sign language generation outputs one
signer). Normalisation (centring, scaling) is *not* done here: it belongs to the model that was
trained with it (:mod:`silverscore.models.pose_encoder`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..errors import InputError

POSE_SUFFIXES = (".pose", ".npy", ".npz")


@dataclass
class PoseSequence:
    """One signer's poses over time.

    Attributes:
        data: float32 ``[T, K, 3]`` (x, y, z; z is 0 for 2-D sources). Missing points may hold any
            value; ``confidence`` says which ones to trust.
        confidence: float32 ``[T, K]`` in [0, 1]; 0 means the keypoint is missing in that frame.
        fps: frames per second (25 when the source does not say).
        keypoints: ``COMPONENT:POINT`` names, one per K, or None when the source has no names.
    """

    data: np.ndarray
    confidence: np.ndarray
    fps: float = 25.0
    keypoints: list[str] | None = field(default=None)

    def __post_init__(self) -> None:
        self.data = np.asarray(self.data, dtype=np.float32)
        self.confidence = np.asarray(self.confidence, dtype=np.float32)
        if self.data.ndim != 3 or self.data.shape[2] != 3:
            raise ValueError(f"pose data must be T x K x 3, got shape {self.data.shape}")
        if self.confidence.shape != self.data.shape[:2]:
            raise ValueError(f"confidence must be T x K = {self.data.shape[:2]}, got {self.confidence.shape}")
        if self.keypoints is not None and len(self.keypoints) != self.data.shape[1]:
            raise ValueError(f"{len(self.keypoints)} keypoint names for {self.data.shape[1]} keypoints")

    @property
    def frames(self) -> int:
        return int(self.data.shape[0])


def pose_from_array(array: np.ndarray, confidence: np.ndarray | None = None, fps: float = 25.0,
                    keypoints: Sequence[str] | None = None, source: str | Path | None = None) -> PoseSequence:
    """Build a :class:`PoseSequence` from ``T×K×D`` numbers (D = 2, 3, or 4 with confidence last).

    Without an explicit confidence, a ``T×K×4`` array's last channel is the confidence; otherwise
    a point is missing when any coordinate is NaN or all coordinates are exactly 0 (the way
    MediaPipe exports undetected points).
    """
    arr = np.asarray(array, dtype=np.float32)
    if arr.ndim != 3 or arr.shape[0] < 1 or arr.shape[1] < 1 or arr.shape[2] not in (2, 3, 4):
        raise InputError(source, f"pose array must be T x K x D with D in 2..4 and T, K >= 1, got shape {arr.shape}")
    if arr.shape[2] == 4 and confidence is None:
        confidence = arr[..., 3]
        arr = arr[..., :3]
    elif arr.shape[2] == 4:
        arr = arr[..., :3]
    if arr.shape[2] == 2:
        arr = np.concatenate([arr, np.zeros(arr.shape[:2] + (1,), np.float32)], axis=2)
    nan = np.isnan(arr).any(axis=2)
    if confidence is None:
        confidence = (~nan & (np.abs(arr).sum(axis=2) > 0)).astype(np.float32)
    confidence = np.asarray(confidence, dtype=np.float32)
    if confidence.shape != arr.shape[:2]:
        raise InputError(source, f"confidence must be T x K = {arr.shape[:2]}, got shape {confidence.shape}")
    confidence = np.where(nan | ~np.isfinite(confidence), 0.0, np.clip(confidence, 0.0, 1.0)).astype(np.float32)
    arr = np.where(nan[..., None], 0.0, arr).astype(np.float32)
    return PoseSequence(arr, confidence, float(fps), list(keypoints) if keypoints is not None else None)


def as_pose_sequence(item: Any) -> PoseSequence:
    """Accept what callers naturally hold: a PoseSequence, a path, an array, or (array, confidence)."""
    if isinstance(item, PoseSequence):
        return item
    if isinstance(item, (str, Path)):
        return read_pose(item)
    if isinstance(item, tuple) and len(item) == 2:
        return pose_from_array(item[0], item[1])
    if isinstance(item, dict) and "data" in item:
        return pose_from_array(item["data"], item.get("confidence"), item.get("fps", 25.0), item.get("keypoints"))
    if hasattr(item, "pose") and hasattr(item, "confidence"):  # e.g. a synthetic corpus item
        return pose_from_array(item.pose, item.confidence, getattr(item, "fps", 25.0))
    return pose_from_array(item)


def _read_pose_format(path: Path) -> PoseSequence:
    from pose_format import Pose

    try:
        with open(path, "rb") as handle:
            pose = Pose.read(handle.read())
    except Exception as err:  # the library raises many kinds on a malformed file
        raise InputError(path, f"not a readable .pose file ({type(err).__name__}: {err})") from None
    body = pose.body.data
    data = np.asarray(body.filled(0.0) if isinstance(body, np.ma.MaskedArray) else body, dtype=np.float32)  # missing → 0
    confidence = np.asarray(pose.body.confidence, dtype=np.float32)
    if data.ndim != 4 or data.shape[0] < 1:
        raise InputError(path, f"pose body has shape {data.shape}; expected frames x people x points x dims with >= 1 frame")
    mask = np.ma.getmaskarray(pose.body.data)
    data, confidence = data[:, 0], confidence[:, 0]
    if mask.ndim == 4:
        confidence = np.where(mask[:, 0].any(axis=-1), 0.0, confidence)
    names = [f"{component.name}:{point}" for component in pose.header.components for point in component.points]
    if len(names) != data.shape[1]:
        names = None
    if data.shape[2] > 3:
        data = data[..., :3]
    return pose_from_array(data, confidence, float(pose.body.fps or 25.0), names, path)


def read_pose(path: str | Path) -> PoseSequence:
    """Read one pose sequence: pose-format ``.pose``, or ``.npy`` / ``.npz`` arrays.

    ``.npz`` may hold ``data`` (or ``pose``/``poses``) and ``confidence``, optionally ``fps`` and
    ``keypoints``; ``.npy`` holds a ``T×K×D`` array (D = 4: confidence last). Arrays are loaded
    without pickle. Any problem is an :class:`InputError` naming the file.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "pose file not found")
    suffix = path.suffix.lower()
    if suffix == ".pose":
        return _read_pose_format(path)
    if suffix == ".npy":
        try:
            array = np.load(path, allow_pickle=False)
        except Exception as err:
            raise InputError(path, f"not a readable .npy array ({err})") from None
        return pose_from_array(array, source=path)
    if suffix == ".npz":
        try:
            with np.load(path, allow_pickle=False) as archive:
                contents = {key: archive[key] for key in archive.files}
        except Exception as err:
            raise InputError(path, f"not a readable .npz archive ({err})") from None
        key = next((k for k in ("data", "pose", "poses") if k in contents), None)
        if key is None:
            raise InputError(path, f"no 'data' array in .npz (keys: {', '.join(sorted(contents)) or 'none'})")
        fps = float(contents["fps"]) if "fps" in contents else 25.0
        names = [str(n) for n in contents["keypoints"]] if "keypoints" in contents else None
        return pose_from_array(contents[key], contents.get("confidence"), fps, names, path)
    raise InputError(path, f"unsupported pose file type {suffix!r} (use .pose, .npy or .npz)")
