"""Chapter-8 hidden checks catch known-wrong implementations and accept different correct ones:
masked_softmax (§8.1.2.2), the scores (§8.1.2.1, exercise 8.1), Attention (§8.1.2.4), QKVAttention
(§8.2.1.2), split_head_reshape and MultiHeadSelfAttention (§8.2.1.3), get_sinusoid_encoding (§8.3.2.1),
AddNorm, PositionwiseFFN and TransformerBlock (§8.3.2.2)."""

import textwrap

import numpy as np
import paddle
import paddle.nn.functional as F

import nndl_ref.ch07 as ref7
import nndl_ref.ch08 as ref
from hidden_cases import hidden_check_tests
from nndl_grading.checks import tolerances
from nndl_grading.hidden import ch08 as hidden

REFERENCE_ENV = {name: getattr(ref, name) for name in ref.__all__}
BOOK_SOFTMAX, SOFTMAX = "check_masked_softmax_book_example", "check_masked_softmax_padding"
ADDITIVE, DOT, SCALED, BILINEAR = ("check_additive_score", "check_dot_product_score", "check_scaled_dot_score",
                                   "check_bilinear_score")
ATTENTION, BOOK_QKV, QKV = "check_attention_forward", "check_qkv_book_example", "check_qkv_mask"
SPLIT, MHSA, SINUSOID = "check_split_head_reshape", "check_multi_head_self_attention", "check_sinusoid_encoding"
ADDNORM, FFN, BLOCK = "check_addnorm", "check_positionwise_ffn", "check_transformer_block"
ADDNORM_DROPOUT, FFN_DROPOUT, BLOCK_DROPOUT = ("check_addnorm_dropout", "check_positionwise_ffn_dropout",
                                               "check_transformer_block_dropout")


def _keep(scores, valid_lens):
    return paddle.arange(scores.shape[-1]).astype("int64") < valid_lens.astype("int64").unsqueeze(-1)


# ============================================================================ masked softmax
def softmax_then_mask(scores, valid_lens):
    return F.softmax(scores, axis=-1) * _keep(scores, valid_lens).astype(scores.dtype)


def fill_with_zero(scores, valid_lens):
    return F.softmax(paddle.where(_keep(scores, valid_lens), scores, paddle.zeros_like(scores)), axis=-1)


def off_by_one(scores, valid_lens):
    keep = paddle.arange(scores.shape[-1]).astype("int64") <= valid_lens.astype("int64").unsqueeze(-1)
    return F.softmax(paddle.where(keep, scores, paddle.full_like(scores, -1e9)), axis=-1)


def int_cast_only_float_lens(scores, valid_lens):     # the book's listing: fails on Paddle 3 with int lengths
    keep = paddle.arange(scores.shape[-1], dtype="float32") < valid_lens.unsqueeze(-1)
    return F.softmax(paddle.where(keep, scores, paddle.full_like(scores, -1e9)), axis=-1)


def additive_minus_inf(scores, valid_lens):
    penalty = paddle.where(_keep(scores, valid_lens), paddle.zeros_like(scores), paddle.full_like(scores, -np.inf))
    return F.softmax(scores + penalty, axis=-1)


def renormalised_multiplicative(scores, valid_lens):
    exp = paddle.exp(scores - scores.max(axis=-1, keepdim=True)) * _keep(scores, valid_lens).astype(scores.dtype)
    return exp / exp.sum(axis=-1, keepdim=True)


# ============================================================================ scores
class additive_without_tanh(ref.AdditiveScore):
    def forward(self, inputs):
        return self.v(self.W(inputs) + self.U(self.q)).squeeze(-1)


class additive_query_through_W(ref.AdditiveScore):
    def forward(self, inputs):
        return self.v(paddle.tanh(self.W(inputs) + self.W(self.q))).squeeze(-1)


class additive_einsum(ref.AdditiveScore):
    def forward(self, inputs):
        hidden = paddle.einsum("bld,de->ble", inputs, self.W.weight) + paddle.matmul(self.q, self.U.weight)
        return paddle.einsum("ble,e->bl", paddle.tanh(hidden), self.v.weight[:, 0])


class dot_not_squeezed(ref.DotProductScore):
    def forward(self, inputs):
        return paddle.matmul(inputs, self.q)


class dot_summed_over_query(ref.DotProductScore):
    def forward(self, inputs):
        return inputs.sum(-1) * self.q.sum()


class dot_broadcast_sum(ref.DotProductScore):
    def forward(self, inputs):
        return (inputs * self.q.reshape([1, 1, -1])).sum(axis=-1)


class scaled_by_dimension(ref.ScaledDotProductScore):
    def forward(self, inputs):
        return paddle.matmul(inputs, self.q).squeeze(-1) / inputs.shape[-1]


class scaled_einsum(ref.ScaledDotProductScore):
    def forward(self, inputs):
        return paddle.einsum("bld,dk->blk", inputs, self.q)[..., 0] * inputs.shape[-1] ** -0.5


class bilinear_transposed_W(ref.BilinearScore):
    def forward(self, inputs):
        return paddle.matmul(paddle.matmul(inputs, self.W.weight.T), self.q).squeeze(-1)


class bilinear_query_first(ref.BilinearScore):
    def forward(self, inputs):
        Wq = paddle.matmul(self.W.weight, self.q)                    # [D, 1]: X (W q)
        return (inputs * Wq.reshape([1, 1, -1])).sum(-1)


# ============================================================================ Attention
class attention_without_mask(ref.Attention):
    def forward(self, X, valid_lens):
        self._attention_weights = F.softmax(self.scores(X), axis=-1)
        return paddle.matmul(self._attention_weights.unsqueeze(1), X).squeeze(1)


class attention_weights_not_kept(ref.Attention):
    def forward(self, X, valid_lens):
        weights = ref.masked_softmax(self.scores(X), valid_lens)
        return paddle.matmul(weights.unsqueeze(1), X).squeeze(1)


class attention_plain_mean(ref.Attention):
    def forward(self, X, valid_lens):
        self._attention_weights = ref.masked_softmax(self.scores(X), valid_lens)
        mask = _keep(self._attention_weights, valid_lens).astype(X.dtype).unsqueeze(-1)
        return (X * mask).sum(1) / mask.sum(1)


class attention_inline_broadcast(ref.Attention):
    def forward(self, X, valid_lens):
        scores = self.scores(X)
        scores = scores + paddle.where(_keep(scores, valid_lens), paddle.zeros_like(scores),
                                       paddle.full_like(scores, -np.inf))
        self._attention_weights = F.softmax(scores, axis=-1)
        return (X * self._attention_weights.unsqueeze(-1)).sum(axis=1)


# ============================================================================ QKVAttention
class qkv_unscaled(ref.QKVAttention):
    def forward(self, Q, K, V, valid_lens):
        B, L, _ = Q.shape
        weights = ref.masked_softmax(paddle.matmul(Q, K, transpose_y=True).reshape([B * L, L]), valid_lens)
        self._attention_weights = weights.reshape([B, L, L])
        return paddle.matmul(self._attention_weights, V)


class qkv_scaled_by_size(ref.QKVAttention):
    def forward(self, Q, K, V, valid_lens):
        return super().forward(Q / self.sqrt_size, K, V, valid_lens)


class qkv_mask_on_queries(ref.QKVAttention):
    def forward(self, Q, K, V, valid_lens):
        B, L, _ = Q.shape
        score = paddle.matmul(Q, K, transpose_y=True) / self.sqrt_size
        keep = _keep(score, valid_lens.reshape([B, L])).transpose([0, 2, 1])        # [B, L(query), L(key)]
        self._attention_weights = F.softmax(paddle.where(keep, score, paddle.full_like(score, -1e9)), axis=-1)
        return paddle.matmul(self._attention_weights, V)


class qkv_einsum_minus_inf(ref.QKVAttention):
    def forward(self, Q, K, V, valid_lens):
        B, L, _ = Q.shape
        score = paddle.einsum("bid,bjd->bij", Q, K) / self.sqrt_size
        keep = _keep(score, valid_lens.reshape([B, L]))
        score = score + paddle.where(keep, paddle.zeros_like(score), paddle.full_like(score, -np.inf))
        self._attention_weights = F.softmax(score, axis=-1)
        return paddle.einsum("bij,bjd->bid", self._attention_weights, V)


class qkv_row_by_row(ref.QKVAttention):
    def forward(self, Q, K, V, valid_lens):
        B, L, _ = Q.shape
        rows = []
        for b in range(B):
            for i in range(L):
                n = int(valid_lens[b * L + i])
                weights = F.softmax((K[b, :n] * Q[b, i]).sum(-1) / self.sqrt_size, axis=-1)
                rows.append(paddle.concat([weights, paddle.zeros([L - n], weights.dtype)]))
        self._attention_weights = paddle.stack(rows).reshape([B, L, L])
        return paddle.matmul(self._attention_weights, V)


class qkv_builtin_sdpa(ref.QKVAttention):
    """Correct values through the forbidden F.scaled_dot_product_attention (layout [B, L, heads, D])."""

    def forward(self, Q, K, V, valid_lens):
        B, L, _ = Q.shape
        keep = _keep(paddle.zeros([B, L, L]), valid_lens.reshape([B, L])).unsqueeze(1)        # [B, 1, L, L]
        out = F.scaled_dot_product_attention(Q.unsqueeze(2), K.unsqueeze(2), V.unsqueeze(2), attn_mask=keep)
        self._attention_weights = ref.masked_softmax(
            paddle.matmul(Q, K, transpose_y=True).reshape([B * L, L]) / self.sqrt_size, valid_lens).reshape([B, L, L])
        return out.squeeze(2)


# ============================================================================ multi-head
def split_without_transpose(X, heads_num, head_size):
    B, L, _ = X.shape
    return X.reshape([B * heads_num, L, head_size])


def split_by_slicing(X, heads_num, head_size):
    heads = [X[:, :, m * head_size:(m + 1) * head_size] for m in range(heads_num)]   # M × [B, L, D_m]
    return paddle.stack(heads, axis=1).reshape([-1, X.shape[1], head_size])


class _MHSA(ref.MultiHeadSelfAttention):
    """forward as ``merge(attention(split(Q), split(K), split(V), lengths(valid_lens)))`` for variants."""

    def lengths(self, valid_lens, L):
        return paddle.repeat_interleave(valid_lens, self.heads_num * L, axis=0)

    def merge(self, out, B, L):
        out = out.reshape([B, self.heads_num, L, self.head_size]).transpose([0, 2, 1, 3])
        return out.reshape([B, L, self.inputs_size])

    def forward(self, X, valid_lens):
        B, L, _ = X.shape
        Q, K, V = [ref.split_head_reshape(p(X), self.heads_num, self.head_size)
                   for p in (self.Q_proj, self.K_proj, self.V_proj)]
        return self.out_proj(self.merge(self.attention(Q, K, V, self.lengths(valid_lens, L)), B, L))


class mhsa_merge_without_transpose(_MHSA):
    def merge(self, out, B, L):
        return out.reshape([B, L, self.inputs_size])


class mhsa_tiled_lengths(_MHSA):
    def lengths(self, valid_lens, L):
        return paddle.tile(valid_lens, [self.heads_num * L])


class mhsa_scaled_by_full_dimension(_MHSA):
    def __init__(self, inputs_size, heads_num, dropout=0.0):
        super().__init__(inputs_size, heads_num, dropout)
        self.attention = ref.multi_head.QKVAttention(inputs_size)


class mhsa_expanded_lengths(_MHSA):
    def lengths(self, valid_lens, L):
        return valid_lens.unsqueeze(1).expand([valid_lens.shape[0], self.heads_num * L]).reshape([-1])


class mhsa_sliced_heads(_MHSA):
    def forward(self, X, valid_lens):
        B, L, _ = X.shape
        Q, K, V = [split_by_slicing(p(X), self.heads_num, self.head_size)
                   for p in (self.Q_proj, self.K_proj, self.V_proj)]
        out = self.attention(Q, K, V, self.lengths(valid_lens, L)).reshape([B, self.heads_num, L, self.head_size])
        return self.out_proj(paddle.concat([out[:, m] for m in range(self.heads_num)], axis=-1))


# ============================================================================ sinusoid
def sinusoid_unpaired_index(position_size, hidden_size):
    angles = np.arange(position_size)[:, None] / np.power(10000, 2 * np.arange(hidden_size) / hidden_size)
    angles[:, 0::2], angles[:, 1::2] = np.sin(angles[:, 0::2]), np.cos(angles[:, 1::2])
    return angles.astype("float32")


def sinusoid_cos_first(position_size, hidden_size):
    table = ref.get_sinusoid_encoding(position_size, hidden_size).copy()
    angles = np.arange(position_size)[:, None] / np.power(10000, 2 * (np.arange(hidden_size) // 2) / hidden_size)
    table[:, 0::2], table[:, 1::2] = np.cos(angles[:, 0::2]), np.sin(angles[:, 1::2])
    return table


def sinusoid_book_loops(position_size, hidden_size):
    def angle(pos, j):
        return pos / np.power(10000, 2 * (j // 2) / hidden_size)
    table = np.array([[angle(pos, j) for j in range(hidden_size)] for pos in range(position_size)])
    table[:, 0::2], table[:, 1::2] = np.sin(table[:, 0::2]), np.cos(table[:, 1::2])
    return table.astype("float32")


def sinusoid_paddle_tensor(position_size, hidden_size):
    pos = paddle.arange(position_size, dtype="float32").unsqueeze(1)
    i = paddle.arange(0, hidden_size, 2, dtype="float32")
    angles = pos * paddle.exp(-np.log(10000.0) * i / hidden_size)              # [P, ceil(D/2)]
    table = paddle.stack([paddle.sin(angles), paddle.cos(angles)], axis=-1).reshape([position_size, -1])
    return table[:, :hidden_size]


# ============================================================================ Transformer parts
class addnorm_norm_before_add(ref.AddNorm):
    def forward(self, X, H):
        return self.layer_norm(X) + self.dropout(H)


class addnorm_no_residual(ref.AddNorm):
    def forward(self, X, H):
        return self.layer_norm(self.dropout(H))


class addnorm_by_hand(ref.AddNorm):
    def forward(self, X, H):
        z = X + self.dropout(H)
        mean = z.mean(-1, keepdim=True)
        var = ((z - mean) ** 2).mean(-1, keepdim=True)
        return (z - mean) / paddle.sqrt(var + 1e-5) * self.layer_norm.weight + self.layer_norm.bias


class ffn_without_relu(ref.PositionwiseFFN):
    def forward(self, X):
        return self.W_2(self.dropout(self.W_1(X)))


class ffn_tanh(ref.PositionwiseFFN):
    def forward(self, X):
        return self.W_2(self.dropout(paddle.tanh(self.W_1(X))))


class ffn_by_hand(ref.PositionwiseFFN):
    def forward(self, X):
        hidden = paddle.maximum(paddle.matmul(X, self.W_1.weight) + self.W_1.bias, paddle.zeros([1], X.dtype))
        return paddle.matmul(self.dropout(hidden), self.W_2.weight) + self.W_2.bias


# Dropout in training mode: mistakes, and the ways a correct student may draw the mask
class addnorm_no_dropout(ref.AddNorm):
    def forward(self, X, H):
        return self.layer_norm(X + H)


class addnorm_dropout_on_X(ref.AddNorm):
    def forward(self, X, H):
        return self.layer_norm(self.dropout(X) + H)


class addnorm_fixed_rate(ref.AddNorm):
    def forward(self, X, H):                      # 0.1 written in instead of the layer's dropout_rate
        return self.layer_norm(X + F.dropout(H, p=0.1, training=self.training))


class addnorm_functional_dropout(ref.AddNorm):
    def forward(self, X, H):
        return self.layer_norm(X + F.dropout(H, p=self.dropout.p, training=self.training))


class addnorm_chapter7_dropout(ref.AddNorm):
    def forward(self, X, H):                      # the notebook's chapter-7 operator, used in training only
        return self.layer_norm(X + (ref7.Dropout(self.dropout.p)(H) if self.training else H))


def _numpy_mask(like, p):
    keep = np.random.default_rng().uniform(size=like.shape) >= p
    return paddle.to_tensor(keep.astype("float32") / (1 - p))


class addnorm_numpy_mask(ref.AddNorm):
    def forward(self, X, H):
        return self.layer_norm(X + (H * _numpy_mask(H, self.dropout.p) if self.training else H))


class addnorm_bernoulli_mask(ref.AddNorm):
    def forward(self, X, H):
        if not self.training:
            return self.layer_norm(X + H)
        keep = paddle.bernoulli(paddle.full(H.shape, 1 - self.dropout.p))
        return self.layer_norm(X + H * keep / (1 - self.dropout.p))


def test_dropout_cases_leave_no_mask_for_a_wrong_form():
    """Whatever mask a wrong form draws, some row is far (> 10× the tolerance) from the right formula under
    every mask, so the train-mode checks fail it deterministically; the right masks are told apart."""
    limit = 10 * tolerances()["rtol"]
    masks = hidden.dropout_masks(4)

    def far_rows(wrong, candidates):          # wrong [rows, K', D] vs candidates [rows, K, D]
        gaps = np.abs(wrong[:, :, None, :] - candidates[:, None, :, :]).max(-1).min(axis=(1, 2))
        return int((gaps > limit * np.abs(candidates).max()).sum())

    X, H, gain, bias = hidden.addnorm_dropout_case()
    candidates = hidden.addnorm_candidates(X, H, gain, bias)
    X, H = X.reshape(-1, 4), H.reshape(-1, 4)
    assert far_rows(hidden.np_layer_norm(X + H, gain, bias)[:, None], candidates) > 0
    assert far_rows(hidden.np_layer_norm(masks[None] * X[:, None] + H[:, None], gain, bias), candidates) > 0
    X, values = hidden.ffn_dropout_case()
    candidates = hidden.ffn_candidates(X, values)
    X = X.reshape(-1, 4)
    output = lambda x: np.maximum(x @ values["W_1.weight"] + values["W_1.bias"], 0) @ values["W_2.weight"] \
        + values["W_2.bias"]
    assert far_rows(output(X)[:, None], candidates) > 0
    assert far_rows(masks[None] * output(X)[:, None], candidates) > 0
    assert far_rows(output(masks[None] * X[:, None]), candidates) > 0


class ffn_no_dropout(ref.PositionwiseFFN):
    def forward(self, X):
        return self.W_2(F.relu(self.W_1(X)))


class ffn_dropout_after_W_2(ref.PositionwiseFFN):
    def forward(self, X):
        return self.dropout(self.W_2(F.relu(self.W_1(X))))


class ffn_dropout_on_input(ref.PositionwiseFFN):
    def forward(self, X):
        return self.W_2(F.relu(self.W_1(self.dropout(X))))


class ffn_dropout_before_relu(ref.PositionwiseFFN):
    def forward(self, X):                         # the same thing: ReLU(m·z) = m·ReLU(z) for m ≥ 0
        return self.W_2(F.relu(self.dropout(self.W_1(X))))


class ffn_chapter7_dropout(ref.PositionwiseFFN):
    def forward(self, X):
        hidden = F.relu(self.W_1(X))
        return self.W_2(ref7.Dropout(self.dropout.p)(hidden) if self.training else hidden)


class ffn_numpy_mask(ref.PositionwiseFFN):
    def forward(self, X):
        hidden = F.relu(self.W_1(X))
        return self.W_2(hidden * _numpy_mask(hidden, self.dropout.p) if self.training else hidden)


class block_without_dropout(ref.TransformerBlock):
    def forward(self, X, src_mask=None):          # the shared LayerNorm called directly: no AddNorm dropout
        X_atten, weights = self.multi_head_attention(X, attn_mask=src_mask)
        X = self.addnorm.layer_norm(X + X_atten)
        return self.addnorm.layer_norm(X + self.ffn(X)), weights


class block_dropout_once(ref.TransformerBlock):
    def forward(self, X, src_mask=None):          # dropout in the first Add & Norm only
        X_atten, weights = self.multi_head_attention(X, attn_mask=src_mask)
        X = self.addnorm(X, X_atten)
        return self.addnorm.layer_norm(X + self.ffn(X)), weights


# The book's block in a notebook whose AddNorm and PositionwiseFFN are wrong: its __init__ finds them in its globals
_NOTEBOOK = {"ref": ref, "AddNorm": addnorm_no_residual, "PositionwiseFFN": ffn_without_relu}
exec(textwrap.dedent("""
    class block_beside_wrong_parts(ref.TransformerBlock):
        def __init__(self, input_size, head_num, ffn_size, dropout=0.1, attn_dropout=None, act_dropout=None):
            super().__init__(input_size, head_num, ffn_size, dropout, attn_dropout, act_dropout)
            self.ffn = PositionwiseFFN(input_size, ffn_size, self.act_dropout)
            self.addnorm = AddNorm(input_size, self.dropout)
"""), _NOTEBOOK)
block_beside_wrong_parts = _NOTEBOOK["block_beside_wrong_parts"]


class block_pre_norm(ref.TransformerBlock):
    def forward(self, X, src_mask=None):
        normed = self.addnorm.layer_norm(X)
        X_atten, weights = self.multi_head_attention(normed, attn_mask=src_mask)
        X = X + X_atten
        return X + self.ffn(self.addnorm.layer_norm(X)), weights


class block_ffn_without_residual(ref.TransformerBlock):
    def forward(self, X, src_mask=None):
        X_atten, weights = self.multi_head_attention(X, attn_mask=src_mask)
        X = self.addnorm(X, X_atten)
        return self.addnorm.layer_norm(self.ffn(X)), weights


class block_output_only(ref.TransformerBlock):
    def forward(self, X, src_mask=None):
        return super().forward(X, src_mask)[0]


class block_builtin_encoder(ref.TransformerBlock):
    """Correct values, but builds the forbidden nn.TransformerEncoderLayer on the way."""

    def forward(self, X, src_mask=None):
        paddle.nn.TransformerEncoderLayer(self.input_size, self.head_num, self.ffn_size)
        return super().forward(X, src_mask)


class block_layer_norm_directly(ref.TransformerBlock):
    def forward(self, X, src_mask=None):
        X_atten, weights = self.multi_head_attention(X, X, X, attn_mask=src_mask)
        norm = self.addnorm.layer_norm
        X = norm(X + self.addnorm.dropout(X_atten))
        return norm(X + self.addnorm.dropout(self.ffn(X))), weights


SOFTMAX_WRONG = [("softmax then mask", {"masked_softmax": softmax_then_mask}),
                 ("fill with 0", {"masked_softmax": fill_with_zero}),
                 ("off by one", {"masked_softmax": off_by_one}),
                 ("book listing: float arange < int lengths", {"masked_softmax": int_cast_only_float_lens})]
SOFTMAX_RIGHT = [("additive -inf", {"masked_softmax": additive_minus_inf}),
                 ("renormalised multiplicative mask", {"masked_softmax": renormalised_multiplicative})]
WRONG_VARIANTS = {
    BOOK_SOFTMAX: SOFTMAX_WRONG, SOFTMAX: SOFTMAX_WRONG,
    ADDITIVE: [("no tanh", {"AdditiveScore": additive_without_tanh}),
               ("q through W", {"AdditiveScore": additive_query_through_W})],
    DOT: [("[B, L, 1] not squeezed", {"DotProductScore": dot_not_squeezed}),
          ("X·1 times Σq", {"DotProductScore": dot_summed_over_query})],
    SCALED: [("divided by D", {"ScaledDotProductScore": scaled_by_dimension})],
    BILINEAR: [("W transposed", {"BilinearScore": bilinear_transposed_W})],
    ATTENTION: [("no mask", {"Attention": attention_without_mask}),
                ("weights not kept", {"Attention": attention_weights_not_kept}),
                ("plain mean", {"Attention": attention_plain_mean})],
    BOOK_QKV: [("no scaling", {"QKVAttention": qkv_unscaled}),
               ("mask on queries", {"QKVAttention": qkv_mask_on_queries})],
    QKV: [("no scaling", {"QKVAttention": qkv_unscaled}), ("scaled by size", {"QKVAttention": qkv_scaled_by_size}),
          ("mask on queries", {"QKVAttention": qkv_mask_on_queries}),
          ("calls F.scaled_dot_product_attention", {"QKVAttention": qkv_builtin_sdpa})],
    SPLIT: [("no transpose", {"split_head_reshape": split_without_transpose})],
    MHSA: [("merge without transpose", {"MultiHeadSelfAttention": mhsa_merge_without_transpose}),
           ("tiled lengths", {"MultiHeadSelfAttention": mhsa_tiled_lengths}),
           ("scaled by full dimension", {"MultiHeadSelfAttention": mhsa_scaled_by_full_dimension})],
    SINUSOID: [("i instead of 2i pairs", {"get_sinusoid_encoding": sinusoid_unpaired_index}),
               ("cos on even dimensions", {"get_sinusoid_encoding": sinusoid_cos_first})],
    ADDNORM: [("norm before add", {"AddNorm": addnorm_norm_before_add}),
              ("no residual", {"AddNorm": addnorm_no_residual})],
    FFN: [("no ReLU", {"PositionwiseFFN": ffn_without_relu}), ("tanh", {"PositionwiseFFN": ffn_tanh})],
    ADDNORM_DROPOUT: [("no dropout", {"AddNorm": addnorm_no_dropout}), ("dropout on X", {"AddNorm": addnorm_dropout_on_X}),
                      ("rate fixed at 0.1", {"AddNorm": addnorm_fixed_rate})],
    FFN_DROPOUT: [("no dropout", {"PositionwiseFFN": ffn_no_dropout}),
                  ("dropout after W_2", {"PositionwiseFFN": ffn_dropout_after_W_2}),
                  ("dropout on the input", {"PositionwiseFFN": ffn_dropout_on_input})],
    BLOCK_DROPOUT: [("no dropout", {"TransformerBlock": block_without_dropout}),
                    ("dropout in the first Add & Norm only", {"TransformerBlock": block_dropout_once})],
    BLOCK: [("pre-norm", {"TransformerBlock": block_pre_norm}),
            ("FFN without residual", {"TransformerBlock": block_ffn_without_residual}),
            ("output only", {"TransformerBlock": block_output_only}),
            ("builds nn.TransformerEncoderLayer", {"TransformerBlock": block_builtin_encoder})],
}
ALTERNATIVES = {
    BOOK_SOFTMAX: SOFTMAX_RIGHT, SOFTMAX: SOFTMAX_RIGHT,
    ADDITIVE: [("einsum", {"AdditiveScore": additive_einsum})],
    DOT: [("broadcast and sum", {"DotProductScore": dot_broadcast_sum})],
    SCALED: [("einsum", {"ScaledDotProductScore": scaled_einsum})],
    BILINEAR: [("X (W q)", {"BilinearScore": bilinear_query_first})],
    ATTENTION: [("inline -inf mask, broadcast sum", {"Attention": attention_inline_broadcast})],
    BOOK_QKV: [("einsum, -inf", {"QKVAttention": qkv_einsum_minus_inf}), ("row by row", {"QKVAttention": qkv_row_by_row})],
    QKV: [("einsum, -inf", {"QKVAttention": qkv_einsum_minus_inf}), ("row by row", {"QKVAttention": qkv_row_by_row})],
    SPLIT: [("slices stacked", {"split_head_reshape": split_by_slicing})],
    MHSA: [("expanded lengths", {"MultiHeadSelfAttention": mhsa_expanded_lengths}),
           ("heads sliced and concatenated", {"MultiHeadSelfAttention": mhsa_sliced_heads})],
    SINUSOID: [("book loops", {"get_sinusoid_encoding": sinusoid_book_loops}),
               ("paddle tensor", {"get_sinusoid_encoding": sinusoid_paddle_tensor})],
    ADDNORM: [("LayerNorm by hand", {"AddNorm": addnorm_by_hand}), ("F.dropout", {"AddNorm": addnorm_functional_dropout}),
              ("chapter 7's Dropout", {"AddNorm": addnorm_chapter7_dropout})],
    FFN: [("matmul by hand", {"PositionwiseFFN": ffn_by_hand}),
          ("chapter 7's Dropout", {"PositionwiseFFN": ffn_chapter7_dropout})],
    ADDNORM_DROPOUT: [("paddle.bernoulli", {"AddNorm": addnorm_bernoulli_mask}),
                      ("F.dropout", {"AddNorm": addnorm_functional_dropout}),
                      ("chapter 7's Dropout", {"AddNorm": addnorm_chapter7_dropout}),
                      ("numpy mask", {"AddNorm": addnorm_numpy_mask})],
    FFN_DROPOUT: [("dropout before ReLU", {"PositionwiseFFN": ffn_dropout_before_relu}),
                  ("chapter 7's Dropout", {"PositionwiseFFN": ffn_chapter7_dropout}),
                  ("numpy mask", {"PositionwiseFFN": ffn_numpy_mask})],
    BLOCK: [("layer_norm directly, key=value=X", {"TransformerBlock": block_layer_norm_directly}),
            ("beside a wrong AddNorm and FFN", {"TransformerBlock": block_beside_wrong_parts})],
    BLOCK_DROPOUT: [("layer_norm directly, key=value=X", {"TransformerBlock": block_layer_norm_directly}),
                    ("beside a wrong AddNorm and FFN", {"TransformerBlock": block_beside_wrong_parts})],
}

hidden_check_tests("ch08", globals())
