"""Hidden checks of chapter 1: broadcasting (§1.2.5.4) and the scalar operators (§1.3.1)."""

import math

import numpy as np
import paddle

from nndl_ref import ch01 as ref

from ..checks import CheckFailure, book_section, check_close, numeric_vjp, require, student_call, substituted
from ..rpc import build


def _broadcast_cases(rng, count=30):
    """Pairs of shapes, about half broadcastable, built from fixed random draws."""
    cases = []
    for _ in range(count):
        ndim = int(rng.integers(1, 5))
        shape = [int(d) for d in rng.integers(1, 5, size=ndim)]
        other = [d if rng.random() < 0.5 else 1 for d in shape]
        if rng.random() < 0.3:
            other[int(rng.integers(ndim))] = int(rng.integers(5, 8))  # a clash unless shape there is 1
        other = other[int(rng.integers(0, ndim)):]
        cases.append((shape, other) if rng.random() < 0.5 else (other, shape))
    return cases


_FORBIDDEN_MESSAGE = "本题不能调用 paddle.broadcast_shape / numpy.broadcast_shapes"


@book_section("1.2.5.4")
def check_broadcast_shape(env):
    """The rule of §1.2.5.4 on 30 shape pairs, about half of them not broadcastable, with the library's
    broadcast helpers banned (in the student's process) while the student's function runs."""
    broadcast_shape = require(env, "broadcast_shape")
    cases = []
    for shape_x, shape_y in _broadcast_cases(np.random.default_rng(101)):
        try:
            expected = list(paddle.broadcast_shape(shape_x, shape_y))
        except ValueError:
            expected = None
        cases.append((shape_x, shape_y, expected))
    ban = build(env, "nndl_grading.fixtures.ch01.BroadcastHelpersBanned", broadcast_shape)
    if ban.is_helper:
        raise CheckFailure("behaviour", "broadcast_shape", _FORBIDDEN_MESSAGE)
    ban.start()
    try:
        for shape_x, shape_y, expected in cases:
            _check_broadcast_case(broadcast_shape, shape_x, shape_y, expected, ban)
    finally:
        ban.stop()


@book_section("1.2.5.4")
def _check_broadcast_case(broadcast_shape, shape_x, shape_y, expected, ban):
    what = f"broadcast_shape({shape_x}, {shape_y})"
    raised = False
    try:
        result = broadcast_shape(shape_x, shape_y)
    except NotImplementedError:
        raise CheckFailure("values", what, "尚未实现 (raises NotImplementedError)") from None
    except Exception as error:  # a forbidden call is reported just below
        raised, result = True, error
    if ban.calls:
        raise CheckFailure("behaviour", what, _FORBIDDEN_MESSAGE)
    if expected is None:
        if not raised:
            raise CheckFailure("behaviour", what, f"无法广播时应抛出异常 (raise)，却返回了 {result}")
        return
    if raised:
        raise CheckFailure("values", what, f"运行出错 {type(result).__name__}: {result}")
    try:
        result = [int(d) for d in result]
    except Exception:
        raise CheckFailure("values", what, f"应返回形状（整数列表），实际为 {result!r}") from None
    if result != expected:
        raise CheckFailure("values", what, f"应为 {expected}，实际为 {result}")


def _binary_op_forward(env, name, expected_fn):
    op_class = require(env, name, kind="class")
    rng = np.random.default_rng(11)
    x, y = rng.normal(size=(2, 3)), rng.normal(size=(2, 3))
    for a, b in [(2.0, -3.5), (paddle.to_tensor(x, dtype="float32"), paddle.to_tensor(y, dtype="float32"))]:
        op = student_call(op_class, what=f"{name}()", stage="signature")
        result = student_call(op, a, b, what=f"{name}.forward")
        check_close(result, expected_fn(np.asarray(a, dtype=float) if np.isscalar(a) else x,
                                        np.asarray(b, dtype=float) if np.isscalar(b) else y),
                    f"{name}.forward")


def _binary_op_backward(env, name, forward_fn):
    """Backward returns (dx, dy) equal to the float64 finite-difference VJP, using the LATEST cached inputs."""
    op_class = require(env, name, kind="class")
    rng = np.random.default_rng(12)
    x, y, upstream = rng.normal(size=(2, 3)), rng.normal(size=(2, 3)), rng.normal(size=(2, 3))
    expected = numeric_vjp(forward_fn, [x, y], upstream)
    op = student_call(op_class, what=f"{name}()", stage="signature")
    for a, b in ((y, x), (x, y)):  # the second call's inputs must be the ones backward uses
        student_call(op, paddle.to_tensor(a, dtype="float32"), paddle.to_tensor(b, dtype="float32"),
                     what=f"{name}.forward")
    grads = student_call(op.backward, paddle.to_tensor(upstream, dtype="float32"),
                         what=f"{name}.backward", stage="gradients")
    if not isinstance(grads, (tuple, list)) or len(grads) != 2:
        raise CheckFailure("signature", f"{name}.backward", "应返回两个梯度 (grads_x, grads_y)")
    check_close(grads[0], expected[0], f"{name}.backward 对 x 的梯度", stage="gradients")
    check_close(grads[1], expected[1], f"{name}.backward 对 y 的梯度", stage="gradients")
    scalar_op = student_call(op_class, what=f"{name}()", stage="signature")
    student_call(scalar_op, 1.5, -2.0, what=f"{name}.forward (scalars)")
    grads = student_call(scalar_op.backward, 2.0, what=f"{name}.backward (scalars)",
                         stage="gradients")
    expected = numeric_vjp(forward_fn, [np.array(1.5), np.array(-2.0)], np.array(2.0))
    check_close(grads[0], expected[0], f"{name}.backward 标量输入 (scalar inputs) 的 x 梯度", "gradients")
    check_close(grads[1], expected[1], f"{name}.backward 标量输入 (scalar inputs) 的 y 梯度", "gradients")


@book_section("1.3.1.1")
def check_add_forward(env):
    _binary_op_forward(env, "add", lambda x, y: x + y)


@book_section("1.3.1.1")
def check_add_backward(env):
    _binary_op_backward(env, "add", lambda x, y: x + y)


@book_section("1.3.1.2")
def check_multiply_forward(env):
    _binary_op_forward(env, "multiply", lambda x, y: x * y)


@book_section("1.3.1.2")
def check_multiply_backward(env):
    _binary_op_backward(env, "multiply", lambda x, y: x * y)


@book_section("1.3.1.3")
def check_exponential_forward(env):
    op_class = require(env, "exponential", kind="class")
    for x in (0.0, 1.7, -2.3):
        op = student_call(op_class, what="exponential()", stage="signature")
        result = student_call(op, x, what="exponential.forward")
        check_close(result, math.exp(x), f"exponential.forward({x})")


@book_section("1.3.1.3")
def check_exponential_backward(env):
    op_class = require(env, "exponential", kind="class")
    for x, upstream in ((0.4, 1.0), (-1.1, 2.5), (2.0, -0.3)):
        op = student_call(op_class, what="exponential()", stage="signature")
        student_call(op, x, what="exponential.forward")
        grad = student_call(op.backward, upstream, what="exponential.backward",
                            stage="gradients")
        expected = numeric_vjp(np.exp, [np.array(x)], np.array(upstream))[0]
        check_close(grad, expected, f"exponential.backward at x={x}", stage="gradients")


@book_section("1.3.1.3")
def check_exp_ab_plus_cd(env):
    """Gradients of g = exp(a·b + c·d) against finite differences, on the book's point and others."""
    function = require(env, "exp_ab_plus_cd")

    def g(a, b, c, d):
        return np.exp(a * b + c * d)

    for point in ((2.0, 3.0, 2.0, 2.0), (0.5, -1.0, 1.5, 0.25), (-0.7, 0.9, 1.1, -1.3)):
        what = f"exp_ab_plus_cd{point}"
        # the operators are questions 2–4: the reference's, so that only the composition is graded here
        with substituted(env, add=ref.add, multiply=ref.multiply, exponential=ref.exponential):
            result = student_call(function, *point, what=what)
        if not isinstance(result, (tuple, list)) or len(result) != 2 or len(result[1]) != 4:
            raise CheckFailure("signature", what, "应返回 (g, (dg_da, dg_db, dg_dc, dg_dd))")
        check_close(result[0], g(*point), f"{what} 的 g")
        expected = numeric_vjp(g, [np.array(v) for v in point], np.array(1.0))
        for name, grad, want in zip("abcd", result[1], expected):
            check_close(grad, want, f"{what} 的 dg/d{name}", stage="gradients")
