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

import torch
from torch import nn

from .._base.errors import ConfigError, ModelLoadError
from .._base.files import read_json
from ..models import ST_CONFIG, ST_POOLING_KEYS, Dense, Normalize, Pooling, Transformer, hf_progress_bars_off
from .checks import (
    BOUNDS,
    check_files,
    check_max_seq_length,
    check_tokenizer_fits,
    check_transformer_config,
    position_limit,
)
from .plugin_functions import make_pooling

ST_MODEL_CONFIG = "config_sentence_transformers.json"
_CODE_CONFIGS = ("config.json", "tokenizer_config.json", "processor_config.json", "preprocessor_config.json")


def refuse_remote_code(folder: Path) -> None:
    """A folder whose configs map classes to its own Python files is refused, never run."""
    for name in _CODE_CONFIGS:
        path = folder / name
        config = read_json(path) if path.is_file() else {}
        auto_map = config.get("auto_map") if isinstance(config, dict) else None
        if auto_map:
            files = sorted(str(p.name) for p in folder.glob("*.py"))
            raise ModelLoadError(
                f"{path} maps model classes to code shipped in the folder (auto_map={auto_map!r}; Python files: "
                f"{files}). sbert-plugins never runs a model folder's code; use a model whose architecture "
                "transformers knows (e.g. BERT, MPNet, RoBERTa), with its weights as model.safetensors"
            )


def _weights_error(folder: Path, exc: BaseException) -> ModelLoadError:
    text = f"{type(exc).__name__}: {exc}"
    if "pickle" in text.lower() or "weights_only" in text or "Unpickl" in text:
        return ModelLoadError(
            f"{folder} has weights in a pickle file that holds more than tensors ({text[:300]}); such files can "
            "run code and are refused. Convert the weights to model.safetensors (safetensors holds only tensors)"
        )
    return ModelLoadError(f"cannot load the transformer in {folder}: {text[:500]}")


def _from_pretrained(folder: Path) -> tuple[Any, Any]:
    from transformers import AutoModel, AutoTokenizer

    options: dict[str, Any] = {"local_files_only": True, "trust_remote_code": False}
    if (folder / "model.safetensors").is_file():
        options["use_safetensors"] = True
    with hf_progress_bars_off():
        tokenizer = AutoTokenizer.from_pretrained(str(folder), **options)
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
        model, tokenizer = _from_pretrained(folder)
    except ModelLoadError:
        raise
    except Exception as exc:  # transformers raises OSError/ValueError/KeyError/UnpicklingError/...
        raise _weights_error(folder, exc) from exc
    check_tokenizer_fits(folder, tokenizer, model)
    limit = position_limit(model.config)
    configured = check_max_seq_length(st_config.get("max_seq_length"), limit, str(folder / ST_CONFIG))
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


def load_state(folder: Path) -> dict[str, torch.Tensor]:
    """Weights of a module folder: model.safetensors, else pytorch_model.bin through weights_only unpickling."""
    if (folder / "model.safetensors").is_file():
        from safetensors.torch import load_file

        try:
            return load_file(str(folder / "model.safetensors"))
        except Exception as exc:
            raise ModelLoadError(f"{folder / 'model.safetensors'} is not a valid safetensors file: {exc}") from exc
    if (folder / "pytorch_model.bin").is_file():
        try:
            state: dict[str, torch.Tensor] = torch.load(
                folder / "pytorch_model.bin", map_location="cpu", weights_only=True
            )
        except Exception as exc:
            raise _weights_error(folder, exc) from exc
        return state
    raise ModelLoadError(f"{folder} has no weights (model.safetensors)")


def load_dense(folder: Path) -> Dense:
    config = read_json(folder / "config.json")
    try:
        dense = Dense(
            int(config["in_features"]),
            int(config["out_features"]),
            bool(config.get("bias", True)),
            str(config.get("activation_function", "torch.nn.modules.activation.Tanh")),
        )
        dense.load_state_dict(load_state(folder))
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        raise ModelLoadError(f"{folder}: unusable Dense module ({type(exc).__name__}: {exc})") from exc
    return dense


def read_pooling(folder: Path) -> tuple[int, list[str]]:
    """``(word_embedding_dimension, modes)`` from a pooling config (sentence-transformers keys)."""
    path = folder / "config.json"
    config = read_json(path)
    dim = config.get("word_embedding_dimension") if isinstance(config, dict) else None
    if isinstance(dim, bool) or not isinstance(dim, int) or not 1 <= dim <= BOUNDS["hidden_size"]:
        raise ModelLoadError(f"{path} lacks a positive integer 'word_embedding_dimension' (got {dim!r})")
    modes = config.get("sbert_plugins_modes") or [m for k, m in ST_POOLING_KEYS if config.get(k)]
    if not modes or not all(isinstance(m, str) for m in modes):
        raise ModelLoadError(f"{path} enables no pooling mode")
    return config["word_embedding_dimension"], list(modes)


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
        return make_pooling(*read_pooling(where))
    if kind == "Dense":
        return load_dense(where)
    if kind == "Normalize":
        return Normalize()
    raise ModelLoadError(
        f"{spec} uses module type {entry['type']!r}, which sbert-plugins cannot load; "
        "supported: ['Dense', 'Normalize', 'Pooling', 'Transformer']"
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
    ordered = sorted(spec, key=lambda e: e.get("idx", 0) if isinstance(e, dict) else 0)
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
        takes = module.dimension if isinstance(module, Pooling) else getattr(module, "in_features", None)
        if takes is not None and takes != width:
            raise ModelLoadError(
                f"{folder}: {type(module).__name__} takes vectors of {takes} dims, but the module before it gives "
                f"{width}; the module configs do not belong together"
            )
        if isinstance(module, Pooling):
            width = int(module.output_dimension)
        width = int(getattr(module, "out_features", width))


def read_prompts(folder: Path | None) -> tuple[dict[str, str], str | None]:
    """``(prompts, default_prompt_name)`` declared in config_sentence_transformers.json."""
    path = None if folder is None else folder / ST_MODEL_CONFIG
    if path is None or not path.is_file():
        return {}, None
    config = read_json(path)
    prompts = config.get("prompts") or {} if isinstance(config, dict) else {}
    if not isinstance(prompts, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in prompts.items()):
        raise ModelLoadError(f"{path}: 'prompts' must map names to strings, got {prompts!r:.100}")
    default = config.get("default_prompt_name")
    if default is not None and default not in prompts:
        raise ModelLoadError(f"{path}: default_prompt_name {default!r} is not one of the prompts {sorted(prompts)}")
    return dict(prompts), default


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


def _used_files(folder: Path) -> list[Path]:
    subfolders: set[str] = set()
    if (folder / "modules.json").is_file():
        spec = read_json(folder / "modules.json")
        subfolders = {str(e.get("path", "")) for e in spec if isinstance(e, dict)} if isinstance(spec, list) else set()
    candidates = [p for p in folder.iterdir() if p.is_file()]
    candidates += [p for sub in sorted(subfolders - {""}) if (folder / sub).is_dir() for p in (folder / sub).rglob("*")]
    return sorted(
        p for p in candidates if p.is_file() and not p.name.startswith(".") and p.suffix not in (".md", ".py")
    )


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
