"""Test helpers for hosts and plugins: a deterministic :class:`FakeEncoder` and a tiny random BERT.

``FakeEncoder`` implements the :class:`~sbert_plugins.Encoder` protocol with no
weights at all (a hashed bag of words), so host tests whose point is not the model
run in milliseconds; it validates input exactly as the real encoder does.
``make_tiny_model`` writes a 2-layer, 32-dim BERT in sentence-transformers format
for tests that need the real encoder code path without downloading anything.
"""

from __future__ import annotations

import hashlib
import os
import re
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ._base.errors import ConfigError, InputError, LongTextWarning
from ._base.options import check_long_texts
from ._base.validation import validate_texts

_WORD = re.compile(r"\w+", re.UNICODE)
# the tiny model's vocabulary (besides letters and digits)
WORDS = tuple(
    "the a an is are was were man woman child dog cat plays playing guitar piano eats food runs park city car red "  # noqa: SIM905
    "blue green big small happy sad music book reads writes on in at with and or not very fast slow . , ! ?".split()
)


class FakeEncoder:
    """A deterministic stand-in for :class:`~sbert_plugins.SentenceEncoder` (no torch, no weights).

    A text's vector is the normalised sum of one pseudo-random vector per lower-cased
    word (seeded by the word), so texts sharing words are similar. ``max_seq_length``
    counts words (plus 2, like [CLS]/[SEP]); ``long_texts`` behaves as in the real encoder.
    """

    def __init__(
        self,
        dimension: int = 32,
        *,
        normalize: bool = True,
        max_seq_length: int = 128,
        long_texts: str = "warn",
        prompts: dict[str, str] | None = None,
        name: str = "fake",
    ) -> None:
        if dimension < 1 or max_seq_length < 3:
            raise ConfigError(f"dimension={dimension}, max_seq_length={max_seq_length} must be >= 1 and >= 3")
        self.name = name
        self._dimension = dimension
        self._normalize = normalize
        self._max_seq_length = max_seq_length
        self.long_texts = check_long_texts(long_texts)
        self._prompts = dict(prompts or {})
        self.calls: list[int] = []  # texts per encode call, for tests that count calls
        self.prefixes: list[str] = []  # the prompt applied in each call

    @property
    def dimension(self) -> int:
        return self._dimension

    @property
    def normalize(self) -> bool:
        return self._normalize

    @property
    def max_seq_length(self) -> int:
        return self._max_seq_length

    @property
    def prompts(self) -> dict[str, str]:
        return dict(self._prompts)

    @property
    def fingerprint(self) -> str:
        return hashlib.sha256(f"fake:{self._dimension}:{self._normalize}".encode()).hexdigest()[:16]

    def contract(self) -> dict[str, Any]:
        return {
            "model": self.name,
            "fingerprint": self.fingerprint,
            "dims": self._dimension,
            "pooling": "bag_of_words",
            "normalize": self._normalize,
            "max_seq_length": self._max_seq_length,
            "prompts": self.prompts,
        }

    def _word_vector(self, word: str) -> np.ndarray:
        seed = int.from_bytes(hashlib.blake2b(word.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "little")
        return np.random.default_rng(seed).standard_normal(self._dimension).astype(np.float32)

    def _vector(self, words: Sequence[str], normalize: bool) -> np.ndarray:
        total = np.zeros(self._dimension, np.float32)
        for word in words:
            total += self._word_vector(word)
        norm = float(np.linalg.norm(total))
        return total / norm if (normalize or self._normalize) and norm > 0 else total

    def _words(self, texts: list[str], policy: str) -> list[list[str]]:
        limit = self._max_seq_length - 2
        words = [_WORD.findall(t.lower()) for t in texts]
        long = [i for i, w in enumerate(words) if len(w) > limit]
        if long and policy == "error":
            reasons = [f"has {len(words[i]) + 2} tokens, over max_seq_length={self._max_seq_length}" for i in long]
            raise InputError(f"{len(long)} texts exceed max_seq_length (indices {long[:10]})", long, reasons)
        if long and policy == "warn":
            warnings.warn(f"{len(long)} of {len(texts)} texts were truncated", LongTextWarning, stacklevel=3)
            words = [w[:limit] for w in words]
        return words

    def encode(
        self,
        texts: Any,
        batch_size: int | None = None,
        *,
        normalize: bool = False,
        convert_to: str = "numpy",
        show_progress_bar: bool | None = None,
        long_texts: str | None = None,
        allow_empty: bool = False,
        unicode_errors: str = "strict",
        prompt_name: str | None = None,
        prompt: str | None = None,
    ) -> np.ndarray:
        if convert_to != "numpy":
            raise ConfigError("FakeEncoder only returns numpy arrays")
        single = isinstance(texts, str)
        items = validate_texts(texts, allow_empty=allow_empty, unicode_errors=unicode_errors)
        prefix = prompt if prompt is not None else self._prompts.get(prompt_name or "", "")
        self.calls.append(len(items))
        self.prefixes.append(prefix)
        words = self._words([prefix + t for t in items], check_long_texts(long_texts or self.long_texts))
        out = (
            np.stack([self._vector(w, normalize) for w in words])
            if items
            else np.zeros((0, self._dimension), np.float32)
        )
        return out[0] if single else out


def _tiny_tokenizer(cls: Any, words: list[str], vocab_file: Path) -> Any:
    """The WordPiece tokenizer over ``words``; checked, since a silently empty vocabulary makes every text [UNK].

    transformers 5 takes the vocabulary itself (``vocab=``) and ignores ``vocab_file``; 4.x reads the file."""
    tokenizer = cls(vocab={w: i for i, w in enumerate(words)}, do_lower_case=True)
    if len(tokenizer) != len(words):
        tokenizer = cls(vocab_file=str(vocab_file), do_lower_case=True)
    if len(tokenizer) != len(words) or tokenizer.convert_tokens_to_ids("guitar") != words.index("guitar"):
        raise RuntimeError(f"tiny tokenizer has {len(tokenizer)} tokens, expected {len(words)}")
    return tokenizer


def make_tiny_model(
    folder: str | os.PathLike[str], *, pooling: str = "mean", normalize: bool = False, seed: int = 0
) -> Path:
    """Write a 2-layer, 32-dim random BERT with a tiny vocabulary in sentence-transformers format."""
    import torch
    from transformers import BertConfig, BertModel, BertTokenizerFast  # type: ignore[attr-defined]

    from ._encoding.encoder import SentenceEncoder
    from ._loading.plugin_functions import make_pooling
    from .models import Normalize, Transformer

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    letters = [chr(c) for c in range(ord("a"), ord("z") + 1)] + [f"##{chr(c)}" for c in range(97, 123)]
    digits = [*"0123456789", *(f"##{d}" for d in "0123456789")]
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS, *letters, *digits]
    words = list(dict.fromkeys(vocab))
    (folder / "vocab.txt").write_text("\n".join(words) + "\n")
    tokenizer = _tiny_tokenizer(BertTokenizerFast, words, folder / "vocab.txt")
    torch.manual_seed(seed)
    config = BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=64,
    )
    modules: list[Any] = [Transformer(BertModel(config), tokenizer, max_seq_length=32), make_pooling(32, pooling)]
    if normalize:
        modules.append(Normalize())
    SentenceEncoder(modules=modules, device="cpu", dtype="float32").save(folder)
    return folder
