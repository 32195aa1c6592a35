"""LeNet-5 for the MNIST subset (book §5.3.2): the network built from this chapter's own ``Conv2D`` and
``Pool2D``, and the same network from Paddle's layers (the companion notebook's ``Paddle_LeNet``).

As the book's code has it: ReLU after conv1, conv2 and linear1, none after conv3; the first pooling is
max, the second average, both 2×2 with stride 2. With a 1×32×32 input the layers give [6,28,28],
[6,14,14], [16,10,10], [16,5,5], [120,1,1], [84], [num_classes], and the model has 61,706 parameters.
"""

import paddle
import paddle.nn as nn
import paddle.nn.functional as F

from .conv import Conv2D
from .pooling import Pool2D


class Model_LeNet(nn.Layer):
    """LeNet-5 of book §5.3.2 on the chapter's ``Conv2D``/``Pool2D`` (random weights: ``ParamAttr()``)."""

    def __init__(self, in_channels, num_classes=10):
        super().__init__()
        self.conv1 = Conv2D(in_channels=in_channels, out_channels=6, kernel_size=5, weight_attr=paddle.ParamAttr())
        self.pool1 = Pool2D(size=(2, 2), mode="max", stride=2)
        self.conv2 = Conv2D(in_channels=6, out_channels=16, kernel_size=5, stride=1, weight_attr=paddle.ParamAttr())
        self.pool2 = Pool2D(size=(2, 2), mode="avg", stride=2)
        self.conv3 = Conv2D(in_channels=16, out_channels=120, kernel_size=5, stride=1, weight_attr=paddle.ParamAttr())
        self.linear1 = nn.Linear(120, 84)
        self.linear2 = nn.Linear(84, num_classes)

    def forward(self, x):
        """x [B, in_channels, 32, 32] → logits [B, num_classes]."""
        output = self.pool1(F.relu(self.conv1(x)))
        output = self.pool2(F.relu(self.conv2(output)))
        output = self.conv3(output)
        output = paddle.reshape(output, [output.shape[0], -1])
        return self.linear2(F.relu(self.linear1(output)))


class Paddle_LeNet(nn.Layer):
    """The same LeNet from ``nn.Conv2D``, ``nn.MaxPool2D`` and ``nn.AvgPool2D`` (book §5.3.2's comparison).
    Its conv biases are [out] where ``Model_LeNet``'s are [out, 1]; the parameter count is the same."""

    def __init__(self, in_channels, num_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2D(in_channels=in_channels, out_channels=6, kernel_size=5)
        self.pool1 = nn.MaxPool2D(kernel_size=2, stride=2)
        self.conv2 = nn.Conv2D(in_channels=6, out_channels=16, kernel_size=5)
        self.pool2 = nn.AvgPool2D(kernel_size=2, stride=2)
        self.conv3 = nn.Conv2D(in_channels=16, out_channels=120, kernel_size=5)
        self.linear1 = nn.Linear(120, 84)
        self.linear2 = nn.Linear(84, num_classes)

    def forward(self, x):
        """x [B, in_channels, 32, 32] → logits [B, num_classes]."""
        output = self.pool1(F.relu(self.conv1(x)))
        output = self.pool2(F.relu(self.conv2(output)))
        output = paddle.reshape(self.conv3(output), [x.shape[0], -1])
        return self.linear2(F.relu(self.linear1(output)))
