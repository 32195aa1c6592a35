"""The test functions the optimizers are compared on and their training loop ``train_f``
(book §7.3.1.1, §7.3.4)."""

import paddle

from ..ch01.op import Op


class OptimizedFunction(Op):
    """The weighted sphere f(x) = wᵀ(x ⊙ x) with gradient 2 w ⊙ x as an operator (book §7.3.1.1,
    eqs. 7.3–7.4); ``params['x']`` holds the point, ``backward()`` (no argument) fills ``grads['x']``.

    ``forward`` also evaluates a grid: x of shape [100, 2, 100] (a [2, 100, 100] meshgrid transposed)
    gives f on every grid point, [100, 100]. Its minimum is f(0) = 0.
    """

    def __init__(self, w):
        self.w = w
        self.params = {"x": 0}
        self.grads = {"x": 0}

    def forward(self, x):
        self.params["x"] = x
        return paddle.matmul(self.w.T, paddle.square(self.params["x"]))

    def backward(self):
        self.grads["x"] = 2 * paddle.multiply(self.w.T, self.params["x"])


class OptimizedFunction3D(Op):
    """f(x) = x₀² + x₁² + x₁³ + x₀x₁ with gradient [2x₀ + x₁, 2x₁ + 3x₁² + x₀] (book §7.3.4).

    Differs from the book: the gradient is stacked (``paddle.concat`` of two 0-D tensors fails on Paddle
    ≥ 2.5), and the book's "saddle point at (0, 0)" is a local minimum (Hessian [[2, 1], [1, 2]]); the saddle
    point is (0.25, −0.5), and f is unbounded below as x₁ → −∞. f(2, 3) = 46, ∇f(2, 3) = [7, 35].
    """

    def __init__(self):
        self.params = {"x": 0}
        self.grads = {"x": 0}

    def forward(self, x):
        self.params["x"] = x
        return x[0] ** 2 + x[1] ** 2 + x[1] ** 3 + x[0] * x[1]

    def backward(self):
        x = self.params["x"]
        self.grads["x"] = paddle.stack([2 * x[0] + x[1], 2 * x[1] + 3 * x[1] ** 2 + x[0]])


def train_f(model, optimizer, x_init, epoch):
    """Run ``epoch`` optimizer steps on a test function from ``x_init`` (book §7.3.1.1): the points
    [epoch, 2] (each recorded before its step, so the last is after epoch − 1 steps) and the losses."""
    x = x_init
    all_x, losses = [], []
    for _ in range(epoch):
        all_x.append(x.numpy())
        losses.append(model(x))
        model.backward()
        optimizer.step()
        x = model.params["x"]
    return paddle.to_tensor(all_x), losses
