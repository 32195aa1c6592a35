"""Layer-wise normalisation written by hand: ``BatchNorm`` and ``LayerNorm`` (book §7.5.1.1, §7.5.2.1).

Differs from the book: both normalise with the **biased** variance (mean of squared deviations) and
``sqrt(var + eps)``, as ``paddle.nn.BatchNorm1D``/``paddle.nn.LayerNorm`` and the book's online notebook
do; the printed code uses the unbiased ``paddle.var`` and ``paddle.sqrt(var, self.eps)``, whose second
argument is ``name``, so ε is never added. The book's printed figures (0.9975093, 4.99373, 0.99774635)
follow from its unbiased variance (see ``tests/test_ref_ch07.py``).
"""

import paddle
import paddle.nn as nn


class BatchNorm(nn.Layer):
    """Batch normalisation of [N, D] inputs (book §7.5.1.1, eqs. 7.19–7.20): in training mode
    ẑ = γ (z − μ_B)/√(σ²_B + ε) + β with the batch's per-feature mean μ_B and biased variance σ²_B; in
    evaluation mode (``train_mode=False``) the running statistics replace μ_B and σ²_B.

    Each training call updates ``moving_mean`` (starts at 0) and ``moving_variance`` (starts at 1), both
    [1, D], as running = momentum · running + (1 − momentum) · batch (Paddle's convention: momentum weights
    the old value, the opposite of PyTorch's); they are stored detached from the graph. γ and β are
    constants, not learned parameters, as in the book.
    """

    def __init__(self, num_features, eps=1e-7, momentum=0.9, gamma=1.0, beta=0.0):
        super().__init__()
        shape = (1, num_features)
        self.gamma = paddle.to_tensor(gamma, dtype="float32")
        self.beta = paddle.to_tensor(beta, dtype="float32")
        self.moving_mean = paddle.zeros(shape)
        self.moving_variance = paddle.ones(shape)
        self.eps = eps
        self.momentum = momentum

    def __call__(self, X, train_mode=True):
        return self.forward(X, train_mode)

    def forward(self, X, train_mode=True):
        if not train_mode:
            X = (X - self.moving_mean) / paddle.sqrt(self.moving_variance + self.eps)
        else:
            mean = paddle.mean(X, axis=0, keepdim=True)
            var = paddle.mean(paddle.square(X - mean), axis=0, keepdim=True)
            X = (X - mean) / paddle.sqrt(var + self.eps)
            self.moving_mean = self.momentum * self.moving_mean + (1.0 - self.momentum) * mean.detach()
            self.moving_variance = self.momentum * self.moving_variance + (1.0 - self.momentum) * var.detach()
        return self.gamma * X + self.beta


class LayerNorm(nn.Layer):
    """Layer normalisation of [N, D] inputs (book §7.5.2.1, eqs. 7.21–7.22): each sample (row) is
    normalised over its own D features, ẑ = γ (z − μ)/√(σ² + ε) + β with the row's mean and biased variance.
    No running statistics, the same in training and evaluation; γ and β are constants as in the book.
    """

    def __init__(self, num_features, eps=1e-7, gamma=1.0, beta=0.0):
        super().__init__()
        self.num_features = num_features
        self.gamma = paddle.to_tensor(gamma, dtype="float32")
        self.beta = paddle.to_tensor(beta, dtype="float32")
        self.eps = eps

    def forward(self, X):
        mean = paddle.mean(X, axis=1, keepdim=True)
        var = paddle.mean(paddle.square(X - mean), axis=1, keepdim=True)
        X = (X - mean) / paddle.sqrt(var + self.eps)
        return self.gamma * X + self.beta


class MultiConvLayerNet(nn.Layer):
    """The MNIST network of the BatchNorm experiment (book §7.5.1.5): conv 5×5 (1→20, padding 2) → [BN] → ReLU →
    max-pool 2 → conv 5×5 (20→20) → [BN] → ReLU → max-pool 2 → linear 980 → 10, with Paddle's
    ``nn.BatchNorm2D`` when ``use_bn``. Differs from the book: no stray unused ``self.bn`` layer."""

    def __init__(self, use_bn=False):
        super().__init__()
        self.conv1 = nn.Conv2D(1, 20, kernel_size=5, stride=1, padding=2)
        self.max_pool1 = nn.MaxPool2D(kernel_size=2, stride=2)
        self.conv2 = nn.Conv2D(20, 20, kernel_size=5, stride=1, padding=2)
        self.max_pool2 = nn.MaxPool2D(kernel_size=2, stride=2)
        self.fc = nn.Linear(980, 10)
        self.use_bn = use_bn
        if use_bn:
            self.batch_norm1 = nn.BatchNorm2D(num_features=20)
            self.batch_norm2 = nn.BatchNorm2D(num_features=20)

    def forward(self, x):
        x = self.conv1(x)
        if self.use_bn:
            x = self.batch_norm1(x)
        x = self.max_pool1(paddle.nn.functional.relu(x))
        x = self.conv2(x)
        if self.use_bn:
            x = self.batch_norm2(x)
        x = self.max_pool2(paddle.nn.functional.relu(x))
        return self.fc(paddle.reshape(x, [x.shape[0], 980]))
