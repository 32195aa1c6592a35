"""Variance-scaling initialisation (Xavier) and the multi-layer network ``MLP`` with a configurable
initialisation and layer-wise normalisation (book §7.4.2, §7.5.1.2, §7.5.2.2)."""

import numpy as np
import paddle.nn as nn

from .normalization import BatchNorm, LayerNorm


def xavier_normal_std(input_size, output_size):
    """Standard deviation √(2/(M_{l−1} + M_l)) of Xavier's Gaussian initialisation for Tanh (book §7.4.2)."""
    return np.sqrt(2 / (input_size + output_size))


def xavier_uniform_r(input_size, output_size):
    """Half-width r = √(6/(M_{l−1} + M_l)) of Xavier's uniform initialisation U[−r, r] for Tanh (book §7.4.2)."""
    return np.sqrt(6 / (input_size + output_size))


class MLP(nn.Layer):
    """Fully connected layers ``layers_size[0] → … → layers_size[-1]`` with activation ``act_fn`` (a class,
    e.g. ``nn.Tanh``) between them (book §7.4.2.1; with normalisation §7.5.1.2).

    ``init_fn_name`` 'normal' draws W ~ N(0, init_fn(in, out)²), 'uniform' W ~ U[−r, r] with
    r = init_fn(in, out), anything else N(0, 1); biases start at 0. ``norm_name`` 'bn' or 'ln' puts a
    ``BatchNorm``/``LayerNorm`` with ``gamma[i]``, ``beta[i]`` after every hidden linear layer (γ 1, β 0 when
    not given). ``z[i]`` records what the book prints: the activation of layer i without normalisation, the
    normalised pre-activation with it, and the output of the last layer (which is never normalised).
    """

    def __init__(self, layers_size, init_fn_name, init_fn, act_fn, norm_name=None, gamma=None, beta=None):
        super().__init__()
        self.linear = nn.Sequential()
        self.normalization = {}
        self.num_layers = len(layers_size) - 1
        gamma = [1.0] * self.num_layers if gamma is None else gamma
        beta = [0.0] * self.num_layers if beta is None else beta
        for i in range(self.num_layers):
            input_size, output_size = layers_size[i], layers_size[i + 1]
            if init_fn_name == "normal":
                initializer = nn.initializer.Normal(mean=0, std=init_fn(input_size, output_size))
            elif init_fn_name == "uniform":
                r = init_fn(input_size, output_size)
                initializer = nn.initializer.Uniform(low=-r, high=r)
            else:
                initializer = nn.initializer.Normal()
            self.linear.add_sublayer(str(i), nn.Linear(input_size, output_size, weight_attr=initializer))
            if norm_name == "bn":
                self.normalization[i] = BatchNorm(output_size, gamma=gamma[i], beta=beta[i])
            elif norm_name == "ln":
                self.normalization[i] = LayerNorm(output_size, gamma=gamma[i], beta=beta[i])
        self.norm_name = norm_name
        self.act_fn = act_fn()
        self.z = {}

    def __call__(self, X, train_mode=True):
        return self.forward(X, train_mode)

    def forward(self, X, train_mode=True):
        y = X
        for i in range(self.num_layers):
            y = self.linear[i](y)
            if i == self.num_layers - 1:
                self.z[i] = y
                break
            if self.norm_name == "bn":
                y = self.normalization[i](y, train_mode)
            elif self.norm_name == "ln":
                y = self.normalization[i](y)
            if self.norm_name is not None:
                self.z[i] = y
            y = self.act_fn(y)
            if self.norm_name is None:
                self.z[i] = y
        return y
