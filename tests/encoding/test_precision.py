"""dtype="auto" and device choice (GPU issue, CPU side): the fastest native precision, measured; a 16-bit
dtype that this CPU runs slowly is used as asked but with a PrecisionWarning giving the measured rates."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

from sbert_plugins import PrecisionWarning, SentenceEncoder
from sbert_plugins._base.cpu import has_native_bf16
from sbert_plugins._encoding.precision import float32_gflops, matmul_gflops, resolve_dtype
from sbert_plugins.models import OneDNNLinear, onednn_linear_available


def test_auto_picks_float32_without_native_bf16_and_measures_otherwise(monkeypatch):
    torch = pytest.importorskip("torch")
    monkeypatch.delenv("SBERT_PLUGINS_CPU_DTYPE")  # this machine's real answer
    chosen = resolve_dtype("auto", torch.device("cpu"))
    if not has_native_bf16():
        assert chosen == "float32"  # no AMX / AVX512-BF16: emulated bf16 is never faster
    else:
        faster = matmul_gflops("bfloat16") >= 1.3 * float32_gflops()
        assert chosen == ("bfloat16" if faster else "float32")
    assert resolve_dtype("auto", torch.device("cuda")) == "float16"


def test_explicit_bf16_warns_with_measured_numbers_where_it_is_slow(tiny_model_dir):
    slow = float32_gflops() > 2 * matmul_gflops("bfloat16")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        encoder = SentenceEncoder(tiny_model_dir, device="cpu", dtype="bfloat16")
    messages = [
        str(w.message) for w in caught if issubclass(w.category, PrecisionWarning) and "slower" in str(w.message)
    ]
    if slow:
        assert messages and "GFLOP/s" in messages[0] and "dtype='float32' or 'auto'" in messages[0]
    else:
        assert not messages
    assert encoder.dtype_name == "bfloat16"  # used as asked


def test_auto_encoder_reports_what_it_chose(tiny_model_dir, monkeypatch):
    monkeypatch.delenv("SBERT_PLUGINS_CPU_DTYPE")  # this machine's real answer
    encoder = SentenceEncoder(tiny_model_dir)
    assert encoder.dtype_name in ("float32", "bfloat16") and encoder.batch_size == 64
    assert "dtype=" in repr(encoder)


cuda = pytest.mark.skipif(not __import__("torch").cuda.is_available(), reason="no CUDA device (CI has no GPU)")


@cuda
@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_cuda_16bit_parity_with_float32(minilm, dtype):
    sentences = ["A man is playing a guitar.", "A woman is slicing an onion.", "word " * 300, "Ünïcödé 🙂"]
    reference = SentenceEncoder("all-MiniLM-L6-v2", device="cuda", dtype="float32").encode(sentences)
    fast = SentenceEncoder("all-MiniLM-L6-v2", device="cuda", dtype=dtype).encode(sentences)
    cos = (reference * fast).sum(1) / np.linalg.norm(reference, axis=1) / np.linalg.norm(fast, axis=1)
    assert cos.min() >= 0.999, cos


@cuda
@pytest.mark.data
@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_cuda_16bit_stsb_within_a_tenth(minilm, data_dir, dtype):
    from sbert_plugins import evaluate_sts

    encoder = SentenceEncoder("all-MiniLM-L6-v2", device="cuda", dtype=dtype)
    assert encoder.batch_size == 256
    assert abs(evaluate_sts(encoder, "stsb").spearman - 82.03) <= 0.1


@cuda
def test_cuda_search_stays_on_the_gpu(minilm):
    from sbert_plugins import most_similar_pairs, semantic_search

    encoder = SentenceEncoder("all-MiniLM-L6-v2", device="cuda")
    vectors = encoder.encode(["a cat", "a kitten", "the stock market"] * 50, convert_to="torch")
    assert vectors.is_cuda
    pairs = most_similar_pairs(vectors, top_k=5)
    assert all(s > 0.99 for s, _, _ in pairs)  # repeated sentences
    assert semantic_search(vectors[:1], vectors, top_k=3)[0][0].score > 0.99


# -- auto on every kind of CPU: the verdict is measured once per machine and cached ---------------------
@pytest.fixture()
def verdicts(tmp_path, monkeypatch):
    """A fresh verdict cache; returns the calls the (faked) matmul timing received."""
    from sbert_plugins._base import cpu as _cpu
    from sbert_plugins._encoding import precision as _precision

    monkeypatch.setenv("SBERT_PLUGINS_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv(_cpu.DTYPE_ENV, raising=False)
    monkeypatch.setenv(_cpu.LINEAR_ENV, "blas")  # the dtype tests weigh bf16 against the BLAS; kernel tests unset it
    _cpu.amx_traps.cache_clear()
    calls: list[str] = []
    rates = {"float32": 100.0, "bfloat16": 300.0, "float32_onednn": 250.0}

    def fake_rate(dtype_name, kernel="blas"):
        name = dtype_name if kernel == "blas" else f"{dtype_name}_{kernel}"
        calls.append(name)
        return rates[name]

    monkeypatch.setattr(_precision, "cpu_matmul_gflops", fake_rate)
    yield calls, rates
    _cpu.amx_traps.cache_clear()


def test_auto_without_native_bf16_is_float32_and_measures_nothing(verdicts, monkeypatch):
    from sbert_plugins._encoding import precision as _precision

    calls, _ = verdicts
    monkeypatch.setattr(_precision, "has_native_bf16", lambda: False)  # e.g. an AVX2-only AMD EPYC
    assert _precision.auto_cpu_dtype() == "float32" and calls == []


@pytest.mark.parametrize(("bf16_rate", "expected"), [(300.0, "bfloat16"), (110.0, "float32")])
def test_auto_with_native_bf16_takes_it_only_where_measured_faster(verdicts, monkeypatch, bf16_rate, expected):
    from sbert_plugins._base import cpu as _cpu
    from sbert_plugins._encoding import precision as _precision

    calls, rates = verdicts
    rates["bfloat16"] = bf16_rate  # 3x (AMX, AVX512-BF16) or 1.1x (below the 1.3x gain)
    monkeypatch.setattr(_precision, "has_native_bf16", lambda: True)
    assert _precision.auto_cpu_dtype() == expected and sorted(calls) == ["bfloat16", "float32"]
    assert _precision.auto_cpu_dtype() == expected and len(calls) == 2  # the second answer comes from the file
    assert _cpu.cached("gflops_bfloat16") == bf16_rate and _cpu.verdict_path().is_file()


def test_verdict_is_shared_by_the_next_process(verdicts, monkeypatch):
    import subprocess
    import sys

    from sbert_plugins._base import cpu as _cpu

    _cpu.remember("gflops_float32", 123.0)  # numbers no real timing gives: the child must read them
    _cpu.remember("gflops_bfloat16", 456.0)
    _cpu.remember("gflops_float32_onednn", 0.0)
    _cpu.remember("amx_traps", False, isa_cap=False)
    monkeypatch.delenv(_cpu.LINEAR_ENV)  # the child reads the kernel verdict too
    done = subprocess.run(
        [sys.executable, "-m", "sbert_plugins", "precision"], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    if _cpu.has_native_bf16():
        assert "bfloat16 matmul: 456.0 GFLOP/s" in done.stdout and "auto' on CPU: bfloat16" in done.stdout
    else:
        assert "auto' on CPU: float32" in done.stdout  # nothing to measure on this CPU
    assert str(_cpu.verdict_path()) in done.stdout
    if onednn_linear_available():
        assert "float32 matmul: 123.0 GFLOP/s (BLAS)" in done.stdout  # oneDNN measured 0: not used


def test_verdict_key_follows_cpu_torch_and_isa_cap(verdicts, monkeypatch):
    from sbert_plugins._base import cpu as _cpu

    _cpu.remember("gflops_float32", 1.0)
    key = _cpu.machine_key()
    monkeypatch.setenv(_cpu.ISA_VAR, "AVX2")  # a capped oneDNN times differently
    assert _cpu.machine_key() != key and _cpu.cached("gflops_float32") is None
    assert _cpu.machine_key(isa_cap=False) == _cpu.machine_key(isa_cap=False)
    monkeypatch.delenv(_cpu.ISA_VAR)
    monkeypatch.setattr(_cpu.metadata, "version", lambda name: "99.0")  # a new torch measures again
    assert _cpu.machine_key() != key and _cpu.cached("gflops_float32") is None


def test_amx_trap_probe_runs_once_per_machine(verdicts, monkeypatch):
    from sbert_plugins._base import cpu as _cpu

    probes = []
    monkeypatch.setattr(_cpu, "_cpuinfo", lambda: ("Fake Xeon", frozenset({"amx_bf16", "avx512_bf16"})))
    monkeypatch.setattr(_cpu, "_probe_amx", lambda: probes.append(1) or False)
    assert _cpu.amx_traps() is False and len(probes) == 1
    _cpu.amx_traps.cache_clear()  # as a new process would start
    assert _cpu.amx_traps() is False and len(probes) == 1
    monkeypatch.setattr(_cpu, "_probe_amx", lambda: None)  # inconclusive probes are not remembered
    _cpu.forget()
    assert _cpu.amx_traps() is False and _cpu.cached("amx_traps", isa_cap=False) is None


def test_corrupt_or_unwritable_cache_measures_again(verdicts, monkeypatch, tmp_path):
    from sbert_plugins._base import cpu as _cpu
    from sbert_plugins._encoding import precision as _precision

    calls, _ = verdicts
    monkeypatch.setattr(_precision, "has_native_bf16", lambda: True)
    _cpu.verdict_path().parent.mkdir(parents=True)
    _cpu.verdict_path().write_text("{not json")
    assert _precision.auto_cpu_dtype() == "bfloat16" and len(calls) == 2
    assert isinstance(json.loads(_cpu.verdict_path().read_text()), dict)  # rewritten whole
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    monkeypatch.setenv("SBERT_PLUGINS_CACHE", str(blocked / "cache"))  # cannot be created
    assert _precision.auto_cpu_dtype() == "bfloat16" and len(calls) == 4


def test_cpu_dtype_override_decides_without_measuring(verdicts, monkeypatch, tiny_model_dir):
    from sbert_plugins import ConfigError
    from sbert_plugins._base import cpu as _cpu
    from sbert_plugins._encoding import precision as _precision

    calls, _ = verdicts
    monkeypatch.setenv(_cpu.DTYPE_ENV, "bf16")
    assert _precision.auto_cpu_dtype() == "bfloat16" and calls == []
    assert SentenceEncoder(tiny_model_dir, device="cpu").dtype_name == "bfloat16"
    monkeypatch.setenv(_cpu.DTYPE_ENV, "float16")
    with pytest.raises(ConfigError, match="SBERT_PLUGINS_CPU_DTYPE='float16': use float32 or bfloat16"):
        _precision.auto_cpu_dtype()


def test_contract_records_the_dtype_but_stores_do_not_compare_it(tiny_model_dir):
    from sbert_plugins.elasticsearch import contract_mismatch

    fp32 = SentenceEncoder(tiny_model_dir, device="cpu", dtype="float32").contract()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PrecisionWarning)
        bf16 = SentenceEncoder(tiny_model_dir, device="cpu", dtype="bfloat16").contract()
    assert (fp32["dtype"], bf16["dtype"]) == ("float32", "bfloat16")
    assert contract_mismatch(fp32, bf16) == [] and fp32["fingerprint"] == bf16["fingerprint"]


def test_only_death_by_a_signal_counts_as_an_amx_trap(verdicts, monkeypatch):
    import subprocess

    from sbert_plugins._base import cpu as _cpu

    def fake_run(code):
        return lambda *a, **k: subprocess.CompletedProcess(a, code, stdout="", stderr="")

    monkeypatch.setattr(_cpu.subprocess, "run", fake_run(-4))  # SIGILL
    assert _cpu._probe_amx() is True
    monkeypatch.setattr(_cpu.subprocess, "run", fake_run(1))  # e.g. torch missing: says nothing about AMX
    assert _cpu._probe_amx() is None


# -- the float32 linear kernel: oneDNN where measured faster than the BLAS, cached like the dtype ---------
needs_onednn = pytest.mark.skipif(not onednn_linear_available(), reason="this torch build has no oneDNN")


@needs_onednn
@pytest.mark.parametrize(("onednn_rate", "expected"), [(250.0, "onednn"), (110.0, "blas"), (0.0, "blas")])
def test_linear_kernel_is_onednn_only_where_measured_faster(verdicts, monkeypatch, onednn_rate, expected):
    from sbert_plugins._base import cpu as _cpu
    from sbert_plugins._encoding import precision as _precision

    calls, rates = verdicts
    monkeypatch.delenv(_cpu.LINEAR_ENV)
    rates["float32_onednn"] = onednn_rate  # 2.5x (MKL off its fast path), 1.1x (below the gain), failed
    assert _precision.linear_kernel() == expected and sorted(calls) == ["float32", "float32_onednn"]
    assert _precision.linear_kernel() == expected and len(calls) == 2  # the second answer comes from the file
    assert _precision.float32_gflops() == (onednn_rate if expected == "onednn" else 100.0)
    monkeypatch.setattr(_precision, "has_native_bf16", lambda: True)
    rates["bfloat16"] = 300.0  # 3x the BLAS but 1.2x oneDNN: bf16 is weighed against the kernel in use
    assert _precision.auto_cpu_dtype() == ("float32" if expected == "onednn" else "bfloat16")


@needs_onednn
def test_real_onednn_measurement_agrees_with_torch():
    from sbert_plugins._encoding import precision as _precision

    assert _precision.cpu_matmul_gflops("float32", "onednn") > 0  # ran, and its numbers matched F.linear's


@needs_onednn
def test_linear_kernel_override(verdicts, monkeypatch):
    from sbert_plugins import ConfigError
    from sbert_plugins._base import cpu as _cpu
    from sbert_plugins._encoding import precision as _precision

    calls, _ = verdicts
    monkeypatch.setenv(_cpu.LINEAR_ENV, "ONEDNN")
    assert _precision.linear_kernel() == "onednn" and calls == ["float32_onednn"]  # checked to work, not compared
    monkeypatch.setenv(_cpu.LINEAR_ENV, "mkl")
    with pytest.raises(ConfigError, match=r"SBERT_PLUGINS_CPU_LINEAR='mkl'.*blas"):
        _precision.linear_kernel()


@needs_onednn
@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_encoder_takes_the_chosen_kernel_with_the_same_vectors(tiny_model_dir, monkeypatch, dtype):
    from sbert_plugins._base import cpu as _cpu

    texts = ["A man is playing a guitar.", "A woman is slicing an onion.", "word " * 4, "Ünïcödé 🙂"]
    out = {}
    for kernel in ("blas", "onednn"):
        monkeypatch.setenv(_cpu.LINEAR_ENV, kernel)
        encoder = SentenceEncoder(tiny_model_dir, device="cpu", dtype=dtype)
        switched = [m for m in encoder.modules() if isinstance(m, OneDNNLinear)]
        assert bool(switched) == (kernel == "onednn")
        out[kernel] = encoder.encode(texts)
    if dtype == "float32":
        assert np.allclose(out["blas"], out["onednn"], atol=1e-5)
    else:
        assert np.array_equal(out["blas"], out["onednn"])  # 16 bits: nn.Linear's forward (oneDNN already)


@needs_onednn
def test_an_encoder_made_float32_later_takes_onednn(tiny_model_dir, monkeypatch):
    from sbert_plugins._base import cpu as _cpu
    from sbert_plugins.models import _linear

    monkeypatch.setenv(_cpu.LINEAR_ENV, "onednn")
    calls = []
    real = _linear.onednn_linear
    monkeypatch.setattr(_linear, "onednn_linear", lambda x, w, b: calls.append(1) or real(x, w, b))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PrecisionWarning)  # bf16 is slow on CPUs without native bf16
        encoder = SentenceEncoder(tiny_model_dir, device="cpu", dtype="bfloat16")
    encoder.encode(["a cat"])
    assert not calls  # bf16 weights: nn.Linear's forward
    encoder.set_dtype("float32")  # as fit does for its float32 master weights
    encoder.encode(["a cat"])
    assert calls


def test_a_cached_zero_rate_is_measured_again_except_for_a_failed_onednn(verdicts, monkeypatch):
    from sbert_plugins import ConfigError
    from sbert_plugins._base import cpu as _cpu
    from sbert_plugins._encoding import precision as _precision

    calls, _ = verdicts
    _cpu.remember("gflops_bfloat16", 0.0)  # a rate is never 0: measure again
    assert _precision.matmul_gflops("bfloat16") == 300.0 and calls == ["bfloat16"]
    _cpu.remember("gflops_float32_onednn", 0.0)  # 0.0 there records an operator that failed: kept
    assert _precision.matmul_gflops("float32", "onednn") == 0.0 and len(calls) == 1
    if onednn_linear_available():
        monkeypatch.delenv(_cpu.LINEAR_ENV)
        assert _precision.linear_kernel() == "blas"
        monkeypatch.setenv(_cpu.LINEAR_ENV, "onednn")
        with pytest.raises(ConfigError, match="fails or disagrees"):
            _precision.linear_kernel()
