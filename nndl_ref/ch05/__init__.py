"""Chapter 5 (卷积神经网络) under the book's names."""

from .cifar10 import CIFAR10Dataset, load_cifar10_batch, prepare_cifar10, write_cifar10_stand_in
from .conv import Conv2D
from .conv_ops import Conv2DOp, Pool2DOp
from .lenet import Model_LeNet, Paddle_LeNet
from .mnist import MNISTDataset, MNISTSubset, load_mnist_subset, mnist_transforms
from .pooling import Pool2D
from .resnet import Model_ResNet18, ResBlock, Resnet18

__all__ = [
    "Conv2D", "Pool2D", "Conv2DOp", "Pool2DOp", "Model_LeNet", "Paddle_LeNet", "ResBlock", "Model_ResNet18", "Resnet18",
    "load_mnist_subset", "MNISTSubset", "mnist_transforms", "MNISTDataset",
    "prepare_cifar10", "load_cifar10_batch", "CIFAR10Dataset", "write_cifar10_stand_in",
]
