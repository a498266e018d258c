"""Pose input: .pose (pose-format), .npy and .npz files into PoseSequence; bad files are InputErrors."""
from __future__ import annotations

import numpy as np
import pytest

from silverscore.errors import InputError
from silverscore.inputs.poses import PoseSequence, as_pose_sequence, pose_from_array, read_pose


def _write_pose_file(path, data, conf, fps=30.0):
    from pose_format import Pose
    from pose_format.numpy import NumPyPoseBody
    from pose_format.pose_header import PoseHeader, PoseHeaderComponent, PoseHeaderDimensions

    comps = [
        PoseHeaderComponent("POSE_LANDMARKS", ["LEFT_SHOULDER", "RIGHT_SHOULDER"], [(0, 1)], [(255, 0, 0)], "XYZC"),
        PoseHeaderComponent("RIGHT_HAND_LANDMARKS", ["WRIST", "THUMB_TIP"], [(0, 1)], [(0, 255, 0)], "XYZC"),
    ]
    header = PoseHeader(0.1, PoseHeaderDimensions(512, 512, 1), comps)
    body = NumPyPoseBody(fps, data[:, None], conf[:, None])
    with open(path, "wb") as handle:
        Pose(header, body).write(handle)


def test_pose_format_file_roundtrip(tmp_path):
    rng = np.random.default_rng(0)
    data = rng.normal(size=(7, 4, 3)).astype(np.float32)
    conf = np.ones((7, 4), np.float32)
    conf[2, 3] = 0.0
    path = tmp_path / "a.pose"
    _write_pose_file(path, data, conf)
    seq = read_pose(path)
    assert seq.data.shape == (7, 4, 3)
    assert seq.fps == 30.0
    assert seq.keypoints == ["POSE_LANDMARKS:LEFT_SHOULDER", "POSE_LANDMARKS:RIGHT_SHOULDER",
                             "RIGHT_HAND_LANDMARKS:WRIST", "RIGHT_HAND_LANDMARKS:THUMB_TIP"]
    np.testing.assert_allclose(seq.data[conf > 0], data[conf > 0], rtol=0, atol=1e-6)
    assert seq.confidence[2, 3] == 0.0 and seq.confidence[0, 0] == 1.0


def test_npy_with_confidence_channel_and_npz(tmp_path):
    arr = np.zeros((3, 2, 4), np.float32)
    arr[..., :3] = 1.5
    arr[..., 3] = [[1, 0.5], [0, 1], [1, 1]]
    np.save(tmp_path / "a.npy", arr)
    seq = read_pose(tmp_path / "a.npy")
    assert seq.confidence.tolist() == [[1, 0.5], [0, 1], [1, 1]]
    assert seq.keypoints is None
    np.savez(tmp_path / "b.npz", data=arr[..., :2], confidence=np.ones((3, 2)), fps=50, keypoints=np.array(["A:x", "A:y"]))
    seq = read_pose(tmp_path / "b.npz")
    assert seq.data.shape == (3, 2, 3) and np.all(seq.data[..., 2] == 0)
    assert seq.fps == 50.0 and seq.keypoints == ["A:x", "A:y"]


def test_missing_points_from_nan_and_zeros():
    arr = np.ones((2, 3, 3), np.float32)
    arr[0, 1] = np.nan
    arr[1, 2] = 0.0
    seq = pose_from_array(arr)
    assert seq.confidence.tolist() == [[1, 0, 1], [1, 1, 0]]
    assert np.isfinite(seq.data).all()


@pytest.mark.parametrize("name,content,problem", [
    ("x.pose", b"not a pose", "not a readable .pose"),
    ("x.npy", b"garbage", "not a readable .npy"),
    ("x.txt", b"1 2 3", "unsupported pose file type"),
])
def test_bad_files_are_input_errors(tmp_path, name, content, problem):
    (tmp_path / name).write_bytes(content)
    with pytest.raises(InputError, match=problem):
        read_pose(tmp_path / name)


def test_wrong_shape_and_missing_file(tmp_path):
    np.save(tmp_path / "flat.npy", np.zeros((5, 3), np.float32))
    with pytest.raises(InputError, match="T x K x D"):
        read_pose(tmp_path / "flat.npy")
    with pytest.raises(InputError, match="not found"):
        read_pose(tmp_path / "none.pose")


def test_as_pose_sequence_accepts_tuples_and_sequences():
    data = np.ones((4, 2, 3), np.float32)
    conf = np.full((4, 2), 0.7, np.float32)
    seq = as_pose_sequence((data, conf))
    assert isinstance(seq, PoseSequence) and np.allclose(seq.confidence, 0.7)
    assert as_pose_sequence(seq) is seq
