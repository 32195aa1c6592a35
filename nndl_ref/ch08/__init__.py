"""Chapter 8 (注意力机制) under the book's names.

``QKVAAttention`` (the book's spelling at its definition) is ``QKVAttention``; ``Model_LSTMSelfAttention``
is the book's ``Model_LSTMSeftAttention``. ``AveragePooling`` and the IMDB pipeline are chapter 6's
(``nndl_ref.ch06``).
"""

from .attention import (Attention, AdditiveScore, BilinearScore, DotProductScore, Model_LSTMAttention,
                        ScaledDotProductScore, masked_softmax)
from .lcqmc import (LCQMCData, LCQMCDataset, collate_fn, load_lcqmc, load_lcqmc_data, prepare_lcqmc,
                    write_lcqmc_stand_in)
from .multi_head import (Model_LSTMSeftAttention, Model_LSTMSelfAttention, MultiHeadSelfAttention,
                         QKVAAttention, QKVAttention, split_head_reshape)
from .plots import plot_attention_heads, plot_attention_weights
from .transformer import (AddNorm, Model_Transformer, PositionalEmbedding, PositionwiseFFN, SegmentEmbedding,
                          TransformerBlock, TransformerEmbeddings, WordEmbedding, get_sinusoid_encoding)

__all__ = [
    "masked_softmax", "AdditiveScore", "DotProductScore", "ScaledDotProductScore", "BilinearScore",
    "Attention", "Model_LSTMAttention",
    "QKVAttention", "QKVAAttention", "split_head_reshape", "MultiHeadSelfAttention",
    "Model_LSTMSeftAttention", "Model_LSTMSelfAttention",
    "prepare_lcqmc", "load_lcqmc", "LCQMCData", "load_lcqmc_data", "LCQMCDataset",
    "collate_fn", "write_lcqmc_stand_in",
    "WordEmbedding", "SegmentEmbedding", "get_sinusoid_encoding", "PositionalEmbedding", "TransformerEmbeddings",
    "AddNorm", "PositionwiseFFN", "TransformerBlock", "Model_Transformer",
    "plot_attention_weights", "plot_attention_heads",
]
