"""scikit-learn end to end: Pipeline(SBERT -> LogisticRegression) tuned with GridSearchCV
over C and pooling, on SentEval MR movie reviews (or a tiny built-in set without the data).

    python examples/sklearn_pipeline.py --limit 2000
"""

from __future__ import annotations

import argparse
import random
import time

from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import Pipeline

from sbert_plugins import SbertPluginsError, embedding_cache, load_senteval
from sbert_plugins.sklearn import SBERTTransformer

FALLBACK = [
    ("a wonderful, moving film", 1),
    ("dull and far too long", 0),
    ("great acting and a smart plot", 1),
    ("a boring mess", 0),
    ("i loved every minute", 1),
    ("the worst movie of the year", 0),
    ("charming and funny", 1),
    ("tedious, predictable and flat", 0),
] * 10


def load(limit: int):
    try:
        texts, labels = load_senteval("MR")["all"]  # needs $SBERT_DATA_DIR
        pairs = [(t, int(y)) for t, y in zip(texts, labels, strict=False)]
    except SbertPluginsError:  # no data folder: still runnable
        pairs = FALLBACK
    random.Random(0).shuffle(pairs)
    pairs = pairs[:limit]
    return [t for t, _ in pairs], [y for _, y in pairs]


def run(limit: int = 2000, model: str = "all-MiniLM-L6-v2") -> dict:
    texts, labels = load(limit)
    x_train, x_test, y_train, y_test = train_test_split(texts, labels, test_size=0.25, random_state=0, stratify=labels)
    pipe = Pipeline([("sbert", SBERTTransformer(model=model)), ("clf", LogisticRegression(max_iter=1000))])
    grid = GridSearchCV(pipe, {"clf__C": [0.1, 1.0, 10.0], "sbert__pooling": ["mean", "max"]}, cv=3, n_jobs=1)
    start = time.perf_counter()
    grid.fit(x_train, y_train)
    result = {
        "best_params": grid.best_params_,
        "cv_accuracy": grid.best_score_,
        "test_accuracy": grid.score(x_test, y_test),
        "seconds": time.perf_counter() - start,
        "texts_encoded": embedding_cache.misses,
        "cache_hits": embedding_cache.hits,
    }
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--limit", type=int, default=2000)
    parser.add_argument("--model", default="all-MiniLM-L6-v2")
    for key, value in run(parser.parse_args().limit, parser.parse_args().model).items():
        print(f"{key}: {value}")
