"""Chapter-8 reference (nndl_ref.ch08) against the book's RNG-free printed numbers (the masked-softmax
example of §8.1.2.2, the QKV demo of §8.2.1.2, the sinusoid tables of §8.3.2.1), closed forms in numpy,
and Paddle's built-ins with copied weights (``nn.MultiHeadAttention``, ``nn.TransformerEncoderLayer``)."""

import numpy as np
import paddle
import paddle.nn as nn
import pytest

import nndl_ref.ch08 as ref
from helpers import numeric_vjp, t32, t64

BOOK_SCORES = [[0.1, 0.2, 0.4, 0.6] + [0.0] * 7, [0.3, 0.2, 0.4, 0.1, 0.2, 0.5, 0.4, 0.6, 0.7, 0.9, 1.0]]
BOOK_WEIGHTS = [[0.19593432, 0.21654092, 0.26448367, 0.32304109] + [0.0] * 7,
                [0.07279236, 0.06586525, 0.080448, 0.05959734, 0.06586525, 0.08890879, 0.080448, 0.09825941,
                 0.10859344, 0.13263633, 0.14658581]]
# §8.2.1.2's printed inputs and outputs (book lines 12761–12781)
BOOK_Q = [[[0.04542791, 0.85057974, 0.33361533], [0.946391, 0.23847368, 0.36302885]],
          [[0.76614064, 0.37495252, 0.33336037], [0.63866454, 0.9760425, 0.5480451]]]
BOOK_K = [[[0.6862119, 0.1342062, 0.26786622], [0.17106912, 0.677116, 0.06587131]],
          [[0.6739144, 0.5215646, 0.44378713], [0.04872252, 0.88483167, 0.71042657]]]
BOOK_V = [[[7.9257507e-04, 2.5841364e-01, 8.8483751e-01], [9.9241227e-01, 7.3286706e-01, 2.2684735e-01]],
          [[1.4830844e-01, 9.9669349e-01, 3.9105463e-01], [5.9856153e-01, 1.6353825e-01, 1.5453905e-01]]]
BOOK_CONTEXT = [[[7.9257507e-04, 2.5841364e-01, 8.8483751e-01], [7.9257507e-04, 2.5841364e-01, 8.8483751e-01]],
                [[3.5696453e-01, 6.1059302e-01, 2.8144866e-01], [3.8002339e-01, 5.6792462e-01, 2.6933601e-01]]]
BOOK_QKV_WEIGHTS = [[[1.0, 0.0], [1.0, 0.0]], [[0.5365804, 0.46341962], [0.4853674, 0.51463264]]]
SINUSOID_4_3 = [[0, 1, 0], [0.84147096, 0.5403023, 0.00215443], [0.9092974, -0.41614684, 0.00430886],
                [0.14112, -0.9899925, 0.00646326]]
SINUSOID_5_4 = [[0, 1, 0, 1], [0.84147096, 0.5403023, 0.00999983, 0.99995],
                [0.9092974, -0.41614684, 0.01999867, 0.9998], [0.14112, -0.9899925, 0.0299955, 0.99955004],
                [-0.7568025, -0.6536436, 0.03998933, 0.9992001]]


def _set(layer, values):
    """Give ``layer``'s named parameters the float32 ``values``."""
    params = dict(layer.named_parameters())
    for name, value in values.items():
        params[name].set_value(np.asarray(value, np.float32).reshape(params[name].shape))


def _random_parameters(layer, rng, scale=0.5):
    values = {name: rng.normal(scale=scale, size=p.shape) for name, p in layer.named_parameters()}
    _set(layer, values)
    return values


def _key_mask(valid_lens, L):
    return (np.arange(L)[None, :] < np.asarray(valid_lens)[:, None])[:, None, None, :]   # [B, 1, 1, L]


# ------------------------------------------------------------------------------------------------- §8.1
@pytest.mark.parametrize("dtype", ["int64", "int32"])
def test_masked_softmax_reproduces_the_book_example(dtype):
    weights = ref.masked_softmax(t32(BOOK_SCORES), paddle.to_tensor([4, 11], dtype=dtype)).numpy()
    np.testing.assert_allclose(weights, BOOK_WEIGHTS, atol=1e-7)
    assert weights[0, 4:].max() < 1e-6 and not np.any(np.isnan(weights))


def test_masked_softmax_ignores_what_padded_slots_hold():
    rng = np.random.default_rng(80)
    scores, lens = rng.normal(size=(3, 6)), paddle.to_tensor([1, 3, 6])
    changed = scores.copy()
    changed[0, 1:], changed[1, 3:] = 50.0, -50.0
    np.testing.assert_allclose(ref.masked_softmax(t32(scores), lens).numpy(),
                               ref.masked_softmax(t32(changed), lens).numpy(), atol=1e-7)


def test_scores_match_their_formulas_in_numpy():
    rng = np.random.default_rng(81)
    X = rng.normal(size=(2, 5, 4))
    additive = ref.AdditiveScore(4)
    p = _random_parameters(additive, rng)
    expected = (np.tanh(X @ p["W.weight"] + p["q"] @ p["U.weight"]) @ p["v.weight"])[..., 0]
    np.testing.assert_allclose(additive(t32(X)).numpy(), expected, rtol=1e-5, atol=1e-6)
    assert list(additive.q.shape) == [1, 4]
    for layer, formula in ((ref.DotProductScore(4), lambda p: X @ p["q"]),
                           (ref.ScaledDotProductScore(4), lambda p: X @ p["q"] / 2.0),
                           (ref.BilinearScore(4), lambda p: X @ p["W.weight"] @ p["q"])):
        p = _random_parameters(layer, rng)
        assert list(layer.q.shape) == [4, 1]
        np.testing.assert_allclose(layer(t32(X)).numpy(), formula(p)[..., 0], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("use_additive", [False, True])
def test_attention_is_the_masked_weighted_average(use_additive):
    rng = np.random.default_rng(82)
    X, lens = rng.normal(size=(3, 5, 4)), np.array([2, 5, 1])
    attention = ref.Attention(4, use_additive=use_additive)
    _random_parameters(attention, rng)
    context = attention(t32(X), paddle.to_tensor(lens)).numpy()
    weights = attention.attention_weights.numpy()
    np.testing.assert_allclose(weights.sum(-1), 1.0, rtol=1e-6)
    assert weights[0, 2:].max() < 1e-6 and weights[2, 1:].max() < 1e-6
    np.testing.assert_allclose(context, np.einsum("bl,bld->bd", weights, X), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(context[2], X[2, 0], rtol=1e-6)


def test_model_lstm_attention_gives_logits_per_sample():
    model = ref.Model_LSTMAttention(8, 6, 20, n_classes=2, use_additive=True)
    ids = paddle.to_tensor([[3, 4, 5, 0], [7, 8, 0, 0]])
    logits = model((ids, paddle.to_tensor([3, 2])))
    assert list(logits.shape) == [2, 2] and list(model.attention.attention_weights.shape) == [2, 4]


# ------------------------------------------------------------------------------------------------- §8.2
def test_qkv_attention_reproduces_the_book_demo():
    assert ref.QKVAAttention is ref.QKVAttention
    attention = ref.QKVAttention(3)
    context = attention(t32(BOOK_Q), t32(BOOK_K), t32(BOOK_V), paddle.to_tensor([1, 1, 2, 2])).numpy()
    np.testing.assert_allclose(context, BOOK_CONTEXT, atol=1e-6)
    np.testing.assert_allclose(attention.attention_weights.numpy(), BOOK_QKV_WEIGHTS, atol=1e-6)


def test_qkv_attention_matches_numpy_with_per_row_lengths():
    rng = np.random.default_rng(83)
    Q, K, V = (rng.normal(size=(2, 4, 6)) for _ in range(3))
    row_lens = np.array([1, 2, 3, 4, 4, 4, 2, 2])
    scores = Q @ K.transpose(0, 2, 1) / np.sqrt(6)
    scores = np.where(np.arange(4)[None, None, :] < row_lens.reshape(2, 4, 1), scores, -np.inf)
    weights = np.exp(scores - scores.max(-1, keepdims=True))
    weights /= weights.sum(-1, keepdims=True)
    out = ref.QKVAttention(6)(t32(Q), t32(K), t32(V), paddle.to_tensor(row_lens)).numpy()
    np.testing.assert_allclose(out, weights @ V, rtol=1e-5, atol=1e-6)


def test_qkv_attention_gradients_match_float64_finite_differences():
    rng = np.random.default_rng(87)
    arrays = [rng.normal(size=(2, 3, 4)) for _ in range(3)]
    row_lens = np.array([1, 3, 2, 2, 2, 3])
    G = rng.normal(size=(2, 3, 4))

    def formula(Q, K, V):
        scores = np.where(np.arange(3)[None, None, :] < row_lens.reshape(2, 3, 1), Q @ K.transpose(0, 2, 1) / 2.0,
                          -np.inf)
        weights = np.exp(scores - scores.max(-1, keepdims=True))
        return weights / weights.sum(-1, keepdims=True) @ V

    tensors = [t64(a) for a in arrays]
    for tensor in tensors:
        tensor.stop_gradient = False
    (ref.QKVAttention(4)(*tensors, paddle.to_tensor(row_lens)) * t64(G)).sum().backward()
    for tensor, expected in zip(tensors, numeric_vjp(formula, arrays, G)):
        np.testing.assert_allclose(tensor.grad.numpy(), expected, rtol=1e-6, atol=1e-8)


def test_split_head_reshape_puts_head_m_of_sample_b_in_row_b_times_M_plus_m():
    X = np.arange(2 * 3 * 6, dtype=np.float32).reshape(2, 3, 6)
    out = ref.split_head_reshape(paddle.to_tensor(X), 3, 2).numpy()
    for b in range(2):
        for m in range(3):
            np.testing.assert_array_equal(out[b * 3 + m], X[b, :, 2 * m:2 * m + 2])


def _builtin_mha(mhsa, D, M):
    builtin = nn.MultiHeadAttention(D, M)
    builtin.eval()
    _set(builtin, {f"{new}.{kind}": getattr(mhsa, old).state_dict()[kind].numpy()
                   for old, new in (("Q_proj", "q_proj"), ("K_proj", "k_proj"), ("V_proj", "v_proj"),
                                    ("out_proj", "out_proj")) for kind in ("weight", "bias")})
    return builtin


def test_multi_head_self_attention_equals_the_builtin_with_copied_weights():
    rng = np.random.default_rng(84)
    B, L, D, M = 3, 5, 8, 2
    mhsa = ref.MultiHeadSelfAttention(D, M)
    _random_parameters(mhsa, rng)
    builtin = _builtin_mha(mhsa, D, M)
    X, lens = rng.normal(size=(B, L, D)), np.array([2, 5, 3])
    x_ref, x_builtin = t32(X), t32(X)
    x_ref.stop_gradient = x_builtin.stop_gradient = False
    out = mhsa(x_ref, paddle.to_tensor(lens))
    builtin.need_weights = True
    expected, weights = builtin(x_builtin, attn_mask=paddle.to_tensor(_key_mask(lens, L)))
    np.testing.assert_allclose(out.numpy(), expected.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(mhsa.attention.attention_weights.numpy().reshape(B, M, L, L), weights.numpy(),
                               rtol=1e-5, atol=1e-6)
    G = t32(rng.normal(size=(B, L, D)))
    (out * G).sum().backward()
    (expected * G).sum().backward()
    np.testing.assert_allclose(x_ref.grad.numpy(), x_builtin.grad.numpy(), rtol=1e-4, atol=1e-6)


def test_model_lstm_self_attention_pools_the_attended_sequence():
    model = ref.Model_LSTMSeftAttention(4, 6, 20, n_classes=2, attention=ref.MultiHeadSelfAttention(8, 2))
    assert ref.Model_LSTMSelfAttention is ref.Model_LSTMSeftAttention
    logits = model((paddle.to_tensor([[3, 4, 5, 0], [7, 8, 0, 0]]), paddle.to_tensor([3, 2])))
    assert list(logits.shape) == [2, 2]


# ------------------------------------------------------------------------------------------------- §8.3
@pytest.mark.parametrize("size,expected", [((4, 3), SINUSOID_4_3), ((5, 4), SINUSOID_5_4)])
def test_sinusoid_tables_of_the_book(size, expected):
    table = ref.get_sinusoid_encoding(*size)
    assert table.dtype == np.float32
    np.testing.assert_allclose(table, expected, atol=1e-7)


def test_sinusoid_closed_form_on_a_large_table():
    table = ref.get_sinusoid_encoding(50, 16).astype(np.float64)
    pos, i = np.arange(50)[:, None], np.arange(8)[None, :]
    np.testing.assert_allclose(table[:, 0::2], np.sin(pos / 10000 ** (2 * i / 16)), atol=1e-6)
    np.testing.assert_allclose(table[:, 1::2], np.cos(pos / 10000 ** (2 * i / 16)), atol=1e-6)


def test_embeddings_follow_the_book():
    paddle.seed(0)
    words = ref.WordEmbedding(10, 4)
    out = words(paddle.to_tensor([1, 0, 2])).numpy()
    np.testing.assert_array_equal(out[1], 0.0)
    np.testing.assert_allclose(out[0], 2.0 * words.word_embedding.weight.numpy()[1], rtol=1e-6)
    positions = ref.PositionalEmbedding(6, 4)
    ids = paddle.to_tensor([[0, 1, 5]])
    np.testing.assert_allclose(positions(ids).numpy()[0], ref.get_sinusoid_encoding(6, 4)[[0, 1, 5]], atol=1e-7)
    embeddings = ref.TransformerEmbeddings(10, 4, position_size=6)
    embeddings.eval()
    ids, segments = paddle.to_tensor([[2, 3, 4]]), paddle.to_tensor([[0, 0, 1]])
    x = (2.0 * embeddings.word_embeddings.word_embedding(ids) + embeddings.segment_embeddings(segments)
         + paddle.to_tensor(ref.get_sinusoid_encoding(6, 4)[:3]))
    np.testing.assert_allclose(embeddings(ids, segments).numpy(), embeddings.layer_norm(x).numpy(), rtol=1e-5,
                               atol=1e-6)


def test_addnorm_and_ffn_in_eval_mode():
    rng = np.random.default_rng(85)
    X, H = rng.normal(size=(2, 3, 4)), rng.normal(size=(2, 3, 4))
    addnorm = ref.AddNorm(4, 0.5)
    addnorm.eval()
    z = X + H
    expected = (z - z.mean(-1, keepdims=True)) / np.sqrt(z.var(-1, keepdims=True) + 1e-5)
    np.testing.assert_allclose(addnorm(t32(X), t32(H)).numpy(), expected, rtol=1e-4, atol=1e-5)
    ffn = ref.PositionwiseFFN(4, 6, dropout=0.5)
    ffn.eval()
    p = _random_parameters(ffn, rng)
    hidden = np.maximum(X @ p["W_1.weight"] + p["W_1.bias"], 0.0)
    np.testing.assert_allclose(ffn(t32(X)).numpy(), hidden @ p["W_2.weight"] + p["W_2.bias"], rtol=1e-5, atol=1e-6)


def test_transformer_block_equals_the_encoder_layer_with_tied_norms():
    rng = np.random.default_rng(86)
    B, L, D, M, F_ = 2, 5, 8, 2, 12
    block = ref.TransformerBlock(D, M, F_, dropout=0.1)
    p = _random_parameters(block, rng)
    block.eval()
    layer = nn.TransformerEncoderLayer(D, M, F_, dropout=0.1, activation="relu", normalize_before=False)
    layer.eval()
    mapping = {"self_attn": "multi_head_attention", "linear1": "ffn.W_1", "linear2": "ffn.W_2",
               "norm1": "addnorm.layer_norm", "norm2": "addnorm.layer_norm"}
    _set(layer, {name: p[mapping[name.rsplit(".", 1)[0].split(".")[0]] + "." + name.split(".", 1)[1]]
                 for name, _ in layer.named_parameters()})
    X, lens = rng.normal(size=(B, L, D)), np.array([3, 5])
    mask = paddle.to_tensor(np.where(_key_mask(lens, L), 0.0, -1e9).astype(np.float32))
    out, weights = block(t32(X), src_mask=mask)
    np.testing.assert_allclose(out.numpy(), layer(t32(X), src_mask=mask).numpy(), rtol=1e-5, atol=1e-5)
    assert list(weights.shape) == [B, M, L, L] and weights.numpy()[0, :, :, 3:].max() < 1e-6


def test_model_transformer_ignores_extra_padding():
    paddle.seed(1)
    model = ref.Model_Transformer(12, n_block=2, hidden_size=8, heads_num=2, intermediate_size=16, position_size=16)
    model.eval()
    ids, segments = [[2, 5, 3, 6, 3]], [[0, 0, 0, 1, 1]]
    logits = model((paddle.to_tensor(ids), paddle.to_tensor(segments))).numpy()
    padded = model((paddle.to_tensor([ids[0] + [0, 0]]), paddle.to_tensor([segments[0] + [0, 0]]))).numpy()
    np.testing.assert_allclose(logits, padded, rtol=1e-5, atol=1e-6)
    assert len(model.attention_weights) == 2 and list(model.attention_weights[0].shape) == [1, 2, 7, 7]

