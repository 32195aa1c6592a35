"""Hidden checks of chapter 7: the hand-written optimizers (§7.3.2–§7.3.3, §7.6.4, exercises 7.4/7.5), the
Xavier formulas (§7.4.2), BatchNorm and LayerNorm (§7.5.1.1, §7.5.2.1), binary cross-entropy on logits with
the ℓ2 term (§7.6.3) and inverted dropout (§7.6.5).

Optimizers run a few steps on a model with two parameters (W [3, 2], b [2]) held where the student's code
runs (``fixtures/ch03.ParamModel``), with gradients given explicitly at every step; the expected
trajectories come from ``paddle.optimizer.*`` with the same settings (where its formula is the book's) and
from the book's equations in float64 numpy written here, and from the ``nndl_ref`` optimizer. The
parameters' displacement from the start is compared, not the parameters, so a wrong step cannot hide behind
their scale. At tiny gradients (|g| ≈ 1e-3,
ε = 1e-6) only the book's ε placement (inside the square root) passes. BatchNorm/LayerNorm are compared with
``nn.BatchNorm1D``/``nn.LayerNorm`` (biased variance, the kit's convention) and closed forms, their input
gradients through the layer harness; Dropout is checked by its behaviour, never by its mask.
"""

import numpy as np
import paddle
import paddle.nn as nn

from nndl_ref import ch07 as ref

from ..checks import (CheckFailure, as_float, as_tensor, book_section, check_close, check_shape, float32_exact,
                      np_sigmoid, numeric_vjp, require, require_grads, require_tensor, student_call, to_numpy)
from ..fixtures.ch03 import ParamModel
from ..fixtures.ch07 import LayeredParamModel
from ..fixtures.layers import LayerHarness
from ..rpc import build

HARNESS = "nndl_grading.fixtures.layers.LayerHarness"
PARAM_MODEL = "nndl_grading.fixtures.ch03.ParamModel"
LAYERED_MODEL = "nndl_grading.fixtures.ch07.LayeredParamModel"
SCALES = {"ordinary": (1.0, 1e-7), "tiny": (1e-3, 1e-6)}   # gradient scale, ε
STEPS = 4


# ------------------------------------------------------------------------------- optimizer trajectories
def _start(seed):
    rng = np.random.default_rng(seed)
    return {"W": rng.normal(size=(3, 2)), "b": rng.normal(size=(2,))}


def _gradients(seed, scale, steps=STEPS):
    """Random signs, magnitudes in [0.3, 2]·scale: no element so small that ε's place matters by accident."""
    rng = np.random.default_rng(seed + 1)
    draw = lambda shape: scale * rng.choice([-1.0, 1.0], size=shape) * rng.uniform(0.3, 2.0, size=shape)
    return [{"W": draw((3, 2)), "b": draw((2,))} for _ in range(steps)]


def builtin_trajectory(make_optimizer, start, gradients):
    """Parameters after each step of a ``paddle.optimizer`` built by ``make_optimizer(parameters)`` when the
    gradient of step k is ``gradients[k]`` (the loss Σ⟨p, g⟩): a list of {key: float64 array}."""
    params = {key: paddle.create_parameter(list(value.shape), "float32",
                                           default_initializer=nn.initializer.Assign(value.astype("float32")))
              for key, value in start.items()}
    optimizer = make_optimizer(list(params.values()))
    trajectory = []
    for grads in gradients:
        loss = sum(paddle.sum(params[key] * as_tensor(grads[key])) for key in params)
        loss.backward()
        optimizer.step()
        optimizer.clear_grad()
        trajectory.append({key: p.numpy().astype(np.float64) for key, p in params.items()})
    return trajectory


def book_trajectory(update, start, gradients):
    """Parameters after each step of ``update(x, g, state, t) → (x, state)`` (the book's equations in float64,
    ``t`` = 1, 2, … counting steps), started from float32-exact values: a list of {key: array}."""
    x = {key: float32_exact(value) for key, value in start.items()}
    state = {key: None for key in start}
    trajectory = []
    for t, grads in enumerate(gradients, start=1):
        for key in x:
            x[key], state[key] = update(x[key], float32_exact(grads[key]), state[key], t)
        trajectory.append({key: value.copy() for key, value in x.items()})
    return trajectory


def _zero(state, *names):
    return {name: 0.0 for name in names} if state is None else state


def np_adagrad(lr, eps):
    def update(x, g, s, t):
        s = _zero(s, "G")
        G = s["G"] + g * g
        return x - lr / np.sqrt(G + eps) * g, {"G": G}
    return update


def np_rmsprop(lr, beta, eps):
    def update(x, g, s, t):
        G = beta * _zero(s, "G")["G"] + (1 - beta) * g * g
        return x - lr / np.sqrt(G + eps) * g, {"G": G}
    return update


def np_momentum(lr, rho):
    def update(x, g, s, t):
        delta = rho * _zero(s, "delta")["delta"] - lr * g
        return x + delta, {"delta": delta}
    return update


def np_adam(lr, beta_1, beta_2, eps, weight_decay=0.0):
    def update(x, g, s, t):
        s = _zero(s, "M", "G")
        M = beta_1 * s["M"] + (1 - beta_1) * g
        G = beta_2 * s["G"] + (1 - beta_2) * g * g
        step = lr / np.sqrt(G / (1 - beta_2 ** t) + eps) * (M / (1 - beta_1 ** t))
        return x - step - lr * weight_decay * x, {"M": M, "G": G}
    return update


def np_adadelta(lr, rho, eps):
    def update(x, g, s, t):
        s = _zero(s, "G", "D")
        G = rho * s["G"] + (1 - rho) * g * g
        delta = -np.sqrt((s["D"] + eps) / (G + eps)) * g
        return x + lr * delta, {"G": G, "D": rho * s["D"] + (1 - rho) * delta * delta}
    return update


def _student_trajectory(env, class_name, settings, start, gradients, layered=False):
    """Build the student's optimizer on a fixture model (``layered``: its parameters in ``layers[0]`` and
    ``layers[2]``, as a two-layer network) and run it on the given gradients."""
    optimizer_class = require(env, class_name, kind="class")
    arguments = ", ".join(f"{key}={value}" for key, value in settings.items())
    if layered:
        model = build(env, LAYERED_MODEL, [{"W": start["W"]}, {"b": start["b"]}])
        holders = {"W": 0, "b": 2}
    else:
        model = build(env, PARAM_MODEL, start)
    optimizer = student_call(optimizer_class, model=model, what=f"{class_name}(model, {arguments})",
                             stage="signature", **settings)
    trajectory = []
    for step, grads in enumerate(gradients, start=1):
        what = f"{class_name}.step（第 {step} 次，{arguments}）"
        if layered:
            layers = model.layers
            for key, index in holders.items():
                layers[index].grads = {key: as_tensor(grads[key])}
        else:
            model.grads = {key: as_tensor(value) for key, value in grads.items()}
        student_call(optimizer.step, what=what)
        if layered:
            layers = model.layers
            params = {key: layers[index].params[key] for key, index in holders.items()}
        else:
            params = {key: model.params[key] for key in start}
        for key, value in params.items():
            require_tensor(value, f"{what} 之后的 params['{key}']")
            check_shape(value, start[key].shape, f"{what} 之后的 params['{key}']", squeezable=False)
        trajectory.append({key: to_numpy(value) for key, value in params.items()})
    return trajectory


def _compare_trajectories(actual, oracles, start, class_name, settings):
    """Displacement from the start after every step, against every oracle {label: trajectory}."""
    arguments = ", ".join(f"{key}={value}" for key, value in settings.items())
    for step, params in enumerate(actual):
        for key, value in params.items():
            what = f"{class_name}（{arguments}）第 {step + 1} 次 step 后 params['{key}'] 的变化量"
            for label, trajectory in oracles.items():
                check_close(value - float32_exact(start[key]), trajectory[step][key] - float32_exact(start[key]),
                            f"{what}（{label}）")


def reference_trajectory(class_name, settings, start, gradients):
    """The same run of the ``nndl_ref`` optimizer (a third oracle), on a local fixture model."""
    layered = class_name == "Minibatch_GD"
    model = LayeredParamModel([{"W": start["W"]}, {"b": start["b"]}]) if layered else ParamModel(start)
    optimizer = getattr(ref, class_name)(model=model, **settings)
    holders = [model.layers[0], model.layers[2]] if layered else [model]
    trajectory = []
    for grads in gradients:
        for holder in holders:
            holder.grads = {key: as_tensor(grads[key]) for key in holder.params}
        optimizer.step()
        trajectory.append({key: to_numpy(holder.params[key]) for holder in holders for key in holder.params})
    return trajectory


def _check_optimizer(env, class_name, cases):
    """``cases``: (seed, scale name, settings, {label: oracle factory(start, gradients)}); the reference is
    always one more oracle."""
    for seed, scale_name, settings, oracles in cases:
        start, gradients = _start(seed), _gradients(seed, SCALES[scale_name][0])
        actual = _student_trajectory(env, class_name, settings, start, gradients,
                                     layered=class_name == "Minibatch_GD")
        expected = {label: make(start, gradients) for label, make in oracles.items()}
        expected["nndl_ref"] = reference_trajectory(class_name, settings, start, gradients)
        _compare_trajectories(actual, expected, start, class_name, settings)


def _builtin(factory):
    return lambda start, gradients: builtin_trajectory(factory, start, gradients)


def _book(update):
    return lambda start, gradients: book_trajectory(update, start, gradients)


@book_section("7.3.2.1")
def check_adagrad(env):
    """Eqs. (7.9)–(7.10) over four steps of a two-parameter model: vs ``paddle.optimizer.Adagrad`` at ordinary
    gradients, and at tiny gradients vs the book's ε inside √(G + ε) (Paddle's ε outside fails there); the
    constructor's ε is used (the book hard-codes 1e-7)."""
    cases = []
    for seed, lr in ((701, 0.5), (702, 0.1)):
        eps = SCALES["ordinary"][1]
        cases.append((seed, "ordinary", {"init_lr": lr, "epsilon": eps}, {
            "paddle.optimizer.Adagrad": _builtin(lambda p, lr=lr, eps=eps: paddle.optimizer.Adagrad(
                lr, epsilon=eps, parameters=p)),
            "式 (7.10)": _book(np_adagrad(lr, eps))}))
    eps = SCALES["tiny"][1]
    cases.append((703, "tiny", {"init_lr": 0.1, "epsilon": eps}, {"式 (7.10)，ε 在根号内": _book(np_adagrad(0.1, eps))}))
    _check_optimizer(env, "Adagrad", cases)


@book_section("7.3.2.2")
def check_rmsprop(env):
    """Eqs. (7.11)–(7.12) vs ``paddle.optimizer.RMSProp(rho=β, momentum=0)`` (its ε is inside the root too) at
    ordinary and tiny gradients, with β = 0.9 and 0.7 (the book hard-codes 0.9) and the constructor's ε."""
    cases = []
    for seed, scale, lr, beta in ((711, "ordinary", 0.1, 0.9), (712, "ordinary", 0.05, 0.7), (713, "tiny", 0.1, 0.8)):
        eps = SCALES[scale][1]
        cases.append((seed, scale, {"init_lr": lr, "beta": beta, "epsilon": eps}, {
            "paddle.optimizer.RMSProp": _builtin(lambda p, lr=lr, beta=beta, eps=eps: paddle.optimizer.RMSProp(
                lr, rho=beta, epsilon=eps, momentum=0.0, centered=False, parameters=p)),
            "式 (7.11)–(7.12)": _book(np_rmsprop(lr, beta, eps))}))
    _check_optimizer(env, "RMSprop", cases)


@book_section("7.3.3.1")
def check_momentum(env):
    """Eq. (7.13) Δθ_t = ρΔθ_{t−1} − αg_t vs ``paddle.optimizer.Momentum`` (v = ρv + g, θ −= αv), with ρ = 0.9
    and 0.6 (the book hard-codes 0.9); no dampening."""
    cases = []
    for seed, lr, rho in ((721, 0.01, 0.9), (722, 0.1, 0.6)):
        cases.append((seed, "ordinary", {"init_lr": lr, "rho": rho}, {
            "paddle.optimizer.Momentum": _builtin(lambda p, lr=lr, rho=rho: paddle.optimizer.Momentum(
                lr, momentum=rho, parameters=p)),
            "式 (7.13)": _book(np_momentum(lr, rho))}))
    _check_optimizer(env, "Momentum", cases)


@book_section("7.3.3.2")
def check_adam(env):
    """Eqs. (7.14)–(7.18) over four steps of a two-parameter model (one t per step(), shared by all
    parameters) vs ``paddle.optimizer.Adam`` at ordinary gradients and, at tiny gradients, vs the book's
    ε inside √(Ĝ + ε); β₁, β₂, ε from the constructor (the book hard-codes 0.9, 0.99, 1e-7)."""
    cases = []
    for seed, lr, b1, b2 in ((731, 0.2, 0.9, 0.99), (732, 0.05, 0.8, 0.95)):
        eps = SCALES["ordinary"][1]
        cases.append((seed, "ordinary", {"init_lr": lr, "beta_1": b1, "beta_2": b2, "epsilon": eps}, {
            "paddle.optimizer.Adam": _builtin(lambda p, lr=lr, b1=b1, b2=b2, eps=eps: paddle.optimizer.Adam(
                lr, beta1=b1, beta2=b2, epsilon=eps, parameters=p)),
            "式 (7.14)–(7.18)": _book(np_adam(lr, b1, b2, eps))}))
    eps = SCALES["tiny"][1]
    cases.append((733, "tiny", {"init_lr": 0.1, "beta_1": 0.9, "beta_2": 0.99, "epsilon": eps},
                  {"式 (7.18)，ε 在根号内": _book(np_adam(0.1, 0.9, 0.99, eps))}))
    _check_optimizer(env, "Adam", cases)


@book_section("7.6.4")
def check_minibatch_gd_weight_decay(env):
    """Eq. (7.28) θ ← (1 − β)θ − αg on every parameter (W and b) of every layer with a params dict, skipping
    layers whose params is None; vs ``paddle.optimizer.SGD(α, weight_decay=L2Decay(β/α))``; β = 0 is plain
    gradient descent."""
    cases = []
    for seed, lr, decay in ((741, 0.3, 0.01), (742, 0.1, 0.0), (743, 0.05, 0.2)):
        cases.append((seed, "ordinary", {"init_lr": lr, "weight_decay": decay}, {
            "paddle.optimizer.SGD + L2Decay": _builtin(lambda p, lr=lr, decay=decay: paddle.optimizer.SGD(
                lr, weight_decay=paddle.regularizer.L2Decay(decay / lr) if decay else None, parameters=p)),
            "式 (7.28)": _book(lambda x, g, s, t, lr=lr, decay=decay: ((1 - decay) * x - lr * g, s))}))
    _check_optimizer(env, "Minibatch_GD", cases)


@book_section("7.3.2")
def check_adadelta(env):
    """Exercise 7.4: AdaDelta vs ``paddle.optimizer.Adadelta(learning_rate=α, rho=ρ, epsilon=ε)`` over four
    steps, at ordinary and tiny gradients."""
    cases = []
    for seed, scale, lr, rho in ((751, "ordinary", 1.0, 0.95), (752, "tiny", 0.5, 0.9)):
        eps = SCALES[scale][1] if scale == "tiny" else 1e-6
        cases.append((seed, scale, {"init_lr": lr, "rho": rho, "epsilon": eps}, {
            "paddle.optimizer.Adadelta": _builtin(lambda p, lr=lr, rho=rho, eps=eps: paddle.optimizer.Adadelta(
                lr, epsilon=eps, rho=rho, parameters=p)),
            "AdaDelta 公式": _book(np_adadelta(lr, rho, eps))}))
    _check_optimizer(env, "Adadelta", cases)


@book_section("7.3.3.2")
def check_adamw(env):
    """Exercise 7.5: Adam with decoupled weight decay θ ← θ − αλθ − α·M̂/√(Ĝ + ε) vs ``paddle.optimizer.AdamW``
    with the same settings (ordinary gradients, where ε's place does not matter)."""
    cases = []
    for seed, lr, decay in ((761, 0.1, 0.1), (762, 0.02, 0.5)):
        settings = {"init_lr": lr, "beta_1": 0.9, "beta_2": 0.99, "epsilon": 1e-7, "weight_decay": decay}
        cases.append((seed, "ordinary", settings, {
            "paddle.optimizer.AdamW": _builtin(lambda p, lr=lr, decay=decay: paddle.optimizer.AdamW(
                lr, beta1=0.9, beta2=0.99, epsilon=1e-7, weight_decay=decay, parameters=p)),
            "AdamW 公式": _book(np_adam(lr, 0.9, 0.99, 1e-7, weight_decay=decay))}))
    _check_optimizer(env, "AdamW", cases)


# --------------------------------------------------------------------------------------------- §7.4.2
@book_section("7.4.2")
def check_xavier(env):
    """√(2/(M_{l−1}+M_l)) and √(6/(M_{l−1}+M_l)) for several layer sizes (e.g. (100, 200) → 0.0816497, 0.1414214)."""
    normal, uniform = require(env, "xavier_normal_std"), require(env, "xavier_uniform_r")
    for fan_in, fan_out in ((100, 200), (2, 300), (700, 400), (3, 1)):
        for function, name, constant in ((normal, "xavier_normal_std", 2.0), (uniform, "xavier_uniform_r", 6.0)):
            what = f"{name}({fan_in}, {fan_out})"
            value = as_float(student_call(function, fan_in, fan_out, what=what), what)
            check_close(value, np.sqrt(constant / (fan_in + fan_out)), what, rtol=1e-6)


# --------------------------------------------------------------------------------------------- §7.5.1.1
def _batch(seed, n, d, scale=2.0, shift=1.0):
    return np.random.default_rng(seed).normal(loc=shift, scale=scale, size=(n, d)).astype(np.float32)


def _builtin_norm(layer_class, d, gamma, beta, **kwargs):
    """A harness around ``nn.BatchNorm1D``/``nn.LayerNorm`` with weight γ and bias β (float32 whatever the
    notebook's default dtype)."""
    previous = paddle.get_default_dtype()
    paddle.set_default_dtype("float32")
    try:
        return LayerHarness(layer_class, (d,), {
            **kwargs, "weight_attr": paddle.ParamAttr(initializer=nn.initializer.Constant(gamma)),
            "bias_attr": paddle.ParamAttr(initializer=nn.initializer.Constant(beta))})
    finally:
        paddle.set_default_dtype(previous)


def _builtin_bn(d, eps, momentum, gamma, beta):
    return _builtin_norm(nn.BatchNorm1D, d, gamma, beta, momentum=momentum, epsilon=eps)


def _student_bn(env, d, eps, momentum, gamma, beta):
    BatchNorm = require(env, "BatchNorm", kind="class")
    what = f"BatchNorm({d}, eps={eps}, momentum={momentum}, gamma={gamma}, beta={beta})"
    harness = student_call(build, env, HARNESS, BatchNorm, (d,),
                           {"eps": eps, "momentum": momentum, "gamma": gamma, "beta": beta},
                           what=what, stage="signature")
    return harness, what


def _np_normalise(X, mean, var, eps, gamma, beta):
    return gamma * (np.asarray(X, np.float64) - mean) / np.sqrt(var + eps) + beta


def _running(harness, what):
    layer = harness.layer
    stats = {}
    for name in ("moving_mean", "moving_variance"):
        value = getattr(layer, name, None)
        if value is None:
            raise CheckFailure("signature", what, f"应把滑动平均存在 self.{name}（形状 [1, num_features]）")
        stats[name] = to_numpy(value)
    return stats


@book_section("7.5.1.1")
def check_batchnorm_train(env):
    """Training mode, eqs. (7.19)–(7.20) with the batch's biased variance and √(σ² + ε): vs ``nn.BatchNorm1D``
    in train mode and the closed form, for several γ, β, ε; the gradient w.r.t. X (Paddle autograd through the
    student's forward) vs BatchNorm1D's."""
    for seed, (n, d), eps, gamma, beta in ((771, (8, 4), 1e-7, 1.0, 0.0), (772, (5, 3), 1e-2, 2.5, -1.0),
                                           (773, (16, 6), 1e-5, 0.5, 3.0)):
        X = _batch(seed, n, d)
        harness, what = _student_bn(env, d, eps, 0.9, gamma, beta)
        oracle = _builtin_bn(d, eps, 0.9, gamma, beta)
        G = np.random.default_rng(seed + 100).normal(size=(n, d))
        result = student_call(harness.gradients, (X,), G, {"train_mode": True}, what=f"{what} 训练模式", stage="values")
        out = result["outputs"]
        check_shape(out, (n, d), f"{what} 训练模式的输出", squeezable=False)
        mean, var = float32_exact(X).mean(axis=0), float32_exact(X).var(axis=0)
        check_close(out, _np_normalise(X, mean, var, eps, gamma, beta), f"{what} 训练模式的输出（有偏方差 biased variance）")
        expected = oracle.gradients((X,), G, training=True)
        check_close(out, expected["outputs"], f"{what} 训练模式的输出（nn.BatchNorm1D）")
        grad = result["inputs"][0]
        if grad is None:
            raise CheckFailure("gradients", f"{what} 训练模式", "没有梯度传到输入 X：forward 是否用了 .numpy() 断开了计算图？")
        check_close(grad, expected["inputs"][0], f"{what} 对输入 X 的梯度（nn.BatchNorm1D 自动微分）", stage="gradients")


@book_section("7.5.1.1")
def check_batchnorm_running_stats(env):
    """moving_mean/moving_variance start at 0/1 and after every training call become
    momentum·running + (1 − momentum)·(batch mean, biased batch variance): after one call and after three
    different batches, with momentum 0.9 and 0.6; vs the closed form and ``nn.BatchNorm1D``'s statistics."""
    for seed, momentum in ((781, 0.9), (782, 0.6)):
        d = 3
        harness, what = _student_bn(env, d, 1e-5, momentum, 1.0, 0.0)
        oracle = _builtin_bn(d, 1e-5, momentum, 1.0, 0.0)
        running = {"moving_mean": np.zeros(d), "moving_variance": np.ones(d)}
        for call in range(3):
            X = _batch(seed + call, 6, d, scale=1.0 + call, shift=call - 1.0)
            student_call(harness.forward, (X,), {"train_mode": True}, True, what=f"{what} 训练模式")
            oracle.forward((X,), training=True)
            x = float32_exact(X)
            running["moving_mean"] = momentum * running["moving_mean"] + (1 - momentum) * x.mean(axis=0)
            running["moving_variance"] = momentum * running["moving_variance"] + (1 - momentum) * x.var(axis=0)
            stats = _running(harness, what)
            builtin = {"moving_mean": oracle.layer._mean.numpy(), "moving_variance": oracle.layer._variance.numpy()}
            for name, value in stats.items():
                label = f"{what} 第 {call + 1} 次训练调用后的 {name}"
                check_close(value, running[name], f"{label}（running = momentum·running + (1−momentum)·batch）",
                            stage="behaviour")
                check_close(value, builtin[name], f"{label}（nn.BatchNorm1D）", stage="behaviour")


@book_section("7.5.1.1")
def check_batchnorm_eval(env):
    """Evaluation mode (``train_mode=False``) normalises with the stored running statistics, does not change
    them, and works on a single sample; after two training calls, vs the closed form and ``nn.BatchNorm1D.eval()``
    both given the student's OWN moving_mean / moving_variance, so a wrong running-statistics update costs only
    ``check_batchnorm_running_stats``."""
    d, eps, momentum, gamma, beta = 4, 1e-3, 0.8, 1.5, 0.5
    harness, what = _student_bn(env, d, eps, momentum, gamma, beta)
    oracle = _builtin_bn(d, eps, momentum, gamma, beta)
    for call in range(2):
        X = _batch(790 + call, 10, d, scale=2.0 + call)
        student_call(harness.forward, (X,), {"train_mode": True}, True, what=f"{what} 训练模式")
    before = _running(harness, what)
    for name, value in before.items():
        check_shape(value, (1, d), f"{what} 的 {name}", squeezable=True)
    oracle.layer._mean.set_value(before["moving_mean"].reshape(-1).astype(np.float32))
    oracle.layer._variance.set_value(before["moving_variance"].reshape(-1).astype(np.float32))
    for n in (5, 1):
        X = _batch(795 + n, n, d, scale=3.0, shift=-2.0)
        label = f"{what} 评估模式 train_mode=False（{n} 个样本）"
        out = student_call(harness.forward, (X,), {"train_mode": False}, False, what=label, stage="behaviour")
        check_shape(out, (n, d), label, squeezable=False)
        expected = _np_normalise(X, before["moving_mean"].reshape(-1), before["moving_variance"].reshape(-1), eps,
                                 gamma, beta)
        check_close(out, expected, f"{label}：应使用滑动平均 moving_mean / moving_variance", stage="behaviour")
        check_close(out, oracle.forward((X,), training=False), f"{label}（nn.BatchNorm1D.eval()）", stage="behaviour")
        after = _running(harness, what)
        for name in before:
            check_close(after[name], before[name], f"{label} 之后的 {name}：评估模式不应更新滑动平均", stage="behaviour")


# --------------------------------------------------------------------------------------------- §7.5.2.1
# (seed, shape, ε, γ, β, input scale); the last, ε = 1e-3 (nn.LayerNorm's largest) on rows of variance ~1e-3, tells
# √(σ² + ε) from √σ² + ε
LAYERNORM_CASES = ((801, (4, 6), 1e-7, 1.0, 0.0, 3.0), (802, (1, 5), 1e-3, 2.0, -0.5, 3.0),
                   (803, (7, 3), 1e-5, 0.5, 4.0, 3.0), (804, (3, 5), 1e-3, 1.5, 0.5, 0.03))


@book_section("7.5.2.1")
def check_layernorm(env):
    """Eqs. (7.21)–(7.22): each row normalised over its features with the biased variance and √(σ² + ε); vs
    ``nn.LayerNorm`` and the closed form for several γ, β, ε, including a single row and ε = 1e-3 on rows of small
    variance (where ε outside the root is far off); the same input gives the same output after other calls (no
    state); the gradient w.r.t. X vs ``nn.LayerNorm``'s."""
    LayerNorm = require(env, "LayerNorm", kind="class")
    for seed, (n, d), eps, gamma, beta, scale in LAYERNORM_CASES:
        what = f"LayerNorm({d}, eps={eps}, gamma={gamma}, beta={beta})"
        harness = student_call(build, env, HARNESS, LayerNorm, (d,), {"eps": eps, "gamma": gamma, "beta": beta},
                               what=what, stage="signature")
        oracle = _builtin_norm(nn.LayerNorm, d, gamma, beta, epsilon=eps)
        X = _batch(seed, n, d, scale=scale)
        G = np.random.default_rng(seed + 100).normal(size=(n, d))
        result = student_call(harness.gradients, (X,), G, what=what)
        out = result["outputs"]
        check_shape(out, (n, d), f"{what} 的输出", squeezable=False)
        x = float32_exact(X)
        closed = _np_normalise(x, x.mean(axis=1, keepdims=True), x.var(axis=1, keepdims=True), eps, gamma, beta)
        check_close(out, closed, f"{what} 的输出（每个样本在特征维上规范化，有偏方差）")
        expected = oracle.gradients((X,), G, training=True)
        check_close(out, expected["outputs"], f"{what} 的输出（nn.LayerNorm）")
        if result["inputs"][0] is None:
            raise CheckFailure("gradients", what, "没有梯度传到输入 X：forward 是否用了 .numpy() 断开了计算图？")
        check_close(result["inputs"][0], expected["inputs"][0], f"{what} 对输入 X 的梯度（nn.LayerNorm）",
                    stage="gradients")
        other = float32_exact(_batch(seed + 7, n + 2, d, scale=10.0, shift=-3.0))
        out = student_call(harness.forward, (other,), what=what, stage="behaviour")
        check_close(out, _np_normalise(other, other.mean(axis=1, keepdims=True), other.var(axis=1, keepdims=True),
                                       eps, gamma, beta), f"{what} 第二次调用（另一批输入）：LayerNorm 不应保留上一批的统计量",
                    stage="behaviour")
        again = student_call(harness.forward, (X,), what=what, stage="behaviour")
        check_close(again, closed, f"{what} 在其他输入之后再算同一输入：LayerNorm 不应有状态", stage="behaviour")


# --------------------------------------------------------------------------------------------- §7.6.3
MLP_SIZES = [3, 5, 4, 1]


def _mlp_weights(seed):
    rng = np.random.default_rng(seed)
    return [(rng.normal(scale=0.7, size=(a, b)), rng.normal(scale=0.3, size=(1, b)))
            for a, b in zip(MLP_SIZES[:-1], MLP_SIZES[1:])]


def _np_mlp_loss(weights, X, y, lambd):
    """The §7.6.3 objective in float64: mean BCE on the logits of the ReLU network + λ/(2N)·Σ‖W‖²."""
    a = np.asarray(X, np.float64)
    for i, (W, b) in enumerate(weights):
        a = a @ W + b
        if i < len(weights) - 1:
            a = np.maximum(a, 0.0)
    p = np_sigmoid(a)
    n = len(y)
    bce = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    return bce + lambd / (2 * n) * sum(np.sum(W ** 2) for W, _ in weights)


def _l2_case(env, seed, lambd):
    """The student's loss on the notebook's ``MLP_3L`` (the book's given network) with fixed weights."""
    loss_class = require(env, "BinaryCrossEntropyWithLogits", kind="class")
    model_class = require(env, "MLP_3L", kind="class")
    weights = [(float32_exact(W), float32_exact(b)) for W, b in _mlp_weights(seed)]
    rng = np.random.default_rng(seed + 1)
    X = float32_exact(rng.normal(size=(6, MLP_SIZES[0])))
    y = rng.integers(0, 2, size=(6, 1)).astype(np.float64)
    model = student_call(model_class, MLP_SIZES, what=f"MLP_3L({MLP_SIZES})", stage="signature")
    layers = [layer for layer in model.layers if isinstance(getattr(layer, "params", None), dict)]
    for layer, (W, b) in zip(layers, weights):
        layer.params["W"], layer.params["b"] = as_tensor(W), as_tensor(b)
    what = f"BinaryCrossEntropyWithLogits(model, lambd={lambd})"
    loss_fn = student_call(loss_class, model, lambd=lambd, what=what, stage="signature")
    return loss_fn, model, layers, weights, X, y, what


@book_section("7.6.3")
def check_bce_logits_l2_forward(env):
    """Eq. (7.25) on logits plus λ/(2N)·Σ_{Linear} ‖W‖² (biases not penalised), for λ = 0, 0.7 and 3, vs the
    float64 closed form."""
    for seed, lambd in ((811, 0.0), (812, 0.7), (813, 3.0)):
        loss_fn, model, _, weights, X, y, what = _l2_case(env, seed, lambd)
        logits = student_call(model, as_tensor(X), what="MLP_3L 的前向计算")
        loss = student_call(loss_fn, logits, as_tensor(y), what=what)
        require_tensor(loss, what)
        if np.size(to_numpy(loss)) != 1:
            raise CheckFailure("shape", what, f"损失应是一个数（形状 [1] 或 []），实际形状 {list(np.shape(to_numpy(loss)))}")
        check_close(loss, _np_mlp_loss(weights, X, y, lambd), f"{what} 的损失值")


@book_section("7.6.3")
def check_bce_logits_l2_backward(env):
    """``backward()`` passes (σ(o) − y)/N into the model and adds λW/N to every Linear layer's grads['W'] (not to
    grads['b']); every gradient vs float64 central differences of the §7.6.3 objective, λ = 0, 0.7 and 3."""
    for seed, lambd in ((821, 0.0), (822, 0.7), (823, 3.0)):
        loss_fn, model, layers, weights, X, y, what = _l2_case(env, seed, lambd)
        logits = student_call(model, as_tensor(X), what="MLP_3L 的前向计算")
        student_call(loss_fn, logits, as_tensor(y), what=what)
        student_call(loss_fn.backward, what=f"{what}.backward()", stage="gradients")
        flat = [array for pair in weights for array in pair]

        def objective(*arrays):
            return _np_mlp_loss(list(zip(arrays[0::2], arrays[1::2])), X, y, lambd)

        numeric = numeric_vjp(objective, flat, np.array(1.0))
        for i, layer in enumerate(layers):
            grads = require_grads(layer, ("W", "b"), f"{what}.backward() 之后的第 {i + 1} 个 Linear 层")
            for key, expected in zip(("W", "b"), numeric[2 * i:2 * i + 2]):
                check_close(grads[key], expected, f"{what}.backward() 之后第 {i + 1} 个 Linear 层的 grads['{key}']"
                            f"（数值梯度 numerical gradient）", stage="gradients")


# --------------------------------------------------------------------------------------------- §7.6.5
DROPOUT_SHAPE = (200, 300)


def _dropout_forward(env, p, seed):
    Dropout = require(env, "Dropout", kind="class")
    what = f"Dropout(drop_rate={p})"
    dropout = student_call(Dropout, p, what=what, stage="signature")
    X = np.random.default_rng(seed).uniform(1.0, 2.0, size=DROPOUT_SHAPE).astype(np.float32)
    out = student_call(dropout, as_tensor(X), what=f"{what} 的 forward")
    require_tensor(out, f"{what} 的 forward")
    check_shape(out, DROPOUT_SHAPE, f"{what} 的输出", squeezable=False)
    return dropout, float32_exact(X), to_numpy(out), what


def _check_kept(out, X, p, what):
    """Zeros where dropped (a fraction within 5σ of p: a correct dropout fails this with probability < 1e-6),
    X/(1 − p) where kept: the kept mask."""
    kept = out != 0
    count = kept.size
    dropped = 1.0 - kept.mean()
    sigma = np.sqrt(p * (1 - p) / count)
    if abs(dropped - p) > 5 * sigma + 1e-12:
        raise CheckFailure("behaviour", what, f"被置零的比例 {dropped:.4f} 与 drop_rate={p} 不符（应以概率 p 丢弃、"
                           f"以 1−p 保留；允许偏差 5σ = {5 * sigma:.4f}）")
    check_close(out[kept], X[kept] / (1 - p), f"{what} 保留下来的元素：应为 x/(1−p)（inverted dropout）", stage="behaviour")
    return kept


@book_section("7.6.5")
def check_dropout_forward(env):
    """Eq. (7.29): drops each element with probability p (fraction of zeros within 5σ over 60,000 elements),
    scales the kept ones by 1/(1 − p), draws a new mask at every call, and is the identity at p = 0."""
    for p, seed in ((0.3, 831), (0.5, 832), (0.8, 833)):
        dropout, X, out, what = _dropout_forward(env, p, seed)
        first = _check_kept(out, X, p, what)
        second = to_numpy(student_call(dropout, as_tensor(X), what=f"{what} 的第二次 forward"))
        _check_kept(second, X, p, f"{what} 的第二次 forward")
        if np.array_equal(first, second != 0):
            raise CheckFailure("behaviour", what, "两次 forward 用了同一个掩码：每次前向都应重新随机采样")
    _, X, out, what = _dropout_forward(env, 0.0, 834)
    check_close(out, X, f"{what}：drop_rate=0 时应原样输出", stage="behaviour")


@book_section("7.6.5")
def check_dropout_backward(env):
    """Eq. (7.30): backward returns δ ⊙ M/(1 − p) with the mask M of the latest forward (zeros in the same
    places, the same scale), even when called twice; at p = 0 it passes δ through."""
    for p, seed in ((0.3, 841), (0.6, 842), (0.0, 843)):
        dropout, X, out, what = _dropout_forward(env, p, seed)
        kept = out != 0
        G = np.random.default_rng(seed + 1).normal(size=DROPOUT_SHAPE)
        for call in (1, 2):
            label = f"{what} 的 backward（第 {call} 次调用）"
            grad = student_call(dropout.backward, as_tensor(G), what=label, stage="gradients")
            require_tensor(grad, label)
            check_shape(grad, DROPOUT_SHAPE, label, squeezable=False)
            check_close(grad, np.where(kept, float32_exact(G) / (1 - p), 0.0),
                        f"{label}：应为 δ⊙M/(1−p)，M 是前向时保存的同一个掩码", stage="gradients")
