"""Overhead of the spaCy path (nlp.pipe with the sbert component) over the raw encoder
on the same texts, same model instance, same batch size.

    python benchmarks/spacy_overhead.py [--n 3000]
"""

from __future__ import annotations

import argparse
import warnings

import spacy
from _common import stsb_sentences, timer

warnings.filterwarnings("ignore")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=3000)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--docs-per-batch", type=int, default=1000)
    args = parser.parse_args()
    texts = stsb_sentences(args.n)
    nlp = spacy.blank("en")
    component = nlp.add_pipe("sbert", config={"spans": ["doc"], "batch_size": args.batch_size})
    encoder = component.encoder
    encoder.encode(texts[:64])
    t: dict = {}
    for round_ in range(3):  # alternate to even out drift; keep the best of each
        with timer(t, f"raw{round_}"):
            encoder.encode(texts, batch_size=args.batch_size)
        with timer(t, f"tok{round_}"):
            list(nlp.tokenizer.pipe(texts, batch_size=args.docs_per_batch))
        with timer(t, f"spacy{round_}"):
            docs = list(nlp.pipe(texts, batch_size=args.docs_per_batch))
    raw, tok, via_spacy = (min(t[f"{k}{r}"] for r in range(3)) for k in ("raw", "tok", "spacy"))
    assert all(d.has_vector for d in docs)
    print(
        f"{len(texts)} texts, {args.docs_per_batch} docs per nlp.pipe batch: raw encoder {raw:.2f}s "
        f"({len(texts) / raw:.0f}/s), spaCy pipe {via_spacy:.2f}s ({len(texts) / via_spacy:.0f}/s), overhead "
        f"{100 * (via_spacy / raw - 1):.1f}% (of which spaCy's own tokenizer {100 * tok / raw:.1f}%, "
        f"the sbert component {100 * (via_spacy - tok - raw) / raw:.1f}%)"
    )


if __name__ == "__main__":
    main()
