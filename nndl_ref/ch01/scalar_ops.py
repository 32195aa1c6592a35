"""Scalar operators add, multiply and exponential with hand-written backward (book §1.3.1.1–1.3.1.3)."""

import math

from .op import Op


class add(Op):
    """z = x + y; backward returns (dz·1, dz·1) (book §1.3.1.1)."""

    def forward(self, x, y):
        self.x, self.y = x, y
        return x + y

    def backward(self, grads):
        return grads * 1, grads * 1


class multiply(Op):
    """z = x · y; backward returns (dz·y, dz·x) using the cached inputs (book §1.3.1.2)."""

    def forward(self, x, y):
        self.x, self.y = x, y
        return x * y

    def backward(self, grads):
        return grads * self.y, grads * self.x


class exponential(Op):
    """z = exp(x) of a Python number; backward returns dz·exp(x) (book §1.3.1.3, scalars as in the book)."""

    def forward(self, x):
        self.x = x
        return math.exp(x)

    def backward(self, grads):
        return grads * math.exp(self.x)


def exp_ab_plus_cd(a, b, c, d):
    """g = exp(a·b + c·d) built from the three operators, with its gradients (book §1.3.1.3).

    Returns ``(g, (dg/da, dg/db, dg/dc, dg/dd))``. Each product gets its own ``multiply`` instance:
    the book reuses one, which overwrites the cached inputs and breaks the backward pass.
    """
    mul_ab, mul_cd, add_op, exp_op = multiply(), multiply(), add(), exponential()
    g = exp_op(add_op(mul_ab(a, b), mul_cd(c, d)))
    grad_sum = exp_op.backward(1.0)
    grad_ab, grad_cd = add_op.backward(grad_sum)
    grad_a, grad_b = mul_ab.backward(grad_ab)
    grad_c, grad_d = mul_cd.backward(grad_cd)
    return g, (grad_a, grad_b, grad_c, grad_d)
