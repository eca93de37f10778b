"""Hostile model folders (issue: reliability and security): nothing in a folder runs, nothing prompts,
every refusal is a ModelLoadError naming the file; a folder in the working directory never replaces
a named model."""

from __future__ import annotations

import json
import os
import pickle
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sbert_plugins import ModelLoadError, SentenceEncoder


class _Boom:
    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.fixture()
def evil_folder(tiny_model_dir, tmp_path) -> tuple[Path, Path]:
    """A copy of the tiny model whose config maps AutoModel to code in the folder; the code leaves a marker."""
    folder, marker = tmp_path / "evil", tmp_path / "PWNED"
    shutil.copytree(tiny_model_dir, folder)
    config = json.loads((folder / "config.json").read_text())
    config["auto_map"] = {"AutoModel": "modeling_evil.EvilModel", "AutoConfig": "modeling_evil.EvilConfig"}
    (folder / "config.json").write_text(json.dumps(config))
    (folder / "modeling_evil.py").write_text(f"open({str(marker)!r}, 'w').write('ran')\n")
    return folder, marker


def test_remote_code_is_refused_not_run(evil_folder):
    folder, marker = evil_folder
    with pytest.raises(ModelLoadError, match=r"config\.json maps model classes to code.*modeling_evil\.py"):
        SentenceEncoder(folder, device="cpu")
    assert not marker.exists()


def test_cli_never_prompts_even_when_answered_yes(evil_folder):
    folder, marker = evil_folder
    done = subprocess.run(
        [sys.executable, "-m", "sbert_plugins", "encode", "--model", str(folder), "hi"],
        input="y\n" * 50,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "never runs a model folder's code" in done.stderr and "Traceback" not in done.stderr
    assert done.stdout == "" and not marker.exists()


def test_spacy_pipeline_with_a_tampered_bundled_model(evil_folder, tiny_model_dir, tmp_path):
    spacy = pytest.importorskip("spacy")
    folder, marker = evil_folder
    nlp = spacy.blank("en")
    nlp.add_pipe("sbert", config={"model": str(tiny_model_dir), "bundle_model": False})
    pipe = tmp_path / "pipe"
    nlp.to_disk(pipe)
    shutil.copytree(folder, pipe / "sbert" / "model")
    (pipe / "sbert" / "cfg.json").write_text(json.dumps({"model": "x", "bundled": True}))
    loaded = spacy.load(pipe)
    with pytest.raises(ModelLoadError, match="never runs a model folder's code"):
        loaded("a text")
    assert not marker.exists()


def test_sklearn_pickle_with_a_tampered_model(evil_folder, tiny_model_dir):
    pytest.importorskip("sklearn")
    from sbert_plugins.sklearn import SBERTTransformer

    folder, marker = evil_folder
    est = SBERTTransformer(model=str(tiny_model_dir)).fit(["a dog"])
    state = pickle.loads(pickle.dumps(est))
    state.model = str(folder)  # what a tampered pickle would carry
    with pytest.raises(ModelLoadError, match="never runs a model folder's code"):
        state.transform(["a dog"])
    assert not marker.exists()


def test_malicious_pickled_weights_are_refused_with_the_fix(tiny_model_dir, tmp_path):
    torch = pytest.importorskip("torch")
    folder, marker = tmp_path / "pickled", tmp_path / "PWNED2"
    shutil.copytree(tiny_model_dir, folder)
    (folder / "model.safetensors").unlink()
    torch.save({"weights": _Boom(str(marker))}, folder / "pytorch_model.bin")
    with pytest.raises(ModelLoadError, match=r"pickle file that holds more than tensors.*model\.safetensors"):
        SentenceEncoder(folder, device="cpu")
    assert not marker.exists()


def test_modules_json_cannot_point_outside_the_folder(tiny_model_dir, tmp_path):
    folder = tmp_path / "escape"
    shutil.copytree(tiny_model_dir, folder)
    spec = json.loads((folder / "modules.json").read_text())
    spec[1]["path"] = "../../etc"
    (folder / "modules.json").write_text(json.dumps(spec))
    with pytest.raises(ModelLoadError, match="points outside the model folder"):
        SentenceEncoder(folder, device="cpu")


@pytest.mark.quality
def test_working_directory_cannot_swap_a_named_model(minilm, tiny_model_dir, tmp_path, monkeypatch):
    shutil.copytree(tiny_model_dir, tmp_path / "all-MiniLM-L6-v2")
    monkeypatch.chdir(tmp_path)
    with pytest.warns(UserWarning, match=r"both a model name and a folder.*pass './all-MiniLM-L6-v2'"):
        named = SentenceEncoder("all-MiniLM-L6-v2", device="cpu", dtype="float32")
    assert named.dimension == 384  # the packaged model, not the 32-dim folder
    assert SentenceEncoder("./all-MiniLM-L6-v2", device="cpu").dimension == 32
    assert SentenceEncoder(Path("all-MiniLM-L6-v2"), device="cpu").dimension == 32


def test_cli_default_model_ignores_a_folder_in_the_working_directory(minilm, tiny_model_dir, tmp_path):
    shutil.copytree(tiny_model_dir, tmp_path / "all-MiniLM-L6-v2")
    done = subprocess.run(
        [sys.executable, "-m", "sbert_plugins", "encode", "hi", "--dtype", "float32"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert len(json.loads(done.stdout)["embedding"]) == 384
    assert "both a model name and a folder" in done.stderr


def test_unknown_relative_folder_still_loads(tiny_model_dir, tmp_path, monkeypatch):
    shutil.copytree(tiny_model_dir, tmp_path / "models" / "mine")
    monkeypatch.chdir(tmp_path)
    assert SentenceEncoder("models/mine", device="cpu").dimension == 32


# -- round two: folders that would hang a load or break every encode (trust issue, items 2-4) -----------
def _copy(tiny_model_dir, tmp_path, name="m"):
    folder = tmp_path / name
    shutil.copytree(tiny_model_dir, folder)
    return folder


def _edit(path, **changes):
    config = json.loads(path.read_text())
    config.update(changes)
    path.write_text(json.dumps(config))


def test_a_tokenizer_larger_than_the_embedding_table_is_refused_at_load(tiny_model_dir, tmp_path):
    folder = _copy(tiny_model_dir, tmp_path)
    (folder / "tokenizer.json").unlink()  # falls back to vocab.txt ...
    words = [line for line in (folder / "vocab.txt").read_text().splitlines() if line]
    (folder / "vocab.txt").write_text("\n".join(words + [f"extra{i}" for i in range(60)]) + "\n")
    _edit(folder / "config.json", vocab_size=len(words))  # ... which no longer fits the model's table
    with pytest.raises(ModelLoadError, match=r"tokenizer has \d+ tokens .* embedding table has \d+ rows"):
        SentenceEncoder(folder, device="cpu")


@pytest.mark.parametrize("kind", ["fifo", "outside_link"])
def test_fifos_and_links_leaving_the_folder_are_refused(tiny_model_dir, tmp_path, kind):
    folder = _copy(tiny_model_dir, tmp_path)
    target = folder / "tokenizer.json"
    if kind == "fifo":
        target.unlink()
        os.mkfifo(target)  # reading it would block forever
        match = "not a regular file"
    else:
        outside = tmp_path / "elsewhere.safetensors"
        shutil.move(folder / "model.safetensors", outside)
        (folder / "model.safetensors").symlink_to(outside)
        match = "outside the model folder"
    with pytest.raises(ModelLoadError, match=match):
        SentenceEncoder(folder, device="cpu")


def test_links_inside_the_folder_and_into_a_hub_cache_blobs_folder_load(tiny_model_dir, tmp_path):
    snapshot = tmp_path / "models--org--tiny" / "snapshots" / ("0" * 40)
    shutil.copytree(tiny_model_dir, snapshot)
    blobs = tmp_path / "models--org--tiny" / "blobs"
    blobs.mkdir()
    shutil.move(snapshot / "model.safetensors", blobs / "abc123")
    (snapshot / "model.safetensors").symlink_to(Path("../../blobs/abc123"))
    assert SentenceEncoder(snapshot, device="cpu", dtype="float32").encode("a dog").shape == (32,)


@pytest.mark.parametrize(
    ("file", "changes", "match"),
    [
        ("config.json", {"num_hidden_layers": 10**6}, "num_hidden_layers=1000000 is not an int between"),
        ("config.json", {"num_hidden_layers": 3}, "num_hidden_layers=3, but model.safetensors holds 2 layers"),
        ("config.json", {"hidden_size": "32"}, "hidden_size='32' is not an int"),
        ("config.json", {"vocab_size": 10**9}, "vocab_size=1000000000"),
        ("sentence_bert_config.json", {"max_seq_length": 10**6}, "max_seq_length=1000000 exceeds the model's 64"),
        ("sentence_bert_config.json", {"max_seq_length": -5}, "max_seq_length=-5 is not an int >= 2"),
        ("sentence_bert_config.json", {"max_seq_length": "128"}, "max_seq_length='128' is not an int"),
        ("1_Pooling/config.json", {"word_embedding_dimension": 10**9}, "positive integer 'word_embedding_dimension'"),
        ("1_Pooling/config.json", {"word_embedding_dimension": -32}, "positive integer 'word_embedding_dimension'"),
        ("1_Pooling/config.json", {"word_embedding_dimension": 16}, "Pooling takes vectors of 16 dims, but the module"),
    ],
)
def test_absurd_or_inconsistent_configs_are_refused_before_building(tiny_model_dir, tmp_path, file, changes, match):
    folder = _copy(tiny_model_dir, tmp_path)
    _edit(folder / file, **changes)
    start = time.perf_counter()
    with pytest.raises(ModelLoadError, match=match):
        SentenceEncoder(folder, device="cpu")
    assert time.perf_counter() - start < 60  # refused, not built


def test_an_option_over_the_position_embeddings_is_a_config_error(tiny_model_dir):
    from sbert_plugins import ConfigError

    with pytest.raises(ConfigError, match="max_seq_length=1000 exceeds the 64 position embeddings"):
        SentenceEncoder(tiny_model_dir, device="cpu", max_seq_length=1000)


def test_fingerprint_ignores_unused_files_and_is_bounded_on_huge_ones(tiny_model_dir, tmp_path):
    folder = _copy(tiny_model_dir, tmp_path)
    before = SentenceEncoder(folder, device="cpu", dtype="float32").fingerprint
    (folder / "onnx").mkdir()
    (folder / "onnx" / "model.onnx").write_bytes(b"\0" * 1000)  # a folder modules.json does not name
    (folder / "train_script.py").write_text("print('never run')\n")
    (folder / "pytorch_model.bin").write_bytes(b"other tools' weights")  # a Hub cache may gain other formats
    (folder / "tf_model.h5").write_bytes(b"not read")
    assert SentenceEncoder(folder, device="cpu", dtype="float32").fingerprint == before
    with open(folder / "huge.txt", "wb") as handle:  # 200 GB, sparse: nothing is written to disk
        handle.truncate(200 * 1024**3)
    start = time.perf_counter()
    after = SentenceEncoder(folder, device="cpu", dtype="float32").fingerprint
    assert after != before and time.perf_counter() - start < 30
