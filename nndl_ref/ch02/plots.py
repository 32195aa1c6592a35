"""Plots of chapter 2: fitted curves, the degree sweep and the Boston box plots (book §2.2.4, §2.3, §2.5.1.2)."""

import matplotlib.pyplot as plt
import numpy as np

from ..plotting import as_numpy


def plot_fit(X_train, y_train, X_curve, y_true_curve, y_pred_curve, title="", ax=None):
    """Training points, the true function and the fitted one (figs. 2.3–2.7)."""
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3.5))
    ax.scatter(as_numpy(X_train).reshape(-1), as_numpy(y_train).reshape(-1), facecolor="none", edgecolor="#e4007f",
               s=40, label="train data")
    ax.plot(as_numpy(X_curve).reshape(-1), as_numpy(y_true_curve).reshape(-1), c="#000000", label="true function")
    ax.plot(as_numpy(X_curve).reshape(-1), as_numpy(y_pred_curve).reshape(-1), c="#f19ec2", label="fitted")
    ax.set_title(title)
    ax.legend(fontsize="small")
    return ax.figure


def plot_degree_errors(degrees, train_errors, test_errors):
    """Training and test MSE against polynomial degree (fig. 2.6), log scale."""
    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.plot(degrees, train_errors, "-o", c="#e4007f", label="train error")
    ax.plot(degrees, test_errors, "--s", c="#f19ec2", label="test error")
    ax.set_yscale("log")
    ax.set_xlabel("degree")
    ax.set_ylabel("MSE")
    ax.legend()
    return fig


def boxplot(data, columns=3):
    """One box plot per column with means shown, to spot outliers (fig. 2.9)."""
    rows = int(np.ceil(len(data.columns) / columns))
    fig, axes = plt.subplots(rows, columns, figsize=(2.2 * columns, 1.8 * rows))
    for ax, column in zip(axes.flat, data.columns):
        ax.boxplot(data[column], showmeans=True, whiskerprops={"color": "green", "linestyle": "--"})
        ax.set_title(column, fontsize=8)
        ax.tick_params(labelsize=6)
    for ax in list(axes.flat)[len(data.columns):]:
        ax.axis("off")
    fig.tight_layout()
    return fig
