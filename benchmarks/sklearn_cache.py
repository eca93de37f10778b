"""GridSearchCV over an SBERT pipeline: embedding cache vs the naive path (cache=False)
that re-encodes every fold for every parameter set.

    python benchmarks/sklearn_cache.py [--n 2000]
"""

from __future__ import annotations

import argparse
import warnings

from _common import timer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline

from sbert_plugins import embedding_cache as DEFAULT_CACHE
from sbert_plugins import load_senteval
from sbert_plugins.sklearn import SBERTTransformer

warnings.filterwarnings("ignore")


def search(texts, labels, cache: bool) -> GridSearchCV:
    pipe = Pipeline([("sbert", SBERTTransformer(cache=cache)), ("clf", LogisticRegression(max_iter=1000))])
    return GridSearchCV(pipe, {"clf__C": [0.1, 1.0, 10.0]}, cv=5).fit(texts, labels)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=2000)
    args = parser.parse_args()
    texts, labels = load_senteval("MR")["all"]
    texts, labels = texts[::5][: args.n], labels[::5][: args.n]
    t: dict = {}
    DEFAULT_CACHE.clear()
    with timer(t, "cached"):
        a = search(texts, labels, cache=True)
    encoded = DEFAULT_CACHE.misses
    with timer(t, "naive"):
        b = search(texts, labels, cache=False)
    print(
        f"{len(texts)} texts, 5 folds x 3 C values (+ refit): cached {t['cached']:.1f}s "
        f"({encoded} texts encoded), naive {t['naive']:.1f}s; speed-up {t['naive'] / t['cached']:.1f}x; "
        f"same best score: {abs(a.best_score_ - b.best_score_) < 1e-9}"
    )


if __name__ == "__main__":
    main()
