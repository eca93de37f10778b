"""Pooling and chunker names -> the functions plugins provide, with their output checked.

A third-party function is wrapped so that a wrong shape, NaN, or a chunk that is not a
non-blank string becomes a :class:`PluginError` naming the plugin, the hook and the evidence.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

from .._base.errors import ConfigError, PluginError
from .._base.validation import is_blank
from .._registry.manager import get_plugin_manager
from ..hookspecs import CHUNKERS, POOLING_STRATEGIES
from ..models import Pooling, PoolingFn

Chunker = Callable[[str, Sequence[tuple[int, int]], int], list[str]]


def _checked_pooling(fn: PoolingFn, plugin: str, mode: str, dimension: int) -> PoolingFn:
    """A plugin's strategy, with its output checked: a tensor of shape (batch, dimension), finite."""

    def pooled(tokens: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        out = fn(tokens, mask)
        expected = (tokens.shape[0], dimension)
        shape = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        if not isinstance(out, torch.Tensor) or tuple(out.shape) != expected:
            raise PluginError(
                plugin, POOLING_STRATEGIES, f"strategy {mode!r} returned {shape}; expected shape {expected}"
            )
        if not bool(torch.isfinite(out).all()):
            raise PluginError(plugin, POOLING_STRATEGIES, f"strategy {mode!r} returned NaN or infinite values")
        return out

    return pooled


def make_pooling(dimension: int, modes: str | Sequence[str], *, include_prompt: bool = True) -> Pooling:
    """A Pooling module whose mode names are resolved through the ``sbert_pooling_strategies`` hook."""
    names = [modes] if isinstance(modes, str) else list(modes)
    available = get_plugin_manager().contributions(POOLING_STRATEGIES)
    unknown = [m for m in names if m not in available]
    if unknown or not names:
        raise ConfigError(
            f"unknown pooling mode(s) {unknown or names}; choose from {sorted(available)} "
            "or register one with the sbert_pooling_strategies hook"
        )
    functions = []
    for mode in names:
        plugin, fn = available[mode]
        functions.append(fn if plugin == "builtin" else _checked_pooling(fn, plugin, mode, dimension))
    return Pooling(dimension, names, functions, include_prompt=include_prompt)


def chunker_function(name: str) -> Chunker:
    """The chunker registered as ``name``, with its output checked (non-blank strings)."""
    available = get_plugin_manager().contributions(CHUNKERS)
    if name not in available:
        raise ConfigError(f"chunker={name!r} is not registered; available: {sorted(available)}")
    plugin, fn = available[name]

    def chunk(text: str, offsets: Sequence[tuple[int, int]], budget: int) -> list[str]:
        chunks = fn(text, offsets, budget)
        if (
            not isinstance(chunks, list)
            or not chunks
            or not all(isinstance(c, str) and not is_blank(c) for c in chunks)
        ):
            raise PluginError(
                plugin,
                CHUNKERS,
                f"chunker {name!r} returned {chunks!r:.100} for a text of {len(text)} chars; "
                "a chunker must return a non-empty list of non-blank strings",
            )
        foreign = next((c for c in chunks if c not in text), None)
        if foreign is not None:  # a chunk's vector would stand for text the document does not contain
            raise PluginError(
                plugin,
                CHUNKERS,
                f"chunker {name!r} returned {foreign!r:.100}, which is not a piece of its input text; "
                "a chunker must return substrings of the text it is given",
            )
        return chunks

    return chunk
