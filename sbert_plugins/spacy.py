"""spaCy host: the ``sbert`` pipeline component.

After ``pip install sbert-plugins[spacy]``, ``nlp.add_pipe("sbert")`` finds this
factory through the ``spacy_factories`` entry point. The component embeds the doc
and chosen spans in one encoder call per batch of docs (``predict``), stores the
vectors in ``doc.user_data`` so they survive ``DocBin`` and ``n_process``
(``set_annotations``), and points ``doc.vector`` / ``span.vector`` / ``.similarity``
at them through user hooks. Uses only the public ``sbert_plugins`` API.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, List  # noqa: UP035 - spaCy resolves the factory's hints at run time

import numpy as np

from sbert_plugins import (
    ConfigError,
    EmbeddingContractError,
    EncodeOptions,
    Encoder,
    option_defaults,
    require_extra,
    shared_encoder,
    takes_encode_options,
    text_problem,
)

require_extra("spacy", "spacy")
from spacy.language import Language  # noqa: E402
from spacy.tokens import Doc, Span  # noqa: E402
from spacy.util import minibatch  # noqa: E402

SPAN_KINDS = ("doc", "sents", "ents", "noun_chunks")
_SPANS_KEY = "sbert_spans"  # user_data: {"start:end": vector} of embedded spans
_WHERE = "sbert component config"

# The encode options and their defaults come from the shared vocabulary (one place for every host).
DEFAULT_CONFIG: dict[str, Any] = {**option_defaults(), "spans": ["doc", "sents"], "bundle_model": False}


@Language.factory("sbert", default_config=DEFAULT_CONFIG)
@takes_encode_options  # spaCy's config schema sees every option by name (typed Any: see below)
def make_sbert_component(
    nlp: Language,
    name: str,
    *,
    spans: List[str],  # noqa: UP006
    bundle_model: bool,
    **options: Any,
) -> SBERTComponent:
    """Factory named by the ``spacy_factories`` entry point.

    The encode options are typed Any on purpose: confection would reject a bad value with its own
    message, while EncodeOptions checks them with the same ConfigError (naming value and fix) as every
    other host."""
    encode = EncodeOptions.from_mapping(options, where=_WHERE)
    return SBERTComponent(nlp, name, options=encode, spans=spans, bundle_model=bundle_model)


def register_extensions() -> None:
    """``Doc._.sbert`` / ``Span._.sbert``; idempotent, never ``force=True``."""
    if not Doc.has_extension("sbert"):
        Doc.set_extension("sbert", getter=doc_vector)
    if not Span.has_extension("sbert"):
        Span.set_extension("sbert", getter=span_vector)


def _key(span: Span) -> str:
    return f"{span.start_char}:{span.end_char}"


def doc_vector(doc: Doc) -> np.ndarray | None:
    return doc.user_data.get(_SPANS_KEY, {}).get(f"0:{len(doc.text)}")


def span_vector(span: Span) -> np.ndarray | None:
    """The stored vector of a span; computed now (and stored) if the component that ran is attached."""
    found = span.doc.user_data.get(_SPANS_KEY, {}).get(_key(span))
    if found is not None:
        return found
    hooks = span.doc.user_span_hooks.get("vector")
    owner = getattr(hooks, "__self__", None)
    return owner.span_vector(span) if isinstance(owner, _Hooks) else None


def _similarity(a: np.ndarray | None, b: np.ndarray | None) -> float:
    if a is None or b is None or not np.any(a) or not np.any(b):
        warnings.warn("sbert: similarity of an empty or unembedded text is 0.0", UserWarning, stacklevel=3)
        return 0.0
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))


def _other_vector(other: Any) -> np.ndarray | None:
    if isinstance(other, (Doc, Span)):
        found = doc_vector(other) if isinstance(other, Doc) else span_vector(other)
        return found if found is not None else np.asarray(other.vector)
    return getattr(other, "vector", None)


def _or_zeros(vector: np.ndarray | None, doc: Doc) -> np.ndarray:
    if vector is not None:
        return vector
    width = next((len(v) for v in doc.user_data.get(_SPANS_KEY, {}).values()), 0)
    return np.zeros((width,), dtype=np.float32)


class _Hooks:
    """The user hooks one component puts on its docs: stored vectors, and on-demand span vectors
    computed by that component (no process-wide registry of components)."""

    def __init__(self, component: SBERTComponent | None) -> None:
        self.component = component
        self.doc: dict[str, Callable[..., Any]] = {
            "vector": self.doc_vector,
            "has_vector": self.has_vector,
            "similarity": self.doc_similarity,
        }
        self.span: dict[str, Callable[..., Any]] = {
            "vector": self.span_vector_or_zeros,
            "similarity": self.span_similarity,
        }

    def doc_vector(self, doc: Doc) -> np.ndarray:
        return _or_zeros(doc_vector(doc), doc)

    def has_vector(self, doc: Doc) -> bool:
        return doc_vector(doc) is not None

    def doc_similarity(self, doc: Doc, other: Any) -> float:
        return _similarity(doc_vector(doc), _other_vector(other))

    def span_vector(self, span: Span) -> np.ndarray | None:
        store = span.doc.user_data.setdefault(_SPANS_KEY, {})
        key = _key(span)
        if key not in store and self.component is not None:
            store[key] = self.component.embed_texts([span.text])[0]
        return store.get(key)

    def span_vector_or_zeros(self, span: Span) -> np.ndarray:
        return _or_zeros(self.span_vector(span), span.doc)

    def span_similarity(self, span: Span, other: Any) -> float:
        return _similarity(self.span_vector(span), _other_vector(other))


_STORED_ONLY = _Hooks(None)


def attach_hooks(doc: Doc) -> Doc:
    """Point doc/span ``.vector`` and ``.similarity`` at the stored SBERT vectors.

    The component does this itself; call it on docs that crossed a process boundary
    (``DocBin``, ``nlp.pipe(n_process=2)``), which keeps ``user_data`` but not hooks.
    """
    register_extensions()
    doc.user_hooks.update(_STORED_ONLY.doc)
    doc.user_span_hooks.update(_STORED_ONLY.span)
    return doc


class SBERTComponent:
    """Embeds docs and spans with a shared :class:`~sbert_plugins.SentenceEncoder`."""

    def __init__(
        self,
        nlp: Language,
        name: str = "sbert",
        *,
        options: EncodeOptions | None = None,
        spans: Iterable[str] = ("doc", "sents"),
        bundle_model: bool = False,
    ) -> None:
        spans = list(spans)
        if not spans or any(s not in SPAN_KINDS for s in spans):
            raise ConfigError(f"{_WHERE}: spans={spans!r}; use a non-empty subset of {SPAN_KINDS}")
        self.name = name
        self.options = options or EncodeOptions()
        self.spans, self.bundle_model = spans, bundle_model
        self._model_path: str | None = None
        self._saved_fingerprint: str | None = None  # set by from_disk: the weights the pipeline was saved with
        self._encoder: Encoder | None = None
        self._pid = os.getpid()
        self._hooks = _Hooks(self)
        register_extensions()

    @property
    def encoder(self) -> Encoder:
        """Loaded on first use and shared by every host with the same model and options."""
        if self._encoder is None:
            model = self._model_path or self.options.model
            encoder = shared_encoder(model, **self.options.encoder_kwargs())
            if self._saved_fingerprint not in (None, encoder.fingerprint):
                raise EmbeddingContractError(
                    f"{_WHERE}: this pipeline was saved with model {self.options.model!r} of fingerprint "
                    f"{self._saved_fingerprint}, but {model!r} now loads weights of fingerprint {encoder.fingerprint} "
                    "(another folder of the same name?); its vectors would differ. Load the original model, or "
                    "save the pipeline with bundle_model=True to keep the weights with it"
                )
            self._encoder = encoder
        return self._encoder

    def embed_texts(self, texts: list[str]) -> np.ndarray:
        """Vectors for texts; blank texts get zero vectors (spaCy's convention for empty docs)."""
        out = np.zeros((len(texts), self.encoder.dimension), dtype=np.float32)
        # only blank texts are skipped ("replace" ignores surrogates here; encode() then refuses them by index)
        keep = [i for i, t in enumerate(texts) if text_problem(t, unicode_errors="replace") is None]
        if keep:
            out[keep] = self.encoder.encode([texts[i] for i in keep], batch_size=self.options.batch_size)
        return out

    def _spans_of(self, doc: Doc) -> list[tuple[str, str]]:
        found: dict[str, str] = {}
        if "doc" in self.spans:
            found[f"0:{len(doc.text)}"] = doc.text
        groups: list[Iterable[Span]] = []
        if "sents" in self.spans and doc.has_annotation("SENT_START"):
            groups.append(doc.sents)
        if "ents" in self.spans:
            groups.append(doc.ents)
        if "noun_chunks" in self.spans:
            if not doc.has_annotation("DEP"):
                raise ConfigError(
                    f"{_WHERE}: spans includes 'noun_chunks', which needs a dependency parser before 'sbert' "
                    "in the pipeline; add one or drop it"
                )
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

    def predict(self, docs: list[Doc]) -> list[dict[str, np.ndarray]]:
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

    def set_annotations(self, docs: list[Doc], predictions: list[dict[str, np.ndarray]]) -> None:
        for doc, vectors in zip(docs, predictions, strict=True):
            doc.user_data.setdefault(_SPANS_KEY, {}).update(vectors)
            doc.user_hooks.update(self._hooks.doc)
            doc.user_span_hooks.update(self._hooks.span)

    def __call__(self, doc: Doc) -> Doc:
        self.set_annotations([doc], self.predict([doc]))
        return doc

    def pipe(self, stream: Iterable[Doc], batch_size: int = 128) -> Iterator[Doc]:
        for docs in minibatch(stream, size=batch_size):
            batch = list(docs)
            self.set_annotations(batch, self.predict(batch))
            yield from batch

    # -- serialization -------------------------------------------------------
    def to_disk(self, path: str | Path, *, exclude: Iterable[str] = ()) -> None:
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        config: dict[str, Any] = {"model": self.options.model, "bundled": False}
        if not self.bundle_model:  # the weights stay behind: on load, the same name must give the same weights
            config["fingerprint"] = self.encoder.fingerprint
        else:
            self.encoder.save(path / "model")  # type: ignore[attr-defined]
            config["bundled"] = True
        (path / "cfg.json").write_text(json.dumps(config, indent=2))

    def from_disk(self, path: str | Path, *, exclude: Iterable[str] = ()) -> SBERTComponent:
        config = json.loads((Path(path) / "cfg.json").read_text())
        if config.get("bundled"):
            self._model_path = str((Path(path) / "model").resolve())
        fingerprint = config.get("fingerprint")  # absent in pipelines saved before it was recorded
        self._saved_fingerprint = fingerprint if isinstance(fingerprint, str) else None
        self._encoder = None
        return self

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_encoder"] = None  # n_process workers reload (shared per process)
        state["_hooks"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._hooks = _Hooks(self)
        register_extensions()
