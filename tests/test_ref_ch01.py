"""Chapter 1 reference: broadcasting rule and the scalar operators against Paddle and the book."""

import math

import numpy as np
import paddle
import pytest

from nndl_ref.ch01 import add, broadcast_shape, exp_ab_plus_cd, exponential, multiply


@pytest.mark.parametrize("shape_x,shape_y", [([2, 3, 4], [2, 3, 4]), ([2, 3, 1, 5], [3, 4, 1]), ([1], [4, 1, 3]),
                                             ([5, 1], [1, 6])])
def test_broadcast_shape_matches_paddle(shape_x, shape_y):
    assert broadcast_shape(shape_x, shape_y) == list(paddle.broadcast_shape(shape_x, shape_y))


def test_broadcast_shape_book_mismatch_raises():
    with pytest.raises(ValueError):  # book §1.2.5.4: [2,3,4] with [2,3,6] cannot broadcast
        broadcast_shape([2, 3, 4], [2, 3, 6])


def test_book_demo_g_equals_e_to_the_10():
    g, _ = exp_ab_plus_cd(2, 3, 2, 2)
    assert g == pytest.approx(22026.465794806718, rel=1e-12)   # book line 1352


def test_chain_rule_gradients_match_paddle_autograd():
    values = [paddle.to_tensor(v, dtype="float64", stop_gradient=False) for v in (2.0, 3.0, 2.0, 2.0)]
    a, b, c, d = values
    paddle.exp(a * b + c * d).backward()
    _, grads = exp_ab_plus_cd(2.0, 3.0, 2.0, 2.0)
    np.testing.assert_allclose(grads, [v.grad.item() for v in values], rtol=1e-12)
    assert grads[0] == pytest.approx(3 * math.exp(10))   # the book's four gradients: b·e¹⁰, a·e¹⁰, d·e¹⁰, c·e¹⁰


def test_erratum_shared_multiply_instance_breaks_backward():
    """Book §1.3.1.3 reuses one multiply instance; its backward then returns (c, d)'s cache for (a, b)."""
    shared = multiply()
    shared(2.0, 3.0)
    shared(5.0, 7.0)
    assert shared.backward(1.0) == (7.0, 5.0)   # not (3, 2): the reference uses one instance per product


def test_binary_ops_on_tensors_match_autograd():
    x = paddle.to_tensor([[1.0, -2.0], [0.5, 3.0]], stop_gradient=False)
    y = paddle.to_tensor([[4.0, 0.25], [-1.0, 2.0]], stop_gradient=False)
    upstream = paddle.to_tensor([[1.0, 2.0], [3.0, 4.0]])
    for op_class, fn in ((add, paddle.add), (multiply, paddle.multiply)):
        op = op_class()
        np.testing.assert_allclose(op(x, y).numpy(), fn(x, y).numpy())
        grad_x, grad_y = paddle.grad(fn(x, y), [x, y], grad_outputs=upstream)
        mine = op.backward(upstream)
        np.testing.assert_allclose(mine[0].numpy(), grad_x.numpy())
        np.testing.assert_allclose(mine[1].numpy(), grad_y.numpy())


def test_exponential_backward_scales_upstream():
    op = exponential()
    assert op(1.5) == pytest.approx(math.exp(1.5))
    assert op.backward(2.0) == pytest.approx(2 * math.exp(1.5))
