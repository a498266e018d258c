"""Pose extraction for the pose models: MediaPipe Holistic landmarks written as pose-format files.

MediaPipe (extra ``poses``) is imported only here and only when poses are extracted. It is used
through its Tasks API (``HolisticLandmarker`` in VIDEO mode, which tracks across frames), which
needs a model file that cannot be downloaded at run time: without one the user gets an
:class:`~silverscore.errors.InputError` saying where to get it.

The ``.pose`` layout is pose-format's MediaPipe Holistic layout (the one ``video_to_pose``
writes and sign language tools read): components ``POSE_LANDMARKS`` (33), ``FACE_LANDMARKS``
(478, the Tasks face mesh with irises), ``LEFT_HAND_LANDMARKS`` (21), ``RIGHT_HAND_LANDMARKS``
(21), ``POSE_WORLD_LANDMARKS`` (33), format ``XYZC``; image landmarks in pixels
(``x·width, y·height, z``), world landmarks in metres; confidence = pose visibility (1 when the
model gives none), 1 for a detected face/hand point, 0 (and masked) when a part is missing. The
pose reader (:func:`silverscore.inputs.poses.read_pose`) keeps the ``COMPONENT:POINT`` names, so a
pose model picks its own points out of this file.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..inputs.video import DEFAULT_MAX_PIXELS, DEFAULT_MIN_FRAMES, iter_video_frames, probe_video

MODEL_PAGE = "https://ai.google.dev/edge/mediapipe/solutions/vision/holistic_landmarker"
MODEL_URL = ("https://storage.googleapis.com/mediapipe-models/holistic_landmarker/"
             "holistic_landmarker/float16/latest/holistic_landmarker.task")

POSE_POINTS = 33
FACE_POINTS = 478
HAND_POINTS = 21
#: (component name, number of points), in file order.
COMPONENTS = (
    ("POSE_LANDMARKS", POSE_POINTS),
    ("FACE_LANDMARKS", FACE_POINTS),
    ("LEFT_HAND_LANDMARKS", HAND_POINTS),
    ("RIGHT_HAND_LANDMARKS", HAND_POINTS),
    ("POSE_WORLD_LANDMARKS", POSE_POINTS),
)
TOTAL_POINTS = sum(n for _, n in COMPONENTS)


def require_model_file(model: str | Path | None) -> Path:
    """The landmarker model path, or an InputError that tells the user where to get one."""
    hint = (f"MediaPipe's Holistic landmarker model is needed: download holistic_landmarker.task from "
            f"{MODEL_PAGE} (direct link: {MODEL_URL}) and pass it with --model")
    if model is None:
        raise InputError(None, hint)
    path = Path(model)
    if not path.is_file():
        raise InputError(path, "no such model file; " + hint)
    return path


def _import_mediapipe():
    try:
        import mediapipe as mp
        from mediapipe.tasks.python import vision
        from mediapipe.tasks.python.core.base_options import BaseOptions
    except ImportError:
        raise InputError(None, "pose extraction needs MediaPipe: pip install 'silverscore[poses]' (or: pip install mediapipe)") from None
    return mp, vision, BaseOptions


def holistic_header(width: int, height: int):
    """pose-format header of the Holistic layout (names and limbs from MediaPipe's own tables)."""
    from pose_format.pose_header import PoseHeader, PoseHeaderComponent, PoseHeaderDimensions

    _, vision, _ = _import_mediapipe()
    from mediapipe.tasks.python.vision.hand_landmarker import HandLandmark

    body_points = list(vision.PoseLandmark.__members__)
    body_limbs = [(int(c.start), int(c.end)) for c in vision.PoseLandmarksConnections.POSE_LANDMARKS]
    hand_points = list(HandLandmark.__members__)
    hand_limbs = [(int(c.start), int(c.end)) for c in vision.HandLandmarksConnections.HAND_CONNECTIONS]
    face_limbs = [(int(c.start), int(c.end)) for c in vision.FaceLandmarksConnections.FACE_LANDMARKS_TESSELATION]
    points = {"POSE_LANDMARKS": (body_points, body_limbs), "POSE_WORLD_LANDMARKS": (body_points, body_limbs),
              "FACE_LANDMARKS": ([str(i) for i in range(FACE_POINTS)], face_limbs),
              "LEFT_HAND_LANDMARKS": (hand_points, hand_limbs), "RIGHT_HAND_LANDMARKS": (hand_points, hand_limbs)}
    colors = {"POSE_LANDMARKS": (255, 0, 0), "FACE_LANDMARKS": (128, 0, 0), "LEFT_HAND_LANDMARKS": (0, 255, 0),
              "RIGHT_HAND_LANDMARKS": (0, 0, 255), "POSE_WORLD_LANDMARKS": (255, 0, 0)}
    components = []
    for name, count in COMPONENTS:
        names, limbs = points[name]
        if len(names) != count:
            raise RuntimeError(f"MediaPipe reports {len(names)} {name} points, expected {count}")
        components.append(PoseHeaderComponent(name=name, points=names, limbs=limbs, colors=[colors[name]], point_format="XYZC"))
    return PoseHeader(version=0.2, dimensions=PoseHeaderDimensions(width=width, height=height, depth=1000),
                      components=components)


def _fill(target: np.ndarray, conf: np.ndarray, landmarks, scale: tuple[float, float], visibility: bool) -> None:
    """Copy up to ``len(target)`` landmarks into ``target`` (x·sx, y·sy, z) and ``conf``."""
    for i, point in enumerate(landmarks[: len(target)]):
        target[i] = (point.x * scale[0], point.y * scale[1], point.z)
        vis = getattr(point, "visibility", None) if visibility else None
        conf[i] = 1.0 if vis is None else float(vis)


@dataclass
class HolisticResultRows:
    """One frame of Holistic output flattened to the file's point order."""

    data: np.ndarray  # TOTAL_POINTS × 3
    confidence: np.ndarray  # TOTAL_POINTS

    @classmethod
    def from_result(cls, result, width: int, height: int) -> "HolisticResultRows":
        data = np.zeros((TOTAL_POINTS, 3), np.float32)
        conf = np.zeros(TOTAL_POINTS, np.float32)
        parts = {
            "POSE_LANDMARKS": (result.pose_landmarks, (width, height), True),
            "FACE_LANDMARKS": (result.face_landmarks, (width, height), False),
            "LEFT_HAND_LANDMARKS": (result.left_hand_landmarks, (width, height), False),
            "RIGHT_HAND_LANDMARKS": (result.right_hand_landmarks, (width, height), False),
            "POSE_WORLD_LANDMARKS": (result.pose_world_landmarks, (1.0, 1.0), True),
        }
        offset = 0
        for name, count in COMPONENTS:
            landmarks, scale, visibility = parts[name]
            if landmarks:
                _fill(data[offset:offset + count], conf[offset:offset + count], landmarks, scale, visibility)
            offset += count
        return cls(data, conf)


class HolisticExtractor:
    """A MediaPipe Holistic landmarker that turns one video at a time into a pose-format ``Pose``."""

    def __init__(self, model: str | Path | None, max_pixels: int = DEFAULT_MAX_PIXELS,
                 min_frames: int = DEFAULT_MIN_FRAMES):
        self.model_path = require_model_file(model)
        self.max_pixels = max_pixels
        self.min_frames = min_frames
        self._mp, self._vision, self._base_options = _import_mediapipe()
        self._landmarker().close()  # a bad model file is one error up front, not one per video

    def _landmarker(self):
        vision = self._vision
        options = vision.HolisticLandmarkerOptions(
            base_options=self._base_options(model_asset_path=str(self.model_path)),
            running_mode=vision.RunningMode.VIDEO,
        )
        try:
            return vision.HolisticLandmarker.create_from_options(options)
        except (RuntimeError, ValueError, OSError) as err:
            raise InputError(self.model_path, f"not a usable MediaPipe Holistic landmarker model ({err}); "
                                              f"get holistic_landmarker.task from {MODEL_PAGE}") from None

    def video_pose(self, path: str | Path):
        """The pose-format ``Pose`` of one video (tracking restarts for every video)."""
        from pose_format import Pose
        from pose_format.numpy.pose_body import NumPyPoseBody

        info = probe_video(path, self.max_pixels)
        rows: list[HolisticResultRows] = []
        width = height = 0
        with self._landmarker() as landmarker:
            for index, frame in enumerate(iter_video_frames(path, self.max_pixels)):
                height, width = frame.shape[:2]
                image = self._mp.Image(image_format=self._mp.ImageFormat.SRGB, data=np.ascontiguousarray(frame))
                # VIDEO mode needs strictly increasing timestamps; derive them from the frame index.
                timestamp_ms = int(round(index * 1000.0 / info.fps))
                result = landmarker.detect_for_video(image, timestamp_ms)
                rows.append(HolisticResultRows.from_result(result, width, height))
        if len(rows) < max(self.min_frames, 1):
            raise InputError(path, "has no decodable frames" if not rows else
                             f"has only {len(rows)} frame(s); at least {self.min_frames} are needed")
        data = np.stack([r.data for r in rows])[:, None]  # T × 1 person × K × 3
        confidence = np.stack([r.confidence for r in rows])[:, None]
        mask = np.repeat((confidence == 0)[..., None], 3, axis=-1)
        body = NumPyPoseBody(fps=info.fps, data=np.ma.masked_array(data, mask=mask), confidence=confidence)
        return Pose(holistic_header(width, height), body)


def write_pose(pose, path: str | Path) -> None:
    from ..io_utils import atomic_write

    with atomic_write(path, "wb") as handle:
        pose.write(handle)


def extract_poses_to_dir(videos_dir: str | Path, out_dir: str | Path, model: str | Path | None,
                         progress: bool = True, distributed: bool | None = None, **options):
    """``<out>/<relative name>.pose`` for every video under ``videos_dir``; resumable, per-file errors."""
    from . import corpus

    extractor = HolisticExtractor(model, **options)  # checks the model file before any work
    jobs = corpus.plan_outputs(videos_dir, out_dir, [".pose"])
    shard = corpus.Shard.current(distributed)

    def work(job: corpus.Job) -> None:
        write_pose(extractor.video_pose(job.source), job.output(".pose"))

    return corpus.run_jobs(jobs, work, shard, "poses", progress)
