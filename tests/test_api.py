"""The public API (architecture issue): written-out exports that match the docs, errors that pickle
with their data, one options vocabulary with the same defaults and errors in every host."""

from __future__ import annotations

import ast
import inspect
import pickle
import re
import subprocess
import sys
from pathlib import Path

import pytest

import sbert_plugins
from sbert_plugins import ConfigError, EncodeOptions, option_defaults

ROOT = Path(__file__).resolve().parents[1]


def test_all_is_written_out_sorted_and_matches_the_lazy_table():
    tree = ast.parse((ROOT / "sbert_plugins" / "__init__.py").read_text())
    assigned = next(n for n in tree.body if isinstance(n, ast.Assign) and n.targets[0].id == "__all__")
    assert isinstance(assigned.value, ast.List)  # a literal list, not computed
    names = [e.value for e in assigned.value.elts]
    # isort style (ruff RUF022): CONSTANTS, then Classes, then functions, each sorted
    assert names == sorted(names, key=lambda n: (0 if n.isupper() else 1 if n[0].isupper() else 2, n))
    assert set(names) == set(sbert_plugins._LAZY) | {"__version__"}
    type_checking = next(n for n in tree.body if isinstance(n, ast.If))
    imported = {
        a.asname or a.name for node in ast.walk(type_checking) if isinstance(node, ast.ImportFrom) for a in node.names
    }
    assert imported == set(sbert_plugins._LAZY)


def test_exports_match_the_docs_api_list():
    documented = set(re.findall(r"^\| `([A-Za-z_][A-Za-z0-9_]*)` \|", (ROOT / "docs" / "api.md").read_text(), re.M))
    assert documented == set(sbert_plugins.__all__)


def test_every_public_name_resolves_and_import_stays_light():
    for name in sbert_plugins.__all__:
        assert getattr(sbert_plugins, name) is not None
    code = (
        "import sys, sbert_plugins, sbert_plugins.elasticsearch; print(sorted(m for m in "
        "('spacy', 'sklearn', 'elasticsearch', 'pyspark', 'torch', 'transformers', 'pandas') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == "[]", done.stdout + done.stderr


def _error_classes() -> list[type]:
    return [
        getattr(sbert_plugins, n)
        for n in sbert_plugins.__all__
        if inspect.isclass(getattr(sbert_plugins, n)) and issubclass(getattr(sbert_plugins, n), BaseException)
    ]


def _instance(cls: type) -> BaseException:
    samples = {
        "PluginError": ("demo", "sbert_chunkers", "returned list"),
        "MissingExtraError": ("spacy", "spacy"),
        "InputError": ("texts[1] is None", [1], ["is None"]),
        "IngestError": ("2 failed", [sbert_plugins.Failure("a", "bad")], sbert_plugins.IngestReport(indexed=3)),
    }
    return cls(*samples.get(cls.__name__, ("something failed",)))


@pytest.mark.parametrize("cls", _error_classes(), ids=lambda c: c.__name__)
def test_every_error_pickles_with_its_data(cls):
    error = _instance(cls)
    again = pickle.loads(pickle.dumps(error))
    assert type(again) is cls and str(again) == str(error) and again.args == error.args
    assert again.__dict__ == error.__dict__


def test_error_tree_is_documented_in_one_docstring():
    doc = sys.modules["sbert_plugins._base.errors"].__doc__
    for cls in _error_classes():
        assert cls.__name__ in doc
        assert issubclass(cls, (sbert_plugins.SbertPluginsError, Warning))


def test_one_set_of_defaults_for_every_host():
    defaults = option_defaults()
    encoder = inspect.signature(sbert_plugins.SentenceEncoder.__init__).parameters
    assert {k: encoder[k].default for k in defaults if k != "model"} == {
        k: v for k, v in defaults.items() if k != "model"
    }
    assert encoder["model"].default == defaults["model"]
    from sbert_plugins._cli.main import build_parser

    encode = build_parser().parse_args(["encode", "x"])
    assert {k: getattr(encode, k) for k in defaults} == defaults
    pytest.importorskip("sklearn")
    from sbert_plugins.sklearn import SBERTTransformer

    assert {k: v for k, v in SBERTTransformer().get_params().items() if k in defaults} == defaults
    pytest.importorskip("spacy")
    from sbert_plugins.spacy import DEFAULT_CONFIG

    assert {k: DEFAULT_CONFIG[k] for k in defaults} == defaults


def test_every_host_exposes_every_option():
    pytest.importorskip("sklearn")
    pytest.importorskip("spacy")
    from sbert_plugins.sklearn import SBERTTransformer
    from sbert_plugins.spacy import make_sbert_component

    factory = set(inspect.signature(make_sbert_component).parameters)
    assert set(option_defaults()) <= set(SBERTTransformer().get_params()) and set(option_defaults()) <= factory


@pytest.mark.parametrize(
    "option, value, fragment",
    [
        ("dtype", "float8", "dtype='float8'"),
        ("long_texts", "cut", "long_texts='cut'"),
        ("batch_size", 0, "batch_size=0"),
        ("device", "gpu0", "device='gpu0'"),
        ("normalize", "yes", "normalize='yes'"),
    ],
)
def test_the_same_bad_value_gets_the_same_error_everywhere(tiny_model_dir, option, value, fragment):
    messages = []
    for build in _hosts(tiny_model_dir):
        with pytest.raises(ConfigError) as info:
            build(option, value)
        messages.append(str(info.value))
    with pytest.raises(ConfigError) as info:
        EncodeOptions(**{option: value})
    core = str(info.value)
    assert fragment in core and all(m.endswith(core) for m in messages), messages


def _hosts(model_dir):
    def encoder(option, value):
        sbert_plugins.SentenceEncoder(model_dir, **{option: value})

    hosts = [encoder]
    try:
        from sbert_plugins.sklearn import SBERTTransformer

        hosts.append(lambda option, value: SBERTTransformer(model=str(model_dir), **{option: value}).fit(["x"]))
    except sbert_plugins.MissingExtraError:
        pass
    try:
        import spacy

        hosts.append(
            lambda option, value: spacy.blank("en").add_pipe("sbert", config={"model": str(model_dir), option: value})
        )
    except ImportError:
        pass
    return hosts


def test_sklearn_init_is_keyword_only_and_shadows_no_private_method():
    pytest.importorskip("sklearn")
    from sklearn.base import BaseEstimator

    from sbert_plugins.sklearn import SBERTTransformer

    params = inspect.signature(SBERTTransformer.__init__).parameters.values()
    assert all(p.kind is p.KEYWORD_ONLY for p in params if p.name != "self")
    private = {n for n in vars(SBERTTransformer) if n.startswith("_") and not n.startswith("__")}
    assert not private & {n for n in dir(BaseEstimator) if n.startswith("_")}
