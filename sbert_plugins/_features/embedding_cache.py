"""A process-wide embedding cache shared by estimator clones.

GridSearchCV clones the estimator for every fold and parameter set; a cache on
the instance would die with each clone. Keys are ``(model key, sha1(text))`` (the
model key holds everything a vector depends on), values are private copies of the
rows, and the cache is bounded in bytes, least recently used first out.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass

import numpy as np

_ENTRY_OVERHEAD = 200  # bytes per entry beyond the vector: key tuple, digest, dict slot (measured ~190)


def _digest(text: str) -> bytes:
    return hashlib.sha1(text.encode("utf-8", "surrogatepass"), usedforsecurity=False).digest()


@dataclass(frozen=True)
class CacheStats:
    hits: int
    misses: int
    entries: int
    bytes: int
    max_bytes: int


class EmbeddingCache:
    """LRU map ``(model key, text digest) -> vector`` bounded to ``max_bytes`` (default 256 MiB)."""

    def __init__(self, max_bytes: int = 256 * 2**20) -> None:
        self.max_bytes = max_bytes
        self._data: OrderedDict[tuple[Hashable, bytes], np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        self._bytes = 0
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._data)

    def stats(self) -> CacheStats:
        return CacheStats(self.hits, self.misses, len(self._data), self._bytes, self.max_bytes)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self._bytes = 0
            self.hits = self.misses = 0

    def _put(self, key: tuple[Hashable, bytes], vector: np.ndarray) -> None:
        # a copy: a view would pin the whole batch array it came from
        row = np.array(vector, dtype=np.float32, copy=True)
        if key in self._data:
            return
        self._data[key] = row
        self._bytes += row.nbytes + _ENTRY_OVERHEAD
        while self._bytes > self.max_bytes and self._data:
            _, old = self._data.popitem(last=False)
            self._bytes -= old.nbytes + _ENTRY_OVERHEAD

    def encode(self, key: Hashable, texts: Sequence[str], encode_fn: Callable[[list[str]], np.ndarray]) -> np.ndarray:
        """Vectors for ``texts``; only texts not yet cached under ``key`` are encoded (once each)."""
        digests = [_digest(t) for t in texts]
        found: dict[bytes, np.ndarray] = {}
        with self._lock:
            for digest in digests:
                vector = self._data.get((key, digest))
                if vector is not None:
                    found[digest] = vector
                    self._data.move_to_end((key, digest))
            missing = list(dict.fromkeys((d, t) for d, t in zip(digests, texts, strict=True) if d not in found))
            self.hits += len(digests) - sum(1 for d in digests if d not in found)
            self.misses += len(missing)
        if missing:
            fresh = encode_fn([t for _, t in missing])
            with self._lock:
                for (digest, _), vector in zip(missing, fresh, strict=True):
                    found[digest] = vector
                    self._put((key, digest), vector)
        if not texts:
            return np.zeros((0, 0), np.float32)
        return np.stack([found[d] for d in digests])


embedding_cache = EmbeddingCache()
"""The cache the scikit-learn host uses; resize with ``embedding_cache.max_bytes = ...``."""
