"""`silverscore extract-poses`: the no-model error, the Holistic .pose layout, and (with a model
file in $SILVERSCORE_HOLISTIC_MODEL) a real run."""
from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from silverscore.cli import main as cli_main
from silverscore.errors import InputError
from silverscore.video.poses import MODEL_PAGE, require_model_file


def test_no_model_file_says_where_to_get_one(tmp_path, capsys):
    assert cli_main(["extract-poses", "--videos", str(tmp_path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "holistic_landmarker.task" in err and MODEL_PAGE in err and "--model" in err
    with pytest.raises(InputError) as missing:
        require_model_file(tmp_path / "absent.task")
    assert "absent.task" in str(missing.value) and MODEL_PAGE in str(missing.value)


def test_unusable_model_file_is_one_clear_error(tmp_path, capsys):
    pytest.importorskip("mediapipe", reason="MediaPipe (extra 'poses') not installed")
    bad = tmp_path / "bad.task"
    bad.write_bytes(os.urandom(2000))
    assert cli_main(["extract-poses", "--videos", str(tmp_path), "--out", str(tmp_path / "o"), "--model", str(bad)]) == 2
    assert "not a usable MediaPipe Holistic landmarker model" in capsys.readouterr().err


def _landmarks(count: int, base: float, visibility: float | None = None):
    return [SimpleNamespace(x=base + i / 1000, y=base / 2 + i / 2000, z=-i / 100, visibility=visibility)
            for i in range(count)]


def test_holistic_rows_and_pose_file_round_trip(tmp_path):
    pytest.importorskip("mediapipe", reason="MediaPipe (extra 'poses') not installed: header names come from it")
    from pose_format import Pose
    from pose_format.numpy.pose_body import NumPyPoseBody

    from silverscore.inputs.poses import read_pose
    from silverscore.video.poses import HolisticResultRows, holistic_header, write_pose

    width, height = 640, 480
    frame_with_left_hand = SimpleNamespace(
        pose_landmarks=_landmarks(33, 0.5, visibility=0.75), face_landmarks=_landmarks(478, 0.4),
        left_hand_landmarks=_landmarks(21, 0.3), right_hand_landmarks=[],
        pose_world_landmarks=_landmarks(33, 0.1, visibility=0.5))
    nothing = SimpleNamespace(pose_landmarks=[], face_landmarks=[], left_hand_landmarks=[], right_hand_landmarks=[],
                              pose_world_landmarks=[])
    rows = [HolisticResultRows.from_result(r, width, height) for r in (frame_with_left_hand, nothing)]
    # Layout: pose 0..32, face 33..510, left hand 511..531, right hand 532..552, world 553..585.
    first = rows[0]
    assert first.data.shape == (586, 3)
    assert np.allclose(first.data[0], [0.5 * 640, 0.25 * 480, 0.0])
    assert np.allclose(first.data[2], [0.502 * 640, 0.251 * 480, -0.02])
    assert first.confidence[0] == pytest.approx(0.75)
    assert np.allclose(first.data[511], [0.3 * 640, 0.15 * 480, 0.0]) and first.confidence[511] == 1.0
    assert np.all(first.confidence[532:553] == 0)
    assert np.allclose(first.data[553 + 1], [0.101, 0.0505, -0.01]) and first.confidence[553] == pytest.approx(0.5)
    assert np.all(rows[1].confidence == 0)

    data = np.stack([r.data for r in rows])[:, None]
    confidence = np.stack([r.confidence for r in rows])[:, None]
    mask = np.repeat((confidence == 0)[..., None], 3, axis=-1)
    body = NumPyPoseBody(fps=25.0, data=np.ma.masked_array(data, mask=mask), confidence=confidence)
    path = tmp_path / "clip.pose"
    write_pose(Pose(holistic_header(width, height), body), path)
    pose = read_pose(path)
    assert pose.data.shape == (2, 586, 3) and pose.fps == 25.0
    assert pose.keypoints[0] == "POSE_LANDMARKS:NOSE"
    assert pose.keypoints[511] == "LEFT_HAND_LANDMARKS:WRIST"
    assert pose.keypoints[-1] == "POSE_WORLD_LANDMARKS:RIGHT_FOOT_INDEX"
    assert np.allclose(pose.data[0, 511], [192.0, 72.0, 0.0])
    assert pose.confidence[0, 532] == 0 and pose.confidence[1].max() == 0


def test_real_model_run_when_available(tmp_path):
    model = os.environ.get("SILVERSCORE_HOLISTIC_MODEL")
    if not model or not Path(model).is_file():
        pytest.skip("set SILVERSCORE_HOLISTIC_MODEL to a holistic_landmarker.task file to run MediaPipe for real")
    av = pytest.importorskip("av")
    from silverscore.inputs.poses import read_pose

    videos = tmp_path / "videos"
    videos.mkdir()
    with av.open(str(videos / "v.mp4"), "w") as container:
        stream = container.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 160, 120, "yuv420p"
        for t in range(5):
            img = np.full((120, 160, 3), 40 * t, np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    assert cli_main(["extract-poses", "--videos", str(videos), "--out", str(tmp_path / "out"), "--model", model,
                     "--quiet"]) == 0
    assert read_pose(tmp_path / "out" / "v.pose").data.shape == (5, 586, 3)
