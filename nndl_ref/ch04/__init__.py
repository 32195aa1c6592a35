"""Chapter 4 (前馈神经网络) under the book's names.

``Linear`` here is the chapter-4 layer operator with ``params``/``grads`` (not ``nndl_ref.ch02.Linear``);
``BinaryCrossEntropyLoss(model)`` has a backward into the model (not chapter 3's forward-only class);
``Optimizer_GD`` is the layer-wise §4.2.4.6 version (``BatchGD`` in the book's notebooks), not chapter
3's ``nndl_ref.ch03.Optimizer_GD``. ``Model_MLP_L2_V2`` is the §4.3.1 model; the §4.5.3 model, which
the book's Table 1.1 also calls ``Model_MLP_L2_V2``, is ``Model_MLP_L2_V3``. ``logistic`` is chapter 3's
(``nndl_ref.ch03``).
"""

from .activations import elu, hard_logistic, hard_tanh, leaky_relu, relu, softplus, swish, tanh
from .plots import (plot_activations, plot_grad_norms, plot_loss_acc, plot_train_dev_loss,
                    plot_training_loss_acc, plot_weight_distributions)
from .grad_norms import print_grads
from .iris_dataset import IrisDataset
from .layerwise_gd import BatchGD, Optimizer_GD
from .metrics import Accuracy
from .mlp_models import Model_MLP_L2, Model_MLP_L2_V2, Model_MLP_L2_V3, Model_MLP_L5
from .op_layers import BinaryCrossEntropyLoss, Linear, Logistic, ReLU
from .runner_v2_variants import RunnerV2_1, RunnerV2_2
from .runner_v3 import RunnerV3

__all__ = [
    "tanh", "relu", "leaky_relu", "hard_logistic", "hard_tanh", "elu", "softplus", "swish",
    "Linear", "Logistic", "ReLU", "BinaryCrossEntropyLoss",
    "Model_MLP_L2", "Optimizer_GD", "BatchGD", "RunnerV2_1",
    "Model_MLP_L2_V2", "RunnerV2_2",
    "Model_MLP_L5", "print_grads",
    "IrisDataset", "Model_MLP_L2_V3", "Accuracy", "RunnerV3",
    "plot_activations", "plot_weight_distributions", "plot_grad_norms", "plot_train_dev_loss",
    "plot_loss_acc", "plot_training_loss_acc",
]
