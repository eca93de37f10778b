"""The built-in exact in-memory vector store (the reference for ANN recall)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Optional

import numpy as np

from ._errors import EmbeddingContractError, InputError
from ._similarity import semantic_search


@dataclass
class SearchResult:
    """A hit from any vector store: document id, score, and the stored source."""

    id: str
    score: float
    source: Dict[str, Any] = field(default_factory=dict)


class InMemoryStore:
    """Exact cosine search over documents embedded with one encoder."""

    def __init__(self, encoder, batch_size: int = 64) -> None:
        self.encoder = encoder
        self.batch_size = batch_size
        self._ids: List[str] = []
        self._sources: List[Dict[str, Any]] = []
        self._vectors = np.zeros((0, encoder.dimension), dtype=np.float32)

    def __len__(self) -> int:
        return len(self._ids)

    def add(self, texts: Iterable[str], ids: Optional[Iterable[Any]] = None,
            metadata: Optional[Iterable[Dict[str, Any]]] = None) -> List[str]:
        texts = list(texts)
        ids = [str(i) for i in ids] if ids is not None else [str(len(self) + n) for n in range(len(texts))]
        metadata = list(metadata) if metadata is not None else [{} for _ in texts]
        if not len(ids) == len(texts) == len(metadata):
            raise InputError(f"got {len(texts)} texts, {len(ids)} ids and {len(metadata)} metadata rows; "
                             "they must have the same length")
        clash = sorted(set(ids) & set(self._ids))
        if clash:
            raise InputError(f"ids already stored: {clash[:10]}; remove them first or use new ids")
        vectors = self.encoder.encode(texts, batch_size=self.batch_size)
        self.add_vectors(ids, vectors, [{"text": t, **m} for t, m in zip(texts, metadata)])
        return ids

    def add_vectors(self, ids: List[str], vectors: np.ndarray, sources: List[Dict[str, Any]]) -> None:
        vectors = np.asarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[1] != self._vectors.shape[1]:
            raise EmbeddingContractError(f"vectors of shape {vectors.shape} do not fit this store "
                                         f"(dims={self._vectors.shape[1]}, model {self.encoder.name!r})")
        self._ids.extend(ids)
        self._sources.extend(sources)
        self._vectors = np.concatenate([self._vectors, vectors])

    def search(self, query: str, k: int = 10) -> List[SearchResult]:
        if not len(self):
            return []
        vector = self.encoder.encode([query])
        hits = semantic_search(vector, self._vectors, top_k=k)[0]
        return [SearchResult(self._ids[h.corpus_id], h.score, self._sources[h.corpus_id]) for h in hits]
