"""Reference chapter 7 (网络优化与正则化): the book's deterministic numbers (§7.3 optimizer steps, §7.3.4,
§7.4.2, the BN/LN structural figures of §7.5 under the book's unbiased convention), and Paddle's built-in
optimizers, ``nn.BatchNorm1D``/``nn.LayerNorm``, autograd and closed forms as the independent oracles."""

import numpy as np
import paddle
import paddle.nn as nn
import paddle.nn.functional as F
import pytest

import nndl_ref.ch07 as ref
import nndl_ref.ch07.initialization as initialization
from helpers import t32
from nndl_grading.fixtures.ch03 import ParamModel
from nndl_grading.hidden.ch07 import builtin_trajectory
from nndl_ref.ch04 import Linear

SPHERE_W = [0.2, 2.0]


def sphere_points(make_optimizer, steps):
    """The points of the book's §7.3.1.1 run from [3, 4]: row k is the point after k steps."""
    model = ref.OptimizedFunction(paddle.to_tensor(SPHERE_W))
    x, _ = ref.train_f(model, make_optimizer(model), paddle.to_tensor([3.0, 4.0]), steps + 1)
    return x.numpy()


BOOK_RUNS = {   # book settings (§7.3.2–§7.3.3); after 1 step and after 5 steps (notes §3.2, §5, checked)
    "Adagrad": (lambda m: ref.Adagrad(init_lr=0.5, model=m, epsilon=1e-7), [2.5, 3.5], [1.5696397, 2.5179088]),
    "RMSprop": (lambda m: ref.RMSprop(init_lr=0.1, model=m, beta=0.9, epsilon=1e-7), [2.68377, 3.68377],
                [2.0067039, 2.987278]),
    "Momentum": (lambda m: ref.Momentum(init_lr=0.01, model=m, rho=0.9), [2.988, 3.84], [2.843754, 2.088901]),
    "Adam": (lambda m: ref.Adam(init_lr=0.2, model=m, beta_1=0.9, beta_2=0.99, epsilon=1e-7), [2.8, 3.8],
             [2.0081704, 3.0055096]),
}


@pytest.mark.parametrize("name", list(BOOK_RUNS))
def test_optimizers_reproduce_the_book_settings_on_the_sphere(name):
    make, one_step, five_steps = BOOK_RUNS[name]
    points = sphere_points(make, 5)
    np.testing.assert_allclose(points[0], [3.0, 4.0])
    np.testing.assert_allclose(points[1], one_step, rtol=1e-5)
    np.testing.assert_allclose(points[5], five_steps, rtol=1e-6)


def grads_sequence(seed, steps=5):
    rng = np.random.default_rng(seed)
    return [{"W": rng.uniform(0.3, 2, (3, 2)) * rng.choice([-1, 1], (3, 2)),
             "b": rng.uniform(0.3, 2, (2,)) * rng.choice([-1, 1], (2,))} for _ in range(steps)]


def reference_trajectory(make, start, gradients):
    model = ParamModel(start)
    optimizer = make(model)
    out = []
    for grads in gradients:
        model.grads = {key: t32(value) for key, value in grads.items()}
        optimizer.step()
        out.append({key: value.numpy() for key, value in model.params.items()})
    return out


BUILTIN_PAIRS = {   # same settings on both sides; ε tiny where Paddle puts it outside the root (Adagrad, Adam)
    "Adagrad": (lambda m: ref.Adagrad(0.3, m, epsilon=1e-10),
                lambda p: paddle.optimizer.Adagrad(0.3, epsilon=1e-10, parameters=p)),
    "RMSprop": (lambda m: ref.RMSprop(0.05, m, beta=0.7, epsilon=1e-6),
                lambda p: paddle.optimizer.RMSProp(0.05, rho=0.7, epsilon=1e-6, momentum=0.0, parameters=p)),
    "Momentum": (lambda m: ref.Momentum(0.1, m, rho=0.6), lambda p: paddle.optimizer.Momentum(0.1, 0.6, parameters=p)),
    "Adam": (lambda m: ref.Adam(0.1, m, beta_1=0.8, beta_2=0.95, epsilon=1e-10),
             lambda p: paddle.optimizer.Adam(0.1, beta1=0.8, beta2=0.95, epsilon=1e-10, parameters=p)),
    "Adadelta": (lambda m: ref.Adadelta(1.0, m, rho=0.9, epsilon=1e-6),
                 lambda p: paddle.optimizer.Adadelta(1.0, epsilon=1e-6, rho=0.9, parameters=p)),
    "AdamW": (lambda m: ref.AdamW(0.1, m, beta_1=0.9, beta_2=0.99, epsilon=1e-10, weight_decay=0.3),
              lambda p: paddle.optimizer.AdamW(0.1, beta1=0.9, beta2=0.99, epsilon=1e-10, weight_decay=0.3,
                                               parameters=p)),
}


@pytest.mark.parametrize("name", list(BUILTIN_PAIRS))
def test_optimizers_match_paddle_over_five_steps_of_two_parameters(name):
    make_ours, make_paddle = BUILTIN_PAIRS[name]
    rng = np.random.default_rng(7)
    start = {"W": rng.normal(size=(3, 2)), "b": rng.normal(size=(2,))}
    gradients = grads_sequence(8)
    ours = reference_trajectory(make_ours, start, gradients)
    theirs = builtin_trajectory(make_paddle, start, gradients)
    for step_ours, step_theirs in zip(ours, theirs):
        for key in start:
            np.testing.assert_allclose(step_ours[key] - start[key], step_theirs[key] - start[key], rtol=2e-5, atol=1e-6)


def test_adam_counts_steps_not_parameters():
    optimizer = ref.Adam(0.1, ParamModel({"W": np.ones(2), "b": np.ones(1), "c": np.ones(3)}), 0.9, 0.99, 1e-8)
    for _ in range(3):
        optimizer.model.grads = {key: paddle.ones_like(value) for key, value in optimizer.model.params.items()}
        optimizer.step()
    assert optimizer.t == 3


def test_adagrad_and_adam_put_epsilon_inside_the_root_as_the_book():
    # g = 1e-3, ε = 1e-6: book √(g² + ε) = 1.0005e-3 · √(1 + 1e6·1e-6 …); Paddle's √g² + ε differs by ~30 %
    model = ParamModel({"x": np.array([1.0])})
    model.grads = {"x": t32([1e-3])}
    ref.Adagrad(0.1, model, epsilon=1e-6).step()
    np.testing.assert_allclose(model.params["x"].numpy(), 1.0 - 0.1 * 1e-3 / np.sqrt(1e-6 + 1e-6), rtol=1e-6)
    model = ParamModel({"x": np.array([1.0])})
    model.grads = {"x": t32([1e-3])}
    ref.Adam(0.1, model, 0.9, 0.99, 1e-6).step()
    np.testing.assert_allclose(model.params["x"].numpy(), 1.0 - 0.1 * 1e-3 / np.sqrt(1e-6 + 1e-6), rtol=1e-6)


def test_weight_decayed_gradient_descent_equals_sgd_with_l2_decay_on_every_layer():
    paddle.seed(3)
    net = ref.MLP_3L([2, 3, 2, 1])
    linear_layers = [layer for layer in net.layers if isinstance(layer, Linear)]
    start = {f"{i}{key}": layer.params[key].numpy().astype(np.float64)
             for i, layer in enumerate(linear_layers) for key in ("W", "b")}
    gradients = [{key: np.random.default_rng(s).normal(size=value.shape) for key, value in start.items()}
                 for s in range(3)]
    optimizer = ref.Minibatch_GD(init_lr=0.2, model=net, weight_decay=0.01)
    for grads in gradients:
        for i, layer in enumerate(linear_layers):
            layer.grads = {key: t32(grads[f"{i}{key}"]) for key in ("W", "b")}
        optimizer.step()
    expected = builtin_trajectory(lambda p: paddle.optimizer.SGD(
        0.2, weight_decay=paddle.regularizer.L2Decay(0.01 / 0.2), parameters=p), start, gradients)[-1]
    for i, layer in enumerate(linear_layers):
        for key in ("W", "b"):
            np.testing.assert_allclose(layer.params[key].numpy(), expected[f"{i}{key}"], rtol=1e-5, atol=1e-6)


# --------------------------------------------------------------------------------------- test functions
def test_sphere_value_and_gradient_match_autograd_and_evaluate_a_grid():
    model = ref.OptimizedFunction(paddle.to_tensor(SPHERE_W))
    x = paddle.to_tensor([3.0, 4.0], stop_gradient=False)
    loss = model(x)
    assert np.isclose(loss.item(), 33.8)
    (autograd,) = paddle.grad(loss, x)
    model.backward()
    np.testing.assert_allclose(model.grads["x"].numpy(), autograd.numpy())
    grid = paddle.to_tensor(np.stack(np.meshgrid(np.arange(-5, 5, 0.1), np.arange(-5, 5, 0.1))), dtype="float32")
    assert model(grid.transpose([1, 0, 2])).shape == [100, 100]


def test_function_3d_at_two_three_and_its_gradient():
    model = ref.OptimizedFunction3D()
    x = paddle.to_tensor([2.0, 3.0], stop_gradient=False)
    value = model(x)
    assert value.item() == 46.0
    model.backward()
    np.testing.assert_array_equal(model.grads["x"].numpy(), [7.0, 35.0])
    np.testing.assert_allclose(paddle.grad(value, x)[0].numpy(), [7.0, 35.0])
    assert model.grads["x"].shape == [2]


def test_train_f_records_the_point_before_each_step():
    points = sphere_points(lambda m: ref.Momentum(0.01, m, 0.9), 3)
    assert points.shape == (4, 2)
    np.testing.assert_allclose(points[1], [3 - 0.01 * 1.2, 4 - 0.01 * 16], rtol=1e-6)


# --------------------------------------------------------------------------------------- §7.4.2
def test_xavier_formulas_and_the_initialised_weights():
    assert np.isclose(ref.xavier_normal_std(100, 200), 0.0816497, atol=1e-7)
    assert np.isclose(ref.xavier_uniform_r(100, 200), 0.1414214, atol=1e-7)
    paddle.seed(0)
    normal = ref.MLP([300, 500], "normal", ref.xavier_normal_std, nn.Tanh)
    uniform = ref.MLP([300, 500], "uniform", ref.xavier_uniform_r, nn.Tanh)
    assert abs(normal.linear[0].weight.numpy().std() / 0.05 - 1) < 0.05
    weights = uniform.linear[0].weight.numpy()
    assert weights.max() <= np.sqrt(6 / 800) and abs(weights.std() / 0.05 - 1) < 0.05   # U[−r, r]: std r/√3


def test_xavier_keeps_activation_variance_small_and_n01_saturates():
    paddle.seed(0)
    x = paddle.normal(shape=[1, 100], std=0.1)
    xavier = ref.MLP([100, 200, 400, 300, 200, 100], "normal", ref.xavier_normal_std, nn.Tanh)
    basic = ref.MLP([100, 200, 400, 300, 200, 100], "basic", None, nn.Tanh)
    xavier(x), basic(x)
    assert len(xavier.z) == 5
    assert all(xavier.z[i].var().item() < 0.05 for i in range(4))
    assert all(basic.z[i].var().item() > 0.3 for i in range(4))


def test_moons_dataset_splits_and_label_shape():
    paddle.seed(0)
    train, dev = ref.MoonsDataset("train"), ref.MoonsDataset("dev")
    assert (len(train), len(dev)) == (200, 100)
    X, y = train[0]
    assert X.shape == [2] and y.shape == [1]


# --------------------------------------------------------------------------------------- §7.5
def builtin_bn(d, eps, momentum, gamma=1.0, beta=0.0):
    return nn.BatchNorm1D(d, momentum=momentum, epsilon=eps,
                          weight_attr=paddle.ParamAttr(initializer=nn.initializer.Constant(gamma)),
                          bias_attr=paddle.ParamAttr(initializer=nn.initializer.Constant(beta)))


def test_batchnorm_matches_batchnorm1d_in_train_and_eval_mode_with_its_running_statistics():
    rng = np.random.default_rng(0)
    ours, theirs = ref.BatchNorm(5, eps=1e-5, momentum=0.8, gamma=1.5, beta=-0.5), builtin_bn(5, 1e-5, 0.8, 1.5, -0.5)
    theirs.train()
    for _ in range(3):
        X = t32(rng.normal(2.0, 3.0, size=(7, 5)))
        np.testing.assert_allclose(ours(X, train_mode=True).numpy(), theirs(X).numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(ours.moving_mean.numpy().reshape(-1), theirs._mean.numpy(), rtol=1e-5)
    np.testing.assert_allclose(ours.moving_variance.numpy().reshape(-1), theirs._variance.numpy(), rtol=1e-5)
    theirs.eval()
    for n in (4, 1):
        X = t32(rng.normal(size=(n, 5)))
        np.testing.assert_allclose(ours(X, train_mode=False).numpy(), theirs(X).numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(ours.moving_mean.numpy().reshape(-1), theirs._mean.numpy(), rtol=1e-5)


def test_batchnorm_input_gradient_matches_batchnorm1d_autograd():
    X = np.random.default_rng(1).normal(size=(6, 4))
    G = t32(np.random.default_rng(2).normal(size=(6, 4)))
    grads = []
    for layer in (ref.BatchNorm(4, eps=1e-5), builtin_bn(4, 1e-5, 0.9)):
        x = paddle.to_tensor(X.astype("float32"), stop_gradient=False)
        (grad,) = paddle.grad(paddle.sum(layer(x) * G), x)
        grads.append(grad.numpy())
    np.testing.assert_allclose(*grads, rtol=1e-4, atol=1e-5)


def test_running_statistics_after_k_calls_on_one_batch_have_the_closed_form():
    # the book's §7.5.1.4 loop feeds the same batch 51 times (with the first call)
    X = np.random.default_rng(3).normal(1.0, 2.0, size=(200, 2))
    bn = ref.BatchNorm(2)
    for _ in range(51):
        bn(t32(X))
    decay = 0.9 ** 51
    np.testing.assert_allclose(bn.moving_mean.numpy().reshape(-1), (1 - decay) * X.mean(axis=0), rtol=1e-4)
    np.testing.assert_allclose(bn.moving_variance.numpy().reshape(-1), decay + (1 - decay) * X.var(axis=0), rtol=1e-4)


def test_layernorm_matches_paddle_layernorm_and_keeps_no_state():
    rng = np.random.default_rng(4)
    ours = ref.LayerNorm(6, eps=1e-5, gamma=2.0, beta=1.0)
    theirs = nn.LayerNorm(6, epsilon=1e-5, weight_attr=paddle.ParamAttr(initializer=nn.initializer.Constant(2.0)),
                          bias_attr=paddle.ParamAttr(initializer=nn.initializer.Constant(1.0)))
    X = t32(rng.normal(size=(3, 6)) * 4)
    first = ours(X).numpy()
    ours(t32(rng.normal(size=(9, 6))))
    np.testing.assert_allclose(ours(X).numpy(), first)
    np.testing.assert_allclose(first, theirs(X).numpy(), rtol=1e-5, atol=1e-5)


class BookBatchNorm(ref.BatchNorm):
    """The printed §7.5.1.1 code: unbiased paddle.var and sqrt(var, eps), i.e. no ε."""

    def forward(self, X, train_mode=True):
        if not train_mode:
            return super().forward(X, train_mode)
        mean, var = paddle.mean(X, axis=0), paddle.var(X, axis=0)
        self.moving_mean = self.momentum * self.moving_mean + (1.0 - self.momentum) * mean
        self.moving_variance = self.momentum * self.moving_variance + (1.0 - self.momentum) * var
        return self.gamma * (X - mean) / paddle.sqrt(var) + self.beta


class BookLayerNorm(ref.LayerNorm):
    """The printed §7.5.2.1 code: unbiased variance over axis 1, no ε."""

    def forward(self, X):
        mean, var = paddle.mean(X, axis=1).unsqueeze(1), paddle.var(X, axis=1).unsqueeze(1)
        return self.gamma * (X - mean) / paddle.sqrt(var) + self.beta


GAMMA, BETA = [1, 2, 3, 5, 4], [3, 2, 1, 2, 2]


def normalised_mlp(norm_name, rows):
    paddle.seed(0)
    data = paddle.randn([rows, 100])
    paddle.seed(0)
    model = ref.MLP([100, 200, 400, 300, 2, 2], "basic", None, nn.Tanh, norm_name=norm_name, gamma=GAMMA, beta=BETA)
    model(data)
    return model


def test_book_bn_and_ln_figures_follow_from_its_unbiased_variance(monkeypatch):
    # §7.5.1.3: "output stds with bn 0: [0.9975093]", "bn 3: [4.99373]"; §7.5.2.2: "ln 0: [0.99774635]", ln 3 rows 5
    monkeypatch.setattr(initialization, "BatchNorm", BookBatchNorm)
    monkeypatch.setattr(initialization, "LayerNorm", BookLayerNorm)
    bn = normalised_mlp("bn", 200)
    assert np.isclose(bn.z[0].mean().item(), 3.0, atol=1e-5) and np.isclose(bn.z[3].mean().item(), 2.0, atol=1e-5)
    assert np.isclose(bn.z[0].std().item(), 0.9975093, atol=2e-7)
    assert np.isclose(bn.z[3].std().item(), 4.99373, atol=1e-5)
    ln = normalised_mlp("ln", 10)
    assert np.isclose(ln.z[0].std().item(), 0.99774635, atol=2e-7)
    np.testing.assert_allclose(ln.z[3].std(axis=1).numpy(), 5.0, rtol=1e-5)


def test_the_kits_biased_bn_and_ln_give_gamma_exactly_with_a_biased_std():
    bn = normalised_mlp("bn", 200)
    assert np.isclose(bn.z[0].numpy().std(), 1.0, rtol=1e-5) and np.isclose(bn.z[3].numpy().std(), 5.0, rtol=1e-5)
    assert np.isclose(bn.z[0].std().item(), np.sqrt(40000 / 39999), rtol=1e-5)   # paddle.std stays unbiased
    ln = normalised_mlp("ln", 10)
    np.testing.assert_allclose(ln.z[3].numpy().std(axis=1), 5.0, rtol=1e-5)
    np.testing.assert_allclose(ln.z[3].numpy().mean(axis=1), 2.0, atol=1e-5)


# --------------------------------------------------------------------------------------- §7.6
def paddle_objective(model, X, y, lambd):
    """The §7.6.3 objective on autograd tensors copied from ``model``'s Linear layers."""
    weights = [(paddle.to_tensor(layer.params["W"].numpy(), stop_gradient=False),
                paddle.to_tensor(layer.params["b"].numpy(), stop_gradient=False))
               for layer in model.layers if isinstance(layer, Linear)]
    a = X
    for i, (W, b) in enumerate(weights):
        a = paddle.matmul(a, W) + b
        if i < len(weights) - 1:
            a = F.relu(a)
    p = F.sigmoid(a)
    loss = -paddle.mean(y * paddle.log(p) + (1 - y) * paddle.log(1 - p))
    loss = loss + lambd / (2 * X.shape[0]) * sum(paddle.sum(W ** 2) for W, _ in weights)
    loss.backward()
    return loss, weights


@pytest.mark.parametrize("lambd", [0.0, 0.7])
def test_bce_with_logits_and_l2_match_autograd_through_mlp_3l(lambd):
    paddle.seed(5)
    model = ref.MLP_3L([2, 6, 4, 1])
    X = paddle.randn([8, 2])
    y = paddle.to_tensor(np.random.default_rng(6).integers(0, 2, size=(8, 1)).astype("float32"))
    loss_fn = ref.BinaryCrossEntropyWithLogits(model, lambd=lambd)
    loss = loss_fn(model(X), y)
    loss_fn.backward()
    expected, weights = paddle_objective(model, X, y, lambd)
    np.testing.assert_allclose(loss.numpy(), expected.numpy().reshape(1), rtol=1e-5)
    for layer, (W, b) in zip([l for l in model.layers if isinstance(l, Linear)], weights):
        np.testing.assert_allclose(layer.grads["W"].numpy(), W.grad.numpy(), rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(layer.grads["b"].numpy(), b.grad.numpy(), rtol=1e-4, atol=1e-6)


def test_bce_with_logits_stays_finite_where_the_printed_log_sigmoid_overflows():
    model = ref.MLP_3L([1, 1, 1, 1])
    loss = ref.BinaryCrossEntropyWithLogits(model)(t32([[200.0], [-200.0]]), t32([[0.0], [1.0]]))
    np.testing.assert_allclose(loss.numpy(), [200.0], rtol=1e-6)


def test_accuracy_logits_binary_and_multiclass():
    assert ref.accuracy_logits(t32([[0.5], [-1.0], [2.0], [0.0]]), t32([[1], [0], [0], [0]])).item() == 0.75
    logits = t32([[0.1, 0.9, 0.0], [2.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    assert np.isclose(ref.accuracy_logits(logits, paddle.to_tensor([1, 1, 2])).item(), 2 / 3)


def test_dropout_keeps_one_minus_p_scales_and_reuses_the_mask():
    paddle.seed(0)
    dropout = ref.Dropout(0.3)
    X = t32(np.random.default_rng(7).uniform(1, 2, size=(200, 500)))
    out = dropout(X).numpy()
    kept = out != 0
    assert abs(1 - kept.mean() - 0.3) < 4 * np.sqrt(0.3 * 0.7 / kept.size)
    np.testing.assert_allclose(out[kept], X.numpy()[kept] / 0.7, rtol=1e-6)
    grad = dropout.backward(paddle.ones_like(X)).numpy()
    np.testing.assert_array_equal(grad != 0, kept)
    np.testing.assert_allclose(ref.Dropout(0.0)(X).numpy(), X.numpy())
    # the same statistics as Paddle's upscale_in_train dropout
    builtin = F.dropout(X, p=0.3, training=True).numpy()
    assert abs((builtin == 0).mean() - (out == 0).mean()) < 0.01


def test_mlp_3l_dropout_is_the_plain_network_outside_training():
    paddle.seed(8)
    dropped = ref.MLP_3L_dropout([2, 20, 3, 1], drop_rate=0.5)
    plain = ref.MLP_3L([2, 20, 3, 1])
    for ours, theirs in zip(plain.layers, dropped.layers):
        if isinstance(ours, Linear):
            ours.params = dict(theirs.params)
    X = t32(np.random.default_rng(9).normal(size=(16, 2)))
    np.testing.assert_allclose(dropped(X, "dev").numpy(), plain(X).numpy())
    assert not np.allclose(dropped(X, "train").numpy(), dropped(X, "train").numpy())
    assert len(dropped.layers) == 5


