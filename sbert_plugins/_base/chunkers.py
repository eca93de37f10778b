"""Chunkers: split a text that is too long for the model into pieces that fit.

A chunker gets the text, the character offsets of its tokens and the token
budget, and returns substrings of the text. Offsets come from the model's own
tokenizer, so every chunk is guaranteed to fit.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence

from .errors import ConfigError

Offsets = Sequence[tuple[int, int]]
_SENTENCE_END = re.compile(r"(?<=[.!?。！？])\s+|\n{2,}")


def token_window_chunks(text: str, offsets: Offsets, max_tokens: int) -> list[str]:
    """Consecutive windows of ``max_tokens`` tokens, cut at token boundaries."""
    if max_tokens < 1:
        raise ConfigError(f"max_tokens must be >= 1, got {max_tokens}")
    chunks = []
    for start in range(0, len(offsets), max_tokens):
        window = offsets[start : start + max_tokens]
        piece = text[window[0][0] : window[-1][1]].strip()
        if piece:
            chunks.append(piece)
    return chunks


def sentence_chunks(text: str, offsets: Offsets, max_tokens: int) -> list[str]:
    """Greedily pack whole sentences into chunks; an over-long sentence is windowed."""
    bounds = [0] + [m.end() for m in _SENTENCE_END.finditer(text)] + [len(text)]
    chunks: list[str] = []
    current: list[tuple[int, int]] = []  # token offsets in the chunk being built
    token = 0
    for _, end in itertools.pairwise(bounds):
        sentence = []
        while token < len(offsets) and offsets[token][0] < end:
            sentence.append(offsets[token])
            token += 1
        if not sentence:
            continue
        if current and len(current) + len(sentence) > max_tokens:
            chunks.append(text[current[0][0] : current[-1][1]].strip())
            current = []
        if len(sentence) > max_tokens:
            chunks.extend(token_window_chunks(text, sentence, max_tokens))
            continue
        current.extend(sentence)
    if current:
        chunks.append(text[current[0][0] : current[-1][1]].strip())
    return [c for c in chunks if c]
