"""Training run configuration: one TOML or YAML file, checked before any work starts.

Layout (TOML shown; YAML has the same keys)::

    seed = 0
    out = "runs/my_model"          # relative paths are relative to the config file

    [model]                        # architecture + overrides of its default config
    architecture = "pose_minilm"
    pose_encoder = { layers = 3, width = 192 }

    [data.train]                   # see silverscore.train.sources
    kind = "synth"                 # or jsonl / phoenix / csl / how2sign / cico
    sentences = 3000

    [data.val]
    kind = "synth"
    sentences = 300
    split = "dev"

    [train]                        # silverscore.train.trainer.TrainSettings
    batch_size = 96
    steps = 2000

    [form]                         # optional second stage: silverscore.train.form.FormSettings
    steps = 1500                   # (pose models on the synthetic language only)
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError
from .form import FormSettings
from .sources import unknown_data_keys
from .trainer import TrainSettings

TOP_LEVEL_KEYS = {"seed", "out", "model", "data", "train", "form"}


@dataclass
class RunConfig:
    seed: int
    out: Path
    model: dict
    train_data: dict
    val_data: dict | None
    settings: TrainSettings
    form: FormSettings | None = None  # the second stage (form head), when the config has [form]
    source: Path | None = None
    raw: dict = field(default_factory=dict)


def read_config_file(path: str | Path) -> dict:
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "config file not found")
    text = path.read_text(encoding="utf-8")
    suffix = path.suffix.lower()
    try:
        if suffix == ".toml":
            import tomllib

            return tomllib.loads(text)
        if suffix in (".yaml", ".yml"):
            import yaml

            data = yaml.safe_load(text)
            if not isinstance(data, dict):
                raise InputError(path, "the YAML document must be a mapping")
            return data
        if suffix == ".json":
            return json.loads(text)
    except InputError:
        raise
    except Exception as err:  # tomllib/yaml/json each raise their own error type
        raise InputError(path, f"cannot parse config ({type(err).__name__}: {err})") from None
    raise InputError(path, f"unsupported config type {suffix!r} (use .toml, .yaml or .json)")


def parse_config(raw: dict, source: Path | None = None) -> RunConfig:
    """Validate a config mapping; every problem names the config file."""
    where = source
    unknown = sorted(set(raw) - TOP_LEVEL_KEYS)
    if unknown:
        raise InputError(where, f"unknown top-level key(s): {', '.join(unknown)}")
    base = source.parent if source else Path.cwd()
    data = raw.get("data") or {}
    if "train" not in data:
        raise InputError(where, "missing [data.train]")
    for name, section in data.items():
        if name not in ("train", "val"):
            raise InputError(where, f"unknown data section [data.{name}] (use train and val)")
        if not isinstance(section, dict) or "kind" not in section:
            raise InputError(where, f"[data.{name}] needs a 'kind'")
        unknown = unknown_data_keys(section)
        if unknown:
            raise InputError(where, f"unknown key(s) in [data.{name}] of kind {section['kind']!r}: {', '.join(unknown)}")
    try:
        settings = TrainSettings.from_dict(raw.get("train") or {})
    except (TypeError, ValueError) as err:
        raise InputError(where, str(err)) from None
    form = None
    if raw.get("form") is not None:
        if not isinstance(raw["form"], dict):
            raise InputError(where, "[form] must be a table of settings")
        try:
            form = FormSettings.from_dict(raw["form"])
        except (TypeError, ValueError) as err:
            raise InputError(where, str(err)) from None
    if settings.batch_size < 2 or settings.steps < 1:
        raise InputError(where, "batch_size must be >= 2 and steps >= 1")
    if not isinstance(settings.similarity_buckets, int) or settings.similarity_buckets < 1:
        raise InputError(where, f"similarity_buckets must be a whole number >= 1, not {settings.similarity_buckets!r}")
    if data["train"].get("degraded_target") == "quality" and settings.degraded_in_contrastive:
        raise InputError(where, "degraded_target = \"quality\" pairs renderings with a reference they do not "
                                "sign: set degraded_in_contrastive = false in [train]")
    model_section = raw.get("model") or {}
    if form is not None and model_section.get("architecture", "pose_minilm") != "pose_minilm":
        raise InputError(where, "[form] trains a form head for pose_minilm models only")
    out = Path(raw.get("out", "runs/train"))
    if not out.is_absolute():
        out = base / out

    def resolve_paths(section: dict) -> dict:
        section = dict(section)
        for key in ("root", "media", "manifest", "hard_negatives"):
            if key in section and not Path(section[key]).is_absolute():
                section[key] = str(base / section[key])
        return section

    model = dict(raw.get("model") or {"architecture": "pose_minilm"})
    model.setdefault("architecture", "pose_minilm")
    return RunConfig(
        seed=int(raw.get("seed", 0)),
        out=out,
        model=model,
        train_data=resolve_paths(data["train"]),
        val_data=resolve_paths(data["val"]) if "val" in data else None,
        settings=settings,
        form=form,
        source=source,
        raw=raw,
    )


def load_config(path: str | Path) -> RunConfig:
    path = Path(path).resolve()
    return parse_config(read_config_file(path), path)
