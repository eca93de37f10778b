"""Hostile and broken plugins (issue: reliability and security): a plugin can neither end nor silently
corrupt its host. Entry-point plugins are installed for real (a dist-info on sys.path) and run in a
subprocess, as a user's environment would load them."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import types
from pathlib import Path

import numpy as np
import pytest

from sbert_plugins import PluginError, SentenceEncoder, hookimpl, register_plugin, unregister_plugin

LOAD = (
    "from sbert_plugins import get_plugin_manager; pm = get_plugin_manager(); "
    "print('ALIVE', sorted(n for n, _ in pm.list_name_plugin())); [print('ERROR', e) for e in pm.errors]"
)


def install_plugin(site: Path, name: str, code: str) -> Path:
    """A distribution ``name`` with an ``sbert_plugins`` entry point to module ``name`` (as pip would leave it)."""
    dist = site / f"{name}-1.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(f"[sbert_plugins]\n{name} = {name}\n")
    (site / f"{name}.py").write_text(textwrap.dedent(code))
    return site


def run(site: Path, code: str = LOAD, timeout: float = 120, **env: str) -> subprocess.CompletedProcess:
    environ = {**os.environ, "PYTHONPATH": str(site), **env}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout, env=environ)


def test_plugin_calling_sys_exit_at_import_is_reported(tmp_path):
    site = install_plugin(tmp_path, "exiter", "import sys\nsys.exit(3)\n")
    done = run(site)
    assert done.returncode == 0, done.stderr
    assert "ALIVE" in done.stdout and "builtin" in done.stdout
    assert "plugin 'exiter': cannot import 'exiter' from exiter 1.0: SystemExit: 3" in done.stdout


def test_plugin_calling_sys_exit_in_a_hook_is_reported(tmp_path):
    site = install_plugin(
        tmp_path,
        "hookexit",
        """
        import sys
        from sbert_plugins import hookimpl

        @hookimpl
        def sbert_chunkers():
            sys.exit("bye")
    """,
    )
    code = LOAD + "; print('CHUNKERS', sorted(pm.contributions('sbert_chunkers')))"
    done = run(site, code)
    assert done.returncode == 0, done.stderr
    assert "'sentences', 'tokens']" in done.stdout  # the built-ins still answer
    assert "plugin 'hookexit' in hook 'sbert_chunkers': raised SystemExit: bye" in done.stderr


def test_hanging_plugin_is_named_and_can_be_disabled(tmp_path):
    site = install_plugin(tmp_path, "sleeper", "import time\ntime.sleep(3600)\n")
    with pytest.raises(subprocess.TimeoutExpired) as info:
        run(site, timeout=8, SBERT_PLUGINS_SLOW_SECONDS="1")
    stderr = info.value.stderr.decode() if isinstance(info.value.stderr, bytes) else (info.value.stderr or "")
    assert "importing plugin 'sleeper'" in stderr and "SBERT_PLUGINS_DISABLE=sleeper" in stderr
    done = run(site, SBERT_PLUGINS_DISABLE="sleeper")
    assert done.returncode == 0 and "ALIVE" in done.stdout


def test_third_party_plugins_can_all_be_disabled(tmp_path):
    site = install_plugin(tmp_path, "exiter2", "raise RuntimeError('never imported')\n")
    done = run(site, SBERT_PLUGINS_DISABLE="*")
    assert "ALIVE ['builtin', 'elasticsearch']" in done.stdout and "never imported" not in done.stdout


def test_resolver_returning_a_non_string_is_skipped(plugin, tiny_model_dir):
    plugin("numbers", sbert_resolve_model=lambda name: 42)
    with pytest.warns(RuntimeWarning, match="plugin 'numbers' in hook 'sbert_resolve_model': returned int 42"):
        assert SentenceEncoder(tiny_model_dir, device="cpu").dimension == 32  # paths never ask plugins
        from sbert_plugins import resolve_model

        with pytest.raises(Exception, match="no known model name"):
            resolve_model("some-unknown-name")


@pytest.mark.quality
def test_resolver_returning_garbage_does_not_break_packaged_models(plugin, minilm):
    plugin("garbage", sbert_resolve_model=lambda name: ["not", "a", "path"])
    with pytest.warns(RuntimeWarning, match="plugin 'garbage'.*returned list"):
        from sbert_plugins import resolve_model

        assert resolve_model("all-MiniLM-L6-v2").is_dir()


@pytest.mark.parametrize(
    "strategy, problem",
    [
        (lambda tokens, mask: tokens.mean(1) * float("nan"), "returned NaN or infinite values"),
        (lambda tokens, mask: tokens.mean(1)[:, :5], "returned (2, 5); expected shape (2, 32)"),
        (lambda tokens, mask: "nope", "returned str"),
    ],
)
def test_pooling_plugin_output_is_checked(plugin, tiny_model_dir, strategy, problem):
    plugin("badpool", sbert_pooling_strategies=lambda: {"bad": strategy})
    encoder = SentenceEncoder(tiny_model_dir, pooling="bad", device="cpu")
    with pytest.raises(PluginError) as info:
        encoder.encode(["a dog", "red car"])
    assert info.value.plugin == "badpool" and info.value.hook == "sbert_pooling_strategies"
    assert problem in str(info.value)


@pytest.mark.parametrize("chunks", [[""], [], ["   "], None, [3]])
def test_chunker_plugin_output_is_checked(plugin, tiny_model_dir, chunks):
    plugin("badchunks", sbert_chunkers=lambda: {"bad": lambda text, offsets, budget: chunks})
    encoder = SentenceEncoder(tiny_model_dir, long_texts="chunk", chunker="bad", device="cpu")
    with pytest.raises(PluginError, match="plugin 'badchunks' in hook 'sbert_chunkers': chunker 'bad' returned"):
        encoder.encode("the dog runs " * 30)


def test_a_chunker_returning_text_not_in_its_input_is_refused(plugin, tiny_model_dir):
    """Trust issue, item 10: a "chunk" that is not a piece of the text would embed some other text."""
    plugin("inventive", sbert_chunkers=lambda: {"made_up": lambda text, offsets, budget: ["a red car", "big city"]})
    encoder = SentenceEncoder(tiny_model_dir, long_texts="chunk", chunker="made_up", device="cpu")
    with pytest.raises(PluginError, match="returned 'a red car', which is not a piece of its input text"):
        encoder.encode("the dog runs " * 30)
    plugin("faithful", sbert_chunkers=lambda: {"halves": lambda text, offsets, budget: [text[:100], text[100:]]})
    assert SentenceEncoder(tiny_model_dir, long_texts="chunk", chunker="halves", device="cpu").encode(
        "the dog runs " * 30
    ).shape == (32,)


def test_pluggy_semantics_firstresult_and_wrappers(plugin, tiny_model_dir):
    calls = []
    plugin("first", sbert_resolve_model=lambda name: str(tiny_model_dir) if name == "tiny-alias" else None)
    plugin("second", sbert_resolve_model=lambda name: calls.append(name))  # asked first, answers None

    def wrapper(name):
        result = yield
        calls.append(("wrapped", result))
        return result

    wrapper.__name__ = "sbert_resolve_model"
    module = types.ModuleType("wrapping")
    module.sbert_resolve_model = hookimpl(wrapper=True)(wrapper)
    register_plugin(module, "wrapping")
    try:
        encoder = SentenceEncoder("tiny-alias", device="cpu")
    finally:
        unregister_plugin("wrapping")
    assert encoder.dimension == 32
    assert calls[0] == "tiny-alias" and calls[-1] == ("wrapped", str(tiny_model_dir))


def test_builtins_go_through_the_hooks(tiny_model_dir):
    from sbert_plugins import get_plugin_manager

    manager = get_plugin_manager()
    pooling = manager.contributions("sbert_pooling_strategies")
    assert {name for name, (owner, _) in pooling.items() if owner == "builtin"} >= {"mean", "max", "cls"}
    first = types.ModuleType("shadow")
    first.sbert_pooling_strategies = hookimpl(lambda: {"mean": lambda tokens, mask: tokens[:, 0]})
    register_plugin(first, "shadow")
    try:
        shadowed = SentenceEncoder(tiny_model_dir, pooling="mean", device="cpu").encode("a dog")
        cls = SentenceEncoder(tiny_model_dir, pooling="cls", device="cpu").encode("a dog")
    finally:
        unregister_plugin("shadow")
    np.testing.assert_allclose(shadowed, cls, atol=1e-6)  # a plugin shadows a built-in name
