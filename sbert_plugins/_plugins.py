"""The plugin manager: loads entry points, isolates broken plugins."""
from __future__ import annotations

import threading
import warnings
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any, Dict, List, Optional, Tuple

import pluggy

from . import hookspecs
from ._errors import PluginError, SbertPluginsError

ENTRY_POINT_GROUP = "sbert_plugins"
_lock = threading.Lock()
_manager: Optional["PluginManager"] = None


@dataclass
class PluginInfo:
    name: str
    source: str
    hooks: List[str] = field(default_factory=list)


class PluginManager(pluggy.PluginManager):
    """pluggy's manager plus the record of where each plugin came from."""

    def __init__(self) -> None:
        super().__init__(hookspecs.PROJECT)
        self.add_hookspecs(hookspecs)
        self.sources: Dict[str, str] = {}
        self.errors: List[PluginError] = []

    def add(self, plugin: Any, name: str, source: str) -> bool:
        try:
            self.register(plugin, name=name)
        except (pluggy.PluginValidationError, ValueError) as exc:
            self._record(PluginError(name, getattr(exc, "hook", None), str(exc)))
            return False
        self.sources[name] = source
        return True

    def load_entry_points(self) -> None:
        for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
            if self.get_plugin(ep.name) is not None:
                continue
            dist = f"{ep.dist.name} {ep.dist.version}" if ep.dist else "unknown distribution"
            try:
                plugin = ep.load()
            except Exception as exc:  # a broken plugin must not break the others
                self._record(PluginError(ep.name, None, f"cannot import {ep.value!r} "
                                         f"from {dist}: {type(exc).__name__}: {exc}"))
                continue
            self.add(plugin, ep.name, f"entry point {ep.value} ({dist})")

    def _record(self, error: PluginError) -> None:
        self.errors.append(error)
        warnings.warn(str(error), RuntimeWarning, stacklevel=3)

    def describe(self) -> List[PluginInfo]:
        infos = []
        for name, plugin in self.list_name_plugin():
            hooks = sorted(h.name for h in (self.get_hookcallers(plugin) or []))
            infos.append(PluginInfo(name, self.sources.get(name, "registered in code"), hooks))
        return infos

    def call_each(self, hook: str, **kwargs: Any) -> List[Tuple[str, Any]]:
        """Call every implementation separately; a failing one is reported and skipped.

        A plugin that raises one of our own errors did so on purpose (e.g. "I know
        this model but its package is missing"): that error reaches the user.
        """
        results = []
        for impl in reversed(getattr(self.hook, hook).get_hookimpls()):
            args = {k: kwargs[k] for k in impl.argnames}
            try:
                value = impl.function(**args)
            except SbertPluginsError:
                raise
            except Exception as exc:
                self._record(PluginError(impl.plugin_name, hook, f"raised {type(exc).__name__}: {exc}"))
                continue
            if value is not None:
                results.append((impl.plugin_name, value))
        return results


def get_plugin_manager() -> PluginManager:
    """The process-wide manager, created on first use (never at import)."""
    global _manager
    with _lock:
        if _manager is None:
            from . import _builtin_plugin

            manager = PluginManager()
            manager.add(_builtin_plugin, "builtin", "sbert_plugins (built in)")
            manager.load_entry_points()
            _manager = manager
        return _manager


def register_plugin(plugin: Any, name: Optional[str] = None) -> str:
    """Register a plugin object in code (tests, notebooks); returns its name."""
    manager = get_plugin_manager()
    name = name or getattr(plugin, "__name__", None) or repr(plugin)
    if not manager.add(plugin, name, "registered in code"):
        raise manager.errors[-1]
    return name


def unregister_plugin(name: str) -> None:
    get_plugin_manager().unregister(name=name)


def collect_mapping(hook: str) -> Dict[str, Any]:
    """Merge ``{name: obj}`` answers of a hook; later plugins win on clashes."""
    merged: Dict[str, Any] = {}
    manager = get_plugin_manager()
    for plugin, value in reversed(manager.call_each(hook)):
        if not isinstance(value, dict):
            manager._record(PluginError(plugin, hook, f"returned {type(value).__name__}, expected a dict"))
            continue
        bad = [k for k, v in value.items() if not isinstance(k, str) or not callable(v)]
        if bad:
            manager._record(PluginError(plugin, hook, f"entries {bad} are not name -> callable"))
            continue
        merged.update(value)
    return merged


def resolve_with_plugins(name: str) -> Optional[str]:
    """Ask plugins (newest first) for a folder holding ``name``."""
    from pathlib import Path

    manager = get_plugin_manager()
    for plugin, folder in manager.call_each("sbert_resolve_model", name=name):
        if Path(folder).is_dir():
            return str(folder)
        manager._record(PluginError(plugin, "sbert_resolve_model",
                                    f"resolved {name!r} to {folder!r}, which is not a folder"))
    return None
