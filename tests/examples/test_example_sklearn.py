"""The scikit-learn example under examples/ runs and learns something real."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest

pytest.importorskip("sklearn")
pytestmark = pytest.mark.quality

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "sklearn_pipeline.py"


def test_sklearn_example_grid_search(minilm):
    run = runpy.run_path(str(EXAMPLE))["run"]
    result = run(limit=400)
    assert result["test_accuracy"] > 0.65
    assert result["best_params"]["sbert__pooling"] in ("mean", "max")
    assert result["cache_hits"] > result["texts_encoded"]  # folds reuse embeddings
