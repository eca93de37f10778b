"""What many tests share: the one brute-force pair-mining reference, the one "every document is accounted
for" check, plugin modules built in a test, and the real Elasticsearch nodes (scripts/es_server.sh).
Fixtures built on these (``plugin``, ``index_name``) live in conftest.py."""

from __future__ import annotations

import os
import subprocess
import types
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sbert_plugins import hookimpl

ES_SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "es_server.sh"


def es_url() -> str:
    url = os.environ.get("SBERT_ES_URL")
    if not url:
        pytest.skip("no Elasticsearch: set SBERT_ES_URL (scripts/run_tests.sh starts one)")
    return url


def es(*args: str, **env: str) -> None:
    done = subprocess.run(
        ["bash", str(ES_SCRIPT), *args], env={**os.environ, **env}, capture_output=True, text=True, timeout=300
    )
    if done.returncode != 0:
        raise RuntimeError(f"es_server.sh {' '.join(args)} failed: {done.stderr[-2000:]}")


def brute_force_pairs(x: np.ndarray) -> list[tuple[float, int, int]]:
    """Every pair (i < j) by cosine in float64, best first; ties by (i, j), the order most_similar_pairs keeps."""
    unit = x / np.linalg.norm(x, axis=1, keepdims=True)
    sims = unit.astype(np.float64) @ unit.T.astype(np.float64)
    i, j = np.triu_indices(len(x), k=1)
    order = np.lexsort((j, i, -sims[i, j]))
    return [(float(sims[a, b]), int(a), int(b)) for a, b in zip(i[order], j[order], strict=True)]


def assert_accounted(report: Any, ids: Iterable[str | None] | int) -> None:
    """Every document handed to an ingest is in exactly one place: indexed, failed, skipped or a duplicate.

    ``ids`` are the documents' ids (checked one by one), or just how many documents were sent."""
    expected = list(ids) if not isinstance(ids, int) else None
    n = len(expected) if expected is not None else ids
    places = report.indexed + len(report.failures) + len(report.skipped) + len(report.duplicates)
    assert report.received == n == places, (report.received, n, places)
    if expected is not None:
        seen = [*report.indexed_ids, *(f.id for f in report.failures), *report.skipped, *report.duplicates]
        assert sorted(map(str, seen)) == sorted(map(str, expected)), "some ids are missing or counted twice"


def make_plugin(name: str, **hooks: Callable[..., Any]) -> types.ModuleType:
    """A plugin module named ``name`` with the given hook implementations."""
    module = types.ModuleType(name)
    for hook, fn in hooks.items():
        setattr(module, hook, hookimpl(fn))
    return module


# Sentences for the Elasticsearch tests: pairs of paraphrases and some loners.
ES_SENTENCES = [
    "A man is playing a guitar.",
    "A man plays the guitar.",
    "A woman is slicing an onion.",
    "Someone is cutting an onion.",
    "The new movie is awesome!",
    "The new film is great.",
    "A cat sits on the mat.",
    "Two dogs are running through a field.",
    "Dogs run across the grass.",
    "The stock market fell sharply today.",
]
