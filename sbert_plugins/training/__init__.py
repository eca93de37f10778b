"""SBERT training: the paper's siamese objectives on our own encoder."""
from ._data import NLI_LABELS, InputExample, nli_examples, sts_examples
from ._fit import TrainResult, fit, sts_evaluator
from ._losses import (LOSSES, CosineSimilarityLoss, MultipleNegativesRankingLoss, SoftmaxLoss, TripletLoss,
                      make_loss)

__all__ = ["LOSSES", "NLI_LABELS", "CosineSimilarityLoss", "InputExample", "MultipleNegativesRankingLoss",
           "SoftmaxLoss", "TrainResult", "TripletLoss", "fit", "make_loss", "nli_examples", "sts_evaluator",
           "sts_examples"]
