"""Shared helpers for the benchmarks: STSb sentences and a timer."""

from __future__ import annotations

import os
import time
from contextlib import contextmanager

os.environ.setdefault("HF_HUB_OFFLINE", "1")
_DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "data")
if "SBERT_DATA_DIR" not in os.environ and os.path.isdir(_DATA):  # the benchmarks (not the library) say where
    os.environ["SBERT_DATA_DIR"] = os.path.abspath(_DATA)


def stsb_sentences(n: int, split: str = "train") -> list:
    """The first ``n`` distinct STSb sentences (a realistic length mix)."""
    from sbert_plugins import SbertPluginsError, load_sts

    seen: dict = {}
    for name in ("stsb-train", "stsb-dev", "stsb"):
        try:
            s1, s2, _ = load_sts(name)
        except SbertPluginsError as exc:
            raise SystemExit(f"benchmarks need the evaluation data: {exc}") from None
        for s in s1 + s2:
            seen.setdefault(s, None)
    sentences = [s for s in seen if s.strip()]
    return sentences[:n]


@contextmanager
def timer(results: dict, key: str):
    start = time.perf_counter()
    yield
    results[key] = time.perf_counter() - start
