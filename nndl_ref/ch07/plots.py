"""The chapter's figures: optimizer trajectories on a contour plot and on a 3D surface, and the decision
regions of the regularisation experiments (book §7.3.1.1, §7.3.4, §7.6.2.4; figs. 7.3, 7.13–7.14, 7.17–7.20).
The 3D comparison is drawn as a static figure (the book's ``FuncAnimation`` video needs ffmpeg)."""

import matplotlib.pyplot as plt
import numpy as np
import paddle

from ..plotting import as_numpy


def plot_2d(model, x, ax=None, title=None):
    """Contours of the 2D test function ``model`` on [−5, 5)² and the trajectory ``x`` [T, 2] with the
    optimum (0, 0) as a red star (book §7.3.1.1 ``Visualization.plot_2d``, fig. 7.3)."""
    grid = np.arange(-5, 5, 0.1)
    x1, x2 = np.meshgrid(grid, grid)
    values = as_numpy(model(paddle.to_tensor(np.stack([x1, x2]), dtype="float32").transpose([1, 0, 2])))
    if ax is None:
        _, ax = plt.subplots(figsize=(10, 6))
    filled = ax.contourf(x1, x2, values, cmap="rainbow")
    ax.contour(x1, x2, values, colors="black")
    ax.figure.colorbar(filled, ax=ax)
    x = as_numpy(x)
    ax.plot(x[:, 0], x[:, 1], "-o", color="b", markersize=3)
    ax.plot(0, 0, "r*", markersize=18)
    ax.set_xlim(-2, 5); ax.set_ylim(-2, 5)
    ax.set_xlabel("$x_1$"); ax.set_ylabel("$x_2$")
    if title:
        ax.set_title(title)
    return ax


def plot_3d_trajectories(model, trajectories, values, labels, colors, span=(-3, 3)):
    """The surface of ``model`` on ``span``² and each optimizer's trajectory (points [T, 2], values [T]) on it
    (book §7.3.4, figs. 7.13–7.14 as one static figure). Points where f is not finite, or that leave the plotted
    square, are cut off (Momentum runs away towards x₁ → −∞)."""
    grid = np.arange(span[0], span[1], 0.1)
    x1, x2 = np.meshgrid(grid, grid)
    surface = as_numpy(model(paddle.to_tensor(np.stack([x1, x2]), dtype="float32")))
    fig = plt.figure(figsize=(9, 7))
    ax = fig.add_subplot(projection="3d")
    ax.plot_surface(x1, x2, surface, cmap="rainbow", alpha=0.5)
    for points, z, label, color in zip(trajectories, values, labels, colors):
        points, z = as_numpy(points), as_numpy(z).reshape(-1)
        inside = np.isfinite(z) & np.all((points >= span[0]) & (points <= span[1]), axis=1)
        stop = len(z) if inside.all() else int(np.argmin(inside))
        ax.plot(points[:stop, 0], points[:stop, 1], z[:stop], label=label, color=color, lw=2)
    ax.set_xlabel("x1"); ax.set_ylabel("x2"); ax.set_zlabel("f(x1,x2)")
    ax.legend(loc="upper left")
    return ax


def show_class_boundary(model, X_train, y_train, *args, ax=None, title=None):
    """Decision regions of a binary logit model on a 200 × 200 grid of [−2, 3] × [−3, 3] and the training
    points as stars (book §7.6.2.4, figs. 7.17–7.20); ``*args`` go to the model (``'dev'``). The regions are
    filled in one ``pcolormesh`` (the book scatters the 40,000 grid points)."""
    x1, x2 = paddle.meshgrid(paddle.linspace(-2, 3, 200), paddle.linspace(-3, 3, 200))
    grid = paddle.stack([paddle.flatten(x1), paddle.flatten(x2)], axis=1)
    regions = as_numpy(paddle.cast(model(grid, *args) > 0, "int32")).reshape(200, 200)
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 4))
    ax.pcolormesh(as_numpy(x1), as_numpy(x2), regions, cmap=plt.cm.Spectral, shading="auto")
    X_train = as_numpy(X_train)
    ax.scatter(X_train[:, 0], X_train[:, 1], marker="*", s=40, c=as_numpy(y_train).reshape(-1), cmap=plt.cm.Spectral,
               edgecolors="k", linewidths=0.5)
    ax.set_xlabel("x1"); ax.set_ylabel("x2")
    if title:
        ax.set_title(title)
    return ax
