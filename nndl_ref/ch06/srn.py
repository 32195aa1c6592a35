"""The simple recurrent network of the memory-capacity experiment (book §6.1.2): the ``SRN`` cell run over
a sequence and the ``Model_RNN4SeqClass`` classifier around it (§6.1.2.4; §6.3 reuses it for the LSTM)."""

import paddle
import paddle.nn as nn
import paddle.nn.functional as F

from .embedding import Embedding


class SRN(nn.Layer):
    """H_t = tanh(X_t W + H_{t−1} U + b), H_0 = 0 (eq. 6.4) with ``W [M, D]``, ``U [D, D]``, ``b [1, D]``
    created in that order with default (Xavier) init, ``b`` included, as the book; ``forward`` returns the
    last hidden state only (book §6.1.2.2). ``*_attr`` (``ParamAttr``) set the initial values."""

    def __init__(self, input_size, hidden_size, W_attr=None, U_attr=None, b_attr=None):
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.W = paddle.create_parameter(shape=[input_size, hidden_size], dtype="float32", attr=W_attr)
        self.U = paddle.create_parameter(shape=[hidden_size, hidden_size], dtype="float32", attr=U_attr)
        self.b = paddle.create_parameter(shape=[1, hidden_size], dtype="float32", attr=b_attr)

    def forward(self, inputs):
        """inputs [B, L, M] → H_L [B, D]: the whole batch at once, one step at a time."""
        batch_size, seq_len, _ = inputs.shape
        hidden_state = paddle.zeros([batch_size, self.hidden_size], dtype=inputs.dtype)
        for step in range(seq_len):
            hidden_state = F.tanh(paddle.matmul(inputs[:, step], self.W) + paddle.matmul(hidden_state, self.U)
                                  + self.b)
        return hidden_state


class Model_RNN4SeqClass(nn.Layer):
    """Digits [B, L] → ``Embedding(num_digits, input_size)`` → the recurrent ``model`` (an ``SRN`` or
    ``LSTM`` instance built outside, kept as ``self.model``: parameter names ``model.W`` … are what
    ``custom_print_log`` looks up) → ``nn.Linear(hidden_size, num_classes)`` logits [B, num_classes]
    (book §6.1.2.4)."""

    def __init__(self, model, num_digits, input_size, hidden_size, num_classes):
        super().__init__()
        self.model = model
        self.num_digits = num_digits
        self.input_size = input_size
        self.embedding = Embedding(num_digits, input_size)
        self.linear = nn.Linear(hidden_size, num_classes)

    def forward(self, inputs):
        return self.linear(self.model(self.embedding(inputs)))
