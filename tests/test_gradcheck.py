"""The gradient check students run on their own backward passes (and whose numeric_vjp and
relative_error the hidden checks use): expected values are closed forms."""

import numpy as np
import paddle
import pytest

from nndl_ref.gradcheck import gradient_check, numeric_vjp, relative_error, sample_coordinates


def test_numeric_vjp_matches_closed_form_products():
    rng = np.random.default_rng(0)
    A, B, G = rng.normal(size=(3, 4)), rng.normal(size=(4, 2)), rng.normal(size=(3, 2))
    dA, dB = numeric_vjp(lambda a, b: a @ b, [A, B], G)
    np.testing.assert_allclose(dA, G @ B.T, atol=1e-8)
    np.testing.assert_allclose(dB, A.T @ G, atol=1e-8)


def test_numeric_vjp_on_sampled_coordinates_leaves_the_rest_nan():
    x = np.linspace(-1.0, 1.0, 50).reshape(5, 10)
    chosen = sample_coordinates(x.shape, 7, seed=3)
    assert len(set(chosen)) == 7 and chosen == sample_coordinates(x.shape, 7, seed=3)
    (grad,) = numeric_vjp(np.sin, [x], np.ones_like(x), coordinates=[chosen])
    assert np.isnan(grad).sum() == x.size - 7
    rows, cols = zip(*chosen)
    np.testing.assert_allclose(grad[rows, cols], np.cos(x[rows, cols]), rtol=1e-8)
    assert len(sample_coordinates((2, 3), 20)) == 6


def test_relative_error_is_scaled_by_the_expected_values_and_nan_never_passes():
    assert relative_error([1.0, 2.0], [1.0, 2.0]) == 0.0
    assert relative_error([1.0, 2.1], [1.0, 2.0]) == pytest.approx(0.05)
    assert relative_error([1e-14], [0.0], floor=1e-6) == pytest.approx(1e-8)
    assert not relative_error([np.nan], [1.0]) <= 1.0


def _tanh_backward(x, upstream):
    return upstream * (1 - np.tanh(x) ** 2)


def test_gradient_check_accepts_a_correct_backward_on_a_paddle_forward():
    x = np.random.default_rng(1).normal(size=(4, 3))
    upstream = np.random.default_rng(2).normal(size=(4, 3))
    result = gradient_check(lambda X: paddle.tanh(paddle.to_tensor(X)), x, _tanh_backward(x, upstream), upstream)
    assert result.relative_error < 1e-8
    assert "looks right" in str(result)


def test_gradient_check_names_the_worst_coordinate_of_a_wrong_backward():
    x = np.random.default_rng(1).normal(size=(4, 3))
    wrong = _tanh_backward(x, np.ones_like(x))
    wrong[2, 1] += 0.5
    result = gradient_check(np.tanh, x, wrong)
    assert result.relative_error > 0.1 and result.worst_index == (2, 1)
    assert "WRONG" in str(result) and "(2, 1)" in str(result)


def test_gradient_check_with_a_scalar_output():
    x = np.array([0.3, -1.2, 2.0])
    result = gradient_check(lambda v: float(np.sum(v ** 3)), x, 3 * x ** 2)
    assert result.relative_error < 1e-8
