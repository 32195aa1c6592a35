"""Hidden checks of chapter 3: logistic, binary cross-entropy, Model_LR.backward, Optimizer_GD, accuracy,
RunnerV2.train, softmax, MultiCrossEntropyLoss and Model_SR.backward (§3.1–§3.2).

Expected values come from float64 numpy written here (closed forms, central differences), from the
``nndl_ref`` objects with the same parameters, and from Paddle autograd on an ``nn.Linear`` with copied
weights. Components of other questions that a check needs (``logistic`` in ``Model_LR.forward``,
``softmax`` in ``Model_SR.forward``) are replaced by the reference while the check runs.
"""

import os
import tempfile

import numpy as np
import paddle
import paddle.nn.functional as F

from nndl_ref import ch03 as ref

from ..checks import (CheckFailure, as_float, as_tensor, book_section, check_close, check_shape, float32_exact,
                      load_saved, np_log_softmax, np_sigmoid, numeric_vjp, paddle_linear, quietly, require,
                      require_grads, require_tensor, student_call, substituted)
from ..fixtures.ch03 import ParamModel
from ..rpc import build


# --------------------------------------------------------------------------------------------- helpers
def _require_scalar(value, what):
    """A loss or metric: one number (shape [], [1] …) that supports ``.item()`` as RunnerV2 needs."""
    if value is None:
        raise CheckFailure("values", what, "返回了 None（是否漏写了 return？）")
    if not hasattr(value, "item"):
        raise CheckFailure("shape", what, f"应返回张量 (Tensor)，RunnerV2 会调用 .item()；实际是 {type(value).__name__}")
    check_shape(value, [], what)


# --------------------------------------------------------------------------------------------- §3.1
@book_section("3.1")
def check_logistic(env):
    """σ(x) = 1/(1+exp(−x)) element-wise, any shape, finite (0 or 1) far out in the tails."""
    logistic = require(env, "logistic")
    rng = np.random.default_rng(301)
    for x in (np.linspace(-10, 10, 201), rng.normal(scale=4.0, size=(5, 3)),
              np.array([-100.0, -30.0, -1e-3, 0.0, 1e-3, 30.0, 100.0])):
        what = f"logistic（输入形状 {list(x.shape)}）"
        x32 = float32_exact(x)
        out = student_call(logistic, as_tensor(x), what=what)
        require_tensor(out, what)
        check_shape(out, x.shape, what, squeezable=False)
        check_close(out, np_sigmoid(x32), what)
        check_close(out, ref.logistic(as_tensor(x)), what)


@book_section("3.1.3")
def check_bce_forward(env):
    """Eq. (3.5): R = −(1/N)[yᵀlog ŷ + (1−y)ᵀlog(1−ŷ)], predicts and labels [N,1] float, one number."""
    BinaryCrossEntropyLoss = require(env, "BinaryCrossEntropyLoss", kind="class")
    rng = np.random.default_rng(302)
    loss_fn = student_call(BinaryCrossEntropyLoss, what="BinaryCrossEntropyLoss()",
                           stage="signature")
    for N in (6, 11):
        p = rng.uniform(0.05, 0.95, size=(N, 1))
        y = rng.integers(0, 2, size=(N, 1)).astype(np.float64)
        y[:2] = [[1.0], [0.0]]
        what = f"BinaryCrossEntropyLoss.forward（N={N}）"
        loss = student_call(loss_fn, as_tensor(p), as_tensor(y), what=what)
        _require_scalar(loss, what)
        p32 = float32_exact(p)
        check_close(loss, -np.mean(y * np.log(p32) + (1 - y) * np.log(1 - p32)), what)
        check_close(loss, ref.BinaryCrossEntropyLoss()(as_tensor(p), as_tensor(y)), what)


@book_section("3.1.4.1")
def check_model_lr_backward(env):
    """Eqs. (3.6)–(3.7): grads['w'] [D,1] and grads['b'] of the BCE risk, against finite differences,
    the reference and Paddle autograd; at random parameters and at the zero initialisation."""
    Model_LR = require(env, "Model_LR", kind="class")
    rng = np.random.default_rng(303)
    N, D = 7, 3
    X = rng.normal(size=(N, D))
    y = rng.integers(0, 2, size=(N, 1)).astype(np.float64)
    y[:2] = [[1.0], [0.0]]
    X32 = float32_exact(X)
    cases = [("随机参数", rng.normal(size=(D, 1)), rng.normal(size=(1,))),
             ("全零初始化", np.zeros((D, 1)), np.zeros(1))]
    for label, w, b in cases:
        model = student_call(Model_LR, D, what=f"Model_LR({D})", stage="signature")
        model.params["w"], model.params["b"] = as_tensor(w), as_tensor(b)
        with substituted(env, logistic=ref.logistic):
            student_call(model, as_tensor(X), what="Model_LR.forward")
            student_call(model.backward, as_tensor(y), what=f"Model_LR.backward（{label}）",
                         stage="gradients")
        grads = require_grads(model, ("w", "b"), "Model_LR.backward")
        check_shape(grads["w"], [D, 1], f"grads['w']（{label}）", squeezable=False)
        check_shape(grads["b"], [1], f"grads['b']（{label}）")

        def risk(w_, b_):
            p = np_sigmoid(X32 @ w_ + b_)
            return -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))

        dw, db = numeric_vjp(risk, [float32_exact(w), float32_exact(b)], np.array(1.0))
        check_close(grads["w"], dw, f"grads['w']（{label}，与数值梯度 finite differences）", "gradients")
        check_close(grads["b"], db, f"grads['b']（{label}，与数值梯度 finite differences）", "gradients")

        reference = ref.Model_LR(D)
        reference.params["w"], reference.params["b"] = as_tensor(w), as_tensor(b)
        reference(as_tensor(X))
        reference.backward(as_tensor(y))
        check_close(grads["w"], reference.grads["w"], f"grads['w']（{label}）", "gradients")
        check_close(grads["b"], reference.grads["b"], f"grads['b']（{label}）", "gradients")

        linear = paddle_linear(w, b)
        F.binary_cross_entropy(F.sigmoid(linear(as_tensor(X))), as_tensor(y)).backward()
        check_close(grads["w"], linear.weight.grad, f"grads['w']（{label}，与飞桨自动微分 autograd）",
                    "gradients")
        check_close(grads["b"], linear.bias.grad, f"grads['b']（{label}，与飞桨自动微分 autograd）",
                    "gradients")


@book_section("3.1.4.3")
def check_optimizer_gd_step(env):
    """Eqs. (3.8)–(3.9): every params[key] ← params[key] − init_lr·grads[key], shapes kept, two steps."""
    Optimizer_GD = require(env, "Optimizer_GD", kind="class")
    rng = np.random.default_rng(304)
    start = {"W": rng.normal(size=(3, 2)), "b": rng.normal(size=(2,)), "w": rng.normal(size=(3, 1)),
             "bias": rng.normal(size=(1,))}
    for lr in (0.3, 0.05):
        model, reference_model = build(env, "nndl_grading.fixtures.ch03.ParamModel", start), ParamModel(start)
        optimizer = student_call(Optimizer_GD, init_lr=lr, model=model, what=f"Optimizer_GD(init_lr={lr}, model)",
                                 stage="signature")
        reference = ref.Optimizer_GD(init_lr=lr, model=reference_model)
        expected = {key: value.copy() for key, value in start.items()}
        for step in range(2):
            grads = {key: rng.normal(size=value.shape) for key, value in start.items()}
            grads["bias"] = grads["bias"].reshape([])       # a 0-D bias gradient, as the book's Model_LR gives
            model.grads = {key: as_tensor(g) for key, g in grads.items()}
            reference_model.grads = {key: as_tensor(g) for key, g in grads.items()}
            student_call(optimizer.step, what=f"Optimizer_GD.step（init_lr={lr}）")
            reference.step()
            for key, value in expected.items():
                value -= lr * grads[key]
                what = f"第 {step + 1} 次 step 后的 params['{key}']（init_lr={lr}）"
                check_shape(model.params[key], value.shape, what, squeezable=False)
                check_close(model.params[key], value, what)
                check_close(model.params[key], reference_model.params[key], what)


def _binary_accuracy_cases(rng):
    preds = np.array([[0.5], [0.4999], [0.93], [0.07], [0.5001], [0.2], [0.81]])
    labels = np.array([1.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0])        # ≥ 0.5 → 5/7 correct
    yield preds, labels
    preds = rng.uniform(0, 1, size=(20, 1))
    preds[:3, 0] = 0.5
    yield preds, rng.integers(0, 2, size=20).astype(np.float64)


def _check_accuracy(accuracy, preds, labels, expected, what):
    result = student_call(accuracy, as_tensor(preds), labels, what=what)
    _require_scalar(result, what)
    check_close(result, expected, what)
    check_close(result, ref.accuracy(as_tensor(preds), labels), what)


def _multiclass_case():
    rng = np.random.default_rng(306)
    preds = np.exp(np_log_softmax(rng.normal(scale=2.0, size=(9, 3))))
    labels = preds.argmax(axis=1)
    labels[[0, 3, 4]] = (labels[[0, 3, 4]] + 1) % 3            # 6/9 correct
    return preds, labels, np.mean(preds.argmax(axis=1) == labels)


@book_section("3.1.5")
def check_accuracy_binary(env):
    """The book's binary case, eq. (3.10): preds [N,1], class 1 when ŷ ≥ 0.5, float labels [N,1]."""
    accuracy = require(env, "accuracy")
    for preds, labels in _binary_accuracy_cases(np.random.default_rng(305)):
        preds = float32_exact(preds)       # the threshold as the float32 tensor sees it
        expected = np.mean((preds[:, 0] >= 0.5) == (labels == 1))
        what = f"accuracy（二分类 binary，preds [{len(labels)},1]，labels [{len(labels)}, 1]）"
        _check_accuracy(accuracy, preds, as_tensor(labels.reshape(-1, 1)), expected, what)


@book_section("3.1.5")
def check_accuracy_multiclass(env):
    """The book's multi-class case (§3.2.6): preds [N,C] with C > 1, class = argmax, int64 labels [N]."""
    accuracy = require(env, "accuracy")
    preds, labels, expected = _multiclass_case()
    _check_accuracy(accuracy, preds, as_tensor(labels, "int64"), expected, "accuracy（多分类 multi-class，labels [9] int64）")


@book_section("3.1.5")
def check_accuracy_label_shapes(env):
    """The kit's extension beyond the book (the TODO promises it): binary labels [N], multi-class labels
    [N,1] and int32 labels."""
    accuracy = require(env, "accuracy")
    extension = "（本套件在教材之外的要求 kit extension）"
    for preds, labels in _binary_accuracy_cases(np.random.default_rng(305)):
        preds = float32_exact(preds)
        expected = np.mean((preds[:, 0] >= 0.5) == (labels == 1))
        what = f"accuracy（二分类 binary，labels [{len(labels)}]{extension}）"
        _check_accuracy(accuracy, preds, as_tensor(labels), expected, what)
    preds, labels, expected = _multiclass_case()
    for shape, dtype in (([9, 1], "int64"), ([9], "int32"), ([9, 1], "int32")):
        what = f"accuracy（多分类 multi-class，labels {shape} {dtype}{extension}）"
        _check_accuracy(accuracy, preds, as_tensor(labels.reshape(shape), dtype), expected, what)


# --------------------------------------------------------------------------------------------- RunnerV2
_N_TRAIN, _N_DEV = 6, 4
_DEV_SCRIPT = [0.5, 0.8, 0.6, 0.8, 0.3]      # dev score after step k+1: strict improvements at epochs 0, 1


class _ScriptedModel:
    """Records what RunnerV2.train does. ``params['w']`` counts the optimizer steps; outputs carry it."""

    def __init__(self, events):
        self._events = events          # evidence lives in private attributes, out of the student's reach
        self.params = {"w": as_tensor([0.0])}
        self.grads = {}
        self._backward_labels = []

    def __call__(self, X):
        return self.forward(X)

    def forward(self, X):
        n = X.shape[0]
        self._events.append("forward_train" if n == _N_TRAIN else "forward_dev" if n == _N_DEV else "forward_other")
        return paddle.full([n, 1], float(self.params["w"].item()), dtype="float32")

    def backward(self, labels):
        self._events.append("backward")
        self._backward_labels.append(labels)
        self.grads["w"] = as_tensor([1.0])


class _CountingOptimizer:
    def __init__(self, model, events):
        self.model, self._events, self.init_lr = model, events, 1.0

    def step(self):
        self._events.append("step")
        self.model.params["w"] = self.model.params["w"] + 1.0   # a new tensor, as Optimizer_GD does


def _scripted_loss(preds, labels):
    steps = float(preds.reshape([-1])[0].item())
    return as_tensor(1.0 / (1.0 + steps) if preds.shape[0] == _N_TRAIN else 2.0 / (2.0 + steps))


def _scripted_metric(preds, labels):
    steps = int(round(float(preds.reshape([-1])[0].item())))
    if preds.shape[0] == _N_TRAIN:
        return as_tensor(0.1 + 0.01 * steps)
    return as_tensor(_DEV_SCRIPT[steps - 1] if 1 <= steps <= len(_DEV_SCRIPT) else -1.0)


@book_section("3.1.6")
def _scripted_runner(env, events):
    RunnerV2 = require(env, "RunnerV2", kind="class")
    model = _ScriptedModel(events)
    runner = student_call(RunnerV2, model, _CountingOptimizer(model, events), _scripted_metric, _scripted_loss,
                          what="RunnerV2(model, optimizer, metric, loss_fn)", stage="signature")
    rng = np.random.default_rng(310)
    train = (as_tensor(rng.normal(size=(_N_TRAIN, 2))), as_tensor(rng.integers(0, 2, size=(_N_TRAIN, 1))))
    dev = (as_tensor(rng.normal(size=(_N_DEV, 2))), as_tensor(rng.integers(0, 2, size=(_N_DEV, 1))))
    return runner, model, train, dev


@book_section("3.1.6")
def _train(runner, *args, **kwargs):
    quietly(runner.train, *args, what="RunnerV2.train", stage="behaviour", **kwargs)


@book_section("3.1.6")
def check_runner_v2_train_records(env):
    """Per epoch: forward on train → loss/metric recorded → backward(y) → print_grads → step → evaluate(dev)."""
    events = []
    runner, model, train, dev = _scripted_runner(env, events)
    printed = []
    with tempfile.TemporaryDirectory() as folder:
        _train(runner, list(train), list(dev), num_epochs=4, log_epochs=2,
                       save_path=os.path.join(folder, "best.pdparams"),
                       print_grads=lambda m: (printed.append(m), events.append("print_grads")))
    if events.count("step") != 4:
        raise CheckFailure("behaviour", "RunnerV2.train(num_epochs=4)",
                           f"应调用 optimizer.step() 4 次，实际 {events.count('step')} 次")
    if events.count("backward") != 4 or len(printed) != 4 or any(m is not model for m in printed):
        raise CheckFailure("behaviour", "RunnerV2.train(num_epochs=4)",
                           "每个回合应调用一次 model.backward(y) 和一次 print_grads(model)")
    epochs, current = [], []
    for event in events:
        if event == "forward_train" and "step" in current:
            epochs.append(current)
            current = []
        current.append(event)
    epochs.append(current)
    for epoch, seq in enumerate(epochs):
        try:
            order = [seq.index("forward_train"), seq.index("backward"), seq.index("print_grads"),
                     seq.index("step"), len(seq) - 1 - seq[::-1].index("forward_dev")]
        except ValueError:
            order = None
        if order is None or order != sorted(order) or seq.index("backward") > seq.index("step"):
            raise CheckFailure("behaviour", f"RunnerV2.train 第 {epoch} 回合",
                               "顺序应为：训练集前向 → 记录损失与指标 → model.backward(y) → print_grads → "
                               f"optimizer.step() → evaluate(dev_set)；实际调用顺序 {seq}")
    for labels in model._backward_labels:
        check_close(labels, train[1], "传给 model.backward 的标签", stage="behaviour")
    expected = {
        "train_loss": [1.0 / (1.0 + e) for e in range(4)],
        "train_scores": [0.1 + 0.01 * e for e in range(4)],
        "dev_loss": [2.0 / (3.0 + e) for e in range(4)],
        "dev_scores": _DEV_SCRIPT[:4],
    }
    for name, values in expected.items():
        record = getattr(runner, name, None)
        if not isinstance(record, list) or len(record) != 4:
            got = len(record) if isinstance(record, list) else type(record).__name__
            raise CheckFailure("behaviour", f"runner.{name}", f"4 个回合后应有 4 条记录，实际 {got}")
        check_close([as_float(v, f"runner.{name}") for v in record], values, f"runner.{name}",
                    stage="behaviour")


@book_section("3.1.6")
def check_runner_v2_saves_best(env):
    """Early stopping: save model.params only when the dev score STRICTLY beats the best so far (from 0)."""
    events = []
    runner, model, train, dev = _scripted_runner(env, events)
    with tempfile.TemporaryDirectory() as folder:
        save_path = os.path.join(folder, "best.pdparams")
        _train(runner, list(train), list(dev), num_epochs=5, log_epochs=100, save_path=save_path)
        if not os.path.exists(save_path):
            raise CheckFailure("behaviour", "RunnerV2.train", "验证集指标提升时应调用 self.save_model(save_path)")
        saved = load_saved(save_path)
    steps = float(np.asarray(saved["w"]).reshape(-1)[0]) if isinstance(saved, dict) and "w" in saved else None
    if steps != 2.0:
        raise CheckFailure("behaviour", "RunnerV2.train 保存的模型",
                           f"验证集得分依次为 {_DEV_SCRIPT}，保存的应是第 1 回合（从 0 数）更新后的参数，"
                           "只在严格变好 (>) 时保存；实际保存的不是它")


def _tiny_problem(rng, classes):
    X_train, X_dev = rng.normal(size=(12, 2)), rng.normal(size=(6, 2))
    if classes == 2:
        score = np.array([1.0, -0.7])
        y_train = (X_train @ score + 0.3 * rng.normal(size=12) > 0).reshape(-1, 1)
        y_dev = (X_dev @ score > 0).reshape(-1, 1)
        return (as_tensor(X_train), as_tensor(y_train)), (as_tensor(X_dev), as_tensor(y_dev))
    y_train, y_dev = rng.integers(0, classes, size=12), rng.integers(0, classes, size=6)
    return (as_tensor(X_train), as_tensor(y_train, "int64")), (as_tensor(X_dev), as_tensor(y_dev, "int64"))


@book_section("3.1.6")
def check_runner_v2_tiny_training(env):
    """Three epochs with the reference model, loss, metric and optimizer reproduce the reference runner."""
    RunnerV2 = require(env, "RunnerV2", kind="class")
    rng = np.random.default_rng(311)
    for classes, make_model, loss_class, lr in ((2, lambda: ref.Model_LR(2), ref.BinaryCrossEntropyLoss, 0.5),
                                                (3, lambda: ref.Model_SR(2, 3), ref.MultiCrossEntropyLoss, 0.3)):
        train, dev = _tiny_problem(rng, classes)
        runners = []
        with tempfile.TemporaryDirectory() as folder:
            for runner_class in (RunnerV2, ref.RunnerV2):
                model = make_model()
                runner = student_call(runner_class, model, ref.Optimizer_GD(init_lr=lr, model=model), ref.accuracy,
                                      loss_class(), what="RunnerV2(model, optimizer, metric, loss_fn)",
                                      stage="signature")
                save_path = os.path.join(folder, f"{len(runners)}.pdparams")
                _train(runner, list(train), list(dev), num_epochs=3, log_epochs=1, save_path=save_path)
                saved = load_saved(save_path)
                runners.append((runner, saved))
        (student, student_saved), (reference, reference_saved) = runners
        what = f"RunnerV2.train（{'Model_LR' if classes == 2 else 'Model_SR'}，3 个回合）"
        for name in ("train_loss", "train_scores", "dev_loss", "dev_scores"):
            record = getattr(student, name, None)
            if not isinstance(record, list) or len(record) != 3:
                raise CheckFailure("behaviour", what, f"runner.{name} 应有 3 条记录")
            check_close([as_float(v, f"runner.{name}") for v in record], getattr(reference, name),
                        f"{what} 的 {name}", stage="behaviour")
        for key, value in reference.model.params.items():
            check_close(student.model.params[key], value, f"{what} 结束时的 params['{key}']",
                        stage="behaviour")
        if student_saved is None or not isinstance(student_saved, dict):
            raise CheckFailure("behaviour", what, "应把验证集上最优的 model.params 保存到 save_path")
        for key, value in reference_saved.items():
            if key not in student_saved:
                raise CheckFailure("behaviour", what, f"保存的参数缺少 '{key}'")
            check_close(student_saved[key], value, f"{what} 保存的最优模型 params['{key}']",
                        stage="behaviour")


# --------------------------------------------------------------------------------------------- §3.2
@book_section("3.2.2.1")
def check_softmax_values(env):
    """Eq. (3.12) over each row of X [N, D] (axis 1), for square and non-square inputs."""
    softmax = require(env, "softmax")
    rng = np.random.default_rng(307)
    for shape in ((4, 5), (3, 3), (1, 4), (6, 2)):
        X = rng.normal(scale=2.0, size=shape)
        X32 = float32_exact(X)
        what = f"softmax（输入形状 {list(shape)}）"
        out = student_call(softmax, as_tensor(X), what=what)
        require_tensor(out, what)
        check_shape(out, shape, what, squeezable=False)
        check_close(out, np.exp(np_log_softmax(X32)), what + "（每一行之和为 1）")
        check_close(out, ref.softmax(as_tensor(X)), what)


@book_section("3.2.2.1")
def check_softmax_stability(env):
    """Logits of ±1000 (overflow/underflow of exp): finite and exact after subtracting each row's max."""
    softmax = require(env, "softmax")
    rng = np.random.default_rng(308)
    X = np.vstack([[[1000.0, 0.0, -1000.0], [1000.0, 1000.0, 999.0], [-1000.0, -1000.0, -999.5],
                    [-1000.0, 1000.0, 0.0]], rng.normal(scale=1000.0, size=(3, 3))])
    X32 = float32_exact(X)
    what = "softmax（logits 为 ±1000 量级，上溢出/下溢出 overflow/underflow）"
    out = student_call(softmax, as_tensor(X), what=what)
    require_tensor(out, what)
    check_close(out, np.exp(np_log_softmax(X32)), what)


@book_section("3.2.3")
def check_mce_forward(env):
    """Eq. (3.16): −(1/N)·Σₙ log ŷ⁽ⁿ⁾[y⁽ⁿ⁾] on probabilities [N,C]; labels [N] or [N,1], int32 or int64."""
    MultiCrossEntropyLoss = require(env, "MultiCrossEntropyLoss", kind="class")
    rng = np.random.default_rng(309)
    N, C = 7, 4
    probs = np.exp(np_log_softmax(rng.normal(scale=1.5, size=(N, C))))
    y = rng.integers(0, C, size=N)
    expected = -np.mean(np.log(float32_exact(probs))[np.arange(N), y])
    loss_fn = student_call(MultiCrossEntropyLoss, what="MultiCrossEntropyLoss()", stage="signature")
    for shape, dtype in (([N], "int64"), ([N], "int32"), ([N, 1], "int64")):
        what = f"MultiCrossEntropyLoss.forward（labels {shape} {dtype}）"
        labels = as_tensor(y.reshape(shape), dtype)
        loss = student_call(loss_fn, as_tensor(probs), labels, what=what)
        _require_scalar(loss, what)
        check_close(loss, expected, what)
        check_close(loss, ref.MultiCrossEntropyLoss()(as_tensor(probs), labels), what)


@book_section("3.2.4.1")
def _model_sr_grads(env, W, b, X, labels, what):
    Model_SR = require(env, "Model_SR", kind="class")
    D, C = W.shape
    model = student_call(Model_SR, D, C, what=f"Model_SR({D}, {C})", stage="signature")
    model.params["W"], model.params["b"] = as_tensor(W), as_tensor(b)
    with substituted(env, softmax=ref.softmax):
        student_call(model, as_tensor(X), what="Model_SR.forward")
        student_call(model.backward, labels, what=what, stage="gradients")
    grads = require_grads(model, ("W", "b"), "Model_SR.backward")
    check_shape(grads["W"], [D, C], f"{what} 的 grads['W']", squeezable=False)
    check_shape(grads["b"], [C], f"{what} 的 grads['b']")
    return grads


def _mce_risk_gradients(W, b, X, y):
    X32 = float32_exact(X)

    def risk(W_, b_):
        return -np.mean(np_log_softmax(X32 @ W_ + b_)[np.arange(len(y)), y])

    return numeric_vjp(risk, [float32_exact(W), float32_exact(b)], np.array(1.0))


@book_section("3.2.4.1")
def check_model_sr_backward(env):
    """Eqs. (3.17)–(3.18): grads['W'] [D,C], grads['b'] [C] against finite differences, the reference and
    Paddle autograd (F.cross_entropy on an nn.Linear with the same weights); random and zero parameters."""
    rng = np.random.default_rng(312)
    N, D, C = 6, 3, 4
    X = rng.normal(size=(N, D))
    y = rng.integers(0, C, size=N)
    y[:C] = np.arange(C)
    for label, W, b in (("随机参数", rng.normal(size=(D, C)), rng.normal(size=(C,))),
                        ("全零初始化", np.zeros((D, C)), np.zeros(C))):
        what = f"Model_SR.backward（{label}，labels [N] int64）"
        grads = _model_sr_grads(env, W, b, X, as_tensor(y, "int64"), what)
        dW, db = _mce_risk_gradients(W, b, X, y)
        check_close(grads["W"], dW, f"{what} 的 grads['W']（与数值梯度 finite differences）", "gradients")
        check_close(grads["b"], db, f"{what} 的 grads['b']（与数值梯度 finite differences）", "gradients")
        reference = ref.Model_SR(D, C)
        reference.params["W"], reference.params["b"] = as_tensor(W), as_tensor(b)
        reference(as_tensor(X))
        reference.backward(as_tensor(y, "int64"))
        check_close(grads["W"], reference.grads["W"], f"{what} 的 grads['W']", "gradients")
        check_close(grads["b"], reference.grads["b"], f"{what} 的 grads['b']", "gradients")
        linear = paddle_linear(W, b)
        F.cross_entropy(linear(as_tensor(X)), as_tensor(y, "int64")).backward()
        check_close(grads["W"], linear.weight.grad, f"{what} 的 grads['W']（与飞桨自动微分 autograd）",
                    "gradients")
        check_close(grads["b"], linear.bias.grad, f"{what} 的 grads['b']（与飞桨自动微分 autograd）",
                    "gradients")


@book_section("3.2.4.1")
def check_model_sr_backward_labels(env):
    """The same gradients for class-id labels of shape [N] or [N,1], int32 or int64."""
    rng = np.random.default_rng(313)
    N, D, C = 5, 2, 3
    X, W, b = rng.normal(size=(N, D)), rng.normal(size=(D, C)), rng.normal(size=(C,))
    y = np.array([2, 0, 1, 2, 1])
    dW, db = _mce_risk_gradients(W, b, X, y)
    for shape, dtype in (([N, 1], "int64"), ([N], "int32"), ([N, 1], "int32")):
        what = f"Model_SR.backward（labels {shape} {dtype}）"
        grads = _model_sr_grads(env, W, b, X, as_tensor(y.reshape(shape), dtype), what)
        check_close(grads["W"], dW, f"{what} 的 grads['W']", "gradients")
        check_close(grads["b"], db, f"{what} 的 grads['b']", "gradients")
