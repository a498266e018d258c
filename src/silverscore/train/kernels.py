"""Pinning the CPU kernels a training run uses, so that its weights repeat bit for bit on other machines.

Why this exists: a seeded run on one machine repeats its weights exactly (fixed thread count,
deterministic kernels, see :func:`silverscore.train.trainer.deterministic_algorithms`), but the
same run on a machine with another instruction set does not. Three libraries inside PyTorch pick
their code by the CPU they find, and each changes the last bits of a float result:

* PyTorch's own vectorised kernels (sums, softmax, exp, …): AVX-512 or AVX2 builds of each
  kernel (``ATEN_CPU_CAPABILITY``, read once, at the first kernel call of the process);
* Intel MKL's matrix products: a code branch per processor generation, unless "conditional
  numerical reproducibility" fixes one (``MKL_CBWR``; set here through MKL's service call
  ``mkl_serv_cbwr_set``, which PyTorch's library exports, before the first matrix product);
* oneDNN, which PyTorch uses for GELU on 3-D inputs (MiniLM's feed-forward): its just-in-time code
  follows the newest instruction set present. A pinned run turns oneDNN off and PyTorch's own
  GELU (pinned above) runs instead.

Measured on an AVX-512 machine (a 30-step run of the test recipe): forcing any one of the three to
AVX2 changed the weights file; with all three pinned to AVX2 the run gave the same file whether
or not MKL and PyTorch were also *told* the CPU had only AVX2, i.e. as an AVX2 machine computes
it. NumPy's dispatch does not matter here: the synthetic language renders the same bytes with
NumPy limited to x86-64-v2. Pinning to AVX2 cost about 17 % of the step time on that machine
(MKL's AVX2 matrix products); pinning to AVX-512 cost nothing, and reproduces on AVX-512 machines
only.

MKL's AVX2 and AVX-512 branches exist on Intel processors only: on an AMD EPYC (Zen 4) machine
MKL refuses both (session 21), so ``avx2`` and ``avx512`` there pin PyTorch and oneDNN but not
MKL, and say so in a warning. ``portable`` pins MKL to its *compatible* branch instead, the one
that MKL runs alike on Intel and other x86-64 processors, with PyTorch's AVX2 kernels and oneDNN
off: the mode for weights that repeat on any x86-64 machine with AVX2, Intel or AMD.

Modes (``[train] kernels``): ``native`` (the default: whatever the machine picks; repeats on the
same machine), ``avx512``, ``avx2``, ``portable``. The thread count still has to match
(``[train] threads``).
"""
from __future__ import annotations

import ctypes
import os
import warnings
from pathlib import Path

KERNEL_MODES = ("native", "avx2", "avx512", "portable")

#: MKL's branch codes for ``mkl_serv_cbwr_set``/``_get`` (mkl_service.h: MKL_CBWR_COMPATIBLE,
#: MKL_CBWR_AVX2, MKL_CBWR_AVX512).
_MKL_BRANCH = {"avx2": 10, "avx512": 12, "portable": 3}
_MKL_BRANCH_NAMES = {1: "off", 2: "auto", 3: "COMPATIBLE", 10: "AVX2", 12: "AVX512"}
_MKL_GET_BRANCH = 1  # MKL_CBWR_BRANCH: ask for the branch part of the setting
_MKL_UNSUPPORTED_BRANCH = -3
_ATEN_NAME = {"avx2": "AVX2", "avx512": "AVX512", "portable": "AVX2"}


#: Modes this process has already warned about (the warning is the same every time).
_WARNED: set[str] = set()


class KernelPinError(RuntimeError):
    """The process already runs other kernels than the ones asked for, and they cannot change now."""


def check_mode(mode: str) -> str:
    if mode not in KERNEL_MODES:
        raise ValueError(f"kernels = {mode!r}: use one of {', '.join(KERNEL_MODES)}")
    return mode


def _mkl():
    """MKL's service calls inside PyTorch's CPU library, or None (a build without MKL, e.g. ARM)."""
    import torch

    path = Path(torch.__file__).parent / "lib" / "libtorch_cpu.so"
    try:
        lib = ctypes.CDLL(str(path))
        get, set_ = lib.mkl_serv_cbwr_get, lib.mkl_serv_cbwr_set
    except (OSError, AttributeError):
        return None
    get.argtypes, get.restype = [ctypes.c_int], ctypes.c_int
    set_.argtypes, set_.restype = [ctypes.c_int], ctypes.c_int
    return get, set_


def kernel_provenance(mode: str = "native") -> dict:
    """What this process's kernels are, for a model's ``model.json``."""
    import torch

    mkl = _mkl()
    branch = mkl[0](_MKL_GET_BRANCH) if mkl else None
    return {"mode": mode, "aten": torch.backends.cpu.get_cpu_capability(),
            "mkl_branch": _MKL_BRANCH_NAMES.get(branch, branch) if mkl else None,
            "onednn": bool(torch.backends.mkldnn.enabled), "torch": torch.__version__,
            "threads": torch.get_num_threads()}


def pin_cpu_kernels(mode: str) -> dict:
    """Fix this process's CPU kernels to ``mode`` (see the module docstring); returns
    :func:`kernel_provenance`. Call it before the process's first PyTorch computation.

    ``native`` changes nothing. On a CPU without the asked-for instruction set a warning says that
    the run will not repeat other machines' bits, and it goes on with what the CPU has. If this
    process has already computed with other kernels (PyTorch's choice is made once),
    :class:`KernelPinError` says how to start it instead; a run that silently used other
    kernels than its config names would break the promise the setting makes."""
    check_mode(mode)
    if mode == "native":
        return kernel_provenance(mode)
    os.environ["ATEN_CPU_CAPABILITY"] = _ATEN_NAME[mode].lower()  # read at the process's first kernel call
    import torch

    wanted = _ATEN_NAME[mode]
    missing = []
    got = torch.backends.cpu.get_cpu_capability()
    if got != wanted:
        if _capability_already_fixed(wanted):
            raise KernelPinError(
                f"kernels = {mode!r}: this process already computes with {got} kernels; start a new process "
                f"(silverscore train does) or set ATEN_CPU_CAPABILITY={wanted.lower()} before importing torch")
        missing.append(f"PyTorch picked {got}")
    mkl = _mkl()
    if mkl is None:
        missing.append("this PyTorch build has no MKL")
    else:
        get, set_ = mkl
        branch = _MKL_BRANCH_NAMES[_MKL_BRANCH[mode]]
        if get(_MKL_GET_BRANCH) != _MKL_BRANCH[mode]:
            status = set_(_MKL_BRANCH[mode])
            if status == _MKL_UNSUPPORTED_BRANCH:
                missing.append(f"MKL has no {branch} branch on this CPU (MKL's AVX2 and AVX-512 "
                               f"branches are for Intel processors; kernels = 'portable' pins one for every x86-64)")
            elif status != 0:
                raise KernelPinError(
                    f"kernels = {mode!r}: MKL already ran with another branch in this process (code {status}); "
                    f"start a new process (silverscore train does) or set MKL_CBWR={branch} before importing torch")
    torch.backends.mkldnn.enabled = False
    if missing and mode not in _WARNED:  # a training run pins twice (run_training, then train)
        _WARNED.add(mode)
        warnings.warn(f"kernels = {mode!r}: {'; '.join(missing)}; the run goes on, but its weights will not "
                      f"repeat those of {mode} runs on other machines bit for bit", stacklevel=2)
    return kernel_provenance(mode)


def _capability_already_fixed(wanted: str) -> bool:
    """Whether PyTorch's capability differs because it was fixed earlier (not because the CPU lacks
    ``wanted``): the CPU's best capability, read in a clean child environment, reaches ``wanted``."""
    order = ["DEFAULT", "AVX2", "AVX512"]
    best = cpu_best_capability()
    if best not in order or wanted not in order:
        return False
    return order.index(best) >= order.index(wanted)


def cpu_best_capability() -> str:
    """PyTorch's choice on this CPU with no override (``AVX512``, ``AVX2``, ``DEFAULT``, …), from a
    child process: this process's choice may already be fixed."""
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "ATEN_CPU_CAPABILITY"}
    code = "import torch; print(torch.backends.cpu.get_cpu_capability())"
    try:
        result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return result.stdout.strip() or "unknown"
