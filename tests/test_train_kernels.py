"""``[train] kernels``: pinned CPU kernels give the same weights on a CPU with fewer instructions.

A second machine is emulated in a child process by telling PyTorch, MKL and oneDNN that the CPU
has no more than AVX2 (their own switches). Each run is a process of its own, because the
kernels a process computes with are fixed at its first computation.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from silverscore.cli import main
from silverscore.train.kernels import cpu_best_capability

from train_fixtures import write_manifest

#: What an AVX2-only x86-64 machine looks like to the three libraries.
OLDER_CPU = {"ATEN_CPU_CAPABILITY": "avx2", "MKL_ENABLE_INSTRUCTIONS": "AVX2", "ONEDNN_MAX_CPU_ISA": "AVX2"}
SRC = str(Path(__file__).resolve().parents[1] / "src")


@pytest.fixture(scope="module")
def manifests(tmp_path_factory):
    folder = tmp_path_factory.mktemp("kernel_data")
    return write_manifest(folder / "train", 24, 0), write_manifest(folder / "val", 8, 1)


def _config(folder: Path, manifests, kernels: str) -> Path:
    # the default architecture (its MiniLM GELU goes through oneDNN when oneDNN is on), a few steps
    train, val = manifests
    path = folder / "config.toml"
    path.write_text(f'seed = 5\nout = "{folder / "run"}"\n[model]\narchitecture = "pose_minilm"\n'
                    f'[data.train]\nkind = "jsonl"\nmanifest = "{train}"\n[data.val]\nkind = "jsonl"\nmanifest = "{val}"\n'
                    f'[train]\nbatch_size = 8\nsteps = 6\nlr = 1e-3\nval_every = 6\ncheckpoint_every = 6\n'
                    f'log_every = 3\nthreads = 2\nkernels = "{kernels}"\n')
    return path


def _train_in_child(folder: Path, manifests, kernels: str, extra_env: dict) -> tuple[bytes, dict, str]:
    folder.mkdir()
    config = _config(folder, manifests, kernels)
    env = {**{k: v for k, v in os.environ.items() if k not in OLDER_CPU}, **extra_env,
           "PYTHONPATH": os.pathsep.join([SRC, os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run([sys.executable, "-m", "silverscore.cli", "train", "--config", str(config), "--no-progress"],
                            env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    run = folder / "run"
    recorded = json.loads((run / "model.json").read_text())["training"]["kernels"]
    return (run / "model.safetensors").read_bytes(), recorded, result.stderr


def _same_weights_here_and_on_an_avx2_only_cpu(tmp_path, manifests, kernels: str) -> tuple[dict, str]:
    """Trains ``kernels`` here and on the emulated older CPU; asserts the same weights and record,
    returns the record and this machine's stderr."""
    if cpu_best_capability() not in ("AVX2", "AVX512"):
        pytest.skip("needs an x86-64 CPU with AVX2")
    here, recorded, err = _train_in_child(tmp_path / "here", manifests, kernels, {})
    older, recorded_older, _ = _train_in_child(tmp_path / "older", manifests, kernels, OLDER_CPU)
    assert here == older
    assert recorded == recorded_older
    return recorded, err


def test_pinned_kernels_repeat_the_weights_on_an_avx2_only_cpu(tmp_path, manifests):
    recorded, err = _same_weights_here_and_on_an_avx2_only_cpu(tmp_path, manifests, "avx2")
    assert (recorded["mode"], recorded["aten"], recorded["onednn"], recorded["threads"]) == ("avx2", "AVX2", False, 2)
    if recorded["mkl_branch"] != "AVX2":
        # MKL's AVX2 branch exists on Intel processors only (an AMD EPYC refuses it): then the run
        # must say that MKL is not pinned, and name the mode that is
        assert "MKL has no AVX2 branch on this CPU" in err and "kernels = 'portable'" in err


def test_portable_kernels_repeat_the_weights_on_an_avx2_only_cpu(tmp_path, manifests):
    """``portable``: MKL's compatible branch (the same code on Intel and other x86-64 processors),
    PyTorch's AVX2 kernels, oneDNN off; pinned without a warning on any x86-64 CPU with AVX2."""
    recorded, err = _same_weights_here_and_on_an_avx2_only_cpu(tmp_path, manifests, "portable")
    assert (recorded["mode"], recorded["aten"], recorded["mkl_branch"], recorded["onednn"]) == (
        "portable", "AVX2", "COMPATIBLE", False)
    assert "kernels = 'portable'" not in err


def test_native_kernels_differ_on_an_avx2_only_cpu(tmp_path, manifests):
    """The control: without pinning, the emulated older CPU changes the weights (so the test above
    would see a difference if the pinning missed one of the libraries)."""
    if cpu_best_capability() != "AVX512":
        pytest.skip("the emulated AVX2 machine only differs from an AVX-512 host")
    here, recorded, _ = _train_in_child(tmp_path / "here", manifests, "native", {})
    older, _, _ = _train_in_child(tmp_path / "older", manifests, "native", OLDER_CPU)
    assert here != older
    assert (recorded["mode"], recorded["aten"], recorded["onednn"]) == ("native", "AVX512", True)


def test_a_process_that_already_computed_is_refused_not_silently_unpinned():
    if cpu_best_capability() not in ("AVX2", "AVX512"):
        pytest.skip("needs an x86-64 CPU with AVX2")
    code = ("import torch\nx = torch.randn(16, 16); (x @ x).softmax(1)\n"
            "from silverscore.train.kernels import KernelPinError, pin_cpu_kernels\n"
            "try:\n    pin_cpu_kernels('avx2')\nexcept KernelPinError as e:\n    print('refused:', e)\n")
    env = {**os.environ, "ATEN_CPU_CAPABILITY": "default", "PYTHONPATH": SRC}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.startswith("refused: kernels = 'avx2': this process already computes with DEFAULT kernels")


def test_unknown_kernels_setting_is_a_config_error(tmp_path, manifests, capsys):
    config = _config(tmp_path, manifests, "avx3")
    assert main(["train", "--config", str(config), "--no-progress"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(config) in err[0] and "kernels = 'avx3': use one of native, avx2, avx512, portable" in err[0]
    assert not (tmp_path / "run").exists()
    assert torch.backends.mkldnn.enabled  # nothing was pinned in this process


def test_a_run_that_pins_twice_warns_once():
    """``silverscore train`` pins in run_training and again in train: a CPU that cannot be fully
    pinned is reported once, not twice (here MKL is made to look absent)."""
    code = ("import warnings\nfrom silverscore.train import kernels\nkernels._mkl = lambda: None\n"
            "with warnings.catch_warnings(record=True) as caught:\n    warnings.simplefilter('always')\n"
            "    kernels.pin_cpu_kernels('portable')\n    kernels.pin_cpu_kernels('portable')\n"
            "print(len(caught), 'no MKL' in str(caught[0].message))\n")
    env = {**{k: v for k, v in os.environ.items() if k not in OLDER_CPU}, "PYTHONPATH": SRC}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["1", "True"]
