"""Hidden checks of chapter 5: the multi-channel ``Conv2D`` layer of §5.2.1.2 (eqs. 5.2–5.5).

The student's layer is built and run by the layer harness (``fixtures/layers.py``) where the student's
code runs; this process only sends arrays and reads arrays back. Expected values come from a float64
numpy cross-correlation written here (and its central finite differences at sampled coordinates), and
from ``paddle.nn.functional.conv2d`` / ``paddle.nn.Conv2D`` with copied weights (the book's bias
[P, 1] mapped onto the built-in's [P]). Forward and backward accept any correct implementation —
the book's loops into a zeros buffer, im2col, float64 inside, even the built-ins; only
``check_conv2d_by_hand`` enforces the prompt's rule that the convolution is written by hand.
"""

import numpy as np
import paddle
from numpy.lib.stride_tricks import sliding_window_view

from ..checks import CheckFailure, check_close, check_shape, float32_exact, sampled_numeric_vjp, require, student_call
from ..fixtures.layers import LayerHarness, NameMap
from ..rpc import build

SECTION = "5.2.1.2"
HARNESS = "nndl_grading.fixtures.layers.LayerHarness"
# The built-ins "implement Conv2D by hand" rules out; grading.yml's ``forbidden`` for the question replaces it.
CONV_BUILTINS = ("paddle.nn.functional.conv2d", "paddle.nn.Conv2D")
BOOK_DEMO = [[[[0.0, 1.0, 2.0], [3.0, 4.0, 5.0], [6.0, 7.0, 8.0]],
              [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]]]]        # §5.2.1.2's input, [1, 2, 3, 3]
# (in_channels D, out_channels P, kernel k, stride S, padding P, input H×W): square and not, sizes that do
# and do not divide by the stride (floor, eq. 5.3), and one with M' = P (an unshaped [P, 1] bias broadcasts).
FORWARD_CASES = ((2, 3, 3, 1, 0, (6, 6)), (3, 2, 3, 1, 1, (5, 7)), (2, 4, 3, 2, 1, (7, 7)),
                 (1, 2, 2, 3, 2, (8, 8)), (2, 3, 2, 2, 0, (9, 6)))
BACKWARD_CASES = ((2, 3, 3, 1, 1, (5, 5)), (3, 2, 2, 2, 0, (7, 6)))


def np_conv2d(X, W, b, stride, padding):
    """Eq. (5.5) with eq. (5.2)'s stride and zero padding, in float64: Z[n, p, i, j] =
    Σ_{d,u,v} W[p, d, u, v]·X_pad[n, d, S·i + u, S·j + v] + b[p]."""
    X = np.pad(np.asarray(X, dtype=np.float64), ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    k = W.shape[-1]
    windows = sliding_window_view(X, (k, k), axis=(2, 3))[:, :, ::stride, ::stride]
    return np.einsum("ndijuv,pduv->npij", windows, np.asarray(W, np.float64)) + np.reshape(b, (1, -1, 1, 1))


def _call(D, P, k, s, p):
    return f"Conv2D(in_channels={D}, out_channels={P}, kernel_size={k}, stride={s}, padding={p})"


def _label(D, P, k, s, p, shape):
    return f"{_call(D, P, k, s, p)}，输入 [2, {D}, {shape[0]}, {shape[1]}]"


def _student_conv(env, D, P, k, s, p, forbidden=()):
    """A harness around the student's Conv2D(D, P, k, stride=s, padding=p), called by the book's keywords."""
    Conv2D = require(env, "Conv2D", SECTION, kind="class")
    kwargs = {"in_channels": D, "out_channels": P, "kernel_size": k, "stride": s, "padding": p}
    return student_call(build, env, HARNESS, Conv2D, (), kwargs, tuple(forbidden), what=_call(D, P, k, s, p),
                        section=SECTION, stage="signature")


def _parameter_names(harness, D, P, k, what):
    """The student's names of the book's ``weight`` [P, D, k, k] and ``bias`` [P, 1] (``bias`` [P] too), after
    checking shapes and the count P·D·k·k + P. A layer wrapping a built-in (``conv.weight``) is found too."""
    info = student_call(harness.parameters, what=what, section=SECTION, stage="signature")
    shapes = info["named_parameters"]
    names = {}
    for book in ("weight", "bias"):
        found = [name for name in shapes if name == book] or [name for name in shapes if name.endswith("." + book)]
        if len(found) != 1:
            raise CheckFailure("signature", what, f"应有参数 self.{book}（用 paddle.create_parameter 创建），实际参数为 "
                               f"{sorted(shapes) or '无'}", SECTION)
        names[book] = found[0]
    # check_shape compares the shapes of values: give it empty arrays of the parameters' shapes
    check_shape(np.empty(shapes[names["weight"]]), [P, D, k, k], f"{what} 的 weight", SECTION, squeezable=False)
    check_shape(np.empty(shapes[names["bias"]]), [P, 1], f"{what} 的 bias（教材为 [out_channels, 1]）", SECTION)
    if info["count"] != P * D * k * k + P:
        raise CheckFailure("signature", what, f"参数总数应为 P·D·k·k + P = {P * D * k * k + P}，实际 {info['count']}",
                           SECTION)
    return names


def _case(rng, D, P, k, shape):
    X = rng.normal(size=(2, D, *shape)).astype(np.float32)
    W = rng.normal(size=(P, D, k, k)).astype(np.float32)
    b = rng.normal(size=(P, 1)).astype(np.float32)
    return X, W, b


def _out_shape(D, P, k, s, p, shape):
    return [2, P, (shape[0] + 2 * p - k) // s + 1, (shape[1] + 2 * p - k) // s + 1]


def _builtin_conv(D, P, k, s, p):
    """A harness around ``paddle.nn.Conv2D`` (float32, nothing drawn from Paddle's RNG) that takes the book's
    ``weight`` and ``bias`` [P, 1]."""
    zero = paddle.ParamAttr(initializer=paddle.nn.initializer.Constant(0.0))
    previous = paddle.get_default_dtype()
    paddle.set_default_dtype("float32")
    try:
        return LayerHarness(paddle.nn.Conv2D, (D, P, k), {"stride": s, "padding": p, "weight_attr": zero,
                                                          "bias_attr": zero},
                            name_map=NameMap({"weight": "weight", "bias": "bias"}))
    finally:
        paddle.set_default_dtype(previous)


def _forward(harness, names, X, W, b, what):
    student_call(harness.set_parameters, {names["weight"]: W, names["bias"]: b}, what=what, section=SECTION,
                 stage="signature")
    return student_call(harness.forward, (X,), what=f"{what} 的 forward", section=SECTION)


def check_conv2d_forward(env):
    """Parameters weight [P, D, k, k] and bias [P, 1]; the book's demo (default init 1/0 → [[20, 28], [44, 52]]
    in every channel); output shape (eqs. 5.3–5.4) and values (eq. 5.5) for strides and paddings."""
    D, P, k = 2, 3, 2
    what = "Conv2D(in_channels=2, out_channels=3, kernel_size=2)（教材 §5.2.1.2 的例子，默认初始化）"
    harness = _student_conv(env, D, P, k, 1, 0)
    _parameter_names(harness, D, P, k, what)
    out = student_call(harness.forward, (np.array(BOOK_DEMO, dtype=np.float32),), what=what, section=SECTION)
    check_shape(out, [1, 3, 2, 2], what, SECTION, squeezable=False)
    check_close(out, np.tile([[20.0, 28.0], [44.0, 52.0]], (1, 3, 1, 1)), what, SECTION)
    rng = np.random.default_rng(501)
    for D, P, k, s, p, shape in FORWARD_CASES:
        what = _label(D, P, k, s, p, shape)
        harness = _student_conv(env, D, P, k, s, p)
        names = _parameter_names(harness, D, P, k, what)
        X, W, b = _case(rng, D, P, k, shape)
        out = _forward(harness, names, X, W, b, what)
        check_shape(out, _out_shape(D, P, k, s, p, shape), what, SECTION, squeezable=False)
        check_close(out, np_conv2d(float32_exact(X), float32_exact(W), float32_exact(b), s, p), what, SECTION)
        builtin = paddle.nn.functional.conv2d(paddle.to_tensor(X), paddle.to_tensor(W), paddle.to_tensor(b.ravel()),
                                              stride=s, padding=p)
        check_close(out, builtin, f"{what}（与 paddle.nn.functional.conv2d 比较）", SECTION)


def _require_gradient(value, name, what):
    if value is None:
        raise CheckFailure("gradients", what, f"没有梯度传到 {name}：forward 是否用 .numpy()、detach() 或 "
                           "paddle.to_tensor 断开了计算图 (computation graph)？", SECTION)
    return value


def check_conv2d_backward(env):
    """Autograd through the student's forward: ∂⟨G, Z⟩ w.r.t. the input, weight and bias against
    ``paddle.nn.Conv2D`` with the same weights and against float64 finite differences (sampled)."""
    rng = np.random.default_rng(502)
    for D, P, k, s, p, shape in BACKWARD_CASES:
        what = _label(D, P, k, s, p, shape)
        harness = _student_conv(env, D, P, k, s, p)
        names = _parameter_names(harness, D, P, k, what)
        X, W, b = _case(rng, D, P, k, shape)
        G = rng.normal(size=_out_shape(D, P, k, s, p, shape)).astype(np.float32)
        out = _forward(harness, names, X, W, b, what)
        check_shape(out, G.shape, what, SECTION, squeezable=False)
        result = student_call(harness.gradients, (X,), G, what=f"{what} 的 forward 与反向传播", section=SECTION,
                              stage="gradients")
        actual = [_require_gradient(result["inputs"][0], "输入 inputs", what),
                  _require_gradient(result["parameters"][names["weight"]], "self.weight", what),
                  _require_gradient(result["parameters"][names["bias"]], "self.bias", what)]
        labels = ("输入的梯度", "weight 的梯度", "bias 的梯度（[out_channels, 1] 或 [out_channels] 均可）")
        for grad, array, label in zip(actual, (X, W, b), labels):
            check_shape(grad, array.shape, f"{what}：{label}", SECTION, squeezable=array is b)

        oracle = _builtin_conv(D, P, k, s, p)
        oracle.set_parameters({"weight": W, "bias": b})
        autograd = oracle.gradients((X,), G)
        autograd = [autograd["inputs"][0], autograd["parameters"]["weight"], autograd["parameters"]["bias"]]
        arrays = [float32_exact(X), float32_exact(W), float32_exact(b)]
        numeric = sampled_numeric_vjp(lambda x, w, c: np_conv2d(x, w, c, s, p), arrays, G, seed=503)
        for grad, expected, array, (index, values), label in zip(actual, autograd, arrays, numeric, labels):
            check_close(grad, expected, f"{what}：{label}（与 paddle.nn.Conv2D 的自动微分 autograd）", SECTION,
                        "gradients")
            check_close(np.reshape(grad, array.shape)[index], values,
                        f"{what}：{label}（与数值梯度 finite differences）", SECTION, "gradients")


def check_conv2d_by_hand(env, forbidden=CONV_BUILTINS):
    """The prompt's rule: a correct Conv2D whose construction and forward call none of ``forbidden``
    (grading.yml's list for the question, by default ``F.conv2d`` and ``nn.Conv2D``)."""
    D, P, k, s, p, shape = 2, 3, 3, 2, 1, (6, 5)
    what = _label(D, P, k, s, p, shape)
    harness = _student_conv(env, D, P, k, s, p, forbidden)
    names = _parameter_names(harness, D, P, k, what)
    X, W, b = _case(np.random.default_rng(504), D, P, k, shape)
    out = _forward(harness, names, X, W, b, what)
    check_close(out, np_conv2d(float32_exact(X), float32_exact(W), float32_exact(b), s, p), what, SECTION)
    called = student_call(harness.forbidden_calls, what=what, section=SECTION, stage="behaviour")
    if called:
        raise CheckFailure("behaviour", "Conv2D", "本题要求亲手实现卷积运算 (implement the convolution by hand)，"
                           f"不能调用飞桨内置的 {', '.join(called)}；其余检查不受影响", SECTION)
