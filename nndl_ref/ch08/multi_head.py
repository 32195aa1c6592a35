"""Multi-head self-attention (book §8.2): ``QKVAttention`` (§8.2.1.2, eq. 8.11), ``split_head_reshape``
and ``MultiHeadSelfAttention`` (§8.2.1.3, eqs. 8.12–8.21), and the BiLSTM classifier that averages its
outputs, ``Model_LSTMSeftAttention`` (§8.2.2, the book's spelling).

The book defines ``QKVAAttention`` and uses ``QKVAttention``; both names are the same class here. Its
``valid_lens`` has one entry per query row, shape [B·L], as the book's code requires (its docstring says
[B]). ``MultiHeadSelfAttention`` repeats each sample's length M·L times with ``repeat_interleave``
instead of the book's numpy round trip (docs/errata/ch08.md).
"""

import paddle
import paddle.nn as nn

from .attention import masked_softmax
from ..ch06.sequence_pooling import AveragePooling


class QKVAttention(nn.Layer):
    """Scaled dot-product attention softmax(QKᵀ/√size) V, eq. (8.11), book §8.2.1.2, with the keys at or
    beyond each query row's valid length masked (−1e9 before the softmax); the weights [B, L, L] are kept
    in ``attention_weights``."""

    def __init__(self, size):
        super().__init__()
        self.sqrt_size = float(size) ** 0.5
        self._attention_weights = None

    def forward(self, Q, K, V, valid_lens):
        """Q, K, V [B, L, D], valid_lens [B·L] (row b·L + i: the length for query i of sample b) → [B, L, D]."""
        batch_size, seq_len, _ = Q.shape
        score = paddle.matmul(Q, K, transpose_y=True) / self.sqrt_size                   # [B, L, L]
        weights = masked_softmax(score.reshape([batch_size * seq_len, seq_len]), valid_lens)
        self._attention_weights = weights.reshape([batch_size, seq_len, seq_len])
        return paddle.matmul(self._attention_weights, V)

    @property
    def attention_weights(self):
        return self._attention_weights


QKVAAttention = QKVAttention   # the book's spelling at its definition (§8.2.1.2)


def split_head_reshape(X, heads_num, head_size):
    """Eqs. (8.17)–(8.18), book §8.2.1.3: [B, L, M·D_m] → [B·M, L, D_m], row b·M + m holding head m of
    sample b."""
    batch_size, seq_len, _ = X.shape
    X = paddle.reshape(X, [batch_size, seq_len, heads_num, head_size])
    return paddle.reshape(paddle.transpose(X, [0, 2, 1, 3]), [batch_size * heads_num, seq_len, head_size])


class MultiHeadSelfAttention(nn.Layer):
    """Multi-head self-attention, eqs. (8.12)–(8.21), book §8.2.1.3: the affine maps ``Q_proj``, ``K_proj``,
    ``V_proj`` [D, D], the heads split by ``split_head_reshape``, ``QKVAttention(head_size)`` on each,
    the heads merged back and ``out_proj``. ``dropout`` is accepted and unused, as in the book."""

    def __init__(self, inputs_size, heads_num, dropout=0.0):
        super().__init__()
        self.inputs_size = inputs_size
        self.qsize, self.ksize, self.vsize = inputs_size, inputs_size, inputs_size
        self.heads_num = heads_num
        self.head_size = inputs_size // heads_num
        assert self.head_size * heads_num == inputs_size, "embed_size must be divisible by heads_num"
        self.Q_proj = nn.Linear(self.qsize, inputs_size)
        self.K_proj = nn.Linear(self.ksize, inputs_size)
        self.V_proj = nn.Linear(self.vsize, inputs_size)
        self.out_proj = nn.Linear(inputs_size, inputs_size)
        self.attention = QKVAttention(self.head_size)

    def forward(self, X, valid_lens):
        """X [B, L, D], valid_lens [B] → [B, L, D]; the weights [B·M, L, L] are in
        ``self.attention.attention_weights``."""
        batch_size, seq_len, _ = X.shape
        Q, K, V = [split_head_reshape(proj(X), self.heads_num, self.head_size)
                   for proj in (self.Q_proj, self.K_proj, self.V_proj)]
        row_lens = paddle.repeat_interleave(valid_lens, self.heads_num * seq_len, axis=0)   # [B·M·L]
        out = self.attention(Q, K, V, row_lens)                                              # [B·M, L, D_m]
        out = paddle.reshape(out, [batch_size, self.heads_num, seq_len, self.head_size])
        out = paddle.reshape(paddle.transpose(out, [0, 2, 1, 3]), [batch_size, seq_len, self.inputs_size])
        return self.out_proj(out)


class Model_LSTMSeftAttention(nn.Layer):
    """Embedding → BiLSTM → the injected ``attention`` layer → ``AveragePooling`` (§6.4.2) → linear
    classifier, book §8.2.2 (the book's spelling ``Seft``; ``Model_LSTMSelfAttention`` is the same
    class); takes ``(input_ids [B, L], valid_lens [B])``."""

    def __init__(self, hidden_size, embedding_size, vocab_size, n_classes=10, n_layers=1, attention=None):
        super().__init__()
        self.hidden_size = hidden_size
        self.embedding_size = embedding_size
        self.vocab_size = vocab_size
        self.n_classes = n_classes
        self.n_layers = n_layers
        self.embedding = nn.Embedding(num_embeddings=vocab_size, embedding_dim=embedding_size)
        self.lstm = nn.LSTM(input_size=embedding_size, hidden_size=hidden_size, num_layers=n_layers,
                            direction="bidirectional")
        self.attention = attention
        self.average_layer = AveragePooling()
        self.cls_fc = nn.Linear(hidden_size * 2, n_classes)

    def forward(self, inputs):
        input_ids, valid_lens = inputs
        hiddens, _ = self.lstm(self.embedding(input_ids), sequence_length=valid_lens)   # [B, L, 2H]
        attended = self.attention(hiddens, valid_lens)                                   # [B, L, 2H]
        return self.cls_fc(self.average_layer(attended, valid_lens))


Model_LSTMSelfAttention = Model_LSTMSeftAttention
