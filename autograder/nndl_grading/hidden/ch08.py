"""Hidden checks of chapter 8: ``masked_softmax`` (§8.1.2.2), the scoring functions (§8.1.2.1 and
exercise 8.1), ``Attention`` (§8.1.2.4), ``QKVAttention`` (§8.2.1.2), ``split_head_reshape`` and
``MultiHeadSelfAttention`` (§8.2.1.3), ``get_sinusoid_encoding`` (§8.3.2.1), ``AddNorm``,
``PositionwiseFFN`` and ``TransformerBlock`` (§8.3.2.2).

The student's layers are built and run by the layer harness where the student's code runs; this process
sends arrays and reads arrays back. Expected values come from the book's printed RNG-free examples (the
masked softmax of §8.1.2.2, the QKV demo of §8.2.1.2, the sinusoid tables), float64 numpy written here
(with central finite differences for gradients), and Paddle's ``nn.MultiHeadAttention`` and
``nn.TransformerEncoderLayer`` with copied weights. A layer that uses another question's component
(``Attention`` its scores and the masked softmax, ``QKVAttention`` the masked softmax,
``MultiHeadSelfAttention`` ``QKVAttention``) is run with built-in stand-ins of those
(``fixtures/ch08.py``), so it costs points only for its own code. Padded weights are checked below 1e-6,
never for exact zeros (CPU softmax leaves ~5e-29). Dropout in training mode is checked by behaviour, never
by a mask: each output row must be the book's formula under one of all the possible masks.
"""

import numpy as np
import paddle

from ..checks import (CheckFailure, as_tensor, book_section, check_close, check_shape, float32_exact, require,
                      require_tensor, sampled_numeric_vjp, student_call, to_numpy)
from ..fixtures.layers import NameMap, builtin_harness
from ..rpc import build

HARNESS = "nndl_grading.fixtures.ch08.SubstitutedHarness"
# The built-ins the stubs may not call; grading.yml's ``forbidden`` for the question replaces these.
ATTENTION_BUILTINS = ("paddle.nn.MultiHeadAttention", "paddle.nn.functional.scaled_dot_product_attention")
ENCODER_BUILTINS = ("paddle.nn.TransformerEncoderLayer",)
PADDED_LIMIT = 1e-6
# TransformerBlock runs with built-in stand-ins of these (fixtures/ch08.py): only its own forward is graded there
BLOCK_PARTS = ("AddNorm", "PositionwiseFFN")

# §8.1.2.2's two sentences (book lines 12190–12194): lengths 4 and 11; the padded slots of the first hold
# arbitrary numbers here (the book had already written −1e9 into them)
BOOK_SCORES = [[0.1, 0.2, 0.4, 0.6, 0.5, -0.3, 2.0, 0.0, 1.0, 0.7, -1.0],
               [0.3, 0.2, 0.4, 0.1, 0.2, 0.5, 0.4, 0.6, 0.7, 0.9, 1.0]]
BOOK_WEIGHTS = [[0.19593432, 0.21654092, 0.26448367, 0.32304109] + [0.0] * 7,
                [0.07279236, 0.06586525, 0.080448, 0.05959734, 0.06586525, 0.08890879, 0.080448, 0.09825941,
                 0.10859344, 0.13263633, 0.14658581]]
# §8.2.1.2's printed Q, K, V, valid_lens [1, 1, 2, 2], context and weights (book lines 12761–12781)
BOOK_Q = [[[0.04542791, 0.85057974, 0.33361533], [0.946391, 0.23847368, 0.36302885]],
          [[0.76614064, 0.37495252, 0.33336037], [0.63866454, 0.9760425, 0.5480451]]]
BOOK_K = [[[0.6862119, 0.1342062, 0.26786622], [0.17106912, 0.677116, 0.06587131]],
          [[0.6739144, 0.5215646, 0.44378713], [0.04872252, 0.88483167, 0.71042657]]]
BOOK_V = [[[7.9257507e-04, 2.5841364e-01, 8.8483751e-01], [9.9241227e-01, 7.3286706e-01, 2.2684735e-01]],
          [[1.4830844e-01, 9.9669349e-01, 3.9105463e-01], [5.9856153e-01, 1.6353825e-01, 1.5453905e-01]]]
BOOK_CONTEXT = [[[7.9257507e-04, 2.5841364e-01, 8.8483751e-01], [7.9257507e-04, 2.5841364e-01, 8.8483751e-01]],
                [[3.5696453e-01, 6.1059302e-01, 2.8144866e-01], [3.8002339e-01, 5.6792462e-01, 2.6933601e-01]]]
BOOK_QKV_WEIGHTS = [[[1.0, 0.0], [1.0, 0.0]], [[0.5365804, 0.46341962], [0.4853674, 0.51463264]]]
# get_sinusoid_encoding(4, 3) and (5, 4) (the book's notebooks; §8.3.2.1)
SINUSOID_TABLES = {(4, 3): [[0, 1, 0], [0.84147096, 0.5403023, 0.00215443], [0.9092974, -0.41614684, 0.00430886],
                            [0.14112, -0.9899925, 0.00646326]],
                   (5, 4): [[0, 1, 0, 1], [0.84147096, 0.5403023, 0.00999983, 0.99995],
                            [0.9092974, -0.41614684, 0.01999867, 0.9998],
                            [0.14112, -0.9899925, 0.0299955, 0.99955004],
                            [-0.7568025, -0.6536436, 0.03998933, 0.9992001]]}


# --------------------------------------------------------------------------------------------- oracles
def np_masked_softmax(scores, valid_lens):
    """Eq. (8.5) in float64: softmax over the last axis with positions ≥ valid_lens (one per row) excluded."""
    scores = np.asarray(scores, np.float64)
    keep = np.arange(scores.shape[-1]) < np.asarray(valid_lens)[..., None]
    shifted = np.where(keep, scores, -np.inf)
    weights = np.exp(shifted - shifted.max(-1, keepdims=True))
    return weights / weights.sum(-1, keepdims=True)


def np_qkv_attention(Q, K, V, row_lens, size):
    """Eq. (8.11) in float64 with the keys masked per query row (row_lens [B·L]): (context, weights)."""
    B, L, _ = np.shape(Q)
    weights = np_masked_softmax(np.einsum("bid,bjd->bij", Q, K) / np.sqrt(size), np.reshape(row_lens, (B, L)))
    return weights @ np.asarray(V, np.float64), weights


def np_layer_norm(z, gain, bias, eps=1e-5):
    """LayerNorm over the last axis with the biased variance (Paddle's ``nn.LayerNorm``)."""
    z = np.asarray(z, np.float64)
    return (z - z.mean(-1, keepdims=True)) / np.sqrt(z.var(-1, keepdims=True) + eps) * gain + bias


def np_sinusoid(position_size, hidden_size):
    """Eqs. (8.22)–(8.23) in float64: sin on even dimensions 2i, cos on odd 2i+1, angle pos/10000^(2i/D)."""
    pos, dim = np.arange(position_size)[:, None], np.arange(hidden_size)[None, :]
    angle = pos / 10000.0 ** (2 * (dim // 2) / hidden_size)
    return np.where(dim % 2 == 0, np.sin(angle), np.cos(angle))


SCORE_FORMULAS = {   # book parameter names → shapes, and the score of X [B, L, D] as a function of them
    "AdditiveScore": (lambda D: {"W.weight": (D, D), "U.weight": (D, D), "v.weight": (D, 1), "q": (1, D)},
                      lambda X, p: (np.tanh(X @ p["W.weight"] + p["q"] @ p["U.weight"]) @ p["v.weight"])[..., 0]),
    "DotProductScore": (lambda D: {"q": (D, 1)}, lambda X, p: (X @ p["q"])[..., 0]),
    "ScaledDotProductScore": (lambda D: {"q": (D, 1)}, lambda X, p: (X @ p["q"])[..., 0] / np.sqrt(X.shape[-1])),
    "BilinearScore": (lambda D: {"W.weight": (D, D), "q": (D, 1)},
                      lambda X, p: (X @ p["W.weight"] @ p["q"])[..., 0]),
}


# --------------------------------------------------------------------------------------------- helpers
def _student_layer(env, name, args, kwargs=None, forbidden=(), substitutes=()):
    layer_class = require(env, name, kind="class")
    shown = ", ".join([repr(a) for a in args] + [f"{k}={v!r}" for k, v in (kwargs or {}).items()])
    what = f"{name}({shown})"
    harness = student_call(build, env, HARNESS, layer_class, tuple(args), dict(kwargs or {}), tuple(forbidden),
                           tuple(substitutes), what=what, stage="signature")
    return harness, what


def _set_parameters(harness, values, what):
    """Give the student's layer the book-named ``values`` after checking that each exists with its shape."""
    shapes = student_call(harness.parameters, what=what, stage="signature")["named_parameters"]
    for name, value in values.items():
        if name not in shapes:
            raise CheckFailure("signature", what, f"应有参数 {name}（教材 __init__ 中的名字），实际参数为 {sorted(shapes)}")
        check_shape(np.empty(shapes[name]), np.shape(value), f"{what} 的参数 {name}", squeezable=False)
    student_call(harness.set_parameters, {k: np.asarray(v, np.float32) for k, v in values.items()}, what=what,
                 stage="signature")


def _random_values(rng, shapes, scale=0.5):
    return {name: float32_exact(rng.normal(scale=scale, size=shape)) for name, shape in shapes.items()}


def _require_gradient(value, name, what):
    if value is None:
        raise CheckFailure("gradients", what, f"没有梯度传到 {name}：forward 是否用 .numpy()、detach() 或 "
                           "paddle.to_tensor 断开了计算图 (computation graph)？")
    return value


def _check_gradients(actual, arrays, function, upstream, labels, what, seed):
    """Each gradient in ``actual`` against float64 central differences of ``function`` at ``arrays``."""
    numeric = sampled_numeric_vjp(function, arrays, upstream, seed=seed)
    for grad, array, (index, values), label in zip(actual, arrays, numeric, labels):
        grad = _require_gradient(grad, label, what)
        check_shape(grad, np.shape(array), f"{what}：{label} 的梯度", squeezable=False)
        check_close(np.reshape(grad, np.shape(array))[index], values, f"{what}：{label} 的梯度（与数值梯度比较）",
                    "gradients")


def _check_padded(weights, keep, what):
    """Weights on masked positions below 1e-6 (never tested for exact zeros)."""
    padded = np.abs(to_numpy(weights))[~np.broadcast_to(keep, np.shape(weights))]
    if padded.size and padded.max() >= PADDED_LIMIT:
        raise CheckFailure("behaviour", what, f"超出有效长度的位置权重应小于 {PADDED_LIMIT:g}，实际最大 "
                           f"{padded.max():.2e}：掩码 (mask) 要在 softmax 之前、用很大的负数填充")


def _reject_forbidden(harness, what, names):
    called = student_call(harness.forbidden_calls, what=what, stage="behaviour")
    if called:
        raise CheckFailure("behaviour", what, f"本题要求亲手实现，不能调用飞桨内置的 {', '.join(called)}（{names}）")


def _attention_weights(harness, name, what):
    weights = student_call(harness.attribute, name, what=f"{what} 的 {name}", stage="behaviour")
    if weights is None:
        raise CheckFailure("behaviour", what, f"forward 之后 {name} 不应为 None：请把注意力权重存入 self._attention_weights")
    return to_numpy(weights)


# --------------------------------------------------------------------------------------------- §8.1.2.2
@book_section("8.1.2.2")
def check_masked_softmax_book_example(env):
    """The book's two sentences (lengths 4 and 11) give its printed weights, with int64 and int32 lengths."""
    masked_softmax = require(env, "masked_softmax")
    for dtype in ("int64", "int32"):
        what = f"masked_softmax（教材 §8.1.2.2 的两个句子，valid_lens 为 {dtype}）"
        out = student_call(masked_softmax, as_tensor(BOOK_SCORES), as_tensor([4, 11], dtype), what=what)
        require_tensor(out, what)
        check_shape(out, [2, 11], what, squeezable=False)
        check_close(out, BOOK_WEIGHTS, what)
        _check_padded(out, np.arange(11) < np.array([[4], [11]]), what)


@book_section("8.1.2.2")
def check_masked_softmax_padding(env):
    """Random scores [B, L] and lengths 1 … L: eq. (8.5) in float64, rows summing to 1, and whatever the
    padded slots hold (large positive or negative numbers) the weights stay the same."""
    masked_softmax = require(env, "masked_softmax")
    rng = np.random.default_rng(801)
    lens = np.array([1, 3, 7, 5, 2])
    keep = np.arange(7) < lens[:, None]
    scores = rng.normal(size=(5, 7))
    expected = np_masked_softmax(float32_exact(scores), lens)
    for fill, dtype in (("原样", "int64"), (20.0, "int64"), (-20.0, "int32"), (60.0, "int32")):
        filled = scores if isinstance(fill, str) else np.where(keep, scores, fill)
        what = f"masked_softmax（scores [5, 7]，valid_lens={lens.tolist()} {dtype}，填充位置的分数 {fill}）"
        out = student_call(masked_softmax, as_tensor(filled), as_tensor(lens, dtype), what=what)
        require_tensor(out, what)
        check_shape(out, [5, 7], what, squeezable=False)
        check_close(out, expected, what)
        _check_padded(out, keep, what)


# --------------------------------------------------------------------------------------------- §8.1.2.1
def _check_score(env, name, seed):
    shapes_of, formula = SCORE_FORMULAS[name]
    rng = np.random.default_rng(seed)
    for B, L, D in ((2, 5, 4), (3, 1, 6)):
        harness, what = _student_layer(env, name, (D,))
        values = _random_values(rng, shapes_of(D))
        _set_parameters(harness, values, what)
        X = float32_exact(rng.normal(size=(B, L, D)))
        what = f"{what}，输入 [{B}, {L}, {D}]"
        out = student_call(harness.forward, (X.astype(np.float32),), what=f"{what} 的 forward")
        check_shape(out, [B, L], what, squeezable=False)
        check_close(out, formula(X, values), what)
        G = rng.normal(size=(B, L)).astype(np.float32)
        result = student_call(harness.gradients, (X.astype(np.float32),), G, what=f"{what} 的反向传播",
                              stage="gradients")
        names = list(values)
        _check_gradients([result["inputs"][0]] + [result["parameters"].get(n) for n in names],
                         [X] + [values[n] for n in names], lambda x, *p: formula(x, dict(zip(names, p))),
                         float32_exact(G), ["输入"] + names, what, seed + 1)


@book_section("8.1.2.1")
def check_additive_score(env):
    """Eq. (8.3): vᵀ tanh(XW + qᵀU) with the book's W, U, v (linear maps without bias) and q [1, D]; scores
    [B, L]; gradients of the input and of every parameter."""
    _check_score(env, "AdditiveScore", 811)


@book_section("8.1.2.1")
def check_dot_product_score(env):
    """Eq. (8.4): X q with q [D, 1]; scores [B, L]; gradients of the input and of q."""
    _check_score(env, "DotProductScore", 813)


@book_section("8.1")
def check_scaled_dot_score(env):
    """Exercise 8.1: X q / √D with q [D, 1]; scores [B, L]; gradients."""
    _check_score(env, "ScaledDotProductScore", 815)


@book_section("8.1")
def check_bilinear_score(env):
    """Exercise 8.1: X W q with W a linear map without bias and q [D, 1]; scores [B, L]; gradients."""
    _check_score(env, "BilinearScore", 817)


# --------------------------------------------------------------------------------------------- §8.1.2.4
@book_section("8.1.2.4")
def check_attention_forward(env):
    """``Attention`` with dot-product and additive scores (stand-ins for both and for ``masked_softmax``):
    context Σ αₙxₙ [B, D], weights [B, L] in ``attention_weights``, padded rows of X without effect,
    gradients of X."""
    rng = np.random.default_rng(821)
    B, L, D = 3, 5, 4
    lens = np.array([2, 5, 1])
    keep = np.arange(L) < lens[:, None]
    for use_additive, score in ((False, "DotProductScore"), (True, "AdditiveScore")):
        harness, what = _student_layer(env, "Attention", (D,), {"use_additive": use_additive},
                                       substitutes=("masked_softmax", "DotProductScore", "AdditiveScore"))
        shapes_of, formula = SCORE_FORMULAS[score]
        values = _random_values(rng, shapes_of(D), scale=1.0)
        _set_parameters(harness, {f"scores.{k}": v for k, v in values.items()}, what)
        X = float32_exact(rng.normal(size=(B, L, D)))
        for label, inputs in (("", X), ("，填充位置的 X 改为别的值", np.where(keep[..., None], X, X + 2.0))):
            weights = np_masked_softmax(formula(inputs, values), lens)
            case = f"{what}，X [{B}, {L}, {D}]，valid_lens={lens.tolist()}{label}"
            out = student_call(harness.forward, (inputs.astype(np.float32), lens), what=f"{case} 的 forward")
            check_shape(out, [B, D], case, squeezable=False)
            check_close(out, np.einsum("bl,bld->bd", weights, X), case)
            stored = _attention_weights(harness, "attention_weights", case)
            check_shape(stored, [B, L], f"{case} 的 attention_weights", squeezable=False)
            check_close(stored, weights, f"{case} 的 attention_weights")
            _check_padded(stored, keep, f"{case} 的 attention_weights")
        G = rng.normal(size=(B, D)).astype(np.float32)
        result = student_call(harness.gradients, (X.astype(np.float32), lens), G, what=f"{what} 的反向传播",
                              stage="gradients")
        _check_gradients([result["inputs"][0]], [X],
                         lambda x: np.einsum("bl,bld->bd", np_masked_softmax(formula(x, values), lens), x),
                         float32_exact(G), ["输入 X"], what, 822)


# --------------------------------------------------------------------------------------------- §8.2.1.2
@book_section("8.2.1.2")
def check_qkv_book_example(env):
    """The book's printed Q, K, V with valid_lens [1, 1, 2, 2] give its printed context and weights."""
    harness, what = _student_layer(env, "QKVAttention", (3,), substitutes=("masked_softmax",))
    what = f"{what}（教材 §8.2.1.2 打印的 Q、K、V，valid_lens=[1, 1, 2, 2]）"
    inputs = tuple(np.asarray(a, np.float32) for a in (BOOK_Q, BOOK_K, BOOK_V)) + (np.array([1, 1, 2, 2]),)
    out = student_call(harness.forward, inputs, what=what)
    check_shape(out, [2, 2, 3], what, squeezable=False)
    check_close(out, BOOK_CONTEXT, what)
    check_close(_attention_weights(harness, "attention_weights", what), BOOK_QKV_WEIGHTS, f"{what} 的 attention_weights")


@book_section("8.2.1.2")
def check_qkv_mask(env, forbidden=ATTENTION_BUILTINS):
    """Random Q, K, V [B, L, D] with one length per query row (valid_lens [B·L], int64 and int32): eq. (8.11)
    in float64 with keys masked, the weights in ``attention_weights``, gradients of Q, K, V; and none of
    ``forbidden`` called."""
    rng = np.random.default_rng(831)
    B, L, D = 2, 4, 6
    row_lens = np.array([1, 2, 3, 4, 4, 4, 2, 2])
    harness, what = _student_layer(env, "QKVAttention", (D,), forbidden=forbidden, substitutes=("masked_softmax",))
    Q, K, V = (float32_exact(rng.normal(size=(B, L, D))) for _ in range(3))
    context, weights = np_qkv_attention(Q, K, V, row_lens, D)
    keep = np.arange(L) < row_lens.reshape(B, L, 1)
    for dtype in ("int64", "int32"):
        case = f"{what}，Q/K/V [{B}, {L}, {D}]，valid_lens={row_lens.tolist()} {dtype}"
        out = student_call(harness.forward, (*(a.astype(np.float32) for a in (Q, K, V)), row_lens.astype(dtype)),
                           what=f"{case} 的 forward")
        check_shape(out, [B, L, D], case, squeezable=False)
        check_close(out, context, case)
        stored = _attention_weights(harness, "attention_weights", case)
        check_shape(stored, [B, L, L], f"{case} 的 attention_weights", squeezable=False)
        check_close(stored, weights, f"{case} 的 attention_weights")
        _check_padded(stored, keep, f"{case} 的 attention_weights（只屏蔽键 keys 的列）")
    G = rng.normal(size=(B, L, D)).astype(np.float32)
    result = student_call(harness.gradients, (*(a.astype(np.float32) for a in (Q, K, V)), row_lens), G,
                          what=f"{what} 的反向传播", stage="gradients")
    _check_gradients(result["inputs"][:3], [Q, K, V], lambda q, k, v: np_qkv_attention(q, k, v, row_lens, D)[0],
                     float32_exact(G), ["Q", "K", "V"], what, 832)
    _reject_forbidden(harness, what, "nn.MultiHeadAttention、F.scaled_dot_product_attention")


# --------------------------------------------------------------------------------------------- §8.2.1.3
@book_section("8.2.1.3")
def check_split_head_reshape(env):
    """Eqs. (8.17)–(8.18): [B, L, M·D_m] → [B·M, L, D_m], row b·M + m holding head m (columns m·D_m …) of
    sample b."""
    split_head_reshape = require(env, "split_head_reshape")
    for B, L, M, Dm in ((2, 3, 3, 2), (3, 2, 2, 4)):
        X = np.arange(B * L * M * Dm, dtype=np.float32).reshape(B, L, M * Dm)
        what = f"split_head_reshape(X [{B}, {L}, {M * Dm}], heads_num={M}, head_size={Dm})"
        out = student_call(split_head_reshape, as_tensor(X), M, Dm, what=what)
        require_tensor(out, what)
        check_shape(out, [B * M, L, Dm], what, squeezable=False)
        check_close(out, X.reshape(B, L, M, Dm).transpose(0, 2, 1, 3).reshape(B * M, L, Dm), what)


MHSA_NAMES = {f"{book}.{kind}": f"{builtin}.{kind}" for book, builtin in
              (("Q_proj", "q_proj"), ("K_proj", "k_proj"), ("V_proj", "v_proj"), ("out_proj", "out_proj"))
              for kind in ("weight", "bias")}


@book_section("8.2.1.3")
def check_multi_head_self_attention(env, forbidden=ATTENTION_BUILTINS):
    """``MultiHeadSelfAttention`` (with a built-in stand-in of ``QKVAttention``) against ``nn.MultiHeadAttention``
    with the same weights and the equivalent key mask: outputs, the weights [B·M, L, L] head by head, the
    input gradient; int64 and int32 lengths; and none of ``forbidden`` called."""
    rng = np.random.default_rng(841)
    B, L, D, M = 3, 5, 8, 2
    lens = np.array([2, 5, 3])
    harness, what = _student_layer(env, "MultiHeadSelfAttention", (D, M), forbidden=forbidden,
                                   substitutes=("masked_softmax", "QKVAttention", "QKVAAttention"))
    values = {name: rng.normal(scale=0.5, size=(D, D) if name.endswith("weight") else (D,)) for name in MHSA_NAMES}
    _set_parameters(harness, values, what)
    oracle = builtin_harness(paddle.nn.MultiHeadAttention, (D, M), {"need_weights": True},
                              name_map=NameMap(MHSA_NAMES))
    oracle.set_parameters(values)
    X = rng.normal(size=(B, L, D)).astype(np.float32)
    mask = {"attn_mask": (np.arange(L)[None, :] < lens[:, None])[:, None, None, :]}
    expected, expected_weights = oracle.forward((X,), mask)
    for dtype in ("int64", "int32"):
        case = f"{what}，X [{B}, {L}, {D}]，valid_lens={lens.tolist()} {dtype}"
        out = student_call(harness.forward, (X, lens.astype(dtype)), what=f"{case} 的 forward")
        check_shape(out, [B, L, D], case, squeezable=False)
        check_close(out, expected, f"{case}（与 paddle.nn.MultiHeadAttention 比较）")
    weights = _attention_weights(harness, "attention.attention_weights", what)
    check_shape(weights, [B * M, L, L], f"{what} 的 attention.attention_weights", squeezable=False)
    check_close(weights.reshape(B, M, L, L), expected_weights,
                f"{what} 的各头注意力权重（第 b·M+m 行是样本 b 的第 m 个头）")
    G = rng.normal(size=(B, L, D)).astype(np.float32)
    result = student_call(harness.gradients, (X, lens), G, what=f"{what} 的反向传播", stage="gradients")
    grad = _require_gradient(result["inputs"][0], "输入 X", what)
    check_close(grad, oracle.gradients((X,), (G, None), mask)["inputs"][0],
                f"{what}：输入的梯度（与 paddle.nn.MultiHeadAttention 比较）", "gradients")
    _reject_forbidden(harness, what, "nn.MultiHeadAttention、F.scaled_dot_product_attention")


# --------------------------------------------------------------------------------------------- §8.3.2.1
@book_section("8.3.2.1")
def check_sinusoid_encoding(env):
    """Eqs. (8.22)–(8.23): the tables get_sinusoid_encoding(4, 3) and (5, 4), then the closed form on larger
    even and odd sizes; a numpy array or a tensor of shape [position_size, hidden_size]."""
    get_sinusoid_encoding = require(env, "get_sinusoid_encoding")
    cases = [(size, table) for size, table in SINUSOID_TABLES.items()] + [((60, 16), None), ((9, 7), None)]
    for (P, D), table in cases:
        what = f"get_sinusoid_encoding({P}, {D})"
        out = student_call(get_sinusoid_encoding, P, D, what=what)
        check_shape(out, [P, D], what, squeezable=False)
        check_close(out, np_sinusoid(P, D) if table is None else table, what)


# --------------------------------------------------------------------------------------------- §8.3.2.2
@book_section("8.3.2.2")
def check_addnorm(env):
    """Eq. (8.24) in eval mode: LN(X + H) with the layer's own gain and bias (biased variance, eps 1e-5);
    gradients of X and H."""
    rng = np.random.default_rng(851)
    D = 6
    harness, what = _student_layer(env, "AddNorm", (D, 0.5))
    values = {"layer_norm.weight": float32_exact(rng.normal(1.0, 0.3, size=D)),
              "layer_norm.bias": float32_exact(rng.normal(size=D))}
    _set_parameters(harness, values, what)
    X, H = (float32_exact(rng.normal(size=(2, 3, D))) for _ in range(2))
    formula = lambda x, h: np_layer_norm(x + h, values["layer_norm.weight"], values["layer_norm.bias"])
    what = f"{what}（eval 模式），X、H [2, 3, {D}]"
    out = student_call(harness.forward, (X.astype(np.float32), H.astype(np.float32)), what=f"{what} 的 forward")
    check_shape(out, [2, 3, D], what, squeezable=False)
    check_close(out, formula(X, H), what)
    G = rng.normal(size=(2, 3, D)).astype(np.float32)
    result = student_call(harness.gradients, (X.astype(np.float32), H.astype(np.float32)), G, training=False,
                          what=f"{what} 的反向传播", stage="gradients")
    _check_gradients(result["inputs"], [X, H], formula, float32_exact(G), ["X", "H"], what, 852)


FFN_SHAPES = lambda D, F_: {"W_1.weight": (D, F_), "W_1.bias": (F_,), "W_2.weight": (F_, D), "W_2.bias": (D,)}


def np_ffn(X, p):
    """Eq. (8.25): max(0, XW₁ + b₁) W₂ + b₂ in float64."""
    return np.maximum(X @ p["W_1.weight"] + p["W_1.bias"], 0.0) @ p["W_2.weight"] + p["W_2.bias"]


@book_section("8.3.2.2")
def check_positionwise_ffn(env):
    """Eq. (8.25) in eval mode with the layer's own W_1, W_2 (biases included); gradients of the input and
    the parameters."""
    rng = np.random.default_rng(853)
    D, F_ = 4, 6
    harness, what = _student_layer(env, "PositionwiseFFN", (D, F_), {"dropout": 0.5})
    values = _random_values(rng, FFN_SHAPES(D, F_))
    _set_parameters(harness, values, what)
    X = float32_exact(rng.normal(size=(2, 3, D)))
    what = f"{what}（eval 模式），X [2, 3, {D}]"
    out = student_call(harness.forward, (X.astype(np.float32),), what=f"{what} 的 forward")
    check_shape(out, [2, 3, D], what, squeezable=False)
    check_close(out, np_ffn(X, values), what)
    G = rng.normal(size=(2, 3, D)).astype(np.float32)
    result = student_call(harness.gradients, (X.astype(np.float32),), G, training=False, what=f"{what} 的反向传播",
                          stage="gradients")
    names = list(values)
    _check_gradients([result["inputs"][0]] + [result["parameters"].get(n) for n in names], [X] + [values[n] for n in names],
                     lambda x, *p: np_ffn(x, dict(zip(names, p))), float32_exact(G), ["输入"] + names, what, 854)


@book_section("8.3.2.2")
def check_transformer_block(env, forbidden=ENCODER_BUILTINS):
    """``TransformerBlock`` (with built-in stand-ins of ``AddNorm`` and ``PositionwiseFFN``) in eval mode against
    ``nn.TransformerEncoderLayer`` (post-norm, ReLU) with the same weights, ``norm1`` and ``norm2`` both tied to
    the book's one ``addnorm.layer_norm``; an additive −1e9 key mask [B, 1, 1, L]; the returned weights
    [B, heads, L, L] below 1e-6 on padded keys; none of ``forbidden`` called."""
    rng = np.random.default_rng(861)
    B, L, D, M, F_ = 2, 5, 8, 2, 12
    harness, what = _student_layer(env, "TransformerBlock", (D, M, F_), {"dropout": 0.1}, forbidden=forbidden,
                                   substitutes=BLOCK_PARTS)
    values = {f"multi_head_attention.{p}_proj.{kind}": rng.normal(scale=0.5, size=(D, D) if kind == "weight" else D)
              for p in ("q", "k", "v", "out") for kind in ("weight", "bias")}
    values.update({f"ffn.{k}": v for k, v in _random_values(rng, FFN_SHAPES(D, F_)).items()})
    values.update({"addnorm.layer_norm.weight": rng.normal(1.0, 0.3, size=D), "addnorm.layer_norm.bias": rng.normal(size=D)})
    _set_parameters(harness, values, what)
    oracle = builtin_harness(paddle.nn.TransformerEncoderLayer, (D, M, F_),
                              {"dropout": 0.1, "activation": "relu", "normalize_before": False})
    builtin_names = {"self_attn": "multi_head_attention", "linear1": "ffn.W_1", "linear2": "ffn.W_2",
                     "norm1": "addnorm.layer_norm", "norm2": "addnorm.layer_norm"}
    oracle.set_parameters({name: values[builtin_names[name.split(".")[0]] + "." + name.split(".", 1)[1]]
                           for name in oracle.parameters()["named_parameters"]})
    lens = np.array([3, 5])
    keep = np.arange(L) < lens[:, None]
    mask = np.where(keep, 0.0, -1e9).astype(np.float32)[:, None, None, :]
    X = rng.normal(size=(B, L, D)).astype(np.float32)
    what = f"{what}（eval 模式），X [{B}, {L}, {D}]，src_mask 为 [{B}, 1, 1, {L}] 的 −1e9 加性掩码"
    out = student_call(harness.forward, (X,), {"src_mask": mask}, what=f"{what} 的 forward")
    if not isinstance(out, tuple) or len(out) != 2:
        raise CheckFailure("shape", what, "forward 应返回 (输出, 注意力权重) 两个值，与教材一致")
    check_shape(out[0], [B, L, D], what, squeezable=False)
    check_close(out[0], oracle.forward((X,), {"src_mask": mask}),
                f"{what}（与 paddle.nn.TransformerEncoderLayer 比较，两个 Add&Norm 共用 self.addnorm）")
    check_shape(out[1], [B, M, L, L], f"{what} 返回的注意力权重", squeezable=False)
    _check_padded(out[1], keep[:, None, None, :], f"{what} 返回的注意力权重")
    _reject_forbidden(harness, what, "nn.TransformerEncoderLayer")


# ------------------------------------------------------------------------ §8.3.2.2 dropout in training mode
# Train mode cannot be compared with a reference's random mask. Instead every row of the student's output must
# be the book's formula under SOME inverted-dropout mask — all 2^n masks of the row's n dropped-or-kept elements
# are tried — whatever random numbers the student drew and in whatever order (nn.Dropout, F.dropout, chapter
# 7's Dropout, paddle.bernoulli …), and the masks so found must drop a fraction of elements near p.
DROPOUT_P = 0.5
DROPOUT_BATCH = (4, 12)       # B, L: 48 rows


def dropout_masks(count, p=DROPOUT_P):
    """All 2^count inverted-dropout masks of ``count`` elements: rows of {0, 1/(1 − p)}, [2^count, count]."""
    bits = (np.arange(2 ** count)[:, None] >> np.arange(count)) & 1
    return bits / (1.0 - p)


def addnorm_dropout_case():
    """X, H [B, L, 4] (|H| in [0.5, 1.5], so dropping an element always shows) and the LayerNorm's gain, bias."""
    rng = np.random.default_rng(855)
    shape = (*DROPOUT_BATCH, 4)
    X = float32_exact(rng.normal(size=shape))
    H = float32_exact(rng.choice([-1.0, 1.0], size=shape) * rng.uniform(0.5, 1.5, size=shape))
    return X, H, float32_exact(rng.uniform(0.7, 1.3, size=4)), float32_exact(rng.normal(size=4))


def addnorm_candidates(X, H, gain, bias, p=DROPOUT_P):
    """LN(X + M ⊙ H) for every mask M of ``dropout_masks``: [rows, 2^D, D]."""
    X, H = X.reshape(-1, X.shape[-1]), H.reshape(-1, H.shape[-1])
    return np_layer_norm(X[:, None, :] + dropout_masks(X.shape[-1], p)[None] * H[:, None, :], gain, bias)


def ffn_dropout_case():
    """X [B, L, 4] and W_1, b_1, W_2, b_2 (6 hidden units) with b_1 chosen so that every hidden unit is active on
    every row: each unit's mask then shows in the output."""
    rng = np.random.default_rng(857)
    X = float32_exact(rng.normal(size=(*DROPOUT_BATCH, 4)))
    values = _random_values(rng, FFN_SHAPES(4, 6))
    lowest = (X.reshape(-1, 4) @ values["W_1.weight"]).min(axis=0)
    values["W_1.bias"] = float32_exact(0.5 - lowest + rng.uniform(0.0, 0.5, size=6))
    return X, values


def ffn_candidates(X, p_values, p=DROPOUT_P):
    """W₂(M ⊙ max(0, XW₁ + b₁)) + b₂ for every mask M of ``dropout_masks``: [rows, 2^F, D]."""
    hidden = np.maximum(X.reshape(-1, X.shape[-1]) @ p_values["W_1.weight"] + p_values["W_1.bias"], 0.0)
    masked = dropout_masks(hidden.shape[-1], p)[None] * hidden[:, None, :]
    return masked @ p_values["W_2.weight"] + p_values["W_2.bias"]


def _check_under_some_mask(out, candidates, masks, what, rule, p=DROPOUT_P):
    """Row r of ``out`` is ``candidates[r, k]`` (the formula under ``masks[k]``) for some k, and the masks found
    drop a fraction of elements within 5σ of p (a correct dropout fails that with probability < 1e-6)."""
    rows = np.asarray(out, np.float64).reshape(candidates.shape[0], -1)
    best = np.abs(candidates - rows[:, None, :]).max(axis=-1).argmin(axis=1)
    check_close(rows, candidates[np.arange(len(rows)), best], f"{what}：训练模式下每个位置都应是 {rule}",
                stage="behaviour")
    dropped = float(np.mean(masks[best] == 0))
    sigma = np.sqrt(p * (1 - p) / masks[best].size)
    if abs(dropped - p) > 5 * sigma:
        raise CheckFailure("behaviour", what, f"被丢弃的比例 {dropped:.3f} 与 dropout={p} 不符（应以概率 p 丢弃、"
                           f"保留的乘以 1/(1−p)；允许偏差 5σ = {5 * sigma:.3f}）")


@book_section("8.3.2.2")
def check_addnorm_dropout(env):
    """Eq. (8.24) in train mode with dropout 0.5: each position is LN(X + dropout(H)) under some mask of H's
    elements (scaled by 1/(1 − p)), X never dropped; catches a missing dropout, dropout on X, a wrong rate."""
    X, H, gain, bias = addnorm_dropout_case()
    harness, what = _student_layer(env, "AddNorm", (X.shape[-1], DROPOUT_P))
    _set_parameters(harness, {"layer_norm.weight": gain, "layer_norm.bias": bias}, what)
    what = f"{what}（训练模式 train()），X、H {list(X.shape)}"
    out = student_call(harness.forward, (X.astype(np.float32), H.astype(np.float32)), training=True,
                       what=f"{what} 的 forward", stage="behaviour")
    check_shape(out, X.shape, what, squeezable=False)
    _check_under_some_mask(out, addnorm_candidates(X, H, gain, bias), dropout_masks(X.shape[-1]), what,
                           "LayerNorm(X + dropout(H))：只对 H 做 dropout，X 不做")


@book_section("8.3.2.2")
def check_positionwise_ffn_dropout(env):
    """Eq. (8.25) in train mode with dropout 0.5: each position is W₂(dropout(ReLU(W₁X + b₁))) + b₂ under some
    mask of the hidden units; catches a missing dropout, dropout after W₂ or on the input, a wrong rate."""
    X, values = ffn_dropout_case()
    D, F_ = values["W_1.weight"].shape
    harness, what = _student_layer(env, "PositionwiseFFN", (D, F_), {"dropout": DROPOUT_P})
    _set_parameters(harness, values, what)
    what = f"{what}（训练模式 train()），X {list(X.shape)}"
    out = student_call(harness.forward, (X.astype(np.float32),), training=True, what=f"{what} 的 forward",
                       stage="behaviour")
    check_shape(out, X.shape, what, squeezable=False)
    _check_under_some_mask(out, ffn_candidates(X, values), dropout_masks(F_), what,
                           "W_2(dropout(ReLU(W_1 X)))：dropout 作用在 ReLU 之后、W_2 之前的隐藏层上")


def block_dropout_case():
    """X [B, L, 4] and the book-named weights of ``TransformerBlock(4, 2, 6)`` (attention, FFN, the one AddNorm)."""
    rng = np.random.default_rng(863)
    D, F_ = 4, 6
    values = {f"multi_head_attention.{p}_proj.{kind}": float32_exact(rng.normal(scale=0.6, size=(D, D) if kind == "weight"
                                                                                  else D))
              for p in ("q", "k", "v", "out") for kind in ("weight", "bias")}
    values.update({f"ffn.{k}": v for k, v in _random_values(rng, FFN_SHAPES(D, F_)).items()})
    values.update({"addnorm.layer_norm.weight": float32_exact(rng.uniform(0.7, 1.3, size=D)),
                   "addnorm.layer_norm.bias": float32_exact(rng.normal(size=D))})
    return float32_exact(rng.normal(size=(*DROPOUT_BATCH, D))), values


def block_candidates(X, values, attended, p=DROPOUT_P):
    """Y₂ = AddNorm(Y₁, FFN(Y₁)), Y₁ = AddNorm(X, attended) for every pair of masks of the two AddNorm dropouts
    (attention and FFN dropout 0): [rows, 2^D · 2^D, D], the first mask varying slowest."""
    gain, bias = values["addnorm.layer_norm.weight"], values["addnorm.layer_norm.bias"]
    ffn = {name[len("ffn."):]: value for name, value in values.items() if name.startswith("ffn.")}
    first = addnorm_candidates(X, attended, gain, bias, p)                       # [rows, K, D]
    rows, K, D = first.shape
    second = addnorm_candidates(first, np_ffn(first, ffn), gain, bias, p)        # [rows·K, K, D]
    return second.reshape(rows, K * K, D)


@book_section("8.3.2.2")
def check_transformer_block_dropout(env):
    """``TransformerBlock(4, 2, 6, dropout=0.5, attn_dropout=0, act_dropout=0)`` in train mode, with built-in
    stand-ins of ``AddNorm`` and ``PositionwiseFFN``: each position is
    AddNorm(Y₁, FFN(Y₁)) with Y₁ = AddNorm(X, attention(X)) under some pair of masks of the (shared) AddNorm's
    dropout; catches a block that bypasses ``self.addnorm``'s dropout."""
    X, values = block_dropout_case()
    D = X.shape[-1]
    harness, what = _student_layer(env, "TransformerBlock", (D, 2, 6),
                                   {"dropout": DROPOUT_P, "attn_dropout": 0.0, "act_dropout": 0.0},
                                   substitutes=BLOCK_PARTS)
    _set_parameters(harness, values, what)
    attention = builtin_harness(paddle.nn.MultiHeadAttention, (D, 2), {})
    prefix = "multi_head_attention."
    attention.set_parameters({name[len(prefix):]: value for name, value in values.items() if name.startswith(prefix)})
    attended = attention.forward((X.astype(np.float32),))
    what = f"{what}（训练模式 train()），X {list(X.shape)}"
    out = student_call(harness.forward, (X.astype(np.float32),), training=True, what=f"{what} 的 forward",
                       stage="behaviour")
    if not isinstance(out, tuple) or len(out) != 2:
        raise CheckFailure("shape", what, "forward 应返回 (输出, 注意力权重) 两个值，与教材一致")
    check_shape(out[0], X.shape, what, squeezable=False)
    masks = dropout_masks(D)
    pairs = np.concatenate([np.repeat(masks, len(masks), axis=0), np.tile(masks, (len(masks), 1))], axis=1)
    _check_under_some_mask(out[0], block_candidates(X, values, float32_exact(attended)), pairs, what,
                           "AddNorm(Y, FFN(Y))，Y = AddNorm(X, 注意力输出)：两次都用 self.addnorm（含其 dropout）")
