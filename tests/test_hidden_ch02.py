"""Chapter-2 hidden checks catch known-wrong implementations and accept different correct ones."""

import os

import numpy as np
import paddle
import pytest

import nndl_ref.ch02 as ref
from hidden_cases import hidden_check_tests
from helpers import master_test

REFERENCE_ENV = {name: getattr(ref, name) for name in ref.__all__}


# --- known-wrong implementations -------------------------------------------------------------
class LinearWithoutBias(ref.Linear):
    def forward(self, X):
        return paddle.matmul(X, self.params["w"])


class LinearFlattened(ref.Linear):
    """Returns [N] instead of [N,1] while w is [D,1]."""

    def forward(self, X):
        return (paddle.matmul(X, self.params["w"]) + self.params["b"]).reshape([-1])


class LinearConstantFlat(ref.Linear):
    """Dimension 0 gives shape [N] instead of [N,1]."""

    def forward(self, X):
        if self.dim == 0:
            return paddle.full([X.shape[0]], self.params["b"].item())
        return ref.Linear.forward(self, X)


class LinearAcceptsWrongDimension(ref.Linear):
    """Returns zeros instead of refusing inputs with the wrong number of features."""

    def forward(self, X):
        if self.dim and X.shape[1] != self.dim:
            return paddle.zeros([X.shape[0], 1])
        return ref.Linear.forward(self, X)


def mse_sum(y_true, y_pred):
    return paddle.sum(paddle.square(y_true - y_pred))


def mse_half(y_true, y_pred):
    return 0.5 * paddle.mean(paddle.square(y_true - y_pred))


def _lsm_augmented(model, X, y, reg_lambda=0, penalise_bias=False, center=True):
    X64, y64 = X.numpy().astype(np.float64), y.numpy().astype(np.float64).reshape(-1)
    A = np.hstack([X64, np.ones((len(X64), 1))])
    penalty = reg_lambda * np.diag([1.0] * X64.shape[1] + [1.0 if penalise_bias else 0.0])
    solution = np.linalg.lstsq(A.T @ A + penalty, A.T @ y64, rcond=None)[0]
    model.params["w"] = paddle.to_tensor(solution[:-1], dtype="float32")
    model.params["b"] = paddle.to_tensor(solution[-1:], dtype="float32")
    return model


def lsm_penalises_bias(model, X, y, reg_lambda=0):
    return _lsm_augmented(model, X, y, reg_lambda, penalise_bias=True)


def lsm_without_intercept(model, X, y, reg_lambda=0):
    X64, y64 = X.numpy().astype(np.float64), y.numpy().astype(np.float64).reshape(-1)
    w = np.linalg.solve(X64.T @ X64 + reg_lambda * np.eye(X64.shape[1]) + 1e-9 * np.eye(X64.shape[1]), X64.T @ y64)
    model.params["w"], model.params["b"] = paddle.to_tensor(w, dtype="float32"), paddle.zeros([1])
    return model


def lsm_returns_nothing(model, X, y, reg_lambda=0):
    ref.optimizer_lsm(model, X, y, reg_lambda)


def lsm_squeezes_w(model, X, y, reg_lambda=0):
    """Squeezes w: [D] for D > 1, but 0-D for the book's D = 1 (an official-notebook failure on Paddle 3)."""
    ref.optimizer_lsm(model, X, y, reg_lambda)
    model.params["w"] = paddle.squeeze(model.params["w"])
    return model


def lsm_constant_gives_zero_bias(model, X, y, reg_lambda=0):
    """Handles a singular XᵀX by returning zeros for everything."""
    if float(paddle.max(X) - paddle.min(X)) == 0:
        model.params["w"], model.params["b"] = paddle.zeros([X.shape[1]]), paddle.zeros([1])
        return model
    return ref.optimizer_lsm(model, X, y, reg_lambda)


def polynomial_with_constant_column(x, degree=2):
    return paddle.concat([x ** k for k in range(0, degree + 1)], axis=-1)


def polynomial_off_by_one(x, degree=2):
    if degree == 0:
        return paddle.ones(x.shape)
    return paddle.concat([x ** k for k in range(1, degree)] + [x ** degree], axis=-1) if degree > 1 else x * x


class RunnerNoSave(ref.RunnerV1):
    def train(self, dataset, reg_lambda=0, model_dir="./models"):
        X, y = dataset
        self.optimizer(self.model, X, y, reg_lambda)


class RunnerIgnoresLambda(ref.RunnerV1):
    def train(self, dataset, reg_lambda=0, model_dir="./models"):
        X, y = dataset
        self.optimizer(self.model, X, y, 0)
        self.save_model(model_dir)


class RunnerMetricSwapped(ref.RunnerV1):
    def evaluate(self, dataset, **kwargs):
        X, y = dataset
        return self.metric(y, self.model(X))


class RunnerMetricSwappedShapesAsExpected(ref.RunnerV1):
    """Swapped arguments whose shapes ([N,1] first, [N] second) look like the right order."""

    def evaluate(self, dataset, **kwargs):
        X, y = dataset
        return self.metric(y.reshape([-1, 1]), self.model(X).reshape([-1]))


class RunnerEvaluatesLoss(ref.RunnerV1):
    def evaluate(self, dataset, **kwargs):
        X, y = dataset
        return paddle.mean(paddle.abs(self.model(X).reshape([-1]) - y.reshape([-1])))


WRONG_VARIANTS = {
    "check_linear_forward": [("no-bias", {"Linear": LinearWithoutBias}), ("flattened", {"Linear": LinearFlattened})],
    "check_linear_forward_special_cases": [("constant-flat", {"Linear": LinearConstantFlat}),
                                           ("accepts-wrong-D", {"Linear": LinearAcceptsWrongDimension})],
    "check_mean_squared_error": [("sum", {"mean_squared_error": mse_sum}), ("half", {"mean_squared_error": mse_half})],
    "check_optimizer_lsm_plain": [("no-intercept", {"optimizer_lsm": lsm_without_intercept}),
                                  ("no-return", {"optimizer_lsm": lsm_returns_nothing}),
                                  ("0-D-w-when-D=1", {"optimizer_lsm": lsm_squeezes_w})],
    "check_optimizer_lsm_ridge": [("penalised-bias", {"optimizer_lsm": lsm_penalises_bias})],
    "check_optimizer_lsm_constant_features": [("zero-bias", {"optimizer_lsm": lsm_constant_gives_zero_bias})],
    "check_polynomial_basis_function": [("constant-column", {"polynomial_basis_function": polynomial_with_constant_column}),
                                        ("off-by-one", {"polynomial_basis_function": polynomial_off_by_one})],
    "check_runner_v1_train": [("no-save", {"RunnerV1": RunnerNoSave}), ("ignores-lambda", {"RunnerV1": RunnerIgnoresLambda})],
    "check_runner_v1_evaluate": [("swapped", {"RunnerV1": RunnerMetricSwapped}),
                                 ("swapped-reshaped", {"RunnerV1": RunnerMetricSwappedShapesAsExpected}),
                                 ("mae", {"RunnerV1": RunnerEvaluatesLoss})],
}


# --- correct implementations written differently ---------------------------------------------
class LinearWithNumpy(ref.Linear):
    """float64 numpy inside, cast back; dimension 0 via broadcasting."""

    def forward(self, X):
        N, D = X.shape
        if self.dim == 0:
            return paddle.ones([N, 1]) * self.params["b"]
        assert D == self.dim
        w = self.params["w"].numpy().astype(np.float64)
        out = X.numpy().astype(np.float64) @ w + self.params["b"].numpy()
        return paddle.to_tensor(out.astype(np.float32))


def mse_with_loops(y_true, y_pred):
    a, b = y_true.numpy().ravel(), y_pred.numpy().ravel()
    return paddle.to_tensor(sum((x - y) ** 2 for x, y in zip(a, b)) / len(a))


def lsm_book_float32_inverse(model, X, y, reg_lambda=0):
    """The book's float32 formula with paddle.inverse (w becomes [D,1], b stays [1])."""
    D = X.shape[1]
    y = y.reshape([-1, 1])
    x_bar = paddle.mean(X, axis=0)
    y_bar = paddle.mean(y)
    x_sub = X - x_bar
    if bool(paddle.all(x_sub == 0)):
        model.params["w"], model.params["b"] = paddle.zeros([D, 1]), y_bar.reshape([1])
        return model
    tmp = paddle.inverse(paddle.matmul(x_sub.T, x_sub) + reg_lambda * paddle.eye(D))
    w = paddle.matmul(paddle.matmul(tmp, x_sub.T), y - y_bar)
    model.params["w"] = w
    model.params["b"] = (y_bar - paddle.matmul(x_bar.reshape([1, -1]), w)).reshape([1])
    return model


def polynomial_by_cumprod(x, degree=2):
    if degree == 0:
        return paddle.ones_like(x)
    return paddle.cumprod(paddle.tile(x, [1, degree]), dim=1)


class RunnerKeywordCalls(ref.RunnerV1):
    def train(self, dataset, reg_lambda=0, model_dir="./models"):
        features, labels = dataset[0], dataset[1]
        self.optimizer(self.model, features, labels, reg_lambda=reg_lambda)
        self.save_model(model_dir=model_dir)

    def evaluate(self, dataset, **kwargs):
        features, labels = dataset
        predictions = self.predict(features)
        return self.metric(predictions, labels)


class RunnerFlattensPredictions(ref.RunnerV1):
    """Reshapes the [N,1] predictions to [N] before the metric."""

    def evaluate(self, dataset, **kwargs):
        X, y = dataset
        return self.metric(self.model(X).reshape([-1]), y)


class RunnerReshapesLabels(ref.RunnerV1):
    """Reshapes the [N] labels to [N,1] before the metric."""

    def evaluate(self, dataset, **kwargs):
        X, y = dataset
        return self.metric(self.model(X), y.reshape([-1, 1]))


ALTERNATIVES = {
    "check_linear_forward": [("numpy-float64", {"Linear": LinearWithNumpy})],
    "check_linear_forward_special_cases": [("numpy-float64", {"Linear": LinearWithNumpy})],
    "check_mean_squared_error": [("loops", {"mean_squared_error": mse_with_loops})],
    "check_optimizer_lsm_plain": [("book-float32", {"optimizer_lsm": lsm_book_float32_inverse})],
    "check_optimizer_lsm_ridge": [("book-float32", {"optimizer_lsm": lsm_book_float32_inverse})],
    "check_optimizer_lsm_constant_features": [("book-float32", {"optimizer_lsm": lsm_book_float32_inverse})],
    "check_polynomial_basis_function": [("cumprod", {"polynomial_basis_function": polynomial_by_cumprod})],
    "check_runner_v1_train": [("keywords", {"RunnerV1": RunnerKeywordCalls})],
    "check_runner_v1_evaluate": [("via-predict", {"RunnerV1": RunnerKeywordCalls}),
                                 ("flattens-predictions", {"RunnerV1": RunnerFlattensPredictions}),
                                 ("reshapes-labels", {"RunnerV1": RunnerReshapesLabels})],
}

hidden_check_tests("ch02", globals())


def _run_public_runner_test(**overrides):
    test, parameters = master_test("ch02", "test_runner_v1_fits_and_scores")
    env = {**REFERENCE_ENV, "paddle": paddle, "os": os, **overrides}
    test(*(env[name] for name in parameters))


def test_runner_v1_public_test_uses_no_other_question():
    """q5's public test passes with a broken Linear and optimizer_lsm (questions 1 and 3; finding of issue 8)
    and still fails a RunnerV1 that does not save."""
    _run_public_runner_test(Linear=LinearWithoutBias, optimizer_lsm=lsm_squeezes_w)
    with pytest.raises(AssertionError):
        _run_public_runner_test(RunnerV1=RunnerNoSave)
