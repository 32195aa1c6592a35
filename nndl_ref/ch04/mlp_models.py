"""Feed-forward networks: the operator-based ``Model_MLP_L2`` and the ``paddle.nn.Layer`` models
``Model_MLP_L2_V2``, ``Model_MLP_L5`` and ``Model_MLP_L2_V3`` (book §4.2.2.3, §4.2.4.5, §4.3.1,
§4.4.2.1, §4.5.3)."""

import paddle
import paddle.nn as nn
import paddle.nn.functional as F
from paddle.nn.initializer import Constant, Normal

from ..ch01.op import Op
from .op_layers import Linear, Logistic


class Model_MLP_L2(Op):
    """Two-layer FNN built from operators: Linear → Logistic → Linear → Logistic (book §4.2.4.5, §4.2.2.3).

    ``layers`` = [fc1, act_fn1, fc2, act_fn2] is what the layer-wise optimizer and ``RunnerV2_1``
    iterate over. ``forward(X)`` [N, input_size] → probabilities [N, output_size].
    ``backward(loss_grad_a2)`` runs each layer's backward in reverse order, which fills
    ``fc1.grads``/``fc2.grads``; unlike the book's it also returns the gradient w.r.t. the input X.
    """

    def __init__(self, input_size, hidden_size, output_size):
        self.fc1 = Linear(input_size, hidden_size, name="fc1")
        self.act_fn1 = Logistic()
        self.fc2 = Linear(hidden_size, output_size, name="fc2")
        self.act_fn2 = Logistic()
        self.layers = [self.fc1, self.act_fn1, self.fc2, self.act_fn2]

    def __call__(self, X):
        return self.forward(X)

    def forward(self, X):
        for layer in self.layers:
            X = layer(X)
        return X

    def backward(self, loss_grad_a2):
        grads = loss_grad_a2
        for layer in reversed(self.layers):
            grads = layer.backward(grads)
        return grads


class Model_MLP_L2_V2(nn.Layer):
    """``Model_MLP_L2`` rebuilt from ``nn.Linear`` and ``F.sigmoid``, trained by autograd (book §4.3.1).

    Weights N(0,1), biases 0, a sigmoid after both layers (outputs are probabilities). Under the same
    ``paddle.seed`` it draws the same initial weights as ``Model_MLP_L2``. The book's Table 1.1 also
    lists the §4.5.3 model under this name; that one is ``Model_MLP_L2_V3`` here.
    """

    def __init__(self, input_size, hidden_size, output_size):
        super().__init__()
        self.fc1 = nn.Linear(input_size, hidden_size,
                             weight_attr=paddle.ParamAttr(initializer=Normal(mean=0.0, std=1.0)),
                             bias_attr=paddle.ParamAttr(initializer=Constant(value=0.0)))
        self.fc2 = nn.Linear(hidden_size, output_size,
                             weight_attr=paddle.ParamAttr(initializer=Normal(mean=0.0, std=1.0)),
                             bias_attr=paddle.ParamAttr(initializer=Constant(value=0.0)))
        self.act_fn = F.sigmoid

    def forward(self, inputs):
        return self.act_fn(self.fc2(self.act_fn(self.fc1(inputs))))


class Model_MLP_L5(nn.Layer):
    """Five linear layers (input → 3 → 3 → 3 → 3 → output), ``act`` after the first four and a sigmoid
    output, for the vanishing-gradient and dead-ReLU experiments (book §4.4.2.1).

    ``act`` is 'sigmoid', 'relu' or 'lrelu' (``F.leaky_relu``, slope 0.01); anything else raises
    ValueError. Every ``nn.Linear`` is initialised by calling ``w_init(weight)`` and ``b_init(bias)``
    (defaults N(0, 0.01²) and the constant 1; §4.4.3 uses ``b_init=Constant(-8.0)``).
    """

    def __init__(self, input_size, output_size, act="sigmoid", w_init=Normal(mean=0.0, std=0.01),
                 b_init=Constant(value=1.0)):
        super().__init__()
        self.fc1 = nn.Linear(input_size, 3)
        self.fc2 = nn.Linear(3, 3)
        self.fc3 = nn.Linear(3, 3)
        self.fc4 = nn.Linear(3, 3)
        self.fc5 = nn.Linear(3, output_size)
        if act == "sigmoid":
            self.act = F.sigmoid
        elif act == "relu":
            self.act = F.relu
        elif act == "lrelu":
            self.act = F.leaky_relu
        else:
            raise ValueError("Please enter sigmoid relu or lrelu!")
        self.init_weights(w_init, b_init)

    def init_weights(self, w_init, b_init):
        """Apply ``w_init``/``b_init`` to every ``nn.Linear`` sub-layer (book §4.4.2.1)."""
        for _, layer in self.named_sublayers():
            if isinstance(layer, nn.Linear):
                w_init(layer.weight)
                b_init(layer.bias)

    def forward(self, inputs):
        outputs = inputs
        for fc in (self.fc1, self.fc2, self.fc3, self.fc4):
            outputs = self.act(fc(outputs))
        return F.sigmoid(self.fc5(outputs))


class Model_MLP_L2_V3(nn.Layer):
    """Two-layer FNN for Iris that outputs LOGITS: Linear → Sigmoid → Linear (book §4.5.3).

    Note the argument order (input_size, output_size, hidden_size), unlike V2's. Weights
    N(0, 0.01²), biases 1. The book's Table 1.1 (§1.3.4) misnames it ``Model_MLP_L2_V2``.
    """

    def __init__(self, input_size, output_size, hidden_size):
        super().__init__()
        self.fc1 = nn.Linear(input_size, hidden_size,
                             weight_attr=paddle.ParamAttr(initializer=Normal(mean=0.0, std=0.01)),
                             bias_attr=paddle.ParamAttr(initializer=Constant(value=1.0)))
        self.fc2 = nn.Linear(hidden_size, output_size,
                             weight_attr=paddle.ParamAttr(initializer=Normal(mean=0.0, std=0.01)),
                             bias_attr=paddle.ParamAttr(initializer=Constant(value=1.0)))
        self.act = nn.Sigmoid()

    def forward(self, inputs):
        return self.fc2(self.act(self.fc1(inputs)))
