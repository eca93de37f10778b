"""Composable torch modules: Transformer -> Pooling -> (Dense) -> (Normalize).

Each module is handed its configuration (pooling gets its functions) and looks
nothing up; reading model folders is the loading layer's job (``_loading/``).
"""

from ._bert import IGNORED_WEIGHTS, BertEncoder, supports_bert
from ._fast_tokenizer import IDS_ONLY, FastTokenizer
from ._heads import ACTIVATIONS, Dense, Normalize
from ._linear import OneDNNLinear, onednn_linear, onednn_linear_available, use_onednn_linear
from ._pooling import BUILTIN_POOLING, ST_POOLING_KEYS, ST_POOLING_NAMES, Pooling, PoolingFn
from ._static import StaticEmbedding
from ._transformer import ST_CONFIG, Transformer, hf_progress_bars_off

__all__ = [
    "ACTIVATIONS",
    "BUILTIN_POOLING",
    "IDS_ONLY",
    "IGNORED_WEIGHTS",
    "ST_CONFIG",
    "ST_POOLING_KEYS",
    "ST_POOLING_NAMES",
    "BertEncoder",
    "Dense",
    "FastTokenizer",
    "Normalize",
    "OneDNNLinear",
    "Pooling",
    "PoolingFn",
    "StaticEmbedding",
    "Transformer",
    "hf_progress_bars_off",
    "onednn_linear",
    "onednn_linear_available",
    "supports_bert",
    "use_onednn_linear",
]
