"""Files written by ``silverscore synth``: manifests, .pose files, hard negatives, systems, report, video."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from pose_format import Pose

from silverscore.cli import main
from silverscore.synth import generate_corpus, read_pose
from silverscore.synth.report import length_baseline_auc, shared_sign_fraction
from silverscore.synth.systems import levenshtein, sign_similarity, system_output

REQUIRED = {"id", "text", "pose", "paraphrases", "glosses", "negated", "intensity", "signer", "frames", "fps"}
# MediaPipe names at their MediaPipe indices (written here independently of the package).
MEDIAPIPE_POSE = {0: "NOSE", 11: "LEFT_SHOULDER", 12: "RIGHT_SHOULDER", 15: "LEFT_WRIST", 16: "RIGHT_WRIST",
                  23: "LEFT_HIP", 32: "RIGHT_FOOT_INDEX"}
MEDIAPIPE_HAND = {0: "WRIST", 4: "THUMB_TIP", 8: "INDEX_FINGER_TIP", 12: "MIDDLE_FINGER_TIP", 20: "PINKY_TIP"}


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    out = tmp_path_factory.mktemp("synth") / "set"
    assert main(["synth", "--out", str(out), "--sentences", "12", "--seed", "5", "--split", "test",
                 "--systems", "--quiet"]) == 0
    return out


def test_manifest_and_pose_files(dataset):
    rows = _rows(dataset / "manifest.jsonl")
    assert len(rows) == 12
    items = {i.id: i for i in generate_corpus(12, seed=5, split="test")}
    for row in rows:
        assert REQUIRED <= set(row)
        assert len(row["paraphrases"]) >= 2
        pose = Pose.read((dataset / row["pose"]).read_bytes())
        names = [c.name for c in pose.header.components]
        assert names == ["POSE_LANDMARKS", "FACE_LANDMARKS", "LEFT_HAND_LANDMARKS", "RIGHT_HAND_LANDMARKS"]
        body, face, left, right = pose.header.components
        assert len(body.points) == 33 and len(left.points) == 21 and len(right.points) == 21
        assert 20 <= len(face.points) <= 468
        assert all(body.points[i] == name for i, name in MEDIAPIPE_POSE.items())
        assert all(left.points[i] == name for i, name in MEDIAPIPE_HAND.items())
        assert pose.body.data.shape == (row["frames"], 1, 33 + len(face.points) + 42, 3)
        assert pose.body.fps == row["fps"] == 25.0
        # The file holds exactly the in-process item's keypoints.
        data, conf, fps = read_pose(dataset / row["pose"])
        item = items[row["id"]]
        assert np.array_equal(data, item.pose) and np.array_equal(conf, item.confidence)
        assert row["text"] == item.text and row["glosses"] == item.glosses


def test_hard_negative_sets_written(dataset):
    for name in ("negation", "minimal_pair", "role_swap", "number"):
        path = dataset / "hard_negatives" / name / "manifest.jsonl"
        assert path.exists()
        for row in _rows(path):
            assert {"id", "source_id", "text", "pose", "reference_text"} <= set(row)
            assert row["text"] != row["reference_text"]
            assert (path.parent / row["pose"]).exists()


def test_systems_written_with_true_quality(dataset):
    listing = json.loads((dataset / "systems" / "systems.json").read_text())
    systems = {s["name"]: s for s in listing["systems"]}
    assert systems["reference"]["quality"] == 1.0
    assert len(systems) >= 10
    reference_ids = [r["id"] for r in _rows(dataset / "manifest.jsonl")]
    for name, entry in systems.items():
        rows = _rows(dataset / "systems" / entry["manifest"])
        assert [r["id"] for r in rows] == reference_ids
        for row in rows:
            assert {"id", "pose", "signed_text", "quality"} <= set(row)
            assert 0.0 <= row["quality"] <= 1.0
        mean = np.mean([r["quality"] for r in rows])
        assert entry["quality"] == pytest.approx(mean, abs=1e-3)
    assert systems["noise-high"]["quality"] < systems["noise-low"]["quality"] < 1.0


def test_quality_formula_by_hand():
    assert levenshtein(list("kitten"), list("sitting")) == 3
    assert sign_similarity(["A", "B", "C", "D"], ["A", "C", "D"]) == pytest.approx(0.75)
    frame = {"kind": "weather", "time": ["TODAY"], "region": "NORTH", "phen": "RAIN", "wadj": None,
             "tadj": None, "temp": None, "neg": True, "neg_style": "both"}
    from silverscore.synth import make_item
    item = make_item(frame, "hand", "test-00", "none", "test", 1, 2)
    output, fields = system_output(item, "dropped-negation", "negation", 1.0)
    # Reference tokens: TODAY NORTH RAIN NOT <headshake>; output: TODAY NORTH RAIN.
    assert fields["signed_glosses"] == ["TODAY", "NORTH", "RAIN"]
    assert fields["quality"] == pytest.approx((1 - 2 / 5) * 0.5, abs=1e-4)
    assert "no" not in fields["signed_text"].lower().split()


def test_report_command(dataset, capsys):
    assert main(["synth", "--report", str(dataset)]) == 0
    report = json.loads(capsys.readouterr().out)
    for key in ("shared_sign_fraction", "minimal_pairs", "length_baseline_auc"):
        assert key in report
    assert report["minimal_pairs"] >= 100
    assert 0.0 <= report["shared_sign_fraction"] <= 1.0


def test_length_baseline_and_sharing_on_known_data():
    # Frames exactly words**2: the length scorer separates correct from random perfectly
    # (apart from random pairs that happen to match lengths).
    rng = np.random.default_rng(0)
    words = rng.integers(2, 40, 400).astype(float)
    auc, slope = length_baseline_auc(words ** 2, words)
    assert auc > 0.9 and slope == pytest.approx(2.0, abs=0.05)
    auc, _ = length_baseline_auc(rng.integers(50, 300, 400).astype(float), words)
    assert auc < 0.62  # unrelated lengths: near chance (best slope is tuned, so a bit above 0.5)
    rows = [{"glosses": ["A", "B"]}, {"glosses": ["B", "C"]}, {"glosses": ["D"]}, {"glosses": ["E"]}]
    # Pairs sharing a sign: (0,1) only, so 2 of the 12 ordered pairs.
    assert shared_sign_fraction(rows, pairs_per_item=2000) == pytest.approx(2 / 12, abs=0.02)


def test_cli_errors_are_one_line(tmp_path, capsys):
    assert main(["synth", "--sentences", "3"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("silverscore: error:")
    assert main(["synth", "--report", str(tmp_path / "missing")]) == 2
    assert "no such manifest" in capsys.readouterr().err


def test_video_rendering(tmp_path):
    av = pytest.importorskip("av")
    from silverscore.synth import render_video
    from silverscore.synth.video import draw_frames
    item = generate_corpus(1, seed=9, split="dev")[0]
    path = tmp_path / "clip.mp4"
    render_video(item.pose, item.confidence, path, item.fps, size=128)
    with av.open(str(path)) as container:
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    assert len(frames) == item.frames and frames[0].shape == (128, 128, 3)
    drawn = draw_frames(item.pose[:1], item.confidence[:1], size=128)[0]
    assert (drawn[0, 0] == 240).all()  # background corner
    # Something is drawn where the nose is (scaled from the 512-pixel frame).
    x, y = (item.pose[0, 0, :2] * 128 / 512).round().astype(int)
    assert (drawn[y - 2:y + 3, x - 2:x + 3] != 240).any()
