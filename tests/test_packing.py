"""``skip_padding``: the towers' and the form head's token-wise layers on the real rows only.

The packed computation must give the padded computation's values and gradients (up to float
rounding), must be what training runs when a config asks for it, and must leave scoring alone.
"""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from silverscore.cli import main
from silverscore.models.pose_encoder import Packing, TransformerBlock
from silverscore.models.pose_text import PoseTextModel

from train_fixtures import NAMES, write_config, write_manifest

torch.set_num_threads(1)

SMALL = {"pose_encoder": {"frame_dim": 16, "width": 32, "layers": 2, "heads": 2, "embed_dim": 24, "window": 8,
                          "stride": 4, "dropout": 0.0},
         "text_head": {"width": 32, "layers": 2, "heads": 2, "dropout": 0.0}}
HEAD = {"frame_dim": 8, "width": 16, "layers": 2, "heads": 2, "dropout": 0.0, "accelerations": True,
        "noise_floor": True}


def _model() -> PoseTextModel:
    torch.manual_seed(0)
    model = PoseTextModel(PoseTextModel.default_config(NAMES, **SMALL))
    torch.manual_seed(1)
    model.add_form_head(HEAD)
    return model.train()  # training mode (the packed path's use); every dropout is 0


def _videos(model: PoseTextModel, lengths) -> list[np.ndarray]:
    rng = np.random.default_rng(2)
    width = model.normalizer.feature_dim
    return [rng.standard_normal((t, width)).astype(np.float32) for t in lengths]


def _texts(lengths) -> list[np.ndarray]:
    rng = np.random.default_rng(3)
    return [rng.standard_normal((t, 384)).astype(np.float32) for t in lengths]


def _close(a: torch.Tensor, b: torch.Tensor, tol: float = 1e-5) -> bool:
    a, b = a.detach(), b.detach()
    return a.shape == b.shape and float((a - b).abs().max()) <= tol * max(1.0, float(a.abs().max()))


def test_packing_keeps_the_real_rows_in_order_and_zeroes_padding():
    valid = torch.tensor([[True, True, False], [True, False, False], [True, True, True]])
    packing = Packing(valid)
    x = torch.arange(9 * 2, dtype=torch.float32).view(3, 3, 2)
    packed = packing.pack(x)
    assert packed.tolist() == [[0, 1], [2, 3], [6, 7], [12, 13], [14, 15], [16, 17]]
    assert packing.positions().tolist() == [0, 1, 0, 0, 1, 2]
    back = packing.unpack(packed)
    assert torch.equal(back, x * valid[..., None])


def test_transformer_block_packed_equals_padded_on_real_rows():
    torch.manual_seed(0)
    block = TransformerBlock(16, 2, 0.0)
    valid = torch.arange(7)[None, :] < torch.tensor([7, 3, 5, 1])[:, None]
    x = torch.randn(4, 7, 16)
    packing = Packing(valid)
    padded = block(x, valid)
    packed = block(packing.pack(x), valid, packing)
    assert _close(packing.pack(padded), packed)


def _gradients(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {name: p.grad.clone() for name, p in model.named_parameters() if p.grad is not None}


def test_towers_skipping_padding_give_the_padded_values_and_gradients():
    model = _model()
    videos = _videos(model, [90, 12, 47, 31, 64])
    texts = _texts([9, 2, 14, 5, 7])
    results = []
    for skip in (False, True):
        model.zero_grad()
        tokens, weights = model.encode_prepared(videos, skip_padding=skip)
        words, word_weights = model.encode_states(texts, skip_padding=skip)
        loss = (tokens.sin().sum() + (weights ** 2).sum() + words.cos().sum() + (3 * word_weights).sum())
        loss.backward()
        results.append((tokens.detach(), weights.detach(), words.detach(), word_weights.detach(), _gradients(model)))
    (a_tok, a_w, a_words, a_ww, a_grad), (b_tok, b_w, b_words, b_ww, b_grad) = results
    assert _close(a_tok, b_tok) and _close(a_w, b_w) and _close(a_words, b_words) and _close(a_ww, b_ww)
    # padding stays exactly zero (weight 0), as the similarity expects
    assert float(b_w[1, model.pose_encoder.num_windows(12):].abs().sum()) == 0.0
    assert float(b_tok[1, model.pose_encoder.num_windows(12):].abs().sum()) == 0.0
    assert set(a_grad) == set(b_grad) and len(a_grad) > 10
    for name in a_grad:
        assert _close(a_grad[name], b_grad[name], 1e-4), name


def test_form_head_skipping_padding_gives_the_padded_logits_and_gradients():
    model = _model()
    videos = _videos(model, [70, 15, 44, 33])
    with torch.no_grad():
        states = model.window_states(videos)
    model.form_head.train()
    results = []
    for skip in (False, True):
        model.form_head.zero_grad()
        logits = model.form_logits(videos, states, skip_padding=skip)
        (logits * torch.arange(1.0, 5.0)).sum().backward()
        results.append((logits.detach(), _gradients(model.form_head)))
    assert _close(results[0][0], results[1][0])
    assert set(results[0][1]) == set(results[1][1]) and "noise_mlp.0.weight" in results[0][1]
    for name in results[0][1]:
        assert _close(results[0][1][name], results[1][1][name], 1e-4), name


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    folder = tmp_path_factory.mktemp("packing_data")
    return write_manifest(folder / "train", 24, 0), write_manifest(folder / "val", 8, 1)


def test_training_with_skip_padding_runs_packed_repeats_and_records_it(tmp_path, data, monkeypatch):
    """The setting reaches the towers (the packed path runs, and dropout's other masks change
    the weights), and a seed still gives the same weights bit for bit."""
    from silverscore.models import pose_encoder

    calls = []
    original = pose_encoder.PoseEncoder._packed_hidden

    def counted(self, *args, **kwargs):
        calls.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(pose_encoder.PoseEncoder, "_packed_hidden", counted)
    weights = {}
    for name, extra in (("a", "skip_padding = true\n"), ("b", "skip_padding = true\n"), ("padded", "")):
        folder = tmp_path / name
        folder.mkdir()
        cfg = write_config(folder, *data, steps=6, batch_size=8, extra_train=extra)
        # dropout on, so that the packed run's other masks show in the weights
        cfg.write_text(cfg.read_text().replace("dropout = 0.0", "dropout = 0.2"))
        before = len(calls)
        assert main(["train", "--config", str(cfg), "--no-progress"]) == 0
        assert (len(calls) - before == 6) == bool(extra)
        weights[name] = (folder / "run" / "model.safetensors").read_bytes()
        settings = json.loads((folder / "run" / "model.json").read_text())["training"]["settings"]
        assert settings["skip_padding"] is bool(extra)
    assert weights["a"] == weights["b"]
    assert weights["a"] != weights["padded"]


def test_scoring_never_packs(monkeypatch):
    """Scores come from one item at a time in eval mode: the packed path is training's only."""
    from silverscore.models import pose_encoder

    def refuse(*args, **kwargs):
        raise AssertionError("scoring ran the packed path")

    monkeypatch.setattr(pose_encoder.PoseEncoder, "_packed_hidden", refuse)
    model = _model().eval()
    tokens, weights = model.encode_prepared(_videos(model, [40, 20]), skip_padding=True)
    assert tokens.shape[0] == 2 and weights.shape == tokens.shape[:2]


def test_form_stage_with_skip_padding_trains_packed_and_evaluates_padded(monkeypatch):
    """``[form] skip_padding`` reaches the head's training steps, and only them: calibration and
    validation read one video at a time (or a padded batch) as scoring does."""
    from silverscore.models import form_head
    from silverscore.train import form as form_mod
    from silverscore.train.form import FormExample, FormSettings

    model = _model()
    model.form_head = None
    videos = _videos(model, [60, 20, 35, 48, 26, 52])

    def toy_examples(model, sentences, form_variants, meaning_variants, seed, split, progress=False, processes=0):
        states = model.window_states(videos)
        kinds = ["clean", "frozen"] * 3
        return [FormExample(v.astype(np.float16), s, kind, 1.0 if kind == "clean" else 0.3, 1.0, source=2 * (i // 2))
                for i, (v, s, kind) in enumerate(zip(videos, states, kinds))]

    calls = []
    original = form_head.FormHead._packed_logits

    def counted(self, *args, **kwargs):
        calls.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(form_mod, "build_form_examples", toy_examples)
    monkeypatch.setattr(form_head.FormHead, "_packed_logits", counted)
    settings = FormSettings(sentences=1, val_sentences=1, steps=5, batch_size=3, head=HEAD, exchange_rate=1.0,
                            calibrate=True, skip_padding=True)
    form_mod.train_form_head(model, settings, seed=2, progress=False)
    assert len(calls) == 5
    assert model.config()["form_training"]["settings"]["skip_padding"] is True
