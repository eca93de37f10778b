"""The paper's siamese objectives (section 3) plus in-batch negatives.

Every loss takes the encoder and a list of tokenized feature dicts (one per
text column) and returns a scalar, so ``fit`` treats them alike.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from torch import nn

from .._base.errors import ConfigError

if TYPE_CHECKING:
    from .._encoding.encoder import SentenceEncoder

Features = list[dict[str, torch.Tensor]]


def _embed(encoder: SentenceEncoder, features: Features) -> list[torch.Tensor]:
    return [encoder.forward_features(dict(f))["sentence_embedding"] for f in features]


class SoftmaxLoss(nn.Module):
    """Classification objective: softmax(W (u, v, |u - v|)) with cross-entropy (NLI labels)."""

    def __init__(self, dimension: int, num_labels: int = 3) -> None:
        super().__init__()
        self.classifier = nn.Linear(3 * dimension, num_labels)
        self.num_labels = num_labels

    def forward(self, encoder: SentenceEncoder, features: Features, labels: torch.Tensor) -> torch.Tensor:
        if len(features) != 2:
            raise ConfigError(f"SoftmaxLoss needs sentence pairs, got {len(features)} text column(s)")
        u, v = _embed(encoder, features)
        logits = self.classifier(torch.cat([u, v, (u - v).abs()], dim=-1))
        return nn.functional.cross_entropy(logits, labels.long())


class CosineSimilarityLoss(nn.Module):
    """Regression objective: MSE between cos(u, v) and the gold score (scaled to [0, 1])."""

    def forward(self, encoder: SentenceEncoder, features: Features, labels: torch.Tensor) -> torch.Tensor:
        if len(features) != 2:
            raise ConfigError(f"CosineSimilarityLoss needs sentence pairs, got {len(features)} text column(s)")
        u, v = _embed(encoder, features)
        return nn.functional.mse_loss(nn.functional.cosine_similarity(u, v), labels.float())


class TripletLoss(nn.Module):
    """Triplet objective: max(||a - p|| - ||a - n|| + margin, 0), Euclidean, margin 1."""

    def __init__(self, margin: float = 1.0) -> None:
        super().__init__()
        self.margin = margin

    def forward(self, encoder: SentenceEncoder, features: Features, labels: torch.Tensor | None = None) -> torch.Tensor:
        if len(features) != 3:
            raise ConfigError(f"TripletLoss needs (anchor, positive, negative), got {len(features)} column(s)")
        a, p, n = _embed(encoder, features)
        return torch.relu((a - p).norm(dim=-1) - (a - n).norm(dim=-1) + self.margin).mean()


class MultipleNegativesRankingLoss(nn.Module):
    """In-batch negatives: each anchor must pick its own positive among all positives
    (plus optional hard negatives) by scaled cosine; cross-entropy over the batch."""

    def __init__(self, scale: float = 20.0) -> None:
        super().__init__()
        self.scale = scale

    def forward(self, encoder: SentenceEncoder, features: Features, labels: torch.Tensor | None = None) -> torch.Tensor:
        if len(features) < 2:
            raise ConfigError("MultipleNegativesRankingLoss needs (anchor, positive[, negatives...]) columns")
        anchors, *others = _embed(encoder, features)
        candidates = torch.cat(others)
        scores = self.scale * nn.functional.normalize(anchors, dim=-1) @ nn.functional.normalize(candidates, dim=-1).T
        return nn.functional.cross_entropy(scores, torch.arange(len(anchors), device=scores.device))


LOSSES: dict[str, type[nn.Module]] = {
    "softmax": SoftmaxLoss,
    "cosine": CosineSimilarityLoss,
    "triplet": TripletLoss,
    "mnrl": MultipleNegativesRankingLoss,
}


def make_loss(name: str, encoder: SentenceEncoder, num_labels: int = 3) -> nn.Module:
    if name not in LOSSES:
        raise ConfigError(f"unknown loss {name!r}; choose one of {sorted(LOSSES)}")
    return SoftmaxLoss(encoder.dimension, num_labels) if name == "softmax" else LOSSES[name]()
