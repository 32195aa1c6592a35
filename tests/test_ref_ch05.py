"""Reference chapter 5 (卷积神经网络): book numbers (figures and printed outputs of §5.1–§5.4) and Paddle's
built-in convolution and pooling with copied weights as the independent oracles."""

import numpy as np
import paddle
import paddle.nn as nn
import paddle.nn.functional as F
import pytest

from nndl_ref.ch05.pooling import Pool2D
from nndl_ref.ch05.resnet import Model_ResNet18, ResBlock, Resnet18
from nndl_ref.ch05.single_channel_conv import Conv2D as SingleChannelConv2D


def assign(values):
    return paddle.ParamAttr(initializer=nn.initializer.Assign(np.asarray(values, dtype="float32")))


def test_single_channel_conv_reproduces_figure_5_2():
    conv = SingleChannelConv2D(kernel_size=2, weight_attr=assign([[0, 1], [2, 3]]))
    out = conv(paddle.to_tensor([[[1.0, 2, 3], [4, 5, 6], [7, 8, 9]]]))
    np.testing.assert_array_equal(out.numpy(), [[[25, 31], [43, 49]]])


def test_single_channel_conv_reproduces_the_printed_version_1_demo():
    # §5.1.3: Conv2D(kernel_size=2), weights all ones, on the printed [2, 3, 3] input
    X = paddle.to_tensor([[[-2.84111667, 0.00813386, -1.10186338], [-0.98983365, 0.82590210, 1.86596942],
                           [-0.00606005, 0.84462112, -0.55158448]],
                          [[-0.38196096, 1.69304919, -1.76249516], [-0.76220298, 1.71323478, -0.87099439],
                           [-0.94921637, 0.42173341, 0.02119463]]])
    out = SingleChannelConv2D(kernel_size=2)(X)
    expected = [[[-2.99691439, 1.59814215], [0.67462951, 2.98490834]],
                [[2.26212001, 0.77279443], [0.42354882, 1.28516841]]]
    np.testing.assert_allclose(out.numpy(), expected, atol=1e-6)
    assert not out.stop_gradient


def test_single_channel_conv_output_shapes_of_section_5_1_4():
    X = paddle.to_tensor(np.random.default_rng(0).normal(size=(2, 8, 8)).astype("float32"))
    assert SingleChannelConv2D(kernel_size=3, padding=1)(X).shape == [2, 8, 8]
    assert SingleChannelConv2D(kernel_size=3, stride=2, padding=1)(X).shape == [2, 4, 4]


@pytest.mark.parametrize("shape,kernel,stride,padding", [((2, 7, 9), 3, 1, 0), ((3, 8, 5), 2, 2, 1),
                                                         ((1, 9, 9), 3, 3, 2), ((2, 6, 7), 1, 2, 0)])
def test_single_channel_conv_matches_paddle_conv2d_and_its_gradients(shape, kernel, stride, padding):
    rng = np.random.default_rng(1)
    X = rng.normal(size=shape).astype("float32")
    W = rng.normal(size=(kernel, kernel)).astype("float32")
    x_ours, x_builtin = paddle.to_tensor(X, stop_gradient=False), paddle.to_tensor(X, stop_gradient=False)
    conv = SingleChannelConv2D(kernel_size=kernel, stride=stride, padding=padding, weight_attr=assign(W))
    w_builtin = paddle.to_tensor(W[None, None], stop_gradient=False)
    ours = conv(x_ours)
    builtin = F.conv2d(x_builtin.unsqueeze(1), w_builtin, stride=stride, padding=padding).squeeze(1)
    np.testing.assert_allclose(ours.numpy(), builtin.numpy(), rtol=1e-5, atol=1e-5)
    upstream = paddle.to_tensor(rng.normal(size=builtin.shape).astype("float32"))
    (ours * upstream).sum().backward()
    (builtin * upstream).sum().backward()
    np.testing.assert_allclose(x_ours.grad.numpy(), x_builtin.grad.numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(conv.weight.grad.numpy(), w_builtin.grad.numpy()[0, 0], rtol=1e-5, atol=1e-5)


def test_pool_reproduces_the_printed_demo():
    # §5.2.2: Pool2D() (2×2 max, stride 1) on the printed [1, 1, 3, 3] input → all 1.64261794
    x = paddle.to_tensor([[[[0.30856404, 0.41556627, 0.55406243], [0.26652551, 1.64261794, -0.52476674],
                            [-1.02183867, -1.02233613, -0.07201923]]]])
    out = Pool2D()(x)
    assert out.shape == [1, 1, 2, 2]
    np.testing.assert_allclose(out.numpy(), np.full((1, 1, 2, 2), 1.64261794), atol=1e-7)


@pytest.mark.parametrize("mode,builtin", [("max", F.max_pool2d), ("avg", F.avg_pool2d)])
@pytest.mark.parametrize("size,stride", [((2, 2), 2), ((2, 3), 1), ((3, 2), 2)])
def test_pool_matches_paddle_pooling_on_non_square_windows(mode, builtin, size, stride):
    rng = np.random.default_rng(2)
    X = rng.normal(size=(2, 3, 7, 8)).astype("float32")
    x_ours, x_builtin = paddle.to_tensor(X, stop_gradient=False), paddle.to_tensor(X, stop_gradient=False)
    ours = Pool2D(size=size, mode=mode, stride=stride)(x_ours)
    expected = builtin(x_builtin, kernel_size=size, stride=stride)
    assert ours.shape == expected.shape
    np.testing.assert_allclose(ours.numpy(), expected.numpy(), rtol=1e-6, atol=1e-6)
    upstream = paddle.to_tensor(rng.normal(size=expected.shape).astype("float32"))
    (ours * upstream).sum().backward()
    (expected * upstream).sum().backward()
    np.testing.assert_allclose(x_ours.grad.numpy(), x_builtin.grad.numpy(), rtol=1e-6, atol=1e-6)


def test_pool_rejects_an_unknown_mode():
    with pytest.raises(ValueError, match="max' or 'avg"):
        Pool2D(mode="sum")


def _count(model, trainable=None):
    return sum(int(np.prod(p.shape)) for p in model.parameters() if trainable is None or p.trainable == trainable)


@pytest.mark.parametrize("use_residual", [True, False])
def test_resnet18_parameter_counts_of_section_5_4(use_residual):
    model = Model_ResNet18(in_channels=1, num_classes=10, use_residual=use_residual)
    assert _count(model) == 11_186_186
    assert _count(model, trainable=True) == 11_178_378
    assert [name for name, _ in model.named_children()] == [
        "conv1", "bn1", "pool1", "res2a", "res2b", "res3a", "res3b", "res4a", "res4b", "res5a", "res5b", "pool2", "fc"]
    assert Resnet18 is Model_ResNet18


def test_resnet18_shape_trace():
    paddle.seed(0)
    model = Model_ResNet18(in_channels=1, num_classes=10)
    model.eval()
    x = paddle.to_tensor(np.random.default_rng(3).normal(size=(2, 1, 32, 32)).astype("float32"))
    x = model.pool1(F.relu(model.bn1(model.conv1(x))))
    assert x.shape == [2, 64, 8, 8]
    shapes = []
    for block in model.block_list:
        x = block(x)
        shapes.append(x.shape)
    assert shapes == [[2, 64, 8, 8]] * 2 + [[2, 128, 4, 4]] * 2 + [[2, 256, 2, 2]] * 2 + [[2, 512, 1, 1]] * 2


def test_resblock_adds_the_identity_or_the_projection():
    paddle.seed(0)
    x = paddle.to_tensor(np.random.default_rng(4).normal(size=(2, 4, 6, 6)).astype("float32"))
    for shortcut, stride, filters in [(True, 1, 4), (False, 2, 8)]:
        block = ResBlock(4, filters, stride=stride, shortcut=shortcut)
        plain = ResBlock(4, filters, stride=stride, shortcut=shortcut, use_residual=False)
        plain.set_state_dict(block.state_dict())
        block.eval(), plain.eval()
        # closed form from the block's own sublayers: relu(main + skip) vs relu(main)
        main = block.bn2(block.conv2(F.relu(block.bn1(block.conv1(x)))))
        skip = x if shortcut else block.short(x)
        np.testing.assert_allclose(block(x).numpy(), F.relu(main + skip).numpy(), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(plain(x).numpy(), F.relu(main).numpy(), rtol=1e-5, atol=1e-6)
        assert block(x).shape == [2, filters, 6 // stride, 6 // stride]


def test_lenet_shape_trace_and_parameter_count_of_section_5_3():
    from nndl_ref.ch05 import Model_LeNet, Paddle_LeNet
    paddle.seed(0)
    model = Model_LeNet(in_channels=1, num_classes=10)
    assert _count(model) == 61_706 == _count(Paddle_LeNet(in_channels=1, num_classes=10))
    x = paddle.to_tensor(np.random.default_rng(5).normal(size=(1, 1, 32, 32)).astype("float32"))
    shapes = []
    for layer in model.sublayers():
        x = layer(paddle.reshape(x, [x.shape[0], -1]) if isinstance(layer, nn.Linear) else x)
        shapes.append(x.shape)
    assert shapes == [[1, 6, 28, 28], [1, 6, 14, 14], [1, 16, 10, 10], [1, 16, 5, 5], [1, 120, 1, 1], [1, 84], [1, 10]]


def test_lenet_equals_the_paddle_api_lenet_with_copied_weights():
    from nndl_ref.ch05 import Model_LeNet, Paddle_LeNet
    paddle.seed(1)
    ours, theirs = Model_LeNet(1, 10), Paddle_LeNet(1, 10)
    state = {name: (value.reshape([-1]) if name.startswith("conv") and name.endswith("bias") else value)
             for name, value in ours.state_dict().items()}
    theirs.set_state_dict(state)
    x = paddle.to_tensor(np.random.default_rng(6).normal(size=(3, 1, 32, 32)).astype("float32"))
    np.testing.assert_allclose(ours(x).numpy(), theirs(x).numpy(), rtol=1e-4, atol=1e-5)


def test_multi_channel_conv_reproduces_the_printed_demo_of_section_5_2_1_2():
    from nndl_ref.ch05 import Conv2D
    inputs = paddle.to_tensor([[[[0.0, 1, 2], [3, 4, 5], [6, 7, 8]], [[1.0, 2, 3], [4, 5, 6], [7, 8, 9]]]])
    conv = Conv2D(in_channels=2, out_channels=3, kernel_size=2)
    assert conv.weight.shape == [3, 2, 2, 2] and conv.bias.shape == [3, 1]
    np.testing.assert_array_equal(conv(inputs).numpy(), np.tile([[20.0, 28.0], [44.0, 52.0]], (1, 3, 1, 1)))
    assert _count(Conv2D(3, 6, 3)) == 168        # the companion notebook's P·D·U·V + P example


@pytest.mark.parametrize("D,P,k,stride,padding,shape", [(2, 3, 3, 2, 1, (5, 6)), (1, 2, 2, 1, 0, (4, 4)),
                                                         (3, 2, 3, 3, 2, (7, 5))])
def test_conv2d_op_backward_matches_finite_differences_and_autograd(D, P, k, stride, padding, shape):
    from helpers import numeric_vjp, relative_error, t64
    from nndl_ref.ch05 import Conv2DOp
    rng = np.random.default_rng(55)
    X, W, b = rng.normal(size=(2, D, *shape)), rng.normal(size=(P, D, k, k)), rng.normal(size=(P, 1))
    op = Conv2DOp(D, P, k, stride, padding, weight_init=lambda shape: t64(W), bias_init=lambda shape: t64(b))
    out = op(t64(X))
    G = rng.normal(size=out.shape)
    dX = op.backward(t64(G))

    def forward(x, w, c):
        return F.conv2d(t64(x), t64(w), t64(c.ravel()), stride=stride, padding=padding).numpy()

    for actual, expected in zip((dX, op.grads["W"], op.grads["b"]), numeric_vjp(forward, [X, W, b], G)):
        assert relative_error(actual, expected) < 1e-8
    x, w, c = (paddle.to_tensor(a, stop_gradient=False) for a in (X, W, b.ravel()))
    (F.conv2d(x, w, c, stride=stride, padding=padding) * t64(G)).sum().backward()
    np.testing.assert_allclose(out.numpy(), forward(X, W, b), rtol=1e-12, atol=1e-12)
    for actual, expected in zip((dX, op.grads["W"], op.grads["b"]), (x.grad, w.grad, c.grad)):
        np.testing.assert_allclose(np.ravel(actual.numpy()), np.ravel(expected.numpy()), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("mode,builtin", [("max", F.max_pool2d), ("avg", F.avg_pool2d)])
@pytest.mark.parametrize("size,stride", [((2, 2), 2), ((2, 3), 1), ((3, 2), 2)])
def test_pool2d_op_backward_matches_paddle_autograd(mode, builtin, size, stride):
    from helpers import t64
    from nndl_ref.ch05 import Pool2DOp
    X = np.random.default_rng(56).normal(size=(2, 2, 7, 6))
    op = Pool2DOp(size, mode, stride)
    out = op(t64(X))
    G = np.random.default_rng(57).normal(size=out.shape)
    x = paddle.to_tensor(X, stop_gradient=False)
    y = builtin(x, size, stride)
    (y * t64(G)).sum().backward()
    # Paddle's float64 average pooling is only float32-exact (~3e-8 relative)
    np.testing.assert_allclose(out.numpy(), y.numpy(), rtol=1e-6)
    np.testing.assert_allclose(op.backward(t64(G)).numpy(), x.grad.numpy(), rtol=1e-6, atol=1e-9)


def test_max_pool_op_sends_a_tie_to_the_first_maximum_like_paddle():
    from helpers import t64
    from nndl_ref.ch05 import Pool2DOp
    X = np.array([[[[1.0, 3, 3, 0], [3, 1, 2, 2], [0, 0, 2, 2]]]])
    for stride in (1, 2):
        op = Pool2DOp((2, 2), "max", stride)
        out = op(t64(X))
        G = np.arange(1.0, 1.0 + out.numpy().size).reshape(out.shape)
        x = paddle.to_tensor(X, stop_gradient=False)
        (F.max_pool2d(x, 2, stride) * t64(G)).sum().backward()
        np.testing.assert_array_equal(op.backward(t64(G)).numpy(), x.grad.numpy())
