"""``RunnerV2_1`` (operator networks, backward from the loss, per-layer files) and ``RunnerV2_2``
(``nn.Layer`` models trained by autograd, ``state_dict`` files) (book §4.2.5, §4.3.2)."""

import os

import paddle

from ..ch03.runner_v2 import RunnerV2


class RunnerV2_1(RunnerV2):
    """Whole-batch training of an operator network whose gradients start at ``loss_fn.backward()``
    (book §4.2.5).

    Arguments as RunnerV2: ``(model, optimizer, metric, loss_fn)``; ``loss_fn`` must hold the model
    (chapter-4 ``BinaryCrossEntropyLoss(model)``) and the model must expose ``layers``. Every epoch:
    forward, record ``train_loss``/``train_scores``, ``loss_fn.backward()``, ``optimizer.step()``,
    ``evaluate`` on the dev set; when the dev score strictly improves and ``save_dir`` is given, every
    layer with a ``params`` dict is saved to ``<save_dir>/<layer.name>.pdparams``. ``train`` keywords:
    ``num_epochs`` (0), ``log_epochs`` (100, 0/None = silent), ``save_dir`` (None). ``load_model(dir)``
    restores each such layer from its own file. Differs from the book: ``save_model`` creates
    ``save_dir`` if needed and ``load_model`` opens ``<layer.name>.pdparams`` directly instead of
    listing the folder (other files in it are harmless).
    """

    def __init__(self, model, optimizer, metric, loss_fn, **kwargs):
        super().__init__(model, optimizer, metric, loss_fn)

    def train(self, train_set, dev_set, **kwargs):
        num_epochs = kwargs.get("num_epochs", 0)
        log_epochs = kwargs.get("log_epochs", 100)
        save_dir = kwargs.get("save_dir", None)
        best_score = 0
        X, y = train_set
        for epoch in range(num_epochs):
            logits = self.model(X)
            trn_loss = self.loss_fn(logits, y).item()
            self.train_loss.append(trn_loss)
            self.train_scores.append(self.metric(logits, y).item())
            self.loss_fn.backward()
            self.optimizer.step()
            dev_score, _ = self.evaluate(dev_set)
            if dev_score > best_score:
                print(f"[Evaluate] best accuracy performance has been updated: {best_score:.5f} --> {dev_score:.5f}")
                best_score = dev_score
                if save_dir:
                    self.save_model(save_dir)
            if log_epochs and epoch % log_epochs == 0:
                print(f"[Train] epoch: {epoch}/{num_epochs}, loss: {trn_loss}")

    def _param_layers(self):
        return [layer for layer in self.model.layers if isinstance(layer.params, dict)]

    def save_model(self, save_dir):
        os.makedirs(save_dir, exist_ok=True)
        for layer in self._param_layers():
            paddle.save(layer.params, os.path.join(save_dir, layer.name + ".pdparams"))

    def load_model(self, model_dir):
        for layer in self._param_layers():
            layer.params = paddle.load(os.path.join(model_dir, layer.name + ".pdparams"))


class RunnerV2_2(RunnerV2):
    """Whole-batch training of a ``paddle.nn.Layer`` model by autograd (book §4.3.2).

    Arguments ``(model, optimizer, metric, loss_fn)`` with a Paddle optimizer (``step``/``clear_grad``)
    and any loss callable (e.g. ``F.binary_cross_entropy``). Every epoch: forward, record train
    loss/score, ``loss.backward()``, ``custom_print_log(self)`` if given (it receives the RUNNER), then
    ``optimizer.step()``, ``clear_grad()``, ``evaluate``; saves ``model.state_dict()`` to ``save_path``
    when the dev score strictly improves. ``train`` keywords: ``num_epochs`` (0), ``log_epochs`` (100,
    0/None = silent), ``save_path`` ("best_model.pdparams"; None skips saving), ``custom_print_log``.
    ``evaluate``/``predict`` run under ``paddle.no_grad()`` in eval mode. Differs from the book: the
    model is put back in train mode at each epoch (the book leaves it in eval mode after the first
    evaluation).
    """

    def __init__(self, model, optimizer, metric, loss_fn, **kwargs):
        super().__init__(model, optimizer, metric, loss_fn)

    def train(self, train_set, dev_set, **kwargs):
        num_epochs = kwargs.get("num_epochs", 0)
        log_epochs = kwargs.get("log_epochs", 100)
        save_path = kwargs.get("save_path", "best_model.pdparams")
        custom_print_log = kwargs.get("custom_print_log", None)
        best_score = 0
        X, y = train_set
        for epoch in range(num_epochs):
            self.model.train()
            logits = self.model(X)
            trn_loss = self.loss_fn(logits, y)
            self.train_loss.append(trn_loss.item())
            self.train_scores.append(self.metric(logits, y).item())
            trn_loss.backward()
            if custom_print_log is not None:
                custom_print_log(self)
            self.optimizer.step()
            self.optimizer.clear_grad()
            dev_score, _ = self.evaluate(dev_set)
            if dev_score > best_score:
                if save_path:
                    self.save_model(save_path)
                print(f"[Evaluate] best accuracy performance has been updated: {best_score:.5f} --> {dev_score:.5f}")
                best_score = dev_score
            if log_epochs and epoch % log_epochs == 0:
                print(f"[Train] epoch: {epoch}/{num_epochs}, loss: {trn_loss.item()}")

    @paddle.no_grad()
    def evaluate(self, data_set, **kwargs):
        self.model.eval()
        return super().evaluate(data_set, **kwargs)

    @paddle.no_grad()
    def predict(self, X, **kwargs):
        self.model.eval()
        return self.model(X)

    def save_model(self, saved_path):
        paddle.save(self.model.state_dict(), saved_path)

    def load_model(self, model_path):
        self.model.set_state_dict(paddle.load(model_path))
