"""Check a hand-written backward pass against float64 central differences (kit infrastructure, not in the
book; the method is the numerical check of NNDL §4.2.4 and CS231n's gradient checks).

Students use ``gradient_check`` on their own ``backward``; the grader's hidden checks use the same
``numeric_vjp`` and ``relative_error``, so both sides measure the error the same way.
"""

from dataclasses import dataclass

import numpy as np


def as_float64(value):
    """A Paddle tensor, numpy array, number or nested sequence as a float64 numpy array."""
    return np.asarray(value.numpy() if hasattr(value, "numpy") else value, dtype=np.float64)


def relative_error(actual, expected, floor=1e-12):
    """max |actual − expected| / max(max |expected|, floor): the error relative to the data's scale.

    ``floor`` keeps near-zero expectations from turning rounding noise into a large error. NaN anywhere
    gives NaN, which fails every ``error <= tolerance`` comparison.
    """
    actual, expected = as_float64(actual), as_float64(expected)
    difference = float(np.max(np.abs(actual - expected), initial=0.0))
    return difference / max(float(np.max(np.abs(expected), initial=0.0)), floor)


def sample_coordinates(shape, count, seed=0):
    """At most ``count`` distinct indices into an array of ``shape``, drawn with a fixed seed (all of them
    when the array is that small): finite differences of a large parameter stay cheap and reproducible."""
    size = int(np.prod(shape, dtype=np.int64))
    if count is None or size <= count:
        return list(np.ndindex(*shape))
    flat = np.random.default_rng(seed).choice(size, size=count, replace=False)
    return [np.unravel_index(i, shape) for i in np.sort(flat)]


def numeric_vjp(function, inputs, upstream, step=1e-6, coordinates=None):
    """Float64 central-difference vector–Jacobian products: ∂⟨upstream, f(inputs)⟩/∂input, one per input.

    ``function`` maps float64 numpy arrays (one per input) to anything shaped like ``upstream``.
    ``coordinates`` optionally lists, per input, the indices to differentiate (see ``sample_coordinates``);
    the other entries of that input's result are NaN.
    """
    inputs = [np.array(as_float64(x)) for x in inputs]
    upstream = as_float64(upstream)
    objective = lambda: float(np.sum(upstream * as_float64(function(*inputs)).reshape(upstream.shape)))
    grads = []
    for position, x in enumerate(inputs):
        indices = list(np.ndindex(*x.shape)) if coordinates is None else coordinates[position]
        grad = np.full(x.shape, np.nan) if coordinates is not None else np.zeros(x.shape)
        for index in indices:
            original = x[index]
            x[index] = original + step
            plus = objective()
            x[index] = original - step
            minus = objective()
            x[index] = original
            grad[index] = (plus - minus) / (2 * step)
        grads.append(grad)
    return grads


@dataclass
class GradientCheck:
    """What ``gradient_check`` found: the worst relative error, where it is, and both gradients."""
    relative_error: float
    worst_index: tuple
    numeric: np.ndarray
    analytic: np.ndarray

    def __str__(self):
        verdict = ("looks right" if self.relative_error < 1e-6 else
                   "suspicious: fine in float32, wrong in float64" if self.relative_error < 1e-3 else "WRONG")
        return (f"relative error {self.relative_error:.2e} ({verdict}); worst at index {self.worst_index}: "
                f"analytic {self.analytic[self.worst_index]:.6g}, numeric {self.numeric[self.worst_index]:.6g}")


def gradient_check(forward, x, analytic_grad, upstream=None, step=1e-6):
    """Compare ``analytic_grad`` (what your backward returned for input ``x`` and upstream gradient
    ``upstream``, ones by default) with float64 central differences of ``forward`` at ``x``.

    ``forward`` takes a float64 numpy array shaped like ``x`` and returns the output (a tensor, an array
    or a number); wrap your operator so it builds the tensor itself, e.g.
    ``lambda X: layer.forward(paddle.to_tensor(X))``. Work in float64 (``paddle.to_tensor`` of a float64
    array keeps float64): a correct backward then gives a relative error below about 1e-6.
    """
    x = as_float64(x)
    output = as_float64(forward(x.copy()))
    upstream = np.ones(output.shape) if upstream is None else as_float64(upstream).reshape(output.shape)
    (numeric,) = numeric_vjp(forward, [x], upstream, step)
    analytic = as_float64(analytic_grad).reshape(x.shape)
    worst = np.unravel_index(int(np.argmax(np.abs(analytic - numeric))), x.shape) if x.size else ()
    return GradientCheck(relative_error(analytic, numeric), tuple(int(i) for i in worst), numeric, analytic)
