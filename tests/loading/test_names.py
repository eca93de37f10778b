"""Model names and paths -> a folder (the rule in docs/plugins.md): paths are paths, names ask the plugins
first, a folder in the working directory never replaces a named model."""

from __future__ import annotations

from pathlib import Path

import pytest

from sbert_plugins import ModelLoadError, resolve_model


def test_explicit_paths_are_folders(tiny_model_dir, monkeypatch):
    assert resolve_model(Path(tiny_model_dir)) == Path(tiny_model_dir).resolve()
    assert resolve_model(str(tiny_model_dir)) == Path(tiny_model_dir).resolve()  # absolute
    monkeypatch.chdir(Path(tiny_model_dir).parent)
    assert resolve_model("./" + Path(tiny_model_dir).name) == Path(tiny_model_dir).resolve()


def test_a_missing_path_and_an_unknown_name_say_which(tmp_path):
    with pytest.raises(ModelLoadError, match=r"folder .* does not exist"):
        resolve_model(tmp_path / "nope")
    with pytest.raises(ModelLoadError, match=r"'no-such-model': it is no known model name .* not in the local Hugging"):
        resolve_model("no-such-model")
    with pytest.raises(ModelLoadError, match="got ''"):
        resolve_model("")


def test_a_plugin_name_wins_over_a_same_named_folder(plugin, tiny_model_dir, tmp_path, monkeypatch):
    plugin("aliases", sbert_resolve_model=lambda name: str(tiny_model_dir) if name == "tiny" else None)
    (tmp_path / "tiny").mkdir()
    monkeypatch.chdir(tmp_path)
    with pytest.warns(UserWarning, match="both a model name and a folder"):
        assert resolve_model("tiny") == Path(tiny_model_dir).resolve()
    assert resolve_model("./tiny") == (tmp_path / "tiny").resolve()  # the folder, when asked as a path


def test_an_unknown_name_falls_back_to_a_relative_folder(tmp_path, monkeypatch):
    (tmp_path / "local-model").mkdir()
    monkeypatch.chdir(tmp_path)
    assert resolve_model("local-model") == (tmp_path / "local-model").resolve()
