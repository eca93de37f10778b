"""spaCy end to end: `nlp.add_pipe("sbert")` with a sentencizer, then
(1) the most similar sentence pairs inside a document and
(2) near-duplicate paragraphs across documents.

    python examples/spacy_similarity.py
"""

from __future__ import annotations

import itertools

import spacy

DOCUMENT = (
    "The city council approved the new budget on Monday. Officials said the plan raises school funding. "
    "Heavy rain flooded several streets downtown. On Monday, the council passed the budget. "
    "Parents welcomed more money for schools. Drivers were told to avoid the flooded roads."
)
PARAGRAPHS = [
    "The council approved the budget on Monday after a long debate about school funding.",
    "A new bakery opened on Main Street, selling bread and pastries baked every morning.",
    "After lengthy debate, the budget was approved by the council on Monday, including school money.",
    "Heavy rain caused flooding in the downtown area and several roads were closed.",
    "Downtown streets were closed because of flooding after heavy rain.",
    "The museum will host a photography exhibition next month.",
]


def build(model: str = "all-MiniLM-L6-v2") -> spacy.language.Language:
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    nlp.add_pipe("sbert", config={"model": model, "spans": ["doc", "sents"]})
    return nlp


def similar_sentences(nlp, text: str, top: int = 3):
    sents = list(nlp(text).sents)
    scored = [(a.similarity(b), a.text, b.text) for a, b in itertools.combinations(sents, 2)]
    return sorted(scored, reverse=True)[:top]


def near_duplicates(nlp, paragraphs, threshold: float = 0.75):
    docs = list(nlp.pipe(paragraphs, batch_size=32))
    pairs = []
    for (i, a), (j, b) in itertools.combinations(enumerate(docs), 2):
        score = a.similarity(b)
        if score >= threshold:
            pairs.append((round(score, 3), i, j))
    return sorted(pairs, reverse=True)


if __name__ == "__main__":
    nlp = build()
    print("Most similar sentences in the document:")
    for score, a, b in similar_sentences(nlp, DOCUMENT):
        print(f"  {score:.3f}  {a!r} ~ {b!r}")
    print("Near-duplicate paragraphs (cosine >= 0.75):")
    for score, i, j in near_duplicates(nlp, PARAGRAPHS):
        print(f"  {score:.3f}  #{i} ~ #{j}")
