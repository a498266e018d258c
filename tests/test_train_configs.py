"""Every config shipped under configs/ passes the same checks `silverscore train` runs first."""
from __future__ import annotations

from pathlib import Path

import pytest

from silverscore.train.config import load_config

CONFIGS = sorted((Path(__file__).resolve().parents[1] / "configs").glob("*.[ty]*ml"))


def test_there_are_configs():
    assert {p.name for p in CONFIGS} >= {"default_model.toml", "ranking_model.toml", "example_phoenix_pose.yaml"}


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_shipped_config_is_valid(path):
    config = load_config(path)
    assert config.settings.steps >= 1 and config.train_data["kind"]
    assert config.out.is_absolute()
