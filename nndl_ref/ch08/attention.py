"""Attention over a BiLSTM's outputs for text classification (book §8.1): the masked softmax of §8.1.2.2
as a named function (the book inlines it), the additive and dot-product scoring functions of §8.1.2.1,
the scaled dot-product and bilinear scores of exercise 8.1, ``Attention`` (§8.1.2.4) and
``Model_LSTMAttention`` (§8.1.2.5).

Paddle 3 no longer promotes int64 lengths to float32 in a comparison (the book's
``arange(float32) < valid_lens``), so the mask is built in the lengths' own integer dtype
(docs/errata/ch08.md).
"""

import paddle
import paddle.nn as nn
import paddle.nn.functional as F

MASK_VALUE = -1e9   # the book's fill for padded positions before the softmax, eq. (8.5)


def masked_softmax(scores, valid_lens):
    """Eq. (8.5), book §8.1.2.2: a softmax over the last axis of ``scores`` [B, L] that gives (almost) no
    weight to the positions at or beyond ``valid_lens`` [B] (int32 or int64): they are filled with −1e9
    first, so what the padded slots held never matters."""
    positions = paddle.arange(scores.shape[-1], dtype="int64")                       # [L]
    mask = positions < valid_lens.astype("int64").unsqueeze(-1)                       # [B, L], True = keep
    filled = paddle.where(mask, scores, paddle.full_like(scores, MASK_VALUE))
    return F.softmax(filled, axis=-1)


def _uniform_query(shape):
    """The learnable query vector q of §8.1.2.1, drawn from U(−0.5, 0.5) as in the book."""
    return paddle.create_parameter(shape=shape, dtype="float32",
                                   default_initializer=nn.initializer.Uniform(low=-0.5, high=0.5))


class AdditiveScore(nn.Layer):
    """Additive scoring s(X, q) = vᵀ tanh(XW + qᵀU), eq. (8.3), book §8.1.2.1: ``W``, ``U`` [D, D] and
    ``v`` [D, 1] are ``nn.Linear`` layers without bias, ``q`` [1, D] a learnable query."""

    def __init__(self, hidden_size):
        super().__init__()
        self.W = nn.Linear(hidden_size, hidden_size, bias_attr=False)
        self.U = nn.Linear(hidden_size, hidden_size, bias_attr=False)
        self.v = nn.Linear(hidden_size, 1, bias_attr=False)
        self.q = _uniform_query([1, hidden_size])

    def forward(self, inputs):
        """inputs [B, L, D] → scores [B, L]."""
        scores = paddle.tanh(self.W(inputs) + self.U(self.q))   # U(q) [1, D] broadcasts over B and L
        return self.v(scores).squeeze(-1)


class DotProductScore(nn.Layer):
    """Dot-product scoring s(X, q) = Xq, eq. (8.4), book §8.1.2.1, with a learnable ``q`` [D, 1]."""

    def __init__(self, hidden_size):
        super().__init__()
        self.q = _uniform_query([hidden_size, 1])

    def forward(self, inputs):
        """inputs [B, L, D] → scores [B, L]."""
        return paddle.matmul(inputs, self.q).squeeze(-1)


class ScaledDotProductScore(nn.Layer):
    """Scaled dot-product scoring s(X, q) = Xq / √D (exercise 8.1, book §8.1; NNDL eq. 8.4), with a
    learnable ``q`` [D, 1] as in ``DotProductScore``."""

    def __init__(self, hidden_size):
        super().__init__()
        self.hidden_size = hidden_size
        self.q = _uniform_query([hidden_size, 1])

    def forward(self, inputs):
        """inputs [B, L, D] → scores [B, L]."""
        return paddle.matmul(inputs, self.q).squeeze(-1) / self.hidden_size ** 0.5


class BilinearScore(nn.Layer):
    """Bilinear scoring s(X, q) = X W q (exercise 8.1, book §8.1; NNDL eq. 8.5): ``W`` [D, D] an
    ``nn.Linear`` without bias, ``q`` [D, 1] learnable."""

    def __init__(self, hidden_size):
        super().__init__()
        self.W = nn.Linear(hidden_size, hidden_size, bias_attr=False)
        self.q = _uniform_query([hidden_size, 1])

    def forward(self, inputs):
        """inputs [B, L, D] → scores [B, L]."""
        return paddle.matmul(self.W(inputs), self.q).squeeze(-1)


class Attention(nn.Layer):
    """Attention pooling z = Σₙ αₙ xₙ, eqs. (8.1)–(8.2), book §8.1.2.4: scores by ``self.scores``
    (additive or dot-product), the masked softmax of §8.1.2.2, then the weighted average; the weights
    [B, L] are kept in ``attention_weights``."""

    def __init__(self, hidden_size, use_additive=False):
        super().__init__()
        self.use_additive = use_additive
        self.scores = AdditiveScore(hidden_size) if use_additive else DotProductScore(hidden_size)
        self._attention_weights = None

    def forward(self, X, valid_lens):
        """X [B, L, D], valid_lens [B] → context [B, D]."""
        attn_weights = masked_softmax(self.scores(X), valid_lens)        # [B, L]
        self._attention_weights = attn_weights
        return paddle.matmul(attn_weights.unsqueeze(1), X).squeeze(1)    # [B, 1, L] @ [B, L, D]

    @property
    def attention_weights(self):
        return self._attention_weights


class Model_LSTMAttention(nn.Layer):
    """Embedding → BiLSTM → ``Attention`` → linear classifier, book §8.1.2.5; takes ``(input_ids [B, L],
    valid_lens [B])`` and returns logits [B, n_classes]."""

    def __init__(self, hidden_size, embedding_size, vocab_size, n_classes=10, n_layers=1, use_additive=False):
        super().__init__()
        self.hidden_size = hidden_size
        self.embedding_size = embedding_size
        self.vocab_size = vocab_size
        self.n_classes = n_classes
        self.n_layers = n_layers
        self.embedding = nn.Embedding(num_embeddings=vocab_size, embedding_dim=embedding_size)
        self.lstm = nn.LSTM(input_size=embedding_size, hidden_size=hidden_size, num_layers=n_layers,
                            direction="bidirectional")
        self.attention = Attention(hidden_size * 2, use_additive=use_additive)
        self.cls_fc = nn.Linear(hidden_size * 2, n_classes)

    def forward(self, inputs):
        input_ids, valid_lens = inputs
        hiddens, _ = self.lstm(self.embedding(input_ids), sequence_length=valid_lens)   # [B, L, 2H]
        return self.cls_fc(self.attention(hiddens, valid_lens))
