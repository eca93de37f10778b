"""File helpers that need no torch: JSON configs and the package's cache folder."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from .errors import ModelLoadError

CACHE_ENV = "SBERT_PLUGINS_CACHE"


def read_json(path: str | os.PathLike[str]) -> Any:
    """Read a JSON config, failing with the file name when it is missing or corrupt."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelLoadError(f"missing model file {path}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelLoadError(f"corrupt JSON in {path}: {exc}; re-export or re-download the model") from None


def cache_dir() -> Path:
    """``$SBERT_PLUGINS_CACHE``, else ``$XDG_CACHE_HOME/sbert_plugins`` (``~/.cache/sbert_plugins``)."""
    root = os.environ.get(CACHE_ENV) or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "sbert_plugins"
    )
    return Path(root)


def write_json_atomic(path: Path, value: Any) -> bool:
    """Write JSON through a temporary file and a rename, so concurrent readers never see half a file.

    Returns False (and writes nothing) where the folder cannot be written: callers treat the
    cache as optional, never as a reason to fail."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError:
        return False
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(value, handle, indent=1, sort_keys=True)
        os.replace(tmp, path)
        return True
    except OSError:
        Path(tmp).unlink(missing_ok=True)
        return False
