"""The residual network of book §5.4: ``ResBlock`` (two 3×3 convolutions with batch normalisation and an
optional 1×1 projection) and ``Model_ResNet18`` built from eight of them, on Paddle's ``nn.Conv2D``.

The book's experiment code calls the model ``Resnet18``; the class is ``Model_ResNet18`` and ``Resnet18``
is kept as the same class under that name.
"""

import paddle
import paddle.nn as nn
import paddle.nn.functional as F


class ResBlock(nn.Layer):
    """Residual unit of book §5.4.1, eq. (5.7): relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)).

    ``shortcut=True``: the input is added as it is (same shape in and out); ``shortcut=False``: through a
    1×1 convolution ``short`` with the block's stride (no batch norm on it). ``use_residual=False`` drops
    the addition (a plain conv-bn-relu-conv-bn-relu block); ``short`` still exists then.
    """

    def __init__(self, num_channels, num_filters, stride=1, shortcut=True, use_residual=True):
        super().__init__()
        self.stride = stride
        self.shortcut = shortcut
        self.use_residual = use_residual
        self.conv1 = nn.Conv2D(num_channels, num_filters, kernel_size=3, padding=1, stride=stride)
        self.conv2 = nn.Conv2D(num_filters, num_filters, kernel_size=3, padding=1)
        if not shortcut:
            self.short = nn.Conv2D(num_channels, num_filters, kernel_size=1, stride=stride)
        self.bn1 = nn.BatchNorm2D(num_filters)
        self.bn2 = nn.BatchNorm2D(num_filters)

    def forward(self, inputs):
        """inputs [B, num_channels, H, W] → [B, num_filters, ⌈H/stride⌉, ⌈W/stride⌉]."""
        y = F.relu(self.bn1(self.conv1(inputs)))
        y = self.bn2(self.conv2(y))
        if self.use_residual:
            y = y + (inputs if self.shortcut else self.short(inputs))
        return F.relu(y)


class Model_ResNet18(nn.Layer):
    """ResNet18 of book §5.4.1: a 7×7/2 conv with BN, ReLU and 3×3/2 max pooling, four stages of two
    ``ResBlock``s (64, 128, 256, 512 filters; each later stage halves the size), global average pooling and
    a linear layer. Blocks are named res2a, res2b … res5b as in the book."""

    def __init__(self, in_channels=3, num_classes=10, use_residual=True):
        super().__init__()
        depth = [2, 2, 2, 2]
        num_channels = [64, 64, 128, 256]
        num_filters = [64, 128, 256, 512]
        self.conv1 = nn.Conv2D(in_channels, 64, kernel_size=7, stride=2, padding=3)
        self.bn1 = nn.BatchNorm2D(64)
        self.pool1 = nn.MaxPool2D(kernel_size=3, stride=2, padding=1)
        self.block_list = []
        for stage, blocks in enumerate(depth):
            for i in range(blocks):
                downsample = i == 0 and stage != 0
                block = ResBlock(num_channels=num_channels[stage] if i == 0 else num_filters[stage],
                                 num_filters=num_filters[stage], stride=2 if downsample else 1,
                                 shortcut=not downsample, use_residual=use_residual)
                self.block_list.append(self.add_sublayer(f"res{stage + 2}{chr(97 + i)}", block))
        self.pool2 = nn.AdaptiveAvgPool2D(1)
        self.fc = nn.Linear(512, num_classes)

    def forward(self, x):
        """x [B, in_channels, H, W] → logits [B, num_classes]."""
        x = self.pool1(F.relu(self.bn1(self.conv1(x))))
        for block in self.block_list:
            x = block(x)
        return self.fc(paddle.reshape(self.pool2(x), [-1, 512]))


Resnet18 = Model_ResNet18
