"""Models from the Hugging Face Hub, against a fake Hub on 127.0.0.1 with the real huggingface_hub client
(any-model issue): download, revision pinning, offline reuse with zero requests, every error named, and
nothing a model does not need (never a *.py, never a pickle where safetensors exist, auto_map refused before
any weights)."""

from __future__ import annotations

import os
import pickle

import numpy as np
import pytest

pytest.importorskip("huggingface_hub")
from fake_hub import FakeHub, fake_hub_env, set_hub_offline

from sbert_plugins import ConfigError, ModelLoadError, SentenceEncoder
from sbert_plugins.testing import make_tiny_model

TEXTS = ["the man plays guitar", "a dog eats food"]


@pytest.fixture()
def hub(monkeypatch, tmp_path):
    with FakeHub() as hub:
        fake_hub_env(monkeypatch, hub, tmp_path)
        yield hub


@pytest.fixture(scope="module")
def tiny_files(tmp_path_factory):
    """Two tiny models' files (different weights), plus files a model never needs."""

    def files(seed):
        folder = make_tiny_model(tmp_path_factory.mktemp(f"hubmodel{seed}") / "m", seed=seed)
        found = {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}
        return {**found, "modeling_evil.py": b"raise SystemExit('ran')\n", "README.md": b"# tiny\n"}

    return files(0), files(1)


def _local(files, tmp_path, name):
    folder = tmp_path / name
    for path, data in files.items():
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        (folder / path).write_bytes(data)
    return SentenceEncoder(folder, device="cpu", dtype="float32")


def test_a_hub_model_downloads_only_what_it_needs_and_records_its_commit(hub, tiny_files, tmp_path):
    sha = hub.add_repo("acme/tiny", tiny_files[0])
    encoder = SentenceEncoder("acme/tiny", device="cpu", dtype="float32")
    np.testing.assert_array_equal(encoder.encode(TEXTS), _local(tiny_files[0], tmp_path, "a").encode(TEXTS))
    assert encoder.revision == sha and encoder.contract()["revision"] == sha
    fetched = hub.fetched()
    assert "model.safetensors" in fetched and "modeling_evil.py" not in fetched and "README.md" not in fetched


def test_revisions_pin_a_commit_a_tag_or_a_branch(hub, tiny_files, tmp_path):
    first = hub.add_repo("acme/tiny", tiny_files[0], tags=["v1"])
    second = hub.add_commit("acme/tiny", tiny_files[1])
    old, new = (
        _local(tiny_files[0], tmp_path, "old").encode(TEXTS),
        _local(tiny_files[1], tmp_path, "new").encode(TEXTS),
    )
    np.testing.assert_array_equal(SentenceEncoder("acme/tiny", device="cpu", dtype="float32").encode(TEXTS), new)
    for revision in (first, first[:10], "v1"):
        pinned = SentenceEncoder("acme/tiny", revision=revision, device="cpu", dtype="float32")
        np.testing.assert_array_equal(pinned.encode(TEXTS), old)
        assert pinned.revision == first
    assert SentenceEncoder("acme/tiny", device="cpu").revision == second


def test_offline_reuses_the_cache_with_zero_requests(hub, tiny_files, monkeypatch):
    hub.add_repo("acme/tiny", tiny_files[0])
    online = SentenceEncoder("acme/tiny", device="cpu", dtype="float32").encode(TEXTS)
    set_hub_offline(monkeypatch)
    before = len(hub.requests)
    np.testing.assert_array_equal(SentenceEncoder("acme/tiny", device="cpu", dtype="float32").encode(TEXTS), online)
    assert len(hub.requests) == before
    with pytest.raises(ModelLoadError, match=r"'acme/other' is not in the local Hugging Face cache.*HF_HUB_OFFLINE"):
        SentenceEncoder("acme/other", device="cpu")


def test_bare_names_mean_the_sentence_transformers_org_and_packaged_models_win(hub, tiny_files):
    hub.add_repo("sentence-transformers/tiny-bare", tiny_files[0])
    assert SentenceEncoder("tiny-bare", device="cpu").revision is not None
    from sbert_plugins._loading.packaged import minilm_folder

    if minilm_folder() is not None:  # installed: served offline, the Hub is not asked
        before = len(hub.requests)
        assert SentenceEncoder("all-MiniLM-L6-v2", device="cpu").revision is None and len(hub.requests) == before


@pytest.mark.parametrize(
    ("setup", "model", "revision", "match"),
    [
        (None, "acme/missing", None, "'acme/missing' is not on the Hub .* HF_TOKEN"),
        ("plain", "acme/tiny", "no-such-branch", "has no such revision"),
        ("gated", "acme/gated", None, "is gated: accept its terms .* HF_TOKEN"),
    ],
)
def test_hub_errors_name_the_repo_and_the_fix(hub, tiny_files, setup, model, revision, match):
    if setup == "plain":
        hub.add_repo("acme/tiny", tiny_files[0])
    if setup == "gated":
        hub.add_repo("acme/gated", tiny_files[0], gated=True, token="hf_secret")
    with pytest.raises(ModelLoadError, match=match):
        SentenceEncoder(model, revision=revision, device="cpu")


def test_a_gated_repo_loads_with_the_users_token_which_is_never_recorded(hub, tiny_files, monkeypatch):
    hub.add_repo("acme/gated", tiny_files[0], gated=True, token="hf_secret")
    monkeypatch.setenv("HF_TOKEN", "hf_secret")
    encoder = SentenceEncoder("acme/gated", device="cpu")
    assert "hf_secret" not in repr(encoder.contract()) and "hf_secret" not in repr(encoder.options)
    assert any(r.headers.get("authorization") == "Bearer hf_secret" for r in hub.requests)


def test_network_down_is_named(hub, tiny_files):
    hub.add_repo("acme/tiny", tiny_files[0])
    hub.down = True
    with pytest.raises(ModelLoadError, match="could not be fetched from the Hub"):
        SentenceEncoder("acme/tiny", device="cpu")


def test_auto_map_is_refused_before_any_weights_are_fetched(hub, tiny_files):
    import json

    config = json.loads(tiny_files[0]["config.json"])
    config["auto_map"] = {"AutoModel": "modeling_evil.EvilModel"}
    hub.add_repo("acme/evil", {**tiny_files[0], "config.json": json.dumps(config).encode()})
    with pytest.raises(ModelLoadError, match="never runs a model folder's code"):
        SentenceEncoder("acme/evil", device="cpu")
    assert "model.safetensors" not in hub.fetched() and "modeling_evil.py" not in hub.fetched()


class _Boom:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_a_pickle_only_repo_with_a_hostile_payload_is_refused(hub, tiny_files, tmp_path):
    torch = pytest.importorskip("torch")
    marker = tmp_path / "PWNED"
    path = tmp_path / "pytorch_model.bin"
    torch.save({"weights": _Boom(str(marker))}, path)
    files = {k: v for k, v in tiny_files[0].items() if k != "model.safetensors"}
    hub.add_repo("acme/pickled", {**files, "pytorch_model.bin": path.read_bytes()})
    with pytest.raises(ModelLoadError, match="pickle"):
        SentenceEncoder("acme/pickled", device="cpu")
    assert not marker.exists()


def test_pickles_are_not_fetched_where_safetensors_exist(hub, tiny_files, tmp_path):
    hub.add_repo("acme/both", {**tiny_files[0], "pytorch_model.bin": pickle.dumps({"never": "fetched"})})
    SentenceEncoder("acme/both", device="cpu")
    assert "pytorch_model.bin" not in hub.fetched()


def test_revision_is_for_hub_models_only(tiny_model_dir):
    with pytest.raises(ConfigError, match="revision='main' is for Hub models"):
        SentenceEncoder(tiny_model_dir, revision="main", device="cpu")


def test_a_private_repo_without_a_token_says_to_log_in(hub, tiny_files):
    hub.add_repo("acme/private", tiny_files[0], private=True, token="hf_secret")
    with pytest.raises(ModelLoadError, match="is not on the Hub \\(or is private: log in"):
        SentenceEncoder("acme/private", device="cpu")


def test_a_full_disk_is_named(hub, tiny_files, monkeypatch):
    import errno

    import huggingface_hub

    hub.add_repo("acme/tiny", tiny_files[0])

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(huggingface_hub, "snapshot_download", full)
    with pytest.raises(ModelLoadError, match=r"the disk is full .* HF_HOME or cache_folder="):
        SentenceEncoder("acme/tiny", device="cpu")


def test_the_cli_takes_a_revision(hub, tiny_files, capsys):
    from sbert_plugins._cli.main import main

    first = hub.add_repo("acme/tiny", tiny_files[0])
    hub.add_commit("acme/tiny", tiny_files[1])
    assert main(["encode", "a dog", "--model", "acme/tiny", "--revision", first, "--device", "cpu"]) == 0
    assert len(__import__("json").loads(capsys.readouterr().out)["embedding"]) == 32


def test_a_loaded_hub_encoder_is_shared_without_asking_the_hub_again(hub, tiny_files):
    from sbert_plugins import shared_encoder, shared_encoders

    first = hub.add_repo("acme/tiny", tiny_files[0], tags=["v1"])
    shared_encoders.clear()
    try:
        one = shared_encoder("acme/tiny", revision="v1", device="cpu")
        before = len(hub.requests)
        hub.down = True  # even with the Hub unreachable, the loaded encoder is found
        assert shared_encoder("acme/tiny", revision="v1", device="cpu") is one and len(hub.requests) == before
        assert one.revision == first
    finally:
        shared_encoders.clear()
