"""Chapter-6 hidden checks catch known-wrong implementations and accept different correct ones: Embedding
(§6.1.2.1), SRN (§6.1.2.2), gradient clipping (§6.2.3), LSTM (§6.3.1.1), exercise 6.4's GRU, collate_fn
(§6.4.1.3) and AveragePooling (§6.4.2)."""

import copy

import numpy as np
import paddle
import paddle.nn as nn
import paddle.nn.functional as F

import nndl_ref.ch06 as ref
from nndl_grading.hidden import ch06 as hidden
from hidden_cases import hidden_check_tests

REFERENCE_ENV = {name: getattr(ref, name) for name in ref.__all__}


def _zeros(like, width):
    return paddle.zeros([like.shape[0], width], dtype=like.dtype)


# ============================================================================ Embedding (§6.1.2.1)
class emb_stub(ref.Embedding):
    def forward(self, inputs):
        raise NotImplementedError


class emb_shifted_ids(ref.Embedding):
    def forward(self, inputs):
        return self.W[(inputs + 1) % self.W.shape[0]]


class emb_flattened(ref.Embedding):
    def forward(self, inputs):                    # [B·L, M] instead of [B, L, M]
        return paddle.gather(self.W, inputs.reshape([-1]))


class emb_numpy_lookup(ref.Embedding):
    def forward(self, inputs):                    # right values, no graph back to W
        return paddle.to_tensor(self.W.numpy()[inputs.numpy()])


class emb_detached(ref.Embedding):
    def forward(self, inputs):
        return self.W.detach()[inputs]


class emb_one_hot_product(ref.Embedding):
    def forward(self, inputs):                    # eq. (6.3) literally
        return paddle.matmul(F.one_hot(inputs, self.W.shape[0]), self.W)


class emb_index_select(ref.Embedding):
    def forward(self, inputs):
        rows = paddle.index_select(self.W, inputs.reshape([-1]), axis=0)
        return rows.reshape(list(inputs.shape) + [self.W.shape[1]])


# ============================================================================ SRN (§6.1.2.2)
class _SRN(ref.SRN):
    """The step written as ``step(x_t, h)`` so that a variant changes one thing."""

    def step(self, x, h):
        return F.tanh(paddle.matmul(x, self.W) + paddle.matmul(h, self.U) + self.b)

    def forward(self, inputs):
        h = _zeros(inputs, self.hidden_size)
        for t in range(inputs.shape[1]):
            h = self.step(inputs[:, t], h)
        return h


class srn_stub(ref.SRN):
    def forward(self, inputs):
        raise NotImplementedError


class srn_stale_hidden_state(_SRN):
    def forward(self, inputs):                    # every step starts again from H_0
        h0 = _zeros(inputs, self.hidden_size)
        h = h0
        for t in range(inputs.shape[1]):
            h = self.step(inputs[:, t], h0)
        return h


class srn_bias_outside_tanh(_SRN):
    def step(self, x, h):
        return F.tanh(paddle.matmul(x, self.W) + paddle.matmul(h, self.U)) + self.b


class srn_U_transposed(_SRN):
    def step(self, x, h):
        return F.tanh(paddle.matmul(x, self.W) + paddle.matmul(h, self.U.T) + self.b)


class srn_returns_every_state(_SRN):
    def forward(self, inputs):
        h, states = _zeros(inputs, self.hidden_size), []
        for t in range(inputs.shape[1]):
            h = self.step(inputs[:, t], h)
            states.append(h)
        return paddle.stack(states, axis=1)


class srn_reversed_time(_SRN):
    def forward(self, inputs):
        return super().forward(paddle.flip(inputs, [1]))


class srn_truncated_bptt(_SRN):
    def step(self, x, h):                         # forward right, gradients cut at every step
        return super().step(x, h.detach())


class srn_numpy_round_trip(_SRN):
    def forward(self, inputs):
        return paddle.to_tensor(super().forward(inputs).numpy())


class srn_calls_nn_simple_rnn(ref.SRN):
    def forward(self, inputs):
        rnn = nn.SimpleRNN(self.input_size, self.hidden_size)
        rnn.weight_ih_l0.set_value(self.W.T)
        rnn.weight_hh_l0.set_value(self.U.T)
        rnn.bias_ih_l0.set_value(self.b.reshape([-1]))
        rnn.bias_hh_l0.set_value(paddle.zeros([self.hidden_size]))
        return rnn(inputs)[1][0]


SIMPLE_RNN_MADE_AT_THE_TOP = nn.SimpleRNN(*hidden.GRADIENT_CASE[2:])   # outside the harness: only run in forward


class srn_runs_a_simple_rnn_made_elsewhere(ref.SRN):
    def forward(self, inputs):                    # nn.SimpleRNN's forward is RNNBase's, inherited
        rnn = SIMPLE_RNN_MADE_AT_THE_TOP
        rnn.weight_ih_l0.set_value(self.W.T)
        rnn.weight_hh_l0.set_value(self.U.T)
        rnn.bias_ih_l0.set_value(self.b.reshape([-1]))
        rnn.bias_hh_l0.set_value(paddle.zeros([self.hidden_size]))
        return rnn(inputs)[1][0]


class srn_precomputed_projection(ref.SRN):
    def forward(self, inputs):                    # X W + b for every step in one product
        projected = paddle.matmul(inputs, self.W) + self.b
        h = _zeros(inputs, self.hidden_size)
        for t in range(inputs.shape[1]):
            h = paddle.tanh(projected[:, t] + h @ self.U)
        return h


class srn_float64_inside(ref.SRN):
    def forward(self, inputs):
        W, U, b = (p.astype("float64") for p in (self.W, self.U, self.b))
        x = inputs.astype("float64")
        h = paddle.zeros([inputs.shape[0], self.hidden_size], dtype="float64")
        for t in range(inputs.shape[1]):
            h = paddle.tanh(paddle.einsum("bm,md->bd", x[:, t], W) + h @ U + b)
        return h.astype("float32")


# ============================================================================ clipping (§6.2.3)
def clip_stub(grad, clip_norm):
    raise NotImplementedError


def clip_always_rescales(grad, clip_norm):
    return grad * (clip_norm / paddle.linalg.norm(grad))


def clip_by_value(grad, clip_norm):
    return paddle.clip(grad, -clip_norm, clip_norm)


def clip_l1_norm(grad, clip_norm):
    norm = paddle.abs(grad).sum()
    return grad * (clip_norm / paddle.maximum(norm, paddle.full_like(norm, clip_norm)))


def clip_per_row(grad, clip_norm):
    rows = grad.reshape([grad.shape[0], -1])
    norms = paddle.sqrt((rows ** 2).sum(axis=1, keepdim=True))
    return (rows * clip_norm / paddle.maximum(norms, paddle.full_like(norms, clip_norm))).reshape(grad.shape)


def clip_calls_builtin(grad, clip_norm):
    param = paddle.create_parameter(grad.shape, "float32")
    return nn.ClipGradByNorm(clip_norm)([(param, grad)])[0][1]


def clip_calls_clip_by_norm(grad, clip_norm):       # Paddle's functional clipping: right numbers, not by hand
    return paddle.nn.clip.clip_by_norm(grad, clip_norm)


def clip_python_branch(grad, clip_norm):
    norm = float(np.sqrt((grad.numpy().astype("float64") ** 2).sum()))
    return grad if norm <= clip_norm else grad * (clip_norm / norm)


def clip_squared_sum(grad, clip_norm):
    norm = paddle.sqrt(paddle.sum(grad * grad))
    return paddle.where(norm > clip_norm, grad * clip_norm / norm, grad)


def global_stub(grads, clip_norm):
    raise NotImplementedError


def global_per_tensor(grads, clip_norm):
    return [ref.clip_grad_by_norm(g, clip_norm) for g in grads]


def global_sum_of_norms(grads, clip_norm):
    total = sum(paddle.linalg.norm(g) for g in grads)
    return [g * (clip_norm / paddle.maximum(total, paddle.full_like(total, clip_norm))) for g in grads]


def global_concatenated(grads, clip_norm):    # one flat tensor instead of the list
    return ref.clip_grad_by_norm(paddle.concat([g.reshape([-1]) for g in grads]), clip_norm)


def global_calls_builtin(grads, clip_norm):
    pairs = [(paddle.create_parameter(g.shape, "float32"), g) for g in grads]
    return [g for _, g in nn.ClipGradByGlobalNorm(clip_norm)(pairs)]


def global_calls_clip_by_norm(grads, clip_norm):    # flatten, concatenate, clip once, split back
    flat = paddle.nn.clip.clip_by_norm(paddle.concat([g.reshape([-1]) for g in grads]), clip_norm)
    pieces = paddle.split(flat, [int(np.prod(g.shape)) for g in grads])
    return [piece.reshape(g.shape) for piece, g in zip(pieces, grads)]


def global_flattened_norm(grads, clip_norm):
    norm = paddle.linalg.norm(paddle.concat([g.flatten() for g in grads]))
    return [g * clip_norm / norm if float(norm) > clip_norm else g for g in grads]


# ============================================================================ LSTM (§6.3.1.1)
class _LSTM(ref.LSTM):
    """The book's per-gate loop, with the gate functions as methods so that a variant changes one step."""

    def gate(self, x, h, name, activation=F.sigmoid):
        return activation(paddle.matmul(x, getattr(self, f"W_{name}")) + paddle.matmul(h, getattr(self, f"U_{name}"))
                          + getattr(self, f"b_{name}"))

    def cell(self, x, h, c):
        i, f, o = self.gate(x, h, "i"), self.gate(x, h, "f"), self.gate(x, h, "o")
        c = f * c + i * self.gate(x, h, "a", F.tanh)
        return o * F.tanh(c), c

    def forward(self, inputs):
        h = c = _zeros(inputs, self.hidden_size)
        for t in range(inputs.shape[1]):
            h, c = self.cell(inputs[:, t], h, c)
        return h


class lstm_stub(ref.LSTM):
    def forward(self, inputs):
        raise NotImplementedError


class lstm_gates_swapped(_LSTM):
    def cell(self, x, h, c):                      # forget and output gates exchanged
        i, f, o = self.gate(x, h, "i"), self.gate(x, h, "o"), self.gate(x, h, "f")
        c = f * c + i * self.gate(x, h, "a", F.tanh)
        return o * F.tanh(c), c


class lstm_paddle_chunk_order(ref.LSTM):
    def forward(self, inputs):                    # the fused product, split as if the chunks were i, f, c, o
        W = paddle.concat([self.W_i, self.W_f, self.W_o, self.W_a], axis=1)
        U = paddle.concat([self.U_i, self.U_f, self.U_o, self.U_a], axis=1)
        b = paddle.concat([self.b_i, self.b_f, self.b_o, self.b_a], axis=1)
        h = c = _zeros(inputs, self.hidden_size)
        for t in range(inputs.shape[1]):
            i, f, a, o = paddle.split(inputs[:, t] @ W + h @ U + b, 4, axis=1)
            c = F.sigmoid(f) * c + F.sigmoid(i) * F.tanh(a)
            h = F.sigmoid(o) * F.tanh(c)
        return h


class lstm_no_tanh_on_cell(_LSTM):
    def cell(self, x, h, c):
        i, f, o = self.gate(x, h, "i"), self.gate(x, h, "f"), self.gate(x, h, "o")
        c = f * c + i * self.gate(x, h, "a", F.tanh)
        return o * c, c


class lstm_sigmoid_candidate(_LSTM):
    def cell(self, x, h, c):
        i, f, o = self.gate(x, h, "i"), self.gate(x, h, "f"), self.gate(x, h, "o")
        c = f * c + i * self.gate(x, h, "a")
        return o * F.tanh(c), c


class lstm_cell_not_carried(_LSTM):
    def cell(self, x, h, c):
        i, o = self.gate(x, h, "i"), self.gate(x, h, "o")
        c = i * self.gate(x, h, "a", F.tanh)
        return o * F.tanh(c), c


class lstm_stale_hidden_state(_LSTM):
    def forward(self, inputs):                    # the gates always see H_0
        h0 = c = _zeros(inputs, self.hidden_size)
        for t in range(inputs.shape[1]):
            h, c = self.cell(inputs[:, t], h0, c)
        return h


class lstm_U_transposed(_LSTM):
    def gate(self, x, h, name, activation=F.sigmoid):
        return activation(paddle.matmul(x, getattr(self, f"W_{name}")) + paddle.matmul(h, getattr(self, f"U_{name}").T)
                          + getattr(self, f"b_{name}"))


class lstm_truncated_bptt(_LSTM):
    def cell(self, x, h, c):
        return super().cell(x, h.detach(), c.detach())


class lstm_calls_nn_lstm(ref.LSTM):
    def forward(self, inputs):
        lstm = nn.LSTM(self.input_size, self.hidden_size)
        for target, kind in (("weight_ih_l0", "W"), ("weight_hh_l0", "U")):
            getattr(lstm, target).set_value(paddle.concat(
                [getattr(self, f"{kind}_{g}") for g in "ifao"], axis=1).T)
        lstm.bias_ih_l0.set_value(paddle.concat([getattr(self, f"b_{g}") for g in "ifao"], axis=1).reshape([-1]))
        lstm.bias_hh_l0.set_value(paddle.zeros([4 * self.hidden_size]))
        return lstm(inputs)[1][0][0]


class lstm_float64_inside(_LSTM):
    def forward(self, inputs):
        saved = {name: getattr(self, name) for name, _ in self.named_parameters()}
        h = c = paddle.zeros([inputs.shape[0], self.hidden_size], dtype="float64")
        x = inputs.astype("float64")
        p = {name: value.astype("float64") for name, value in saved.items()}
        for t in range(inputs.shape[1]):
            g = {k: x[:, t] @ p[f"W_{k}"] + h @ p[f"U_{k}"] + p[f"b_{k}"] for k in "ifoa"}
            c = F.sigmoid(g["f"]) * c + F.sigmoid(g["i"]) * paddle.tanh(g["a"])
            h = F.sigmoid(g["o"]) * paddle.tanh(c)
        return h.astype("float32")


# ============================================================================ GRU (exercise 6.4)
class _GRU(ref.GRU):
    def candidate(self, x, h, r):
        return F.tanh(x @ self.W_c + self.b_c + r * (h @ self.U_c))

    def mix(self, h, z, c):
        return z * h + (1 - z) * c

    def forward(self, inputs):
        h = _zeros(inputs, self.hidden_size)
        for t in range(inputs.shape[1]):
            x = inputs[:, t]
            r = F.sigmoid(x @ self.W_r + h @ self.U_r + self.b_r)
            z = F.sigmoid(x @ self.W_z + h @ self.U_z + self.b_z)
            h = self.mix(h, z, self.candidate(x, h, r))
        return h


class gru_stub(ref.GRU):
    def forward(self, inputs):
        raise NotImplementedError


class gru_update_reversed(_GRU):
    def mix(self, h, z, c):
        return (1 - z) * h + z * c


class gru_reset_before_product(_GRU):
    def candidate(self, x, h, r):                 # the other textbook form, not nn.GRU's
        return F.tanh(x @ self.W_c + self.b_c + (r * h) @ self.U_c)


class gru_U_transposed(_GRU):
    def candidate(self, x, h, r):
        return F.tanh(x @ self.W_c + self.b_c + r * (h @ self.U_c.T))


class gru_truncated_bptt(_GRU):
    def mix(self, h, z, c):
        return z * h.detach() + (1 - z) * c


class gru_calls_nn_gru(ref.GRU):
    def forward(self, inputs):
        gru = nn.GRU(self.input_size, self.hidden_size)
        gru.weight_ih_l0.set_value(paddle.concat([self.W_r, self.W_z, self.W_c], axis=1).T)
        gru.weight_hh_l0.set_value(paddle.concat([self.U_r, self.U_z, self.U_c], axis=1).T)
        gru.bias_ih_l0.set_value(paddle.concat([self.b_r, self.b_z, self.b_c], axis=1).reshape([-1]))
        gru.bias_hh_l0.set_value(paddle.zeros([3 * self.hidden_size]))
        return gru(inputs)[1][0]


class gru_fused_products(ref.GRU):
    def forward(self, inputs):                    # the reference's fused form, gates split differently
        h = _zeros(inputs, self.hidden_size)
        Wx = paddle.matmul(inputs, paddle.concat([self.W_r, self.W_z, self.W_c], axis=1))
        for t in range(inputs.shape[1]):
            rz = F.sigmoid(Wx[:, t, :2 * self.hidden_size] + h @ paddle.concat([self.U_r, self.U_z], axis=1)
                           + paddle.concat([self.b_r, self.b_z], axis=1))
            r, z = rz[:, :self.hidden_size], rz[:, self.hidden_size:]
            c = F.tanh(Wx[:, t, 2 * self.hidden_size:] + self.b_c + r * (h @ self.U_c))
            h = h + (1 - z) * (c - h)               # = z·h + (1 − z)·c
        return h


# ============================================================================ collate_fn (§6.4.1.3)
def collate_stub(batch_data, pad_val=0, max_seq_len=256):
    raise NotImplementedError


def _tensors(seqs, lens, labels):
    return (paddle.to_tensor(seqs, dtype="int64"), paddle.to_tensor(lens, dtype="int64")), \
        paddle.to_tensor(labels, dtype="int64")


def collate_pads_to_max_seq_len(batch_data, pad_val=0, max_seq_len=256):
    seqs = [list(s[:max_seq_len]) for s, _ in batch_data]
    return _tensors([s + [pad_val] * (max_seq_len - len(s)) for s in seqs], [len(s) for s in seqs],
                    [label for _, label in batch_data])


def collate_lengths_before_cut(batch_data, pad_val=0, max_seq_len=256):
    seqs = [list(s[:max_seq_len]) for s, _ in batch_data]
    width = max(len(s) for s in seqs)
    return _tensors([s + [pad_val] * (width - len(s)) for s in seqs], [len(s) for s, _ in batch_data],
                    [label for _, label in batch_data])


def collate_ignores_pad_val(batch_data, pad_val=0, max_seq_len=256):
    return ref.collate_fn(batch_data, 0, max_seq_len)


def collate_keeps_the_end(batch_data, pad_val=0, max_seq_len=256):
    return ref.collate_fn([(list(s)[-max_seq_len:], label) for s, label in batch_data], pad_val, max_seq_len)


def collate_flat_tuple(batch_data, pad_val=0, max_seq_len=256):
    (seqs, lens), labels = ref.collate_fn(batch_data, pad_val, max_seq_len)
    return seqs, lens, labels


def collate_float_ids(batch_data, pad_val=0, max_seq_len=256):
    (seqs, lens), labels = ref.collate_fn(batch_data, pad_val, max_seq_len)
    return (seqs.astype("float32"), lens), labels


def collate_lists(batch_data, pad_val=0, max_seq_len=256):
    (seqs, lens), labels = ref.collate_fn(batch_data, pad_val, max_seq_len)
    return (seqs.numpy().tolist(), lens.numpy().tolist()), labels.numpy().tolist()


def collate_with_numpy(batch_data, pad_val=0, max_seq_len=256):
    lens = np.array([min(len(s), max_seq_len) for s, _ in batch_data])
    seqs = np.full((len(batch_data), lens.max()), pad_val, dtype=np.int64)
    for row, (s, _) in enumerate(batch_data):
        seqs[row, :lens[row]] = s[:lens[row]]
    labels = np.array([label for _, label in batch_data])
    return (paddle.to_tensor(seqs), paddle.to_tensor(lens)), paddle.to_tensor(labels)


def collate_pads_in_place(batch_data, pad_val=0, max_seq_len=256):
    """Cuts and pads the very lists it is given (correct: the batch is the caller's to hand over)."""
    for seq, _ in batch_data:
        del seq[max_seq_len:]
    lens = [len(seq) for seq, _ in batch_data]
    for seq, _ in batch_data:
        seq.extend([pad_val] * (max(lens) - len(seq)))
    return _tensors([seq for seq, _ in batch_data], lens, [label for _, label in batch_data])


def test_collate_check_keeps_its_cases_when_the_student_pads_in_place():
    before = copy.deepcopy(hidden.COLLATE_CASES)
    hidden.check_collate_fn({**REFERENCE_ENV, "collate_fn": collate_pads_in_place})      # direct route: no copy
    hidden.check_collate_fn(REFERENCE_ENV)
    assert hidden.COLLATE_CASES == before


# ============================================================================ AveragePooling (§6.4.2)
class pool_stub(ref.AveragePooling):
    def forward(self, sequence_output, sequence_length):
        raise NotImplementedError


class _MaskedPooling(ref.AveragePooling):
    def mask(self, positions, lengths):
        return positions < lengths

    def forward(self, sequence_output, sequence_length):
        lengths = sequence_length.astype("float32").reshape([-1, 1])
        positions = paddle.arange(sequence_output.shape[1], dtype="float32")
        mask = self.mask(positions, lengths).astype("float32").unsqueeze(-1)
        return (sequence_output * mask).sum(axis=1) / self.divisor(sequence_output, lengths)

    def divisor(self, sequence_output, lengths):
        return lengths


class pool_divides_by_padded_length(_MaskedPooling):
    def divisor(self, sequence_output, lengths):
        return float(sequence_output.shape[1])


class pool_mask_includes_length(_MaskedPooling):
    def mask(self, positions, lengths):
        return positions <= lengths


class pool_mask_one_short(_MaskedPooling):
    def mask(self, positions, lengths):
        return positions < lengths - 1


class pool_no_mask(ref.AveragePooling):
    def forward(self, sequence_output, sequence_length):
        return sequence_output.mean(axis=1)


class pool_masked_sum(_MaskedPooling):
    def divisor(self, sequence_output, lengths):
        return 1.0


class pool_numpy_round_trip(ref.AveragePooling):
    def forward(self, sequence_output, sequence_length):
        return paddle.to_tensor(super().forward(sequence_output, sequence_length).numpy())


class pool_per_sample_loop(ref.AveragePooling):
    def forward(self, sequence_output, sequence_length):
        return paddle.stack([sequence_output[i, :int(sequence_length[i])].mean(axis=0)
                             for i in range(sequence_output.shape[0])])


class pool_integer_mask(ref.AveragePooling):
    def forward(self, sequence_output, sequence_length):      # compare as integers, then cast
        lengths = sequence_length.astype("int64").reshape([-1, 1])
        mask = (paddle.arange(sequence_output.shape[1]).unsqueeze(0) < lengths).astype(sequence_output.dtype)
        return paddle.einsum("blh,bl->bh", sequence_output, mask) / lengths.astype(sequence_output.dtype)


class pool_cumulative_sum(ref.AveragePooling):
    def forward(self, sequence_output, sequence_length):      # prefix sums read at each length
        lengths = sequence_length.astype("int64")
        sums = paddle.cumsum(sequence_output, axis=1)
        picked = paddle.take_along_axis(sums, (lengths - 1).reshape([-1, 1, 1]).expand(
            [sums.shape[0], 1, sums.shape[2]]), axis=1)
        return picked.squeeze(1) / lengths.astype(sums.dtype).unsqueeze(-1)


WRONG_VARIANTS = {
    "check_embedding_forward": [("stub", {"Embedding": emb_stub}), ("shifted ids", {"Embedding": emb_shifted_ids}),
                                ("flattened output", {"Embedding": emb_flattened})],
    "check_embedding_gradient": [("numpy lookup", {"Embedding": emb_numpy_lookup}),
                                 ("detached table", {"Embedding": emb_detached}), ("stub", {"Embedding": emb_stub})],
    "check_srn_forward": [("stub", {"SRN": srn_stub}), ("stale hidden state", {"SRN": srn_stale_hidden_state}),
                          ("bias outside tanh", {"SRN": srn_bias_outside_tanh}),
                          ("U transposed", {"SRN": srn_U_transposed}),
                          ("every state", {"SRN": srn_returns_every_state}),
                          ("reversed time", {"SRN": srn_reversed_time})],
    "check_srn_gradients": [("truncated BPTT", {"SRN": srn_truncated_bptt}),
                            ("numpy round trip", {"SRN": srn_numpy_round_trip}),
                            ("U transposed", {"SRN": srn_U_transposed})],
    "check_srn_by_hand": [("calls nn.SimpleRNN", {"SRN": srn_calls_nn_simple_rnn}), ("stub", {"SRN": srn_stub}),
                          ("runs an nn.SimpleRNN made elsewhere", {"SRN": srn_runs_a_simple_rnn_made_elsewhere})],
    "check_clip_grad_by_norm": [("stub", {"clip_grad_by_norm": clip_stub}),
                                ("always rescales", {"clip_grad_by_norm": clip_always_rescales}),
                                ("by value", {"clip_grad_by_norm": clip_by_value}),
                                ("L1 norm", {"clip_grad_by_norm": clip_l1_norm}),
                                ("per row", {"clip_grad_by_norm": clip_per_row}),
                                ("calls nn.ClipGradByNorm", {"clip_grad_by_norm": clip_calls_builtin}),
                                ("calls paddle.nn.clip.clip_by_norm", {"clip_grad_by_norm": clip_calls_clip_by_norm})],
    "check_clip_grad_by_global_norm": [("stub", {"clip_grad_by_global_norm": global_stub}),
                                       ("per tensor", {"clip_grad_by_global_norm": global_per_tensor}),
                                       ("sum of norms", {"clip_grad_by_global_norm": global_sum_of_norms}),
                                       ("one flat tensor", {"clip_grad_by_global_norm": global_concatenated}),
                                       ("calls nn.ClipGradByGlobalNorm",
                                        {"clip_grad_by_global_norm": global_calls_builtin}),
                                       ("clip_by_norm on the concatenation",
                                        {"clip_grad_by_global_norm": global_calls_clip_by_norm})],
    "check_lstm_forward": [("stub", {"LSTM": lstm_stub}), ("forget/output swapped", {"LSTM": lstm_gates_swapped}),
                           ("Paddle's chunk order on the book's names", {"LSTM": lstm_paddle_chunk_order}),
                           ("no tanh on the cell", {"LSTM": lstm_no_tanh_on_cell}),
                           ("sigmoid candidate", {"LSTM": lstm_sigmoid_candidate}),
                           ("cell not carried", {"LSTM": lstm_cell_not_carried}),
                           ("stale hidden state", {"LSTM": lstm_stale_hidden_state}),
                           ("U transposed", {"LSTM": lstm_U_transposed})],
    "check_lstm_gradients": [("truncated BPTT", {"LSTM": lstm_truncated_bptt}), ("stub", {"LSTM": lstm_stub})],
    "check_lstm_by_hand": [("calls nn.LSTM", {"LSTM": lstm_calls_nn_lstm})],
    "check_gru_forward": [("stub", {"GRU": gru_stub}), ("update gate reversed", {"GRU": gru_update_reversed}),
                          ("reset before the product", {"GRU": gru_reset_before_product}),
                          ("U transposed", {"GRU": gru_U_transposed})],
    "check_gru_gradients": [("truncated BPTT", {"GRU": gru_truncated_bptt}), ("stub", {"GRU": gru_stub})],
    "check_gru_by_hand": [("calls nn.GRU", {"GRU": gru_calls_nn_gru})],
    "check_collate_fn": [("stub", {"collate_fn": collate_stub}),
                         ("pads to max_seq_len", {"collate_fn": collate_pads_to_max_seq_len}),
                         ("lengths before cutting", {"collate_fn": collate_lengths_before_cut}),
                         ("ignores pad_val", {"collate_fn": collate_ignores_pad_val}),
                         ("keeps the end", {"collate_fn": collate_keeps_the_end}),
                         ("flat tuple", {"collate_fn": collate_flat_tuple}),
                         ("float ids", {"collate_fn": collate_float_ids}),
                         ("python lists", {"collate_fn": collate_lists})],
    "check_average_pooling_values": [("stub", {"AveragePooling": pool_stub}),
                                     ("divides by L", {"AveragePooling": pool_divides_by_padded_length}),
                                     ("mask t <= length", {"AveragePooling": pool_mask_includes_length}),
                                     ("mask t < length - 1", {"AveragePooling": pool_mask_one_short}),
                                     ("no mask", {"AveragePooling": pool_no_mask}),
                                     ("masked sum", {"AveragePooling": pool_masked_sum})],
    "check_average_pooling_gradients": [("numpy round trip", {"AveragePooling": pool_numpy_round_trip}),
                                        ("no mask", {"AveragePooling": pool_no_mask}),
                                        ("divides by L", {"AveragePooling": pool_divides_by_padded_length})],
}

ALTERNATIVES = {
    "check_embedding_forward": [("one-hot product", {"Embedding": emb_one_hot_product}),
                                ("index_select", {"Embedding": emb_index_select})],
    "check_embedding_gradient": [("one-hot product", {"Embedding": emb_one_hot_product}),
                                 ("index_select", {"Embedding": emb_index_select})],
    "check_srn_forward": [("book's loop", {"SRN": _SRN}),
                          ("precomputed projection", {"SRN": srn_precomputed_projection}),
                          ("float64 inside", {"SRN": srn_float64_inside})],
    "check_srn_gradients": [("precomputed projection", {"SRN": srn_precomputed_projection}),
                            ("float64 inside", {"SRN": srn_float64_inside})],
    "check_srn_by_hand": [("book's loop", {"SRN": _SRN})],
    "check_clip_grad_by_norm": [("python branch", {"clip_grad_by_norm": clip_python_branch}),
                                ("paddle.where", {"clip_grad_by_norm": clip_squared_sum})],
    "check_clip_grad_by_global_norm": [("flattened norm", {"clip_grad_by_global_norm": global_flattened_norm})],
    "check_lstm_forward": [("book's per-gate loop", {"LSTM": _LSTM}),
                           ("float64 inside", {"LSTM": lstm_float64_inside})],
    "check_lstm_gradients": [("book's per-gate loop", {"LSTM": _LSTM}),
                             ("float64 inside", {"LSTM": lstm_float64_inside})],
    "check_lstm_by_hand": [("book's per-gate loop", {"LSTM": _LSTM})],
    "check_gru_forward": [("separate products", {"GRU": _GRU}), ("fused products", {"GRU": gru_fused_products})],
    "check_gru_gradients": [("separate products", {"GRU": _GRU}), ("fused products", {"GRU": gru_fused_products})],
    "check_gru_by_hand": [("separate products", {"GRU": _GRU})],
    "check_collate_fn": [("numpy buffer", {"collate_fn": collate_with_numpy}),
                         ("pads the given lists in place", {"collate_fn": collate_pads_in_place})],
    "check_average_pooling_values": [("per-sample loop", {"AveragePooling": pool_per_sample_loop}),
                                     ("integer mask", {"AveragePooling": pool_integer_mask}),
                                     ("prefix sums", {"AveragePooling": pool_cumulative_sum})],
    "check_average_pooling_gradients": [("per-sample loop", {"AveragePooling": pool_per_sample_loop}),
                                        ("integer mask", {"AveragePooling": pool_integer_mask}),
                                        ("prefix sums", {"AveragePooling": pool_cumulative_sum})],
}

hidden_check_tests("ch06", globals())
