"""Chapter 7 (网络优化与正则化) under the book's names.

``Minibatch_GD`` is the §7.6.4 version with weight decay over ``model.layers``; the book's earlier
versions are chapter 3's ``SimpleBatchGD`` (§7.3.1) and chapter 4's ``BatchGD`` (§7.6.2). ``MLP`` is the
§7.5.1.2 network (its ``norm_name=None`` is the §7.4.2.1 one). ``ReLU`` is chapter 4's (``nndl_ref.ch04``).
"""

from .initialization import MLP, xavier_normal_std, xavier_uniform_r
from .moons import MoonsDataset
from .normalization import BatchNorm, LayerNorm, MultiConvLayerNet
from .optimized_functions import OptimizedFunction, OptimizedFunction3D, train_f
from .optimizers import Adadelta, Adagrad, Adam, AdamW, Minibatch_GD, Momentum, RMSprop
from .plots import plot_2d, plot_3d_trajectories, show_class_boundary
from .regularization import (BinaryCrossEntropyWithLogits, Dropout, MLP_3L, MLP_3L_dropout, accuracy_logits,
                             train_model)

__all__ = [
    "OptimizedFunction", "OptimizedFunction3D", "train_f",
    "Adagrad", "RMSprop", "Momentum", "Adam", "Adadelta", "AdamW", "Minibatch_GD",
    "xavier_normal_std", "xavier_uniform_r", "MLP", "MoonsDataset",
    "BatchNorm", "LayerNorm", "MultiConvLayerNet",
    "MLP_3L", "BinaryCrossEntropyWithLogits", "accuracy_logits", "Dropout", "MLP_3L_dropout", "train_model",
    "plot_2d", "plot_3d_trajectories", "show_class_boundary",
]
