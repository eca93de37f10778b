"""Models from the Hugging Face Hub, through ``huggingface_hub`` (its cache, token and offline rules).

Only what a model needs is fetched, in two steps, and nothing is ever run:

1. the configs and tokenizer files (``*.json``, ``vocab.txt``, ``merges.txt``, sentencepiece models);
   a config that maps classes to the repo's own code (``auto_map``) is refused here, before any
   weights are fetched;
2. the weights of the transformer and of each module folder ``modules.json`` names:
   ``model.safetensors`` (or its shards), and ``pytorch_model.bin`` only where no safetensors exist
   (it is then loaded with ``weights_only`` unpickling, which refuses anything but tensors).

``*.py`` files are never fetched. The token comes from ``HF_TOKEN`` or ``hf auth login`` (never from
our options, so it is never saved in a spaCy config, a pickle or an index); the cache is
``HF_HOME`` / ``HF_HUB_CACHE`` or ``cache_folder``; ``HF_HUB_OFFLINE=1`` serves the cache only.
Bare names resolve as sentence-transformers does: ``all-MiniLM-L6-v2`` is
``sentence-transformers/all-MiniLM-L6-v2`` (an installed packaged model still wins, offline).
"""

from __future__ import annotations

import errno
import fnmatch
import re
from pathlib import Path
from typing import Any

from .._base.errors import ModelLoadError
from .._base.files import read_json
from .checks import refuse_remote_code

ST_ORG = "sentence-transformers"
_REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]{0,95}(/[A-Za-z0-9][\w.-]{0,95})?$")
CONFIG_PATTERNS = ("*.json", "*vocab.txt", "*merges.txt", "*.model", "*tokenizer*", "*.tiktoken")
NEVER = ("*.py", "*.pyc", "*.sh", "*.so", "*.dll")


def repo_id_for(name: str) -> str | None:
    """The Hub repo a model name means, or None if it cannot be one (e.g. has spaces or two slashes)."""
    if not _REPO_ID.match(name) or name.endswith((".", "-")):
        return None
    return name if "/" in name else f"{ST_ORG}/{name}"


def _offline() -> bool:
    from huggingface_hub import constants

    return bool(constants.HF_HUB_OFFLINE)


def _matches(path: str, patterns: tuple[str, ...]) -> bool:
    return any(fnmatch.fnmatch(path, p) or fnmatch.fnmatch(path.rsplit("/", 1)[-1], p) for p in patterns)


def _weights(files: list[str], folders: list[str]) -> list[str]:
    """Per module folder: its safetensors (shards included), else its pytorch_model.bin."""
    chosen = []
    for folder in folders:
        prefix = f"{folder}/" if folder else ""
        here = [f for f in files if f.startswith(prefix) and "/" not in f[len(prefix) :]]
        safe = [f for f in here if f.endswith(".safetensors")]
        chosen += safe or [f for f in here if re.fullmatch(r"pytorch_model(-\d+-of-\d+)?\.bin", f[len(prefix) :])]
    return chosen


def _module_folders(snapshot: Path) -> list[str]:
    if not (snapshot / "modules.json").is_file():
        return [""]
    spec = read_json(snapshot / "modules.json")
    paths = [str(e.get("path", "")) for e in spec if isinstance(e, dict)] if isinstance(spec, list) else []
    return sorted({p.strip("/") for p in paths} | {""})


def download(name: str, revision: str | None = None, cache_folder: str | None = None) -> Path:
    """The local snapshot folder of Hub model ``name`` at ``revision`` (fetched if needed)."""
    repo = repo_id_for(name)
    if repo is None:
        raise ModelLoadError(f"{name!r} is neither a known model name nor a Hugging Face repo id (org/name)")
    try:
        return _download(repo, revision, cache_folder)
    except ModelLoadError:
        raise
    except Exception as exc:
        raise hub_error(repo, revision, exc) from exc


def _listing(info: Any) -> list[str]:
    """The repo's files at that commit, less the ones never fetched."""
    return [s.rfilename for s in info.siblings or [] if not _matches(s.rfilename, NEVER)]


def _download(repo: str, revision: str | None, cache_folder: str | None) -> Path:
    from huggingface_hub import HfApi, snapshot_download

    common: dict[str, Any] = {"repo_id": repo, "cache_dir": cache_folder, "ignore_patterns": list(NEVER)}
    files: list[str] | None = None
    if not _offline():
        info = HfApi().model_info(repo, revision=revision)
        files = _listing(info)
    configs = [f for f in files if _matches(f, CONFIG_PATTERNS)] if files is not None else list(CONFIG_PATTERNS)
    # the revision as given (so the cache records the branch or tag for offline use); the commit it names after
    snapshot = Path(snapshot_download(**common, revision=revision, allow_patterns=configs))
    refuse_remote_code(snapshot)  # before a single weight is fetched
    if files is not None and snapshot.name != str(info.sha):  # a commit landed between the two calls
        files = _listing(HfApi().model_info(repo, revision=snapshot.name))
    weights = _weights(files, _module_folders(snapshot)) if files is not None else ["*.safetensors", "*.bin"]
    snapshot_download(**common, revision=snapshot.name, allow_patterns=weights)
    return snapshot


def hub_error(repo: str, revision: str | None, exc: BaseException) -> ModelLoadError:
    """One ModelLoadError per way a Hub load fails, naming the repo and the fix."""
    from huggingface_hub import errors

    at = f"{repo!r}" + (f" at revision {revision!r}" if revision else "")
    text = f"{type(exc).__name__}: {str(exc)[:300]}"
    if isinstance(exc, errors.GatedRepoError):
        why = "is gated: accept its terms on the model's Hub page, then log in (`hf auth login`) or set HF_TOKEN"
    elif isinstance(exc, errors.RevisionNotFoundError):
        why = "has no such revision: give an existing branch, tag or commit (revision=...)"
    elif isinstance(exc, errors.RepositoryNotFoundError):
        why = "is not on the Hub (or is private: log in with `hf auth login` or set HF_TOKEN); check the name"
    elif isinstance(exc, (errors.LocalEntryNotFoundError, errors.OfflineModeIsEnabled)):
        why = (
            "is not in the local Hugging Face cache and the Hub cannot be asked (HF_HUB_OFFLINE=1 or no network); "
            "download it once with a network, or pass a local folder"
        )
    elif isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        why = "could not be stored: the disk is full (set HF_HOME or cache_folder= to a disk with space)"
    else:
        why = (
            "could not be fetched from the Hub (network down or the Hub unreachable?); retry, or set "
            "HF_HUB_OFFLINE=1 to use the cache"
        )
    return ModelLoadError(f"model {at} {why} ({text})")
