"""OneDNNLinear: float32 CPU inference through oneDNN, the same numbers as nn.Linear within float32
rounding, and nn.Linear's own forward wherever gradients, 16 bits or another device are involved."""

from __future__ import annotations

import threading

import pytest
import torch
from torch import nn

from sbert_plugins.models import OneDNNLinear, _linear, onednn_linear_available, use_onednn_linear

pytestmark = pytest.mark.skipif(not onednn_linear_available(), reason="this torch build has no oneDNN")


@pytest.fixture
def calls(monkeypatch):
    """How often the oneDNN operator ran."""
    seen = []
    real = _linear.onednn_linear

    def counting(x, weight, bias):
        seen.append(tuple(x.shape))
        return real(x, weight, bias)

    monkeypatch.setattr(_linear, "onednn_linear", counting)
    return seen


def _pair(bias=True, d_in=48, d_out=80):
    torch.manual_seed(0)
    plain = nn.Linear(d_in, d_out, bias=bias)
    fast = nn.Linear(d_in, d_out, bias=bias)
    fast.load_state_dict(plain.state_dict())
    use_onednn_linear(fast)
    return plain, fast


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("shape", [(7, 48), (3, 5, 48), (2, 3, 4, 48)])
def test_same_numbers_as_nn_linear(calls, bias, shape):
    plain, fast = _pair(bias)
    x = torch.randn(*shape) * 3
    with torch.inference_mode():
        want, got = plain(x), fast(x)
    assert calls == [shape] and got.shape == want.shape
    assert torch.allclose(got, want, rtol=1e-5, atol=1e-5)


def test_strided_input(calls):
    plain, fast = _pair()
    x = torch.randn(5, 6, 48).transpose(0, 1)  # not contiguous, as attention outputs are
    with torch.no_grad():
        assert torch.allclose(fast(x), plain(x), rtol=1e-5, atol=1e-5)
    assert calls


def test_gradients_take_nn_linear(calls):
    plain, fast = _pair()
    x = torch.randn(4, 48)
    fast(x).square().sum().backward()
    plain(x).square().sum().backward()
    assert not calls  # weights that need gradients: nn.Linear's forward, so training is unchanged
    assert fast.weight.grad is not None and torch.allclose(fast.weight.grad, plain.weight.grad, atol=1e-5)
    x = torch.randn(4, 48, requires_grad=True)
    fast.requires_grad_(False)
    fast(x).sum().backward()
    assert not calls and x.grad is not None


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float64])
def test_other_dtypes_take_nn_linear(calls, dtype):
    plain, fast = _pair()
    plain.to(dtype), fast.to(dtype)
    x = torch.randn(4, 48, dtype=dtype)
    with torch.inference_mode():
        assert torch.equal(fast(x), plain(x))
    assert not calls


def test_switch_keeps_parameters_and_names_and_switches_back():
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Sequential(nn.Linear(8, 2)), nn.Bilinear(2, 2, 1))
    before = {k: v for k, v in model.state_dict().items()}
    weight = model[0].weight
    assert use_onednn_linear(model) == 2
    assert isinstance(model[0], OneDNNLinear) and isinstance(model[0], nn.Linear)
    assert type(model[3]) is nn.Bilinear  # only plain nn.Linear layers are switched
    assert model[0].weight is weight and list(model.state_dict()) == list(before)
    assert use_onednn_linear(model) == 0  # already switched
    assert use_onednn_linear(model, on=False) == 2 and type(model[2][0]) is nn.Linear


def test_a_trainable_bias_alone_takes_nn_linear(calls):
    plain, fast = _pair()
    for layer in (plain, fast):
        layer.weight.requires_grad_(False)  # BitFit: only biases train
        layer(torch.randn(4, 48)).sum().backward()
    assert not calls and fast.bias.grad is not None and torch.allclose(fast.bias.grad, plain.bias.grad)


def test_a_strided_bias_is_read_by_its_strides(calls):
    plain, fast = _pair(d_out=80)
    for bias in (torch.randn(160)[::2], torch.full((1,), 0.5).expand(80)):
        plain.bias.data, fast.bias.data = bias, bias
        x = torch.randn(4, 48)
        with torch.no_grad():
            assert torch.allclose(fast(x), plain(x), atol=1e-5)
    assert calls


def test_autocast_and_tracing_take_nn_linear(calls):
    plain, fast = _pair()
    x = torch.randn(4, 48)
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        assert fast(x).dtype == plain(x).dtype == torch.bfloat16
    assert not calls
    with torch.no_grad():  # the graph records aten::linear (the trace checker's eager rerun may use oneDNN)
        traced = torch.jit.trace(fast, x)
        assert "aten::linear" in str(traced.graph) and "mkldnn" not in str(traced.graph)
        assert torch.allclose(traced(x), plain(x), atol=1e-5)


def test_dynamic_quantization_after_switching_back():
    model = nn.Sequential(nn.Linear(48, 16), nn.ReLU(), nn.Linear(16, 4))
    use_onednn_linear(model)
    use_onednn_linear(model, on=False)  # quantize_dynamic matches type(m) is nn.Linear exactly
    quantized = torch.ao.quantization.quantize_dynamic(model, {nn.Linear}, dtype=torch.qint8)
    assert type(quantized[0]).__name__ == "Linear" and type(quantized[0]) is not nn.Linear


def test_graphs_the_compile_option_traces_call_onednn_and_other_graphs_see_aten_linear(calls):
    plain, fast = _pair()
    x = torch.randn(3, 5, 48)
    torch._dynamo.reset()
    with torch.inference_mode():
        with _linear.in_compiled_graphs():  # as the compile option runs its graphs
            assert torch.allclose(torch.compile(fast, dynamic=True)(x), plain(x), atol=1e-5)
        assert calls, "the compiled graph did not call oneDNN"
        calls.clear()
        assert torch.allclose(torch.compile(fast, dynamic=True)(x), plain(x), atol=1e-5)  # anyone else's compile
    assert not calls, "a graph traced outside the compile option called oneDNN"
    with torch.no_grad():
        with _linear.in_compiled_graphs():
            ours = torch.export.export(fast, (x,))
        theirs = torch.export.export(fast, (x,))
    assert "sbert_plugins.onednn_linear" in str(ours.graph) and "aten.linear" not in str(ours.graph)
    assert "aten.linear" in str(theirs.graph) and "sbert_plugins" not in str(theirs.graph)
    assert torch.allclose(ours.module()(x), plain(x), atol=1e-5)


def test_the_option_s_traces_are_marked_per_thread(calls):
    """A trace of anyone else's in another thread, while an encoder of ours runs its graphs, sees
    ``aten.linear``."""
    plain, fast = _pair()
    x = torch.randn(3, 5, 48)
    torch._dynamo.reset()
    other: list[torch.Tensor] = []

    def theirs() -> None:
        with torch.inference_mode():
            other.append(torch.compile(fast, dynamic=True)(x))

    with _linear.in_compiled_graphs():
        assert _linear._IN_COMPILED_GRAPHS.get() == onednn_linear_available()
        thread = threading.Thread(target=theirs)
        thread.start()
        thread.join()
    assert not calls and torch.allclose(other[0], plain(x), atol=1e-5)
    assert not _linear._IN_COMPILED_GRAPHS.get()
