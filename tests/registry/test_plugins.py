"""The pluggy plugin system: hooks reach every host; broken plugins are named and isolated."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
from support import make_plugin

from sbert_plugins import PluginError, SentenceEncoder, register_plugin, reset_plugin_manager
from sbert_plugins._registry.manager import PluginManager, get_plugin_manager

HAS_DEMO = importlib.util.find_spec("sbert_demo_plugin") is not None
needs_demo = pytest.mark.skipif(not HAS_DEMO, reason="pip install -e examples/third_party_plugin")


def test_pooling_plugin_used_by_the_encoder(plugin, tiny_model_dir):
    plugin(make_plugin("first_token", sbert_pooling_strategies=lambda: {"first": lambda tokens, mask: tokens[:, 0]}))
    first = SentenceEncoder(str(tiny_model_dir), pooling="first", device="cpu")
    cls = SentenceEncoder(str(tiny_model_dir), pooling="cls", device="cpu")
    np.testing.assert_allclose(first.encode(["a dog"]), cls.encode(["a dog"]), atol=1e-6)


def test_model_alias_plugin(plugin, tiny_model_dir):
    plugin(make_plugin("alias", sbert_resolve_model=lambda name: str(tiny_model_dir) if name == "tiny" else None))
    assert SentenceEncoder("tiny", device="cpu").dimension == 32


def test_chunker_plugin(plugin, tiny_model_dir):
    seen = []

    def halves(text, offsets, max_tokens):
        seen.append(len(offsets))
        from sbert_plugins import token_window_chunks

        return token_window_chunks(text, offsets, max_tokens)

    plugin(make_plugin("halves", sbert_chunkers=lambda: {"halves": halves}))
    encoder = SentenceEncoder(str(tiny_model_dir), long_texts="chunk", chunker="halves", device="cpu")
    encoder.encode("the dog runs " * 30)
    assert seen and seen[0] > 32


def test_raising_plugin_is_named_and_others_still_work(plugin, tiny_model_dir):
    def boom():
        raise RuntimeError("kaput")

    plugin(make_plugin("broken_pooling", sbert_pooling_strategies=boom))
    with pytest.warns(
        RuntimeWarning, match="plugin 'broken_pooling' in hook 'sbert_pooling_strategies': raised RuntimeError: kaput"
    ):
        encoder = SentenceEncoder(str(tiny_model_dir), pooling="max", device="cpu")
    assert encoder.encode("a dog").shape == (32,)


def test_wrong_return_type_is_named(plugin):
    plugin(make_plugin("listy", sbert_chunkers=lambda: ["not", "a", "dict"]))
    with pytest.warns(RuntimeWarning, match="plugin 'listy' in hook 'sbert_chunkers': returned list"):
        assert "tokens" in get_plugin_manager().contributions("sbert_chunkers")


def test_bad_hook_signature_refused_with_evidence():
    bad = make_plugin("bad_sig", sbert_resolve_model=lambda name, surprise: None)
    try:
        with pytest.warns(RuntimeWarning), pytest.raises(PluginError) as info:
            register_plugin(bad, "bad_sig")
        assert "bad_sig" in str(info.value) and "surprise" in str(info.value)
    finally:
        reset_plugin_manager()  # its error must not reach later tests


def test_unimportable_entry_point_is_reported_not_fatal(tmp_path, monkeypatch):
    dist = tmp_path / "ghost_plugin-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: ghost-plugin\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[sbert_plugins]\nghost = ghost_module_that_does_not_exist\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()
    manager = PluginManager()
    with pytest.warns(RuntimeWarning, match="plugin 'ghost'.*ghost-plugin 1.0"):
        manager.load_entry_points()
    assert any(e.plugin == "ghost" for e in manager.errors)


def test_cli_lists_plugins_and_errors(capsys):
    from sbert_plugins._cli.main import main

    main(["plugins"])
    out = capsys.readouterr().out
    assert "builtin" in out and "hooks:" in out


@needs_demo
def test_third_party_plugin_seen_by_the_core():
    manager = get_plugin_manager()
    assert "demo" in dict(manager.list_name_plugin())
    assert "sbert-demo-plugin" in manager.sources["demo"]
    assert "mean_max" in manager.contributions("sbert_pooling_strategies")


@needs_demo
@pytest.mark.quality
def test_third_party_plugin_in_all_hosts(minilm, tmp_path):
    spacy = pytest.importorskip("spacy")
    from sbert_plugins.sklearn import SBERTTransformer

    reference = SentenceEncoder("demo-minilm", pooling="mean_max", device="cpu").encode(["A man plays guitar."])
    nlp = spacy.blank("en")
    nlp.add_pipe("sbert", config={"model": "demo-minilm", "pooling": "mean_max", "spans": ["doc"]})
    np.testing.assert_allclose(nlp("A man plays guitar.").vector, reference[0], atol=1e-5)
    est = SBERTTransformer(model="demo-minilm", pooling="mean_max").fit(["x"])
    np.testing.assert_allclose(est.transform(["A man plays guitar."]), reference, atol=1e-5)
    assert est.pooling_ == "mean_max"
    from sbert_plugins._cli.main import main

    assert main(["encode", "A man plays guitar.", "--model", "demo-minilm", "-o", str(tmp_path / "v.npy")]) == 0
    chunker = SentenceEncoder("demo-minilm", long_texts="chunk", chunker="paragraphs", device="cpu")
    assert chunker.encode("first paragraph about guitars.\n\n" + "second paragraph " * 200).shape == (384,)


@needs_demo
@pytest.mark.elasticsearch
def test_third_party_plugin_in_elasticsearch(minilm):
    pytest.importorskip("elasticsearch")
    from support import es_url

    from sbert_plugins.elasticsearch import ElasticsearchStore, connect

    client = connect(es_url())
    encoder = SentenceEncoder("demo-minilm", pooling="mean_max", device="cpu")
    store = ElasticsearchStore("plugin-pooling", encoder, client=client)
    client.indices.delete(index="plugin-pooling", ignore_unavailable=True)
    store.create_index()
    assert store.stored_contract()["pooling"] == "mean_max"
    assert store.ingest([("a", "A man plays guitar."), ("b", "The stock market fell.")]).ok
    assert store.knn("Someone plays music.", k=1)[0].id == "a"
    client.indices.delete(index="plugin-pooling")
