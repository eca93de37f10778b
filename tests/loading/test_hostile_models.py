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


def test_spacy_pipeline_with_a_tampered_bundled_model(evil_folder, tmp_path):
    spacy = pytest.importorskip("spacy")
    folder, marker = evil_folder
    nlp = spacy.blank("en")
    nlp.add_pipe("sbert", config={"model": str(folder.parent / "evil"), "bundle_model": False})
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
