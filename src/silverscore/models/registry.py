"""Architecture name → constructor, for models saved in our own format.

Our checkpoints are ``NAME.safetensors`` plus ``NAME.json``; the JSON config carries an
``architecture`` key naming an entry here. Each constructor takes the config dict and returns an
untrained module with the right shapes; the checkpoint loader then fills in the weights strictly.
Constructors are imported lazily so that loading one kind of model never imports the others'
dependencies (the pose models need sentence-transformers, the CiCo model does not).
"""
from __future__ import annotations

import importlib
from typing import Callable

# name -> "module:function"
ARCHITECTURES: dict[str, str] = {
    "cico": "silverscore.models.cico:CiCoModel.from_config",
    "pose_minilm": "silverscore.models.pose_text:PoseTextModel.from_config",
}


def build_model(config: dict):
    """Build an untrained model from its config (``config['architecture']`` picks the class)."""
    name = config.get("architecture")
    if name not in ARCHITECTURES:
        raise KeyError(f"unknown architecture {name!r}; known: {', '.join(sorted(ARCHITECTURES))}")
    module_name, _, attr_path = ARCHITECTURES[name].partition(":")
    obj: Callable = importlib.import_module(module_name)  # type: ignore[assignment]
    for part in attr_path.split("."):
        obj = getattr(obj, part)
    return obj(config)
