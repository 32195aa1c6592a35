"""Chapter-1 hidden checks catch known-wrong implementations and accept different correct ones."""

import itertools
import math

import numpy as np
import paddle
import pytest

import nndl_grading.hidden.ch01 as hidden
import nndl_ref.ch01 as ref
from nndl_grading.rpc import loopback_pair
from hidden_cases import hidden_check_tests
from helpers import master_test

REFERENCE_ENV = {name: getattr(ref, name) for name in ref.__all__}


# --- known-wrong implementations -------------------------------------------------------------
def broadcast_no_left_pad(shape_x, shape_y):
    """Aligns shapes from the left instead of the right."""
    result = []
    for i in range(max(len(shape_x), len(shape_y))):
        a = shape_x[i] if i < len(shape_x) else 1
        b = shape_y[i] if i < len(shape_y) else 1
        if a != b and 1 not in (a, b):
            raise ValueError("mismatch")
        result.append(max(a, b))
    return result


def broadcast_never_raises(shape_x, shape_y):
    """Takes the larger size without checking compatibility."""
    ndim = max(len(shape_x), len(shape_y))
    x = [1] * (ndim - len(shape_x)) + list(shape_x)
    y = [1] * (ndim - len(shape_y)) + list(shape_y)
    return [max(a, b) for a, b in zip(x, y)]


def broadcast_with_paddle(shape_x, shape_y):
    """Correct values, but calls the helper the prompt forbids."""
    return list(paddle.broadcast_shape(shape_x, shape_y))


def broadcast_with_numpy_hiding_the_call(shape_x, shape_y):
    """Calls the forbidden numpy helper and turns any error it raises into the expected ValueError."""
    try:
        return list(np.broadcast_shapes(tuple(shape_x), tuple(shape_y)))
    except Exception as error:
        raise ValueError(str(error)) from None


class add_backward_returns_one(ref.Op):
    def forward(self, x, y):
        return x + y

    def backward(self, grads):
        return 1, 1                  # ignores the upstream gradient


class add_forward_subtracts(ref.add):
    def forward(self, x, y):
        self.x, self.y = x, y
        return x - y


class multiply_swapped_grads(ref.multiply):
    def backward(self, grads):
        return grads * self.x, grads * self.y


class multiply_no_cache(ref.Op):
    """Backward uses the first call's inputs forever (caches only once)."""

    def forward(self, x, y):
        if not hasattr(self, "x"):
            self.x, self.y = x, y
        return x * y

    def backward(self, grads):
        return grads * self.y, grads * self.x


class multiply_forward_adds(ref.multiply):
    def forward(self, x, y):
        self.x, self.y = x, y
        return x + y


class exponential_grad_without_upstream(ref.exponential):
    def backward(self, grads):
        return math.exp(self.x)


class exponential_forward_e_times(ref.exponential):
    def forward(self, x):
        self.x = x
        return math.e * x


def chain_rule_shared_multiply(a, b, c, d):
    """The book's demo: one multiply instance used twice, so (a, b) get c·d's cached inputs."""
    mul, add_op, exp_op = ref.multiply(), ref.add(), ref.exponential()
    g = exp_op(add_op(mul(a, b), mul(c, d)))
    grad_ab, grad_cd = add_op.backward(exp_op.backward(1.0))
    grad_a, grad_b = mul.backward(grad_ab)
    grad_c, grad_d = mul.backward(grad_cd)
    return g, (grad_a, grad_b, grad_c, grad_d)


def chain_rule_forgets_exp(a, b, c, d):
    g = math.exp(a * b + c * d)
    return g, (b, a, d, c)


WRONG_VARIANTS = {
    "check_broadcast_shape": [("left-aligned", {"broadcast_shape": broadcast_no_left_pad}),
                              ("never-raises", {"broadcast_shape": broadcast_never_raises}),
                              ("calls-paddle-broadcast_shape", {"broadcast_shape": broadcast_with_paddle}),
                              ("calls-numpy-broadcast_shapes", {"broadcast_shape": broadcast_with_numpy_hiding_the_call}),
                              ("is-paddle-broadcast_shape", {"broadcast_shape": paddle.broadcast_shape})],
    "check_add_forward": [("subtracts", {"add": add_forward_subtracts})],
    "check_add_backward": [("ignores-upstream", {"add": add_backward_returns_one})],
    "check_multiply_forward": [("adds", {"multiply": multiply_forward_adds})],
    "check_multiply_backward": [("swapped", {"multiply": multiply_swapped_grads}),
                                ("stale-cache", {"multiply": multiply_no_cache})],
    "check_exponential_forward": [("e-times-x", {"exponential": exponential_forward_e_times})],
    "check_exponential_backward": [("no-upstream", {"exponential": exponential_grad_without_upstream})],
    "check_exp_ab_plus_cd": [("shared-multiply", {"exp_ab_plus_cd": chain_rule_shared_multiply}),
                             ("forgets-exp", {"exp_ab_plus_cd": chain_rule_forgets_exp})],
}


# --- correct implementations written differently ---------------------------------------------
def broadcast_with_numpy_style_loop(shape_x, shape_y):
    result = []
    for a, b in itertools.zip_longest(reversed(shape_x), reversed(shape_y), fillvalue=1):
        if a != b and a != 1 and b != 1:
            raise ValueError(f"{a} vs {b}")
        result.insert(0, b if a == 1 else a)
    return tuple(result)             # a tuple instead of a list


class add_as_tuple_of_copies(ref.Op):
    def __call__(self, x, y):        # the book's own override of __call__
        return self.forward(x, y)

    def forward(self, x, y):
        self.x, self.y = x, y
        return y + x

    def backward(self, grads):
        return [grads, grads]        # a list, not a tuple


class multiply_book_style(ref.Op):
    def __init__(self):
        super().__init__()

    def __call__(self, x, y):
        return self.forward(x, y)

    def forward(self, x, y):
        self.inputs = (x, y)
        return x * y

    def backward(self, grads):
        x, y = self.inputs
        return y * grads, x * grads


class exponential_with_numpy(ref.Op):
    def forward(self, x):
        self.out = float(np.exp(x))  # caches the output instead of the input
        return self.out

    def backward(self, grads):
        return self.out * grads


def chain_rule_closed_form(a, b, c, d):
    g = math.exp(a * b + c * d)
    return g, [g * b, g * a, g * d, g * c]


ALTERNATIVES = {
    "check_broadcast_shape": [("zip-longest-tuple", {"broadcast_shape": broadcast_with_numpy_style_loop})],
    "check_add_forward": [("book-call", {"add": add_as_tuple_of_copies})],
    "check_add_backward": [("list-result", {"add": add_as_tuple_of_copies})],
    "check_multiply_forward": [("book-style", {"multiply": multiply_book_style})],
    "check_multiply_backward": [("book-style", {"multiply": multiply_book_style})],
    "check_exponential_forward": [("numpy", {"exponential": exponential_with_numpy})],
    "check_exponential_backward": [("cached-output", {"exponential": exponential_with_numpy})],
    "check_exp_ab_plus_cd": [("closed-form", {"exp_ab_plus_cd": chain_rule_closed_form})],
}

hidden_check_tests("ch01", globals())


NOTEBOOK_CHAIN_RULE = '''
def exp_ab_plus_cd(a, b, c, d):
    mul_ab, mul_cd, add_op, exp_op = multiply(), multiply(), add(), exponential()
    g = exp_op(add_op(mul_ab(a, b), mul_cd(c, d)))
    grad_ab, grad_cd = add_op.backward(exp_op.backward(1.0))
    return g, (*mul_ab.backward(grad_ab), *mul_cd.backward(grad_cd))
'''


class MultiplyWrongBackward(ref.multiply):
    def backward(self, grads):
        return grads, grads


def test_chain_rule_check_does_not_depend_on_the_students_operators():
    """A notebook's composite looks its operators up in the notebook globals: a stubbed or wrong operator of
    questions 2–4 must not fail q5 (finding of issue 8), and the notebook's own names are restored after."""
    env = {"add": NotImplemented, "multiply": MultiplyWrongBackward, "exponential": ref.exponential}
    exec(compile(NOTEBOOK_CHAIN_RULE, "<notebook>", "exec"), env)
    hidden.check_exp_ab_plus_cd(env)
    assert env["add"] is NotImplemented and env["multiply"] is MultiplyWrongBackward


@pytest.mark.parametrize("mode", ["direct", "rpc"])
def test_chain_rule_public_test_uses_correct_operators(mode):
    """q5's public test runs the notebook's composite on operators of its own, so a stubbed or wrong operator
    of questions 2–4 cannot fail it; the notebook's operators are restored; a wrong composite still fails."""
    test, parameters = master_test("ch01", "test_chain_rule_book_point")
    for composite, passes in ((NOTEBOOK_CHAIN_RULE, True), (NOTEBOOK_CHAIN_RULE.replace("1.0", "2.0"), False)):
        namespace = {"add": NotImplemented, "multiply": MultiplyWrongBackward, "exponential": ref.exponential,
                     "math": math}
        exec(compile(composite, "<notebook>", "exec"), namespace)
        env = namespace if mode == "direct" else loopback_pair(namespace)[1]
        arguments = [env if name == "env" else namespace[name] for name in parameters]
        if passes:
            test(*arguments)
        else:
            with pytest.raises(AssertionError):
                test(*arguments)
        assert namespace["add"] is NotImplemented and namespace["multiply"] is MultiplyWrongBackward
