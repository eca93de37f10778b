"""Shared helpers for the benchmarks: STSb sentences and a timer."""

from __future__ import annotations

import os
import time
from contextlib import contextmanager

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def stsb_sentences(n: int, split: str = "train") -> list:
    """The first ``n`` distinct STSb sentences (a realistic length mix)."""
    from sbert_plugins._evaluation import STS_FILES, data_dir, read_tsv

    root = data_dir()
    if root is None:
        raise SystemExit("benchmarks need ../shared/data (or SBERT_PLUGINS_DATA)")
    seen = {}
    for name in ("stsb-train", "stsb-dev", "stsb"):
        for row in read_tsv(root / STS_FILES[name]):
            for s in row[1:3]:
                seen.setdefault(s, None)
    sentences = [s for s in seen if s.strip()]
    return sentences[:n]


@contextmanager
def timer(results: dict, key: str):
    start = time.perf_counter()
    yield
    results[key] = time.perf_counter() - start
