"""The built-in chunkers: pieces are substrings of the text, fit the token budget, and lose no token."""

from __future__ import annotations

import re

import pytest

from sbert_plugins import ConfigError, sentence_chunks, token_window_chunks


def _offsets(text):
    return [(m.start(), m.end()) for m in re.finditer(r"\S+", text)]  # one token per word


TEXT = "One two three. Four five six seven! Eight nine?\n\nTen eleven twelve thirteen fourteen fifteen."


@pytest.mark.parametrize("chunker", [token_window_chunks, sentence_chunks])
@pytest.mark.parametrize("budget", [1, 3, 4, 7, 100])
def test_chunks_are_substrings_within_budget_and_cover_every_token(chunker, budget):
    chunks = chunker(TEXT, _offsets(TEXT), budget)
    assert chunks and all(c in TEXT and c == c.strip() for c in chunks)
    assert all(len(c.split()) <= budget for c in chunks)
    assert " ".join(chunks).split() == TEXT.split()  # no token lost, none repeated, order kept


def test_sentence_chunks_pack_whole_sentences_greedily():
    assert sentence_chunks(TEXT, _offsets(TEXT), 7) == [
        "One two three. Four five six seven!",  # 3 + 4 tokens fill the budget
        "Eight nine?",  # 2 + the next 6 would not fit
        "Ten eleven twelve thirteen fourteen fifteen.",
    ]


def test_an_overlong_sentence_is_windowed():
    text = "a b c d e f g h"
    assert sentence_chunks(text, _offsets(text), 3) == ["a b c", "d e f", "g h"]


def test_bad_budget_is_refused():
    with pytest.raises(ConfigError, match="max_tokens must be >= 1"):
        token_window_chunks("a b", _offsets("a b"), 0)
