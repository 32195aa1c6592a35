"""Chapter 3 (线性分类) under the book's names.

``BinaryCrossEntropyLoss`` and ``Optimizer_GD`` here are the chapter-3 versions (no-argument loss without
backward; gradient descent over ``model.params``); chapter 4 redefines both. ``model_LR``/``model_SR`` are
the lowercase names the book's training code uses, ``SimpleBatchGD`` the name in the book's notebooks.
"""

from .data import load_data, make_moons, make_multiclass_classification
from .metrics import accuracy
from .plots import plot, plot_data, plot_decision_boundary, plot_logistic
from .gradient_descent import Optimizer, Optimizer_GD, SimpleBatchGD
from .linear_classifiers import (BinaryCrossEntropyLoss, Model_LR, Model_SR, MultiCrossEntropyLoss, logistic,
                                 model_LR, model_SR, softmax)
from .runner_v2 import RunnerV2

__all__ = [
    "logistic", "softmax",
    "make_moons", "make_multiclass_classification", "load_data",
    "Model_LR", "Model_SR", "model_LR", "model_SR",
    "BinaryCrossEntropyLoss", "MultiCrossEntropyLoss",
    "Optimizer", "Optimizer_GD", "SimpleBatchGD",
    "accuracy",
    "RunnerV2",
    "plot", "plot_logistic", "plot_data", "plot_decision_boundary",
]
