"""Model folders -> modules, safely (pooling names resolve through ``plugin_functions``).

Nothing in a model folder is executed: configs that point at custom code
(``auto_map``) are refused, transformers is called with ``trust_remote_code=False``
(so it never prompts on stdin), ``modules.json`` can only name the module types
below, and weights load from safetensors or through ``weights_only`` unpickling.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from torch import nn

from .._base.errors import ConfigError, ModelLoadError
from .._base.files import read_json
from ..models import ST_CONFIG, Normalize, Pooling, StaticEmbedding, Transformer, hf_progress_bars_off
from .checks import (
    check_files,
    check_max_seq_length,
    check_st_transformer_config,
    check_tokenizer_fits,
    check_transformer_config,
    position_limit,
    refuse_remote_code,
)
from .module_configs import load_bert, load_dense, load_static, read_pooling, weights_error
from .plugin_functions import make_pooling
from .tokenizer_files import auto_tokenizer, fast_bert_tokenizer


def _from_pretrained(folder: Path, config: dict[str, Any]) -> tuple[Any, Any]:
    model = load_bert(folder, config)  # a plain BERT without importing transformers' modeling code
    if model is not None:
        tokenizer = fast_bert_tokenizer(folder)  # and its WordPiece files without importing transformers
        if tokenizer is not None:
            return model, tokenizer
    options: dict[str, Any] = {"local_files_only": True, "trust_remote_code": False}
    if (folder / "model.safetensors").is_file():
        options["use_safetensors"] = True
    with hf_progress_bars_off():
        tokenizer = auto_tokenizer(str(folder))
        if model is not None:
            return model, tokenizer
        from transformers import AutoModel

        try:  # PyTorch's fused attention where transformers supports it for this architecture
            model = AutoModel.from_pretrained(str(folder), attn_implementation="sdpa", **options)
        except (ValueError, ImportError):
            model = AutoModel.from_pretrained(str(folder), **options)
    return model, tokenizer


def load_transformer(folder: Path, max_seq_length: int | None = None) -> Transformer:
    if not (folder / "config.json").is_file():
        raise ModelLoadError(f"{folder} has no config.json: not a transformers checkpoint")
    config = read_json(folder / "config.json")  # a clear error for a corrupt file
    if not isinstance(config, dict):
        raise ModelLoadError(f"{folder / 'config.json'} must hold a JSON object")
    refuse_remote_code(folder)
    check_transformer_config(folder, config)  # before transformers builds (and allocates) anything
    st_config = read_json(folder / ST_CONFIG) if (folder / ST_CONFIG).is_file() else {}
    if not isinstance(st_config, dict):
        raise ModelLoadError(f"{folder / ST_CONFIG} must hold a JSON object")
    try:
        model, tokenizer = _from_pretrained(folder, config)
    except ModelLoadError:
        raise
    except Exception as exc:  # transformers raises OSError/ValueError/KeyError/UnpicklingError/...
        raise weights_error(folder, exc) from exc
    check_tokenizer_fits(folder, tokenizer, model)
    limit = position_limit(model.config)
    check_st_transformer_config(st_config, folder / ST_CONFIG)
    configured = check_max_seq_length(st_config.get("max_seq_length"), limit, str(folder / ST_CONFIG))
    if configured is None and st_config and limit is not None:  # the current format keeps it in the tokenizer
        configured = min(int(tokenizer.model_max_length or limit), limit)
    if max_seq_length is not None and limit is not None and max_seq_length > limit:
        raise ConfigError(
            f"max_seq_length={max_seq_length} exceeds the {limit} position embeddings of the model in {folder}; "
            f"use at most {limit}"
        )
    return Transformer(
        model,
        tokenizer,
        max_seq_length=max_seq_length or configured,
        do_lower_case=bool(st_config.get("do_lower_case", False)),
    )


def _module(entry: Any, folder: Path, max_seq_length: int | None) -> nn.Module:
    spec = folder / "modules.json"
    if not isinstance(entry, dict) or not isinstance(entry.get("type"), str):
        raise ModelLoadError(f"{spec} entry {entry!r} lacks 'type'")
    kind, sub = entry["type"].rsplit(".", 1)[-1], str(entry.get("path", ""))
    where = (folder / sub).resolve()
    if folder.resolve() not in (where, *where.parents):
        raise ModelLoadError(f"{spec} entry {entry!r} points outside the model folder")
    if kind == "Transformer":
        return load_transformer(where, max_seq_length)
    if kind == "Pooling":
        dimension, modes, include_prompt = read_pooling(where)
        return make_pooling(dimension, modes, include_prompt=include_prompt)
    if kind == "Dense":
        return load_dense(where)
    if kind == "StaticEmbedding":
        return load_static(where)
    if kind == "Normalize":
        return Normalize()
    raise ModelLoadError(
        f"{spec} uses module type {entry['type']!r}, which sbert-plugins cannot load; "
        "supported: ['Dense', 'Normalize', 'Pooling', 'StaticEmbedding', 'Transformer']"
    )


def load_modules(folder: Path, max_seq_length: int | None = None) -> list[nn.Module]:
    """Modules of a sentence-transformers folder, or Transformer + mean pooling for a plain checkpoint."""
    check_files(folder)
    if not (folder / "modules.json").is_file():
        transformer = load_transformer(folder, max_seq_length)
        return [transformer, make_pooling(transformer.dimension, "mean")]
    spec = read_json(folder / "modules.json")
    if not isinstance(spec, list) or not spec:
        raise ModelLoadError(f"{folder / 'modules.json'} must be a non-empty list of modules")
    try:
        ordered = sorted(spec, key=lambda e: int(e.get("idx", 0)) if isinstance(e, dict) else 0)
    except (TypeError, ValueError):
        raise ModelLoadError(f"{folder / 'modules.json'}: every 'idx' must be an integer") from None
    modules = [_module(entry, folder, max_seq_length) for entry in ordered]
    if not isinstance(modules[0], Transformer):
        raise ModelLoadError(f"{folder / 'modules.json'}: the first module must be a Transformer")
    _check_dimensions(folder, modules)
    return modules


def _check_dimensions(folder: Path, modules: list[nn.Module]) -> None:
    """Each module takes the width the one before it gives (pooling = hidden size, Dense in = out before)."""
    first = modules[0]
    assert isinstance(first, Transformer)
    width: int = first.dimension
    for module in modules[1:]:
        if isinstance(module, (Pooling, Transformer)) and isinstance(first, StaticEmbedding):
            raise ModelLoadError(
                f"{folder}: a StaticEmbedding gives sentence vectors; it cannot be followed by pooling"
            )
        takes = module.dimension if isinstance(module, Pooling) else getattr(module, "in_features", None)
        if takes is not None and takes != width:
            raise ModelLoadError(
                f"{folder}: {type(module).__name__} takes vectors of {takes} dims, but the module before it gives "
                f"{width}; the module configs do not belong together"
            )
        if isinstance(module, Pooling):
            width = int(module.output_dimension)
        width = int(getattr(module, "out_features", width))


def folder_fingerprint(folder: Path) -> str:
    """sha256 over the files the model uses (names and bytes), stable across machines.

    That is every top-level file and the files of the module folders modules.json names, less
    model cards (``*.md``), dotfiles and Python files (never run). Bounded: a file over
    ``FULL_HASH_BYTES`` is hashed by its size, its first 64 MiB and 64 one-MiB blocks spread over it,
    so a huge (e.g. sparse) file costs a fraction of a second, not minutes."""
    digest = hashlib.sha256()
    for path in _used_files(folder):
        digest.update(str(path.relative_to(folder)).encode())
        digest.update(_file_digest(path))
    return digest.hexdigest()[:16]


FULL_HASH_BYTES = 1 << 30
_BLOCK = 1 << 20


_WEIGHT_SUFFIXES = (".safetensors", ".bin", ".h5", ".ot", ".msgpack", ".onnx", ".gguf", ".pt", ".pth", ".ckpt")


def _used_files(folder: Path) -> list[Path]:
    """Configs, tokenizer files and the weights the loader reads: other formats' weights (a Hub snapshot
    shared with other tools may gain them) and files in folders modules.json does not name do not count."""
    subfolders: set[str] = set()
    if (folder / "modules.json").is_file():
        spec = read_json(folder / "modules.json")
        subfolders = {str(e.get("path", "")) for e in spec if isinstance(e, dict)} if isinstance(spec, list) else set()
    candidates = [p for p in folder.iterdir() if p.is_file()]
    candidates += [p for sub in sorted(subfolders - {""}) if (folder / sub).is_dir() for p in (folder / sub).rglob("*")]
    kept = [p for p in candidates if p.is_file() and not p.name.startswith(".") and p.suffix not in (".md", ".py")]
    return sorted(p for p in kept if p.suffix not in _WEIGHT_SUFFIXES or _is_read(p))


def _is_read(weights: Path) -> bool:
    """Whether the loader reads this weights file: safetensors where the folder has them, else pytorch_model*.bin."""
    if weights.suffix == ".safetensors":
        return True
    has_safetensors = any(weights.parent.glob("*.safetensors"))
    return not has_safetensors and weights.suffix == ".bin" and weights.name.startswith("pytorch_model")


def _file_digest(path: Path) -> bytes:
    size = path.stat().st_size
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        if size <= FULL_HASH_BYTES:
            for block in iter(lambda: handle.read(_BLOCK), b""):
                digest.update(block)
            return digest.digest()
        digest.update(str(size).encode())
        digest.update(handle.read(64 * _BLOCK))
        for n in range(64):
            handle.seek(size * n // 64)
            digest.update(handle.read(_BLOCK))
    return digest.digest()
