"""One source for the encode options: every host's parameters are EncodeOptions' fields, by name, default
and help text, so a new option is one field and reaches the encoder, spaCy, scikit-learn, Spark and the CLI."""

from __future__ import annotations

import inspect
from dataclasses import fields

import pytest

from sbert_plugins import OPTIONS, EncodeOptions, SentenceEncoder, option_defaults

DEFAULTS = option_defaults()


def _keyword_defaults(func, skip=()):
    params = inspect.signature(func).parameters.values()
    return {p.name: p.default for p in params if p.name in OPTIONS and p.name not in skip}


def test_options_are_the_fields_of_encode_options():
    assert list(OPTIONS) == [f.name for f in fields(EncodeOptions)]
    assert {f.name: f.default for f in fields(EncodeOptions)} == DEFAULTS
    assert all(option.help for option in OPTIONS.values())


def test_encoder_signature():
    params = inspect.signature(SentenceEncoder.__init__).parameters
    assert list(params)[:2] == ["self", "model"]  # model stays positional
    assert _keyword_defaults(SentenceEncoder.__init__) == DEFAULTS


def test_sklearn_params():
    pytest.importorskip("sklearn")
    from sbert_plugins.sklearn import SBERTTransformer

    params = SBERTTransformer().get_params()
    assert {k: v for k, v in params.items() if k in OPTIONS} == DEFAULTS
    assert set(params) - set(OPTIONS) == {"cache", "include_weights"}
    with pytest.raises(TypeError, match="unexpected keyword"):
        SBERTTransformer(dtpye="float32")


def test_spacy_factory_and_config():
    pytest.importorskip("spacy")
    from sbert_plugins.spacy import DEFAULT_CONFIG, make_sbert_component

    assert {k: v for k, v in DEFAULT_CONFIG.items() if k in OPTIONS} == DEFAULTS
    assert _keyword_defaults(make_sbert_component) == DEFAULTS
    import spacy

    meta = spacy.blank("en").get_factory_meta("sbert")  # what spaCy itself registered for the entry point
    assert {k: v for k, v in meta.default_config.items() if k in OPTIONS} == DEFAULTS


def test_spark_params():
    pytest.importorskip("pyspark")
    from sbert_plugins.spark import SBERTEmbedder
    from sbert_plugins.spark._transformer import OPTION_PARAMS

    embedder = SBERTEmbedder()
    assert sorted(OPTION_PARAMS.values()) == sorted(OPTIONS)
    for param_name, option in OPTION_PARAMS.items():
        param = embedder.getParam(param_name)
        assert embedder.getOrDefault(param) == DEFAULTS[option]
        assert param.doc.startswith(OPTIONS[option].help)


def test_cli_flags():
    from sbert_plugins._cli.main import build_parser

    parser = build_parser()
    encode = parser._subparsers._group_actions[0].choices["encode"]
    flags = {a.dest: a for a in encode._actions if a.dest in OPTIONS}
    assert {name: action.default for name, action in flags.items()} == DEFAULTS
    assert all(flags[name].help.startswith(OPTIONS[name].help) for name in OPTIONS)
