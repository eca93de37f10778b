"""The encode loop: tokenize once, length-sorted batches, long-text policies.

Batch outputs stay on the encoder's device and are concatenated there; nothing
syncs with the host per batch (one copy-out at the end, by the caller).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import numpy as np
import torch

from .._base.chunkers import token_window_chunks
from .._base.errors import InputError, LongTextWarning
from .._loading.plugin_functions import Chunker

if TYPE_CHECKING:  # the real class, for types only (it imports this module)
    from .encoder import SentenceEncoder


def embed_texts(
    encoder: SentenceEncoder,
    texts: list[str],
    batch_size: int,
    policy: str,
    chunker: Chunker | None,
    progress: bool,
) -> torch.Tensor:
    """Float32 tensor ``(len(texts), dim)`` on the encoder's device, in input order."""
    transformer = encoder.transformer
    ids = transformer.token_ids(texts)
    limit = transformer.max_seq_length
    long = [i for i, x in enumerate(ids) if len(x) > limit]
    if not long:
        return embed_ids(encoder, ids, batch_size, progress)
    longest = max(len(ids[i]) for i in long)
    if policy == "error":
        raise InputError(
            f"{len(long)} of {len(texts)} texts exceed max_seq_length={limit} tokens (longest {longest}; "
            f"indices {long[:10]}); shorten them, raise max_seq_length, or use long_texts='chunk' to embed "
            "them whole",
            indices=long,
            reasons=[
                f"has {len(ids[i])} tokens, over max_seq_length={limit} (long_texts='error'); shorten it or "
                "use long_texts='chunk'"
                for i in long
            ],
        )
    if policy == "warn" or chunker is None:
        warnings.warn(
            f"{len(long)} of {len(texts)} texts exceed max_seq_length={limit} tokens and were truncated "
            f"(longest {longest} tokens; indices {long[:10]}); use long_texts='chunk' to embed them whole "
            "or long_texts='error' to refuse them",
            LongTextWarning,
            stacklevel=4,
        )
        return embed_ids(encoder, [transformer.truncate(x) for x in ids], batch_size, progress)
    return _embed_chunked(encoder, texts, ids, batch_size, chunker, progress)


def _embed_chunked(
    encoder: SentenceEncoder,
    texts: list[str],
    ids: list[list[int]],
    batch_size: int,
    chunker: Chunker,
    progress: bool,
) -> torch.Tensor:
    """Long texts become chunks; a text's vector is the token-weighted mean of its chunks."""
    limit = encoder.max_seq_length
    flat: list[list[int]] = []
    owners: list[int] = []
    for i, row in enumerate(ids):
        pieces = [row] if len(row) <= limit else chunk_ids(encoder, texts[i], chunker)
        flat.extend(pieces)
        owners.extend([i] * len(pieces))
    vectors = embed_ids(encoder, flat, batch_size, progress)
    device = vectors.device
    weights = torch.tensor([len(x) for x in flat], dtype=torch.float32, device=device).unsqueeze(1)
    out = torch.zeros((len(texts), vectors.shape[1]), dtype=torch.float32, device=device)
    total = torch.zeros((len(texts), 1), dtype=torch.float32, device=device)
    index = torch.tensor(owners, device=device)
    out.index_add_(0, index, vectors * weights)
    total.index_add_(0, index, weights)
    out /= total
    if encoder.normalize:
        out = torch.nn.functional.normalize(out, p=2, dim=-1)
    return out


def _offsets(encoder: SentenceEncoder, text: str) -> list[tuple[int, int]]:
    encoded = encoder.tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    return [tuple(pair) for pair in encoded["offset_mapping"]]


def chunk_ids(encoder: SentenceEncoder, text: str, chunker: Chunker) -> list[list[int]]:
    """Token ids of the chunks of one long text, each within max_seq_length."""
    budget = encoder.max_seq_length - encoder.tokenizer.num_special_tokens_to_add(pair=False)
    chunks = chunker(text, _offsets(encoder, text), budget)
    result = []
    for chunk, row in zip(chunks, encoder.transformer.token_ids(chunks), strict=True):
        if len(row) <= encoder.max_seq_length:
            result.append(row)
            continue
        # A chunk re-tokenized on its own can grow by a token or two: window it again.
        result.extend(encoder.transformer.token_ids(token_window_chunks(chunk, _offsets(encoder, chunk), budget)))
    return result


def _batches(order: np.ndarray, batch_size: int, progress: bool) -> Iterable[int]:
    starts: Iterable[int] = range(0, len(order), batch_size)
    if progress:
        from tqdm.auto import tqdm

        starts = tqdm(starts, desc="Batches", unit="batch")
    return starts


def embed_ids(encoder: SentenceEncoder, ids: Sequence[list[int]], batch_size: int, progress: bool) -> torch.Tensor:
    """Run the modules over id lists, longest first, and restore the input order (on the device)."""
    order = np.argsort([-len(x) for x in ids], kind="stable")
    device = encoder.device
    chunks = []
    with torch.inference_mode():
        for start in _batches(order, batch_size, progress):
            batch = [ids[i] for i in order[start : start + batch_size]]
            features = encoder.forward_features(encoder.transformer.collate(batch, device))
            chunks.append(features["sentence_embedding"].float())
        sorted_out = torch.cat(chunks)
        out = torch.empty_like(sorted_out)
        out[torch.from_numpy(order).to(device)] = sorted_out
    return out
