"""The encode loop: tokenize once, length-sorted batches (on CPU also bounded in tokens), long-text policies.

Batch outputs stay on the encoder's device and are concatenated there; nothing
syncs with the host per batch (one copy-out at the end, by the caller).

The work per text is bounded: under ``long_texts='warn'`` / ``'error'`` only the first
``max_seq_length * CHARS_PER_TOKEN`` characters of a text are tokenized (enough to fill the model and
to see that the text is longer; a text over that many characters counts as long), and
``long_texts='chunk'`` embeds texts of at most ``MAX_CHUNKED_CHARS`` characters (a longer one is
refused, by index, with the fix). A tokenizer that fails on a text (including a Rust panic, which
is not an ``Exception``) fails that text alone, as an ``InputError`` naming its index.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
import torch

from .._base.chunkers import token_window_chunks
from .._base.errors import InputError, LongTextWarning, ModelLoadError
from .._loading.plugin_functions import Chunker
from ..models import IDS_ONLY, Transformer

if TYPE_CHECKING:  # the real class, for types only (it imports this module)
    from .encoder import SentenceEncoder

T = TypeVar("T")
CHARS_PER_TOKEN = 64  # characters looked at per token of max_seq_length (real tokens average 3-6)
MAX_CHUNKED_CHARS = 1_000_000  # the longest text long_texts='chunk' embeds (about 250k tokens)
# On CPU a batch also holds at most this many padded tokens. Measured on an AMD EPYC (2 vCPUs, MiniLM,
# each against unbounded batches of 64 in the same run): +7 % on STSb sentences (~16 tokens), +27 % on
# texts of ~107 tokens, +25 % on ~246, in bf16 and fp32 alike; 512 and 2,048 were within noise of it.
CPU_BATCH_TOKENS = 1024
_FATAL = (KeyboardInterrupt, SystemExit, GeneratorExit, MemoryError)


def _tokenizer_failed(exc: BaseException) -> str:
    return f"the model's tokenizer failed on it ({type(exc).__name__}: {str(exc)[:200]})"


def guarded(tokenize: Callable[[list[str]], list[T]], texts: list[str]) -> list[T]:
    """``tokenize(texts)``; where the tokenizer fails, the texts it fails on alone become an InputError.

    Tokenizers are Rust code: a pathological pre-tokenizer regex can panic, which Python sees as
    ``pyo3_runtime.PanicException`` (a ``BaseException``), so ``except Exception`` would miss it."""
    try:
        return tokenize(texts)
    except _FATAL:
        raise
    except BaseException as batch_error:
        bad: list[int] = []
        reasons: list[str] = []
        for i, text in enumerate(texts):
            try:
                tokenize([text])
            except _FATAL:
                raise
            except BaseException as exc:
                bad.append(i)
                reasons.append(_tokenizer_failed(exc))
        if not bad:  # the batch fails but no text alone does: not an input problem
            raise ModelLoadError(f"the model's tokenizer failed on a batch: {_tokenizer_failed(batch_error)}") from None
        raise InputError(
            f"the model's tokenizer failed on {len(bad)} of {len(texts)} texts (indices {bad[:10]})", bad, reasons
        ) from None


def _bounded_ids(transformer: Transformer, texts: list[str], policy: str) -> tuple[list[list[int]], list[int]]:
    """Token ids (``warn`` / ``error``: of each text's first characters only) and the indices of texts
    longer than those characters."""
    if policy == "chunk":
        over = [i for i, t in enumerate(texts) if len(t) > MAX_CHUNKED_CHARS]
        if over:
            raise InputError(
                f"{len(over)} texts are longer than the {MAX_CHUNKED_CHARS:,} characters long_texts='chunk' "
                f"embeds (indices {over[:10]}); split them before encoding",
                over,
                [f"has {len(texts[i]):,} characters, over {MAX_CHUNKED_CHARS:,}; split it first" for i in over],
            )
        return guarded(transformer.token_ids, texts), []
    cap = transformer.max_seq_length * CHARS_PER_TOKEN
    cut = [i for i, t in enumerate(texts) if len(t) > cap]
    heads = [t[:cap] for t in texts] if cut else texts
    return guarded(transformer.token_ids, heads), cut


def embed_texts(
    encoder: SentenceEncoder,
    texts: list[str],
    batch_size: int,
    policy: str,
    chunker: Chunker | None,
    progress: bool,
    prompt_length: int = 0,
) -> torch.Tensor:
    """Float32 tensor ``(len(texts), dim)`` on the encoder's device, in input order.

    ``prompt_length`` is how many leading tokens of every text are the prompt (for pooling with
    ``include_prompt=False``); chunks of long texts carry no prompt length."""
    transformer = encoder.transformer
    ids, cut = _bounded_ids(transformer, texts, policy if chunker is not None else "warn")
    limit = transformer.max_seq_length
    long = sorted({i for i, x in enumerate(ids) if len(x) > limit} | set(cut))
    if not long:
        return embed_ids(encoder, ids, batch_size, progress, prompt_length)
    longest = max(len(ids[i]) for i in long)  # tokens seen (of the first characters only, for cut texts)
    if policy == "error":
        raise InputError(
            f"{len(long)} of {len(texts)} texts exceed max_seq_length={limit} tokens (longest {longest}; "
            f"indices {long[:10]}); shorten them, raise max_seq_length, or use long_texts='chunk' to embed "
            "them whole",
            indices=long,
            reasons=[
                f"has {'over ' if i in cut else ''}{len(ids[i])} tokens, over max_seq_length={limit} "
                "(long_texts='error'); shorten it or use long_texts='chunk'"
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
        return embed_ids(encoder, [transformer.truncate(x) for x in ids], batch_size, progress, prompt_length)
    return _embed_chunked(encoder, texts, ids, batch_size, chunker, progress, prompt_length)


def _embed_chunked(
    encoder: SentenceEncoder,
    texts: list[str],
    ids: list[list[int]],
    batch_size: int,
    chunker: Chunker,
    progress: bool,
    prompt_length: int = 0,
) -> torch.Tensor:
    """Long texts become chunks; a text's vector is the token-weighted mean of its chunks.

    Texts that fit are embedded whole, with the prompt length; chunks carry none (only the first chunk
    of a text holds its prompt, and pooling keeps every chunk's tokens)."""
    limit = encoder.max_seq_length
    flat: list[list[int]] = []
    owners: list[int] = []
    for i, row in enumerate(ids):
        try:
            pieces = [row] if len(row) <= limit else chunk_ids(encoder, texts[i], chunker)
        except InputError as exc:  # the tokenizer failed on this text's pieces: it fails alone
            raise InputError(f"text {i}: {exc}", [i], [exc.reasons[0] if exc.reasons else str(exc)]) from None
        flat.extend(pieces)
        owners.extend([i] * len(pieces))
    vectors = _embed_split(encoder, flat, [len(ids[o]) <= limit for o in owners], batch_size, progress, prompt_length)
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


def _embed_split(
    encoder: SentenceEncoder,
    flat: list[list[int]],
    whole: list[bool],
    batch_size: int,
    progress: bool,
    prompt_length: int,
) -> torch.Tensor:
    """``embed_ids`` of the whole texts with their prompt length and of the chunks without, in ``flat``'s order."""
    if prompt_length == 0 or all(whole) or not any(whole):
        return embed_ids(encoder, flat, batch_size, progress, prompt_length if all(whole) else 0)
    rows = [i for i, w in enumerate(whole) if w]
    pieces = [i for i, w in enumerate(whole) if not w]
    first = embed_ids(encoder, [flat[i] for i in rows], batch_size, progress, prompt_length)
    second = embed_ids(encoder, [flat[i] for i in pieces], batch_size, progress, 0)
    out = torch.empty((len(flat), first.shape[1]), dtype=first.dtype, device=first.device)
    out[torch.tensor(rows, device=first.device)] = first
    out[torch.tensor(pieces, device=first.device)] = second
    return out


def _offsets(encoder: SentenceEncoder, text: str) -> list[tuple[int, int]]:
    def offsets(texts: list[str]) -> list[Any]:
        encoded = encoder.tokenizer(texts, add_special_tokens=False, return_offsets_mapping=True, **IDS_ONLY)
        return list(encoded["offset_mapping"])

    return [(int(a), int(b)) for a, b in guarded(offsets, [text])[0]]


def chunk_ids(encoder: SentenceEncoder, text: str, chunker: Chunker) -> list[list[int]]:
    """Token ids of the chunks of one long text, each within max_seq_length."""
    budget = encoder.max_seq_length - encoder.tokenizer.num_special_tokens_to_add(pair=False)
    chunks = chunker(text, _offsets(encoder, text), budget)
    result = []
    for chunk, row in zip(chunks, guarded(encoder.transformer.token_ids, chunks), strict=True):
        if len(row) <= encoder.max_seq_length:
            result.append(row)
            continue
        # A chunk re-tokenized on its own can grow by a token or two: window it again.
        windows = token_window_chunks(chunk, _offsets(encoder, chunk), budget)
        result.extend(guarded(encoder.transformer.token_ids, windows))
    return result


def _spans(lengths: np.ndarray, batch_size: int, token_budget: int | None) -> list[tuple[int, int]]:
    """Batches over texts sorted longest first: at most ``batch_size`` texts and, with a budget, at most
    ``token_budget`` padded tokens (the first text's length sets the width), never fewer than one text."""
    spans, start = [], 0
    while start < len(lengths):
        count = batch_size if token_budget is None else min(batch_size, max(1, token_budget // int(lengths[start])))
        spans.append((start, min(start + count, len(lengths))))
        start = spans[-1][1]
    return spans


def _batches(spans: list[tuple[int, int]], total: int, progress: bool) -> Iterable[tuple[int, int]]:
    """The spans; with ``progress``, a bar counting texts, so its rate is the throughput (texts/s)."""
    if not progress:
        return spans
    return _counted(spans, total)


def _counted(spans: list[tuple[int, int]], total: int) -> Iterable[tuple[int, int]]:
    from tqdm.auto import tqdm

    with tqdm(total=total, desc="Encoding", unit="text", unit_scale=True, smoothing=0.1) as bar:
        for start, end in spans:
            yield start, end
            bar.update(end - start)


def embed_ids(
    encoder: SentenceEncoder, ids: Sequence[list[int]], batch_size: int, progress: bool, prompt_length: int = 0
) -> torch.Tensor:
    """Run the modules over id lists, longest first, and restore the input order (on the device)."""
    order = np.argsort([-len(x) for x in ids], kind="stable")
    device = encoder.device
    budget = CPU_BATCH_TOKENS if device.type == "cpu" else None
    spans = _spans(np.array([max(len(ids[i]), 1) for i in order]), batch_size, budget)
    chunks = []
    with torch.inference_mode():
        for start, end in _batches(spans, len(order), progress):
            batch = [ids[i] for i in order[start:end]]
            features: dict[str, Any] = {**encoder.transformer.collate(batch, device), "prompt_length": prompt_length}
            features = encoder.forward_features(features)
            chunks.append(features["sentence_embedding"].float())
        sorted_out = torch.cat(chunks)
        out = torch.empty_like(sorted_out)
        out[torch.from_numpy(order).to(device)] = sorted_out
    return out
