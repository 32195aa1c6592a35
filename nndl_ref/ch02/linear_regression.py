"""Linear and polynomial regression: ``Linear``, ``mean_squared_error``, ``optimizer_lsm`` and
``polynomial_basis_function`` (book §2.2.2–§2.3.2)."""

import numpy as np
import paddle

from ..ch01.op import Op


class Linear(Op):
    """The chapter-2 linear operator ŷ = X·w + b, rows are samples (book §2.2.2.1).

    ``params['w']`` starts as N(0,1) of shape [D,1] and ``params['b']`` as zeros [1]. With
    ``dimension == 0`` (polynomial degree 0) the output is the constant b, shape [N,1]. There is no
    backward: the model is fitted in closed form by ``optimizer_lsm``.
    """

    def __init__(self, dimension):
        self.dim = dimension
        self.params = {
            "w": paddle.randn(shape=[self.dim, 1], dtype="float32"),
            "b": paddle.zeros(shape=[1], dtype="float32"),
        }

    def forward(self, X):
        N, D = X.shape
        if self.dim == 0:
            return paddle.full(shape=[N, 1], fill_value=self.params["b"].item(), dtype="float32")
        assert D == self.dim, f"expected {self.dim} features, got {D}"
        return paddle.matmul(X, self.params["w"]) + self.params["b"]


def mean_squared_error(y_true, y_pred):
    """Mean of squared differences, 1/N without the ½ of eq. (2.8), as the book's code (book §2.2.3).

    Unlike the book, which checks only ``shape[0]``, unequal shapes raise instead of broadcasting [N]
    against [N,1] into an [N,N] matrix.
    """
    if list(y_true.shape) != list(y_pred.shape):
        raise ValueError(f"shapes differ: y_true {list(y_true.shape)} vs y_pred {list(y_pred.shape)}")
    return paddle.mean(paddle.square(y_true - y_pred))


def optimizer_lsm(model, X, y, reg_lambda=0):
    """Fit ``model.params`` in closed form, ridge on w only, bias unpenalised (book §2.2.4, eq. 2.12–2.14).

    w* = (X̃ᵀX̃ + λI)⁻¹ X̃ᵀ(y − ȳ) with X̃ = X − x̄, and b* = ȳ − x̄ᵀw*. Sets ``params['w']`` to shape
    [D] and ``params['b']`` to shape [1], so the model's output becomes [N] as in the book. Solved in
    float64 (the book inverts XᵀX in float32, which breaks down for high-degree polynomials); a
    least-squares solve also covers the book's all-constant-columns branch (w = 0, b = ȳ).
    Mutates and returns ``model``.
    """
    X64 = np.asarray(X.numpy(), dtype=np.float64)
    y64 = np.asarray(y.numpy(), dtype=np.float64).reshape(-1)
    x_bar, y_bar = X64.mean(axis=0), y64.mean()
    X_centered = X64 - x_bar
    if reg_lambda:
        gram = X_centered.T @ X_centered + reg_lambda * np.eye(X64.shape[1])
        w = np.linalg.solve(gram, X_centered.T @ (y64 - y_bar))
    else:
        w = np.linalg.lstsq(X_centered, y64 - y_bar, rcond=None)[0]
    b = y_bar - x_bar @ w
    model.params["w"] = paddle.to_tensor(w, dtype="float32")
    model.params["b"] = paddle.to_tensor([b], dtype="float32")
    return model


def polynomial_basis_function(x, degree=2):
    """φ(x) = [x, x², …, x^degree] for x of shape [N,1]; degree 0 gives ones like x (book §2.3.2, eq. 2.15)."""
    if degree == 0:
        return paddle.ones(shape=x.shape, dtype="float32")
    return paddle.concat([x ** power for power in range(1, degree + 1)], axis=-1)
