"""The long short-term memory network of §6.3.1.1, under the book's parameter names."""

import paddle
import paddle.nn as nn
import paddle.nn.functional as F

class LSTM(nn.Layer):
    """I = σ(X W_i + H U_i + b_i), F = σ(X W_f + H U_f + b_f), O = σ(X W_o + H U_o + b_o),
    C̃ = tanh(X W_a + H U_a + b_a), C_t = F ⊙ C_{t−1} + I ⊙ C̃, H_t = O ⊙ tanh(C_t), H_0 = C_0 = 0
    (eqs. 6.7–6.13; the book's code names the candidate's parameters ``_a``). Twelve parameters created in
    the book's order W_i, W_f, W_o, W_a [M, D], U_* [D, D], b_* [1, D], all Xavier-initialised; ``forward``
    returns the last hidden state [B, D] (book §6.3.1.1). ``attrs`` maps a parameter name to a
    ``ParamAttr``."""

    def __init__(self, input_size, hidden_size, attrs=None):
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        attrs = attrs or {}
        for kind, shape in (("W", [input_size, hidden_size]), ("U", [hidden_size, hidden_size]),
                            ("b", [1, hidden_size])):
            for gate in ("i", "f", "o", "a"):   # input, forget, output gates; candidate
                name = f"{kind}_{gate}"
                setattr(self, name, paddle.create_parameter(shape=shape, dtype="float32", attr=attrs.get(name)))

    def forward(self, inputs):
        """inputs [B, L, M] → H_L [B, D]. Each weight kind is concatenated over the gates (exercise 6.2's
        fused product): one input projection for all steps, one recurrent product per step."""
        batch_size, seq_len, _ = inputs.shape
        W = paddle.concat([self.W_i, self.W_f, self.W_o, self.W_a], axis=1)          # [M, 4D]
        U = paddle.concat([self.U_i, self.U_f, self.U_o, self.U_a], axis=1)          # [D, 4D]
        b = paddle.concat([self.b_i, self.b_f, self.b_o, self.b_a], axis=1)          # [1, 4D]
        projected = paddle.matmul(inputs, W) + b                                     # [B, L, 4D]
        hidden_state = paddle.zeros([batch_size, self.hidden_size], dtype=inputs.dtype)
        cell_state = paddle.zeros([batch_size, self.hidden_size], dtype=inputs.dtype)
        for step in range(seq_len):
            gates = projected[:, step] + paddle.matmul(hidden_state, U)
            i_gate, f_gate, o_gate, candidate = paddle.split(gates, 4, axis=1)
            cell_state = F.sigmoid(f_gate) * cell_state + F.sigmoid(i_gate) * F.tanh(candidate)
            hidden_state = F.sigmoid(o_gate) * F.tanh(cell_state)
        return hidden_state
