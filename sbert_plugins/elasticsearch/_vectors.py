"""How an index stores its vectors (pure, no I/O): ``float``, ``byte`` or ``bit`` dense_vector fields.

* ``float``: the embedding as it is (the server may still quantize it inside, per ``index_type``).
* ``byte``: int8, one global scale for every dimension (``round(x * 127 / c)``, clipped, with ``c`` the largest
  absolute component of calibration embeddings), so that dot products and cosines of the int8 vectors stay
  proportional to the float ones: 4x smaller than float.
* ``bit``: one sign bit per dimension, what sentence-transformers' ``ubinary`` keeps (``x > 0``), compared by
  Hamming distance (the server's ``l2_norm`` for bits): 32x smaller.

Both lose recall, so by default the float vectors are kept too, in a field that kNN never searches
(``<vector field>_float``, see :func:`mapping`): the top ``k * oversample`` candidates of the quantized
search come back with it and are rescored here, exactly as the server scores a float field, so the order
and the scores are the float ones again. Rescoring on the client needs no scripting module (the server's
test distribution, and some hosted offerings, have none) and moves only ``k * oversample`` vectors per
query.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from sbert_plugins import ConfigError, EmbeddingContractError

ELEMENT_TYPES = ("float", "byte", "bit")
_MAX_WINDOW = 10_000  # the server's largest num_candidates (and default max_result_window)


def float_copy_field(vector_field: str) -> str:
    """The field that keeps the float vectors beside a byte / bit field."""
    return f"{vector_field}_float"


def _unusable(problem: str) -> EmbeddingContractError:
    return EmbeddingContractError(
        f"the index's _meta vector_form is unusable ({problem}); recreate the index with create_index()"
    )


def check_element_type(element_type: str, dims: int, similarity: str) -> None:
    if element_type not in ELEMENT_TYPES:
        raise ConfigError(f"element_type={element_type!r}: choose one of {ELEMENT_TYPES}")
    if element_type == "bit" and dims % 8:
        raise ConfigError(f"element_type='bit' needs dims divisible by 8; the encoder has {dims}")
    if element_type == "byte" and similarity == "max_inner_product":
        raise ConfigError("element_type='byte' keeps one scale for all vectors: use cosine or dot_product with it")


def byte_scale(calibration: Any) -> float:
    """The int8 scale from calibration embeddings: 127 over their largest absolute component."""
    values = np.asarray(calibration, dtype=np.float32)
    if values.ndim != 2 or values.size == 0 or not np.isfinite(values).all():
        raise ConfigError(
            f"calibration must be a non-empty 2-D array of finite embeddings, got shape {values.shape}; pass "
            "some of the texts you will index (or their embeddings)"
        )
    largest = float(np.abs(values).max())
    if largest == 0:
        raise ConfigError("calibration embeddings are all zero; pass real texts or embeddings")
    return 127.0 / largest


@dataclass(frozen=True)
class VectorForm:
    """What a document's vector becomes in the index, and how a query vector is sent."""

    element_type: str = "float"
    scale: float | None = None  # byte only
    rescore_field: str | None = None  # the float copy, None when not kept
    rescore_similarity: str | None = None  # how the float copy is scored when rescoring
    oversample: float = 4.0  # candidates rescored per result asked for

    @classmethod
    def from_contract(cls, stored: Mapping[str, Any]) -> VectorForm:
        """The form an index was created with (indices from before element types were recorded: float)."""
        form = stored.get("vector_form") or {}
        if not isinstance(form, Mapping):
            raise _unusable(f"a {type(form).__name__}, not an object")
        made = cls(
            form.get("element_type", "float"),
            form.get("scale"),
            form.get("rescore_field"),
            form.get("rescore_similarity"),
            form.get("oversample", 4.0),
        )
        problem = made._problem()
        if problem:
            raise _unusable(problem)
        return made

    def unit(self, similarity: Any) -> bool:
        """Whether vectors must be unit length: a dot_product field, searched or kept for rescoring."""
        return "dot_product" in (similarity, self.rescore_similarity)

    def _problem(self) -> str | None:
        if self.element_type not in ELEMENT_TYPES:
            return f"element_type {self.element_type!r}"
        if self.element_type == "byte" and not (isinstance(self.scale, (int, float)) and self.scale > 0):
            return f"byte scale {self.scale!r}"
        if not isinstance(self.oversample, (int, float)) or not self.oversample >= 1:
            return f"oversample {self.oversample!r}"
        if (self.rescore_field is None) != (self.rescore_similarity is None):
            return "a float copy without its similarity, or the reverse"
        return None

    def contract(self) -> dict[str, Any]:
        return {
            "element_type": self.element_type,
            "scale": self.scale,
            "rescore_field": self.rescore_field,
            "rescore_similarity": self.rescore_similarity,
            "oversample": self.oversample,
        }

    def quantize(self, vector: np.ndarray) -> Any:
        """One vector as the index's field takes it: floats, int8 values, or the bits as a hex string."""
        if self.element_type == "byte":
            assert self.scale is not None
            return np.clip(np.rint(vector * self.scale), -128, 127).astype(np.int8).tolist()
        if self.element_type == "bit":
            return np.packbits(vector > 0).tobytes().hex()
        return vector.tolist()

    def fields(self, vector_field: str, vector: np.ndarray) -> dict[str, Any]:
        """A document's vector fields: the indexed one and, if kept, the float copy."""
        out = {vector_field: self.quantize(vector)}
        if self.rescore_field is not None:
            out[self.rescore_field] = vector.tolist()
        return out

    def window(self, k: int, oversample: float | None = None) -> int | None:
        """How many candidates to fetch and rescore for ``k`` results, or None (no float copy: no rescoring)."""
        if self.rescore_field is None or self.element_type == "float":
            return None
        ratio = self.oversample if oversample is None else oversample
        if not ratio >= 1:
            raise ConfigError(f"oversample={oversample!r}: use a number >= 1 (candidates rescored per result)")
        return max(k, min(math.ceil(k * ratio), _MAX_WINDOW))


def float_scores(similarity: str, query: np.ndarray, vectors: np.ndarray) -> np.ndarray:
    """The server's ``_score`` of float vectors for a query, per similarity (as Elasticsearch defines them)."""
    q, v = np.asarray(query, dtype=np.float64), np.asarray(vectors, dtype=np.float64)
    if similarity == "l2_norm":
        return 1.0 / (1.0 + ((v - q) ** 2).sum(axis=1))
    dots = v @ q
    if similarity == "cosine":
        norms = np.linalg.norm(v, axis=1) * np.linalg.norm(q)
        return (1.0 + dots / np.where(norms == 0, 1.0, norms)) / 2.0
    if similarity == "max_inner_product":
        return np.where(dots < 0, 1.0 / (1.0 - np.minimum(dots, 0.0)), dots + 1.0)
    return (1.0 + dots) / 2.0  # dot_product


def mapping(form: VectorForm, dims: int) -> dict[str, Any]:
    """Mapping entries the form adds: the float copy's field, if kept.

    It is indexed ``flat`` (raw vectors, no graph: it is never searched, only read back for rescoring) rather
    than ``index: false``: 9.x then keeps it out of ``_source`` like any indexed vector, and it takes 4 bytes
    a dimension instead of ~15 of JSON (measured on 9.5.4: 7.3 MB against 36 MB for 5,000 x 384)."""
    if form.rescore_field is None:
        return {}
    return {
        form.rescore_field: {
            "type": "dense_vector",
            "dims": dims,
            "index": True,
            "similarity": form.rescore_similarity or "cosine",
            "index_options": {"type": "flat"},
        }
    }
