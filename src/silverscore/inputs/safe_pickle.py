"""A restricted unpickler for CiCo's ``.pkl`` files: numpy arrays and plain containers only.

CiCo stores I3D features as pickles of ``{'feature': ndarray, ...}`` and its text lists as pickles
of lists/dicts of strings. Unpickling runs whatever the file asks for, so an untrusted ``.pkl``
could execute code. This unpickler resolves only the handful of globals that numpy arrays need
to be rebuilt and refuses everything else with :class:`~silverscore.errors.InputError`.
"""
from __future__ import annotations

import io
import pickle
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError

# (module, name) pairs that rebuild numpy arrays and scalars, across numpy 1.x and 2.x names.
_ALLOWED = {
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "scalar"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("numpy.core.numeric", "_frombuffer"),
    ("numpy._core.numeric", "_frombuffer"),
    ("collections", "OrderedDict"),
    ("_codecs", "encode"),  # how protocols 0-2 spell a bytes object
    ("builtins", "set"),
    ("builtins", "frozenset"),
    ("builtins", "complex"),
    ("builtins", "slice"),
}


class _NumpyOnlyUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str):
        if (module, name) in _ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"global {module}.{name} is not allowed")


def safe_loads(data: bytes, source: str | Path | None = None) -> Any:
    """Unpickle ``data`` admitting only numpy arrays and plain containers."""
    try:
        return _NumpyOnlyUnpickler(io.BytesIO(data)).load()
    except pickle.UnpicklingError as err:
        raise InputError(source, f"refused to unpickle: {err} (only numpy arrays and plain containers are read)") from None
    except (EOFError, ValueError, TypeError, AttributeError, IndexError, KeyError, ImportError, UnicodeDecodeError) as err:
        raise InputError(source, f"not a readable pickle file ({type(err).__name__}: {err})") from None


def safe_load(path: str | Path) -> Any:
    """Read and safely unpickle the file at ``path``."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as err:
        raise InputError(path, f"cannot read file ({err.strerror or err})") from None
    return safe_loads(data, path)


__all__ = ["safe_load", "safe_loads", "np"]
