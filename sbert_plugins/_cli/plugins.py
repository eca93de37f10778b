"""``sbert plugins``: the registered plugins, what each provides, and any plugin errors (exit 1)."""

from __future__ import annotations

import argparse
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser("plugins", help="list registered plugins and what they provide")
    p.set_defaults(func=cmd_plugins)


def cmd_plugins(args: argparse.Namespace) -> int:
    from .. import hookspecs
    from .._registry.manager import get_plugin_manager

    manager = get_plugin_manager()
    for info in manager.describe():
        print(f"{info.name}\t{info.source}\n    hooks: {', '.join(info.hooks)}")
    for label, hook in (
        ("pooling", hookspecs.POOLING_STRATEGIES),
        ("chunkers", hookspecs.CHUNKERS),
        ("vector stores", hookspecs.VECTOR_STORES),
    ):
        provided = manager.contributions(hook)
        print(f"{label}: " + ", ".join(f"{name} ({plugin})" for name, (plugin, _) in sorted(provided.items())))
    for error in manager.errors:
        print(f"ERROR {error}")
    return 1 if manager.errors else 0
