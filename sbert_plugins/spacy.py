"""spaCy host: the ``sbert`` pipeline component.

After ``pip install sbert-plugins[spacy]``, ``nlp.add_pipe("sbert")`` finds this
factory through the ``spacy_factories`` entry point. The component embeds the
doc and chosen spans in one encoder call per batch of docs, stores the vectors
in ``doc.user_data`` (so they survive ``DocBin`` and ``n_process``), and points
``doc.vector`` / ``span.vector`` / ``.similarity`` at them through user hooks.
"""
from __future__ import annotations

import json
import os
import warnings
import weakref
from pathlib import Path
from typing import Any, Dict, Iterable, Iterator, List, Optional, Tuple

import numpy as np

from ._errors import ConfigError, require

require("spacy", "spacy")
from spacy.language import Language  # noqa: E402
from spacy.tokens import Doc, Span  # noqa: E402
from spacy.util import minibatch  # noqa: E402

SPAN_KINDS = ("doc", "sents", "ents", "noun_chunks")
_SPANS_KEY = "sbert_spans"  # user_data: {"start:end": vector} of embedded spans
_OWNER_KEY = "sbert_component"  # user_data: id of the component that embedded the doc
_components: "weakref.WeakValueDictionary[str, SBERTComponent]" = weakref.WeakValueDictionary()

DEFAULT_CONFIG = {
    "model": "all-MiniLM-L6-v2",
    "pooling": None,
    "batch_size": 64,
    "normalize": True,
    "dtype": "float32",
    "device": "cpu",
    "long_texts": "chunk",
    "spans": ["doc", "sents"],
    "bundle_model": False,
}


@Language.factory("sbert", default_config=DEFAULT_CONFIG)
def make_sbert_component(nlp: Language, name: str, model: str, pooling: Optional[str], batch_size: int,
                         normalize: bool, dtype: str, device: Optional[str], long_texts: str, spans: List[str],
                         bundle_model: bool) -> "SBERTComponent":
    """Factory named by the ``spacy_factories`` entry point."""
    return SBERTComponent(nlp, name, model=model, pooling=pooling, batch_size=batch_size, normalize=normalize,
                          dtype=dtype, device=device, long_texts=long_texts, spans=spans,
                          bundle_model=bundle_model)


def _check_config(batch_size: int, dtype: str, long_texts: str, spans: List[str]) -> None:
    from ._encoder import DTYPES, LONG_TEXT_POLICIES

    if not isinstance(batch_size, int) or batch_size < 1:
        raise ConfigError(f"sbert component config: batch_size={batch_size!r} must be a positive int")
    if dtype not in DTYPES:
        raise ConfigError(f"sbert component config: dtype={dtype!r}; choose one of {sorted(DTYPES)}")
    if long_texts not in LONG_TEXT_POLICIES:
        raise ConfigError(f"sbert component config: long_texts={long_texts!r}; choose one of {LONG_TEXT_POLICIES}")
    bad = [s for s in spans if s not in SPAN_KINDS]
    if bad or not spans:
        raise ConfigError(f"sbert component config: spans={spans!r}; use a non-empty subset of {SPAN_KINDS}")


def register_extensions() -> None:
    """``Doc._.sbert`` / ``Span._.sbert``; idempotent, never ``force=True``."""
    if not Doc.has_extension("sbert"):
        Doc.set_extension("sbert", getter=doc_vector)
    if not Span.has_extension("sbert"):
        Span.set_extension("sbert", getter=span_vector)


def _key(span: Span) -> str:
    return f"{span.start_char}:{span.end_char}"


def doc_vector(doc: Doc) -> Optional[np.ndarray]:
    return doc.user_data.get(_SPANS_KEY, {}).get(f"0:{len(doc.text)}")


def span_vector(span: Span) -> Optional[np.ndarray]:
    """Stored vector of a span, or computed now (and stored) by the component that ran."""
    store = span.doc.user_data.setdefault(_SPANS_KEY, {})
    key = _key(span)
    if key not in store:
        component = _components.get(span.doc.user_data.get(_OWNER_KEY, ""))
        if component is None:
            return None
        store[key] = component.embed_texts([span.text])[0]
    return store[key]


def _similarity(a: Optional[np.ndarray], b: Optional[np.ndarray]) -> float:
    if a is None or b is None or not np.any(a) or not np.any(b):
        warnings.warn("sbert: similarity of an empty or unembedded text is 0.0", UserWarning, stacklevel=3)
        return 0.0
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))


def _other_vector(other: Any) -> Optional[np.ndarray]:
    if isinstance(other, (Doc, Span)):
        found = doc_vector(other) if isinstance(other, Doc) else span_vector(other)
        return found if found is not None else other.vector
    return getattr(other, "vector", None)


def attach_hooks(doc: Doc) -> Doc:
    """Point doc/span ``.vector`` and ``.similarity`` at the stored SBERT vectors.

    The component does this itself; call it on docs that crossed a process
    boundary (``DocBin``, ``nlp.pipe(n_process=2)``), which keeps ``user_data``
    but not hooks.
    """
    register_extensions()
    doc.user_hooks.update(_DOC_HOOKS)
    doc.user_span_hooks.update(_SPAN_HOOKS)
    return doc


def _or_zeros(vector: Optional[np.ndarray], doc: Doc) -> np.ndarray:
    if vector is not None:
        return vector
    width = next((len(v) for v in doc.user_data.get(_SPANS_KEY, {}).values()), 0)
    return np.zeros((width,), dtype=np.float32)


# Module-level hooks (not per-doc closures): cheap to attach, one set for all docs.
_DOC_HOOKS = {
    "vector": lambda d: _or_zeros(doc_vector(d), d),
    "has_vector": lambda d: doc_vector(d) is not None,
    "similarity": lambda d, other: _similarity(doc_vector(d), _other_vector(other)),
}
_SPAN_HOOKS = {
    "vector": lambda s: _or_zeros(span_vector(s), s.doc),
    "similarity": lambda s, other: _similarity(span_vector(s), _other_vector(other)),
}


class SBERTComponent:
    """Embeds docs and spans with a shared :class:`~sbert_plugins.SentenceEncoder`."""

    def __init__(self, nlp: Language, name: str = "sbert", *, model: str = DEFAULT_CONFIG["model"],
                 pooling: Optional[str] = None, batch_size: int = 64, normalize: bool = True, dtype: str = "float32",
                 device: Optional[str] = "cpu", long_texts: str = "chunk",
                 spans: Iterable[str] = ("doc", "sents"), bundle_model: bool = False) -> None:
        spans = list(spans)
        _check_config(batch_size, dtype, long_texts, spans)
        self.name = name
        self.model, self.pooling, self.batch_size, self.normalize = model, pooling, batch_size, normalize
        self.dtype, self.device, self.long_texts = dtype, device, long_texts
        self.spans, self.bundle_model = spans, bundle_model
        self._model_path: Optional[str] = None
        self._encoder = None
        self._id = f"{name}-{id(self)}"
        self._pid = os.getpid()
        _components[self._id] = self
        register_extensions()

    @property
    def encoder(self):
        """Loaded on first use and shared by every component with the same model and options."""
        if self._encoder is None:
            from ._loading import shared_encoder

            self._encoder = shared_encoder(self._model_path or self.model, pooling=self.pooling,
                                           normalize=self.normalize,
                                           dtype=self.dtype, device=self.device, long_texts=self.long_texts)
        return self._encoder

    def embed_texts(self, texts: List[str]) -> np.ndarray:
        """Vectors for texts; empty / whitespace-only texts get zero vectors (spaCy's convention)."""
        out = np.zeros((len(texts), self.encoder.dimension), dtype=np.float32)
        keep = [i for i, t in enumerate(texts) if t.strip()]
        if keep:
            out[keep] = self.encoder.encode([texts[i] for i in keep], batch_size=self.batch_size)
        return out

    def _spans_of(self, doc: Doc) -> List[Tuple[str, str]]:
        found: Dict[str, str] = {}
        if "doc" in self.spans:
            found[f"0:{len(doc.text)}"] = doc.text
        groups = []
        if "sents" in self.spans and doc.has_annotation("SENT_START"):
            groups.append(doc.sents)
        if "ents" in self.spans:
            groups.append(doc.ents)
        if "noun_chunks" in self.spans:
            if not doc.has_annotation("DEP"):
                raise ConfigError("sbert component config: spans includes 'noun_chunks', which needs a "
                                  "dependency parser before 'sbert' in the pipeline; add one or drop it")
            groups.append(doc.noun_chunks)
        for group in groups:
            for span in group:
                found.setdefault(_key(span), span.text)
        return list(found.items())

    def _guard_fork(self) -> None:
        """In a forked ``n_process`` worker, use one torch thread: OpenMP's pool is not
        fork-safe (the child would hang), and the workers already use the cores."""
        if os.getpid() != self._pid:
            import torch

            torch.set_num_threads(1)
            self._pid = os.getpid()

    def predict(self, docs: List[Doc]) -> List[Dict[str, np.ndarray]]:
        """One encoder call for all docs and spans of the batch."""
        self._guard_fork()
        per_doc = [self._spans_of(doc) for doc in docs]
        flat = [text for spans in per_doc for _, text in spans]
        vectors = self.embed_texts(flat) if flat else np.zeros((0, 0), np.float32)
        out, pos = [], 0
        for spans in per_doc:
            out.append({key: vectors[pos + i] for i, (key, _) in enumerate(spans)})
            pos += len(spans)
        return out

    def set_annotations(self, docs: List[Doc], predictions: List[Dict[str, np.ndarray]]) -> None:
        for doc, vectors in zip(docs, predictions):
            doc.user_data.setdefault(_SPANS_KEY, {}).update(vectors)
            doc.user_data[_OWNER_KEY] = self._id
            attach_hooks(doc)

    def __call__(self, doc: Doc) -> Doc:
        self.set_annotations([doc], self.predict([doc]))
        return doc

    def pipe(self, stream: Iterable[Doc], batch_size: int = 128) -> Iterator[Doc]:
        for docs in minibatch(stream, size=batch_size):
            docs = list(docs)
            self.set_annotations(docs, self.predict(docs))
            yield from docs

    # -- serialization -------------------------------------------------------
    def to_disk(self, path: str | Path, *, exclude: Iterable[str] = ()) -> None:
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        config = {"model": self.model, "bundled": False}
        if self.bundle_model:
            self.encoder.save(path / "model")
            config["bundled"] = True
        (path / "cfg.json").write_text(json.dumps(config, indent=2))

    def from_disk(self, path: str | Path, *, exclude: Iterable[str] = ()) -> "SBERTComponent":
        config = json.loads((Path(path) / "cfg.json").read_text())
        if config.get("bundled"):
            self._model_path = str(Path(path) / "model")
            self._encoder = None
        return self

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_encoder"] = None  # n_process workers reload (shared per process)
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        _components[self._id] = self
        register_extensions()
