"""Activation functions as plain tensor functions (book §4.1.2 and 动手练习 4.1).

The book's ``logistic`` is chapter 3's (book §3.1.2); chapter 4 prints it again unchanged (§4.1.2.1),
so it is not repeated here.
"""

import paddle


def tanh(z):
    """Tanh(z) = (e^z − e^−z)/(e^z + e^−z), element-wise (book §4.1.2.1, eq. 4.4).

    Computed as 2·σ(2z) − 1, which equals the book's formula but does not overflow to NaN for
    |z| > 88.7 in float32 as the printed one does (and keeps a correct autograd everywhere).
    """
    return 2.0 * paddle.nn.functional.sigmoid(2.0 * z) - 1.0


def relu(z):
    """ReLU(z) = max(0, z), element-wise (book §4.1.2.2, eq. 4.5)."""
    return paddle.maximum(z, paddle.zeros_like(z))


def leaky_relu(z, negative_slope=0.1):
    """LeakyReLU(z) = max(0, z) + λ·min(0, z) with λ = ``negative_slope`` (book §4.1.2.2, eq. 4.6).

    The default λ = 0.1 is the book's; note that ``paddle.nn.functional.leaky_relu`` defaults to 0.01.
    """
    zeros = paddle.zeros_like(z)
    return paddle.maximum(z, zeros) + negative_slope * paddle.minimum(z, zeros)


def hard_logistic(z):
    """Hard-Logistic(z) = max(min(0.25·z + 0.5, 1), 0) (book §4.1.2, 动手练习 4.1).

    It clips σ's first-order Taylor expansion at 0 to [0, 1] and equals
    ``F.hardsigmoid(z, slope=0.25, offset=0.5)`` (Paddle's default slope is 1/6).
    """
    return paddle.clip(0.25 * z + 0.5, min=0.0, max=1.0)


def hard_tanh(z):
    """Hard-Tanh(z) = max(min(z, 1), −1) (book §4.1.2, 动手练习 4.1)."""
    return paddle.clip(z, min=-1.0, max=1.0)


def elu(z, gamma=1.0):
    """ELU(z) = max(0, z) + min(0, γ·(e^z − 1)) with γ = ``gamma`` ≥ 0 (book §4.1.2, 动手练习 4.1)."""
    zeros = paddle.zeros_like(z)
    return paddle.maximum(z, zeros) + gamma * paddle.expm1(paddle.minimum(z, zeros))


def softplus(z):
    """Softplus(z) = log(1 + e^z) (book §4.1.2, 动手练习 4.1), computed stably as max(z, 0) + log1p(e^−|z|)."""
    return paddle.maximum(z, paddle.zeros_like(z)) + paddle.log1p(paddle.exp(-paddle.abs(z)))


def swish(z, beta=1.0):
    """Swish(z) = z·σ(β·z) with β = ``beta`` (book §4.1.2, 动手练习 4.1); β = 1 equals ``F.swish``."""
    return z * paddle.nn.functional.sigmoid(beta * z)
