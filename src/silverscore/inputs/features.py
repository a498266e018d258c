"""Reading I3D clip-feature files: ``.npy``, ``.npz``, ``.pt`` (tensors only), CiCo ``.pkl``.

Every reader ends in :func:`check_features`, so whatever the container, the scorer receives a
finite float32 ``n × D`` array with n ≥ 1, or the user gets one line naming the file and the
problem. Two streams (domain-agnostic and domain-aware I3D) are blended here with α, because
the official package stores α but never applies it (spec §1.1).
"""
from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import InputError
from .safe_pickle import safe_load

FEATURE_EXTENSIONS = (".npy", ".npz", ".pt", ".pth", ".pkl")
_ARRAY_KEYS = ("feature", "features", "feats", "arr_0")


def _pick_array(obj, path: Path):
    """The feature array inside a container: itself, or under a 'feature'-like key."""
    if isinstance(obj, dict):
        for key in _ARRAY_KEYS:
            if key in obj:
                return obj[key]
        arrays = [v for v in obj.values() if hasattr(v, "shape")]
        if len(arrays) == 1:
            return arrays[0]
        raise InputError(path, f"no feature array found (keys: {', '.join(map(str, obj)) or 'none'}; expected 'feature')")
    return obj


def read_feature_file(path: str | Path, expected_dim: int | None = None) -> np.ndarray:
    """Load one feature file as a checked float32 ``n × D`` array."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "no such feature file")
    suffix = path.suffix.lower()
    try:
        if suffix == ".npy":
            obj = np.load(path, allow_pickle=False)
        elif suffix == ".npz":
            with np.load(path, allow_pickle=False) as npz:
                obj = {k: npz[k] for k in npz.files}
        elif suffix in (".pt", ".pth"):
            import torch

            try:
                obj = torch.load(str(path), map_location="cpu", weights_only=True)
            except Exception as err:  # UnpicklingError for code, RuntimeError for junk
                first = str(err).splitlines()[0] if str(err) else type(err).__name__
                raise InputError(path, f"not a tensor file readable with weights_only=True ({first[:200]})") from None
            obj = _pick_array(obj, path)
            if hasattr(obj, "detach"):
                obj = obj.detach().cpu().numpy()
        elif suffix == ".pkl":
            obj = safe_load(path)
        else:
            raise InputError(path, f"unsupported feature file type {suffix!r} (use {', '.join(FEATURE_EXTENSIONS)})")
    except InputError:
        raise
    except (ValueError, OSError, zipfile.BadZipFile, EOFError) as err:
        raise InputError(path, f"not a readable {suffix} array file ({str(err).splitlines()[0][:200]})") from None
    return check_features(_pick_array(obj, path), path, expected_dim)


def check_features(array, path: str | Path | None, expected_dim: int | None = None) -> np.ndarray:
    """Validate rank, width, length and finiteness; squeeze a leading batch axis of 1."""
    try:
        array = np.asarray(array)
    except Exception:
        raise InputError(path, f"feature entry is a {type(array).__name__}, not an array") from None
    if array.dtype == object or not (np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer)):
        raise InputError(path, f"feature array has non-numeric dtype {array.dtype}")
    if array.ndim == 3 and array.shape[0] == 1:
        array = array[0]
    if array.ndim != 2:
        raise InputError(path, f"feature array has rank {array.ndim} (shape {array.shape}); expected n × D clips")
    if array.shape[0] == 0:
        raise InputError(path, "feature array has zero rows (no clips)")
    if expected_dim is not None and array.shape[1] != expected_dim:
        raise InputError(path, f"feature width is {array.shape[1]}, the model expects {expected_dim}")
    array = array.astype(np.float32, copy=False)
    if not np.isfinite(array).all():
        bad = int((~np.isfinite(array)).any(axis=1).sum())
        raise InputError(path, f"feature array contains NaN or Inf ({bad} of {array.shape[0]} rows)")
    return array


def blend_streams(agnostic: np.ndarray, aware: np.ndarray, alpha: float, path: str | Path | None = None) -> np.ndarray:
    """``α·F_agnostic + (1−α)·F_aware`` (spec §1.1); both streams must have the same shape."""
    if agnostic.shape != aware.shape:
        raise InputError(path, f"agnostic and aware features differ in shape ({agnostic.shape} vs {aware.shape})")
    return (alpha * agnostic + (1.0 - alpha) * aware).astype(np.float32)


@dataclass(frozen=True)
class BlendedStreams:
    """A hypothesis given as two feature files, blended only when the scorer reads it, so a large
    corpus never holds more than one batch of features in memory."""

    agnostic: Path
    aware: Path
    alpha: float

    def load(self, expected_dim: int | None = None) -> np.ndarray:
        return blend_streams(read_feature_file(self.agnostic, expected_dim), read_feature_file(self.aware, expected_dim),
                             self.alpha, self.aware)
