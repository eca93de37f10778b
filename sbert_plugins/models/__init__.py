"""Composable modules: Transformer -> Pooling -> (Dense) -> (Normalize)."""
from ._heads import Dense, Normalize
from ._pooling import BUILTIN_POOLING, Pooling, available_pooling
from ._transformer import Transformer

__all__ = ["BUILTIN_POOLING", "Dense", "Normalize", "Pooling", "Transformer", "available_pooling"]
