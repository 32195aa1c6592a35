"""Hidden checks of chapter 4: tanh/relu/leaky_relu, the operators' backward (BinaryCrossEntropyLoss,
Logistic, ReLU, Linear), Model_MLP_L2.backward, the streaming Accuracy and RunnerV3 (§4.1.2–§4.5.4).

Expected values come from float64 numpy written here (closed forms and central finite differences of an
independent numpy forward, as vector–Jacobian products with a random upstream gradient), from the
``nndl_ref`` objects with the same parameters, and from Paddle autograd on ``nn.Linear``/``F.sigmoid``
networks with copied weights (never ``binary_cross_entropy_with_logits``, whose gradient is wrong at
logit 0). Components of other questions a check needs (``Linear``/``Logistic`` inside ``Model_MLP_L2``,
the metric inside ``RunnerV3``) are the reference's or scripted fakes while the check runs. The RunnerV3
checks use a 2→3 linear model and at most four optimizer steps: nothing is trained. Their model, optimizer,
loss, recorders and DataLoaders are fixtures (``fixtures/ch04.py``) built where the student's code runs, so
its ``loss.backward()`` reaches them; the reference ``Accuracy`` stays here and is called back.
"""

import os
import tempfile

import numpy as np
import paddle
import paddle.nn.functional as F

from nndl_ref import ch04 as ref

from ..checks import (CheckFailure, as_float, as_tensor, book_section, check_close, check_shape, compare_to_oracles,
                      float32_exact, load_saved, np_log_softmax, np_sigmoid, numeric_vjp, paddle_linear, quietly,
                      require, require_grads, require_tensor, student_call, substituted)
from ..rpc import build


# --------------------------------------------------------------------------------------------- helpers
def _np_bce(p, y):
    return -np.mean(y * np.log(p) + (1.0 - y) * np.log(1.0 - p))


# --------------------------------------------------------------------------------------------- §4.1.2
@book_section("4.1.2.1")
def check_tanh(env):
    """Eq. (4.4) element-wise, any shape; finite (±1) far out in the tails, where the printed formula's
    exp overflows to inf/inf = NaN."""
    tanh = require(env, "tanh")
    rng = np.random.default_rng(401)
    for x in (np.linspace(-10, 10, 201), rng.normal(scale=3.0, size=(4, 5)),
              np.array([-1000.0, -100.0, -30.0, -1e-3, 0.0, 1e-3, 30.0, 100.0, 1000.0])):
        what = f"tanh（输入形状 {list(x.shape)}，范围 [{x.min():g}, {x.max():g}]）"
        out = student_call(tanh, as_tensor(x), what=what)
        require_tensor(out, what)
        check_shape(out, x.shape, what, squeezable=False)
        check_close(out, np.tanh(float32_exact(x)), what)
        check_close(out, ref.tanh(as_tensor(x)), what)


@book_section("4.1.2.2")
def check_relu_and_leaky_relu(env):
    """Eqs. (4.5)–(4.6): ReLU(z) = max(0, z); LeakyReLU(z) = max(0, z) + λ·min(0, z) with the book's
    default λ = ``negative_slope`` = 0.1 and any λ passed by keyword; exact zeros included."""
    relu = require(env, "relu")
    leaky_relu = require(env, "leaky_relu")
    rng = np.random.default_rng(402)
    grid = np.linspace(-10, 10, 201)
    block = rng.normal(scale=2.0, size=(3, 4))
    block[0, :2] = 0.0
    for x in (grid, block):
        x32 = float32_exact(x)
        what = f"relu（输入形状 {list(x.shape)}）"
        out = student_call(relu, as_tensor(x), what=what)
        require_tensor(out, what)
        check_shape(out, x.shape, what, squeezable=False)
        check_close(out, np.maximum(x32, 0.0), what)
        check_close(out, ref.relu(as_tensor(x)), what)
        for slope in (None, 0.01, 0.3):
            if slope is None:
                what = f"leaky_relu（输入形状 {list(x.shape)}，默认 negative_slope，教材为 0.1）"
                out = student_call(leaky_relu, as_tensor(x), what=what)
                expected_slope = 0.1
            else:
                what = f"leaky_relu（输入形状 {list(x.shape)}，negative_slope={slope}）"
                out = student_call(leaky_relu, as_tensor(x), negative_slope=slope, what=what)
                expected_slope = slope
            require_tensor(out, what)
            check_shape(out, x.shape, what, squeezable=False)
            check_close(out, np.maximum(x32, 0.0) + expected_slope * np.minimum(x32, 0.0), what)
            check_close(out, ref.leaky_relu(as_tensor(x), negative_slope=expected_slope), what)


# --------------------------------------------------------------------------------------------- §4.2.4.2
class _RecordingModel:
    """Stands in for the network: records every gradient that the loss passes to ``backward``."""

    def __init__(self):
        self._received = []
        self.layers = []

    def backward(self, grads):
        self._received.append(grads)


@book_section("4.2.4.2")
def _bce_backward_case(BinaryCrossEntropyLoss, p, labels, what):
    """Forward + backward of the student's loss on a recording model: the gradient it handed on."""
    model = _RecordingModel()
    loss_fn = student_call(BinaryCrossEntropyLoss, model, what="BinaryCrossEntropyLoss(model)",
                           stage="signature")
    student_call(loss_fn, as_tensor(p), labels, what=f"{what} 的 forward")
    student_call(loss_fn.backward, what=what, stage="gradients")
    if len(model._received) != 1:
        raise CheckFailure("behaviour", what,
                           f"backward() 应调用一次 self.model.backward(∂R/∂ŷ) 把梯度传给模型，实际调用了 "
                           f"{len(model._received)} 次")
    grad = model._received[0]
    require_tensor(grad, f"{what} 传给 model.backward 的梯度")
    check_shape(grad, p.shape, f"{what} 传给 model.backward 的梯度（形状与 predicts 相同）",
                squeezable=False)
    return grad


def _bce_expectations(p, y):
    """(closed form, finite differences) of ∂R/∂ŷ for the BCE risk, in float64 on the float32 inputs."""
    p32 = float32_exact(p)
    closed = -(y / p32 - (1.0 - y) / (1.0 - p32)) / p.shape[0]
    (numeric,) = numeric_vjp(lambda q: np.array(_np_bce(q, y)), [p32], np.array(1.0), step=1e-7)
    return closed, numeric


@book_section("4.2.4.2")
def check_bce_backward(env):
    """Eq. (4.10): ∂R/∂ŷ = −(1/N)(y ⊘ ŷ − (1−y) ⊘ (1−ŷ)), handed to ``model.backward``; against finite
    differences, the reference and autograd of ``F.binary_cross_entropy`` (on probabilities)."""
    BinaryCrossEntropyLoss = require(env, "BinaryCrossEntropyLoss", kind="class")
    rng = np.random.default_rng(403)
    for N in (6, 9):
        p = rng.uniform(0.05, 0.95, size=(N, 1))
        y = rng.integers(0, 2, size=(N, 1)).astype(np.float64)
        y[:2] = [[1.0], [0.0]]
        what = f"BinaryCrossEntropyLoss.backward（N={N}，labels [N,1] float32）"
        grad = _bce_backward_case(BinaryCrossEntropyLoss, p, as_tensor(y), what)
        closed, numeric = _bce_expectations(p, y)
        compare_to_oracles(grad, {"": closed, "与数值梯度 finite differences": numeric}, what, "gradients")
        reference_model = _RecordingModel()
        reference = ref.BinaryCrossEntropyLoss(reference_model)
        reference(as_tensor(p), as_tensor(y))
        reference.backward()
        predicts = paddle.to_tensor(p.astype("float32"), stop_gradient=False)
        F.binary_cross_entropy(predicts, as_tensor(y)).backward()
        compare_to_oracles(grad, {"": reference_model._received[0], "与飞桨自动微分 autograd": predicts.grad}, what,
                           "gradients")


@book_section("4.2.4.2")
def check_bce_backward_labels(env):
    """Labels [N] or [N,1], float32, int32 or int64; probabilities near 0 and 1; every backward hands on
    the gradient of the LATEST forward pass, once."""
    BinaryCrossEntropyLoss = require(env, "BinaryCrossEntropyLoss", kind="class")
    rng = np.random.default_rng(404)
    N = 7
    p = rng.uniform(0.02, 0.98, size=(N, 1))
    p[:4, 0] = [0.001, 0.999, 0.999, 0.001]
    y = np.array([1, 0, 1, 0, 1, 1, 0], dtype=np.float64).reshape(N, 1)
    closed, numeric = _bce_expectations(p, y)
    for shape, dtype in (([N], "float32"), ([N, 1], "int64"), ([N], "int32")):
        what = f"BinaryCrossEntropyLoss.backward（labels {shape} {dtype}）"
        grad = _bce_backward_case(BinaryCrossEntropyLoss, p, as_tensor(y.reshape(shape), dtype), what)
        check_close(grad, closed, what, "gradients")
        check_close(grad, numeric, f"{what}（与数值梯度 finite differences）", "gradients")
    model = _RecordingModel()
    loss_fn = student_call(BinaryCrossEntropyLoss, model, what="BinaryCrossEntropyLoss(model)",
                           stage="signature")
    p_old = rng.uniform(0.1, 0.9, size=(3, 1))
    student_call(loss_fn, as_tensor(p_old), as_tensor(np.ones((3, 1))), what="BinaryCrossEntropyLoss.forward",
                 stage="behaviour")
    student_call(loss_fn, as_tensor(p), as_tensor(y), what="BinaryCrossEntropyLoss.forward",
                 stage="behaviour")
    student_call(loss_fn.backward, what="BinaryCrossEntropyLoss.backward（两次 forward 之后）",
                 stage="behaviour")
    if len(model._received) != 1:
        raise CheckFailure("behaviour", "BinaryCrossEntropyLoss.backward",
                           "每次 backward() 应恰好调用一次 self.model.backward")
    check_close(model._received[0], closed, "BinaryCrossEntropyLoss.backward（应使用最近一次 forward 的 ŷ 和 y）", "behaviour")


# --------------------------------------------------------------------------------------------- §4.2.4.3
@book_section("4.2.4.3")
def check_logistic_backward(env):
    """Eq. (4.15): δ_Z = A ⊙ (1 − A) ⊙ δ_A with A the output of the latest forward; against finite
    differences, the reference and autograd of ``F.sigmoid``."""
    Logistic = require(env, "Logistic", kind="class")
    rng = np.random.default_rng(405)
    for shape in ((5, 3), (1, 4)):
        Z = rng.normal(scale=2.0, size=shape)
        Z.flat[:2] = [0.0, 6.0]
        G = rng.normal(size=shape)
        Z32 = float32_exact(Z)
        what = f"Logistic.backward（输入形状 {list(shape)}）"
        op = student_call(Logistic, what="Logistic()", stage="signature")
        student_call(op, as_tensor(rng.normal(size=shape)), what="Logistic.forward")
        student_call(op, as_tensor(Z), what="Logistic.forward")
        dZ = student_call(op.backward, as_tensor(G), what=what, stage="gradients")
        require_tensor(dZ, what)
        check_shape(dZ, shape, what, squeezable=False)
        s = np_sigmoid(Z32)
        (numeric,) = numeric_vjp(np_sigmoid, [Z32], G)
        compare_to_oracles(dZ, {"": G * s * (1.0 - s), "与数值梯度 finite differences": numeric}, what, "gradients")
        reference = ref.Logistic()
        reference(as_tensor(Z))
        inputs = paddle.to_tensor(Z.astype("float32"), stop_gradient=False)
        (F.sigmoid(inputs) * as_tensor(G)).sum().backward()
        compare_to_oracles(dZ, {"": reference.backward(as_tensor(G)), "与飞桨自动微分 autograd": inputs.grad}, what,
                           "gradients")


def _relu_inputs(rng, shape=(4, 5)):
    Z = rng.normal(size=shape)
    Z[0, :3] = 0.0                       # exact zeros: the derivative there is 0 (inputs > 0)
    Z[1, 0], Z[1, 1] = -0.0, 1e-6        # a negative zero and a tiny positive
    return Z


@book_section("4.2.4.3")
def check_relu_op_forward(env):
    """ReLU operator forward: max(0, Z) element-wise, same shape (动手练习 4.2)."""
    ReLU = require(env, "ReLU", kind="class")
    rng = np.random.default_rng(406)
    for Z in (_relu_inputs(rng), np.linspace(-3, 3, 13).reshape(1, 13)):
        what = f"ReLU.forward（输入形状 {list(Z.shape)}）"
        op = student_call(ReLU, what="ReLU()", stage="signature")
        out = student_call(op, as_tensor(Z), what=what)
        require_tensor(out, what)
        check_shape(out, Z.shape, what, squeezable=False)
        check_close(out, np.maximum(float32_exact(Z), 0.0), what)
        check_close(out, ref.ReLU()(as_tensor(Z)), what)


@book_section("4.2.4.3")
def check_relu_op_backward(env):
    """ReLU operator backward: δ_Z = δ_A ⊙ 1[Z > 0] for the latest forward's Z, 0 at exactly 0 (as
    ``F.relu``); against finite differences away from 0, the reference and autograd of ``F.relu``."""
    ReLU = require(env, "ReLU", kind="class")
    rng = np.random.default_rng(407)
    Z = _relu_inputs(rng)
    G = rng.uniform(0.5, 1.5, size=Z.shape) * rng.choice([-1.0, 1.0], size=Z.shape)
    op = student_call(ReLU, what="ReLU()", stage="signature")
    student_call(op, as_tensor(-Z), what="ReLU.forward")
    student_call(op, as_tensor(Z), what="ReLU.forward")
    what = "ReLU.backward（输入含 0、负数和正数；使用最近一次 forward 的输入）"
    dZ = student_call(op.backward, as_tensor(G), what=what, stage="gradients")
    require_tensor(dZ, what)
    check_shape(dZ, Z.shape, what, squeezable=False)
    check_close(dZ, G * (float32_exact(Z) > 0), what + "：在输入恰为 0 处导数取 0", "gradients")
    reference = ref.ReLU()
    reference(as_tensor(Z))
    check_close(dZ, reference.backward(as_tensor(G)), what, "gradients")
    inputs = paddle.to_tensor(Z.astype("float32"), stop_gradient=False)
    (F.relu(inputs) * as_tensor(G)).sum().backward()
    check_close(dZ, inputs.grad, f"{what}（与飞桨自动微分 autograd）", "gradients")
    away = rng.normal(size=(3, 4))
    away = np.where(np.abs(away) < 0.05, 0.5, away)
    G2 = rng.normal(size=away.shape)
    op = student_call(ReLU, what="ReLU()", stage="signature")
    student_call(op, as_tensor(away), what="ReLU.forward")
    dZ = student_call(op.backward, as_tensor(G2), what="ReLU.backward", stage="gradients")
    (numeric,) = numeric_vjp(lambda z: np.maximum(z, 0.0), [float32_exact(away)], G2)
    check_close(dZ, numeric, "ReLU.backward（与数值梯度 finite differences）", "gradients")


# --------------------------------------------------------------------------------------------- §4.2.4.4
def _student_linear(Linear, W, b):
    M_in, M_out = W.shape
    layer = student_call(Linear, M_in, M_out, name="fc", what=f"Linear({M_in}, {M_out}, name='fc')", stage="signature")
    layer.params["W"], layer.params["b"] = as_tensor(W), as_tensor(b.reshape(1, M_out))
    return layer


def _reference_linear(W, b):
    layer = ref.Linear(W.shape[0], W.shape[1], name="fc")
    layer.params["W"], layer.params["b"] = as_tensor(W), as_tensor(b.reshape(1, -1))
    return layer


BOOK_NET_INPUT = {   # §4.1.1's printed X, w, b and z (line 4454–4475)
    "X": [[0.68608588, 0.98838335, 0.90042728, 0.03543352, 0.94395220],
          [0.88178754, 0.63330865, 0.17612664, 0.90020746, 0.64029330]],
    "w": [[0.97993565], [0.67064512], [0.39250144], [0.18568753], [0.88017946]],
    "b": [[0.95228434]],
    "z": [[3.47830486], [3.04096484]],
}


@book_section("4.2.2.1")
def check_linear_forward(env):
    """Eq. (4.7): Z = X·W + b with W [M_in, M_out] and b [1, M_out] broadcast over the rows; the book's
    net-input example and random non-square cases."""
    Linear = require(env, "Linear", kind="class")
    book = {key: np.array(value) for key, value in BOOK_NET_INPUT.items()}
    layer = _student_linear(Linear, book["w"], book["b"])
    what = "Linear.forward（教材 §4.1.1 的净活性值例子）"
    out = student_call(layer, as_tensor(book["X"]), what=what)
    require_tensor(out, what)
    check_shape(out, [2, 1], what, squeezable=False)
    check_close(out, book["z"], what)
    rng = np.random.default_rng(408)
    for N, M_in, M_out in ((5, 3, 4), (1, 4, 2), (6, 2, 1)):
        X, W, b = rng.normal(size=(N, M_in)), rng.normal(size=(M_in, M_out)), rng.normal(size=(M_out,))
        what = f"Linear.forward（X [{N},{M_in}]，W [{M_in},{M_out}]）"
        out = student_call(_student_linear(Linear, W, b), as_tensor(X), what=what)
        require_tensor(out, what)
        check_shape(out, [N, M_out], what, squeezable=False)
        check_close(out, float32_exact(X) @ float32_exact(W) + float32_exact(b), what)
        check_close(out, _reference_linear(W, b)(as_tensor(X)), what)


@book_section("4.2.4.4")
def check_linear_backward(env):
    """Eqs. (4.18), (4.21), (4.22): returns δ_X = δ_Y·Wᵀ [N, M_in]; grads['W'] = Xᵀ·δ_Y [M_in, M_out];
    grads['b'] = 1ᵀ·δ_Y ([M_out] or [1, M_out]) for the latest forward's X; against finite differences,
    the reference and autograd of ``nn.Linear`` with the same weights."""
    Linear = require(env, "Linear", kind="class")
    rng = np.random.default_rng(409)
    for N, M_in, M_out in ((5, 3, 4), (4, 2, 1)):
        X, W, b = rng.normal(size=(N, M_in)), rng.normal(size=(M_in, M_out)), rng.normal(size=(M_out,))
        G = rng.normal(size=(N, M_out))
        label = f"X [{N},{M_in}]，W [{M_in},{M_out}]，上游梯度 δ_Y [{N},{M_out}]"
        layer = _student_linear(Linear, W, b)
        student_call(layer, as_tensor(rng.normal(size=(N + 1, M_in))), what="Linear.forward")
        student_call(layer, as_tensor(X), what="Linear.forward")
        dX = student_call(layer.backward, as_tensor(G), what=f"Linear.backward（{label}）",
                          stage="gradients")
        require_tensor(dX, f"Linear.backward 的返回值 δ_X（{label}）")
        grads = require_grads(layer, ("W", "b"), "Linear.backward")
        check_shape(dX, [N, M_in], f"返回值 δ_X（{label}）", squeezable=False)
        check_shape(grads["W"], [M_in, M_out], f"grads['W']（{label}）", squeezable=False)
        check_shape(grads["b"], [1, M_out], f"grads['b']（{label}；[M_out] 或 [1, M_out] 均可）")

        dX_num, dW_num, db_num = numeric_vjp(lambda x, w, c: x @ w + c, [float32_exact(X), float32_exact(W),
                                                                          float32_exact(b)], G)
        for name, actual, numeric in (("返回值 δ_X", dX, dX_num), ("grads['W']", grads["W"], dW_num),
                                      ("grads['b']", grads["b"], db_num)):
            check_close(actual, numeric, f"{name}（{label}，与数值梯度 finite differences）", "gradients")

        reference = _reference_linear(W, b)
        reference(as_tensor(X))
        reference_dX = reference.backward(as_tensor(G))
        check_close(dX, reference_dX, f"返回值 δ_X（{label}）", "gradients")
        check_close(grads["W"], reference.grads["W"], f"grads['W']（{label}）", "gradients")
        check_close(grads["b"], reference.grads["b"], f"grads['b']（{label}）", "gradients")

        linear = paddle_linear(W, b)
        inputs = paddle.to_tensor(X.astype("float32"), stop_gradient=False)
        (linear(inputs) * as_tensor(G)).sum().backward()
        for name, actual, autograd in (("返回值 δ_X", dX, inputs.grad), ("grads['W']", grads["W"], linear.weight.grad),
                                       ("grads['b']", grads["b"], linear.bias.grad)):
            check_close(actual, autograd, f"{name}（{label}，与飞桨自动微分 autograd）", "gradients")


# --------------------------------------------------------------------------------------------- §4.2.4.5
def _mlp_params(rng, D, H, O):
    return {"W1": rng.normal(size=(D, H)), "b1": rng.normal(scale=0.5, size=(H,)),
            "W2": rng.normal(size=(H, O)), "b2": rng.normal(scale=0.5, size=(O,))}


def _np_mlp(X, W1, b1, W2, b2):
    return np_sigmoid(np_sigmoid(X @ W1 + b1) @ W2 + b2)


def _set_op_mlp(model, params, what):
    for fc, key in (("fc1", "1"), ("fc2", "2")):
        layer = getattr(model, fc, None)
        if layer is None or not isinstance(getattr(layer, "params", None), dict):
            raise CheckFailure("signature", what, f"模型应有线性层 self.{fc}（带 params 字典），见给出的 __init__")
        layer.params["W"] = as_tensor(params["W" + key])
        layer.params["b"] = as_tensor(params["b" + key].reshape(1, -1))


def _student_mlp(env, params, what):
    """The student's Model_MLP_L2 built from the REFERENCE Linear/Logistic (other questions) with ``params``."""
    Model_MLP_L2 = require(env, "Model_MLP_L2", kind="class")
    D, H = params["W1"].shape
    O = params["W2"].shape[1]
    model = student_call(Model_MLP_L2, D, H, O, what=f"Model_MLP_L2({D}, {H}, {O})",
                         stage="signature")
    _set_op_mlp(model, params, what)
    return model


def _autograd_mlp(params):
    """``Model_MLP_L2_V2``'s computation (nn.Linear + F.sigmoid) with copied weights."""
    fc1, fc2 = paddle_linear(params["W1"], params["b1"]), paddle_linear(params["W2"], params["b2"])
    return fc1, fc2, lambda X: F.sigmoid(fc2(F.sigmoid(fc1(X))))


def _mlp_grads(model, what):
    return {"W1": require_grads(model.fc1, ("W", "b"), f"{what}：fc1")["W"], "b1": model.fc1.grads["b"],
            "W2": require_grads(model.fc2, ("W", "b"), f"{what}：fc2")["W"], "b2": model.fc2.grads["b"]}


_PARAM_NAMES = {"W1": "fc1.grads['W']", "b1": "fc1.grads['b']", "W2": "fc2.grads['W']", "b2": "fc2.grads['b']"}


@book_section("4.2.4.5")
def check_mlp_backward(env):
    """Back-propagation through Linear → Logistic → Linear → Logistic in reverse order fills fc1.grads and
    fc2.grads with the vector–Jacobian products of a random upstream gradient; against finite
    differences, the reference model and autograd of the ``Model_MLP_L2_V2`` computation."""
    rng = np.random.default_rng(410)
    for N, D, H, O in ((5, 3, 4, 1), (4, 2, 5, 2)):
        params = _mlp_params(rng, D, H, O)
        X, G = rng.normal(size=(N, D)), rng.normal(size=(N, O))
        label = f"Model_MLP_L2({D}, {H}, {O})，N={N}"
        with substituted(env, Linear=ref.Linear, Logistic=ref.Logistic):
            model = _student_mlp(env, params, label)
            student_call(model, as_tensor(X), what=f"{label} 的 forward")
            student_call(model.backward, as_tensor(G), what=f"{label} 的 backward",
                         stage="gradients")
        grads = _mlp_grads(model, label)
        for key, value in params.items():
            shape = [1, value.shape[0]] if key.startswith("b") else list(value.shape)
            check_shape(grads[key], shape, f"{_PARAM_NAMES[key]}（{label}）", squeezable=key.startswith("b"))

        names = list(params)
        numeric = numeric_vjp(lambda *p: _np_mlp(float32_exact(X), *p), [float32_exact(params[k]) for k in names], G)
        for key, value in zip(names, numeric):
            check_close(grads[key], value, f"{_PARAM_NAMES[key]}（{label}，与数值梯度 finite differences）",
                        "gradients")

        reference = ref.Model_MLP_L2(D, H, O)
        _set_op_mlp(reference, params, label)
        reference(as_tensor(X))
        reference.backward(as_tensor(G))
        for key, value in _mlp_grads(reference, label).items():
            check_close(grads[key], value, f"{_PARAM_NAMES[key]}（{label}）", "gradients")

        fc1, fc2, forward = _autograd_mlp(params)
        (forward(as_tensor(X)) * as_tensor(G)).sum().backward()
        for key, autograd in (("W1", fc1.weight.grad), ("b1", fc1.bias.grad), ("W2", fc2.weight.grad),
                              ("b2", fc2.bias.grad)):
            check_close(grads[key], autograd, f"{_PARAM_NAMES[key]}（{label}，与飞桨自动微分 autograd）",
                        "gradients")


@book_section("4.2.4.5")
def check_mlp_backward_with_loss(env):
    """The training path of §4.2.6: BinaryCrossEntropyLoss(model).backward() → model.backward, then the
    layer-wise gradient step, twice; gradients and parameters follow autograd + SGD on the
    ``Model_MLP_L2_V2`` computation with the same weights, step for step."""
    rng = np.random.default_rng(411)
    N, D, H, O, lr = 8, 2, 5, 1, 0.5
    params = _mlp_params(rng, D, H, O)
    X = as_tensor(rng.normal(size=(N, D)))
    y = as_tensor(np.array([1, 0, 0, 1, 1, 0, 1, 0]).reshape(N, 1))
    label = f"Model_MLP_L2({D}, {H}, {O}) + BinaryCrossEntropyLoss(model) + Optimizer_GD(lr={lr})"
    fc1, fc2, forward = _autograd_mlp(params)
    sgd = paddle.optimizer.SGD(learning_rate=lr, parameters=fc1.parameters() + fc2.parameters())
    with substituted(env, Linear=ref.Linear, Logistic=ref.Logistic):
        model = _student_mlp(env, params, label)
        loss_fn = ref.BinaryCrossEntropyLoss(model)
        optimizer = ref.Optimizer_GD(lr, model)
        for step in range(2):
            loss_fn(student_call(model, X, what=f"{label} 的 forward"), y)
            student_call(loss_fn.backward, what=f"{label}：第 {step + 1} 步的 loss_fn.backward() → model.backward",
                         stage="gradients")
            F.binary_cross_entropy(forward(X), y).backward()
            grads = _mlp_grads(model, label)
            for key, autograd in (("W1", fc1.weight.grad), ("b1", fc1.bias.grad), ("W2", fc2.weight.grad),
                                  ("b2", fc2.bias.grad)):
                check_close(grads[key], autograd, f"第 {step + 1} 步的 {_PARAM_NAMES[key]}（{label}，与飞桨自动微分 "
                            "autograd）", "gradients")
            student_call(optimizer.step, what=f"{label}：第 {step + 1} 步的参数更新",
                         stage="behaviour")
            sgd.step()
            sgd.clear_grad()
            for name, layer, oracle in (("fc1", model.fc1, fc1), ("fc2", model.fc2, fc2)):
                check_close(layer.params["W"], oracle.weight, f"第 {step + 1} 步后的 {name}.params['W']（{label}）",
                            "behaviour")
                check_close(layer.params["b"], oracle.bias, f"第 {step + 1} 步后的 {name}.params['b']（{label}）",
                            "behaviour")


# --------------------------------------------------------------------------------------------- §4.5.4.1
def _accuracy_value(metric, what):
    value = student_call(metric.accumulate, what=f"{what} 的 accumulate()")
    if value is None:
        raise CheckFailure("values", what, "accumulate() 返回了 None（是否漏写了 return？）")
    return as_float(value, f"{what} 的 accumulate()")


def _stream(Accuracy, outputs, labels, batch_sizes, what, **kwargs):
    """A fresh metric fed ``outputs``/``labels`` in batches; returns (metric, accumulated accuracy)."""
    metric = student_call(Accuracy, what=f"Accuracy({', '.join(f'{k}={v}' for k, v in kwargs.items())})",
                          stage="signature", **kwargs)
    start = 0
    for size in batch_sizes:
        student_call(metric.update, as_tensor(outputs[start:start + size]), labels[start:start + size],
                     what=f"{what} 的 update")
        start += size
    return metric, _accuracy_value(metric, what)


@book_section("4.5.4.1")
def check_accuracy_streaming(env):
    """Multi-class: argmax per row; the accuracy over ALL samples of all batches (a partial last batch
    weighs by its size, not as one batch); labels [B] or [B,1], int32 or int64; reset() starts over."""
    Accuracy = require(env, "Accuracy", kind="class")
    rng = np.random.default_rng(412)
    N, C = 11, 3
    logits = rng.normal(scale=2.0, size=(N, C))
    predicted = logits.argmax(axis=1)
    labels = predicted.copy()
    wrong = [4, 5, 6, 8, 9, 10]           # batches 4/4/3: 4/4, 1/4 and 0/3 right → 5/11, not mean 5/12
    labels[wrong] = (labels[wrong] + 1) % C
    expected = np.mean(predicted == labels)
    for shape_tail, dtype in (((), "int64"), ((1,), "int64"), ((), "int32"), ((1,), "int32")):
        shape = f"[B{', 1' if shape_tail else ''}]"
        what = f"Accuracy（批大小 4/4/3，labels {shape} {dtype}）"
        y = as_tensor(labels.reshape((N,) + shape_tail), dtype)
        metric, value = _stream(Accuracy, logits, y, (4, 4, 3), what)
        check_close(value, expected, what + "：应是全部样本中预测正确的比例（按样本累计，不是各批准确率的平均）")
        reference = ref.Accuracy()
        for start, size in ((0, 4), (4, 4), (8, 3)):
            reference.update(as_tensor(logits[start:start + size]), y[start:start + size])
        check_close(value, reference.accumulate(), what)
    student_call(metric.reset, what="Accuracy.reset", stage="behaviour")
    if not abs(_accuracy_value(metric, "reset() 之后（还没有 update）")) <= 1e-12:   # NaN fails too
        raise CheckFailure("behaviour", "Accuracy.accumulate", "还没有任何样本时应返回 0（教材的约定）")
    student_call(metric.update, as_tensor(logits[:4]), as_tensor(labels[:4], "int64"), what="Accuracy.update",
                 stage="behaviour")
    check_close(_accuracy_value(metric, "reset() 后再 update 一批"), 1.0,
                "reset() 后只应统计新的批次（请使用 self.num_correct 和 self.num_count）", "behaviour")


_BINARY_LABELS = np.array([1, 0, 1, 0, 1, 1, 0, 1])      # the exact thresholds (items 0 and 7) are class 1
_BINARY_CASES = ((True, np.array([0.0, -0.3, 2.1, 1e-4, -1e-4, 0.7, -2.0, 0.0])),
                 (False, np.array([0.5, 0.4999, 0.93, 0.5001, 0.2, 0.81, 0.07, 0.5])))


def _check_binary_stream(Accuracy, labels_as, form):
    """Both ``is_logist`` thresholds, thresholds included, over batches of 3/3/2, with labels ``labels_as(y)``."""
    for is_logist, scores in _BINARY_CASES:
        scores = float32_exact(scores)
        predicted = (scores >= (0.0 if is_logist else 0.5)).astype(int)
        expected = np.mean(predicted == _BINARY_LABELS)
        y = labels_as(_BINARY_LABELS)
        what = f"Accuracy(is_logist={is_logist})（二分类，outputs [B,1]，labels {form}，批大小 3/3/2）"
        _, value = _stream(Accuracy, scores.reshape(-1, 1), y, (3, 3, 2), what, is_logist=is_logist)
        check_close(value, expected, what)
        reference = ref.Accuracy(is_logist=is_logist)
        reference.update(as_tensor(scores.reshape(-1, 1)), y)
        check_close(value, reference.accumulate(), what)


@book_section("4.5.4.1")
def check_accuracy_binary(env):
    """The book's binary case: outputs [N,1], class 1 when the output is ≥ 0 (is_logist=True, logits) or
    ≥ 0.5 (is_logist=False, probabilities), thresholds included; 0/1 float32 labels [B,1]."""
    Accuracy = require(env, "Accuracy", kind="class")
    _check_binary_stream(Accuracy, lambda y: as_tensor(y.reshape(-1, 1), "float32"), "[B,1] float32")
    rng = np.random.default_rng(413)
    outputs = rng.uniform(0.0, 1.0, size=(9, 1))
    y = rng.integers(0, 2, size=9)
    what = "Accuracy(is_logist=False)（随机概率，批大小 5/4）"
    _, value = _stream(Accuracy, outputs, as_tensor(y.reshape(-1, 1), "float32"), (5, 4), what, is_logist=False)
    check_close(value, np.mean((float32_exact(outputs[:, 0]) >= 0.5) == y), what)


@book_section("4.5.4.1")
def check_accuracy_binary_int_labels(env):
    """The kit's extension beyond the book (the TODO promises it): binary labels as int64 [B]."""
    Accuracy = require(env, "Accuracy", kind="class")
    _check_binary_stream(Accuracy, lambda y: as_tensor(y, "int64"), "[B] int64（本套件在教材之外的要求 kit extension）")


# --------------------------------------------------------------------------------------------- RunnerV3
_SECTION_V3 = "4.5.4.2"
_TRAIN_SIZES, _DEV_SIZES = (4, 2), (3, 3)
_W0, _B0 = np.array([[0.5, -0.3, 0.2], [0.1, 0.4, -0.6]]), np.array([0.05, -0.1, 0.0])


def _batches(sizes, seed):
    rng = np.random.default_rng(seed)
    return [(as_tensor(rng.normal(size=(size, 2))), as_tensor(rng.integers(0, 3, size=size), "int64"))
            for size in sizes]


def _probe(env, script=None):
    """A ``RunnerProbe`` (fixtures/ch04.py) of the 2→3 model W0, b0, built where the student's code runs."""
    return build(env, "nndl_grading.fixtures.ch04.RunnerProbe", _W0, _B0, script)


@book_section(_SECTION_V3)
def _scripted_runner(env, script):
    RunnerV3 = require(env, "RunnerV3", kind="class")
    probe = _probe(env, script)
    runner = student_call(RunnerV3, probe.model, probe.optimizer, probe.loss_fn, probe.metric,
                          what="RunnerV3(model, optimizer, loss_fn, metric)", stage="signature")
    return runner, probe


@book_section(_SECTION_V3)
def _train(runner, *args, **kwargs):
    quietly(runner.train, *args, what="RunnerV3.train", stage="behaviour", **kwargs)


@book_section(_SECTION_V3)
def _pairs(record, what):
    try:
        return [(int(step), as_float(value, what)) for step, value in record]
    except CheckFailure:
        raise
    except Exception:
        raise CheckFailure("shape", what, "每一项应是 (step, loss) 二元组") from None


@book_section(_SECTION_V3)
def _require_list(runner, name, length, what):
    record = getattr(runner, name, None)
    if not isinstance(record, list) or len(record) != length:
        got = len(record) if isinstance(record, list) else type(record).__name__
        raise CheckFailure("behaviour", f"runner.{name}", f"{what}后应有 {length} 条记录，实际 {got}")
    return record


@book_section(_SECTION_V3)
def check_runner_v3_train_records(env):
    """2 epochs × 2 batches, eval_steps=2: per step forward (train mode) → loss → backward →
    custom_print_log(runner) → step → gradients cleared; evaluation at step 2 and at the LAST step 3;
    train_step_losses, train_epoch_losses and dev_losses record what the loss returned."""
    runner, probe = _scripted_runner(env, {3: 0.5, 4: 0.75})
    train, dev = _batches(_TRAIN_SIZES, 420), _batches(_DEV_SIZES, 421)
    with tempfile.TemporaryDirectory() as folder:
        _train(runner, train, dev, num_epochs=2, log_steps=1, eval_steps=2,
               save_path=os.path.join(folder, "best.pdparams"), custom_print_log=probe.print_log(runner))
    log, printed = probe.log, probe.printed
    forwards, losses, grads = log.forwards, log.losses, log.steps
    what = "RunnerV3.train(num_epochs=2, eval_steps=2)，训练集 2 个批次"
    if len(grads) != 4:
        raise CheckFailure("behaviour", what, f"应调用 optimizer.step() 4 次（每个批次一次），实际 {len(grads)} 次")
    train_forwards = [f for f in forwards if f[0]]
    if len(train_forwards) != 4 or not all(f[1] for f in train_forwards):
        raise CheckFailure("behaviour", what, "每个训练批次应前向一次，且模型处于训练模式：evaluate 之后要调用 "
                           "self.model.train()")
    logged_after_backward = len(printed) == 4 and all(
        p[2] is not None and grad is not None and np.allclose(p[2], grad, rtol=1e-5, atol=1e-9)
        for p, grad in zip(printed, grads))
    if [p[1] for p in printed] != [0, 1, 2, 3] or not all(p[0] for p in printed) or not logged_after_backward:
        raise CheckFailure("behaviour", what, "每一步应在 loss.backward() 之后、optimizer.step() 之前调用一次 "
                           "custom_print_log(self)（传入 runner 本身）")
    for step, grad in enumerate(grads):
        X = train[step % len(train)][0].numpy()        # this check's own batch, in the loader's order
        expected = np.repeat(X.astype(np.float64).sum(axis=0, keepdims=True).T, 3, axis=1) / (X.shape[0] * 3)
        if grad is None:
            raise CheckFailure("behaviour", what, f"第 {step} 步 optimizer.step() 时还没有梯度：应先 loss.backward()")
        check_close(grad, expected, f"{what}：第 {step} 步更新时的梯度应只来自本批次（每步之后要 "
                    "optimizer.clear_grad() 清空梯度）", "behaviour")
    train_losses = [value for grad_on, _, value in losses if grad_on]
    steps = _pairs(_require_list(runner, "train_step_losses", 4, "4 个训练步"), "runner.train_step_losses")
    if [s for s, _ in steps] != [0, 1, 2, 3]:
        raise CheckFailure("behaviour", "runner.train_step_losses", f"步数应为 0, 1, 2, 3，实际 {[s for s, _ in steps]}")
    check_close([v for _, v in steps], train_losses, "runner.train_step_losses 记录的损失", "behaviour")
    epochs = _require_list(runner, "train_epoch_losses", 2, "2 个回合")
    check_close([as_float(v, "runner.train_epoch_losses") for v in epochs],
                [np.mean(train_losses[:2]), np.mean(train_losses[2:])],
                "runner.train_epoch_losses（每个回合各批次损失的平均）", "behaviour")
    dev = _pairs(_require_list(runner, "dev_losses", 2, "评价 2 次（第 2 步、最后一步第 3 步）"), "runner.dev_losses")
    if [s for s, _ in dev] != [2, 3]:
        raise CheckFailure("behaviour", "runner.dev_losses", "应在 global_step 为 eval_steps 的倍数（0 除外）和最后一步"
                           f"评价，这里是第 2、3 步；实际 {[s for s, _ in dev]}")
    dev_losses = {}
    for grad_on, done, value in losses:
        if not grad_on:
            dev_losses.setdefault(done, []).append(value)
    if sorted(dev_losses) != [3, 4]:
        raise CheckFailure("behaviour", what, "评价应在该步的 optimizer.step() 之后进行")
    check_close([v for _, v in dev], [np.mean(dev_losses[3]), np.mean(dev_losses[4])],
                "runner.dev_losses 记录的验证集损失", "behaviour")
    scores = _require_list(runner, "dev_scores", 2, "评价 2 次")
    check_close([as_float(v, "runner.dev_scores") for v in scores], [0.5, 0.75],
                "runner.dev_scores（应是 metric.accumulate() 的结果）", "behaviour")


@book_section(_SECTION_V3)
def check_runner_v3_saves_best(env):
    """Dev scores 0.5, 0.8, 0.8 at steps 1, 2, 3: the model is saved at steps 1 and 2 only (strictly
    better than the best so far, starting from 0), and best_score ends at 0.8."""
    runner, probe = _scripted_runner(env, {2: 0.5, 3: 0.8, 4: 0.8})
    train, dev = _batches(_TRAIN_SIZES, 422), _batches(_DEV_SIZES, 423)
    with tempfile.TemporaryDirectory() as folder:
        save_path = os.path.join(folder, "best.pdparams")
        _train(runner, train, dev, num_epochs=2, log_steps=0, eval_steps=1, save_path=save_path)
        if not os.path.exists(save_path):
            raise CheckFailure("behaviour", "RunnerV3.train", "验证集指标变好时应调用 self.save_model(save_path)")
        saved = load_saved(save_path)
    snapshots = probe.log.snapshots
    if sorted(snapshots) != [2, 3, 4]:
        raise CheckFailure("behaviour", "RunnerV3.train(num_epochs=2, eval_steps=1)",
                           "4 个训练步应在第 1、2、3 步之后各评价一次")
    weight = next((value for key, value in saved.items() if key.endswith("weight")), None) \
        if isinstance(saved, dict) else None
    if weight is None:
        raise CheckFailure("behaviour", "RunnerV3.train 保存的模型", "应保存 model.state_dict()")
    if not np.max(np.abs(np.asarray(weight) - snapshots[3])) <= 1e-6:      # NaN fails too
        raise CheckFailure("behaviour", "RunnerV3.train 保存的模型",
                           "验证集得分依次为 0.5、0.8、0.8，保存的应是得分第一次达到 0.8（第 2 步）时的模型；"
                           "只在严格变好 (>) 时保存，得分持平时不保存")
    check_close(as_float(getattr(runner, "best_score", None), "runner.best_score"), 0.8,
                "runner.best_score", "behaviour")


@book_section("4.5.4.2")
def check_runner_v3_evaluate(env):
    """evaluate(dev_loader, global_step=…): model.eval(), metric.reset() then update per batch, returns
    (metric.accumulate(), mean batch loss) and records (global_step, loss) and the score; without a
    global_step it may record (−1, loss) or nothing (both designs are the book's)."""
    RunnerV3 = require(env, "RunnerV3", kind="class")
    probe = _probe(env)
    metric = ref.Accuracy()
    runner = student_call(RunnerV3, probe.model, probe.optimizer, probe.loss_fn, metric,
                          what="RunnerV3(model, optimizer, loss_fn, metric)", stage="signature")
    W, b = float32_exact(_W0), float32_exact(_B0)
    counts = {"dev_losses": 0, "dev_scores": 0}
    for sizes, seed, step in (((3, 3, 3), 424, None), ((4, 4, 1), 425, 7)):
        loader = _batches(sizes, seed)
        metric.reset()
        metric.update(as_tensor(np.zeros((5, 3))), as_tensor([1, 1, 1, 1, 1], "int64"))   # stale counts
        probe.model.train()
        kwargs = {} if step is None else {"global_step": step}
        what = f"RunnerV3.evaluate（批大小 {'/'.join(map(str, sizes))}{'' if step is None else f'，global_step={step}'}）"
        result = quietly(runner.evaluate, loader, what=what, **kwargs)
        if not isinstance(result, (tuple, list)) or len(result) != 2:
            raise CheckFailure("signature", what, "应返回 (dev_score, dev_loss)")
        score, loss = (as_float(v, what) for v in result)
        forwards = probe.log.forwards
        if len(forwards) < len(sizes) or any(training for _, training, _, _ in forwards[-len(sizes):]):
            raise CheckFailure("behaviour", what, "评价时应先调用 self.model.eval()，并对每个批次前向一次")
        X = np.vstack([float32_exact(x.numpy()) for x, _ in loader])
        y = np.concatenate([t.numpy() for _, t in loader])
        logits = X @ W + b
        check_close(score, np.mean(logits.argmax(axis=1) == y),
                    f"{what} 的 dev_score：应先 self.metric.reset()，再逐批 update，最后 accumulate()")
        per_sample = -np_log_softmax(logits)[np.arange(len(y)), y]
        batch_means = [chunk.mean() for chunk in np.split(per_sample, np.cumsum(sizes)[:-1])]
        compare_to_oracles(loss, {"各批次损失的平均": np.mean(batch_means), "按样本的平均": per_sample.mean()},
                           f"{what} 的 dev_loss", agree="any")    # the book's mean of batch means; weighted is fine
        new_losses, new_scores = (_new_records(runner, name, counts[name], step is None) for name in counts)
        counts = {"dev_losses": counts["dev_losses"] + len(new_losses),
                  "dev_scores": counts["dev_scores"] + len(new_scores)}
        if new_losses:
            recorded_step, recorded_loss = _pairs(new_losses, "runner.dev_losses")[-1]
            expected_step = -1 if step is None else step
            if recorded_step != expected_step:
                raise CheckFailure("behaviour", "runner.dev_losses", f"应记录 (global_step, dev_loss)，global_step 未给出时"
                                   f"记为 −1（或不记录）；这里应为 {expected_step}，实际 {recorded_step}")
            check_close(recorded_loss, loss, "runner.dev_losses 记录的损失", "behaviour")
        if new_scores:
            check_close(as_float(new_scores[-1], "runner.dev_scores"), score, "runner.dev_scores 记录的得分", "behaviour")


@book_section(_SECTION_V3)
def _new_records(runner, name, before, optional):
    """The entries ``evaluate`` appended to ``runner.<name>``: exactly one when a ``global_step`` was given;
    none or one without it (the printed book records (−1, loss), the official notebook records nothing)."""
    record = getattr(runner, name, None)
    added = len(record) - before if isinstance(record, list) else None
    if added == 1 or (optional and added == 0):
        return record[before:]
    got = f"新增 {added} 条" if added is not None else type(record).__name__
    wanted = " 0 或 1 条记录（未给 global_step）" if optional else " 1 条记录（给出了 global_step）"
    raise CheckFailure("behaviour", f"runner.{name}", f"调用 evaluate 后应新增{wanted}，实际 {got}")


def _tiny_classification(seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(10, 2)).astype("float32")
    y = np.argmax(X @ np.array([[1.0, -1.0, 0.2], [0.3, 0.8, -1.0]]) + 0.5 * rng.normal(size=(10, 3)), axis=1)
    X_dev = rng.normal(size=(6, 2)).astype("float32")
    y_dev = rng.integers(0, 3, size=6)
    return X, y.astype("int64"), X_dev, y_dev.astype("int64")


def _plain_sgd_loop(W, b, X, y, X_dev, y_dev, lr, batch_size, eval_at):
    """What the mini-batch SGD steps must do, written as a plain loop over slices (no Runner)."""
    linear = paddle_linear(W, b)
    sgd = paddle.optimizer.SGD(learning_rate=lr, parameters=linear.parameters())
    losses, evaluations = [], []
    for step, start in enumerate(range(0, len(y), batch_size)):
        loss = F.cross_entropy(linear(paddle.to_tensor(X[start:start + batch_size])),
                               paddle.to_tensor(y[start:start + batch_size]))
        losses.append(loss.item())
        loss.backward()
        sgd.step()
        sgd.clear_grad()
        if step in eval_at:
            with paddle.no_grad():
                logits = linear(paddle.to_tensor(X_dev))
                evaluations.append((step, float(np.mean(logits.numpy().argmax(axis=1) == y_dev)),
                                    F.cross_entropy(logits, paddle.to_tensor(y_dev)).item(),
                                    linear.weight.numpy().copy()))
    return losses, evaluations, linear


@book_section(_SECTION_V3)
def check_runner_v3_tiny_training(env):
    """One epoch of four mini-batches (3/3/3/1, from a DataLoader) with SGD, F.cross_entropy and the
    reference Accuracy, eval_steps=2 (evaluations after steps 2 and 3, the last): losses, final
    parameters, dev records and the saved best model equal a plain SGD loop."""
    RunnerV3 = require(env, "RunnerV3", kind="class")
    X, y, X_dev, y_dev = _tiny_classification(426)
    W, b, lr = np.array([[0.3, -0.2, 0.1], [-0.4, 0.25, 0.05]]), np.array([0.1, 0.0, -0.1]), 0.5
    losses, evaluations, oracle = _plain_sgd_loop(W, b, X, y, X_dev, y_dev, lr, 3, eval_at=(2, 3))
    tiny = build(env, "nndl_grading.fixtures.ch04.TinyTraining", W, b, lr, X, y, X_dev, y_dev, 3)
    model = tiny.model
    runner = student_call(RunnerV3, model, tiny.optimizer, tiny.loss_fn, ref.Accuracy(is_logist=True),
                          what="RunnerV3(model, optimizer, loss_fn, metric)", stage="signature")
    what = "RunnerV3.train（1 个回合，批大小 3/3/3/1，eval_steps=2）"
    with tempfile.TemporaryDirectory() as folder:
        save_path = os.path.join(folder, "best.pdparams")
        _train(runner, tiny.train_loader, tiny.dev_loader, num_epochs=1, log_steps=1, eval_steps=2,
               save_path=save_path)
        saved = load_saved(save_path)
    steps = _pairs(_require_list(runner, "train_step_losses", 4, "4 个训练步"), "runner.train_step_losses")
    check_close([v for _, v in steps], losses, f"{what} 的 train_step_losses", "behaviour")
    check_close(model.weight, oracle.weight, f"{what} 结束时的权重（与普通的 SGD 循环相比）", "behaviour")
    check_close(model.bias, oracle.bias, f"{what} 结束时的偏置（与普通的 SGD 循环相比）", "behaviour")
    epochs = _require_list(runner, "train_epoch_losses", 1, "1 个回合")
    check_close(as_float(epochs[0], "runner.train_epoch_losses"), np.mean(losses),
                f"{what} 的 train_epoch_losses", "behaviour")
    scores = _require_list(runner, "dev_scores", 2, "在第 2 步和最后的第 3 步各评价一次")
    check_close([as_float(s, "runner.dev_scores") for s in scores], [e[1] for e in evaluations],
                f"{what} 的 dev_scores", "behaviour")
    dev = _pairs(_require_list(runner, "dev_losses", 2, "在第 2 步和最后的第 3 步各评价一次"), "runner.dev_losses")
    if [s for s, _ in dev] != [2, 3]:
        raise CheckFailure("behaviour", "runner.dev_losses", f"步数应为 [2, 3]，实际 {[s for s, _ in dev]}")
    check_close([v for _, v in dev], [e[2] for e in evaluations], f"{what} 的 dev_losses", "behaviour")
    best = max(range(len(evaluations)), key=lambda i: (evaluations[i][1], -i))   # first of the best scores
    if not isinstance(saved, dict) or "weight" not in saved:
        raise CheckFailure("behaviour", what, "应把验证集上最优模型的 state_dict 保存到 save_path")
    check_close(saved["weight"], evaluations[best][3], f"{what} 保存的最优模型", "behaviour")
    check_close(as_float(getattr(runner, "best_score", None), "runner.best_score"), evaluations[best][1],
                "runner.best_score", "behaviour")
