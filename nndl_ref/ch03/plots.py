"""Plots of chapter 3: the Logistic curve, data scatter, decision regions and RunnerV2 curves
(book figs. 3.2–3.7). Every function returns the matplotlib Figure and never calls ``plt.show()``."""

import matplotlib.pyplot as plt
import numpy as np
import paddle

from .linear_classifiers import logistic
from ..plotting import as_numpy


def plot_logistic(logistic_fn=logistic, low=-10.0, high=10.0, num=10000):
    """The Logistic function on [low, high] (book §3.1, fig. 3.2); pass a student's ``logistic_fn`` to draw it."""
    x = paddle.linspace(low, high, num)
    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.plot(as_numpy(x), as_numpy(logistic_fn(x)), color="red", label="Logistic Function")
    ax.axvline(0, color="grey", linewidth=0.5)
    ax.axhline(0.5, color="grey", linewidth=0.5)
    ax.legend()
    return fig


def plot_data(X, y, title="", ax=None):
    """Scatter of 2-D samples coloured by label, as the book draws Moon1000 and Multi1000 (book §3.1.1, §3.2.1,
    figs. 3.3, 3.5)."""
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 5))
    X, y = as_numpy(X), as_numpy(y).reshape(-1)
    ax.scatter(X[:, 0], X[:, 1], marker="*", c=y)
    ax.set_title(title)
    return ax.figure


def plot_decision_boundary(model, X, y, resolution=200, margin=0.5, ax=None):
    """Decision regions of a trained classifier over the data's bounding box, with the samples on top.

    ``model(inputs)`` returns [M,1] probabilities of class 1 (threshold 0.5) or [M,C] class scores
    (argmax), like ``Model_LR``/``Model_SR``. A kit addition to book §3.1.7/§3.2.5, whose figures show only
    the training curves.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 5))
    X_np, y_np = as_numpy(X), as_numpy(y).reshape(-1)
    x_lo, y_lo = X_np[:, :2].min(axis=0) - margin
    x_hi, y_hi = X_np[:, :2].max(axis=0) + margin
    xx, yy = np.meshgrid(np.linspace(x_lo, x_hi, resolution), np.linspace(y_lo, y_hi, resolution))
    grid = paddle.to_tensor(np.stack([xx.ravel(), yy.ravel()], axis=1), dtype=X.dtype if hasattr(X, "dtype")
                            else "float32")
    scores = as_numpy(model(grid))
    regions = (scores[:, 0] >= 0.5).astype(int) if scores.shape[1] == 1 else scores.argmax(axis=1)
    ax.contourf(xx, yy, regions.reshape(xx.shape), alpha=0.25, cmap="viridis")
    ax.scatter(X_np[:, 0], X_np[:, 1], marker="*", c=y_np, cmap="viridis")
    return ax.figure


def plot(runner, fig_name=None):
    """Train/dev accuracy (left) and loss (right) per epoch of a ``RunnerV2`` (book §3.1.7, figs. 3.4, 3.6, 3.7).

    Saves to ``fig_name`` when given. Dev records beyond the training epochs (a later ``evaluate`` on the
    test set appends one) are not drawn.
    """
    epochs = list(range(len(runner.train_scores)))
    n = len(epochs)
    fig, (ax_score, ax_loss) = plt.subplots(1, 2, figsize=(10, 4))
    ax_score.plot(epochs, runner.train_scores, color="red", label="Train accuracy")
    ax_score.plot(epochs, runner.dev_scores[:n], color="blue", label="Dev accuracy")
    ax_score.set_ylabel("score")
    ax_score.set_xlabel("epoch")
    ax_score.legend(loc="upper left")
    ax_loss.plot(epochs, runner.train_loss, color="red", label="Train loss")
    ax_loss.plot(epochs, runner.dev_loss[:n], color="blue", label="Dev loss")
    ax_loss.set_ylabel("loss")
    ax_loss.set_xlabel("epoch")
    ax_loss.legend(loc="upper left")
    fig.tight_layout()
    if fig_name:
        fig.savefig(fig_name)
    return fig
