"""Linear classifiers and their cross-entropy risks: ``logistic``, ``softmax``, ``Model_LR``, ``Model_SR``,
``BinaryCrossEntropyLoss`` and ``MultiCrossEntropyLoss`` (book §3.1.2–§3.1.4.1, §3.2.2–§3.2.4.1).

The models' ``backward(labels)`` is *fused*: it gives the gradient of the final risk (model + cross-entropy)
with respect to the parameters, as the book's 提醒 boxes say; the losses themselves have no backward.
"""

import paddle
import paddle.nn.functional as F

from ..ch01.op import Op


def _column_labels(labels, num, dtype):
    """Binary labels of shape [N] or [N,1] (any dtype) as a [N,1] tensor of ``dtype``.

    The book requires [N,1]; a [N] label against [N,1] predictions silently broadcasts to [N,N] there.
    """
    if not isinstance(labels, paddle.Tensor):
        labels = paddle.to_tensor(labels)
    if labels.size != num:
        raise ValueError(f"expected {num} labels, got shape {list(labels.shape)}")
    return paddle.reshape(labels, [num, 1]).astype(dtype)


def _class_ids(labels, num):
    """Class-id labels of shape [N] or [N,1], int32 or int64, as an int64 tensor of shape [N]."""
    if not isinstance(labels, paddle.Tensor):
        labels = paddle.to_tensor(labels)
    if labels.size != num:
        raise ValueError(f"expected {num} class ids, got shape {list(labels.shape)}")
    return paddle.reshape(labels, [num]).astype("int64")


def logistic(x):
    """Element-wise Logistic function σ(x) = 1 / (1 + exp(−x)) (book §3.1, eq. 3.2).

    For very negative x, exp(−x) overflows to inf and the result is the correct limit 0 (no NaN).
    """
    return 1.0 / (1.0 + paddle.exp(-x))


def softmax(X):
    """Row-wise softmax of X [N, D], stabilised by subtracting each row's maximum (book §3.2.2.1, eq. 3.12).

    Uses the last axis (= axis 1 for the book's [N, D] input). Finite for logits of any magnitude.
    """
    x_exp = paddle.exp(X - paddle.max(X, axis=-1, keepdim=True))
    return x_exp / paddle.sum(x_exp, axis=-1, keepdim=True)


class Model_LR(Op):
    """Logistic regression ŷ = σ(X·w + b) with zero-initialised ``params['w']`` [D,1] and ``params['b']`` [1],
    with its backward (book §3.1.4.1; the forward alone is §3.1.2, eq. 3.3).

    ``forward`` caches ``self.X`` and ``self.outputs`` ([N,1] probabilities of class 1). ``backward(labels)``
    fills ``self.grads`` with the gradient of the binary cross-entropy risk (eqs. 3.6–3.7):
    dw = −(1/N)·Xᵀ(y − ŷ) [D,1], db = −(1/N)·1ᵀ(y − ŷ). Differs from the book: labels may be [N] or
    [N,1] and of any numeric dtype, and ``grads['b']`` has the parameter's shape [1] (the book's code gives
    a 0-D tensor on Paddle ≥ 2.5).
    """

    def __init__(self, input_dim):
        super().__init__()
        self.params = {
            "w": paddle.zeros(shape=[input_dim, 1], dtype="float32"),
            "b": paddle.zeros(shape=[1], dtype="float32"),
        }
        self.grads = {}
        self.X = None
        self.outputs = None

    def forward(self, inputs):
        self.X = inputs
        score = paddle.matmul(inputs, self.params["w"]) + self.params["b"]
        self.outputs = logistic(score)
        return self.outputs

    def backward(self, labels):
        if self.outputs is None:
            raise RuntimeError("Model_LR.backward needs a forward pass first")
        N = self.outputs.shape[0]
        diff = _column_labels(labels, N, self.outputs.dtype) - self.outputs
        self.grads["w"] = (-1.0 / N) * paddle.matmul(self.X.t(), diff)
        self.grads["b"] = (-1.0 / N) * paddle.sum(diff, axis=0)


class Model_SR(Op):
    """Softmax regression Ŷ = softmax(X·W + b) with zero-initialised ``params['W']`` [D,C] and
    ``params['b']`` [C], with its backward (book §3.2.4.1; the forward alone is §3.2.2.2, eq. 3.13).

    ``backward(labels)`` fills ``self.grads`` with the gradient of the multi-class cross-entropy risk
    (eqs. 3.17–3.18): dW = −(1/N)·Xᵀ(Y − Ŷ) [D,C], db = −(1/N)·1ᵀ(Y − Ŷ) [C], Y the one-hot labels.
    Differs from the book: its docstring says labels are [N,1], but its code needs [N] (one-hot of [N,1]
    broadcasts into garbage); here labels may be class ids of shape [N] or [N,1], int32 or int64.
    """

    def __init__(self, input_dim, output_dim):
        super().__init__()
        self.params = {
            "W": paddle.zeros(shape=[input_dim, output_dim], dtype="float32"),
            "b": paddle.zeros(shape=[output_dim], dtype="float32"),
        }
        self.grads = {}
        self.X = None
        self.outputs = None
        self.output_dim = output_dim

    def forward(self, inputs):
        self.X = inputs
        score = paddle.matmul(self.X, self.params["W"]) + self.params["b"]
        self.outputs = softmax(score)
        return self.outputs

    def backward(self, labels):
        if self.outputs is None:
            raise RuntimeError("Model_SR.backward needs a forward pass first")
        N = self.outputs.shape[0]
        one_hot = F.one_hot(_class_ids(labels, N), self.output_dim).astype(self.outputs.dtype)
        diff = one_hot - self.outputs
        self.grads["W"] = (-1.0 / N) * paddle.matmul(self.X.t(), diff)
        self.grads["b"] = (-1.0 / N) * paddle.sum(diff, axis=0)


# The book's training code calls the classes by lowercase names (§3.1.7, §3.2.5), as do its notebooks.
model_LR = Model_LR
model_SR = Model_SR


class BinaryCrossEntropyLoss(Op):
    """Chapter-3 binary cross-entropy risk R = −(1/N)[yᵀlog ŷ + (1−y)ᵀlog(1−ŷ)] (book §3.1.3, eq. 3.5).

    ``loss_fn(predicts, labels)`` with probabilities [N,1] returns shape [1], as the book. No backward (the
    gradient is fused into ``Model_LR.backward``); chapter 4 defines a different class of the same name.
    Differs from the book: labels may be [N] or [N,1] and int or float (the book's matmul needs float
    [N,1]). Like the book, it does not clip: probabilities of exactly 0 or 1 give inf/NaN.
    """

    def __init__(self):
        self.predicts = None
        self.labels = None
        self.num = None

    def forward(self, predicts, labels):
        self.num = predicts.shape[0]
        self.predicts = paddle.reshape(predicts, [self.num, 1])
        self.labels = _column_labels(labels, self.num, predicts.dtype)
        loss = (-1.0 / self.num) * (
            paddle.matmul(self.labels.t(), paddle.log(self.predicts))
            + paddle.matmul((1 - self.labels).t(), paddle.log(1 - self.predicts)))
        return paddle.reshape(loss, [1])


class MultiCrossEntropyLoss(Op):
    """Multi-class cross-entropy risk R = −(1/N)·Σₙ log ŷ⁽ⁿ⁾[y⁽ⁿ⁾] (book §3.2.3, eq. 3.16).

    ``loss_fn(predicts, labels)`` with probabilities [N,C] and class ids returns a 0-D tensor (the book's
    code gives 0-D on Paddle ≥ 2.5; its docstring says [1]). Differs from the book: vectorised (the book
    loops over samples in Python) and labels may be [N] or [N,1], int32 or int64. No backward (fused into
    ``Model_SR.backward``).
    """

    def __init__(self):
        self.predicts = None
        self.labels = None
        self.num = None

    def forward(self, predicts, labels):
        self.predicts = predicts
        self.num = predicts.shape[0]
        self.labels = _class_ids(labels, self.num)
        picked = paddle.take_along_axis(predicts, self.labels.unsqueeze(1), axis=1)
        return -paddle.sum(paddle.log(picked)) / self.num
