"""Compiled inference (the ``compile`` encode option): what is compiled, how, and when it runs.

A model is compiled once, with dynamic shapes, so one graph serves every batch of a dtype: for the plain
BERT encoder (``_bert.py``) its layer stack, with the attention mask built before it, eagerly, so the graph
holds the matmul attention and its bias (compiling the whole forward would trace torch's fused kernel
instead, which measured slower); for a model through transformers its forward. On CPU, a plain BERT
model loaded from a folder is compiled ahead of time (``torch.export`` and AOTInductor) into a package
that the encoder keys by its weights, dtype, linear kernel, machine and versions (``packaged_inference``),
so a later process loads it in milliseconds; anything else is compiled by ``torch.compile`` in the process.

Only inference-mode calls (``encode`` and all built on it) run compiled. Training, ``no_grad`` or
grad-enabled calls, batches of one text (a graph would specialise for size 1, so a second compile) and
callers that trace, script or compile themselves run the eager code.

Measured on an AMD EPYC with AVX512-BF16 (MiniLM, whole encodes alternating in one process): bf16 +6-11 %
sentences/s on short sentences in most runs (the machine is noisy), +19 % on ~100 tokens; float32 +5-11 %
where its linear layers run through oneDNN, which the option's graphs keep (``_linear.in_compiled_graphs``).
The first compile on a machine took 22-41 s; a later process's ``compile=True`` load took 1.8 s with the
package, and ~9 s through ``torch.compile`` (which traces again; inductor keeps its kernels in
``TORCHINDUCTOR_CACHE_DIR``, by default ``torchinductor_<user>`` in the temp folder).

Every encoder compiled by ``torch.compile`` in a process shares its layers' code, and each dtype or model
shape is one more graph of it; past ``RECOMPILE_LIMIT`` graphs torch would run the code eagerly without a
word, so the limit is raised and hitting it is an error.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import threading
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .._base.cpu import machine_key
from .._base.errors import ConfigError
from .._base.files import CACHE_ENV, cache_dir
from .._base.version import __version__
from ._linear import in_compiled_graphs

RECOMPILE_LIMIT = 64  # graphs of one compiled function per process (torch's default is 8)
_CXX = ("CppCompileError", "InvalidCxxCompiler")
# dynamo's config is one per process: set while any thread runs a compiled call, restored after the last
_LIMITS_LOCK = threading.Lock()
_limits_held: list[Any] = []  # [the patch's context] while held
_limits_users = 0


def runs_compiled(training: bool, batch: int) -> bool:
    """Whether a model asked to run compiled does so for a batch of ``batch`` texts."""
    if training or batch < 2 or not torch.is_inference_mode_enabled():
        return False
    return not (torch.jit.is_tracing() or torch.jit.is_scripting() or torch.compiler.is_compiling())


def compile_inference(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` compiled with dynamic shapes; a compile error becomes a ``ConfigError`` naming the option."""
    from torch._dynamo.exc import BackendCompilerFailed, FailOnRecompileLimitHit  # torch.compile imports them
    from torch._inductor.exc import CppCompileError

    graph = torch.compile(fn, dynamic=True)

    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            with _graph_limits(), in_compiled_graphs():
                return graph(*args, **kwargs)
        except FailOnRecompileLimitHit as exc:
            raise ConfigError(
                f"compile=True: this process already holds {RECOMPILE_LIMIT} compiled graphs of this model's code "
                "(one per dtype and model shape); use compile=False for more encoders"
            ) from exc
        except (BackendCompilerFailed, CppCompileError) as exc:
            raise ConfigError(_failure(exc)) from exc

    return call


@contextlib.contextmanager
def _graph_limits() -> Iterator[None]:
    """``RECOMPILE_LIMIT``, and an error on reaching it, while any thread is inside: a plain config patch per
    call would let one thread's exit restore torch's limit of 8 (and its silent eager fallback) under another."""
    global _limits_users
    with _LIMITS_LOCK:
        if _limits_users == 0:
            patch = torch._dynamo.config.patch(recompile_limit=RECOMPILE_LIMIT, fail_on_recompile_limit_hit=True)
            patch.__enter__()
            _limits_held.append(patch)
        _limits_users += 1
    try:
        yield
    finally:
        with _LIMITS_LOCK:
            _limits_users -= 1
            if _limits_users == 0:
                _limits_held.pop().__exit__(None, None, None)


def _causes(exc: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain:
        chain.append(current)
        current = getattr(current, "inner_exception", None) or current.__cause__ or current.__context__
    return chain


def _failure(exc: BaseException) -> str:
    """The message of a failed compile: the error, and the fix that fits it."""
    text = (str(exc).strip().splitlines() or [""])[0][:400]
    cxx = any(type(e).__name__ in _CXX or any(name in str(e) for name in _CXX) for e in _causes(exc))
    fix = "install a C++ compiler (inductor builds C++ kernels on CPU) or use" if cxx else "use"
    return f"compile=True: torch.compile failed ({type(exc).__name__}: {text}); {fix} compile=False"


def weights_state(module: nn.Module) -> tuple[Any, ...]:
    """Where ``module``'s parameters live and how often they were written (``_version``), and the kernel of
    its float32 linear layers: it changes with any in-place edit, ``load_state_dict``, a cast, a move or a
    switch of kernel, so a package never outlives the weights and code it holds."""
    return (linear_kinds(module), *((p.data_ptr(), p._version, p.dtype) for p in module.parameters()))


def linear_kinds(module: nn.Module) -> tuple[str, ...]:
    """The classes of ``module``'s linear layers where its weights are float32 (``OneDNNLinear`` calls oneDNN
    in the option's graphs only then), else nothing: a 16-bit package does not depend on the kernel."""
    if not any(p.dtype == torch.float32 for p in module.parameters()):
        return ()
    return tuple(sorted({type(m).__name__ for m in module.modules() if isinstance(m, nn.Linear)}))


def package_path(module: nn.Module) -> Path:
    """Where ``module``'s package is kept: named by a digest of its weights as they are now, the kernel of
    its float32 linear layers (BLAS or oneDNN), the machine (CPU model and flags, torch version) and our version,
    so it only ever holds these weights and this code."""
    digest = hashlib.blake2b(
        f"{machine_key(isa_cap=False)}|{__version__}|{linear_kinds(module)}".encode(), digest_size=16
    )
    for name, tensor in module.state_dict().items():
        digest.update(f"{name}:{tensor.dtype}:{tuple(tensor.shape)}".encode())
        digest.update(tensor.detach().contiguous().view(torch.uint8).numpy().tobytes())
    return cache_dir() / "compiled" / f"{digest.hexdigest()}.pt2"


def packaged_inference(
    module: nn.Module, example: Sequence[torch.Tensor], dynamic_shapes: Sequence[dict[int, Any]]
) -> Callable[..., Any] | None:
    """``module`` compiled ahead of time (``torch.export`` + AOTInductor), from its package: loaded when one
    exists (in milliseconds: no tracing, no compiling), else built from ``example`` inputs with
    ``dynamic_shapes`` and kept for the next process. None where the cache folder cannot keep it (the
    caller compiles in the process instead)."""
    path = package_path(module)
    runner = _load_package(path)
    if runner is None and _build_package(module, example, dynamic_shapes, path):
        runner = _load_package(path)
        if runner is None:
            raise ConfigError(f"compile=True: the package {path} was built but does not load; use compile=False")
    return runner


def _load_package(path: Path) -> Callable[..., Any] | None:
    if not path.is_file():
        return None
    try:
        return torch._inductor.aoti_load_package(str(path))
    except Exception:  # a package cut short or from another build: built again
        return None


def _build_package(
    module: nn.Module, example: Sequence[torch.Tensor], dynamic_shapes: Sequence[dict[int, Any]], path: Path
) -> bool:
    """Export and compile ``module`` into ``path``, through a temporary file and a rename (a concurrent
    process never loads half a package). False, with a warning, where the cache folder cannot keep it."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(suffix=".partial.pt2", dir=path.parent)
        os.close(fd)
    except OSError as exc:
        warnings.warn(
            f"compile=True: {path.parent} cannot keep the compiled package ({exc}); compiling in the "
            f"process instead (set {CACHE_ENV} to a writable folder to keep it)",
            RuntimeWarning,
            stacklevel=5,
        )
        return False
    partial = Path(name)
    try:
        try:
            with in_compiled_graphs():
                exported = torch.export.export(module, tuple(example), dynamic_shapes=tuple(dynamic_shapes))
            torch._inductor.aoti_compile_and_package(exported, package_path=str(partial))
        except OSError:
            raise
        except Exception as exc:  # export and compile of our own module on our own inputs: the compile failed
            raise ConfigError(_failure(exc)) from exc
        os.replace(partial, path)
    except OSError as exc:
        warnings.warn(
            f"compile=True: writing the compiled package to {path.parent} failed ({exc}); compiling in "
            "the process instead",
            RuntimeWarning,
            stacklevel=5,
        )
        return False
    finally:
        partial.unlink(missing_ok=True)
    return True
