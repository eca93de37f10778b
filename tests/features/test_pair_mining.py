"""Pair mining (the paper's task) against brute force: exact pairs, scores and tie order, whatever the tiles,
the matmul dtype and the order candidates arrive in."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from support import brute_force_pairs

from sbert_plugins import ConfigError, most_similar_pairs
from sbert_plugins._features import pair_mining


@pytest.fixture()
def vectors():
    return np.random.default_rng(0).normal(size=(300, 16)).astype(np.float32)


@pytest.fixture()
def small_tiles(monkeypatch):
    """Tiles of 4,096 scores and merges every 64 candidates: many column blocks per row block, many merges
    and a floor that rises while candidates are pending, on sets small enough for brute force."""
    monkeypatch.setattr(pair_mining, "_TILE_ELEMENTS", 4096)
    monkeypatch.setattr(pair_mining, "_MERGE_BATCH", 64)
    monkeypatch.setattr(pair_mining, "_RESCORE_BATCH", 50)
    monkeypatch.setattr(pair_mining, "_NORM_ROWS", 33)


def _exact(x: np.ndarray, k: int) -> list[tuple[float, int, int]]:
    """The k best pairs by the float64 cosine of the float32 unit vectors, as float32, ties by (i, j)."""
    unit = torch.nn.functional.normalize(torch.from_numpy(x), dim=1).double().numpy()
    sims = (unit @ unit.T).astype(np.float32)
    i, j = np.triu_indices(len(x), k=1)
    order = np.lexsort((j, i, -sims[i, j]))[:k]
    return [(float(sims[i[o], j[o]]), int(i[o]), int(j[o])) for o in order]


def test_most_similar_pairs_exact_top(vectors):
    got = most_similar_pairs(vectors, top_k=20, chunk_size=37)
    expected = brute_force_pairs(vectors)[:20]
    assert [(i, j) for _, i, j in got[:5]] == [(i, j) for _, i, j in expected[:5]]
    assert len({(i, j) for _, i, j in got}) == 20
    assert all(i < j for _, i, j in got)


def test_most_similar_pairs_small_inputs():
    assert most_similar_pairs(np.ones((1, 4), dtype=np.float32)) == []
    pairs = most_similar_pairs(np.eye(3, dtype=np.float32) + 0.1, top_k=10)
    assert len(pairs) == 3


@pytest.mark.parametrize("k", [1, 100, 3000])
@pytest.mark.parametrize("chunk_size", [None, 97])
def test_bf16_candidates_with_exact_rescoring_give_the_exact_answer(k, chunk_size):
    """The million-sentence path: bf16 products find candidates within a proven bound, float64 rescoring
    decides, so the pairs, their order (ties by (i, j)) and their scores are the exact ones."""
    import torch

    rng = np.random.default_rng(11)
    x = rng.normal(size=(700, 32)).astype(np.float32)
    x[50:60] = x[40:50]  # exact duplicates: ties at the top
    # the exact scores of the float32 unit vectors, as float32 (so equal ones tie, broken by (i, j))
    unit = torch.nn.functional.normalize(torch.from_numpy(x), dim=1).double().numpy()
    sims = (unit @ unit.T).astype(np.float32)
    i, j = np.triu_indices(len(x), k=1)
    order = np.lexsort((j, i, -sims[i, j]))[:k]
    fast = most_similar_pairs(x, top_k=k, chunk_size=chunk_size, matmul="bfloat16")
    assert [(a, b) for _, a, b in fast] == [(int(i[o]), int(j[o])) for o in order]
    np.testing.assert_allclose([s for s, _, _ in fast], sims[i[order], j[order]], atol=1e-6)
    reference = brute_force_pairs(x)[:k]  # and the float64 reference agrees up to float32 rounding
    np.testing.assert_allclose([s for s, _, _ in fast], [s for s, _, _ in reference], atol=1e-6)
    assert fast == most_similar_pairs(x, top_k=k, chunk_size=chunk_size, matmul="bfloat16")  # deterministic


def test_bf16_candidates_for_dot_products_and_one_hot_ties():
    rng = np.random.default_rng(12)
    x = (rng.normal(size=(300, 16)) * rng.uniform(0.5, 3.0, size=(300, 1))).astype(np.float32)
    full = x.astype(np.float64) @ x.T.astype(np.float64)
    i, j = np.triu_indices(len(x), k=1)
    expected = sorted(zip(full[i, j], i, j, strict=True), key=lambda t: (-t[0], t[1], t[2]))[:200]
    got = most_similar_pairs(x, top_k=200, similarity="dot", matmul="bfloat16")
    assert [(a, b) for _, a, b in got] == [(int(a), int(b)) for _, a, b in expected]
    ties = np.eye(8, dtype=np.float32)[rng.integers(0, 8, size=120)]
    assert most_similar_pairs(ties, top_k=500, matmul="bfloat16") == most_similar_pairs(
        ties, top_k=500, matmul="float32"
    )
    with pytest.raises(ConfigError, match="matmul='int8'"):
        most_similar_pairs(ties, matmul="int8")


def test_pair_mining_shows_progress_in_pairs_per_second(capsys):
    x = np.random.default_rng(2).normal(size=(500, 8)).astype(np.float32)
    assert most_similar_pairs(x, top_k=5, chunk_size=50, show_progress_bar=True) == most_similar_pairs(x, top_k=5)
    err = capsys.readouterr().err
    assert "Pairs" in err and "pair/s" in err and "125k/125k" in err  # 500 * 499 / 2 pairs counted


@pytest.mark.parametrize("matmul", ["float32", "bfloat16"])
@pytest.mark.parametrize("chunk_size", [None, 1, 13, 64])
@pytest.mark.parametrize("k", [1, 7, 500, 100_000])
def test_tiles_give_the_exact_pairs_scores_and_order(small_tiles, matmul, chunk_size, k):
    """Near-duplicates (ties and near-ties at the top, across tile borders) and more pairs asked than exist."""
    rng = np.random.default_rng(21)
    x = rng.normal(size=(260, 24)).astype(np.float32)
    x[200:230] = x[10:40] + rng.normal(scale=1e-3, size=(30, 24)).astype(np.float32)  # near-paraphrases
    x[230:260] = x[10:40]  # exact duplicates: equal scores
    got = most_similar_pairs(x, top_k=k, chunk_size=chunk_size, matmul=matmul)
    assert got == _exact(x, k)


@pytest.mark.parametrize("kernel", ["blas", "onednn"])
def test_float32_tiles_through_either_kernel_give_the_exact_answer(small_tiles, monkeypatch, kernel):
    """float32 tiles take oneDNN where the encoder's kernel verdict says it is faster: the same answer."""
    from sbert_plugins._base.cpu import LINEAR_ENV
    from sbert_plugins.models import onednn_linear_available

    if kernel == "onednn" and not onednn_linear_available():
        pytest.skip("this torch build has no oneDNN")
    monkeypatch.setenv(LINEAR_ENV, kernel)
    calls = []
    real = pair_mining.onednn_linear
    monkeypatch.setattr(pair_mining, "onednn_linear", lambda a, b, bias: calls.append(1) or real(a, b, bias))
    rng = np.random.default_rng(25)
    x = rng.normal(size=(260, 24)).astype(np.float32)
    x[230:260] = x[10:40]  # exact duplicates: equal scores
    for k in (1, 500, 40_000):
        assert most_similar_pairs(x, top_k=k, matmul="float32") == _exact(x, k)
    assert bool(calls) == (kernel == "onednn")
    calls.clear()
    most_similar_pairs(x, top_k=5, matmul="bfloat16")
    assert not calls  # bf16 tiles: torch.mm, already oneDNN


def test_float32_and_bf16_tiles_return_the_same_answer_at_every_size(small_tiles):
    rng = np.random.default_rng(22)
    x = rng.normal(size=(400, 8)).astype(np.float32)  # few dims: many close scores near every cut
    for k in (1, 50, 3000, 40_000):
        fast = most_similar_pairs(x, top_k=k, matmul="bfloat16")
        assert fast == most_similar_pairs(x, top_k=k, matmul="float32") == _exact(x, k)


def test_the_bf16_error_bound_holds_on_every_pair():
    """The proven bound, checked against every pair: vectors of mixed norms whose every component sits just
    short of a bf16 rounding midpoint (the largest input rounding there is)."""
    rng = np.random.default_rng(23)
    x = rng.normal(size=(300, 64)) * rng.uniform(0.01, 50, size=(300, 1))
    grid = torch.from_numpy(x).to(torch.bfloat16).double().numpy()
    x = (grid + np.sign(grid) * np.ldexp(0.499, np.frexp(grid)[1] - 8)).astype(np.float32)  # 0.499 ulp off
    xt = torch.from_numpy(x)
    low = xt.to(torch.bfloat16)
    assert torch.equal(low.double(), torch.from_numpy(grid))
    slack = pair_mining._error_bound(xt, low, rounded=True)
    exact = xt.double() @ xt.double().T
    unrounded = low.float() @ low.float().T  # exact products, float32 sums: a bf16 matmul before its output
    assert bool(((unrounded.double() - exact).abs() <= slack).all())
    rounded = (low @ low.T).double()  # the scan allows for the output's rounding (_round_down, _threshold)
    assert bool(((rounded - exact).abs() <= slack + rounded.abs() * 2.0**-8).all())
    assert slack < 0.01 * float(exact.abs().max())  # and it is not vacuous


def test_lowered_float32_matmul_precision_is_allowed_for(small_tiles):
    """torch.set_float32_matmul_precision('medium') lets float32 matmuls use bf16 inside: still exact."""
    x = np.random.default_rng(24).normal(size=(200, 16)).astype(np.float32)
    previous = torch.get_float32_matmul_precision()
    torch.set_float32_matmul_precision("medium")
    try:
        assert pair_mining._error_bound(torch.from_numpy(x), torch.from_numpy(x), rounded=False) > 1e-3
        assert most_similar_pairs(x, top_k=300) == _exact(x, 300)
    finally:
        torch.set_float32_matmul_precision(previous)


def test_round_down_gives_the_largest_representable_value_below():
    for dtype in (torch.bfloat16, torch.float32):
        for value in (0.9, -0.3, 1.0, 1e-30, 123.456):
            down = pair_mining._round_down(value, dtype)
            assert down <= value and float(torch.tensor(down, dtype=dtype)) == down
            up = torch.nextafter(torch.tensor(down, dtype=dtype), torch.tensor(float("inf"), dtype=dtype))
            assert float(up) > value
    assert pair_mining._round_down(float("-inf"), torch.bfloat16) == float("-inf")


def test_auto_matmul_follows_the_cpu_verdict(monkeypatch):
    from sbert_plugins._encoding import precision

    x = torch.zeros(3, 4)
    monkeypatch.setattr(precision, "auto_cpu_dtype", lambda: "bfloat16")
    assert pair_mining._low_precision("auto", x) is True
    assert pair_mining._low_precision("float32", x) is False
    monkeypatch.setattr(precision, "auto_cpu_dtype", lambda: "float32")
    assert pair_mining._low_precision("auto", x) is False
    assert pair_mining._low_precision("bfloat16", x) is True
    with pytest.raises(ConfigError, match="matmul='int8'"):
        pair_mining._low_precision("int8", x)
    assert pair_mining._low_precision("auto", x.to("meta")) is False  # not a CPU: float32


def test_default_auto_gives_the_float32_answer_on_a_bf16_cpu(monkeypatch, small_tiles):
    from sbert_plugins._encoding import precision

    x = np.random.default_rng(25).normal(size=(150, 12)).astype(np.float32)
    monkeypatch.setattr(precision, "auto_cpu_dtype", lambda: "bfloat16")
    assert most_similar_pairs(x, top_k=40) == most_similar_pairs(x, top_k=40, matmul="float32") == _exact(x, 40)


def test_empty_and_single_inputs_give_no_pairs():
    for similarity in ("cosine", "dot", "euclidean"):
        assert most_similar_pairs(np.zeros((0, 8), dtype=np.float32), similarity=similarity) == []
        assert most_similar_pairs(np.ones((1, 8), dtype=np.float32), similarity=similarity) == []


def test_euclidean_near_duplicates_are_exact_whatever_the_tiles(monkeypatch):
    """cdist's matmul form (|a|^2 + |b|^2 - 2ab) loses distances of 1e-3 to cancellation: not used."""
    rng = np.random.default_rng(26)
    x = rng.normal(size=(300, 64)).astype(np.float32)
    x[5] = x[3]
    x[7] = x[6] + 8e-4
    full = -np.linalg.norm(x[:, None, :].astype(np.float64) - x[None, :, :], axis=2)
    i, j = np.triu_indices(len(x), k=1)
    expected = [
        (int(a), int(b))
        for a, b in zip(i[np.lexsort((j, i, -full[i, j]))][:5], j[np.lexsort((j, i, -full[i, j]))][:5], strict=True)
    ]
    for tile in (200, 1 << 23):
        monkeypatch.setattr(pair_mining, "_TILE_ELEMENTS", tile)
        got = most_similar_pairs(x, top_k=5, chunk_size=10, similarity="euclidean")
        assert [(a, b) for _, a, b in got] == expected and got[0][0] == 0.0


def test_a_few_long_vectors_make_auto_take_float32_tiles(monkeypatch):
    """One vector 100x longer widens the bf16 bound to nearly every pair: auto takes float32 there."""
    from sbert_plugins._encoding import precision

    monkeypatch.setattr(precision, "auto_cpu_dtype", lambda: "bfloat16")
    x = np.random.default_rng(27).normal(size=(400, 16)).astype(np.float32)
    assert pair_mining._prepare(x, "dot", "auto").low.dtype == torch.bfloat16
    x[3] *= 100
    assert pair_mining._prepare(x, "dot", "auto").low.dtype == torch.float32
    assert pair_mining._prepare(x, "dot", "bfloat16").low.dtype == torch.bfloat16  # asked: kept
    assert most_similar_pairs(x, top_k=30, similarity="dot") == most_similar_pairs(
        x, top_k=30, similarity="dot", matmul="bfloat16"
    )


def test_the_newer_precision_settings_do_not_break_the_bound(monkeypatch):
    def mixed() -> str:
        raise RuntimeError("you have used a mix of the legacy and new APIs")

    monkeypatch.setattr(torch, "get_float32_matmul_precision", mixed)
    assert not pair_mining._float32_matmul_is_exact()
    x = np.random.default_rng(28).normal(size=(100, 8)).astype(np.float32)
    assert most_similar_pairs(x, top_k=50, matmul="float32") == _exact(x, 50)
