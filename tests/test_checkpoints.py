"""Strict and safe checkpoint loading (spec §2, issue 3 point 5)."""
import json
import os
import pickle

import pytest
import torch

from conftest import official_state
from silverscore.errors import CheckpointError
from silverscore.models.checkpoints import load_model, read_state_dict, save_own


def test_dimensions_are_read_from_the_tensors(parity_ckpt):
    model = load_model(parity_ckpt).model
    cfg = model.config()
    assert (cfg["vision_width"], cfg["vision_layers"], cfg["text_width"], cfg["text_layers"], cfg["embed_dim"]) == (128, 12, 128, 2, 64)
    assert cfg["visual_positions"] == 65 and cfg["context_length"] == 77 and cfg["vocab_size"] == 49408
    assert model.logit_scale_value().item() == pytest.approx(90.0171, abs=1e-3)


@pytest.mark.parametrize("wrap", ["flat", "module", "state_dict", "model"])
def test_wrappers_and_prefixes_are_accepted(tmp_path, wrap):
    state = official_state()
    if wrap == "module":
        state = {f"module.{k}": v for k, v in state.items()}
    elif wrap in ("state_dict", "model"):
        state = {wrap: state, "epoch": 3}
    path = tmp_path / "ckpt.pth"
    torch.save(state, path)
    model = load_model(path).model
    expected = official_state()["clip.visual.proj"].float()
    assert torch.equal(model.visual.proj.detach(), expected)


def test_legacy_serialisation_loads(tmp_path):
    path = tmp_path / "legacy.pth"
    torch.save(official_state(), path, _use_new_zipfile_serialization=False)
    assert load_model(path).model.config()["vision_layers"] == 2


def test_missing_key_is_named(tmp_path):
    state = official_state()
    del state["clip.visual.transformer.resblocks.1.ln_2.bias"]
    torch.save(state, tmp_path / "c.pth")
    with pytest.raises(CheckpointError, match=r"missing keys: visual\.transformer\.resblocks\.1\.ln_2\.bias"):
        load_model(tmp_path / "c.pth")


def test_unknown_key_is_named(tmp_path):
    state = official_state()
    state["clip.visual.extra_head.weight"] = torch.zeros(3)
    torch.save(state, tmp_path / "c.pth")
    with pytest.raises(CheckpointError, match=r"unknown keys: visual\.extra_head\.weight"):
        load_model(tmp_path / "c.pth")


def test_shape_mismatch_is_named(tmp_path):
    state = official_state()
    state["clip.ln_final.weight"] = torch.ones(65, dtype=torch.float16)
    torch.save(state, tmp_path / "c.pth")
    with pytest.raises(CheckpointError, match=r"shape mismatch: ln_final\.weight \(65,\) \(expected \(64,\)\)"):
        load_model(tmp_path / "c.pth")


class _Exploit:
    def __reduce__(self):
        return (os.system, ("touch PWNED_BY_CHECKPOINT",))


def test_code_executing_pickle_is_refused_not_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    state = official_state()
    state["clip.payload"] = _Exploit()
    torch.save(state, tmp_path / "evil.pth")
    with pytest.raises(CheckpointError, match="refused"):
        load_model(tmp_path / "evil.pth")
    assert not (tmp_path / "PWNED_BY_CHECKPOINT").exists()


def test_plain_pickle_file_with_code_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "evil.pt").write_bytes(pickle.dumps(_Exploit()))
    with pytest.raises(CheckpointError):
        read_state_dict(tmp_path / "evil.pt")
    assert not (tmp_path / "PWNED_BY_CHECKPOINT").exists()


def test_not_a_checkpoint(tmp_path):
    (tmp_path / "junk.pth").write_text("this is not a checkpoint")
    with pytest.raises(CheckpointError, match="not a PyTorch checkpoint"):
        load_model(tmp_path / "junk.pth")
    torch.save({"clip.visual.proj": "a string"}, tmp_path / "odd.pth")
    with pytest.raises(CheckpointError):
        load_model(tmp_path / "odd.pth")


def test_named_variant_offline_error_says_where_to_put_the_file(tmp_path, monkeypatch):
    monkeypatch.setenv("SILVERSCORE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(CheckpointError) as info:
        load_model("phoenix")
    message = str(info.value)
    assert "sakimai/silverscore-phoenix" in message
    assert str(tmp_path / "home" / "ph_sota.pth") in message


def test_named_variant_found_in_home(tmp_path, monkeypatch):
    monkeypatch.setenv("SILVERSCORE_HOME", str(tmp_path))
    torch.save(official_state(seed=4), tmp_path / "H2S_sota.pth")
    loaded = load_model("how2sign")
    assert loaded.name == "how2sign" and loaded.path == tmp_path / "H2S_sota.pth"


def test_own_format_round_trip(tmp_path, small_ckpt):
    model = load_model(small_ckpt).model
    path = save_own(model, tmp_path / "converted")
    config = json.loads(path.with_suffix(".json").read_text())
    assert config["architecture"] == "cico" and config["softmax"] == "official"
    again = load_model(path).model
    for (k, a), (_, b) in zip(model.state_dict().items(), again.state_dict().items()):
        assert torch.equal(a, b), k
    (tmp_path / "lonely.safetensors").write_bytes(path.read_bytes())
    with pytest.raises(CheckpointError, match="missing its config"):
        load_model(tmp_path / "lonely.safetensors")
