"""The spaCy example under examples/ finds the real paraphrases."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest

pytest.importorskip("spacy")
pytestmark = pytest.mark.quality

EXAMPLE = runpy.run_path(str(Path(__file__).resolve().parents[2] / "examples" / "spacy_similarity.py"))


def test_similar_sentences_in_a_document(minilm):
    nlp = EXAMPLE["build"]()
    top_score, a, b = EXAMPLE["similar_sentences"](nlp, EXAMPLE["DOCUMENT"])[0]
    assert {a, b} == {
        "The city council approved the new budget on Monday.",
        "On Monday, the council passed the budget.",
    }
    assert top_score > 0.8


def test_near_duplicate_paragraphs(minilm):
    nlp = EXAMPLE["build"]()
    pairs = {(i, j) for _, i, j in EXAMPLE["near_duplicates"](nlp, EXAMPLE["PARAGRAPHS"])}
    assert pairs == {(0, 2), (3, 4)}
