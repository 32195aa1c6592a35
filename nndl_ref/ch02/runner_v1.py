"""The abstract ``Runner`` (book §2.4) and ``RunnerV1`` for closed-form regression (book §2.5.3)."""

import os

import paddle

PARAMS_FILE = "params.pdtensor"


class Runner:
    """The training interface every runner of the book follows (book §2.4)."""

    def __init__(self, model, optimizer, loss_fn, metric):
        self.model = model
        self.optimizer = optimizer
        self.loss_fn = loss_fn
        self.metric = metric

    def train(self, train_dataset, dev_dataset=None, **kwargs):
        raise NotImplementedError

    def evaluate(self, data_set, **kwargs):
        raise NotImplementedError

    def predict(self, x, **kwargs):
        raise NotImplementedError

    def save_model(self, save_path):
        raise NotImplementedError

    def load_model(self, model_path):
        raise NotImplementedError


class RunnerV1(Runner):
    """Train by one call of a closed-form optimizer, then save ``model.params`` (book §2.5.3).

    ``optimizer`` is called as ``optimizer(model, X, y, reg_lambda)``; ``metric(y_pred, y)`` scores.
    Datasets are ``(X, y)`` tuples. Parameters are saved as ``<model_dir>/params.pdtensor`` (the book's
    file name has a typo and its ``save_model`` reads a global ``model``).
    """

    def train(self, dataset, reg_lambda=0, model_dir="./models"):
        X, y = dataset
        self.optimizer(self.model, X, y, reg_lambda)
        self.save_model(model_dir)

    def evaluate(self, dataset, **kwargs):
        X, y = dataset
        return self.metric(self.model(X), y)

    def predict(self, X, **kwargs):
        return self.model(X)

    def save_model(self, model_dir):
        os.makedirs(model_dir, exist_ok=True)
        paddle.save(self.model.params, os.path.join(model_dir, PARAMS_FILE))

    def load_model(self, model_dir):
        self.model.params = paddle.load(os.path.join(model_dir, PARAMS_FILE))
