"""End-to-end ``silverscore train`` on tiny real files: learning, determinism, resume, YAML, torchrun, errors."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from silverscore.cli import main

from train_fixtures import write_config, write_manifest

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    folder = tmp_path_factory.mktemp("train_data")
    return write_manifest(folder / "train", 48, 0), write_manifest(folder / "val", 16, 1)


def _weights(run: Path) -> bytes:
    return (run / "model.safetensors").read_bytes()


def test_training_learns_and_writes_checkpoint(tmp_path, data):
    cfg = write_config(tmp_path, *data, steps=60, batch_size=8)
    assert main(["train", "--config", str(cfg), "--no-progress"]) == 0
    run = tmp_path / "run"
    config = json.loads((run / "model.json").read_text())
    assert config["architecture"] == "pose_minilm" and config["softmax"] == "masked"
    assert config["training"]["settings"]["steps"] == 60
    history = json.loads((run / "history.json").read_text())["history"]
    losses = [h["loss"] for h in history if "loss" in h]
    assert losses[-1] < 0.8 * losses[0]
    val = config["validation"]
    # 8 words, 16 validation sentences: chance AUC is 0.5, a learnt mapping is well above
    assert val["auc_random"] > 0.75
    assert (run / "checkpoint" / "last.train.safetensors").is_file()
    from silverscore.models.checkpoints import load_own

    model = load_own(run / "model.safetensors")
    assert float(model.logit_scale_value().detach()) == pytest.approx(val["logit_scale"], rel=1e-6)


def test_same_seed_same_bits_and_resume_equals_uninterrupted(tmp_path, data, monkeypatch):
    first = tmp_path / "a"
    second = tmp_path / "b"
    for folder in (first, second):
        folder.mkdir()
        cfg = write_config(folder, *data, steps=20, batch_size=8)
        assert main(["train", "--config", str(cfg), "--no-progress"]) == 0
    assert _weights(first / "run") == _weights(second / "run")

    # interrupted after step 13 (last checkpoint at 10), then resumed
    third = tmp_path / "c"
    third.mkdir()
    cfg = write_config(third, *data, steps=20, batch_size=8)
    import silverscore.train.trainer as trainer

    original = trainer.iterate_steps

    def interrupted(*args, **kwargs):
        for step, epoch, batch in original(*args, **kwargs):
            if step == 13:
                raise KeyboardInterrupt
            yield step, epoch, batch

    monkeypatch.setattr(trainer, "iterate_steps", interrupted)
    assert main(["train", "--config", str(cfg), "--no-progress"]) == 130
    assert not (third / "run" / "model.safetensors").exists()
    assert json.loads((third / "run" / "checkpoint" / "last.train.json").read_text())["step"] == 10
    monkeypatch.setattr(trainer, "iterate_steps", original)
    assert main(["train", "--config", str(cfg), "--resume", "--no-progress"]) == 0
    assert _weights(third / "run") == _weights(first / "run")


def test_yaml_config(tmp_path, data):
    cfg = write_config(tmp_path, *data, steps=4, batch_size=8, fmt="yaml")
    assert main(["train", "--config", str(cfg), "--no-progress"]) == 0
    assert (tmp_path / "run" / "model.safetensors").is_file()


BAD_CONFIGS = [
    ("seed = 1\n[train]\nsteps = 3\n", "missing [data.train]"),
    ('[data.train]\nkind = "jsonl"\nmanifest = "x.jsonl"\n[train]\nbogus = 1\n', "unknown [train] setting(s): bogus"),
    ('[data.train]\nkind = "synth"\nsentences = 2\ndegraded_variants = 1\ndegraded_kinds = ["blur"]\n',
     "unknown degraded_kinds ['blur']"),
    ('[data.train]\nkind = "synth"\nsentences = 2\ndegraded_evry = 2\n',
     "unknown key(s) in [data.train] of kind 'synth': degraded_evry"),
    ('[data.train]\nkind = "phoenix"\nroot = "x"\nsentences = 2\n',
     "unknown key(s) in [data.train] of kind 'phoenix': sentences"),
    ('[data.train]\nkind = "synth"\nsentences = 2\nhard_text_renderings = 0\n',
     "hard_text_renderings >= 1, got 0, 0"),
    ("[data.train\n", "cannot parse config"),
    ('[data.train]\nkind = "synth"\nsentences = 2\n[train]\nsimilarity_buckets = 0\n',
     "similarity_buckets must be a whole number >= 1, not 0"),
    ('[data.train]\nkind = "synth"\nsentences = 2\n[form]\nstepz = 3\n', "unknown [form] setting(s): stepz"),
    ('[data.train]\nkind = "synth"\nsentences = 2\n[train]\nskip_padding = "yes"\n',
     "skip_padding must be true or false, not 'yes'"),
    ('[data.train]\nkind = "synth"\nsentences = 2\n[form]\nskip_padding = 1\n',
     "[form] skip_padding must be true or false, not 1"),
    ('[model]\narchitecture = "cico"\n[data.train]\nkind = "synth"\nsentences = 2\n[form]\nsteps = 3\n',
     "[form] trains a form head for pose_minilm models only"),
]


@pytest.mark.parametrize("text, message", BAD_CONFIGS)
def test_bad_configs_are_one_line_errors(tmp_path, capsys, text, message):
    bad = tmp_path / "bad.toml"
    bad.write_text(text)
    assert main(["train", "--config", str(bad)]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_torchrun_two_processes_match_one_process(tmp_path, data):
    one = tmp_path / "one"
    two = tmp_path / "two"
    for folder in (one, two):
        folder.mkdir()
        # length buckets as in the default recipe: the blocks are cut from the all-gathered batch
        write_config(folder, *data, steps=30, batch_size=8, extra_train="similarity_buckets = 2\n")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    for folder, nproc in ((one, 1), (two, 2)):
        proc = subprocess.run(
            [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", str(nproc), "--master_port", str(29531 + nproc),
             "-m", "silverscore.cli", "train", "--config", str(folder / "config.toml"), "--no-progress"],
            capture_output=True, text=True, timeout=300, env=env, cwd=folder)
        assert proc.returncode == 0, proc.stderr[-3000:]
    val_one = json.loads((one / "run" / "model.json").read_text())["validation"]
    val_two = json.loads((two / "run" / "model.json").read_text())["validation"]
    assert json.loads((two / "run" / "model.json").read_text())["training"]["processes"] == 2
    assert json.loads((two / "run" / "model.json").read_text())["training"]["settings"]["similarity_buckets"] == 2
    # the same global batches and loss: figures agree up to float summation order
    for key in ("auc_random", "r1_v2t", "r1_t2v", "auc_hard"):
        assert abs(val_one[key] - val_two[key]) <= 0.05, (key, val_one[key], val_two[key])
    from safetensors.torch import load_file

    a = load_file(str(one / "run" / "model.safetensors"))
    b = load_file(str(two / "run" / "model.safetensors"))
    worst = max(float((a[k] - b[k]).abs().max()) for k in a)
    assert worst < 1e-3, worst


def test_training_steps_run_with_deterministic_kernels_and_restore_the_setting(tmp_path, data, monkeypatch):
    """With several threads the CPU backward of advanced indexing adds with atomics (timing-dependent
    last bits); training therefore switches PyTorch's deterministic kernels on for its steps, and
    gives the caller's setting back afterwards."""
    import silverscore.train.trainer as trainer

    seen = []
    real_loss = trainer.contrastive_loss

    def recording_loss(*args, **kwargs):
        seen.append(torch.are_deterministic_algorithms_enabled())
        return real_loss(*args, **kwargs)

    monkeypatch.setattr(trainer, "contrastive_loss", recording_loss)
    assert not torch.are_deterministic_algorithms_enabled()
    cfg = write_config(tmp_path, *data, steps=3, batch_size=8)
    assert main(["train", "--config", str(cfg), "--no-progress"]) == 0
    assert seen == [True, True, True]
    assert not torch.are_deterministic_algorithms_enabled()


def test_the_train_command_keeps_freed_memory_on_glibc():
    """mallopt accepts both settings (it returns 0 for an unknown parameter or a refused value)."""
    import platform

    from silverscore.train.run import keep_freed_memory_in_process

    if not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc":
        pytest.skip("glibc only")
    assert keep_freed_memory_in_process() is True


def test_form_stage_after_training_writes_a_model_with_its_form_head(tmp_path):
    """[form] runs the second stage on the trained towers: the written model carries the head, its
    settings and validation, scores carry form:on, and the towers equal a run without [form]."""
    from safetensors.torch import load_file

    from silverscore.api import Scorer
    from silverscore.models.checkpoints import load_own

    base = ('seed = 2\n[model]\narchitecture = "pose_minilm"\n'
            'pose_encoder = { frame_dim = 16, width = 32, layers = 1, heads = 2, embed_dim = 32 }\n'
            'text_head = { width = 32, layers = 1, heads = 2 }\n'
            '[data.train]\nkind = "synth"\nsentences = 12\nseed = 0\n'
            '[train]\nbatch_size = 6\nsteps = 2\nthreads = 1\nlog_every = 1\n')
    form = '[form]\nsentences = 6\nval_sentences = 3\nsteps = 3\nbatch_size = 4\nhead = { width = 16, layers = 1, heads = 2 }\n'
    runs = {}
    for name, text in (("plain", base), ("form", base + form)):
        cfg = tmp_path / f"{name}.toml"
        cfg.write_text(f'out = "{tmp_path / name}"\n' + text)
        assert main(["train", "--config", str(cfg), "--no-progress"]) == 0
        runs[name] = tmp_path / name / "model.safetensors"
    config = json.loads(runs["form"].with_suffix(".json").read_text())
    assert config["form_head"]["width"] == 16 and config["form_training"]["settings"]["steps"] == 3
    assert "F_clean" in config["form_training"]["validation"]
    plain, with_head = load_file(str(runs["plain"])), load_file(str(runs["form"]))
    assert set(with_head) - set(plain) and all(k.startswith("form_head.") for k in set(with_head) - set(plain))
    assert all(torch.equal(plain[k], with_head[k]) for k in plain)
    from silverscore.synth.corpus import generate_corpus
    from silverscore.train.synthetic import _pose, keypoint_names

    items = generate_corpus(2, 5, "test")
    result = Scorer(load_own(runs["form"])).score([_pose(it, keypoint_names()) for it in items], [it.text for it in items])
    assert "|form:on|" in result.signature and result.form is not None
    # --resume on a finished first stage reruns the second stage only, to the same bits
    written = runs["form"].read_bytes()
    runs["form"].unlink()
    assert main(["train", "--config", str(tmp_path / "form.toml"), "--resume", "--no-progress"]) == 0
    assert runs["form"].read_bytes() == written
