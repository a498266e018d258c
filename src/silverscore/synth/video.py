"""Video rendering of keypoints: a 2-D stick figure encoded as ``.mp4`` with PyAV.

The I3D feature extractor needs RGB video, and real users have video, so the synthetic signing
can be rendered as video too. Drawing is plain numpy (points sampled along each limb, stamped
as small discs) so it is fast and has no dependency beyond PyAV for encoding (the ``video``
extra). Colours: body grey, face brown, left hand green, right hand blue, on a light background.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import InputError
from ..io_utils import atomic_write
from . import skeleton as sk

_BACKGROUND = 240
_COMPONENT_COLORS = {"POSE_LANDMARKS": (90, 90, 90), "FACE_LANDMARKS": (150, 80, 40),
                     "LEFT_HAND_LANDMARKS": (20, 150, 40), "RIGHT_HAND_LANDMARKS": (30, 60, 200)}


def _limb_table():
    pairs, colors, start = [], [], 0
    for name, points, limbs in sk.COMPONENTS:
        for a, b in limbs:
            pairs.append((start + a, start + b))
            colors.append(_COMPONENT_COLORS[name])
        start += len(points)
    return np.array(pairs), np.array(colors, dtype=np.uint8)


_PAIRS, _COLORS = _limb_table()
_DISC = [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1) if dy * dy + dx * dx <= 1]


def draw_frames(pose: np.ndarray, confidence: np.ndarray, size: int = 256,
                frame_size: tuple[int, int] = (sk.FRAME_WIDTH, sk.FRAME_HEIGHT)) -> np.ndarray:
    """Draw ``T × K × 3`` keypoints (pixels of ``frame_size``) as ``T × size × size × 3`` uint8."""
    pose = np.asarray(pose, dtype=np.float32)
    confidence = np.asarray(confidence, dtype=np.float32)
    if pose.ndim != 3 or pose.shape[1] != sk.N_KEYPOINTS or pose.shape[2] < 2:
        raise InputError(None, f"expected T × {sk.N_KEYPOINTS} × 3 keypoints, got {pose.shape}")
    T = len(pose)
    scale = size / max(frame_size)
    frames = np.full((T, size, size, 3), _BACKGROUND, dtype=np.uint8)
    samples = np.linspace(0.0, 1.0, 48)[None, :, None]
    for t in range(T):
        xy = pose[t, :, :2] * scale
        ok = (confidence[t, _PAIRS[:, 0]] > 0) & (confidence[t, _PAIRS[:, 1]] > 0)
        if not ok.any():
            continue
        a, b = xy[_PAIRS[ok, 0]], xy[_PAIRS[ok, 1]]
        pts = a[:, None] + (b - a)[:, None] * samples  # limbs × samples × 2
        colors = np.repeat(_COLORS[ok], pts.shape[1], axis=0)
        pts = np.rint(pts.reshape(-1, 2)).astype(np.int64)
        for dy, dx in _DISC:
            x, y = pts[:, 0] + dx, pts[:, 1] + dy
            inside = (x >= 0) & (x < size) & (y >= 0) & (y < size)
            frames[t, y[inside], x[inside]] = colors[inside]
    return frames


def render_video(pose: np.ndarray, confidence: np.ndarray, path: str | Path, fps: float = 25.0,
                 size: int = 256) -> None:
    """Write keypoints as an H.264 ``.mp4`` stick-figure video of ``size × size`` pixels."""
    try:
        import av
    except ImportError:
        raise InputError(path, "video output needs PyAV: pip install 'silverscore[video]'") from None
    frames = draw_frames(pose, confidence, size)
    from fractions import Fraction

    with atomic_write(path, "wb") as handle:
        with av.open(handle, mode="w", format="mp4") as container:
            stream = container.add_stream("libx264", rate=Fraction(fps).limit_denominator(1000))
            stream.width = stream.height = size
            stream.pix_fmt = "yuv420p"
            stream.options = {"crf": "20", "preset": "veryfast"}
            for frame in frames:
                for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                    container.mux(packet)
            for packet in stream.encode():
                container.mux(packet)
