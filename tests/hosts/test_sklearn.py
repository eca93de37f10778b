"""SBERTTransformer against the scikit-learn contract, written by hand
(parametrize_with_checks skips text estimators)."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

sklearn = pytest.importorskip("sklearn", reason="scikit-learn extra not installed")
pd = pytest.importorskip("pandas")
import joblib  # noqa: E402
from sklearn.base import clone  # noqa: E402
from sklearn.compose import ColumnTransformer  # noqa: E402
from sklearn.exceptions import NotFittedError  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402

from sbert_plugins import ConfigError, EmbeddingContractError, InputError  # noqa: E402
from sbert_plugins import embedding_cache as DEFAULT_CACHE  # noqa: E402
from sbert_plugins.sklearn import SBERTTransformer  # noqa: E402

TEXTS = [
    "the man plays guitar",
    "a dog runs",
    "the cat is happy",
    "red car",
    "a big blue book",
    "the woman reads",
    "the child eats food",
    "small green car",
]
LABELS = [1, 0, 0, 1, 1, 0, 0, 1]


@pytest.fixture()
def est(tiny_model_dir):
    return SBERTTransformer(model=str(tiny_model_dir))


def test_init_only_stores_params(tiny_model_dir):
    t = SBERTTransformer(model="does-not-exist", batch_size=-5, dtype="nope")
    assert t.get_params()["batch_size"] == -5  # no validation before fit
    with pytest.raises(ConfigError, match="batch_size=-5"):
        t.fit(TEXTS)


def test_get_set_params_and_clone_round_trip(est):
    params = est.get_params()
    assert set(params) >= {"model", "pooling", "normalize", "batch_size", "dtype"}
    est.set_params(pooling="max", batch_size=4)
    twin = clone(est)
    assert twin.get_params() == est.get_params() and not hasattr(twin, "encoder_")


def test_not_fitted(est):
    with pytest.raises(NotFittedError):
        est.transform(TEXTS)


def test_fitted_attributes_and_feature_names(est):
    out = est.fit(TEXTS).transform(TEXTS)
    assert out.shape == (8, 32) and est.n_features_out_ == 32
    assert est.model_fingerprint_ and est.pooling_ == "mean"
    assert list(est.get_feature_names_out()[:2]) == ["sbert0", "sbert1"]


def test_tags_declare_string_input(est):
    tags = est.__sklearn_tags__()
    assert tags.input_tags.string and not tags.input_tags.two_d_array


@pytest.mark.parametrize(
    "make",
    [
        list,
        np.array,
        lambda t: np.array(t).reshape(-1, 1),
        pd.Series,
        lambda t: pd.DataFrame({"text": t}),
    ],
)
def test_accepted_containers(est, make):
    expected = est.fit(TEXTS).transform(TEXTS)
    np.testing.assert_allclose(est.transform(make(TEXTS)), expected, atol=1e-6)


def test_bare_string_rejected_with_sklearn_wording(est):
    with pytest.raises(ValueError, match="Iterable over raw text documents expected, string object received"):
        est.fit(TEXTS).transform("the man plays guitar")


@pytest.mark.parametrize("missing", [None, np.nan])
def test_missing_rows_are_named(est, missing):
    with pytest.raises(InputError, match=r"X\[1\] is (None|nan)"):
        est.fit(TEXTS).transform(pd.Series(["a dog", missing]))


def test_two_column_dataframe_refused(est):
    with pytest.raises(InputError, match="pass one text column"):
        est.fit(TEXTS).transform(pd.DataFrame({"a": TEXTS, "b": TEXTS}))


def test_set_output_pandas(est):
    est.set_output(transform="pandas")
    frame = est.fit(TEXTS).transform(pd.Series(TEXTS, index=range(10, 18)))
    assert list(frame.columns[:2]) == ["sbert0", "sbert1"] and list(frame.index) == list(range(10, 18))


def test_pickle_without_weights_reloads_by_name(est, tmp_path):
    est.fit(TEXTS)
    blob = pickle.dumps(est)
    assert len(blob) < 10_000  # no weights inside
    again = pickle.loads(blob)
    np.testing.assert_allclose(again.transform(TEXTS), est.transform(TEXTS), atol=1e-6)
    joblib.dump(est, tmp_path / "e.joblib")
    np.testing.assert_allclose(joblib.load(tmp_path / "e.joblib").transform(TEXTS), est.transform(TEXTS), atol=1e-6)


def test_pickle_with_weights(est):
    est.set_params(include_weights=True).fit(TEXTS)
    blob = pickle.dumps(est)
    assert len(blob) > 50_000
    np.testing.assert_allclose(pickle.loads(blob).transform(TEXTS), est.transform(TEXTS), atol=1e-6)


def test_unpickle_refuses_changed_model(est):
    est.fit(TEXTS)
    state = pickle.loads(pickle.dumps(est))
    state.model_fingerprint_ = "0000000000000000"
    with pytest.raises(EmbeddingContractError, match="refit it"):
        state.transform(TEXTS)


def test_pipeline_and_column_transformer(est):
    pipe = Pipeline([("sbert", est), ("clf", LogisticRegression())]).fit(TEXTS, LABELS)
    assert pipe.predict(TEXTS).shape == (8,)
    frame = pd.DataFrame({"text": TEXTS, "n": range(8)})
    ct = ColumnTransformer([("sbert", clone(est), "text"), ("num", "passthrough", ["n"])])
    assert ct.fit_transform(frame).shape == (8, 33)


def test_grid_search_encodes_each_text_once(est):
    DEFAULT_CACHE.clear()
    pipe = Pipeline([("sbert", est), ("clf", LogisticRegression())])
    grid = GridSearchCV(pipe, {"clf__C": [0.1, 1.0, 10.0], "sbert__pooling": ["mean", "max"]}, cv=2)
    grid.fit(TEXTS, LABELS)
    # 2 poolings x 8 distinct texts, however many folds and C values
    assert DEFAULT_CACHE.misses == 16 and DEFAULT_CACHE.hits > 16
    assert grid.best_params_["sbert__pooling"] in ("mean", "max")


def test_cache_off_gives_same_vectors(est):
    cached = est.fit(TEXTS).transform(TEXTS)
    np.testing.assert_allclose(clone(est).set_params(cache=False).fit(TEXTS).transform(TEXTS), cached, atol=1e-6)


def test_empty_input(est):
    assert est.fit(TEXTS).transform([]).shape == (0, 32)


def test_the_embedding_cache_keys_on_every_option_the_vectors_depend_on(tiny_model_dir):
    from sbert_plugins.sklearn import SBERTTransformer

    short = SBERTTransformer(model=str(tiny_model_dir), device="cpu", truncate_dim=2).fit()
    assert short.transform(["x y"]).shape == (1, 2)
    full = SBERTTransformer(model=str(tiny_model_dir), device="cpu").fit()
    assert full.transform(["x y"]).shape == (1, 32) == (1, full.n_features_out_)  # not the 2-dim cached rows
