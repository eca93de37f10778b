"""Property test (trust issue): random documents through encoders with a randomly broken tokenizer, policy or
config, and (with a server) indices with a randomly broken contract. Every document is accounted for, and
every failure is an SbertPluginsError, never a raw exception or a panic."""

from __future__ import annotations

import json
import os
import shutil

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import assert_accounted

from sbert_plugins import InMemoryStore, SbertPluginsError, SentenceEncoder

PANICS = "a" * 24 + "c"
texts = st.one_of(
    st.sampled_from(["a dog", "the man plays guitar", PANICS, "the cat " * 40, "", "   ", "\u200b", "a \ud800 b"]),
    st.text(max_size=60),
    st.none(),
    st.integers(),
)


@pytest.fixture(scope="module")
def folders(tiny_model_dir, tmp_path_factory):
    """The tiny model intact, with a panicking tokenizer, and with each of several broken configs."""
    root = tmp_path_factory.mktemp("broken")

    def variant(name, edit):
        folder = root / name
        shutil.copytree(tiny_model_dir, folder)
        edit(folder)
        return folder

    def panic(folder):
        tokenizer = json.loads((folder / "tokenizer.json").read_text())
        tokenizer["pre_tokenizer"] = {"type": "Split", "pattern": {"Regex": "(a+a+)+b"}, "behavior": "Isolated"}
        tokenizer["pre_tokenizer"]["invert"] = False
        (folder / "tokenizer.json").write_text(json.dumps(tokenizer))
        config = json.loads((folder / "tokenizer_config.json").read_text())
        (folder / "tokenizer_config.json").write_text(
            json.dumps({**config, "tokenizer_class": "PreTrainedTokenizerFast"})
        )

    def edit(file, **changes):
        def apply(folder):
            config = json.loads((folder / file).read_text())
            (folder / file).write_text(json.dumps({**config, **changes}))

        return apply

    return {
        "intact": tiny_model_dir,
        "panic": variant("panic", panic),
        "layers": variant("layers", edit("config.json", num_hidden_layers=7)),
        "positions": variant("positions", edit("sentence_bert_config.json", max_seq_length=10**6)),
        "pooling": variant("pooling", edit("1_Pooling/config.json", word_embedding_dimension=-3)),
        "fifo": variant("fifo", lambda f: ((f / "vocab.txt").unlink(), os.mkfifo(f / "vocab.txt"))),
    }


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    kind=st.sampled_from(["intact", "panic", "layers", "positions", "pooling", "fifo"]),
    policy=st.sampled_from(["warn", "error", "chunk"]),
    batch=st.lists(texts, max_size=8),
)
def test_every_document_is_accounted_for_whatever_is_broken(folders, kind, policy, batch):
    try:
        encoder = SentenceEncoder(folders[kind], device="cpu", dtype="float32", long_texts=policy)
    except SbertPluginsError:
        assert kind in ("layers", "positions", "pooling", "fifo")  # refused at load, with a named error
        return
    assert kind in ("intact", "panic")
    docs = [{"id": f"d{i}", "text": text} for i, text in enumerate(batch)]
    report = InMemoryStore(encoder).ingest(docs)
    assert_accounted(report, [d["id"] for d in docs])
    assert all(f.reason and f.id in {d["id"] for d in docs} for f in report.failures)


@pytest.mark.elasticsearch
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    meta=st.one_of(
        st.none(),
        st.text(max_size=5),
        st.lists(st.integers(), max_size=2),
        st.fixed_dictionaries({"text_field": st.sampled_from(["text", "tenant", 3])}),
        st.fixed_dictionaries({"vector_field": st.sampled_from(["embedding", "other", None])}),
        st.fixed_dictionaries({"dims": st.sampled_from([32, 16, "32"])}),
    ),
    batch=st.lists(texts, max_size=6),
)
def test_a_randomly_broken_contract_refuses_before_writing_or_accounts_for_all(
    tiny_encoder, es_client, index_name, meta, batch
):
    from sbert_plugins.elasticsearch import ElasticsearchStore
    from sbert_plugins.elasticsearch._bodies import META_KEY

    store = ElasticsearchStore(index_name, tiny_encoder, client=es_client)
    store.create_index(exist_ok=True, metadata_mapping={"tenant": {"type": "keyword"}})
    contract = {
        k: v for k, v in ElasticsearchStore(index_name, tiny_encoder, client=es_client).stored_contract().items()
    }
    if meta is not None:
        value = (
            {**{k: v for k, v in contract.items() if not k.startswith("_")}, **meta} if isinstance(meta, dict) else meta
        )
        es_client.indices.put_mapping(index=index_name, meta={META_KEY: value})
    before = es_client.count(index=index_name)["count"]
    docs = [{"id": f"d{i}", "text": text} for i, text in enumerate(batch)]
    try:
        report = store.ingest(docs)
    except SbertPluginsError:
        assert es_client.count(index=index_name)["count"] == before  # refused before anything was written
    else:
        assert_accounted(report, [d["id"] for d in docs])
    finally:
        es_client.indices.delete(index=index_name, ignore_unavailable=True)
