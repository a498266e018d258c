"""Shared fixtures: the read-only ../shared folder and small checkpoints written by the tests."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import torch

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # tests never reach for the network


def shared_path(*parts: str) -> Path:
    """A file under ../shared, or skip the test with the reason when the folder is absent."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is absent (the project's shared data folder is not beside this clone)")
    return path


@pytest.fixture(scope="session")
def parity_ckpt() -> Path:
    return shared_path("parity", "tiny_official_ckpt.pt")


@pytest.fixture(scope="session")
def parity_vectors():
    return np.load(shared_path("parity", "vectors_public.npz"))


def official_state(seed: int = 0, width: int = 64, layers: int = 2, text_width: int = 64, text_layers: int = 1,
                   embed: int = 32, vocab: int = 49408) -> dict[str, torch.Tensor]:
    """A random state dict in the official layout (``clip.*`` keys, fp16, unused keys included)."""
    from silverscore.models.cico import CiCoModel

    torch.manual_seed(seed)
    model = CiCoModel(vision_width=width, vision_layers=layers, text_width=text_width, text_layers=text_layers,
                      embed_dim=embed, vocab_size=vocab)
    state = {f"clip.{k}": v.detach().half() for k, v in model.state_dict().items()}
    state["clip.visual.conv2_trans.weight"] = torch.zeros(embed, width, 1, 1, dtype=torch.float16)
    state["clip.logit_scale_first_softmax"] = torch.tensor(1.0)
    return state


@pytest.fixture
def small_ckpt(tmp_path) -> Path:
    path = tmp_path / "small_official.pth"
    torch.save(official_state(), path)
    return path


def pytest_sessionfinish(session, exitstatus):
    """A run that collected no tests is a failure, never pytest's 'no tests' exit code 5."""
    if exitstatus == 5:
        session.exitstatus = 1
