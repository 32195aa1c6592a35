"""Hidden checks of chapter 2: Linear, MSE, least squares, polynomial basis, RunnerV1 (§2.2–§2.5)."""

import os
import tempfile

import numpy as np

from ..checks import (CheckFailure, as_tensor, book_section, check_close, check_shape, float32_exact, relative_error,
                      require, student_call, to_numpy, tolerances)
from ..rpc import build
from nndl_ref.ch02 import Linear as ReferenceLinear
from nndl_ref.ch02 import mean_squared_error as reference_mse
from nndl_ref.ch02 import optimizer_lsm as reference_lsm


@book_section("2.2.2.1")
def _linear_with(Linear, w, b):
    model = student_call(Linear, w.shape[0], what=f"Linear({w.shape[0]})", stage="signature")
    model.params["w"], model.params["b"] = as_tensor(w), as_tensor(b)
    return model


@book_section("2.2.2.1")
def check_linear_forward(env):
    """ŷ = Xw + b on explicit parameters, the same on the student's and the reference model."""
    Linear = require(env, "Linear", kind="class")
    rng = np.random.default_rng(21)
    X, w, b = rng.normal(size=(5, 3)), rng.normal(size=(3, 1)), rng.normal(size=(1,))
    student = _linear_with(Linear, w, b)
    reference = ReferenceLinear(3)
    reference.params["w"], reference.params["b"] = as_tensor(w), as_tensor(b)
    output = student_call(student, as_tensor(X), what="Linear.forward")
    check_shape(output, [5, 1], "Linear.forward 输出", squeezable=False)
    check_close(output, reference(as_tensor(X)), "Linear.forward 输出")
    check_close(output, X @ w + b, "Linear.forward 输出")


@book_section("2.2.2.1")
def check_linear_forward_special_cases(env):
    """1-D w (after least squares) gives [N]; dimension 0 gives the constant b; a wrong D is refused."""
    Linear = require(env, "Linear", kind="class")
    rng = np.random.default_rng(22)
    X, w, b = rng.normal(size=(4, 2)), rng.normal(size=(2,)), np.array([0.75])
    output = student_call(_linear_with(Linear, w, b), as_tensor(X), what="Linear.forward (w 形状 [D])")
    check_close(output, X @ w + b, "Linear.forward 在 w 形状为 [D] 时")
    constant = _linear_with(Linear, np.zeros((0, 1)), b)
    output = student_call(constant, as_tensor(X), what="Linear(0).forward")
    check_shape(output, [4, 1], "Linear(0).forward 输出 (degree 0)", squeezable=False)
    check_close(output, np.full((4, 1), 0.75), "Linear(0).forward 应输出常数 b")
    model = _linear_with(Linear, rng.normal(size=(3, 1)), b)
    try:
        model(as_tensor(X))
    except NotImplementedError:
        raise CheckFailure("values", "Linear.forward", "尚未实现 (raises NotImplementedError)") from None
    except Exception:
        return
    raise CheckFailure("behaviour", "Linear(3) 输入 2 维特征", "特征维数不符时应报错 (assert D == self.dim)")


@book_section("2.2.3")
def check_mean_squared_error(env):
    mean_squared_error = require(env, "mean_squared_error")
    rng = np.random.default_rng(23)
    for shape in [(7, 1), (9,)]:
        y_true, y_pred = rng.normal(size=shape), rng.normal(size=shape) * 3
        what = f"mean_squared_error 形状 {list(shape)}"
        error = student_call(mean_squared_error, as_tensor(y_true), as_tensor(y_pred), what=what)
        check_shape(error, [], what)
        check_close(error, np.mean((y_true - y_pred) ** 2), what)
        check_close(error, reference_mse(as_tensor(y_true), as_tensor(y_pred)), what)


def _ridge_with_free_bias(X, y, reg_lambda):
    """Independent float64 solution: minimise ||Xw + b − y||² + λ||w||² over the augmented [X, 1]."""
    augmented = np.hstack([X, np.ones((len(X), 1))])
    penalty = reg_lambda * np.diag([1.0] * X.shape[1] + [0.0])
    solution = np.linalg.solve(augmented.T @ augmented + penalty, augmented.T @ y)
    return solution[:-1], solution[-1]


@book_section("2.2.4")
def _fit(env, X, y, reg_lambda):
    optimizer_lsm = require(env, "optimizer_lsm")
    model = build(env, "nndl_grading.fixtures.ch02.LinearParameters", X.shape[1])
    returned = student_call(optimizer_lsm, model, as_tensor(X), as_tensor(y), reg_lambda,
                            what=f"optimizer_lsm(reg_lambda={reg_lambda})")
    if returned is not model:
        raise CheckFailure("behaviour", "optimizer_lsm", "应返回传入的 model (return model)")
    return model


def _check_fitted_shapes(model, D, what):
    """``params['w']`` is [D] (as the reference) or [D, 1] (as ``Linear`` starts), never 0-D: the book's
    pipeline (§2.2.5) then runs ``Linear.forward``, whose ``matmul`` needs a 1-D or 2-D w."""
    shape = list(np.shape(to_numpy(model.params["w"])))
    if shape not in ([D], [D, 1]):
        raise CheckFailure("shape", f"{what} 的 params['w']", f"形状应为 [{D}] 或 [{D}, 1]，实际为 {shape}"
                           "（D = 1 时也不能是 0 维张量 0-D）")
    check_shape(model.params["b"], [1], f"{what} 的 params['b']")


@book_section("2.2.4")
def check_optimizer_lsm_plain(env):
    """Three features with [N, 1] and [N] targets, then the book's own case (§2.2.5): D = 1, targets [N]."""
    rng = np.random.default_rng(24)
    X = rng.uniform(-2, 2, size=(30, 3))
    y = X @ np.array([1.5, -2.0, 0.5]) + 0.8 + rng.normal(scale=0.3, size=30)
    y_single = 1.2 * X[:, 0] + 0.5 + rng.normal(scale=0.3, size=30)
    for X, y, y_shape in [(X, y, (30, 1)), (X, y, (30,)), (X[:, :1], y_single, (30,))]:
        D = X.shape[1]
        what = f"optimizer_lsm (D = {D}，y 形状 {list(y_shape)})"
        model = _fit(env, X, y.reshape(y_shape), 0)
        _check_fitted_shapes(model, D, what)
        w, b = _ridge_with_free_bias(X, y, 0.0)
        check_close(model.params["w"], w, f"optimizer_lsm 求得的 w (y 形状 {list(y_shape)})")
        check_close(model.params["b"], b, f"optimizer_lsm 求得的 b (y 形状 {list(y_shape)})")
        reference = reference_lsm(ReferenceLinear(D), as_tensor(X), as_tensor(y.reshape(y_shape)))
        check_close(model.params["w"], reference.params["w"], "optimizer_lsm 的 w 与参考实现")


@book_section("2.2.4")
def check_optimizer_lsm_ridge(env):
    """Eq. (2.14): λ penalises w only; the bias stays free."""
    rng = np.random.default_rng(25)
    X = rng.uniform(0, 3, size=(25, 4))
    y = X @ np.array([0.5, -1.0, 2.0, 0.3]) + 4.0 + rng.normal(scale=0.5, size=25)
    for reg_lambda in (0.5, 5.0):
        model = _fit(env, X, y.reshape(-1, 1), reg_lambda)
        w, b = _ridge_with_free_bias(X, y, reg_lambda)
        check_close(model.params["w"], w, f"岭回归 (ridge) λ={reg_lambda} 的 w")
        check_close(model.params["b"], b, f"岭回归 (ridge) λ={reg_lambda} 的 b（偏置不加正则）")


@book_section("2.2.4")
def check_optimizer_lsm_constant_features(env):
    """Degree-0 features (all ones): w = 0 and b = mean(y), as the book's special case."""
    y = np.array([1.0, 2.0, 4.5, -0.5])
    model = _fit(env, np.ones((4, 1)), y.reshape(-1, 1), 0)
    check_close(model.params["w"], [0.0], "常数特征时的 w", stage="behaviour")
    check_close(model.params["b"], y.mean(), "常数特征时的 b = ȳ", stage="behaviour")


@book_section("2.3.2")
def check_polynomial_basis_function(env):
    polynomial_basis_function = require(env, "polynomial_basis_function")
    x = np.random.default_rng(26).uniform(-1.5, 1.5, size=(6, 1))
    for degree in range(0, 6):
        what = f"polynomial_basis_function(x, degree={degree})"
        result = student_call(polynomial_basis_function, as_tensor(x), degree, what=what)
        expected = np.ones_like(x) if degree == 0 else np.hstack([x ** k for k in range(1, degree + 1)])
        check_shape(result, expected.shape, what, squeezable=False)
        check_close(result, expected, what)


class _RecordingOptimizer:
    """Stands in for optimizer_lsm: records its call (privately: out of the student's reach) and sets known
    parameters."""

    def __init__(self, w, b):
        self._calls, self.w, self.b = [], w, b

    def __call__(self, model, X, y, reg_lambda=0):
        self._calls.append((model, X, y, reg_lambda))
        model.params["w"], model.params["b"] = as_tensor(self.w), as_tensor(self.b)
        return model


@book_section("2.5.3")
def check_runner_v1_train(env):
    """train calls optimizer(model, X, y, reg_lambda) once and saves the fitted parameters."""
    RunnerV1 = require(env, "RunnerV1", kind="class")
    rng = np.random.default_rng(27)
    X, y = as_tensor(rng.normal(size=(8, 2))), as_tensor(rng.normal(size=(8,)))
    w, b = np.array([0.3, -1.2]), np.array([2.0])
    optimizer = _RecordingOptimizer(w, b)
    model = ReferenceLinear(2)
    runner = student_call(RunnerV1, model, optimizer, None, reference_mse, what="RunnerV1(...)", stage="signature")
    with tempfile.TemporaryDirectory() as model_dir:
        student_call(runner.train, (X, y), reg_lambda=0.25, model_dir=model_dir, what="RunnerV1.train",
                     stage="behaviour")
        if len(optimizer._calls) != 1:
            raise CheckFailure("behaviour", "RunnerV1.train", f"应调用优化器一次，实际 {len(optimizer._calls)} 次")
        called_model, called_X, called_y, called_lambda = optimizer._calls[0]
        if called_model is not model or called_lambda != 0.25:
            raise CheckFailure("behaviour", "RunnerV1.train", "应以 (self.model, X, y, reg_lambda) 调用优化器")
        check_close(called_X, X, "RunnerV1.train 传给优化器的 X", stage="behaviour")
        check_close(called_y, y, "RunnerV1.train 传给优化器的 y", stage="behaviour")
        if not os.listdir(model_dir):
            raise CheckFailure("behaviour", "RunnerV1.train", "训练后应调用 save_model(model_dir) 保存参数")
        fresh = ReferenceLinear(2)
        runner.model = fresh
        student_call(runner.load_model, model_dir, what="RunnerV1.load_model", stage="behaviour")
        check_close(fresh.params["w"], w, "保存后再加载的 w", stage="behaviour")


def _same_values(actual, expected):
    """``actual`` holds the values of ``expected`` (any shape with as many elements), to the tolerance."""
    actual, expected = np.ravel(actual), np.ravel(expected)
    return actual.size == expected.size and relative_error(actual, expected) <= tolerances()["rtol"]


@book_section("2.5.3")
def check_runner_v1_evaluate(env):
    """evaluate((X, y)) returns metric(model(X), y), prediction first. The order is told apart by the
    VALUES passed to the metric (predictions vs. labels), so reshaping either one first is fine."""
    RunnerV1 = require(env, "RunnerV1", kind="class")
    rng = np.random.default_rng(28)
    X, y, w = rng.normal(size=(10, 3)), rng.normal(size=(10,)), rng.normal(size=(3, 1))
    model = ReferenceLinear(3)
    model.params["w"], model.params["b"] = as_tensor(w), as_tensor([0.4])
    predictions = (float32_exact(X) @ float32_exact(w)).ravel() + float32_exact(0.4)
    labels = float32_exact(y)
    calls = []

    def metric(first, second):
        calls.append((np.asarray(first.numpy() if hasattr(first, "numpy") else first, dtype=np.float64),
                      np.asarray(second.numpy() if hasattr(second, "numpy") else second, dtype=np.float64)))
        return reference_mse(first.reshape([-1]), second.reshape([-1]))

    runner = student_call(RunnerV1, model, None, None, metric, what="RunnerV1(...)",
                          stage="signature")
    score = student_call(runner.evaluate, (as_tensor(X), as_tensor(y)), what="RunnerV1.evaluate")
    if not calls:
        raise CheckFailure("behaviour", "RunnerV1.evaluate", "应调用 self.metric(y_pred, y) 计算评价指标")
    check_close(score, np.mean((predictions - labels) ** 2), "RunnerV1.evaluate 的返回值")
    first, second = calls[0]
    if not (_same_values(first, predictions) and _same_values(second, labels)):
        raise CheckFailure("behaviour", "RunnerV1.evaluate",
                           "应调用 self.metric(y_pred, y)：第一个参数是模型的预测值，第二个参数是真实标签 y")
