"""A process-wide embedding cache shared by estimator clones.

GridSearchCV clones the estimator for every fold and parameter set; a cache on
the instance would die with each clone. Keys include everything the vector
depends on, so different models/poolings never collide.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Dict, Hashable, List, Sequence, Tuple

import numpy as np


class EmbeddingCache:
    """LRU map ``(model key, text) -> vector`` with hit/miss counters."""

    def __init__(self, max_items: int = 500_000) -> None:
        self.max_items = max_items
        self._data: "OrderedDict[Tuple[Hashable, str], np.ndarray]" = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._data)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self.hits = self.misses = 0

    def encode(self, key: Hashable, texts: Sequence[str], encode_fn) -> np.ndarray:
        """Vectors for ``texts``; only texts not yet cached under ``key`` are encoded (once each)."""
        with self._lock:
            found: Dict[str, np.ndarray] = {}
            for text in texts:
                vector = self._data.get((key, text))
                if vector is not None:
                    found[text] = vector
                    self._data.move_to_end((key, text))
            missing: List[str] = list(dict.fromkeys(t for t in texts if t not in found))
            self.hits += sum(1 for t in texts if t in found)
            self.misses += len(missing)
        if missing:
            fresh = encode_fn(missing)
            with self._lock:
                for text, vector in zip(missing, fresh):
                    found[text] = vector
                    self._data[(key, text)] = vector
                while len(self._data) > self.max_items:
                    self._data.popitem(last=False)
        return np.stack([found[t] for t in texts]) if texts else np.zeros((0, 0), np.float32)


DEFAULT_CACHE = EmbeddingCache()
