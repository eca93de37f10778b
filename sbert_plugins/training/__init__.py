"""The paper's training objectives and a fit loop (``pip install sbert-plugins``; torch is a core dependency)."""

from ._examples import NLI_LABELS, InputExample, nli_examples, sts_examples
from ._fit import TrainConfig, TrainResult, fit, sts_evaluator
from ._losses import (
    LOSSES,
    CosineSimilarityLoss,
    MultipleNegativesRankingLoss,
    SoftmaxLoss,
    TripletLoss,
    make_loss,
)

__all__ = [
    "LOSSES",
    "NLI_LABELS",
    "CosineSimilarityLoss",
    "InputExample",
    "MultipleNegativesRankingLoss",
    "SoftmaxLoss",
    "TrainConfig",
    "TrainResult",
    "TripletLoss",
    "fit",
    "make_loss",
    "nli_examples",
    "sts_evaluator",
    "sts_examples",
]
