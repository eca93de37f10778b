"""The store's connection, its index and the embedding contract kept in the index's ``_meta``."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from sbert_plugins import (
    ConfigError,
    EmbeddingContractError,
    Encoder,
    VectorStoreError,
    document_prompt_name,
    shared_encoder,
)

from . import _bodies as bodies
from ._client import connect, describe, es_errors
from ._vectors import VectorForm, byte_scale, check_element_type, float_copy_field


class IndexOps:
    """Connection, index creation, and the contract every read and write checks first."""

    def __init__(
        self,
        index: str,
        encoder: Encoder | None = None,
        *,
        client: Any = None,
        url: str | list[str] | None = None,
        api_key: str | tuple[str, str] | None = None,
        basic_auth: tuple[str, str] | None = None,
        ca_certs: str | os.PathLike[str] | None = None,
        verify_certs: bool | None = None,
        text_field: str = "text",
        vector_field: str = "embedding",
        batch_size: int | None = None,
        **client_options: Any,
    ) -> None:
        self.index = index
        self.encoder: Encoder = encoder if encoder is not None else shared_encoder()
        self.text_field, self.vector_field, self.batch_size = text_field, vector_field, batch_size
        if client is None:
            client = connect(
                url,
                api_key=api_key,
                basic_auth=basic_auth,
                ca_certs=ca_certs,
                verify_certs=verify_certs,
                **client_options,
            )
        self.client = client
        self.where = describe(client)

    def __repr__(self) -> str:  # never shows credentials
        return f"ElasticsearchStore(index={self.index!r}, at={self.where!r}, model={self.encoder.name!r})"

    def _errors(self, what: str) -> Any:
        return es_errors(f"{what} ({self.index!r})", self.where)

    def create_index(
        self,
        *,
        similarity: str | None = None,
        index_type: str = "auto",
        m: int | None = None,
        ef_construction: int | None = None,
        oversample: float | None = None,
        metadata_mapping: Mapping[str, Any] | None = None,
        shards: int = 1,
        replicas: int = 0,
        name: str | None = None,
        exist_ok: bool = False,
        element_type: str = "float",
        calibration: Any = None,
        keep_float: bool = True,
        rescore_oversample: float = 4.0,
    ) -> str:
        """Create the index from the encoder: dims, similarity, index options, contract in ``_meta``.

        ``index_type="auto"`` takes the server's default for the dims (9.x: ``bbq_hnsw`` from 384
        dims, ``int8_hnsw`` below; 8.x: ``int8_hnsw``); the effective options are read back and
        recorded in the contract.

        ``element_type="byte"`` stores int8 vectors (4x smaller; ``calibration``: some of the texts to be
        indexed, or embeddings, give the scale) and ``"bit"`` one sign bit per dimension (32x smaller,
        Hamming distance). With ``keep_float`` (default) the float vectors are kept unindexed beside them and
        every kNN query rescores its top ``k * rescore_oversample`` candidates with them (see
        ``sbert_plugins.elasticsearch._vectors``).
        """
        normalize = self.encoder.normalize
        model_similarity = getattr(self.encoder, "similarity_fn_name", "cosine")
        similarity = bodies.check_similarity(
            similarity or bodies.default_similarity(model_similarity, normalize), normalize
        )
        form = self._vector_form(element_type, calibration, keep_float, rescore_oversample, similarity)
        if element_type == "bit":
            similarity = "l2_norm"  # Hamming distance: the one similarity bit vectors have
        options = bodies.index_options(index_type, m, ef_construction, oversample)
        body = bodies.index_body(
            self.encoder.contract(),
            similarity=similarity,
            options=options,
            text_field=self.text_field,
            vector_field=self.vector_field,
            metadata_mapping=metadata_mapping,
            shards=shards,
            replicas=replicas,
            form=form,
        )
        name = name or self.index
        with self._errors("creating the index"):
            created = not self.client.indices.exists(index=name) and self._create(name, body)
            if not created:  # it existed, or another process created it between our check and our create
                if not exist_ok:
                    raise VectorStoreError(
                        f"index {name!r} exists; pass exist_ok=True to reuse it (its contract is "
                        "checked) or delete it first"
                    )
                self.check_contract(name)
                return name
            self._record_index_options(name, body["mappings"]["_meta"][bodies.META_KEY])
        return name

    def _vector_form(
        self, element_type: str, calibration: Any, keep_float: bool, oversample: float, similarity: str
    ) -> VectorForm:
        dims = int(self.encoder.contract()["dims"])
        check_element_type(element_type, dims, similarity)
        if not oversample >= 1:
            raise ConfigError(f"rescore_oversample={oversample!r}: use a number >= 1")
        scale = None
        if element_type == "byte":
            if calibration is None:
                raise ConfigError(
                    "element_type='byte' needs calibration=: some of the texts you will index (or their "
                    "embeddings); the int8 scale is taken from them"
                )
            if len(calibration) and all(isinstance(t, str) for t in calibration):  # encoded as ingest encodes
                calibration = self.encoder.encode(
                    list(calibration),
                    normalize=similarity == "dot_product",  # as ingest normalises (searched or rescored)
                    prompt_name=document_prompt_name(self.encoder.prompts),
                )
            scale = byte_scale(calibration)
        keep = keep_float and element_type != "float"
        field = float_copy_field(self.vector_field) if keep else None
        return VectorForm(element_type, scale, field, similarity if keep else None, float(oversample))

    def _create(self, name: str, body: Mapping[str, Any]) -> bool:
        """Create the index; False if it already exists (a concurrent create_index won the race)."""
        from elasticsearch import BadRequestError

        try:
            self.client.indices.create(index=name, settings=body["settings"], mappings=body["mappings"])
        except BadRequestError as exc:
            error = exc.body.get("error") if isinstance(exc.body, dict) else None
            if isinstance(error, dict) and error.get("type") == "resource_already_exists_exception":
                return False
            raise
        return True

    def _record_index_options(self, name: str, meta: dict[str, Any]) -> None:
        field = self._vector_mapping(name)
        meta["index_options"] = dict(field.get("index_options") or {"type": "server default"})
        self.client.indices.put_mapping(index=name, meta={bodies.META_KEY: meta})

    def _mappings(self, index: str) -> list[dict[str, Any]]:
        from elasticsearch import NotFoundError

        try:
            with self._errors("reading the mapping"):
                return [m["mappings"] for m in self.client.indices.get_mapping(index=index).body.values()]
        except VectorStoreError as exc:
            if isinstance(exc.__cause__, NotFoundError):
                raise VectorStoreError(f"index {index!r} does not exist; call create_index() first") from None
            raise

    def _vector_mapping(self, index: str, field: str | None = None) -> dict[str, Any]:
        properties = self._mappings(index)[0].get("properties", {})
        return dict(properties.get(field or self.vector_field) or {})

    def stored_contract(self, index: str | None = None) -> dict[str, Any]:
        """The contract in the index's ``_meta``, checked against the live dense_vector mapping."""
        index = index or self.index
        mappings = self._mappings(index)
        metas = [m.get("_meta", {}).get(bodies.META_KEY) for m in mappings]
        if not metas or any(meta is None for meta in metas):
            raise EmbeddingContractError(
                f"index {index!r} was not created by sbert-plugins (no embedding contract "
                "in its _meta); create it with create_index()"
            )
        properties = mappings[0].get("properties", {})
        problems = bodies.contract_shape_problems(metas[0], properties, self.text_field, self.vector_field)
        if problems:
            raise EmbeddingContractError(
                f"index {index!r} has an unusable embedding contract (" + "; ".join(problems) + "); "
                "recreate the index with create_index(), or open it with the fields it was created with"
            )
        stored = dict(metas[0])
        problems = bodies.mapping_mismatch(stored, properties.get(stored["vector_field"]))
        if problems:
            raise EmbeddingContractError(
                f"index {index!r}: its mapping and its _meta contract disagree ("
                + "; ".join(problems)
                + "); recreate the index with create_index()"
            )
        stored["_properties"] = properties
        return stored

    def check_contract(self, index: str | None = None) -> dict[str, Any]:
        """Refuse to read or write an index whose vectors come from another model/config."""
        stored = self.stored_contract(index)
        problems = bodies.contract_mismatch(stored, self.encoder.contract())
        if problems:
            raise EmbeddingContractError(
                f"index {index or self.index!r} does not match the encoder {self.encoder.name!r}: "
                + "; ".join(problems)
                + ". Use the model it was built with, or re-embed with reembed()."
            )
        return stored

    def refresh(self, index: str | None = None) -> None:
        """Make everything written so far searchable now (otherwise: within the refresh interval)."""
        with self._errors("refreshing"):
            self.client.indices.refresh(index=index or self.index)
