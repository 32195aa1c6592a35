"""Hidden checks of chapter 5: the single-channel ``Conv2D`` of §5.1.4, the multi-channel ``Conv2D`` of
§5.2.1.2, ``Pool2D`` (§5.2.2), ``Model_LeNet`` (§5.3.2), ``ResBlock`` (§5.4.1) and the kit's
``Conv2DOp``/``Pool2DOp`` exercise (hand-written backward; not in the book).

The student's layers are built and run by the layer harness (``fixtures/layers.py``) where the student's
code runs; this process only sends arrays and reads arrays back. Expected values come from float64 numpy
written here (cross-correlation, pooling with first-maximum routing, and central finite differences), from
Paddle's built-ins (``F.conv2d``, ``nn.Conv2D``, ``F.max_pool2d``/``F.avg_pool2d``) with copied weights,
and, for ``Model_LeNet``/``ResBlock``, from ``Paddle_LeNet``/the reference ``ResBlock`` with the same
parameters. Forward and backward accept any correct implementation — the book's loops into a zeros
buffer, im2col, float64 inside, even the built-ins; only the ``*_by_hand`` checks enforce the prompt's
rule, and the ``Conv2DOp``/``Pool2DOp`` checks theirs (no autograd, no built-in conv/pool in the operator,
watched by ``fixtures/ch05.WatchedOp``; the oracles run here, outside the watch). ``Model_LeNet`` is
built from built-in stand-ins of ``Conv2D``/``Pool2D`` (``fixtures/ch05.py``), so it costs points only for
its own code.
"""

import numpy as np
import paddle
import paddle.nn.functional as F
from numpy.lib.stride_tricks import sliding_window_view

from nndl_ref import ch05 as ref

from ..checks import (CheckFailure, as_tensor, book_section, check_close, check_shape, float32_exact,
                      reject_forbidden, require, require_gradient, require_grads, require_tensor,
                      sampled_numeric_vjp, student_call)
from ..fixtures.layers import NameMap, builtin_harness
from ..rpc import build

HARNESS = "nndl_grading.fixtures.layers.LayerHarness"
LENET_HARNESS = "nndl_grading.fixtures.ch05.harness_with_builtin_layers"
OP_HARNESS = "nndl_grading.fixtures.ch05.WatchedOp"
# The built-ins "implement by hand" rules out; grading.yml's ``forbidden`` for the question replaces these.
# The 1-D and 3-D relatives and adaptive/LP pooling are listed too: F.conv3d on x.unsqueeze(2) is an exact 2-D
# convolution, and adaptive pooling reproduces fixed windows whenever they tile the input.
CONV_BUILTINS = tuple(f"paddle.nn.{name}" for name in (
    "functional.conv1d", "functional.conv2d", "functional.conv3d", "Conv1D", "Conv2D", "Conv3D"))
POOL_BUILTINS = tuple(f"paddle.nn.{name}" for name in (
    "functional.max_pool1d", "functional.max_pool2d", "functional.max_pool3d",
    "functional.avg_pool1d", "functional.avg_pool2d", "functional.avg_pool3d",
    "MaxPool1D", "MaxPool2D", "MaxPool3D", "AvgPool1D", "AvgPool2D", "AvgPool3D",
    "functional.adaptive_max_pool1d", "functional.adaptive_max_pool2d", "functional.adaptive_max_pool3d",
    "functional.adaptive_avg_pool1d", "functional.adaptive_avg_pool2d", "functional.adaptive_avg_pool3d",
    "AdaptiveMaxPool1D", "AdaptiveMaxPool2D", "AdaptiveMaxPool3D", "AdaptiveAvgPool1D", "AdaptiveAvgPool2D",
    "AdaptiveAvgPool3D", "functional.lp_pool1d", "functional.lp_pool2d", "LPPool1D", "LPPool2D"))
# The Conv2DOp/Pool2DOp exercise derives the backward by hand: no autograd and no built-in conv/pool either.
OP_FORBIDDEN = ("paddle.grad", "paddle.autograd.backward", "paddle.Tensor.backward") + CONV_BUILTINS + POOL_BUILTINS
BOOK_DEMO = [[[[0.0, 1.0, 2.0], [3.0, 4.0, 5.0], [6.0, 7.0, 8.0]],
              [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]]]]        # §5.2.1.2's input, [1, 2, 3, 3]
POOL_DEMO = [[[[0.30856404, 0.41556627, 0.55406243], [0.26652551, 1.64261794, -0.52476674],
               [-1.02183867, -1.02233613, -0.07201923]]]]                # §5.2.2's printed input
# (in_channels D, out_channels P, kernel k, stride S, padding P, input H×W): square and not, sizes that do
# and do not divide by the stride (floor, eq. 5.3), and one with M' = P (an unshaped [P, 1] bias broadcasts).
FORWARD_CASES = ((2, 3, 3, 1, 0, (6, 6)), (3, 2, 3, 1, 1, (5, 7)), (2, 4, 3, 2, 1, (7, 7)),
                 (1, 2, 2, 3, 2, (8, 8)), (2, 3, 2, 2, 0, (9, 6)))
BACKWARD_CASES = ((2, 3, 3, 1, 1, (5, 5)), (3, 2, 2, 2, 0, (7, 6)))
# single-channel (kernel, stride, padding, M×N): §5.1.4's two demos, then non-square and floor cases
SINGLE_CASES = ((3, 1, 1, (8, 8)), (3, 2, 1, (8, 8)), (2, 1, 0, (5, 7)), (3, 2, 0, (7, 6)), (2, 3, 2, (8, 9)))
# pooling ((h, w), stride, input H×W) on non-square inputs. Square windows (the book's 2×2/2, overlapping,
# floor) for every pooling check but one, so that the book's printed h/w swap, which agrees on square
# windows, costs only check_pool2d_non_square_window, which alone uses the non-square windows.
POOL_CASES = (((2, 2), 2, (6, 8)), ((2, 2), 1, (5, 4)), ((3, 3), 2, (7, 8)), ((3, 3), 1, (6, 5)))
NON_SQUARE_POOL_CASES = (((2, 3), 2, (7, 8)), ((3, 2), 1, (6, 5)), ((3, 2), 2, (7, 7)), ((1, 2), 1, (4, 5)))
# by hand: windows that adaptive pooling (output size = the window count) cannot reproduce on that input
POOL_BY_HAND_CASES = (((3, 3), 1, (6, 6)), ((2, 2), 2, (7, 7)))
# Pool2DOp (the kit's own forward, size read as (h, w)): overlapping, non-square both ways, floor
POOL_OP_CASES = (POOL_CASES[1],) + NON_SQUARE_POOL_CASES[:3]


# --------------------------------------------------------------------------------------------- oracles
def np_conv2d(X, W, b, stride, padding):
    """Eq. (5.5) with eq. (5.2)'s stride and zero padding, in float64: Z[n, p, i, j] =
    Σ_{d,u,v} W[p, d, u, v]·X_pad[n, d, S·i + u, S·j + v] + b[p]."""
    X = np.pad(np.asarray(X, dtype=np.float64), ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    k = W.shape[-1]
    windows = sliding_window_view(X, (k, k), axis=(2, 3))[:, :, ::stride, ::stride]
    return np.einsum("ndijuv,pduv->npij", windows, np.asarray(W, np.float64)) + np.reshape(b, (1, -1, 1, 1))


def np_pool2d(X, size, stride, mode):
    """§5.2.2 in float64: max or mean over every (h, w) window moved by ``stride``; [B, C, H', W']."""
    windows = sliding_window_view(np.asarray(X, np.float64), size, axis=(2, 3))[:, :, ::stride, ::stride]
    return windows.max(axis=(-2, -1)) if mode == "max" else windows.mean(axis=(-2, -1))


def np_pool2d_backward(X, G, size, stride, mode):
    """δ_X of ``np_pool2d`` for upstream δ_Y = G: average spreads G/(h·w); max sends G to the window's FIRST
    maximum in row-major order (the documented tie rule); overlapping windows add up."""
    X, G = np.asarray(X, np.float64), np.asarray(G, np.float64)
    h, w = size
    grad = np.zeros_like(X)
    for b, c, i, j in np.ndindex(*G.shape):
        rows, cols = slice(i * stride, i * stride + h), slice(j * stride, j * stride + w)
        if mode == "avg":
            grad[b, c, rows, cols] += G[b, c, i, j] / (h * w)
        else:
            u, v = np.unravel_index(np.argmax(X[b, c, rows, cols]), size)
            grad[b, c, i * stride + u, j * stride + v] += G[b, c, i, j]
    return grad


def _numpy(value):
    return value.numpy() if hasattr(value, "numpy") else np.asarray(value)


def _out_size(n, k, s, p=0):
    return (n + 2 * p - k) // s + 1


def _find_parameter(shapes, book, what):
    """The student's name of the book's parameter ``book`` (``weight``, or ``conv.weight`` in a wrapper)."""
    found = [name for name in shapes if name == book] or [name for name in shapes if name.endswith("." + book)]
    if len(found) != 1:
        raise CheckFailure("signature", what, f"应有参数 self.{book}（用 paddle.create_parameter 创建），实际参数为 "
                           f"{sorted(shapes) or '无'}")
    return found[0]


# --------------------------------------------------------------------------------------------- §5.1.4
def _student_single_conv(env, k, s, p, forbidden=()):
    Conv2D_v2 = require(env, "Conv2D_v2", kind="class")
    what = f"Conv2D_v2(kernel_size={k}, stride={s}, padding={p})"
    harness = student_call(build, env, HARNESS, Conv2D_v2, (), {"kernel_size": k, "stride": s, "padding": p},
                           tuple(forbidden), what=what, stage="signature")
    shapes = student_call(harness.parameters, what=what, stage="signature")["named_parameters"]
    name = _find_parameter(shapes, "weight", what)
    check_shape(np.empty(shapes[name]), [k, k], f"{what} 的 weight", squeezable=False)
    return harness, name, what


def _single_oracle(X, W, s, p):
    return np_conv2d(np.asarray(X)[:, None], np.asarray(W)[None, None], np.zeros(1), s, p)[:, 0]


@book_section("5.1.4")
def check_single_conv_forward(env):
    """Fig. 5.2 (X = 1…9, W = [[0, 1], [2, 3]] → [[25, 31], [43, 49]]), the default all-ones kernel, output
    shapes [B, (M+2P−U)//S+1, (N+2P−V)//S+1] (eqs. 5.3–5.4, the two demos of §5.1.4) and values (eq. 5.2)
    for strides and paddings on non-square inputs; autograd gradients of the input and the weight."""
    harness, name, what = _student_single_conv(env, 2, 1, 0)
    X = np.arange(1.0, 10.0, dtype=np.float32).reshape(1, 3, 3)
    out = student_call(harness.forward, (X,), what=f"{what} 的 forward（默认权重全为 1）")
    check_close(out, _single_oracle(X, np.ones((2, 2)), 1, 0), f"{what}：默认权重全为 1 (Constant(1.0))")
    student_call(harness.set_parameters, {name: np.array([[0.0, 1.0], [2.0, 3.0]], np.float32)}, what=what,
                 stage="signature")
    out = student_call(harness.forward, (X,), what=f"{what} 的 forward（图 5.2）")
    check_shape(out, [1, 2, 2], f"{what}（图 5.2）", squeezable=False)
    check_close(out, [[[25.0, 31.0], [43.0, 49.0]]], f"{what}（图 5.2 的例子）")
    rng = np.random.default_rng(511)
    for k, s, p, (M, N) in SINGLE_CASES:
        harness, name, what = _student_single_conv(env, k, s, p)
        what = f"{what}，输入 [2, {M}, {N}]"
        X, W = rng.normal(size=(2, M, N)).astype(np.float32), rng.normal(size=(k, k)).astype(np.float32)
        G = rng.normal(size=(2, _out_size(M, k, s, p), _out_size(N, k, s, p))).astype(np.float32)
        student_call(harness.set_parameters, {name: W}, what=what, stage="signature")
        out = student_call(harness.forward, (X,), what=f"{what} 的 forward")
        check_shape(out, G.shape, what, squeezable=False)
        check_close(out, _single_oracle(float32_exact(X), float32_exact(W), s, p), what)
        result = student_call(harness.gradients, (X,), G, what=f"{what} 的反向传播", stage="gradients")
        grads = [require_gradient(result["inputs"][0], "输入 X", what),
                 require_gradient(result["parameters"][name], "self.weight", what)]
        numeric = sampled_numeric_vjp(lambda x, w: _single_oracle(x, w, s, p), [float32_exact(X), float32_exact(W)],
                                      G, seed=512)
        for grad, array, (index, values), label in zip(grads, (X, W), numeric, ("输入的梯度", "weight 的梯度")):
            check_shape(grad, array.shape, f"{what}：{label}", squeezable=False)
            check_close(np.reshape(grad, array.shape)[index], values, f"{what}：{label}（与数值梯度比较）",
                        "gradients")


@book_section("5.1.4")
def check_single_conv_by_hand(env, forbidden=CONV_BUILTINS):
    """The prompt's rule: a correct single-channel Conv2D whose construction and forward call none of
    ``forbidden`` (grading.yml's list for the question)."""
    k, s, p = 3, 2, 1
    harness, name, what = _student_single_conv(env, k, s, p, forbidden)
    rng = np.random.default_rng(513)
    X, W = rng.normal(size=(2, 7, 6)).astype(np.float32), rng.normal(size=(k, k)).astype(np.float32)
    student_call(harness.set_parameters, {name: W}, what=what, stage="signature")
    out = student_call(harness.forward, (X,), what=f"{what} 的 forward")
    check_close(out, _single_oracle(float32_exact(X), float32_exact(W), s, p), what)
    reject_forbidden(harness, what, "亲手实现卷积运算 (implement the convolution by hand)")


# --------------------------------------------------------------------------------------------- §5.2.1.2
def _call(D, P, k, s, p):
    return f"Conv2D(in_channels={D}, out_channels={P}, kernel_size={k}, stride={s}, padding={p})"


def _label(D, P, k, s, p, shape):
    return f"{_call(D, P, k, s, p)}，输入 [2, {D}, {shape[0]}, {shape[1]}]"


def _student_conv(env, D, P, k, s, p, forbidden=()):
    """A harness around the student's Conv2D(D, P, k, stride=s, padding=p), called by the book's keywords."""
    Conv2D = require(env, "Conv2D", kind="class")
    kwargs = {"in_channels": D, "out_channels": P, "kernel_size": k, "stride": s, "padding": p}
    return student_call(build, env, HARNESS, Conv2D, (), kwargs, tuple(forbidden), what=_call(D, P, k, s, p),
                        stage="signature")


def _parameter_names(harness, D, P, k, what):
    """The student's names of the book's ``weight`` [P, D, k, k] and ``bias`` [P, 1] (``bias`` [P] too), after
    checking shapes and the count P·D·k·k + P. A layer wrapping a built-in (``conv.weight``) is found too."""
    info = student_call(harness.parameters, what=what, stage="signature")
    shapes = info["named_parameters"]
    names = {book: _find_parameter(shapes, book, what) for book in ("weight", "bias")}
    # check_shape compares the shapes of values: give it empty arrays of the parameters' shapes
    check_shape(np.empty(shapes[names["weight"]]), [P, D, k, k], f"{what} 的 weight", squeezable=False)
    check_shape(np.empty(shapes[names["bias"]]), [P, 1], f"{what} 的 bias（教材为 [out_channels, 1]）")
    if info["count"] != P * D * k * k + P:
        raise CheckFailure("signature", what, f"参数总数应为 P·D·k·k + P = {P * D * k * k + P}，实际 {info['count']}")
    return names


def _case(rng, D, P, k, shape):
    X = rng.normal(size=(2, D, *shape)).astype(np.float32)
    W = rng.normal(size=(P, D, k, k)).astype(np.float32)
    b = rng.normal(size=(P, 1)).astype(np.float32)
    return X, W, b


def _out_shape(D, P, k, s, p, shape):
    return [2, P, _out_size(shape[0], k, s, p), _out_size(shape[1], k, s, p)]


def _builtin_conv(D, P, k, s, p):
    """A harness around ``paddle.nn.Conv2D`` (nothing drawn from Paddle's RNG) taking the book's bias [P, 1]."""
    zero = paddle.ParamAttr(initializer=paddle.nn.initializer.Constant(0.0))
    return builtin_harness(paddle.nn.Conv2D, (D, P, k), {"stride": s, "padding": p, "weight_attr": zero,
                                                          "bias_attr": zero},
                            name_map=NameMap({"weight": "weight", "bias": "bias"}))


def _forward(harness, names, X, W, b, what):
    student_call(harness.set_parameters, {names["weight"]: W, names["bias"]: b}, what=what, stage="signature")
    return student_call(harness.forward, (X,), what=f"{what} 的 forward")


@book_section("5.2.1.2")
def check_conv2d_forward(env):
    """Parameters weight [P, D, k, k] and bias [P, 1]; the book's demo (default init 1/0 → [[20, 28], [44, 52]]
    in every channel); output shape (eqs. 5.3–5.4) and values (eq. 5.5) for strides and paddings."""
    D, P, k = 2, 3, 2
    what = "Conv2D(in_channels=2, out_channels=3, kernel_size=2)（教材 §5.2.1.2 的例子，默认初始化）"
    harness = _student_conv(env, D, P, k, 1, 0)
    _parameter_names(harness, D, P, k, what)
    out = student_call(harness.forward, (np.array(BOOK_DEMO, dtype=np.float32),), what=what)
    check_shape(out, [1, 3, 2, 2], what, squeezable=False)
    check_close(out, np.tile([[20.0, 28.0], [44.0, 52.0]], (1, 3, 1, 1)), what)
    rng = np.random.default_rng(501)
    for D, P, k, s, p, shape in FORWARD_CASES:
        what = _label(D, P, k, s, p, shape)
        harness = _student_conv(env, D, P, k, s, p)
        names = _parameter_names(harness, D, P, k, what)
        X, W, b = _case(rng, D, P, k, shape)
        out = _forward(harness, names, X, W, b, what)
        check_shape(out, _out_shape(D, P, k, s, p, shape), what, squeezable=False)
        check_close(out, np_conv2d(float32_exact(X), float32_exact(W), float32_exact(b), s, p), what)
        builtin = F.conv2d(paddle.to_tensor(X), paddle.to_tensor(W), paddle.to_tensor(b.ravel()), stride=s, padding=p)
        check_close(out, builtin, f"{what}（与 paddle.nn.functional.conv2d 比较）")


@book_section("5.2.1.2")
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
        check_shape(out, G.shape, what, squeezable=False)
        result = student_call(harness.gradients, (X,), G, what=f"{what} 的 forward 与反向传播", stage="gradients")
        actual = [require_gradient(result["inputs"][0], "输入 inputs", what),
                  require_gradient(result["parameters"][names["weight"]], "self.weight", what),
                  require_gradient(result["parameters"][names["bias"]], "self.bias", what)]
        labels = ("输入的梯度", "weight 的梯度", "bias 的梯度（[out_channels, 1] 或 [out_channels] 均可）")
        for grad, array, label in zip(actual, (X, W, b), labels):
            check_shape(grad, array.shape, f"{what}：{label}", squeezable=array is b)

        oracle = _builtin_conv(D, P, k, s, p)
        oracle.set_parameters({"weight": W, "bias": b})
        autograd = oracle.gradients((X,), G)
        autograd = [autograd["inputs"][0], autograd["parameters"]["weight"], autograd["parameters"]["bias"]]
        arrays = [float32_exact(X), float32_exact(W), float32_exact(b)]
        numeric = sampled_numeric_vjp(lambda x, w, c: np_conv2d(x, w, c, s, p), arrays, G, seed=503)
        for grad, expected, array, (index, values), label in zip(actual, autograd, arrays, numeric, labels):
            check_close(grad, expected, f"{what}：{label}（与 paddle.nn.Conv2D 的自动微分 autograd）", "gradients")
            check_close(np.reshape(grad, array.shape)[index], values,
                        f"{what}：{label}（与数值梯度 finite differences）", "gradients")


@book_section("5.2.1.2")
def check_conv2d_by_hand(env, forbidden=CONV_BUILTINS):
    """The prompt's rule: a correct Conv2D whose construction and forward call none of ``forbidden``
    (grading.yml's list for the question, by default ``F.conv2d`` and ``nn.Conv2D``)."""
    D, P, k, s, p, shape = 2, 3, 3, 2, 1, (6, 5)
    what = _label(D, P, k, s, p, shape)
    harness = _student_conv(env, D, P, k, s, p, forbidden)
    names = _parameter_names(harness, D, P, k, what)
    X, W, b = _case(np.random.default_rng(504), D, P, k, shape)
    out = _forward(harness, names, X, W, b, what)
    check_close(out, np_conv2d(float32_exact(X), float32_exact(W), float32_exact(b), s, p), what)
    reject_forbidden(harness, "Conv2D", "亲手实现卷积运算 (implement the convolution by hand)")


# --------------------------------------------------------------------------------------------- §5.2.2
def _student_pool(env, size, mode, stride, forbidden=()):
    Pool2D = require(env, "Pool2D", kind="class")
    what = f"Pool2D(size={tuple(size)}, mode='{mode}', stride={stride})"
    harness = student_call(build, env, HARNESS, Pool2D, (), {"size": tuple(size), "mode": mode, "stride": stride},
                           tuple(forbidden), what=what, stage="signature")
    return harness, what


def _check_pool(env, modes, cases, seed):
    """Forward against float64 numpy and Paddle's pooling, and the autograd gradient of the input."""
    rng = np.random.default_rng(seed)
    for mode in modes:
        builtin = F.max_pool2d if mode == "max" else F.avg_pool2d
        for size, stride, (H, W) in cases:
            harness, what = _student_pool(env, size, mode, stride)
            what = f"{what}，输入 [2, 3, {H}, {W}]（size 为 (高 h, 宽 w)）"
            X = rng.normal(size=(2, 3, H, W)).astype(np.float32)
            expected = np_pool2d(float32_exact(X), size, stride, mode)
            out = student_call(harness.forward, (X,), what=f"{what} 的 forward")
            check_shape(out, expected.shape, what, squeezable=False)
            check_close(out, expected, what)
            check_close(out, builtin(paddle.to_tensor(X), size, stride), f"{what}（与 paddle 内置池化比较）")
            G = rng.normal(size=expected.shape).astype(np.float32)
            result = student_call(harness.gradients, (X,), G, what=f"{what} 的反向传播", stage="gradients")
            grad = require_gradient(result["inputs"][0], "输入 x", what)
            check_shape(grad, X.shape, f"{what}：输入的梯度", squeezable=False)
            check_close(grad, np_pool2d_backward(float32_exact(X), G, size, stride, mode), f"{what}：输入的梯度（自动微分）",
                        "gradients")


@book_section("5.2.2")
def check_pool2d_max(env):
    """Max pooling: the book's demo (2×2, default stride 1 → all 1.64261794), then square windows,
    overlapping and strided, on non-square inputs, against float64 numpy and ``F.max_pool2d``; autograd
    sends the gradient to each window's maximum."""
    Pool2D = require(env, "Pool2D", kind="class")
    default = student_call(build, env, HARNESS, Pool2D, (), {}, (), what="Pool2D()（默认参数）", stage="signature")
    out = student_call(default.forward, (np.array(POOL_DEMO, np.float32),), what="Pool2D()（教材 §5.2.2 的例子）")
    check_shape(out, [1, 1, 2, 2], "Pool2D()（默认 size=(2,2), mode='max', stride=1）", squeezable=False)
    check_close(out, np.full((1, 1, 2, 2), 1.64261794), "Pool2D()（教材 §5.2.2 的例子）")
    _check_pool(env, ("max",), POOL_CASES, 521)


@book_section("5.2.2")
def check_pool2d_avg(env):
    """Average pooling (the mean, not the sum, of each window) on the same square windows, against float64
    numpy and ``F.avg_pool2d``; autograd spreads δ/(h·w) over each window."""
    _check_pool(env, ("avg",), POOL_CASES, 522)


@book_section("5.2.2")
def check_pool2d_non_square_window(env):
    """size = (h, w): h rows along the height (axis 2), w columns along the width (axis 3), as
    ``nn.MaxPool2D``'s ``kernel_size`` — the one check with non-square windows (the book's printed code
    swaps them, which only shows on such windows); max and average, forward and autograd gradient."""
    _check_pool(env, ("max", "avg"), NON_SQUARE_POOL_CASES, 524)


@book_section("5.2.2")
def check_pool2d_by_hand(env, forbidden=POOL_BUILTINS):
    """The prompt's rule: a correct Pool2D whose construction and forward call none of ``forbidden``, on
    square windows that adaptive pooling cannot reproduce (overlapping; a floor that leaves a row over)."""
    rng = np.random.default_rng(523)
    for size, stride, (H, W) in POOL_BY_HAND_CASES:
        X = rng.normal(size=(2, 2, H, W)).astype(np.float32)
        for mode in ("max", "avg"):
            harness, what = _student_pool(env, size, mode, stride, forbidden)
            out = student_call(harness.forward, (X,), what=f"{what}，输入 [2, 2, {H}, {W}] 的 forward")
            check_close(out, np_pool2d(float32_exact(X), size, stride, mode), f"{what}，输入 [2, 2, {H}, {W}]")
            reject_forbidden(harness, "Pool2D", "亲手实现池化运算 (implement the pooling by hand)")


# --------------------------------------------------------------------------------------------- §5.3.2
LENET_SHAPES = lambda D, C: [[6, D, 5, 5], [6, 1], [16, 6, 5, 5], [16, 1], [120, 16, 5, 5], [120, 1],
                             [120, 84], [84], [84, C], [C]]


def _student_lenet(env, D, C):
    """A harness around the student's Model_LeNet(D, num_classes=C), built with correct Conv2D/Pool2D
    stand-ins (other questions), and its parameter names in registration order after checking their shapes."""
    Model_LeNet = require(env, "Model_LeNet", kind="class")
    what = f"Model_LeNet(in_channels={D}, num_classes={C})"
    harness = student_call(build, env, LENET_HARNESS, Model_LeNet, (D,), {"num_classes": C}, what=what,
                           stage="signature")
    info = student_call(harness.parameters, what=what, stage="signature")
    names, shapes = list(info["named_parameters"]), list(info["named_parameters"].values())
    if shapes != LENET_SHAPES(D, C):
        raise CheckFailure("signature", what, "参数（按创建顺序）的形状应为 conv1 [6,D,5,5]+[6,1]、conv2 [16,6,5,5]+[16,1]、"
                           "conv3 [120,16,5,5]+[120,1]、linear1 [120,84]+[84]、linear2 [84,C]+[C]，实际为 "
                           f"{dict(zip(names, shapes))}")
    return harness, names, what


@book_section("5.3.2")
def check_lenet_structure(env):
    """The layers of §5.3.2 in order (shapes of every parameter, bias [P, 1] of the chapter's Conv2D), 61,706
    parameters for one input channel, the output [B, num_classes] of a [B, D, 32, 32] input."""
    for D, C in ((1, 10), (3, 5)):
        harness, names, what = _student_lenet(env, D, C)
        count = student_call(harness.parameters, what=what, stage="signature")["count"]
        expected = sum(int(np.prod(s)) for s in LENET_SHAPES(D, C))
        if count != expected:
            raise CheckFailure("signature", what, f"参数总数应为 {expected}（教材 D=1、10 类时为 61,706），实际 {count}")
        out = student_call(harness.forward, (np.zeros((2, D, 32, 32), np.float32),), what=f"{what} 的 forward")
        check_shape(out, [2, C], f"{what} 的输出", squeezable=False)


@book_section("5.3.2")
def check_lenet_forward(env):
    """Values with copied weights: the student's network (on built-in Conv2D/Pool2D stand-ins) against
    ``Paddle_LeNet`` — ReLU after conv1, conv2 and linear1, none after conv3 (the book's code), max then
    average pooling — in eval mode; and the autograd gradient of the input."""
    rng = np.random.default_rng(531)
    for D, C in ((1, 10), (2, 4)):
        harness, names, what = _student_lenet(env, D, C)
        values = [rng.normal(scale=0.3, size=shape).astype(np.float32) for shape in LENET_SHAPES(D, C)]
        student_call(harness.set_parameters, dict(zip(names, values)), what=what, stage="signature")
        oracle = builtin_harness(ref.Paddle_LeNet, (D,), {"num_classes": C})
        oracle.set_parameters(dict(zip(oracle.parameters()["named_parameters"], values)))
        X = rng.normal(size=(2, D, 32, 32)).astype(np.float32)
        G = rng.normal(size=(2, C)).astype(np.float32)
        out = student_call(harness.forward, (X,), what=f"{what} 的 forward")
        check_shape(out, [2, C], f"{what} 的输出", squeezable=False)
        check_close(out, oracle.forward((X,)), f"{what}（复制权重后与用飞桨算子搭的 LeNet 比较，eval 模式）")
        result = student_call(harness.gradients, (X,), G, what=f"{what} 的反向传播", stage="gradients")
        grad = require_gradient(result["inputs"][0], "输入 x", what)
        check_close(grad, oracle.gradients((X,), G)["inputs"][0], f"{what}：输入的梯度（自动微分）", "gradients")


# --------------------------------------------------------------------------------------------- §5.4.1
RESBLOCK_CASES = ((4, 4, 1, True), (3, 5, 2, False), (3, 5, 1, False))


def _resblock_values(rng, shapes):
    """Random parameters; BatchNorm's running variance positive."""
    return {name: (rng.uniform(0.5, 1.5, size=shape) if name.endswith("_variance") else
                   rng.normal(scale=0.5, size=shape)).astype(np.float32) for name, shape in shapes.items()}


def _check_resblock(env, use_residual, seed):
    ResBlock = require(env, "ResBlock", kind="class")
    rng = np.random.default_rng(seed)
    for C_in, C_out, stride, shortcut in RESBLOCK_CASES:
        kwargs = {"num_channels": C_in, "num_filters": C_out, "stride": stride, "shortcut": shortcut,
                  "use_residual": use_residual}
        what = "ResBlock(" + ", ".join(f"{k}={v}" for k, v in kwargs.items()) + ")，输入 [2, %d, 7, 6]" % C_in
        harness = student_call(build, env, HARNESS, ResBlock, (), kwargs, what=what, stage="signature")
        oracle = builtin_harness(ref.ResBlock, (), kwargs)
        shapes = oracle.parameters()["named_parameters"]
        values = _resblock_values(rng, shapes)
        student_call(harness.set_parameters, values, what=f"{what}（按给出的 __init__ 中的参数名设置参数）",
                     stage="signature")
        oracle.set_parameters(values)
        X = rng.normal(size=(2, C_in, 7, 6)).astype(np.float32)
        for training in (False, True):
            mode = "train 模式（批统计量）" if training else "eval 模式"
            out = student_call(harness.forward, (X,), training=training, what=f"{what} 的 forward（{mode}）")
            expected = oracle.forward((X,), training=training)
            check_shape(out, expected.shape, f"{what}（{mode}）", squeezable=False)
            check_close(out, expected, f"{what}（{mode}）")
        G = rng.normal(size=expected.shape).astype(np.float32)
        result = student_call(harness.gradients, (X,), G, what=f"{what} 的反向传播", stage="gradients")
        grad = require_gradient(result["inputs"][0], "输入 inputs", what)
        check_close(grad, oracle.gradients((X,), G)["inputs"][0], f"{what}：输入的梯度（自动微分）", "gradients")


@book_section("5.4.1")
def check_resblock_residual(env):
    """Eq. (5.7) with use_residual=True: relu(bn2(conv2(relu(bn1(conv1 x)))) + shortcut(x)), the identity when
    ``shortcut`` and the 1×1 ``short`` conv otherwise, in eval and train mode, with copied parameters."""
    _check_resblock(env, True, 541)


@book_section("5.4.2")
def check_resblock_plain(env):
    """use_residual=False (§5.4.2): the same block without the addition, ReLU still last."""
    _check_resblock(env, False, 542)


# --------------------------------------------------------------------------------------------- Op exercise
OP_RULE = "亲手推导反向传播 (derive the backward by hand)、不用自动微分"


def _student_op(env, name, args, kwargs, forbidden, what):
    """The student's ``name``(*args, **kwargs) inside a ``WatchedOp`` (fixtures/ch05.py): calling it runs the
    operator's forward, ``backward`` its backward, both recording calls of ``forbidden``."""
    op_class = require(env, name, kind="class")
    return student_call(build, env, OP_HARNESS, op_class, args, kwargs, tuple(forbidden), what=what,
                        stage="signature")


def _student_conv_op(env, D, P, k, s, p, W, b, forbidden):
    what = f"Conv2DOp({D}, {P}, {k}, stride={s}, padding={p})"
    watched = _student_op(env, "Conv2DOp", (D, P, k), {"stride": s, "padding": p}, forbidden, what)
    op = watched.op
    params = getattr(op, "params", None)
    if not isinstance(params, dict) or not {"W", "b"} <= set(params):
        raise CheckFailure("signature", what, "应有 self.params 字典，含 'W' [P, D, k, k] 与 'b' [P, 1]（见给出的 __init__）")
    op.params["W"], op.params["b"] = as_tensor(W), as_tensor(b)
    return watched, op, what


@book_section("5.2.1.2")
def check_conv2d_op_backward(env, forbidden=OP_FORBIDDEN):
    """``Conv2DOp``: forward as eq. (5.5); ``backward(δ_Z)`` for the LATEST forward returns δ_X and fills
    grads['W'] [P, D, k, k] and grads['b'] ([P, 1] or [P]) — against float64 finite differences (sampled)
    and the autograd of ``paddle.nn.Conv2D`` with the same weights (both here, outside the watch) — with no
    call of ``forbidden`` (autograd, the conv/pool built-ins) in the operator's forward or backward."""
    rng = np.random.default_rng(551)
    for D, P, k, s, p, shape in BACKWARD_CASES + ((2, 2, 3, 2, 1, (6, 7)),):
        X, W, b = _case(rng, D, P, k, shape)
        G = rng.normal(size=_out_shape(D, P, k, s, p, shape)).astype(np.float32)
        watched, op, what = _student_conv_op(env, D, P, k, s, p, W, b, forbidden)
        what = f"{what}，输入 [2, {D}, {shape[0]}, {shape[1]}]"
        student_call(watched, as_tensor(rng.normal(size=X.shape)), what=f"{what} 的 forward")
        out = student_call(watched, as_tensor(X), what=f"{what} 的 forward")
        require_tensor(out, f"{what} 的 forward")
        arrays = [float32_exact(X), float32_exact(W), float32_exact(b)]
        check_close(out, np_conv2d(*arrays, s, p), f"{what} 的 forward")
        dX = student_call(watched.backward, as_tensor(G), what=f"{what} 的 backward", stage="gradients")
        require_tensor(dX, f"{what} 的 backward 返回值 δ_X")
        grads = require_grads(op, ("W", "b"), f"{what} 的 backward")
        actual = [dX, grads["W"], grads["b"]]
        labels = ("返回值 δ_X", "grads['W']", "grads['b']（[P, 1] 或 [P] 均可）")
        oracle = _builtin_conv(D, P, k, s, p)
        oracle.set_parameters({"weight": W, "bias": b})
        autograd = oracle.gradients((X,), G)
        autograd = [autograd["inputs"][0], autograd["parameters"]["weight"], autograd["parameters"]["bias"]]
        numeric = sampled_numeric_vjp(lambda x, w, c: np_conv2d(x, w, c, s, p), arrays, G, seed=552)
        for grad, array, expected, (index, values), label in zip(actual, arrays, autograd, numeric, labels):
            check_shape(grad, array.shape, f"{what}：{label}", squeezable=label.startswith("grads['b']"))
            check_close(np.reshape(_numpy(grad), array.shape)[index], values,
                        f"{what}：{label}（与数值梯度 finite differences）", "gradients")
            check_close(grad, expected, f"{what}：{label}（与 paddle.nn.Conv2D 的自动微分）", "gradients")
        reject_forbidden(watched, what, OP_RULE)


@book_section("5.2.2")
def check_pool2d_op_backward(env, forbidden=OP_FORBIDDEN):
    """``Pool2DOp``: forward as §5.2.2; ``backward(δ_Y)`` returns δ_X — average spreads δ/(h·w), max sends δ to
    each window's maximum and, on ties, to the FIRST maximal pixel in row-major order (the TODO's rule);
    overlapping windows add up — against float64 numpy and finite differences (computed here, outside the
    watch), with no call of ``forbidden`` (autograd, the conv/pool built-ins) in the operator's code."""
    rng = np.random.default_rng(561)
    for mode in ("max", "avg"):
        for size, stride, (H, W) in POOL_OP_CASES:
            what = f"Pool2DOp(size={size}, mode='{mode}', stride={stride})，输入 [2, 2, {H}, {W}]"
            op = _student_op(env, "Pool2DOp", (), {"size": size, "mode": mode, "stride": stride}, forbidden, what)
            X = rng.normal(size=(2, 2, H, W)).astype(np.float32)
            student_call(op, as_tensor(rng.normal(size=X.shape)), what=f"{what} 的 forward")
            out = student_call(op, as_tensor(X), what=f"{what} 的 forward")
            require_tensor(out, f"{what} 的 forward")
            check_close(out, np_pool2d(float32_exact(X), size, stride, mode), f"{what} 的 forward")
            G = rng.normal(size=np.shape(_numpy(out))).astype(np.float32)
            dX = student_call(op.backward, as_tensor(G), what=f"{what} 的 backward", stage="gradients")
            require_tensor(dX, f"{what} 的 backward 返回值 δ_X")
            check_shape(dX, X.shape, f"{what}：δ_X", squeezable=False)
            check_close(dX, np_pool2d_backward(float32_exact(X), G, size, stride, mode), f"{what}：δ_X", "gradients")
            (index, values), = sampled_numeric_vjp(lambda x: np_pool2d(x, size, stride, mode), [float32_exact(X)], G,
                                                   seed=562)
            check_close(_numpy(dX)[index], values, f"{what}：δ_X（与数值梯度比较）", "gradients")
            reject_forbidden(op, what, OP_RULE)
    # ties: a window whose maximum appears more than once (rounded values)
    X = np.array([[[[1, 3, 3, 0], [3, 1, 2, 2], [0, 0, 2, 2]]]], np.float32)
    for size, stride in (((2, 2), 2), ((2, 2), 1)):
        what = f"Pool2DOp(size={size}, mode='max', stride={stride})，窗口内有并列最大值 (ties)"
        op = _student_op(env, "Pool2DOp", (), {"size": size, "mode": "max", "stride": stride}, forbidden, what)
        out = student_call(op, as_tensor(X), what=f"{what} 的 forward")
        G = np.arange(1.0, 1.0 + np.size(_numpy(out)), dtype=np.float32).reshape(np.shape(_numpy(out)))
        dX = student_call(op.backward, as_tensor(G), what=f"{what} 的 backward", stage="gradients")
        check_close(dX, np_pool2d_backward(X, G, size, stride, "max"),
                    f"{what}：并列时整个梯度给窗口内按行优先的第一个最大值", "gradients")
        reject_forbidden(op, what, OP_RULE)
