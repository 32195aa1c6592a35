"""A gated recurrent unit in the book's style (exercise 6.4, beyond the book's listings), with Paddle's
``nn.GRU`` equations so that the built-in is its oracle."""

import paddle
import paddle.nn as nn
import paddle.nn.functional as F

class GRU(nn.Layer):
    """R = σ(X W_r + H U_r + b_r), Z = σ(X W_z + H U_z + b_z), C̃ = tanh(X W_c + b_c + R ⊙ (H U_c)),
    H_t = Z ⊙ H_{t−1} + (1 − Z) ⊙ C̃, H_0 = 0 — ``nn.GRU``'s convention (reset applied after the recurrent
    product; Z keeps the old state). Nine parameters W_r, W_z, W_c [M, D], U_* [D, D], b_* [1, D] in that
    order, Xavier-initialised as the book's LSTM; ``forward`` returns the last hidden state [B, D] (book §6.3,
    exercise 6.4)."""

    def __init__(self, input_size, hidden_size, attrs=None):
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        attrs = attrs or {}
        for kind, shape in (("W", [input_size, hidden_size]), ("U", [hidden_size, hidden_size]),
                            ("b", [1, hidden_size])):
            for gate in ("r", "z", "c"):   # reset, update, candidate: nn.GRU's chunk order
                name = f"{kind}_{gate}"
                setattr(self, name, paddle.create_parameter(shape=shape, dtype="float32", attr=attrs.get(name)))

    def forward(self, inputs):
        """inputs [B, L, M] → H_L [B, D]."""
        batch_size, seq_len, _ = inputs.shape
        W = paddle.concat([self.W_r, self.W_z, self.W_c], axis=1)
        b = paddle.concat([self.b_r, self.b_z, self.b_c], axis=1)
        U_gates = paddle.concat([self.U_r, self.U_z], axis=1)
        projected = paddle.matmul(inputs, W) + b                                     # [B, L, 3D]
        hidden_state = paddle.zeros([batch_size, self.hidden_size], dtype=inputs.dtype)
        for step in range(seq_len):
            x_r, x_z, x_c = paddle.split(projected[:, step], 3, axis=1)
            h_r, h_z = paddle.split(paddle.matmul(hidden_state, U_gates), 2, axis=1)
            reset, update = F.sigmoid(x_r + h_r), F.sigmoid(x_z + h_z)
            candidate = F.tanh(x_c + reset * paddle.matmul(hidden_state, self.U_c))
            hidden_state = update * hidden_state + (1 - update) * candidate
        return hidden_state
