"""scikit-learn host: :class:`SBERTTransformer`, texts in, embeddings out.

Follows the estimator contract (scikit-learn's develop guide): a keyword-only
``__init__`` that only stores parameters, validation in ``fit``, fitted attributes
ending in ``_``, and no overriding of ``BaseEstimator``'s private methods. Clones
share loaded weights and a process-wide embedding cache, so GridSearchCV encodes
each distinct text once per model configuration, not once per fold. Uses only the
public ``sbert_plugins`` API.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sbert_plugins import (
    OPTIONS,
    EmbeddingContractError,
    EncodeOptions,
    Encoder,
    embedding_cache,
    require_extra,
    shared_encoder,
    takes_encode_options,
    validate_texts,
)

require_extra("sklearn", "sklearn")
from sklearn.base import BaseEstimator, TransformerMixin  # noqa: E402
from sklearn.utils.validation import check_is_fitted  # noqa: E402

_STRING_REQUIRED = "Iterable over raw text documents expected, string object received."


class SBERTTransformer(TransformerMixin, BaseEstimator):
    """Sentence-BERT embeddings as a scikit-learn transformer.

    The encode parameters (``model``, ``pooling``, ``normalize``, ``batch_size``, ``dtype``,
    ``device``, ``long_texts``, ``chunker``, ``max_seq_length``) have the shared defaults and
    meanings (docs/api.md) and are all grid-searchable. ``cache`` reuses embeddings across
    clones and folds; ``include_weights`` pickles the weights instead of reloading the model
    by name (and checking its fingerprint) on unpickle.
    """

    @takes_encode_options  # get_params() sees every option by name, with the shared default
    def __init__(self, *, cache: bool = True, include_weights: bool = False, **options: Any) -> None:
        unknown = sorted(set(options) - set(OPTIONS))
        if unknown:  # what Python says for an unknown keyword (scikit-learn validates values in fit)
            raise TypeError(f"SBERTTransformer() got unexpected keyword argument(s) {unknown}")
        for name, option in OPTIONS.items():
            setattr(self, name, options.get(name, option.default))
        self.cache = cache
        self.include_weights = include_weights

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        tags.input_tags.one_d_array = True
        tags.input_tags.allow_nan = False
        return tags

    def _options(self) -> EncodeOptions:
        values = {name: getattr(self, name) for name in OPTIONS}
        return EncodeOptions.from_mapping(values, where="SBERTTransformer")

    def _load(self) -> Encoder:
        options = self._options()
        return shared_encoder(options.model, **options.encoder_kwargs())

    def fit(self, X: Any = None, y: Any = None) -> SBERTTransformer:
        """Validate parameters and load the model. ``X``/``y`` are not used (the encoder is
        pre-trained; fine-tuning is ``sbert_plugins.training.fit``)."""
        self.encoder_ = self._load()
        self.model_fingerprint_ = self.encoder_.fingerprint
        self.n_features_out_ = self.encoder_.dimension
        self.pooling_ = self.encoder_.contract()["pooling"]
        self.normalize_ = self.encoder_.normalize
        self.dtype_ = getattr(self.encoder_, "dtype_name", self.dtype)
        return self

    def transform(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "model_fingerprint_")
        if isinstance(X, (str, bytes)):
            raise ValueError(_STRING_REQUIRED)
        encoder = self._encoder()
        texts = validate_texts(X, name="X")
        if not texts:
            return np.zeros((0, self.n_features_out_), dtype=np.float32)

        def encode(batch: list[str]) -> np.ndarray:
            return np.asarray(encoder.encode(batch, batch_size=self.batch_size))

        if not self.cache:
            return encode(texts)
        # everything the vectors depend on: the encoder's whole contract (weights, pooling, dims with truncate_dim,
        # max_seq_length, prompts, dtype, revision) and the long-text policy; a new option lands in the contract
        contract = tuple(sorted((k, repr(v)) for k, v in encoder.contract().items()))
        key = (*contract, self.long_texts, self.chunker)
        return embedding_cache.encode(key, texts, encode)

    def _encoder(self) -> Encoder:
        encoder: Encoder | None = getattr(self, "encoder_", None)
        if encoder is None:  # unpickled without weights: reload by name, check it is the same model
            encoder = self._load()
            if encoder.fingerprint != self.model_fingerprint_:
                raise EmbeddingContractError(
                    f"model {self.model!r} now has fingerprint {encoder.fingerprint}, but this estimator was "
                    f"fitted with {self.model_fingerprint_}; refit it, or pickle with include_weights=True"
                )
            self.encoder_ = encoder
        return encoder

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        check_is_fitted(self, "n_features_out_")
        return np.asarray([f"sbert{i}" for i in range(self.n_features_out_)], dtype=object)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(super().__getstate__())
        if not self.include_weights:
            state.pop("encoder_", None)
        return state
