"""Model-folder file helpers that need no torch (name resolution stays light)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ._errors import ModelLoadError


def read_json(path: str | os.PathLike[str]) -> Any:
    """Read a JSON config, failing with the file name when it is missing or corrupt."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelLoadError(f"missing model file {path}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelLoadError(f"corrupt JSON in {path}: {exc}; re-export or re-download the model") from None
