"""The encode loop: tokenize once, length-sorted batches, long-text policies."""
from __future__ import annotations

import warnings
from typing import List

import numpy as np
import torch

from ._errors import InputError, LongTextWarning, PluginError


def embed_texts(encoder, texts: List[str], batch_size: int, policy: str, progress: bool) -> torch.Tensor:
    """Float32 CPU tensor ``(len(texts), dim)`` in input order."""
    transformer = encoder.transformer
    ids = transformer.token_ids(texts)
    limit = transformer.max_seq_length
    long = [i for i, x in enumerate(ids) if len(x) > limit]
    if not long:
        return embed_ids(encoder, ids, batch_size, progress)
    longest = max(len(ids[i]) for i in long)
    if policy == "error":
        raise InputError(f"{len(long)} of {len(texts)} texts exceed max_seq_length={limit} tokens "
                         f"(longest {longest}; indices {long[:10]}); shorten them, raise max_seq_length, "
                         "or use long_texts='chunk' to embed them whole")
    if policy == "warn":
        warnings.warn(f"{len(long)} of {len(texts)} texts exceed max_seq_length={limit} tokens and were "
                      f"truncated (longest {longest} tokens; indices {long[:10]}); use long_texts='chunk' "
                      "to embed them whole or long_texts='error' to refuse them",
                      LongTextWarning, stacklevel=3)
        return embed_ids(encoder, [transformer.truncate(x) for x in ids], batch_size, progress)
    return _embed_chunked(encoder, texts, ids, batch_size, progress)


def _embed_chunked(encoder, texts: List[str], ids: List[List[int]], batch_size: int,
                   progress: bool) -> torch.Tensor:
    """Long texts become chunks; a text's vector is the token-weighted mean of its chunks."""
    limit = encoder.max_seq_length
    flat: List[List[int]] = []
    owners: List[int] = []
    for i, row in enumerate(ids):
        pieces = [row] if len(row) <= limit else chunk_ids(encoder, texts[i])
        flat.extend(pieces)
        owners.extend([i] * len(pieces))
    vectors = embed_ids(encoder, flat, batch_size, progress)
    weights = torch.tensor([len(x) for x in flat], dtype=torch.float32).unsqueeze(1)
    out = torch.zeros((len(texts), vectors.shape[1]), dtype=torch.float32)
    total = torch.zeros((len(texts), 1), dtype=torch.float32)
    index = torch.tensor(owners)
    out.index_add_(0, index, vectors * weights)
    total.index_add_(0, index, weights)
    out /= total
    if encoder.normalize:
        out = torch.nn.functional.normalize(out, p=2, dim=-1)
    return out


def chunk_ids(encoder, text: str) -> List[List[int]]:
    """Token ids of the chunks of one long text, each within max_seq_length."""
    from ._chunking import token_window_chunks
    from ._plugins import collect_mapping

    tokenizer = encoder.tokenizer
    budget = encoder.max_seq_length - tokenizer.num_special_tokens_to_add(pair=False)
    chunkers = collect_mapping("sbert_chunkers")
    if encoder.chunker not in chunkers:
        raise InputError(f"chunker {encoder.chunker!r} is not registered; available: {sorted(chunkers)}")
    offsets = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)["offset_mapping"]
    chunks = chunkers[encoder.chunker](text, offsets, budget)
    if not chunks or not all(isinstance(c, str) for c in chunks):
        raise PluginError(encoder.chunker, "sbert_chunkers", f"returned {chunks!r} for a text of "
                          f"{len(text)} chars; a chunker must return non-empty strings")
    result = []
    for chunk, row in zip(chunks, encoder.transformer.token_ids(chunks)):
        if len(row) <= encoder.max_seq_length:
            result.append(row)
            continue
        # A chunk re-tokenized on its own can grow by a token or two: window it again.
        sub_offsets = tokenizer(chunk, add_special_tokens=False, return_offsets_mapping=True)["offset_mapping"]
        result.extend(encoder.transformer.token_ids(token_window_chunks(chunk, sub_offsets, budget)))
    return result


def embed_ids(encoder, ids: List[List[int]], batch_size: int, progress: bool) -> torch.Tensor:
    """Run the modules over id lists, longest first, and restore the input order."""
    order = np.argsort([-len(x) for x in ids], kind="stable")
    device = encoder.device
    chunks = []
    starts = range(0, len(order), batch_size)
    if progress:
        from tqdm.auto import tqdm

        starts = tqdm(starts, desc="Batches", unit="batch")
    with torch.inference_mode():
        for start in starts:
            batch = [ids[i] for i in order[start:start + batch_size]]
            features = encoder.transformer.collate(batch, device)
            features = encoder.forward_features(features)
            chunks.append(features["sentence_embedding"].float().cpu())
    sorted_out = torch.cat(chunks)
    out = torch.empty_like(sorted_out)
    out[torch.from_numpy(order)] = sorted_out
    return out
