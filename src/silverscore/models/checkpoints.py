"""Loading checkpoints strictly and safely: official ``.pth`` files, our safetensors, named variants.

Rules (spec §2 and issue 3):

* Never execute pickled code. ``.pth``/``.pt`` files go through ``torch.load(weights_only=True)``,
  which only rebuilds tensors and plain containers; a file whose pickle asks for anything else is
  refused with :class:`CheckpointError`. Our own format is safetensors (no code at all).
* Never fall back to random weights. Every expected tensor must be present with the expected
  shape; unknown keys are errors too, except the few unused keys the official files carry.
* Dimensions are read off the tensors, never assumed, so any size of CiCo model loads.
"""
from __future__ import annotations

import hashlib
import json
import os
import pickle
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from ..errors import CheckpointError, InputError
from .registry import build_model

#: Keys of the official checkpoints that the model does not use (spec §2).
IGNORED_OFFICIAL_KEYS = {
    "visual.conv2_trans.weight",
    "logit_scale_first_softmax",
    "logit_scale_sec_softmax",
    "input_resolution",
    "context_length",
    "vocab_size",
}

#: Named official variants: file name and model-hub repository.
NAMED_VARIANTS = {
    "phoenix": ("ph_sota.pth", "sakimai/silverscore-phoenix"),
    "csl": ("csl_sota.pth", "sakimai/silverscore-csl"),
    "how2sign": ("H2S_sota.pth", "sakimai/silverscore-how2sign"),
}

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
DEFAULT_MODEL = DATA_DIR / "default.safetensors"


@dataclass(frozen=True)
class LoadedModel:
    """A model ready to score, with what the signature needs to identify it."""

    model: Any
    name: str
    sha256: str
    path: Path | None


def silverscore_home() -> Path:
    """Where named variants are looked up: ``$SILVERSCORE_HOME`` or ``~/.cache/silverscore``."""
    return Path(os.environ.get("SILVERSCORE_HOME") or Path.home() / ".cache" / "silverscore")


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# ---------------------------------------------------------------------------------------------
# Reading raw state dicts
# ---------------------------------------------------------------------------------------------
def read_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """Tensors of a checkpoint file, unwrapped and with ``module.`` prefixes removed.

    Accepts safetensors files and torch files (zip or legacy format) holding either a flat state
    dict or ``{'state_dict': ...}`` / ``{'model': ...}``.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(path, "no such checkpoint file")
    if path.suffix == ".safetensors":
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        try:
            return load_file(str(path))
        except (SafetensorError, OSError, ValueError) as err:
            raise CheckpointError(path, f"not a readable safetensors file ({err})") from None
    try:
        obj = torch.load(str(path), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        message = str(err)
        if "weights_only" in message or "Unsupported global" in message or "GLOBAL" in message:
            found = re.search(r"GLOBAL ([\w.]+)", message)
            what = f" ({found.group(1)})" if found else ""
            raise CheckpointError(
                path,
                f"refused: the file's pickle would import or run code{what}; only tensors and plain "
                "containers are loaded (torch.load weights_only=True)",
            ) from None
        raise CheckpointError(path, f"not a PyTorch checkpoint ({message.splitlines()[0]})") from None
    except Exception as err:  # torch raises many types on junk bytes (RuntimeError, IndexError, EOFError ...)
        first = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise CheckpointError(path, f"not a PyTorch checkpoint ({first})") from None
    return unwrap_state_dict(obj, path)


def unwrap_state_dict(obj: Any, path: str | Path | None = None) -> dict[str, torch.Tensor]:
    """Accept ``{'state_dict'|'model': sd}`` wrappers and DataParallel ``module.`` prefixes."""
    if isinstance(obj, dict):
        for wrapper in ("state_dict", "model"):
            if wrapper in obj and isinstance(obj[wrapper], dict):
                obj = obj[wrapper]
                break
    if not isinstance(obj, dict) or not obj:
        raise CheckpointError(path, "not a checkpoint: expected a dict of tensors")
    state: dict[str, torch.Tensor] = {}
    for key, value in obj.items():
        name = key[len("module."):] if isinstance(key, str) and key.startswith("module.") else key
        if isinstance(value, torch.Tensor):
            state[name] = value
        elif isinstance(value, (int, float)):  # e.g. input_resolution stored as a number
            state[name] = torch.tensor(value)
        else:
            raise CheckpointError(path, f"not a checkpoint: entry {key!r} is a {type(value).__name__}, not a tensor")
    return state


# ---------------------------------------------------------------------------------------------
# The official CiCo layout
# ---------------------------------------------------------------------------------------------
def _block_count(keys: set[str], prefix: str) -> int:
    pattern = re.compile(re.escape(prefix) + r"(\d+)\.")
    found = {int(m.group(1)) for k in keys if (m := pattern.match(k))}
    return max(found) + 1 if found else 0


def infer_cico_dims(state: dict[str, torch.Tensor], path: str | Path | None = None) -> dict:
    """Read the CiCo model's dimensions off the tensors (spec §2 table)."""

    def need(key: str, ndim: int) -> torch.Tensor:
        if key not in state:
            raise CheckpointError(path, f"not an official SiLVERScore/CiCo checkpoint: missing key {key!r}")
        tensor = state[key]
        if tensor.ndim != ndim:
            raise CheckpointError(path, f"key {key!r} has shape {tuple(tensor.shape)}, expected {ndim} dimensions")
        return tensor

    conv1 = need("visual.conv1.weight", 4)
    vis_pos = need("visual.positional_embedding", 2)
    proj = need("visual.proj", 2)
    tok = need("token_embedding.weight", 2)
    pos = need("positional_embedding", 2)
    need("text_projection", 2)
    keys = set(state)
    return dict(
        input_dim=conv1.shape[1],
        vision_width=conv1.shape[0],
        vision_layers=_block_count(keys, "visual.transformer.resblocks."),
        visual_positions=vis_pos.shape[0],
        text_width=tok.shape[1],
        text_layers=_block_count(keys, "transformer.resblocks."),
        embed_dim=proj.shape[1],
        vocab_size=tok.shape[0],
        context_length=pos.shape[0],
    )


def load_cico_state(model: torch.nn.Module, state: dict[str, torch.Tensor], path: str | Path | None, ignore: set[str]) -> None:
    """Copy ``state`` into ``model`` exactly, or raise naming every missing/unknown/misshapen key."""
    expected = model.state_dict()
    present = {k: v for k, v in state.items() if k not in ignore}
    missing = sorted(set(expected) - set(present))
    unknown = sorted(set(present) - set(expected))
    mismatched = [
        f"{k} {tuple(present[k].shape)} (expected {tuple(expected[k].shape)})"
        for k in sorted(set(expected) & set(present))
        if tuple(present[k].shape) != tuple(expected[k].shape)
    ]
    problems = []
    if missing:
        problems.append(f"missing keys: {', '.join(missing[:8])}{' …' if len(missing) > 8 else ''}")
    if unknown:
        problems.append(f"unknown keys: {', '.join(unknown[:8])}{' …' if len(unknown) > 8 else ''}")
    if mismatched:
        problems.append(f"shape mismatch: {'; '.join(mismatched[:8])}")
    if problems:
        raise CheckpointError(path, "checkpoint does not match the model layout: " + " | ".join(problems))
    with torch.no_grad():
        for key, tensor in expected.items():
            value = present[key]
            if not torch.is_floating_point(value) and torch.is_floating_point(tensor):
                value = value.float()
            tensor.copy_(value.to(tensor.dtype))


def load_official(path: str | Path, name: str | None = None, state: dict[str, torch.Tensor] | None = None):
    """Build a :class:`CiCoModel` from an official SiLVERScore checkpoint (``clip.*`` keys)."""
    from .cico import CiCoModel

    state = read_state_dict(path) if state is None else state
    if not any(k.startswith("clip.") for k in state):
        raise CheckpointError(path, "not an official SiLVERScore/CiCo checkpoint: no 'clip.*' keys")
    stray = sorted(k for k in state if not k.startswith("clip."))
    if stray:
        raise CheckpointError(path, f"unknown keys outside 'clip.': {', '.join(stray[:8])}")
    state = {k[len("clip."):]: v for k, v in state.items()}
    dims = infer_cico_dims(state, path)
    model = CiCoModel(**dims, name=name or Path(path).stem)
    load_cico_state(model, state, path, IGNORED_OFFICIAL_KEYS)
    return model.eval()


# ---------------------------------------------------------------------------------------------
# Our own format: NAME.safetensors + NAME.json
# ---------------------------------------------------------------------------------------------
def load_own(path: str | Path):
    """Build a model from ``NAME.safetensors`` + ``NAME.json`` via the architecture registry."""
    path = Path(path)
    config_path = path.with_suffix(".json")
    if not config_path.is_file():
        raise CheckpointError(path, f"missing its config file {config_path.name} beside it")
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise CheckpointError(config_path, f"config is not valid JSON ({err})") from None
    state = read_state_dict(path)
    try:
        model = build_model(config)
    except KeyError as err:
        raise CheckpointError(config_path, str(err.args[0])) from None
    if hasattr(model, "load_checkpoint_state"):
        model.load_checkpoint_state(state, path)
    else:
        load_cico_state(model, state, path, set())
    return model.eval()


def save_own(model, path: str | Path) -> Path:
    """Write ``model`` in our format (safetensors weights + JSON config); returns the weights path."""
    from safetensors.torch import save_file

    from ..io_utils import atomic_write

    path = Path(path).with_suffix(".safetensors")
    state = model.checkpoint_state() if hasattr(model, "checkpoint_state") else model.state_dict()
    tensors = {k: v.detach().contiguous().cpu() for k, v in state.items()}
    with atomic_write(path, "wb") as handle:
        handle.write(_safetensors_bytes(tensors))
    with atomic_write(path.with_suffix(".json")) as handle:
        json.dump(model.config(), handle, indent=1, sort_keys=True)
    return path


def _safetensors_bytes(tensors: dict[str, torch.Tensor]) -> bytes:
    from safetensors.torch import save

    return save(tensors)


# ---------------------------------------------------------------------------------------------
# Resolving what the user asked for
# ---------------------------------------------------------------------------------------------
def resolve_named_variant(name: str) -> Path:
    """Path of a named official variant: ``$SILVERSCORE_HOME/<file>``, else a model-hub download.

    Offline (or when the hub refuses), the error says exactly which file to put where.
    """
    filename, repo = NAMED_VARIANTS[name]
    home = silverscore_home()
    local = home / filename
    if local.is_file():
        return local
    try:
        from huggingface_hub import hf_hub_download

        downloaded = Path(hf_hub_download(repo_id=repo, filename=filename, cache_dir=str(home / "hub")))
    except Exception as err:  # network, auth, offline mode, missing repo: all mean "not available"
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise CheckpointError(
            local,
            f"model '{name}' is not available locally and could not be downloaded from the model hub "
            f"({repo}/{filename}: {reason[:160]}). Put the official {filename} at {local} "
            f"(or set SILVERSCORE_HOME to the folder that holds it)",
        ) from None
    home.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(downloaded, local)
    return local


def load_model(spec: str | Path | None = None) -> LoadedModel:
    """Load what ``--model`` names: ``None`` (bundled default), a named variant, or a file.

    Files: ``*.safetensors`` with a ``.json`` config beside it (our format, or an official model
    converted), anything else is read as an official ``torch.save`` checkpoint.
    """
    if spec is None:
        if not DEFAULT_MODEL.is_file():
            raise InputError(DEFAULT_MODEL, "this install has no bundled default model; pass --model")
        return LoadedModel(load_own(DEFAULT_MODEL), "default", file_sha256(DEFAULT_MODEL), DEFAULT_MODEL)
    text = str(spec)
    if text in NAMED_VARIANTS:
        path = resolve_named_variant(text)
        return LoadedModel(load_official(path, name=text), text, file_sha256(path), path)
    path = Path(text)
    if not path.exists():
        known = ", ".join(sorted(NAMED_VARIANTS))
        raise CheckpointError(path, f"no such model file (named models: {known})")
    if path.is_dir():
        candidates = sorted(path.glob("*.safetensors"))
        if len(candidates) != 1:
            raise CheckpointError(path, "a model folder must hold exactly one .safetensors file with its .json")
        path = candidates[0]
    if path.suffix == ".safetensors":
        model = load_own(path)
    else:
        model = load_official(path)
    return LoadedModel(model, path.stem, file_sha256(path), path)
