"""The Spark example under examples/ finds each review's real paraphrase on a local Spark session."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest

pytestmark = [pytest.mark.quality, pytest.mark.spark]


def test_nearest_reviews(spark, minilm):
    example = runpy.run_path(str(Path(__file__).resolve().parents[2] / "examples" / "spark_embed.py"))
    rows = {r.id: (r.neighbour, r.score) for r in example["nearest_neighbours"](spark).collect()}
    assert set(rows) == {"r1", "r2", "r3", "r4", "r5"}
    assert rows["r1"][0] == "r2" and rows["r2"][0] == "r1"  # the two praising the acting
    assert rows["r3"][0] == "r4" and rows["r4"][0] == "r3"  # the two about a long, boring film
    assert all(-1.0 <= score <= 1.0 + 1e-6 for _, score in rows.values())
