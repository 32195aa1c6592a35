"""Plots of chapter 4: activation curves, weight-initialisation histograms, per-layer gradient norms and
the training curves of RunnerV2_1, RunnerV2_2 and RunnerV3 (book figs. 4.3, 4.4, 4.7–4.10, 4.12).
Every function returns the matplotlib Figure and never calls ``plt.show()``."""

import matplotlib.pyplot as plt
import numpy as np
import paddle

from .activations import leaky_relu, relu, tanh
from ..ch03.linear_classifiers import logistic
from ..plotting import as_numpy

_DARK, _LIGHT = "#8E004D", "#E20079"


def _finish(fig, fig_name):
    fig.tight_layout()
    if fig_name:
        fig.savefig(fig_name)
    return fig


def plot_activations(functions=None, low=-10.0, high=10.0, num=10000, fig_name=None):
    """Curves of activation functions on [low, high] with the axes through the origin (figs. 4.3, 4.4).

    ``functions`` maps a legend label to a tensor function; the default draws the four of book
    §4.1.2 (Logistic, Tanh, ReLU, LeakyReLU). Pass a student's functions to draw theirs.
    """
    if functions is None:
        functions = {"Logistic Function": logistic, "Tanh Function": tanh,
                     "ReLU Function": relu, "LeakyReLU Function": leaky_relu}
    z = paddle.linspace(low, high, num)
    fig, ax = plt.subplots(figsize=(5, 3.5))
    styles = ["-", "--", "-.", ":"]
    for i, (label, function) in enumerate(functions.items()):
        ax.plot(as_numpy(z), as_numpy(function(z)), linestyle=styles[i % len(styles)], label=label)
    for side in ("top", "right"):
        ax.spines[side].set_color("none")
    ax.spines["left"].set_position(("data", 0))
    ax.spines["bottom"].set_position(("data", 0))
    ax.legend(fontsize="small")
    return _finish(fig, fig_name)


def plot_weight_distributions(gaussian_weights, uniform_weights, bins=200, fig_name=None):
    """Density histograms of Gaussian and uniform initial weights side by side (book §4.4.1, fig. 4.9)."""
    fig, (ax_g, ax_u) = plt.subplots(1, 2, figsize=(8, 3.5))
    ax_g.hist(as_numpy(gaussian_weights).reshape(-1), bins=bins, density=True)
    ax_g.set_title("Gaussian Distribution")
    ax_u.hist(as_numpy(uniform_weights).reshape(-1), bins=bins, density=True)
    ax_u.set_title("Uniform Distribution")
    return _finish(fig, fig_name)


def plot_grad_norms(norms_by_run, log_scale=True, fig_name=None):
    """Grouped bars of the per-layer weight-gradient L2 norms, input layer first (book §4.4.2.3, fig. 4.10).

    ``norms_by_run`` maps a run label (e.g. 'sigmoid', 'relu') to the dict returned by ``print_grads``
    or to a list of norms. The y axis is logarithmic by default; exact zeros (dead ReLU) draw no bar.
    """
    fig, ax = plt.subplots(figsize=(6, 3.5))
    width = 0.8 / max(len(norms_by_run), 1)
    for i, (label, norms) in enumerate(norms_by_run.items()):
        values = list(norms.values()) if isinstance(norms, dict) else list(norms)
        positions = np.arange(1, len(values) + 1) + (i - (len(norms_by_run) - 1) / 2) * width
        ax.bar(positions, values, width=width, label=label)
    if log_scale:
        ax.set_yscale("log")
    ax.set_xlabel("layer")
    ax.set_ylabel("L2 norm of the weight gradient")
    ax.legend(fontsize="small")
    return _finish(fig, fig_name)


def plot_train_dev_loss(runner, fig_name=None):
    """Train and dev loss per epoch of a ``RunnerV2_1`` run (book §4.2.6, fig. 4.7).

    Dev records beyond the training epochs (a later ``evaluate`` on the test set adds one) are not drawn.
    """
    n = len(runner.train_loss)
    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.plot(range(n), runner.train_loss, color="red", label="Train loss")
    ax.plot(range(n), runner.dev_loss[:n], color="blue", label="Dev loss")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.legend()
    return _finish(fig, fig_name)


def plot_loss_acc(runner, fig_name=None):
    """Loss (left) and accuracy (right) per epoch for train and dev of a ``RunnerV2_2`` run — the book's
    §4.3.3 ``plot(runner, fig_name)`` (fig. 4.8)."""
    n = len(runner.train_scores)
    epochs = list(range(n))
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 4))
    ax_loss.plot(epochs, runner.train_loss, color=_DARK, label="Train loss")
    ax_loss.plot(epochs, runner.dev_loss[:n], color=_LIGHT, label="Dev loss")
    ax_loss.set_xlabel("epoch")
    ax_loss.set_ylabel("loss")
    ax_loss.legend(loc="upper right")
    ax_acc.plot(epochs, runner.train_scores, color=_DARK, label="Train accuracy")
    ax_acc.plot(epochs, runner.dev_scores[:n], color=_LIGHT, label="Dev accuracy")
    ax_acc.set_xlabel("epoch")
    ax_acc.set_ylabel("score")
    ax_acc.legend(loc="lower right")
    return _finish(fig, fig_name)


def plot_training_loss_acc(runner, fig_name=None, sample_step=30):
    """Step-wise train loss (every ``sample_step``-th step), dev loss and dev accuracy of a ``RunnerV3``
    run — the book's §4.5.5 ``plot(runner, fig_name)`` (fig. 4.12; the name is the companion repo's).

    Dev points recorded outside training (global step −1, e.g. a test evaluation) are not drawn.
    """
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 4))
    train_items = runner.train_step_losses[::sample_step]
    ax_loss.plot([s for s, _ in train_items], [v for _, v in train_items], color=_DARK, label="Train loss")
    dev = [(step, loss, score) for (step, loss), score in zip(runner.dev_losses, runner.dev_scores)
           if step != -1]
    if dev:
        steps = [d[0] for d in dev]
        ax_loss.plot(steps, [d[1] for d in dev], color=_LIGHT, linestyle="--", label="Dev loss")
        ax_acc.plot(steps, [d[2] for d in dev], color=_LIGHT, linestyle="--", label="Dev accuracy")
    ax_loss.set_xlabel("step")
    ax_loss.set_ylabel("loss")
    ax_loss.legend(loc="upper right")
    ax_acc.set_xlabel("step")
    ax_acc.set_ylabel("score")
    ax_acc.legend(loc="lower right")
    return _finish(fig, fig_name)
