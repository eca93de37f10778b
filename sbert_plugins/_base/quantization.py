"""Smaller vectors: int8 / uint8 scalar quantization and binary / ubinary bit packing.

The calibration is sentence-transformers' ``quantize_embeddings``, so the bytes are the same: int8 and
uint8 map each dimension's [min, max] (from ``ranges``, else ``calibration_embeddings``, else the
embeddings themselves) onto 256 buckets; binary keeps the sign bit of each dimension, packed 8 per byte
(``binary`` as int8, offset by -128; ``ubinary`` as uint8). Search binary vectors by Hamming distance
and rescore the top candidates with the float vectors.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from .._base.errors import ConfigError, InputError

PRECISIONS = ("float32", "int8", "uint8", "binary", "ubinary")
_FEW = 100  # fewer calibration rows than this give unstable buckets


def quantization_ranges(calibration: np.ndarray) -> np.ndarray:
    """``(2, dims)``: each dimension's minimum and maximum over ``calibration``."""
    return np.vstack((calibration.min(axis=0), calibration.max(axis=0))).astype(np.float32)


def quantize_embeddings(
    embeddings: Any,
    precision: str,
    *,
    ranges: np.ndarray | None = None,
    calibration_embeddings: np.ndarray | None = None,
) -> np.ndarray:
    """``embeddings`` (float, ``(n, dims)``) in ``precision``; see the module docstring for the rules."""
    if precision not in PRECISIONS:
        raise ConfigError(f"precision={precision!r}: choose one of {PRECISIONS}")
    x = np.asarray(embeddings.cpu() if hasattr(embeddings, "cpu") else embeddings)
    if x.dtype.kind not in "f":
        raise InputError(f"embeddings to quantize must be floats, got {x.dtype}")
    x = np.atleast_2d(x).astype(np.float32, copy=False)
    if precision == "float32":
        return x
    if precision.endswith("binary"):
        packed = np.packbits(x > 0, axis=-1)
        return (packed.astype(np.int16) - 128).astype(np.int8) if precision == "binary" else packed
    if ranges is None:
        calibration = x if calibration_embeddings is None else np.atleast_2d(np.asarray(calibration_embeddings))
        if len(calibration) < 2:
            raise InputError(
                f"{precision} quantization needs ranges: pass ranges= or calibration_embeddings= from a "
                "representative set (one embedding has no range)"
            )
        if len(calibration) < _FEW:
            warnings.warn(
                f"{precision} buckets from only {len(calibration)} embeddings are unstable; pass "
                "calibration_embeddings= (or ranges=) from a larger, representative set",
                UserWarning,
                stacklevel=2,
            )
        ranges = quantization_ranges(calibration)
    ranges = np.asarray(ranges, dtype=np.float32)
    if ranges.shape != (2, x.shape[1]):
        raise ConfigError(f"ranges must have shape (2, {x.shape[1]}), got {ranges.shape}")
    starts = ranges[0]
    steps = (ranges[1] - starts) / 255
    steps = np.where(steps == 0, 1, steps)
    buckets = np.clip(np.floor((x - starts) / steps), 0, 255)
    return buckets.astype(np.uint8) if precision == "uint8" else (buckets - 128).astype(np.int8)
