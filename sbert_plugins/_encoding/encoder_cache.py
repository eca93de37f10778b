"""Loaded encoders shared by hosts: one per (model folder, options) per process, with public knobs.

spaCy components, scikit-learn clones, Spark tasks and stores that ask for the
same model with the same options get the same object, so weights load once.
The cache is bounded (``shared_encoders.max_size``, least recently used first out)
and can be cleared; an evicted encoder lives on in the hosts that hold it.
Shared encoders are marked ``shared = True`` and training refuses them, so
fine-tuning can never silently change the vectors another host produces.
"""

from __future__ import annotations

import os
import threading
from collections import Counter, OrderedDict
from typing import Any

from .._base.options import DEFAULT_MODEL, EncodeOptions
from .._loading.names import resolve_local
from .encoder import SentenceEncoder


class SharedEncoders:
    """An LRU map ``(folder, options) -> SentenceEncoder``; ``max_size`` encoders at most (default 4)."""

    def __init__(self, max_size: int = 4) -> None:
        self.max_size = max_size
        self._items: OrderedDict[tuple[Any, ...], SentenceEncoder] = OrderedDict()
        self._lock = threading.Lock()
        self._loads: Counter[tuple[Any, ...]] = Counter()  # builds per key (a test counts loads per worker)

    def __len__(self) -> int:
        return len(self._items)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    @staticmethod
    def _key(model: str | os.PathLike[str], options: dict[str, Any]) -> tuple[EncodeOptions, tuple[Any, ...]]:
        checked = EncodeOptions(model=os.fspath(model), **options)
        # a local folder keys by its path (names and paths of one folder share it); a Hub model by its name and
        # revision, so finding a loaded encoder never asks the Hub
        folder = resolve_local(checked.model, checked.revision)
        where = str(folder) if folder is not None else f"hub:{checked.model}"
        return checked, (where, tuple(sorted(checked.encoder_kwargs().items())))

    def load_count(self, model: str | os.PathLike[str] = DEFAULT_MODEL, **options: Any) -> int:
        """How many times this process has loaded ``model`` with ``options`` (1 when sharing works)."""
        return self._loads[self._key(model, options)[1]]

    def get(self, model: str | os.PathLike[str] = DEFAULT_MODEL, **options: Any) -> SentenceEncoder:
        checked, key = self._key(model, options)
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
            encoder = SentenceEncoder(model, **checked.encoder_kwargs())
            encoder.shared = True
            self._loads[key] += 1
            self._items[key] = encoder
            while len(self._items) > max(self.max_size, 1):
                self._items.popitem(last=False)
            return encoder


shared_encoders = SharedEncoders()


def shared_encoder(model: str | os.PathLike[str] = DEFAULT_MODEL, **options: Any) -> SentenceEncoder:
    """The process-wide encoder for ``model`` and ``options`` (see :class:`SharedEncoders`)."""
    return shared_encoders.get(model, **options)
