"""CPU facts for choosing a precision, read without importing torch, and the verdict cached per machine.

Three checks decide what ``dtype="auto"`` means on a CPU and how float32 is multiplied there:

* Some virtual machines advertise AMX in CPUID but trap on AMX instructions (SIGILL kills the
  process). oneDNN picks AMX for bf16 matmuls when CPUID says it can, so before the first bf16
  forward a subprocess probes once, and oneDNN is capped at AVX512-BF16 when AMX traps. oneDNN
  reads the cap when it first runs, so it must be set before any oneDNN work in this process (the
  CLI does it before torch loads).
* Where the CPU has native bf16, a small bf16 matmul is timed against float32 (``_precision``).
* Which kernel float32 linear layers use: torch's BLAS or oneDNN, whichever a small matmul shows faster.

Both cost start-up time (the probe starts a Python that imports torch: seconds), and every process
would pay them again: each CLI call, Spark Python worker, spaCy ``n_process`` worker and joblib
worker. So each verdict is measured once per machine and kept in ``<cache_dir>/cpu-precision.json``
(see ``_files.cache_dir``), keyed by CPU model, CPU flags, torch version and ``ONEDNN_MAX_CPU_ISA``;
a new torch or another CPU measures again. ``sbert precision --remeasure`` (or deleting the file)
clears it; ``SBERT_PLUGINS_CPU_DTYPE=float32|bfloat16`` decides ``auto`` on CPUs without measuring, and
``SBERT_PLUGINS_CPU_LINEAR=blas|onednn`` the float32 linear kernel.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import subprocess
import sys
import warnings
from importlib import metadata
from pathlib import Path
from typing import Any

from .errors import ConfigError, PrecisionWarning
from .files import cache_dir, write_json_atomic
from .options import DTYPES

ISA_VAR = "ONEDNN_MAX_CPU_ISA"
DTYPE_ENV = "SBERT_PLUGINS_CPU_DTYPE"
LINEAR_ENV = "SBERT_PLUGINS_CPU_LINEAR"
LINEAR_KERNELS = ("blas", "onednn")
VERDICT_FILE = "cpu-precision.json"
_SAFE_ISA = "AVX512_CORE_BF16"
_KEEP_MACHINES = 8  # verdicts kept in the file (one per CPU / torch / ISA-cap combination)
_PROBE = "import torch; x = torch.randn(64, 64, dtype=torch.bfloat16); torch.nn.functional.linear(x, x); print('ok')"


@functools.lru_cache(maxsize=1)
def _cpuinfo() -> tuple[str, frozenset[str]]:
    """(model name, flags) of the first CPU in /proc/cpuinfo, read in one pass."""
    model, flags = "unknown CPU", frozenset[str]()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                key, _, value = line.partition(":")
                if key.strip() == "model name" and model == "unknown CPU":
                    model = value.strip()
                elif key.strip() == "flags" and not flags:
                    flags = frozenset(value.split())
                if flags and model != "unknown CPU":
                    break
    except OSError:
        pass
    return model, flags


def cpu_flags() -> frozenset[str]:
    """The CPU feature flags from /proc/cpuinfo (empty where that file does not exist)."""
    return _cpuinfo()[1]


def cpu_model() -> str:
    return _cpuinfo()[0]


def has_native_bf16() -> bool:
    """AMX-BF16 or AVX512-BF16 in the flags: bf16 matmuls can beat float32 here (to be measured)."""
    return bool(cpu_flags() & {"amx_bf16", "avx512_bf16"})


def forced_cpu_dtype() -> str | None:
    """``$SBERT_PLUGINS_CPU_DTYPE`` checked: what ``auto`` means on a CPU without measuring, or None."""
    value = os.environ.get(DTYPE_ENV, "").strip().lower()
    if not value:
        return None
    name = DTYPES.get(value)  # the dtype option's spellings (fp32, bf16, ...)
    if name not in ("float32", "bfloat16"):
        raise ConfigError(f"{DTYPE_ENV}={value!r}: use float32 or bfloat16 (or unset it to measure)")
    return name


def forced_linear_kernel() -> str | None:
    """``$SBERT_PLUGINS_CPU_LINEAR`` checked: the float32 linear kernel to use without measuring, or None."""
    value = os.environ.get(LINEAR_ENV, "").strip().lower()
    if not value:
        return None
    if value not in LINEAR_KERNELS:
        raise ConfigError(f"{LINEAR_ENV}={value!r}: use one of {LINEAR_KERNELS} (or unset it to measure)")
    return value


# -- the verdict file ---------------------------------------------------------
def verdict_path() -> Path:
    return cache_dir() / VERDICT_FILE


def machine_key(*, isa_cap: bool = True) -> str:
    """What a verdict depends on: CPU model and flags, torch version and (for timings) oneDNN's ISA cap."""
    try:
        torch_version = metadata.version("torch")
    except metadata.PackageNotFoundError:
        torch_version = "none"
    threads = os.environ.get("OMP_NUM_THREADS", "")  # a 1-thread worker's timings are not a 16-thread CLI's
    parts = [cpu_model(), " ".join(sorted(cpu_flags())), torch_version, f"{os.cpu_count()}:{threads}"]
    if isa_cap:
        parts.append(os.environ.get(ISA_VAR, ""))
    return hashlib.blake2b("\n".join(parts).encode(), digest_size=8).hexdigest()


def _read_verdicts() -> dict[str, Any]:
    try:
        data = json.loads(verdict_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}  # missing or corrupt: measure again
    return data if isinstance(data, dict) else {}


def cached(name: str, *, isa_cap: bool = True) -> Any:
    """A verdict measured earlier on this machine (None if there is none)."""
    entry = _read_verdicts().get(machine_key(isa_cap=isa_cap))
    return entry.get(name) if isinstance(entry, dict) else None


def remember(name: str, value: Any, *, isa_cap: bool = True) -> None:
    """Keep a verdict for the next process on this machine (silently skipped where the cache is read-only)."""
    verdicts = _read_verdicts()
    key = machine_key(isa_cap=isa_cap)
    entry = verdicts.pop(key, None)
    entry = entry if isinstance(entry, dict) else {"cpu": cpu_model(), "isa_cap": os.environ.get(ISA_VAR, "")}
    entry[name] = value
    kept = dict(list(verdicts.items())[-(_KEEP_MACHINES - 1) :])  # oldest machines go first
    kept[key] = entry
    write_json_atomic(verdict_path(), kept)


def forget() -> bool:
    """Delete every cached verdict, on disk and in this process; True if a file was removed."""
    amx_traps.cache_clear()
    try:
        verdict_path().unlink()
        return True
    except FileNotFoundError:
        return False


# -- AMX trap -----------------------------------------------------------------
def _probe_amx() -> bool | None:
    """True if the probe died, False if it printed ok, None if it could not run (not remembered)."""
    env = {k: v for k, v in os.environ.items() if k != ISA_VAR}
    try:
        done = subprocess.run(
            [sys.executable, "-c", _PROBE], env=env, capture_output=True, timeout=120, text=True, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if "ok" in done.stdout:
        return False
    # only death by a signal (SIGILL) is a trap; any other failure (no torch, a broken interpreter) says nothing
    return True if done.returncode < 0 else None


@functools.lru_cache(maxsize=1)
def amx_traps() -> bool:
    """True when a bf16 matmul with oneDNN's default ISA kills the process (probed once per machine)."""
    if "amx_bf16" not in cpu_flags() and cpu_flags():
        return False  # no AMX advertised: nothing can trap
    known = cached("amx_traps", isa_cap=False)
    if isinstance(known, bool):
        return known
    traps = _probe_amx()
    if traps is None:
        return False  # inconclusive (e.g. no fork allowed): assume safe, measure again next time
    remember("amx_traps", traps, isa_cap=False)
    return traps


def prepare_bf16_cpu() -> None:
    """Make bf16 on CPU safe: cap oneDNN's ISA if AMX traps here (warns once)."""
    if os.environ.get(ISA_VAR) or not amx_traps():
        return
    os.environ[ISA_VAR] = _SAFE_ISA
    warnings.warn(
        f"AMX is advertised but traps on this CPU (a virtual machine?); bf16 runs on {_SAFE_ISA} instead, "
        f"which may be slower than float32 here. If this process already ran oneDNN kernels, set "
        f"{ISA_VAR}={_SAFE_ISA} before starting Python.",
        PrecisionWarning,
        stacklevel=3,
    )
