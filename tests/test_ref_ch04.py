"""Tests of the chapter-4 (前馈神经网络) reference components in ``nndl_ref``.

Every expected value comes from an independent source: a number printed in the book (its line in
``book/nndl_in_practice.txt`` is cited), float64 central finite differences, a Paddle built-in, Paddle
autograd through an equivalent ``nn.Layer`` network with copied weights, or scikit-learn's Iris table.
No expected value is copied from running the implementation. The book's Moon1000 is unseeded; where a
test needs it, the data are seeded here (``paddle.seed(102)``) and only relations (parity with autograd,
ratios, orders of magnitude of the book's printed norms) are asserted.
"""

import inspect
import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import paddle  # noqa: E402
import paddle.nn as nn  # noqa: E402
import paddle.nn.functional as F  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from paddle.nn.initializer import Constant  # noqa: E402

from helpers import numeric_grad, relative_error, t32, t64  # noqa: E402
import nndl_ref.ch02 as ch02  # noqa: E402
import nndl_ref.ch03 as ch03  # noqa: E402
import nndl_ref.ch04 as ch04  # noqa: E402
from nndl_ref.ch04 import (Accuracy, BatchGD, BinaryCrossEntropyLoss, IrisDataset, Linear,  # noqa: E402
                           Logistic, Model_MLP_L2, Model_MLP_L2_V2, Model_MLP_L2_V3, Model_MLP_L5,
                           Optimizer_GD, ReLU, RunnerV2_1, RunnerV2_2, RunnerV3, elu, hard_logistic,
                           hard_tanh, leaky_relu, print_grads, relu, softplus, swish, tanh)


# Book §4.4.2.2 / §4.4.3.2, lines 5724–5728 and 5806–5811: weight-gradient norms, first layer first.
BOOK_SIGMOID_NORMS = [1.9678535e-11, 1.1295275e-08, 2.3546302e-06, 0.00066168886, 0.2712782]
BOOK_LRELU_NORMS = [2.4733036e-16, 4.0215612e-13, 1.6351807e-09, 8.873676e-06, 0.071620286]


# ----------------------------------------------------------------------------------------- helpers
def np_sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


@pytest.fixture(scope="module")
def moons():
    """Moon1000 as in book §3.1.1/§4.2.1 (640/160/200, labels [N,1]); seeded here, the book is not."""
    paddle.seed(102)
    X, y = ch03.make_moons(n_samples=1000, shuffle=True, noise=0.5)
    y = y.reshape([-1, 1])
    return (X[:640], y[:640]), (X[640:800], y[640:800]), (X[800:], y[800:])


def copy_linear(op_linear, layer):
    """Copy an Op ``Linear``'s W [in,out] and b [1,out] into an ``nn.Linear`` (weight [in,out], bias [out])."""
    layer.weight.set_value(op_linear.params["W"].astype("float32"))
    layer.bias.set_value(op_linear.params["b"].reshape([-1]).astype("float32"))


# ------------------------------------------------------------------------------ §4.1.2 activations
@pytest.mark.parametrize("name, ours, reference", [
    ("tanh", tanh, F.tanh),
    ("relu", relu, F.relu),
    ("leaky_relu default 0.1", leaky_relu, lambda z: F.leaky_relu(z, negative_slope=0.1)),
    ("leaky_relu 0.01", lambda z: leaky_relu(z, negative_slope=0.01), F.leaky_relu),
    ("hard_logistic", hard_logistic, lambda z: F.hardsigmoid(z, slope=0.25, offset=0.5)),
    ("hard_tanh", hard_tanh, lambda z: F.hardtanh(z, min=-1.0, max=1.0)),
    ("elu", elu, lambda z: F.elu(z, alpha=1.0)),
    ("elu gamma 0.5", lambda z: elu(z, gamma=0.5), lambda z: F.elu(z, alpha=0.5)),
    ("softplus", softplus, F.softplus),
    ("swish", swish, F.swish),
])
def test_activation_matches_paddle_builtin(name, ours, reference):
    """§4.1.2 and 动手练习 4.1 against Paddle's built-ins on [−10, 10], at 0 and at ±100."""
    z = paddle.concat([paddle.linspace(-10, 10, 2001), t32([0.0, -100.0, 100.0, 1e-3, -1e-3])])
    out = ours(z)
    assert list(out.shape) == list(z.shape), name
    assert np.all(np.isfinite(out.numpy())), f"{name}: not finite"
    np.testing.assert_allclose(out.numpy(), reference(z).numpy(), rtol=1e-5, atol=1e-6, err_msg=name)


def test_activation_shapes_and_landmarks():
    """Values the formulas fix exactly: tanh is odd, relu/leaky at 0, hard-logistic's clip points."""
    z = t32([[-4.0, -2.0, 0.0], [2.0, 4.0, 0.5]])
    np.testing.assert_allclose(tanh(z).numpy(), -tanh(-z).numpy(), atol=1e-7)
    np.testing.assert_allclose(tanh(z).numpy(), np.tanh(z.numpy()), atol=1e-6)
    np.testing.assert_allclose(leaky_relu(t32([-2.0, 0.0, 3.0])).numpy(), [-0.2, 0.0, 3.0], atol=1e-7)
    np.testing.assert_allclose(hard_logistic(t32([-2.0, 0.0, 2.0, 5.0])).numpy(), [0.0, 0.5, 1.0, 1.0])


# -------------------------------------------------------------------------------- §4.2.2.1 Linear
def test_linear_forward_reproduces_book_net_input():
    """Book §4.1.1 lines 4457–4475: X [2,5], w [5,1], b [1,1] printed with z = [[3.47830486],[3.04096484]]."""
    X = t32([[0.68608588, 0.98838335, 0.90042728, 0.03543352, 0.94395220],
             [0.88178754, 0.63330865, 0.17612664, 0.90020746, 0.64029330]])
    w = t32([[0.97993565], [0.67064512], [0.39250144], [0.18568753], [0.88017946]])
    b = t32([[0.95228434]])
    layer = Linear(5, 1, name="fc")
    layer.params["W"], layer.params["b"] = w, b
    z = layer(X)
    assert list(z.shape) == [2, 1]
    np.testing.assert_allclose(z.numpy(), [[3.47830486], [3.04096484]], atol=1e-4)


def test_linear_init_follows_book_signature():
    """§4.2.2.1: name required, W = weight_init(shape=[in,out]) N(0,1), b = bias_init(shape=[1,out]) zeros."""
    params = list(inspect.signature(Linear.__init__).parameters)
    assert params[:4] == ["self", "input_size", "output_size", "name"]
    paddle.seed(7)
    expected_W = paddle.standard_normal(shape=[3, 4]).numpy()
    paddle.seed(7)
    layer = Linear(3, 4, name="fc7")
    assert layer.name == "fc7" and layer.grads == {}
    np.testing.assert_array_equal(layer.params["W"].numpy(), expected_W)
    np.testing.assert_array_equal(layer.params["b"].numpy(), np.zeros([1, 4], dtype=np.float32))
    seen = []
    Linear(2, 5, name="x", weight_init=lambda shape: seen.append(("W", shape)) or paddle.ones(shape),
           bias_init=lambda shape: seen.append(("b", shape)) or paddle.ones(shape))
    assert seen == [("W", [2, 5]), ("b", [1, 5])]


def _linear_case():
    rng = np.random.default_rng(41)
    return rng.normal(size=(4, 3)), rng.normal(size=(3, 2)), rng.normal(size=(1, 2)), rng.normal(size=(4, 2))


def test_linear_backward_matches_finite_differences():
    """§4.2.4.4 eqs. 4.18, 4.21, 4.22: vector-Jacobian products vs float64 central differences."""
    X, W, b, G = _linear_case()
    layer = Linear(3, 2, name="fc")
    layer.params["W"], layer.params["b"] = t64(W), t64(b)
    out = layer(t64(X))
    dX = layer.backward(t64(G))

    def f(X_, W_, b_):
        return float(np.sum(G * (X_ @ W_ + b_)))

    np.testing.assert_allclose(out.numpy(), X @ W + b, rtol=1e-12)
    np.testing.assert_allclose(dX.numpy(), numeric_grad(lambda a: f(a, W, b), X.copy()), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(layer.grads["W"].numpy(), numeric_grad(lambda a: f(X, a, b), W.copy()),
                               rtol=1e-6, atol=1e-9)
    db = numeric_grad(lambda a: f(X, W, a), b.copy())
    assert layer.grads["b"].size == 2
    np.testing.assert_allclose(layer.grads["b"].numpy().reshape(1, 2), db, rtol=1e-6, atol=1e-9)


def test_linear_grads_b_keeps_param_shape():
    """Erratum: grads['b'] has params['b']'s shape [1, M_out] (the book's sum(axis=0) gives [M_out])."""
    layer = Linear(3, 2, name="fc")
    layer(paddle.ones([4, 3]))
    layer.backward(paddle.ones([4, 2]))
    assert list(layer.grads["b"].shape) == list(layer.params["b"].shape) == [1, 2]
    assert list(layer.grads["W"].shape) == [3, 2]


def test_linear_backward_matches_autograd_of_nn_linear():
    """§4.2.4.4 against Paddle autograd through nn.Linear with the same weights."""
    X, W, b, G = (a.astype(np.float32) for a in _linear_case())
    layer = Linear(3, 2, name="fc")
    layer.params["W"], layer.params["b"] = t32(W), t32(b)
    layer(t32(X))
    dX = layer.backward(t32(G))

    reference = nn.Linear(3, 2)
    copy_linear(layer, reference)
    X_ref = paddle.to_tensor(X, stop_gradient=False)
    paddle.sum(reference(X_ref) * t32(G)).backward()
    np.testing.assert_allclose(dX.numpy(), X_ref.grad.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(layer.grads["W"].numpy(), reference.weight.grad.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(layer.grads["b"].numpy().reshape(-1), reference.bias.grad.numpy(),
                               rtol=1e-5, atol=1e-6)


# ------------------------------------------------------------------------- §4.2.2.2 Logistic, ReLU
def test_logistic_forward_backward():
    """§4.2.4.3 eq. 4.15 vs float64 differences and F.sigmoid's autograd; params is None (erratum)."""
    rng = np.random.default_rng(3)
    Z, G = rng.normal(scale=3, size=(5, 4)), rng.normal(size=(5, 4))
    op = Logistic()
    assert op.params is None
    A = op(t64(Z))
    np.testing.assert_allclose(A.numpy(), np_sigmoid(Z), rtol=1e-12)
    dZ = op.backward(t64(G))
    np.testing.assert_allclose(dZ.numpy(), numeric_grad(lambda z: float(np.sum(G * np_sigmoid(z))), Z.copy()),
                               rtol=1e-6, atol=1e-10)

    z_ref = paddle.to_tensor(Z.astype(np.float32), stop_gradient=False)
    paddle.sum(F.sigmoid(z_ref) * t32(G)).backward()
    op32 = Logistic()
    op32(t32(Z))
    np.testing.assert_allclose(op32.backward(t32(G)).numpy(), z_ref.grad.numpy(), rtol=1e-5, atol=1e-7)


def test_relu_op_forward_backward():
    """动手练习 4.2: ReLU forward = F.relu, backward vs differences (away from 0) and F.relu's autograd."""
    rng = np.random.default_rng(5)
    Z = rng.normal(size=(6, 3))
    Z[np.abs(Z) < 1e-3] = 0.5
    Z[0, 0] = 0.0                                  # the kink: derivative taken as 0, as F.relu
    G = rng.normal(size=(6, 3))
    op = ReLU()
    assert op.params is None
    np.testing.assert_array_equal(op(t64(Z)).numpy(), np.maximum(Z, 0))
    dZ = op.backward(t64(G)).numpy()
    smooth = np.ones_like(Z, dtype=bool)
    smooth[0, 0] = False
    fd = numeric_grad(lambda z: float(np.sum(G * np.maximum(z, 0))), Z.copy(), step=1e-7)
    np.testing.assert_allclose(dZ[smooth], fd[smooth], rtol=1e-6, atol=1e-9)
    assert dZ[0, 0] == 0.0

    z_ref = paddle.to_tensor(Z.astype(np.float32), stop_gradient=False)
    paddle.sum(F.relu(z_ref) * t32(G)).backward()
    op32 = ReLU()
    np.testing.assert_array_equal(op32(t32(Z)).numpy(), F.relu(t32(Z)).numpy())
    np.testing.assert_allclose(op32.backward(t32(G)).numpy(), z_ref.grad.numpy(), rtol=1e-6, atol=0)
    with pytest.raises(TypeError):      # the book's chapter-7 answer (line 11384): float × bool fails on 3.x
        t32(Z) * (t32(Z) > 0)


# -------------------------------------------------------------------- §4.2.3 BinaryCrossEntropyLoss
class _RecordingModel:
    def __init__(self):
        self.received = None

    def backward(self, grads):
        self.received = grads


def test_bce_forward_book_value_and_builtin():
    """BCE(0.5, 1) = ln 2 = 0.69314718 (book line 3258); random case = F.binary_cross_entropy."""
    loss_fn = BinaryCrossEntropyLoss(_RecordingModel())
    loss = loss_fn(paddle.full([3, 1], 0.5), paddle.ones([3, 1]))
    assert list(loss.shape) == [1]
    np.testing.assert_allclose(loss.numpy(), [0.69314718], atol=1e-6)
    rng = np.random.default_rng(11)
    p = rng.uniform(0.05, 0.95, size=(7, 1)).astype(np.float32)
    y = (rng.uniform(size=(7, 1)) > 0.5).astype(np.float32)
    np.testing.assert_allclose(loss_fn(t32(p), t32(y)).item(), F.binary_cross_entropy(t32(p), t32(y)).item(),
                               rtol=1e-6)


@pytest.mark.parametrize("label_shape, label_dtype", [((7, 1), "float32"), ((7,), "float32"),
                                                      ((7, 1), "int64"), ((7,), "int32")])
def test_bce_backward_feeds_model(label_shape, label_dtype):
    """§4.2.4.2 eq. 4.10: ∂R/∂ŷ vs float64 differences and F.binary_cross_entropy's autograd; it is passed
    to model.backward. Labels [N] or [N,1], float or int (the book needs float [N,1])."""
    rng = np.random.default_rng(12)
    p = rng.uniform(0.05, 0.95, size=(7, 1))
    y = (rng.uniform(size=(7, 1)) > 0.5).astype(np.float64)
    model = _RecordingModel()
    loss_fn = BinaryCrossEntropyLoss(model)
    loss_fn(t64(p), paddle.to_tensor(y.reshape(label_shape).astype(label_dtype)))
    returned = loss_fn.backward()
    assert model.received is not None, "backward() must call model.backward(dL/dŷ)"
    assert list(model.received.shape) == [7, 1]
    fd = numeric_grad(lambda q: float(-np.mean(y * np.log(q) + (1 - y) * np.log(1 - q))), p.copy())
    np.testing.assert_allclose(model.received.numpy(), fd, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(returned.numpy(), fd, rtol=1e-6, atol=1e-9)

    p_ref = paddle.to_tensor(p.astype(np.float32), stop_gradient=False)
    F.binary_cross_entropy(p_ref, t32(y)).backward()
    loss32 = BinaryCrossEntropyLoss(_RecordingModel())
    loss32(t32(p), t32(y))
    np.testing.assert_allclose(loss32.backward().numpy(), p_ref.grad.numpy(), rtol=1e-5, atol=1e-7)


def test_bce_is_the_chapter4_class():
    """Chapter 4's loss takes the model; chapter 3's takes nothing and has no backward into a model."""
    assert ch04.BinaryCrossEntropyLoss is not ch03.BinaryCrossEntropyLoss
    assert "model" in inspect.signature(ch04.BinaryCrossEntropyLoss.__init__).parameters
    assert "model" not in inspect.signature(ch03.BinaryCrossEntropyLoss.__init__).parameters
    assert ch04.Linear is not ch02.Linear
    assert ch04.Optimizer_GD is not ch03.Optimizer_GD


# ----------------------------------------------------------------------------- §4.2.4.5 Model_MLP_L2
def _mlp_case():
    rng = np.random.default_rng(21)
    params = {"W1": rng.normal(size=(3, 4)), "b1": rng.normal(scale=0.5, size=(1, 4)),
              "W2": rng.normal(size=(4, 1)), "b2": rng.normal(scale=0.5, size=(1, 1))}
    X = rng.normal(size=(6, 3))
    y = np.array([[1.0], [0.0], [1.0], [1.0], [0.0], [0.0]])
    return params, X, y


def _set_mlp(model, params, to_tensor):
    model.fc1.params["W"], model.fc1.params["b"] = to_tensor(params["W1"]), to_tensor(params["b1"])
    model.fc2.params["W"], model.fc2.params["b"] = to_tensor(params["W2"]), to_tensor(params["b2"])


def _np_mlp_risk(params, X, y):
    p = np_sigmoid(np_sigmoid(X @ params["W1"] + params["b1"]) @ params["W2"] + params["b2"])
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def test_mlp_l2_whole_backward_matches_finite_differences():
    """§4.2.4.5: loss_fn.backward() through Model_MLP_L2 fills every layer's grads = float64 differences;
    the model's backward also returns ∂R/∂X (erratum: the book's returns nothing)."""
    params, X, y = _mlp_case()
    model = Model_MLP_L2(3, 4, 1)
    _set_mlp(model, params, t64)
    loss_fn = BinaryCrossEntropyLoss(model)
    loss = loss_fn(model(t64(X)), t64(y))
    np.testing.assert_allclose(loss.item(), _np_mlp_risk(params, X, y), rtol=1e-12)
    loss_fn.backward()
    grads = {"W1": model.fc1.grads["W"], "b1": model.fc1.grads["b"],
             "W2": model.fc2.grads["W"], "b2": model.fc2.grads["b"]}
    for key, value in params.items():
        def risk(v, key=key):
            return _np_mlp_risk({**params, key: v}, X, y)
        expected = numeric_grad(risk, value.copy())
        assert grads[key].size == expected.size, key
        assert relative_error(grads[key].numpy().reshape(expected.shape), expected) < 1e-7, key
    dX = model.backward(loss_fn.backward())
    assert dX is not None and list(dX.shape) == [6, 3]
    assert relative_error(dX.numpy(), numeric_grad(lambda x: _np_mlp_risk(params, x, y), X.copy())) < 1e-7


def test_mlp_l2_backward_matches_autograd_of_v2():
    """§4.2.4.5 vs §4.3.1: hand-written gradients = autograd of Model_MLP_L2_V2 with copied weights."""
    params, X, y = _mlp_case()
    params32 = {k: v.astype(np.float32) for k, v in params.items()}
    model = Model_MLP_L2(3, 4, 1)
    _set_mlp(model, params32, t32)
    loss_fn = BinaryCrossEntropyLoss(model)
    loss = loss_fn(model(t32(X)), t32(y))
    loss_fn.backward()

    twin = Model_MLP_L2_V2(3, 4, 1)
    copy_linear(model.fc1, twin.fc1)
    copy_linear(model.fc2, twin.fc2)
    twin_loss = F.binary_cross_entropy(twin(t32(X)), t32(y))
    twin_loss.backward()
    np.testing.assert_allclose(loss.item(), twin_loss.item(), rtol=1e-6)
    for op, layer in ((model.fc1, twin.fc1), (model.fc2, twin.fc2)):
        np.testing.assert_allclose(op.grads["W"].numpy(), layer.weight.grad.numpy(), rtol=1e-4, atol=1e-7)
        np.testing.assert_allclose(op.grads["b"].numpy().reshape(-1), layer.bias.grad.numpy(),
                                   rtol=1e-4, atol=1e-7)


def test_mlp_l2_structure():
    """§4.2.4.5: layers = [fc1, act_fn1, fc2, act_fn2], named fc1/fc2; forward gives probabilities."""
    model = Model_MLP_L2(input_size=5, hidden_size=10, output_size=1)
    assert [type(layer) for layer in model.layers] == [Linear, Logistic, Linear, Logistic]
    assert [model.fc1.name, model.fc2.name] == ["fc1", "fc2"]
    out = model(paddle.rand([4, 5]))
    assert list(out.shape) == [4, 1] and float(out.min()) > 0 and float(out.max()) < 1


# --------------------------------------------------------------------------- §4.2.4.6 Optimizer_GD
def test_layerwise_optimizer_step():
    """§4.2.4.6: every params-dict layer gets θ − lr·grad; activations (params None) are skipped."""
    params, X, y = _mlp_case()
    model = Model_MLP_L2(3, 4, 1)
    _set_mlp(model, params, t64)
    loss_fn = BinaryCrossEntropyLoss(model)
    loss_fn(model(t64(X)), t64(y))
    loss_fn.backward()
    before = {(layer.name, k): v.numpy().copy() for layer in (model.fc1, model.fc2) for k, v in layer.params.items()}
    grads = {(layer.name, k): v.numpy().copy() for layer in (model.fc1, model.fc2) for k, v in layer.grads.items()}
    optimizer = Optimizer_GD(0.2, model)
    assert isinstance(optimizer, ch03.Optimizer) and BatchGD is Optimizer_GD
    optimizer.step()
    for layer in (model.fc1, model.fc2):
        for key in ("W", "b"):
            old = before[(layer.name, key)]
            expected = old - 0.2 * grads[(layer.name, key)].reshape(old.shape)
            np.testing.assert_allclose(layer.params[key].numpy(), expected, rtol=1e-12)
            assert list(layer.params[key].shape) == list(old.shape)
    model.fc2.grads["b"] = paddle.ones([1], dtype="float64")        # the book's [M_out] shape: fine
    optimizer.step()
    model.fc2.grads["b"] = paddle.ones([3, 1], dtype="float64")     # would broadcast b to [3,1]
    with pytest.raises(ValueError):
        optimizer.step()


# ------------------------------------------------------------ §4.2.5–§4.3.4 runners and parity run
@pytest.mark.slow
def test_op_mlp_and_v2_train_identically(moons, tmp_path):
    """§4.2.6 vs §4.3.3 on (seeded) Moon1000, the book's setup (hidden 5, lr 0.2, 1000 epochs): the
    same paddle.seed draws the same weights for Model_MLP_L2 (standard_normal) and Model_MLP_L2_V2
    (Normal(0,1) initializer), and hand-written backprop + Optimizer_GD follow autograd + SGD epoch by
    epoch (losses, dev scores, best model, test result)."""
    train_set, dev_set, test_set = moons
    paddle.seed(123)
    model = Model_MLP_L2(2, 5, 1)
    paddle.seed(123)
    twin = Model_MLP_L2_V2(2, 5, 1)
    np.testing.assert_array_equal(model.fc1.params["W"].numpy(), twin.fc1.weight.numpy())
    np.testing.assert_array_equal(model.fc2.params["W"].numpy(), twin.fc2.weight.numpy())

    runner = RunnerV2_1(model, Optimizer_GD(0.2, model), ch03.accuracy, BinaryCrossEntropyLoss(model))
    runner.train(train_set, dev_set, num_epochs=1000, log_epochs=0, save_dir=str(tmp_path / "model"))
    twin_runner = RunnerV2_2(twin, paddle.optimizer.SGD(learning_rate=0.2, parameters=twin.parameters()),
                             ch03.accuracy, F.binary_cross_entropy)
    twin_runner.train(train_set, dev_set, num_epochs=1000, log_epochs=0,
                      save_path=str(tmp_path / "twin.pdparams"))

    assert len(runner.train_loss) == len(twin_runner.train_loss) == 1000
    np.testing.assert_allclose(runner.train_loss, twin_runner.train_loss, rtol=1e-5)
    np.testing.assert_allclose(runner.dev_loss, twin_runner.dev_loss, rtol=1e-5)
    assert runner.dev_scores == twin_runner.dev_scores
    assert runner.train_loss[-1] < runner.train_loss[0]

    runner.load_model(str(tmp_path / "model"))
    twin_runner.load_model(str(tmp_path / "twin.pdparams"))
    score, loss = runner.evaluate(test_set)
    twin_score, twin_loss = twin_runner.evaluate(test_set)
    assert score == twin_score
    np.testing.assert_allclose(loss, twin_loss, rtol=1e-5)
    assert score > 0.75          # the book's unseeded run: 0.8150 (line 5297) / 0.8200 (line 5553)


def test_runner_v2_1_saves_one_file_per_layer_and_reloads_best(moons, tmp_path):
    """§4.2.5: <save_dir>/fc1.pdparams and fc2.pdparams; load_model restores the best-dev parameters."""
    train_set, dev_set, _ = moons
    paddle.seed(5)
    model = Model_MLP_L2(2, 5, 1)
    runner = RunnerV2_1(model, Optimizer_GD(0.2, model), ch03.accuracy, BinaryCrossEntropyLoss(model))
    save_dir = tmp_path / "nested" / "model"
    runner.train(train_set, dev_set, num_epochs=60, log_epochs=0, save_dir=str(save_dir))
    assert sorted(p.name for p in save_dir.iterdir()) == ["fc1.pdparams", "fc2.pdparams"]
    best = max(runner.dev_scores)
    runner.load_model(str(save_dir))
    score, _ = runner.evaluate(dev_set)
    assert score == best
    assert len(runner.train_loss) == 60 and len(runner.train_scores) == 60


def test_runner_v2_2_custom_log_gets_runner_and_train_mode(moons, tmp_path):
    """§4.3.2: custom_print_log(runner) after backward; erratum: train mode restored each epoch; state_dict
    round trip."""
    train_set, dev_set, _ = moons
    paddle.seed(9)
    model = Model_MLP_L2_V2(2, 5, 1)
    runner = RunnerV2_2(model, paddle.optimizer.SGD(learning_rate=0.2, parameters=model.parameters()),
                        ch03.accuracy, F.binary_cross_entropy)
    seen = []

    def log(run):
        seen.append((run is runner, run.model.training, run.model.fc1.weight.grad is not None))

    path = tmp_path / "best.pdparams"
    runner.train(train_set, dev_set, num_epochs=5, log_epochs=None, save_path=str(path), custom_print_log=log)
    assert seen == [(True, True, True)] * 5
    assert path.exists()
    saved = paddle.load(str(path))
    for p in model.parameters():
        p.set_value(paddle.zeros_like(p))
    runner.load_model(str(path))
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), saved[key].numpy())
    assert runner.predict(train_set[0]).stop_gradient


# ------------------------------------------------------------ §4.4 Model_MLP_L5 and gradient norms
def test_mlp_l5_structure_and_init():
    """§4.4.2.1: 2→3→3→3→3→1, weights N(0, 0.01²), biases 1 (or b_init); bad act raises."""
    paddle.seed(0)
    model = Model_MLP_L5(input_size=2, output_size=1, act="sigmoid")
    shapes = [list(fc.weight.shape) for fc in (model.fc1, model.fc2, model.fc3, model.fc4, model.fc5)]
    assert shapes == [[2, 3], [3, 3], [3, 3], [3, 3], [3, 1]]
    weights = np.concatenate([fc.weight.numpy().ravel() for fc in (model.fc2, model.fc3, model.fc4)])
    assert 0.002 < weights.std() < 0.03 and np.abs(weights).max() < 0.06
    for fc in (model.fc1, model.fc2, model.fc3, model.fc4, model.fc5):
        np.testing.assert_array_equal(fc.bias.numpy(), np.ones(fc.bias.shape, dtype=np.float32))
    dead = Model_MLP_L5(2, 1, act="relu", b_init=Constant(value=-8.0))
    np.testing.assert_array_equal(dead.fc3.bias.numpy(), -8 * np.ones(3, dtype=np.float32))
    out = model(paddle.rand([4, 2]))
    assert list(out.shape) == [4, 1] and 0 < float(out.min()) and float(out.max()) < 1
    with pytest.raises(ValueError):
        Model_MLP_L5(2, 1, act="tanh")


def _one_epoch_grad_norms(moons, act, bias):
    """Book §4.4.2.2 / §4.4.3: one epoch of RunnerV2_2 (SGD lr 0.01, F.binary_cross_entropy) with
    print_grads as custom_print_log; paddle.seed(102) before the model as the book. A fresh optimizer
    is built for every model (the book reuses the previous model's optimizer in §4.4.3)."""
    train_set, dev_set, _ = moons
    paddle.seed(102)
    model = Model_MLP_L5(input_size=2, output_size=1, act=act, b_init=Constant(value=bias))
    runner = RunnerV2_2(model, paddle.optimizer.SGD(learning_rate=0.01, parameters=model.parameters()),
                        ch03.accuracy, F.binary_cross_entropy)
    recorded = []
    runner.train(train_set, dev_set, num_epochs=1, log_epochs=None, save_path=None,
                 custom_print_log=lambda run: recorded.append(print_grads(run)))
    assert len(recorded) == 1
    return list(recorded[0].values())


def test_vanishing_gradient_with_sigmoid(moons):
    """§4.4.2.2 (lines 5724–5728): sigmoid norms shrink ≥ 100× per layer toward the input, and each is
    within 10× of the book's printed norm (the book's Moon1000 is unseeded, so only the order of
    magnitude can be compared)."""
    norms = _one_epoch_grad_norms(moons, "sigmoid", 1.0)
    assert len(norms) == 5
    ratios = [norms[i + 1] / norms[i] for i in range(4)]
    assert all(r >= 100 for r in ratios), ratios
    for ours, book in zip(norms, BOOK_SIGMOID_NORMS):
        assert book / 10 < ours < book * 10, (ours, book)


def test_dead_relu_gives_exactly_zero(moons):
    """§4.4.3.1 (lines 5770–5777): ReLU with biases −8 gives all five norms exactly 0.0."""
    assert _one_epoch_grad_norms(moons, "relu", -8.0) == [0.0] * 5


def test_leaky_relu_revives_gradients(moons):
    """§4.4.3.2 (lines 5806–5811): Leaky ReLU (slope 0.01) with biases −8: every norm > 0, shrinking
    toward the input, each within 10× of the book's printed norm."""
    norms = _one_epoch_grad_norms(moons, "lrelu", -8.0)
    assert norms[0] > 0
    assert all(norms[i] < norms[i + 1] for i in range(4))
    for ours, book in zip(norms, BOOK_LRELU_NORMS):
        assert book / 10 < ours < book * 10, (ours, book)


def test_relu_keeps_gradients_alive(moons):
    """§4.4.2.3 (fig. 4.10): with ReLU and biases 1, every layer gets a clearly non-zero gradient and
    the first layer's is far larger than with sigmoid."""
    relu_norms = _one_epoch_grad_norms(moons, "relu", 1.0)
    sigmoid_norms = _one_epoch_grad_norms(moons, "sigmoid", 1.0)
    assert min(relu_norms) > 1e-9
    assert relu_norms[0] > 100 * sigmoid_norms[0]


def test_print_grads_values_and_arguments(capsys):
    """§4.4.2.2: the L2 norm of each linear layer's WEIGHT gradient = numpy's norm; accepts the runner
    (as the runner passes itself) or the model; prints a header and one line per layer."""
    paddle.seed(1)
    model = Model_MLP_L5(2, 1, act="sigmoid")
    F.binary_cross_entropy(model(paddle.rand([8, 2])), paddle.ones([8, 1])).backward()
    expected = [np.linalg.norm(fc.weight.grad.numpy().astype(np.float64))
                for fc in (model.fc1, model.fc2, model.fc3, model.fc4, model.fc5)]

    class _Runner:
        pass

    run = _Runner()
    run.model = model
    from_runner = print_grads(run)
    from_model = print_grads(model, verbose=False)
    assert from_runner == from_model
    np.testing.assert_allclose(list(from_runner.values()), expected, rtol=1e-5)
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].startswith("The gradient of the Layers") and len(lines) == 6


# ---------------------------------------------------------------------------- §4.5 Iris, metric, V3
def _sklearn_iris_scaled():
    from sklearn.datasets import load_iris
    iris = load_iris()
    X = iris.data.astype(np.float64)
    return (X - X.min(axis=0)) / (X.max(axis=0) - X.min(axis=0)), iris.target


def test_iris_dataset_splits_disjoint_and_complete():
    """§4.5.2.1 (line 5945 prints 120): 120/15/15; erratum: disjoint, together all 150 rows, rows equal
    scikit-learn's min–max scaled table, labels int64; independent of the global Paddle seed."""
    X_ref, y_ref = _sklearn_iris_scaled()
    paddle.seed(12)
    splits = {mode: IrisDataset(mode=mode) for mode in ("train", "dev", "test")}
    assert [len(splits[m]) for m in ("train", "dev", "test")] == [120, 15, 15]
    rows = [set(splits[m].indices.tolist()) for m in ("train", "dev", "test")]
    assert not (rows[0] & rows[1]) and not (rows[0] & rows[2]) and not (rows[1] & rows[2])
    assert set.union(*rows) == set(range(150))
    features = np.concatenate([splits[m].X.numpy() for m in ("train", "dev", "test")])
    labels = np.concatenate([splits[m].y.numpy() for m in ("train", "dev", "test")])
    order = np.concatenate([splits[m].indices for m in ("train", "dev", "test")])
    np.testing.assert_allclose(features, X_ref[order], atol=1e-6)
    np.testing.assert_array_equal(labels, y_ref[order])
    # No duplicated flower sneaks across the split through identical rows either.
    train_rows = {tuple(r) for r in np.round(splits["train"].X.numpy(), 5)}
    assert sum(tuple(r) in train_rows for r in np.round(splits["test"].X.numpy(), 5)) <= 1
    x0, y0 = splits["train"][0]
    assert list(x0.shape) == [4] and y0.dtype == paddle.int64 and list(y0.shape) == []
    paddle.seed(999)
    np.testing.assert_array_equal(IrisDataset(mode="test").indices, splits["test"].indices)


def test_iris_dataloader_batches_and_prediction_demo():
    """§4.5.2.2 / §4.5.7: batches ([16,4], [16]); the prediction demo reads label[0] (the book's
    label[0][0] raises on Paddle 3.x, where batch labels are [B])."""
    loader = paddle.io.DataLoader(IrisDataset(mode="test"), batch_size=16)
    X, label = next(loader())
    assert list(X.shape) == [15, 4] and list(label.shape) == [15]
    assert int(label[0].item()) in (0, 1, 2)
    train_loader = paddle.io.DataLoader(IrisDataset(mode="train"), batch_size=16, shuffle=True)
    assert len(train_loader) == 8


def test_accuracy_streaming_equals_one_shot():
    """§4.5.4.1: batches of 16 (last one partial) accumulate to numpy's one-shot accuracy; reset; name."""
    rng = np.random.default_rng(8)
    logits = rng.normal(size=(50, 3)).astype(np.float32)
    labels = rng.integers(0, 3, size=50)
    expected = np.mean(logits.argmax(axis=1) == labels)
    for shape, dtype in (((50,), "int64"), ((50, 1), "int32"), ((50, 1), "int64")):
        metric = Accuracy(is_logist=True)
        assert metric.accumulate() == 0
        for start in range(0, 50, 16):
            metric.update(t32(logits[start:start + 16]),
                          paddle.to_tensor(labels.reshape(shape)[start:start + 16].astype(dtype)))
        assert metric.accumulate() == pytest.approx(expected)
        metric.reset()
        assert metric.accumulate() == 0 and metric.num_count == 0
    assert metric.name() == "Accuracy"
    assert isinstance(metric, paddle.metric.Metric)


def test_accuracy_binary_thresholds():
    """§4.5.4.1: [N,1] outputs: logits ≥ 0 (is_logist) or probabilities ≥ 0.5; the book's §3.1.5 demo
    preds [0,1,1,0] vs labels [1,1,0,0] gives 0.5 (line 3425)."""
    metric = Accuracy(is_logist=False)
    metric.update(t32([[0.0], [1.0], [1.0], [0.0]]), t32([[1.0], [1.0], [0.0], [0.0]]))
    assert metric.accumulate() == pytest.approx(0.5)
    rng = np.random.default_rng(2)
    logits = rng.normal(size=(30, 1)).astype(np.float32)
    labels = (rng.uniform(size=30) > 0.5).astype(np.int64)
    by_logit = Accuracy(is_logist=True)
    by_logit.update(t32(logits), paddle.to_tensor(labels))
    by_prob = Accuracy(is_logist=False)
    by_prob.update(F.sigmoid(t32(logits)), paddle.to_tensor(labels.astype(np.float32)).reshape([30, 1]))
    expected = np.mean((logits[:, 0] >= 0).astype(np.int64) == labels)
    assert by_logit.accumulate() == pytest.approx(expected)
    assert by_prob.accumulate() == pytest.approx(expected)


def _iris_loaders(batch_size=16):
    train = paddle.io.DataLoader(IrisDataset("train"), batch_size=batch_size, shuffle=True)
    dev = paddle.io.DataLoader(IrisDataset("dev"), batch_size=batch_size)
    test = paddle.io.DataLoader(IrisDataset("test"), batch_size=batch_size)
    return train, dev, test


def test_runner_v3_bookkeeping_and_save_load(tmp_path):
    """§4.5.4.2: step/epoch losses, evaluation at steps s ≠ 0 with s % eval_steps == 0 and at the last
    step, best-model save (strict improvement) and state_dict load round trip."""
    train_loader, dev_loader, _ = _iris_loaders()
    paddle.seed(12)
    model = Model_MLP_L2_V3(input_size=4, output_size=3, hidden_size=6)
    runner = RunnerV3(model, paddle.optimizer.SGD(learning_rate=0.2, parameters=model.parameters()),
                      F.cross_entropy, Accuracy(is_logist=True))
    path = tmp_path / "best_model.pdparams"
    modes = []
    runner.train(train_loader, dev_loader, num_epochs=10, log_steps=0, eval_steps=15, save_path=str(path),
                 custom_print_log=lambda run: modes.append(run.model.training))
    assert [s for s, _ in runner.train_step_losses] == list(range(80))
    assert all(modes) and len(modes) == 80
    assert [s for s, _ in runner.dev_losses] == [15, 30, 45, 60, 75, 79]
    assert len(runner.dev_scores) == 6 and runner.best_score == max(runner.dev_scores)
    assert len(runner.train_epoch_losses) == 10
    assert all(isinstance(v, float) for v in runner.train_epoch_losses)
    first_epoch = [v for s, v in runner.train_step_losses if s < 8]
    assert runner.train_epoch_losses[0] == pytest.approx(np.mean(first_epoch), rel=1e-6)
    assert path.exists()

    saved = paddle.load(str(path))
    fresh = Model_MLP_L2_V3(input_size=4, output_size=3, hidden_size=6)
    other = RunnerV3(fresh, None, F.cross_entropy, Accuracy())
    other.load_model(str(path))
    for key, value in fresh.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), saved[key].numpy())
    score, loss = other.evaluate(dev_loader)
    assert score == pytest.approx(runner.best_score)
    assert other.dev_losses == [(-1, loss)]
    with pytest.raises(RuntimeError):
        RunnerV3(model, None, F.cross_entropy, Accuracy()).train(train_loader, None, num_epochs=1, eval_steps=5)


class _ArrayDataset(paddle.io.Dataset):
    def __init__(self, X, y):
        super().__init__()
        self.X, self.y = t32(X), paddle.to_tensor(y)

    def __getitem__(self, idx):
        return self.X[idx], self.y[idx]

    def __len__(self):
        return len(self.y)


def test_runner_v3_training_matches_a_plain_sgd_loop():
    """§4.5.4.2 core: RunnerV3.train = forward, loss, backward, step, clear_grad per batch (last batch
    partial); same final weights and step losses as a hand-written autograd loop on a copied model."""
    rng = np.random.default_rng(30)
    X, y = rng.normal(size=(20, 4)), rng.integers(0, 3, size=20).astype(np.int64)
    loader = paddle.io.DataLoader(_ArrayDataset(X, y), batch_size=8, shuffle=False)
    paddle.seed(3)
    model = Model_MLP_L2_V3(input_size=4, output_size=3, hidden_size=6)
    twin = Model_MLP_L2_V3(input_size=4, output_size=3, hidden_size=6)
    twin.set_state_dict(model.state_dict())
    runner = RunnerV3(model, paddle.optimizer.SGD(learning_rate=0.5, parameters=model.parameters()),
                      F.cross_entropy, Accuracy())
    runner.train(loader, num_epochs=3, log_steps=0)
    optimizer = paddle.optimizer.SGD(learning_rate=0.5, parameters=twin.parameters())
    losses = []
    for _ in range(3):
        for start in range(0, 20, 8):
            loss = F.cross_entropy(twin(t32(X[start:start + 8])), paddle.to_tensor(y[start:start + 8]))
            losses.append(loss.item())
            loss.backward()
            optimizer.step()
            optimizer.clear_grad()
    np.testing.assert_allclose([v for _, v in runner.train_step_losses], losses, rtol=1e-5)
    for key, value in twin.state_dict().items():
        np.testing.assert_allclose(model.state_dict()[key].numpy(), value.numpy(), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(runner.train_epoch_losses[0], np.mean(losses[:3]), rtol=1e-6)


def test_runner_v3_saves_only_on_strict_improvement(tmp_path):
    """§4.5.4.2 (line 6178 ``dev_score > self.best_score``): with dev scores 0.5, 0.5, 0.7, 0.7, 0.6 the
    model is saved after the 1st and 3rd evaluation only."""
    scores = iter([0.5, 0.5, 0.7, 0.7, 0.6])

    class _ScriptedMetric(Accuracy):
        def accumulate(self):
            return next(scores)

    class _RecordingRunner(RunnerV3):
        saved_at = []

        def save_model(self, save_path):
            self.saved_at.append(len(self.dev_scores))

    rng = np.random.default_rng(31)
    loader = paddle.io.DataLoader(_ArrayDataset(rng.normal(size=(12, 4)), rng.integers(0, 3, size=12)),
                                  batch_size=4)
    model = Model_MLP_L2_V3(input_size=4, output_size=3, hidden_size=6)
    runner = _RecordingRunner(model, paddle.optimizer.SGD(learning_rate=0.1, parameters=model.parameters()),
                              F.cross_entropy, _ScriptedMetric())
    runner.train(loader, loader, num_epochs=5, log_steps=0, eval_steps=3, save_path=str(tmp_path / "m"))
    assert [s for s, _ in runner.dev_losses] == [3, 6, 9, 12, 14]
    assert runner.saved_at == [1, 3] and runner.best_score == 0.7


def test_runner_v3_iris_experiment_learns(tmp_path):
    """§4.5.5–§4.5.6 setup (hidden 6, SGD lr 0.2, batch 16, 150 epochs, eval every 50 steps): with the
    leak fixed the book's test 1.0000/1.0579 (line 6347) is not reachable; assert that the best
    model beats chance clearly (the DataLoader shuffle follows numpy's global RNG, seeded here)."""
    np.random.seed(12)
    paddle.seed(12)
    train_loader, dev_loader, test_loader = _iris_loaders()
    model = Model_MLP_L2_V3(input_size=4, output_size=3, hidden_size=6)
    runner = RunnerV3(model, paddle.optimizer.SGD(learning_rate=0.2, parameters=model.parameters()),
                      F.cross_entropy, Accuracy(is_logist=True))
    runner.train(train_loader, dev_loader, num_epochs=150, log_steps=0, eval_steps=50,
                 save_path=str(tmp_path / "best_model.pdparams"))
    assert len(runner.train_step_losses) == 1200 and len(runner.dev_scores) == 23 + 1
    runner.load_model(str(tmp_path / "best_model.pdparams"))
    score, loss = runner.evaluate(test_loader)
    assert score >= 0.8 and loss < math.log(3)


# ----------------------------------------------------------------------------------- plots, package
def test_plots_return_figures(moons, tmp_path):
    """Figs. 4.3/4.4, 4.9, 4.10, 4.7, 4.8, 4.12: every helper returns a Figure and saves on request."""
    figures = [ch04.plot_activations(), ch04.plot_activations({"swish": swish, "elu": elu}),
               ch04.plot_weight_distributions(paddle.normal(shape=[1000]), paddle.uniform([1000], min=-1, max=1)),
               ch04.plot_grad_norms({"sigmoid": [1e-10, 1e-8, 1e-6, 1e-3, 0.3], "relu": {"a": 0.0, "b": 0.1}})]

    class _R:
        train_loss, dev_loss = [0.7, 0.6, 0.5], [0.7, 0.65, 0.6, 0.55]
        train_scores, dev_scores = [0.5, 0.6, 0.7], [0.5, 0.6, 0.7, 0.8]
        train_step_losses = [(i, 1.0 / (i + 1)) for i in range(100)]
        dev_losses = [(50, 0.5), (99, 0.4), (-1, 0.3)]

    runner = _R()
    figures += [ch04.plot_train_dev_loss(runner), ch04.plot_loss_acc(runner, fig_name=str(tmp_path / "a.png")),
                ch04.plot_training_loss_acc(runner)]
    assert all(isinstance(fig, Figure) for fig in figures)
    assert (tmp_path / "a.png").exists()
    plt.close("all")
