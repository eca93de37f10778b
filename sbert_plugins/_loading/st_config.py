"""``config_sentence_transformers.json``: the model-level settings a sentence-transformers folder declares.

Prompts (``prompts``, ``default_prompt_name``), Matryoshka truncation (``truncate_dim``, applied
after every module, Normalize included, as sentence-transformers does) and the similarity the model
was trained for (``similarity_fn_name``: cosine, dot, euclidean or manhattan). Every value is
checked; a wrong one is a ModelLoadError naming the file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._base.errors import ModelLoadError
from .._base.files import read_json

ST_MODEL_CONFIG = "config_sentence_transformers.json"
SIMILARITIES = ("cosine", "dot", "euclidean", "manhattan")


@dataclass(frozen=True)
class ModelSettings:
    prompts: dict[str, str] = field(default_factory=dict)
    default_prompt_name: str | None = None
    truncate_dim: int | None = None
    similarity_fn_name: str = "cosine"


def read_model_settings(folder: Path | None) -> ModelSettings:
    path = None if folder is None else folder / ST_MODEL_CONFIG
    if path is None or not path.is_file():
        return ModelSettings()
    config = read_json(path)
    if not isinstance(config, dict):
        raise ModelLoadError(f"{path} must hold a JSON object")
    prompts = config.get("prompts") or {}
    if not isinstance(prompts, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in prompts.items()):
        raise ModelLoadError(f"{path}: 'prompts' must map names to strings, got {prompts!r:.100}")
    prompts = {k: v for k, v in prompts.items()}
    default = config.get("default_prompt_name")
    if default is not None and default not in prompts:
        raise ModelLoadError(f"{path}: default_prompt_name {default!r} is not one of the prompts {sorted(prompts)}")
    return ModelSettings(prompts, default, _truncate_dim(config, path), _similarity(config, path))


def _truncate_dim(config: dict[str, Any], path: Path) -> int | None:
    value = config.get("truncate_dim")
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise ModelLoadError(f"{path}: truncate_dim={value!r} is not an int >= 1")
    return value


def _similarity(config: dict[str, Any], path: Path) -> str:
    value = config.get("similarity_fn_name") or "cosine"
    if value not in SIMILARITIES:
        raise ModelLoadError(f"{path}: similarity_fn_name={value!r} is not one of {SIMILARITIES}")
    return str(value)
