"""The plugin registry: a pluggy manager whose plugins come from entry points and are isolated.

Hooks are called the pluggy way, ``pm.hook.<name>(...)``, so ``firstresult`` and
hook wrappers work. Isolation happens at registration: every hook implementation
of a plugin is registered through a guard that turns any failure (an exception,
``sys.exit()``, a result of the wrong type) into a :class:`PluginError` naming the
plugin, the hook and the evidence, reported as a ``RuntimeWarning`` and in
``sbert plugins``, and answers None so the other plugins still run. A plugin that
raises an :class:`SbertPluginsError` on purpose reaches the user as that error.
This module names no plugin and no host: the package's own defaults arrive
through the same entry-point group as everyone else's.
"""

from __future__ import annotations

import functools
import os
import sys
import threading
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import pluggy

from .. import hookspecs
from .._base.errors import PluginError, SbertPluginsError

ENTRY_POINT_GROUP = "sbert_plugins"
DISABLE_ENV = "SBERT_PLUGINS_DISABLE"  # comma-separated plugin names; "*" = every third-party plugin
SLOW_ENV = "SBERT_PLUGINS_SLOW_SECONDS"  # after this long, say which plugin is still running (default 10)
OWN_DISTRIBUTION = "sbert-plugins"


class Contribution(dict[str, Any]):
    """A mapping-hook answer that remembers which plugin gave it."""

    plugin: str = "?"


@dataclass
class PluginInfo:
    name: str
    source: str
    hooks: list[str] = field(default_factory=list)


def _check_folder(result: Any) -> str | None:
    if not isinstance(result, (str, os.PathLike)):
        return f"returned {type(result).__name__} {result!r:.80}, expected a folder path (str) or None"
    if not Path(result).is_dir():
        return f"returned {os.fspath(result)!r}, which is not a folder"
    return None


def _check_mapping(result: Any) -> str | None:
    if not isinstance(result, dict):
        return f"returned {type(result).__name__}, expected a dict of name -> callable"
    bad = [k for k, v in result.items() if not isinstance(k, str) or not k or not callable(v)]
    return f"entries {bad!r:.120} are not name -> callable" if bad else None


_RESULT_CHECKS: dict[str, Callable[[Any], str | None]] = {
    hookspecs.RESOLVE_MODEL: _check_folder,
    hookspecs.POOLING_STRATEGIES: _check_mapping,
    hookspecs.CHUNKERS: _check_mapping,
    hookspecs.VECTOR_STORES: _check_mapping,
}


def _slow_seconds() -> float:
    try:
        return float(os.environ.get(SLOW_ENV, "10"))
    except ValueError:
        return 10.0


@contextmanager
def watchdog(what: str, plugin: str) -> Iterator[None]:
    """Say on stderr which plugin is still running when it takes too long (a hang is the plugin's bug)."""
    seconds = _slow_seconds()

    def complain() -> None:
        print(
            f"sbert-plugins: {what} has not finished after {seconds:g} s; a hung plugin hangs its host. "
            f"Fix or uninstall it, or skip it with {DISABLE_ENV}={plugin}",
            file=sys.stderr,
            flush=True,
        )

    timer = threading.Timer(seconds, complain)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()


class _Isolated:
    """A stand-in registered in place of a plugin: the same hook implementations, each guarded."""

    def __init__(self, original: Any) -> None:
        self.original = original

    def __repr__(self) -> str:
        return f"<isolated {self.original!r}>"


class PluginManager(pluggy.PluginManager):
    """pluggy's manager, plus where each plugin came from and the errors plugins caused."""

    def __init__(self) -> None:
        super().__init__(hookspecs.PROJECT)
        self.add_hookspecs(hookspecs)
        self.sources: dict[str, str] = {}
        self.errors: list[PluginError] = []

    def record(self, error: PluginError) -> None:
        self.errors.append(error)
        warnings.warn(str(error), RuntimeWarning, stacklevel=4)

    def _guard(self, plugin: str, hook: str, function: Callable[..., Any]) -> Callable[..., Any]:
        check = _RESULT_CHECKS.get(hook)

        @functools.wraps(function)  # keeps the signature pluggy reads, and the hookimpl marker
        def guarded(*args: Any, **kwargs: Any) -> Any:
            try:
                with watchdog(f"plugin {plugin!r} in hook {hook!r}", plugin):
                    result = function(*args, **kwargs)
            except (SbertPluginsError, KeyboardInterrupt):
                raise
            except BaseException as exc:  # SystemExit too: a plugin must not end the host
                self.record(PluginError(plugin, hook, f"raised {type(exc).__name__}: {exc}"))
                return None
            problem = None if result is None or check is None else check(result)
            if problem is not None:
                self.record(PluginError(plugin, hook, problem))
                return None
            if isinstance(result, dict):
                result = Contribution(result)
                result.plugin = plugin
            return result

        return guarded

    def _isolate(self, plugin: Any, name: str) -> _Isolated:
        proxy = _Isolated(plugin)
        for attr in dir(plugin):
            opts = self.parse_hookimpl_opts(plugin, attr)
            if opts is None:
                continue
            function = getattr(plugin, attr)
            wraps_others = opts.get("wrapper") or opts.get("hookwrapper")  # wrappers must see the real call
            hook = opts.get("specname") or attr
            setattr(proxy, attr, function if wraps_others else self._guard(name, hook, function))
        return proxy

    def add(self, plugin: Any, name: str, source: str) -> bool:
        """Register ``plugin`` isolated; a plugin that pluggy refuses is recorded, not raised."""
        try:
            self.register(self._isolate(plugin, name), name=name)
        except (pluggy.PluginValidationError, ValueError) as exc:
            self.record(PluginError(name, None, str(exc)))
            return False
        self.sources[name] = source
        return True

    def load_entry_points(self) -> None:
        disabled = {n.strip() for n in os.environ.get(DISABLE_ENV, "").split(",") if n.strip()}
        for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
            dist = f"{ep.dist.name} {ep.dist.version}" if ep.dist else "unknown distribution"
            own = ep.dist is not None and ep.dist.name.lower().replace("_", "-") == OWN_DISTRIBUTION
            if self.has_plugin(ep.name) or ep.name in disabled or ("*" in disabled and not own):
                continue
            try:
                with watchdog(f"importing plugin {ep.name!r} ({ep.value} from {dist})", ep.name):
                    plugin = ep.load()
            except KeyboardInterrupt:
                raise
            except BaseException as exc:  # a broken plugin (even one calling sys.exit) must not break the host
                self.record(
                    PluginError(ep.name, None, f"cannot import {ep.value!r} from {dist}: {type(exc).__name__}: {exc}")
                )
                continue
            self.add(plugin, ep.name, f"entry point {ep.value} ({dist})")

    def describe(self) -> list[PluginInfo]:
        infos = []
        for name, plugin in self.list_name_plugin():
            hooks = sorted(h.name for h in (self.get_hookcallers(plugin) or []))
            infos.append(PluginInfo(name, self.sources.get(name, "registered in code"), hooks))
        return infos

    def contributions(self, hook: str) -> dict[str, tuple[str, Any]]:
        """Merge the ``{name: obj}`` answers of a mapping hook into ``{name: (plugin, obj)}``;
        a later-registered plugin wins a clash (the built-ins are asked last)."""
        merged: dict[str, tuple[str, Any]] = {}
        for answer in reversed(getattr(self.hook, hook)()):
            owner = getattr(answer, "plugin", "?")
            merged.update((name, (owner, obj)) for name, obj in answer.items())
        return merged


_lock = threading.Lock()
_manager: PluginManager | None = None


def get_plugin_manager() -> PluginManager:
    """The process-wide manager, created on first use (never at import) from the entry points."""
    global _manager
    with _lock:
        if _manager is None:
            manager = PluginManager()
            manager.load_entry_points()
            _manager = manager
        return _manager


def reset_plugin_manager() -> None:
    """Forget the process-wide manager; the next use reloads the entry points (tests, notebooks)."""
    global _manager
    with _lock:
        _manager = None


def register_plugin(plugin: Any, name: str | None = None) -> str:
    """Register a plugin object in code (tests, notebooks); returns its name."""
    manager = get_plugin_manager()
    name = name or getattr(plugin, "__name__", None) or repr(plugin)
    if not manager.add(plugin, name, "registered in code"):
        raise manager.errors[-1]
    return name


def unregister_plugin(name: str) -> None:
    """Remove a plugin registered in code (or from an entry point) by name."""
    get_plugin_manager().unregister(name=name)
