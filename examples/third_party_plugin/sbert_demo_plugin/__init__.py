"""A third-party sbert-plugins plugin, registered through the ``sbert_plugins`` entry point.

It adds, for every host at once (spaCy, scikit-learn, Elasticsearch, the CLI):
  * pooling strategy ``mean_max``: the average of mean and max pooling (same dims);
  * model alias ``demo-minilm``: the packaged all-MiniLM-L6-v2 under another name;
  * chunker ``paragraphs``: split long texts on blank lines, windowing over-long paragraphs.
"""

from __future__ import annotations

import re

from sbert_plugins import hookimpl


def mean_max_pooling(token_embeddings, attention_mask):
    mask = attention_mask.unsqueeze(-1).to(token_embeddings.dtype)
    mean = (token_embeddings * mask).sum(1) / mask.sum(1).clamp(min=1)
    maxed = token_embeddings.masked_fill(mask == 0, -1e4).max(1).values
    return (mean + maxed) / 2


def paragraph_chunks(text, offsets, max_tokens):
    from sbert_plugins import token_window_chunks

    chunks, start = [], 0
    for match in [*list(re.finditer(r"\n\s*\n", text)), None]:
        end = match.start() if match else len(text)
        inside = [o for o in offsets if start <= o[0] < end]
        if inside:
            chunks.extend(token_window_chunks(text, inside, max_tokens))
        start = match.end() if match else end
    return chunks


@hookimpl
def sbert_pooling_strategies():
    return {"mean_max": mean_max_pooling}


@hookimpl
def sbert_resolve_model(name):
    if name == "demo-minilm":
        from sbert_plugins import resolve_model

        return str(resolve_model("all-MiniLM-L6-v2"))
    return None


@hookimpl
def sbert_chunkers():
    return {"paragraphs": paragraph_chunks}
