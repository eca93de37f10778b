"""scikit-learn host: :class:`SBERTTransformer`, texts in, embeddings out.

Follows the estimator contract: ``__init__`` only stores parameters, ``fit``
validates and loads, fitted attributes end in ``_``. Clones share loaded
weights and a process-wide embedding cache, so GridSearchCV encodes each
distinct text once per (model, pooling, normalize, dtype), not once per fold.
"""
from __future__ import annotations

from typing import Any, List, Optional

import numpy as np

from ._errors import ConfigError, EmbeddingContractError, InputError, require

_sk = require("sklearn", "sklearn")
from sklearn.base import BaseEstimator, TransformerMixin  # noqa: E402
from sklearn.utils.validation import check_is_fitted  # noqa: E402

_STRING_REQUIRED = "Iterable over raw text documents expected, string object received."


def _column(X: Any) -> List[Any]:
    """One text column from list / ndarray / Series / one-column DataFrame."""
    if isinstance(X, (str, bytes)):
        raise ValueError(_STRING_REQUIRED)
    if hasattr(X, "columns") and hasattr(X, "iloc"):  # DataFrame
        if X.shape[1] != 1:
            raise InputError(f"got a DataFrame with {X.shape[1]} columns {list(X.columns)[:5]}; pass one "
                             "text column, e.g. ColumnTransformer([('sbert', SBERTTransformer(), 'text')])")
        return X.iloc[:, 0].tolist()
    if isinstance(X, np.ndarray):
        if X.ndim == 2 and X.shape[1] == 1:
            X = X[:, 0]
        if X.ndim != 1:
            raise InputError(f"expected a 1-D array of texts (or one column), got shape {X.shape}")
        return X.tolist()
    if hasattr(X, "tolist"):  # Series
        return X.tolist()
    return list(X)


class SBERTTransformer(TransformerMixin, BaseEstimator):
    """Sentence-BERT embeddings as a scikit-learn transformer.

    Parameters (all grid-searchable): ``model`` (name or folder), ``pooling``
    (None = the model's own), ``normalize`` (None = the model's own),
    ``batch_size``, ``dtype`` ('float32' or 'bfloat16'), ``device``,
    ``long_texts`` ('warn', 'error', 'chunk'), ``cache`` (reuse embeddings
    across clones/folds), ``include_weights`` (pickle the weights instead of
    reloading the model by name on unpickle).
    """

    def __init__(self, model: str = "all-MiniLM-L6-v2", pooling: Optional[str] = None,
                 normalize: Optional[bool] = None, batch_size: int = 32, dtype: str = "float32",
                 device: Optional[str] = "cpu", long_texts: str = "warn", cache: bool = True,
                 include_weights: bool = False) -> None:
        self.model = model
        self.pooling = pooling
        self.normalize = normalize
        self.batch_size = batch_size
        self.dtype = dtype
        self.device = device
        self.long_texts = long_texts
        self.cache = cache
        self.include_weights = include_weights

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        tags.input_tags.one_d_array = True
        tags.input_tags.allow_nan = False
        return tags

    def _validate_params(self) -> None:
        from ._encoder import check_dtype, check_long_texts

        if not isinstance(self.batch_size, (int, np.integer)) or self.batch_size < 1:
            raise ConfigError(f"batch_size={self.batch_size!r}; use a positive int such as 32")
        if self.normalize not in (None, True, False):
            raise ConfigError(f"normalize={self.normalize!r}; use True, False or None (model default)")
        check_long_texts(self.long_texts)
        check_dtype(self.dtype)

    def _load(self):
        from ._loading import shared_encoder

        return shared_encoder(self.model, pooling=self.pooling, normalize=self.normalize,
                              dtype=self.dtype, device=self.device, long_texts=self.long_texts)

    def fit(self, X: Any = None, y: Any = None) -> "SBERTTransformer":
        """Validate parameters and load the model. ``X``/``y`` are not used yet
        (fine-tuning on pairs would go here: see docs/training.md)."""
        self._validate_params()
        self.encoder_ = self._load()
        self.model_fingerprint_ = self.encoder_.fingerprint
        self.n_features_out_ = self.encoder_.dimension
        self.pooling_ = "+".join(self.encoder_.pooling.modes)
        self.normalize_ = self.encoder_.normalize
        return self

    def transform(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "model_fingerprint_")
        encoder = self._encoder()
        texts = _column(X)
        from ._validation import validate_texts

        texts = validate_texts(texts, name="X")
        if not texts:
            return np.zeros((0, self.n_features_out_), dtype=np.float32)
        encode = lambda batch: encoder.encode(batch, batch_size=self.batch_size)  # noqa: E731
        if not self.cache:
            return encode(texts)
        from ._cache import DEFAULT_CACHE

        key = (self.model_fingerprint_, self.pooling_, self.normalize_, self.dtype, self.long_texts)
        return DEFAULT_CACHE.encode(key, texts, encode)

    def _encoder(self):
        encoder = getattr(self, "encoder_", None)
        if encoder is None:  # unpickled without weights: reload by name, check it is the same model
            encoder = self._load()
            if encoder.fingerprint != self.model_fingerprint_:
                raise EmbeddingContractError(
                    f"model {self.model!r} now has fingerprint {encoder.fingerprint}, but this estimator "
                    f"was fitted with {self.model_fingerprint_}; refit it, or pickle with include_weights=True")
            self.encoder_ = encoder
        return encoder

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        check_is_fitted(self, "n_features_out_")
        return np.asarray([f"sbert{i}" for i in range(self.n_features_out_)], dtype=object)

    def __getstate__(self) -> dict:
        state = dict(super().__getstate__())
        if not self.include_weights:
            state.pop("encoder_", None)
        return state
