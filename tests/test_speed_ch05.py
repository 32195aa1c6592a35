"""The speed-minded code paths of the chapter-5 reference and of ``import nndl_ref``: both matrix-product
layouts of ``Conv2D`` (§5.2.1.2), the average pooling as a product and the max pooling's tie (§5.2.2),
against Paddle's built-ins with copied weights; the chapters load only when asked for."""

import subprocess
import sys

import numpy as np
import paddle
import paddle.nn as nn
import paddle.nn.functional as F
import pytest

from nndl_ref.ch05.conv import Conv2D
from nndl_ref.ch05.pooling import Pool2D


def _parameter(values):
    return paddle.ParamAttr(initializer=nn.initializer.Assign(np.asarray(values, dtype="float32")))


# (in, out, kernel, stride, padding, input [B, D, M, N]): M'·N' ≥ out (one product per image), then < out
# (one product for the whole batch), and equal
@pytest.mark.parametrize("D, P, k, stride, padding, shape", [
    (3, 2, 3, 1, 1, (2, 3, 7, 6)),
    (2, 8, 3, 2, 0, (3, 2, 5, 6)),
    (4, 6, 2, 1, 0, (2, 4, 3, 4)),
])
def test_conv2d_matches_paddle_conv2d_and_its_gradients_in_both_layouts(D, P, k, stride, padding, shape):
    rng = np.random.default_rng(5)
    W, b, X = rng.normal(size=(P, D, k, k)), rng.normal(size=(P, 1)), rng.normal(size=shape).astype("float32")
    conv = Conv2D(D, P, k, stride=stride, padding=padding, weight_attr=_parameter(W), bias_attr=_parameter(b))
    w_builtin = paddle.to_tensor(W.astype("float32"), stop_gradient=False)
    b_builtin = paddle.to_tensor(b.reshape(-1).astype("float32"), stop_gradient=False)
    x_ours, x_builtin = paddle.to_tensor(X, stop_gradient=False), paddle.to_tensor(X, stop_gradient=False)
    ours = conv(x_ours)
    expected = F.conv2d(x_builtin, w_builtin, b_builtin, stride=stride, padding=padding)
    assert ours.shape == expected.shape
    np.testing.assert_allclose(ours.numpy(), expected.numpy(), rtol=1e-5, atol=1e-5)
    upstream = paddle.to_tensor(rng.normal(size=expected.shape).astype("float32"))
    (ours * upstream).sum().backward()
    (expected * upstream).sum().backward()
    for actual, wanted in ((x_ours, x_builtin), (conv.weight, w_builtin)):
        np.testing.assert_allclose(actual.grad.numpy(), wanted.grad.numpy(), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(conv.bias.grad.numpy().reshape(-1), b_builtin.grad.numpy(), rtol=1e-4, atol=1e-4)


def test_average_pooling_keeps_a_float64_input_float64():
    X = np.random.default_rng(6).normal(size=(2, 2, 5, 4))
    pooled = Pool2D(size=(2, 3), mode="avg", stride=1)(paddle.to_tensor(X))
    windows = np.lib.stride_tricks.sliding_window_view(X, (2, 3), axis=(2, 3))    # the mean, independently
    assert pooled.dtype == paddle.float64
    np.testing.assert_allclose(pooled.numpy(), windows.mean(axis=(-2, -1)), rtol=1e-12)


def test_max_pooling_sends_a_tie_to_the_first_maximum_like_max_pool2d():
    X = np.array([[[[1.0, 3, 3, 0], [3, 1, 2, 2], [0, 0, 2, 2]]]], dtype="float32")
    for stride in (1, 2):
        x_ours, x_builtin = paddle.to_tensor(X, stop_gradient=False), paddle.to_tensor(X, stop_gradient=False)
        ours, expected = Pool2D((2, 2), "max", stride)(x_ours), F.max_pool2d(x_builtin, 2, stride)
        upstream = paddle.arange(1, 1 + expected.size, dtype="float32").reshape(expected.shape)
        (ours * upstream).sum().backward()
        (expected * upstream).sum().backward()
        np.testing.assert_array_equal(x_ours.grad.numpy(), x_builtin.grad.numpy())


def test_chapters_load_only_when_asked_for():
    script = ("import sys, nndl_ref.device, nndl_ref.gradcheck\n"
              "assert not [m for m in sys.modules if m.startswith('nndl_ref.ch')], 'a chapter was loaded'\n"
              "from nndl_ref import Conv2D\n"
              "import nndl_ref\n"
              "assert Conv2D is nndl_ref.ch05.Conv2D and nndl_ref.Linear is nndl_ref.ch04.Linear\n"
              "assert 'ch08' in dir(nndl_ref) and 'RunnerV3' in dir(nndl_ref)\n")
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-2000:]
