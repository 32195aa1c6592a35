"""Hidden checks of chapter 6: ``Embedding`` (§6.1.2.1), ``SRN`` (§6.1.2.2), gradient clipping by norm
(§6.2.3, per tensor and global), ``LSTM`` (§6.3.1.1), ``collate_fn`` (§6.4.1.3), ``AveragePooling``
(§6.4.2) and exercise 6.4's ``GRU`` (extra credit, Paddle's ``nn.GRU`` equations).

The student's layers are built and run by the layer harness (``fixtures/layers.py``; the clipping
functions through ``fixtures/ch06.py``) where the student's code runs; this process only sends arrays and
reads arrays back, with every weight injected explicitly. Expected values come from float64 numpy written
here (the book's equations, masked means, eq. 6.6, central finite differences through time) and from
Paddle's built-ins mapped onto the book's parameters (``nn.SimpleRNN``: W = weight_ih_l0ᵀ, U = weight_hh_l0ᵀ,
b = bias_ih; ``nn.LSTM``: the stacked weights split in Paddle's i, f, c, o order onto the book's i, f, o, a;
``nn.GRU``: r, z, c; the recurrent biases zero), ``nn.ClipGradByNorm`` and ``nn.ClipGradByGlobalNorm``.
Any correct implementation passes — per-gate or fused products, a precomputed input projection, loops over
the batch, float64 inside; only the ``*_by_hand`` checks enforce the prompt's rule against the built-ins.
"""

import copy

import numpy as np
import paddle

from ..checks import (CheckFailure, book_section, check_close, check_shape, compare_to_oracles, float32_exact,
                      np_sigmoid, reject_forbidden, require, require_gradient, sampled_numeric_vjp, student_call)
from ..fixtures.layers import NameMap, Piece, builtin_harness
from ..rpc import build

HARNESS = "nndl_grading.fixtures.layers.LayerHarness"
CLIPPING_HARNESS = "nndl_grading.fixtures.ch06.clipping_harness"
# The built-ins "implement by hand" rules out; grading.yml's ``forbidden`` for the question replaces these.
SRN_BUILTINS = ("paddle.nn.SimpleRNN", "paddle.nn.SimpleRNNCell")
LSTM_BUILTINS = ("paddle.nn.LSTM", "paddle.nn.LSTMCell")
GRU_BUILTINS = ("paddle.nn.GRU", "paddle.nn.GRUCell")
CLIP_BUILTINS = ("paddle.nn.ClipGradByNorm", "paddle.nn.ClipGradByGlobalNorm",
                 "paddle.nn.utils.clip_grad_norm_.clip_grad_norm_", "paddle.nn.clip.clip_by_norm")
# Appendix toys of the companion notebook: W = [[.1, .2], [.1, .2]], U = [[0, .1], [.1, 0]], b = [[.1, .1]]
TOY = {"W": [[0.1, 0.2], [0.1, 0.2]], "U": [[0.0, 0.1], [0.1, 0.0]], "b": [[0.1, 0.1]]}
# (batch B, steps L, input size M, hidden size D): a batch of one, one step, wider and narrower than M
FORWARD_CASES = ((3, 5, 4, 3), (1, 1, 3, 4), (4, 7, 2, 5))
GRADIENT_CASE = (2, 4, 3, 3)
FINITE_DIFFERENCE_CASE = (2, 3, 2, 3)          # BPTT through a 3-step sequence, float64 central differences


# --------------------------------------------------------------------------------------------- oracles
def np_srn(X, p):
    """Eq. (6.4) in float64: H_t = tanh(X_t W + H_{t−1} U + b), H_0 = 0; the last state [B, D]."""
    h = np.zeros((X.shape[0], p["U"].shape[0]))
    for step in range(X.shape[1]):
        h = np.tanh(X[:, step] @ p["W"] + h @ p["U"] + p["b"])
    return h


def np_lstm(X, p):
    """Eqs. (6.7)–(6.13) in float64 with the book's names (candidate ``_a``); the last hidden state."""
    h = c = np.zeros((X.shape[0], p["U_i"].shape[0]))
    for step in range(X.shape[1]):
        gate = {g: X[:, step] @ p[f"W_{g}"] + h @ p[f"U_{g}"] + p[f"b_{g}"] for g in "ifoa"}
        c = np_sigmoid(gate["f"]) * c + np_sigmoid(gate["i"]) * np.tanh(gate["a"])
        h = np_sigmoid(gate["o"]) * np.tanh(c)
    return h


def np_gru(X, p):
    """``nn.GRU``'s cell in float64: R, Z = σ(X W + H U + b), C̃ = tanh(X W_c + b_c + R ⊙ (H U_c)),
    H_t = Z ⊙ H_{t−1} + (1 − Z) ⊙ C̃; the last hidden state."""
    h = np.zeros((X.shape[0], p["U_r"].shape[0]))
    for step in range(X.shape[1]):
        x = X[:, step]
        r = np_sigmoid(x @ p["W_r"] + h @ p["U_r"] + p["b_r"])
        z = np_sigmoid(x @ p["W_z"] + h @ p["U_z"] + p["b_z"])
        h = z * h + (1 - z) * np.tanh(x @ p["W_c"] + p["b_c"] + r * (h @ p["U_c"]))
    return h


def np_average_pooling(values, lengths):
    """§6.4.2's masked mean: the mean of each sequence's first ``lengths[i]`` positions."""
    return np.stack([values[i, :int(n)].mean(axis=0) for i, n in enumerate(lengths)])


def np_clip_by_norm(grad, clip_norm):
    """Eq. (6.6): g if ‖g‖₂ ≤ θ, else θ·g/‖g‖₂."""
    norm = np.linalg.norm(grad)
    return grad if norm <= clip_norm else grad * clip_norm / norm


def np_clip_by_global_norm(grads, clip_norm):
    """Eq. (6.6) with g every gradient together."""
    norm = np.sqrt(sum(np.sum(np.square(g)) for g in grads))
    return [g if norm <= clip_norm else g * clip_norm / norm for g in grads]


def _chunks(target, count, D, transpose=True):
    return [Piece(target, (slice(k * D, (k + 1) * D),), transpose) for k in range(count)]


class Recurrent:
    """One recurrent layer of the chapter: its class name, gate letters (None for the SRN's W, U, b), float64
    oracle, and the Paddle built-in with its chunk order (``paddle_order``, the book's letters) for the name map."""

    def __init__(self, name, gates, oracle, builtin, paddle_order):
        self.name, self.gates, self.oracle = name, gates, oracle
        self.builtin, self.paddle_order = builtin, paddle_order

    def parameter_names(self):
        if not self.gates:
            return ["W", "U", "b"]
        return [f"{kind}_{gate}" for kind in "WUb" for gate in self.gates]

    def shapes(self, M, D):
        return {name: {"W": [M, D], "U": [D, D], "b": [1, D]}[name[0]] for name in self.parameter_names()}

    def name_map(self, D):
        if not self.gates:
            return NameMap({"W": Piece("weight_ih_l0", transpose=True), "U": Piece("weight_hh_l0", transpose=True),
                            "b": Piece("bias_ih_l0")}, zeros=("bias_hh_l0",))
        pieces = {}
        for kind, target, transpose in (("W", "weight_ih_l0", True), ("U", "weight_hh_l0", True),
                                        ("b", "bias_ih_l0", False)):
            for gate, piece in zip(self.paddle_order, _chunks(target, len(self.gates), D, transpose)):
                pieces[f"{kind}_{gate}"] = piece
        return NameMap(pieces, zeros=("bias_hh_l0",))

    def builtin_last_state(self, harness, X, G=None):
        """The built-in's last hidden state [B, D] on X (and, with upstream G, its autograd gradients). The
        built-ins return (outputs, h [1, B, D]); ``nn.LSTM`` returns (outputs, (h, c))."""
        with_cell = self.name == "LSTM"
        if G is None:
            result = {"outputs": harness.forward((X,))}
        else:
            result = harness.gradients((X,), (None, (G[None], None) if with_cell else G[None]))
        state = result["outputs"][1]
        return (state[0] if with_cell else state)[0], result


SRN_SPEC = Recurrent("SRN", None, np_srn, paddle.nn.SimpleRNN, None)
LSTM_SPEC = Recurrent("LSTM", "ifoa", np_lstm, paddle.nn.LSTM, "ifao")   # Paddle: i, f, c(g), o
GRU_SPEC = Recurrent("GRU", "rzc", np_gru, paddle.nn.GRU, "rzc")


def _student_recurrent(env, spec, M, D, forbidden=()):
    """A harness around the student's ``spec.name(input_size=M, hidden_size=D)`` after checking that its
    parameters are the book's names and shapes."""
    layer_class = require(env, spec.name, kind="class")
    what = f"{spec.name}(input_size={M}, hidden_size={D})"
    harness = student_call(build, env, HARNESS, layer_class, (M, D), {}, tuple(forbidden), what=what,
                           stage="signature")
    shapes = student_call(harness.parameters, what=what, stage="signature")["named_parameters"]
    expected = spec.shapes(M, D)
    for name, shape in expected.items():
        if name not in shapes:
            raise CheckFailure("signature", what, f"应有参数 self.{name}（__init__ 已给出，请不要改名），实际参数为 "
                               f"{sorted(shapes) or '无'}")
        check_shape(np.empty(shapes[name]), shape, f"{what} 的 {name}", squeezable=False)
    return harness, what


def _random_parameters(rng, spec, M, D):
    return {name: rng.normal(scale=0.6, size=shape).astype(np.float32) for name, shape in spec.shapes(M, D).items()}


def _exact(params):
    return {name: float32_exact(value) for name, value in params.items()}


def _check_recurrent_forward(env, spec, seed, toy=None):
    """The toy (if any), then random weights for each of ``FORWARD_CASES``: output [B, D] (the last hidden
    state only) against the float64 oracle and the Paddle built-in with the same weights."""
    if toy is not None:
        params, X, expected = toy
        harness, what = _student_recurrent(env, spec, 2, 2)
        student_call(harness.set_parameters, params, what=what, stage="signature")
        out = student_call(harness.forward, (X,), what=f"{what} 的 forward（附录的小例子）")
        check_shape(out, [1, 2], f"{what}（只返回最后时刻的隐状态 [B, D]）", squeezable=False)
        check_close(out, expected, f"{what}（附录的小例子）")
    rng = np.random.default_rng(seed)
    for B, L, M, D in FORWARD_CASES:
        harness, what = _student_recurrent(env, spec, M, D)
        what = f"{what}，输入 [{B}, {L}, {M}]"
        params = _random_parameters(rng, spec, M, D)
        X = rng.normal(size=(B, L, M)).astype(np.float32)
        student_call(harness.set_parameters, params, what=what, stage="signature")
        out = student_call(harness.forward, (X,), what=f"{what} 的 forward")
        check_shape(out, [B, D], f"{what}（只返回最后时刻的隐状态 [B, D]）", squeezable=False)
        oracle = builtin_harness(spec.builtin, (M, D), {}, name_map=spec.name_map(D))
        oracle.set_parameters(params)
        compare_to_oracles(out, {"float64 公式": spec.oracle(float32_exact(X), _exact(params)),
                                 f"paddle.nn.{spec.builtin.__name__}": spec.builtin_last_state(oracle, X)[0]}, what)


def _check_recurrent_gradients(env, spec, seed):
    """Autograd through the student's forward (back-propagation through time): the gradients of the input
    and of every book parameter against the Paddle built-in's autograd, then against float64 central finite
    differences on a 3-step sequence."""
    rng = np.random.default_rng(seed)
    for (B, L, M, D), numeric in ((GRADIENT_CASE, False), (FINITE_DIFFERENCE_CASE, True)):
        harness, what = _student_recurrent(env, spec, M, D)
        what = f"{what}，输入 [{B}, {L}, {M}]"
        params = _random_parameters(rng, spec, M, D)
        X = rng.normal(size=(B, L, M)).astype(np.float32)
        G = rng.normal(size=(B, D)).astype(np.float32)
        student_call(harness.set_parameters, params, what=what, stage="signature")
        result = student_call(harness.gradients, (X,), G, what=f"{what} 的反向传播", stage="gradients")
        names = list(params)
        actual = [require_gradient(result["inputs"][0], "输入 inputs", what)]
        actual += [require_gradient(result["parameters"].get(name), f"self.{name}", what) for name in names]
        labels = ["输入的梯度"] + [f"{name} 的梯度" for name in names]
        for grad, array, label in zip(actual, [X] + [params[n] for n in names], labels):
            check_shape(grad, array.shape, f"{what}：{label}", squeezable=False)
        if not numeric:
            oracle = builtin_harness(spec.builtin, (M, D), {}, name_map=spec.name_map(D))
            oracle.set_parameters(params)
            _, expected = spec.builtin_last_state(oracle, X, G)
            expected = [expected["inputs"][0]] + [expected["parameters"][name] for name in names]
            for grad, reference, label in zip(actual, expected, labels):
                check_close(grad, reference, f"{what}：{label}（与 paddle.nn.{spec.builtin.__name__} 的自动微分比较）",
                            "gradients")
            continue

        def function(x, *values):
            return spec.oracle(x, dict(zip(names, values)))

        arrays = [float32_exact(X)] + [float32_exact(params[n]) for n in names]
        numeric = sampled_numeric_vjp(function, arrays, G, seed=seed)
        for grad, array, (index, values), label in zip(actual, arrays, numeric, labels):
            check_close(np.reshape(grad, array.shape)[index], values, f"{what}：{label}（与数值梯度比较，BPTT）",
                        "gradients")


def _check_recurrent_by_hand(env, spec, forbidden, seed):
    """A correct forward and backward whose construction and run call none of ``forbidden``."""
    B, L, M, D = GRADIENT_CASE
    rng = np.random.default_rng(seed)
    harness, what = _student_recurrent(env, spec, M, D, forbidden)
    params = _random_parameters(rng, spec, M, D)
    X = rng.normal(size=(B, L, M)).astype(np.float32)
    student_call(harness.set_parameters, params, what=what, stage="signature")
    out = student_call(harness.forward, (X,), what=f"{what} 的 forward")
    check_close(out, spec.oracle(float32_exact(X), _exact(params)), what)
    student_call(harness.gradients, (X,), rng.normal(size=(B, D)).astype(np.float32), what=f"{what} 的反向传播",
                 stage="gradients")
    reject_forbidden(harness, spec.name, f"亲手实现 {spec.name} 的循环计算 (implement the recurrence by hand)")


# --------------------------------------------------------------------------------------------- §6.1.2.1
def _student_embedding(env, num_embeddings, embedding_dim):
    Embedding = require(env, "Embedding", kind="class")
    what = f"Embedding(num_embeddings={num_embeddings}, embedding_dim={embedding_dim})"
    harness = student_call(build, env, HARNESS, Embedding, (num_embeddings, embedding_dim), {}, (), what=what,
                           stage="signature")
    shapes = student_call(harness.parameters, what=what, stage="signature")["named_parameters"]
    if "W" not in shapes:
        raise CheckFailure("signature", what, f"应有参数 self.W（__init__ 已给出），实际参数为 {sorted(shapes) or '无'}")
    check_shape(np.empty(shapes["W"]), [num_embeddings, embedding_dim], f"{what} 的 W", squeezable=False)
    return harness, what


EMBEDDING_IDS = (np.array([[3, 0, 3, 6], [1, 1, 5, 2]]), np.array([4, 0, 4]), np.array([[[2, 6], [6, 2]]]))


@book_section("6.1.2.1")
def check_embedding_forward(env):
    """``W[ids]`` for int64 ids of shapes [B, L], [L] and [B, L, 2] (repeated ids included): output
    [..., embedding_dim], eq. (6.3)'s one-hot product as a lookup."""
    rng = np.random.default_rng(611)
    harness, what = _student_embedding(env, 7, 3)
    W = rng.normal(size=(7, 3)).astype(np.float32)
    student_call(harness.set_parameters, {"W": W}, what=what, stage="signature")
    for ids in EMBEDDING_IDS:
        label = f"{what}，输入 ids 形状 {list(ids.shape)}"
        out = student_call(harness.forward, (ids.astype(np.int64),), what=f"{label} 的 forward")
        check_shape(out, [*ids.shape, 3], label, squeezable=False)
        check_close(out, float32_exact(W)[ids], label)


@book_section("6.1.2.1")
def check_embedding_gradient(env):
    """Autograd of ⟨G, W[ids]⟩: row k of ∂/∂W adds up G over every position holding id k (zero for ids
    that do not occur)."""
    rng = np.random.default_rng(612)
    harness, what = _student_embedding(env, 7, 3)
    student_call(harness.set_parameters, {"W": rng.normal(size=(7, 3)).astype(np.float32)}, what=what,
                 stage="signature")
    ids = EMBEDDING_IDS[0]
    G = rng.normal(size=(*ids.shape, 3)).astype(np.float32)
    result = student_call(harness.gradients, (ids.astype(np.int64),), G, what=f"{what} 的反向传播", stage="gradients")
    grad = require_gradient(result["parameters"].get("W"), "self.W", what)
    expected = np.zeros((7, 3))
    np.add.at(expected, ids.ravel(), G.reshape(-1, 3).astype(np.float64))
    check_close(grad, expected, f"{what}：W 的梯度（同一个 id 出现几次就累加几次）", "gradients")


# --------------------------------------------------------------------------------------------- §6.1.2.2
@book_section("6.1.2.2")
def check_srn_forward(env):
    """The appendix toy (input [[[1, 0], [0, 2]]] → [[0.31773996, 0.47749741]]), then random weights: the
    last hidden state H_L [B, D] of eq. (6.4) against float64 numpy and ``nn.SimpleRNN``."""
    toy = ({name: np.array(value, np.float32) for name, value in TOY.items()},
           np.array([[[1.0, 0.0], [0.0, 2.0]]], np.float32), [[0.31773996, 0.47749741]])
    _check_recurrent_forward(env, SRN_SPEC, 621, toy)


@book_section("6.1.2.2")
def check_srn_gradients(env):
    """Back-propagation through time by autograd: ∂/∂inputs, ∂/∂W, ∂/∂U, ∂/∂b against ``nn.SimpleRNN`` and
    float64 finite differences on a 3-step sequence."""
    _check_recurrent_gradients(env, SRN_SPEC, 622)


@book_section("6.1.2.2")
def check_srn_by_hand(env, forbidden=SRN_BUILTINS):
    """The prompt's rule: a correct SRN that calls none of ``forbidden`` (``nn.SimpleRNN`` …)."""
    _check_recurrent_by_hand(env, SRN_SPEC, forbidden, 623)


# --------------------------------------------------------------------------------------------- §6.2.3
def _clip_harness(env, name, clip_norm, global_norm, forbidden):
    function = require(env, name)
    what = f"{name}(…, clip_norm={clip_norm})"
    harness = student_call(build, env, CLIPPING_HARNESS, function, clip_norm, global_norm, tuple(forbidden),
                           what=what, stage="signature")
    return harness, what


def _clip_builtin(clip, grads):
    params_grads = [(paddle.create_parameter(list(g.shape), "float32"), paddle.to_tensor(g)) for g in grads]
    return [g.numpy() for _, g in clip(params_grads)]


# (gradient scales, θ): every tensor above θ; every one below; some above and some below
CLIP_CASES = (((3.0, 1.5, 4.0), 2.0), ((0.05, 0.1, 0.2), 5.0), ((0.1, 2.0, 0.5), 1.0))
CLIP_SHAPES = ((3, 4), (5,), (2, 3, 2))


def _clip_inputs(rng, scales):
    return [(scale * rng.normal(size=shape) / np.sqrt(np.prod(shape))).astype(np.float32)
            for scale, shape in zip(scales, CLIP_SHAPES)]


@book_section("6.2.3")
def check_clip_grad_by_norm(env, forbidden=CLIP_BUILTINS):
    """Eq. (6.6) on one gradient tensor: unchanged when ‖g‖₂ ≤ θ, rescaled to norm θ otherwise (what the
    book's ``nn.ClipGradByNorm`` does to each parameter), for tensors of several shapes; no clipping
    built-in called."""
    rng = np.random.default_rng(631)
    for scales, clip_norm in CLIP_CASES:
        grads = _clip_inputs(rng, scales)
        harness, what = _clip_harness(env, "clip_grad_by_norm", clip_norm, False, forbidden)
        builtin = _clip_builtin(paddle.nn.ClipGradByNorm(clip_norm=clip_norm), grads)
        for grad, expected in zip(grads, builtin):
            label = f"{what}，梯度形状 {list(grad.shape)}、范数 {np.linalg.norm(grad):.3f}"
            out = student_call(harness.forward, (grad,), what=label)
            check_shape(out, grad.shape, label, squeezable=False)
            compare_to_oracles(out, {"式 (6.6)": np_clip_by_norm(float32_exact(grad), clip_norm),
                                     "paddle.nn.ClipGradByNorm": expected}, label)
        reject_forbidden(harness, "clip_grad_by_norm", "按式 (6.6) 亲手实现梯度截断")


@book_section("6.2.3")
def check_clip_grad_by_global_norm(env, forbidden=CLIP_BUILTINS):
    """Eq. (6.6) with g all gradients together: each tensor of the list scaled by θ / max(‖g‖₂, θ),
    ‖g‖₂² = Σ‖g_i‖₂² (``nn.ClipGradByGlobalNorm``); a list of the same length and shapes comes back."""
    rng = np.random.default_rng(632)
    for scales, clip_norm in CLIP_CASES:
        grads = _clip_inputs(rng, scales)
        harness, what = _clip_harness(env, "clip_grad_by_global_norm", clip_norm, True, forbidden)
        norm = np.sqrt(sum(np.sum(np.square(g.astype(np.float64))) for g in grads))
        what = f"{what}，{len(grads)} 个梯度、总范数 {norm:.3f}"
        out = student_call(harness.forward, tuple(grads), what=what)
        if not isinstance(out, (list, tuple)) or len(out) != len(grads):
            raise CheckFailure("shape", what, f"应返回与输入等长的梯度列表（{len(grads)} 个张量）")
        expected = np_clip_by_global_norm([float32_exact(g) for g in grads], clip_norm)
        builtin = _clip_builtin(paddle.nn.ClipGradByGlobalNorm(clip_norm=clip_norm), grads)
        for k, (actual, grad) in enumerate(zip(out, grads)):
            check_shape(actual, grad.shape, f"{what}：第 {k} 个梯度", squeezable=False)
            compare_to_oracles(actual, {"式 (6.6)": expected[k], "paddle.nn.ClipGradByGlobalNorm": builtin[k]},
                               f"{what}：第 {k} 个梯度")
        reject_forbidden(harness, "clip_grad_by_global_norm", "按式 (6.6) 亲手实现梯度截断")


# --------------------------------------------------------------------------------------------- §6.3.1.1
@book_section("6.3.1.1")
def check_lstm_forward(env):
    """The appendix toy (every W_* = [[.1, .2], [.1, .2]], U_* = [[0, .1], [.1, 0]], b_* = [[.1, .1]], input
    [[[1, 0]]] → [[0.05943684, 0.09524119]]), then random weights: the last hidden state of eqs.
    (6.7)–(6.13) against float64 numpy and ``nn.LSTM`` (its i, f, c, o chunks)."""
    toy = ({name: np.array(TOY[name[0]], np.float32) for name in LSTM_SPEC.parameter_names()},
           np.array([[[1.0, 0.0]]], np.float32), [[0.05943684, 0.09524119]])
    _check_recurrent_forward(env, LSTM_SPEC, 641, toy)


@book_section("6.3.1.1")
def check_lstm_gradients(env):
    """BPTT by autograd: the input's and all twelve parameters' gradients against ``nn.LSTM`` and float64
    finite differences on a 3-step sequence."""
    _check_recurrent_gradients(env, LSTM_SPEC, 642)


@book_section("6.3.1.1")
def check_lstm_by_hand(env, forbidden=LSTM_BUILTINS):
    """The prompt's rule: a correct LSTM that calls none of ``forbidden`` (``nn.LSTM`` …)."""
    _check_recurrent_by_hand(env, LSTM_SPEC, forbidden, 643)


# --------------------------------------------------------------------------------------------- §6.4.1.3
COLLATE_CASES = (   # (batch, pad_val, max_seq_len or None for the default 256)
    ([([1, 2, 3, 4, 5, 6], 1), ([2, 4, 6], 0)], 0, 5),                 # the companion notebook's demo
    ([([5, 9], 0), ([3, 8, 8, 2, 7, 4], 1), ([6, 6, 6, 6], 1)], 1, 4),   # [PAD] need not be 0
    ([([7, 3, 9], 1), ([4], 0)], 0, None),                              # shorter than max_seq_len: pad to the longest
    ([(list(range(2, 302)), 1), ([5, 6], 0)], 0, None),                  # longer than the default 256
)


def _np_collate(batch, pad_val, max_seq_len):
    seqs = [list(seq[:max_seq_len]) for seq, _ in batch]
    width = max(len(seq) for seq in seqs)
    return ([seq + [pad_val] * (width - len(seq)) for seq in seqs], [len(seq) for seq in seqs],
            [label for _, label in batch])


def _integer_array(value, what):
    if not hasattr(value, "numpy"):
        raise CheckFailure("shape", what, f"应是 paddle.Tensor（用 paddle.to_tensor），实际是 {type(value).__name__}")
    array = np.asarray(value.numpy())
    if array.dtype.kind not in "iu":
        raise CheckFailure("shape", what, f"应是整数张量 (int64)，实际 dtype 为 {array.dtype}")
    return array


@book_section("6.4.1.3")
def check_collate_fn(env):
    """``((seqs [B, L'], seq_lens [B]), labels [B])`` as integer tensors: each sequence cut to
    ``max_seq_len`` (default 256), its length after cutting, padded with ``pad_val`` to the batch's longest."""
    collate_fn = require(env, "collate_fn")
    for batch, pad_val, max_seq_len in COLLATE_CASES:
        keywords = {"pad_val": pad_val} if max_seq_len is None else {"pad_val": pad_val, "max_seq_len": max_seq_len}
        what = f"collate_fn(batch, {', '.join(f'{k}={v}' for k, v in keywords.items())})，序列长度 " \
               f"{[len(seq) for seq, _ in batch]}"
        expected = _np_collate(batch, pad_val, 256 if max_seq_len is None else max_seq_len)
        # a copy: a correct collate_fn may pad the lists it is given in place
        out = student_call(collate_fn, [list(example) for example in copy.deepcopy(batch)], what=what, **keywords)
        try:
            (seqs, lens), labels = out
        except (TypeError, ValueError):
            raise CheckFailure("shape", what, "应返回 ((seqs, seq_lens), labels) 的嵌套元组") from None
        for actual, wanted, label in zip((seqs, lens, labels), expected, ("seqs", "seq_lens", "labels")):
            array = _integer_array(actual, f"{what} 的 {label}")
            check_shape(array, np.shape(wanted), f"{what} 的 {label}", squeezable=False)
            if not np.array_equal(array, wanted):
                raise CheckFailure("values", f"{what} 的 {label}", f"应为 {np.asarray(wanted).tolist()}"[:300])


# --------------------------------------------------------------------------------------------- §6.4.2
def _student_pooling(env):
    AveragePooling = require(env, "AveragePooling", kind="class")
    return student_call(build, env, HARNESS, AveragePooling, (), {}, (), what="AveragePooling()", stage="signature")


POOLING_LENGTHS = (5, 2, 1, 4)


def _pooling_input(rng, L=5, H=3):
    """Values [4, L, H] whose padded positions hold large garbage, which a correct mask never sees."""
    values = rng.normal(size=(len(POOLING_LENGTHS), L, H)).astype(np.float32)
    for i, n in enumerate(POOLING_LENGTHS):
        values[i, n:] = rng.uniform(50.0, 100.0, size=values[i, n:].shape)
    return values


@book_section("6.4.2")
def check_average_pooling_values(env):
    """The mean over each sequence's first ``sequence_length[i]`` positions, [B, L, H] → [B, H], whatever the
    padded positions hold, for int64, int32 and float32 lengths (Paddle 3 cannot compare int with float)."""
    harness = _student_pooling(env)
    values = _pooling_input(np.random.default_rng(661))
    expected = np_average_pooling(float32_exact(values), POOLING_LENGTHS)
    for dtype in ("int64", "int32", "float32"):
        what = f"AveragePooling()，sequence_length = {list(POOLING_LENGTHS)}（{dtype}），补齐位置是很大的数"
        out = student_call(harness.forward, (values, np.array(POOLING_LENGTHS, dtype=dtype)), what=what)
        check_shape(out, expected.shape, what, squeezable=False)
        check_close(out, expected, what)


@book_section("6.4.2")
def check_average_pooling_gradients(env):
    """Autograd: position t of sequence i gets G_i / length_i when t < length_i and nothing when padded."""
    harness = _student_pooling(env)
    rng = np.random.default_rng(662)
    values = _pooling_input(rng)
    G = rng.normal(size=(len(POOLING_LENGTHS), values.shape[2])).astype(np.float32)
    what = f"AveragePooling()，sequence_length = {list(POOLING_LENGTHS)}"
    result = student_call(harness.gradients, (values, np.array(POOLING_LENGTHS, dtype="int64")), G,
                          what=f"{what} 的反向传播", stage="gradients")
    grad = require_gradient(result["inputs"][0], "输入 sequence_output", what)
    expected = np.zeros(values.shape)
    for i, n in enumerate(POOLING_LENGTHS):
        expected[i, :n] = G[i].astype(np.float64) / n
    check_shape(grad, values.shape, f"{what}：输入的梯度", squeezable=False)
    check_close(grad, expected, f"{what}：输入的梯度（补齐位置应为 0）", "gradients")


# --------------------------------------------------------------------------------------------- exercise 6.4
@book_section("6.3")
def check_gru_forward(env):
    """Exercise 6.4's GRU with random weights: the last hidden state of ``nn.GRU``'s equations (reset gate
    applied to H U_c, H_t = Z ⊙ H_{t−1} + (1 − Z) ⊙ C̃) against float64 numpy and ``nn.GRU``."""
    _check_recurrent_forward(env, GRU_SPEC, 671)


@book_section("6.3")
def check_gru_gradients(env):
    """BPTT by autograd: the input's and the nine parameters' gradients against ``nn.GRU`` and float64
    finite differences on a 3-step sequence."""
    _check_recurrent_gradients(env, GRU_SPEC, 672)


@book_section("6.3")
def check_gru_by_hand(env, forbidden=GRU_BUILTINS):
    """The prompt's rule: a correct GRU that calls none of ``forbidden`` (``nn.GRU`` …)."""
    _check_recurrent_by_hand(env, GRU_SPEC, forbidden, 673)


