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
    args = parser.parse_args()
    texts = stsb_sentences(args.n)
    nlp = spacy.blank("en")
    component = nlp.add_pipe("sbert", config={"spans": ["doc"], "batch_size": args.batch_size})
    encoder = component.encoder
    encoder.encode(texts[:64])
    t: dict = {}
    for round_ in range(2):  # alternate to even out drift
        with timer(t, f"raw{round_}"):
            encoder.encode(texts, batch_size=args.batch_size)
        with timer(t, f"spacy{round_}"):
            docs = list(nlp.pipe(texts, batch_size=256))
    raw, via_spacy = min(t["raw0"], t["raw1"]), min(t["spacy0"], t["spacy1"])
    assert all(d.has_vector for d in docs)
    print(f"{len(texts)} texts: raw encoder {raw:.2f}s ({len(texts) / raw:.0f}/s), "
          f"spaCy pipe {via_spacy:.2f}s ({len(texts) / via_spacy:.0f}/s), overhead {100 * (via_spacy / raw - 1):.1f}%")


if __name__ == "__main__":
    main()
