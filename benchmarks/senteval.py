"""SentEval linear probe on our embeddings, next to the SBERT paper's table.

Logistic regression on frozen sentence embeddings: 10-fold CV for MR/CR/SUBJ/MPQA,
the given splits for SST/TREC/MRPC (MRPC features: [u, v, |u-v|, u*v] as in SentEval).
C is chosen per task by inner 3-fold CV on the training part.

    python benchmarks/senteval.py [--model all-MiniLM-L6-v2] [--tasks MR CR]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_score

from sbert_plugins import SentenceEncoder, load_senteval

SENTEVAL_TASKS = ("MR", "CR", "SUBJ", "MPQA", "SST", "TREC", "MRPC")

PAPER_SBERT_NLI_BASE = {
    "MR": 83.64,
    "CR": 89.43,
    "SUBJ": 94.39,
    "MPQA": 89.86,
    "SST": 88.96,
    "TREC": 89.6,
    "MRPC": 76.00,
}
C_GRID = {"C": [0.25, 1.0, 4.0]}


def _probe() -> GridSearchCV:
    return GridSearchCV(LogisticRegression(max_iter=2000), C_GRID, cv=3, n_jobs=1)


def _embed(encoder, texts, batch_size=64):
    return encoder.encode(list(texts), batch_size=batch_size, allow_empty=True)


def score_task(encoder, task: str) -> float:
    splits = load_senteval(task)
    if "all" in splits:
        texts, labels = splits["all"]
        cv = StratifiedKFold(n_splits=10, shuffle=True, random_state=0)
        return 100 * cross_val_score(_probe(), _embed(encoder, texts), labels, cv=cv).mean()
    train_x, train_y = splits["train"]
    test_x, test_y = splits["test"]
    if task == "MRPC":

        def features(pairs):
            u = _embed(encoder, [a for a, _ in pairs])
            v = _embed(encoder, [b for _, b in pairs])
            return np.hstack([u, v, np.abs(u - v), u * v])

        x_train, x_test = features(train_x), features(test_x)
    else:
        x_train, x_test = _embed(encoder, train_x), _embed(encoder, test_x)
    if task == "SST" and "dev" in splits:  # SST has a dev split: tune C on it, as SentEval does
        x_dev, dev_y = _embed(encoder, splits["dev"][0]), splits["dev"][1]
        best = max(
            C_GRID["C"], key=lambda c: LogisticRegression(C=c, max_iter=2000).fit(x_train, train_y).score(x_dev, dev_y)
        )
        return 100 * LogisticRegression(C=best, max_iter=2000).fit(x_train, train_y).score(x_test, test_y)
    return 100 * _probe().fit(x_train, train_y).score(x_test, test_y)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default="all-MiniLM-L6-v2")
    parser.add_argument("--tasks", nargs="+", default=list(SENTEVAL_TASKS))
    args = parser.parse_args()
    encoder = SentenceEncoder(args.model, device="cpu")
    print(f"model: {args.model}\n{'task':<6}{'ours':>8}{'paper SBERT-NLI-base':>22}{'seconds':>9}")
    scores = []
    for task in args.tasks:
        start = time.perf_counter()
        score = score_task(encoder, task)
        scores.append(score)
        print(
            f"{task:<6}{score:>8.2f}{PAPER_SBERT_NLI_BASE[task]:>22.2f}{time.perf_counter() - start:>9.1f}", flush=True
        )
    print(f"{'avg':<6}{np.mean(scores):>8.2f}{np.mean([PAPER_SBERT_NLI_BASE[t] for t in args.tasks]):>22.2f}")


if __name__ == "__main__":
    main()
