"""``RunnerV2``: whole-batch gradient-descent training with a dev set and best-model saving (book §3.1.6)."""

import paddle

from ..ch02.runner_v1 import Runner


class RunnerV2(Runner):
    """Train a model whose ``backward(labels)`` fills ``grads`` (the chapter-3 fused style) (book §3.1.6).

    Note the book's argument order ``(model, optimizer, metric, loss_fn)``. Every epoch of ``train``:
    forward on the whole training set, record ``train_loss``/``train_scores``, ``model.backward(y)``,
    optional ``print_grads(model)``, ``optimizer.step()``, then ``evaluate`` on the dev set (which records
    ``dev_loss``/``dev_scores``) and save ``model.params`` to ``save_path`` whenever the dev score strictly
    beats the best so far (early-stopping idea, starting from 0). ``train`` keywords: ``num_epochs`` (0),
    ``log_epochs`` (100), ``save_path`` ("best_model.pdparams"), ``print_grads`` (None); others (the book
    passes ``eval_epochs``) are ignored. Like the book, ``evaluate`` always appends to the dev records.
    Differs from the book: the "best accuracy" log prints ``dev_score`` (the book names an undefined
    ``score``, a NameError on the first improvement), and ``log_epochs`` of 0/None disables the log (the
    book divides by it).
    """

    def __init__(self, model, optimizer, metric, loss_fn):
        super().__init__(model=model, optimizer=optimizer, loss_fn=loss_fn, metric=metric)
        self.train_scores = []
        self.dev_scores = []
        self.train_loss = []
        self.dev_loss = []

    def train(self, train_set, dev_set, **kwargs):
        num_epochs = kwargs.get("num_epochs", 0)
        log_epochs = kwargs.get("log_epochs", 100)
        save_path = kwargs.get("save_path", "best_model.pdparams")
        print_grads = kwargs.get("print_grads", None)
        best_score = 0
        X, y = train_set
        for epoch in range(num_epochs):
            logits = self.model(X)
            trn_loss = self.loss_fn(logits, y).item()
            self.train_loss.append(trn_loss)
            trn_score = self.metric(logits, y).item()
            self.train_scores.append(trn_score)
            self.model.backward(y)
            if print_grads is not None:
                print_grads(self.model)
            self.optimizer.step()
            dev_score, dev_loss = self.evaluate(dev_set)
            if dev_score > best_score:
                self.save_model(save_path)
                print(f"best accuracy performance has been updated: {best_score:.5f} --> {dev_score:.5f}")
                best_score = dev_score
            if log_epochs and epoch % log_epochs == 0:
                print(f"[Train] epoch: {epoch}, loss: {trn_loss}, score: {trn_score}")
                print(f"[Dev] epoch: {epoch}, loss: {dev_loss}, score: {dev_score}")

    def evaluate(self, data_set, **kwargs):
        X, y = data_set
        logits = self.model(X)
        loss = self.loss_fn(logits, y).item()
        self.dev_loss.append(loss)
        score = self.metric(logits, y).item()
        self.dev_scores.append(score)
        return score, loss

    def predict(self, X, **kwargs):
        return self.model(X)

    def save_model(self, save_path):
        paddle.save(self.model.params, save_path)

    def load_model(self, save_path):
        self.model.params = paddle.load(save_path)
