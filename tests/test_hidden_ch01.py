"""Chapter-1 hidden checks catch known-wrong implementations and accept different correct ones."""

import itertools
import math

import numpy as np
import paddle

import nndl_ref.ch01 as ref
from hidden_cases import hidden_check_tests

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
