"""The over-fitting experiments of §7.6: a three-layer operator network, binary cross-entropy on logits
with an ℓ2 term, accuracy on logits, inverted dropout and the full-batch training loop (book §7.6.2–§7.6.5).

The layers are chapter 4's operators (``Linear`` with W ~ N(0, 1), b = 0, and ``ReLU``, whose §7.6.2.1
reprint is identical).
"""

import paddle
import paddle.nn.functional as F

from ..ch01.op import Op
from ..ch04.op_layers import Linear, ReLU


class MLP_3L(Op):
    """Linear → ReLU → Linear → ReLU → Linear on ``layers_size`` [in, h1, h2, out], returning the logits
    (book §7.6.2.2); ``backward(loss_grad_z3)`` back-propagates δ of the logits through every layer and
    fills each ``Linear``'s ``grads``. ``layers`` lists the five layers for the optimizer."""

    def __init__(self, layers_size):
        self.fc1 = Linear(layers_size[0], layers_size[1], name="fc1")
        self.act_fn1 = ReLU()
        self.fc2 = Linear(layers_size[1], layers_size[2], name="fc2")
        self.act_fn2 = ReLU()
        self.fc3 = Linear(layers_size[2], layers_size[3], name="fc3")
        self.layers = [self.fc1, self.act_fn1, self.fc2, self.act_fn2, self.fc3]

    def __call__(self, X):
        return self.forward(X)

    def forward(self, X):
        a1 = self.act_fn1(self.fc1(X))
        a2 = self.act_fn2(self.fc2(a1))
        return self.fc3(a2)

    def backward(self, loss_grad_z3):
        grad = self.fc3.backward(loss_grad_z3)
        grad = self.fc2.backward(self.act_fn2.backward(grad))
        self.fc1.backward(self.act_fn1.backward(grad))


class BinaryCrossEntropyWithLogits(Op):
    """R = −(1/N) Σ [y log σ(o) + (1 − y) log(1 − σ(o))] + λ/(2N) Σ_{Linear layers} ‖W‖² on logits o [N, 1]
    (book §7.6.2.3 eqs. 7.25–7.26, with the ℓ2 term of §7.6.3); ``backward()`` passes δ_o = (σ(o) − y)/N
    into ``model.backward`` and then adds λW/N to every ``Linear`` layer's ``grads['W']`` (biases are not
    penalised). Returns a [1] tensor.

    Differs from the book: the loss is computed as mean(softplus(o) − y·o), which equals the formula but
    stays finite for large |o| (the printed log σ(o) reaches log 0 = −inf in the 50,000-step runs); the ℓ2
    gradient is really added (the printed test ``isinstance(layer, nn.Linear)`` names Paddle's ``nn.Linear``
    and never matches); labels [N] are accepted and reshaped.
    """

    def __init__(self, model, lambd=0.0):
        self.model = model
        self.lambd = lambd
        self.predicts = None
        self.labels = None
        self.data_size = None

    def __call__(self, logits, labels):
        return self.forward(logits, labels)

    def _linear_layers(self):
        return [layer for layer in self.model.layers if isinstance(layer, Linear)]

    def forward(self, logits, labels):
        self.labels = paddle.cast(labels, logits.dtype).reshape(logits.shape)
        self.predicts = F.sigmoid(logits)
        self.data_size = logits.shape[0]
        loss = paddle.mean(F.softplus(logits) - self.labels * logits)
        regularization = sum(paddle.sum(paddle.square(layer.params["W"])) for layer in self._linear_layers())
        loss = loss + self.lambd * regularization / (2 * self.data_size)
        return loss.reshape([1])

    def backward(self):
        self.model.backward((self.predicts - self.labels) / self.data_size)
        for layer in self._linear_layers():
            layer.grads["W"] = layer.grads["W"] + self.lambd * layer.params["W"] / self.data_size


def accuracy_logits(logits, labels):
    """Accuracy from logits (book §7.6.2.3): class 1 where the single logit is > 0, else the arg-max of the
    row. Differs from the book: labels of any shape with N elements and any numeric dtype are compared
    after flattening (Paddle 3.x does not compare float and int tensors)."""
    if logits.shape[1] == 1:
        preds = paddle.cast(logits > 0, "int64").reshape([-1])
    else:
        preds = paddle.argmax(logits, axis=1).reshape([-1])
    labels = paddle.cast(labels, "int64").reshape([-1])
    return paddle.mean(paddle.cast(paddle.equal(preds, labels), "float32"))


class Dropout(Op):
    """Inverted dropout as an operator (book §7.6.5, eqs. 7.29–7.30): in ``forward`` each element is kept
    with probability 1 − p (p = ``drop_rate``), X̂ = X ⊙ M/(1 − p), and the mask M is stored for
    ``backward``, which returns δ_X = δ_X̂ ⊙ M/(1 − p). The op has no mode: the model skips it in evaluation.
    """

    def __init__(self, drop_rate):
        self.mask = None
        self.drop_rate = drop_rate

    def forward(self, inputs):
        self.mask = paddle.cast(paddle.rand(inputs.shape) >= self.drop_rate, inputs.dtype)
        return inputs * self.mask / (1 - self.drop_rate)

    def backward(self, outputs_grad):
        return outputs_grad * self.mask / (1 - self.drop_rate)


class MLP_3L_dropout(MLP_3L):
    """``MLP_3L`` with ``Dropout(drop_rate)`` after each ReLU when ``mode == 'train'`` (book §7.6.5);
    ``model(X, 'dev')`` (any other mode) is the plain network. ``layers`` keeps only the five layers."""

    def __init__(self, layers_size, drop_rate):
        super().__init__(layers_size)
        self.dropout1 = Dropout(drop_rate)
        self.dropout2 = Dropout(drop_rate)
        self.mode = "train"

    def __call__(self, X, mode="train"):
        return self.forward(X, mode)

    def forward(self, X, mode="train"):
        self.mode = mode
        a1 = self.act_fn1(self.fc1(X))
        if mode == "train":
            a1 = self.dropout1(a1)
        a2 = self.act_fn2(self.fc2(a1))
        if mode == "train":
            a2 = self.dropout2(a2)
        return self.fc3(a2)

    def backward(self, loss_grad_z3):
        grad = self.fc3.backward(loss_grad_z3)
        if self.mode == "train":
            grad = self.dropout2.backward(grad)
        grad = self.fc2.backward(self.act_fn2.backward(grad))
        if self.mode == "train":
            grad = self.dropout1.backward(grad)
        self.fc1.backward(self.act_fn1.backward(grad))


def train_model(X_train, y_train, X_test, y_test, model, optimizer, loss_fn, num_iters, *args):
    """Full-batch training for ``num_iters`` steps (book §7.6.2.4): the loss every 100 steps; prints the
    train and test accuracy, the model called with ``*args`` (``'dev'`` for ``MLP_3L_dropout``)."""
    losses = []
    for i in range(num_iters):
        loss = loss_fn(model(X_train), y_train)
        loss_fn.backward()
        optimizer.step()
        if i % 100 == 0:
            losses.append(loss.item())
    train_accuracy = accuracy_logits(model(X_train, *args), y_train).item()
    test_accuracy = accuracy_logits(model(X_test, *args), y_test).item()
    print("train accuracy:", round(train_accuracy, 4))
    print("test accuracy:", round(test_accuracy, 4))
    return losses
