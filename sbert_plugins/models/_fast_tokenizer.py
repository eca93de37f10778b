"""A BERT tokenizer answered by the ``tokenizers`` library alone, for fast start.

``import transformers`` costs 0.4-1.0 s on a 2-vCPU machine (it builds the import structure of every
model it ships) before a tokenizer exists; the Rust ``tokenizers`` library that does the work imports in
milliseconds. For a WordPiece ``tokenizer.json`` whose settings agree with its ``tokenizer_config.json``
(the loading layer checks: ``_loading/tokenizer_files``), the calls the encoder makes (ids with special
tokens, offsets, special-token ids, the vocabulary) give the same answers from ``tokenizers``. A call
answers from ``tokenizers`` only when it asks for ids without masks explicitly (the encoder's calls);
any other call and anything else asked of it (``decode``, ``save_pretrained``, padding, pairs, ...) goes
to the Hugging Face tokenizer, built on first use from the same folder, so ``SentenceEncoder.tokenizer``
keeps transformers' API.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

SPECIAL_NAMES = ("unk", "sep", "pad", "cls", "mask", "bos", "eos")
# What a tokenizer call passes to ask for ids alone (the encoder's calls do; the fast path requires it)
IDS_ONLY = {"return_attention_mask": False, "return_token_type_ids": False}
_NEUTRAL = {
    "truncation": (False, None),
    "padding": (False, None),
    "add_special_tokens": (True, False),
    "return_offsets_mapping": (True, False),
}


def _own_call(args: tuple[Any, ...], options: dict[str, Any]) -> bool:
    """Whether a call asks only for what the fast path answers the way transformers would: ids (and
    offsets) of texts without pairs, padding or truncation, no masks. Anything else goes to transformers."""
    if args or any(options.get(k, not v) is not v for k, v in IDS_ONLY.items()):
        return False
    return all(k in IDS_ONLY or v in _NEUTRAL.get(k, ()) for k, v in options.items())


class FastTokenizer:
    """``tokenizer(texts, ...)`` and the attributes the encoder reads, from a ``tokenizers.Tokenizer``."""

    model_input_names = ("input_ids", "token_type_ids", "attention_mask")

    def __init__(
        self,
        backend: Any,
        *,
        special_tokens: Mapping[str, str],
        model_max_length: int,
        full: Callable[[], Any],
    ) -> None:
        backend.no_truncation()  # tokenizer.json may carry its own (MiniLM's: 128) ...
        backend.no_padding()  # ... which transformers' __call__ overrides
        self._backend, self._full, self._full_tokenizer = backend, full, None
        self.model_max_length = model_max_length
        for name in SPECIAL_NAMES:
            token = special_tokens.get(name)
            setattr(self, f"{name}_token", token)
            setattr(self, f"{name}_token_id", None if token is None else backend.token_to_id(token))
        self.all_special_ids = sorted({getattr(self, f"{n}_token_id") for n in special_tokens} - {None})

    def __call__(self, texts: str | Sequence[str], *args: Any, **options: Any) -> Any:
        if not _own_call(args, options) or not isinstance(texts, (str, list, tuple)):
            return self.full(texts, *args, **options)  # pairs, padding, masks, tensors...: transformers' own
        single = isinstance(texts, str)
        batch = [texts] if single else list(texts)
        encoded = self._backend.encode_batch(batch, add_special_tokens=options.get("add_special_tokens", True))
        out: dict[str, Any] = {"input_ids": [e.ids for e in encoded]}
        if options.get("return_offsets_mapping"):
            out["offset_mapping"] = [e.offsets for e in encoded]
        return {k: v[0] for k, v in out.items()} if single else out

    def num_special_tokens_to_add(self, pair: bool = False) -> int:
        return int(self._backend.num_special_tokens_to_add(pair))

    def get_vocab(self) -> dict[str, int]:
        return dict(self._backend.get_vocab(with_added_tokens=True))

    def convert_tokens_to_ids(self, token: str) -> int | None:
        return self._backend.token_to_id(token)

    def __len__(self) -> int:
        return int(self._backend.get_vocab_size(with_added_tokens=True))

    @property
    def full(self) -> Any:
        """The Hugging Face tokenizer of the same folder (built once, on first use)."""
        if self.__dict__.get("_full_tokenizer") is None:
            try:
                self._full_tokenizer = self._full()
            except AttributeError as exc:  # else Python would retry the property through __getattr__
                raise RuntimeError(f"building transformers' tokenizer failed: {exc}") from exc
        return self._full_tokenizer

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name == "full":  # copy and pickle look for hooks; no recursion
            raise AttributeError(name)
        return getattr(self.full, name)

    def __repr__(self) -> str:
        return f"FastTokenizer(vocab={len(self)}, model_max_length={self.model_max_length})"
