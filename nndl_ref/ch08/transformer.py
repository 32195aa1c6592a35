"""A Transformer encoder for text matching (book §8.3.2): the word, segment and sinusoidal position
embeddings of §8.3.2.1, ``AddNorm``, ``PositionwiseFFN`` and ``TransformerBlock`` (§8.3.2.2), and
``Model_Transformer`` (§8.3.2.3).

Decided once (docs/errata/ch08.md): ``TransformerBlock`` keeps the book's single ``AddNorm``, so both
Add & Norm steps share one LayerNorm; in eval mode it equals ``nn.TransformerEncoderLayer`` (post-norm,
ReLU) with ``norm1`` and ``norm2`` both tied to ``addnorm.layer_norm``. As in the book it attends with
Paddle's ``nn.MultiHeadAttention`` (the text says the §8.2.1.3 layer).
"""

import numpy as np
import paddle
import paddle.nn as nn
import paddle.nn.functional as F

from .attention import MASK_VALUE


class WordEmbedding(nn.Layer):
    """Token embeddings scaled by √D, book §8.3.2.1 (1): N(0, D^−½) initialisation, the row of ``bos_id``
    (the padding id) zero and without gradient."""

    def __init__(self, vocab_size, emb_size, bos_id=0):
        super().__init__()
        self.emb_size = emb_size
        self.word_embedding = nn.Embedding(
            num_embeddings=vocab_size, embedding_dim=emb_size, padding_idx=bos_id,
            weight_attr=paddle.ParamAttr(initializer=nn.initializer.Normal(0.0, emb_size ** -0.5)))

    def forward(self, word):
        return self.emb_size ** 0.5 * self.word_embedding(word)


class SegmentEmbedding(nn.Layer):
    """Segment (sentence A/B) embeddings, book §8.3.2.1 (2)."""

    def __init__(self, vocab_size, emb_size):
        super().__init__()
        self.emb_size = emb_size
        self.seg_embedding = nn.Embedding(num_embeddings=vocab_size, embedding_dim=emb_size)

    def forward(self, word):
        return self.seg_embedding(word)


def get_sinusoid_encoding(position_size, hidden_size):
    """Eqs. (8.22)–(8.23), book §8.3.2.1 (3): PE[pos, 2i] = sin(pos / 10000^(2i/D)) and PE[pos, 2i+1] =
    cos(pos / 10000^(2i/D)) for 0 ≤ i < D/2, as a float32 numpy array [position_size, hidden_size]."""
    positions = np.arange(position_size, dtype=np.float64)[:, None]
    pair_index = np.arange(hidden_size) // 2                              # i of dimensions 2i and 2i+1
    angles = positions / np.power(10000.0, 2 * pair_index / hidden_size)  # [P, D]
    table = np.where(np.arange(hidden_size) % 2 == 0, np.sin(angles), np.cos(angles))
    return table.astype("float32")


class PositionalEmbedding(nn.Layer):
    """The fixed sinusoid table as an embedding, book §8.3.2.1 (3): no gradient reaches it (the output is
    cut from the graph, as in the book)."""

    def __init__(self, max_length, emb_size):
        super().__init__()
        self.emb_size = emb_size
        self.pos_encoder = nn.Embedding(
            num_embeddings=max_length, embedding_dim=emb_size,
            weight_attr=paddle.ParamAttr(initializer=nn.initializer.Assign(get_sinusoid_encoding(max_length, emb_size))))

    def forward(self, pos):
        pos_emb = self.pos_encoder(pos)
        pos_emb.stop_gradient = True
        return pos_emb


class TransformerEmbeddings(nn.Layer):
    """Word·√D + segment + position embeddings, then LayerNorm and dropout, book §8.3.2.1 (4)."""

    def __init__(self, vocab_size, hidden_size=768, hidden_dropout_prob=0.1, position_size=512, segment_size=2):
        super().__init__()
        self.word_embeddings = WordEmbedding(vocab_size, hidden_size)
        self.position_embeddings = PositionalEmbedding(position_size, hidden_size)
        self.segment_embeddings = SegmentEmbedding(segment_size, hidden_size)
        self.layer_norm = nn.LayerNorm(hidden_size)
        self.dropout = nn.Dropout(hidden_dropout_prob)

    def forward(self, input_ids, segment_ids=None, position_ids=None):
        """input_ids [B, L] → [B, L, D]; position ids default to 0 … L−1, segment ids to all 0."""
        if position_ids is None:
            position_ids = paddle.arange(input_ids.shape[1], dtype="int64").unsqueeze(0).expand(input_ids.shape)
        if segment_ids is None:
            segment_ids = paddle.zeros_like(input_ids, dtype="int64")
        embeddings = (self.word_embeddings(input_ids) + self.segment_embeddings(segment_ids)
                      + self.position_embeddings(position_ids))
        return self.dropout(self.layer_norm(embeddings))


class AddNorm(nn.Layer):
    """Residual connection and layer normalisation LN(X + dropout(H)), eq. (8.24), book §8.3.2.2
    (post-norm)."""

    def __init__(self, size, dropout_rate):
        super().__init__()
        self.layer_norm = nn.LayerNorm(size)
        self.dropout = nn.Dropout(dropout_rate)

    def forward(self, X, H):
        """X, H [B, L, D] → [B, L, D]."""
        return self.layer_norm(X + self.dropout(H))


class PositionwiseFFN(nn.Layer):
    """The position-wise feed-forward network W₂(dropout(ReLU(W₁X + b₁))) + b₂, eq. (8.25), book §8.3.2.2."""

    def __init__(self, input_size, mid_size, dropout=0.1):
        super().__init__()
        self.W_1 = nn.Linear(input_size, mid_size)
        self.W_2 = nn.Linear(mid_size, input_size)
        self.dropout = nn.Dropout(dropout)

    def forward(self, X):
        """X [B, L, D] → [B, L, D]."""
        return self.W_2(self.dropout(F.relu(self.W_1(X))))


class TransformerBlock(nn.Layer):
    """One encoder block, book §8.3.2.2 (fig. 8.17): multi-head self-attention, Add & Norm, the
    position-wise FFN, Add & Norm — both Add & Norm steps with the one ``self.addnorm`` (the book's shared
    LayerNorm)."""

    def __init__(self, input_size, head_num, ffn_size, dropout=0.1, attn_dropout=None, act_dropout=None):
        super().__init__()
        self.input_size = input_size
        self.head_num = head_num
        self.ffn_size = ffn_size
        self.dropout = dropout
        self.attn_dropout = dropout if attn_dropout is None else attn_dropout
        self.act_dropout = dropout if act_dropout is None else act_dropout
        self.multi_head_attention = nn.MultiHeadAttention(input_size, head_num, dropout=self.attn_dropout,
                                                          need_weights=True)
        self.ffn = PositionwiseFFN(input_size, ffn_size, self.act_dropout)
        self.addnorm = AddNorm(input_size, self.dropout)

    def forward(self, X, src_mask=None):
        """X [B, L, D], src_mask broadcastable to [B, heads, L, L] (additive float, or bool True = keep)
        → (output [B, L, D], attention weights [B, heads, L, L])."""
        X_atten, atten_weights = self.multi_head_attention(X, attn_mask=src_mask)
        X = self.addnorm(X, X_atten)
        X = self.addnorm(X, self.ffn(X))
        return X, atten_weights


class Model_Transformer(nn.Layer):
    """``TransformerEmbeddings``, ``n_block`` ``TransformerBlock``s and a BERT-style head (tanh dense layer
    on the [CLS] position, then the classifier), book §8.3.2.3; takes ``(input_ids, segment_ids)`` and
    masks the keys whose id is ``padding_idx`` (0 in the book); ``attention_weights`` is a list with one
    [B, heads, L, L] tensor per block."""

    def __init__(self, vocab_size, n_block=2, hidden_size=768, heads_num=12, intermediate_size=3072,
                 hidden_dropout=0.1, attention_dropout=0.1, act_dropout=0, position_size=512, num_classes=2,
                 padding_idx=0):
        super().__init__()
        self.padding_idx = padding_idx
        self.embeddings = TransformerEmbeddings(vocab_size, hidden_size, hidden_dropout, position_size)
        self.layers = nn.LayerList([
            TransformerBlock(hidden_size, heads_num, intermediate_size, dropout=hidden_dropout,
                             attn_dropout=attention_dropout, act_dropout=act_dropout) for _ in range(n_block)])
        self.dense = nn.Linear(hidden_size, hidden_size)
        self.activation = nn.Tanh()
        self.classifier = nn.Linear(hidden_size, num_classes)
        self._attention_weights = []

    def forward(self, inputs, position_ids=None, attention_mask=None):
        input_ids, segment_ids = inputs
        if attention_mask is None:
            padded = (input_ids == self.padding_idx).astype("float32")
            attention_mask = paddle.unsqueeze(padded * MASK_VALUE, axis=[1, 2])     # [B, 1, 1, L]
        sequence_output = self.embeddings(input_ids, segment_ids=segment_ids, position_ids=position_ids)
        self._attention_weights = []
        for layer in self.layers:
            sequence_output, weights = layer(sequence_output, src_mask=attention_mask)
            self._attention_weights.append(weights)
        pooled_output = self.activation(self.dense(sequence_output[:, 0]))
        return self.classifier(pooled_output)

    @property
    def attention_weights(self):
        return self._attention_weights
