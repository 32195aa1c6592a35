"""``RunnerV3``: mini-batch training from a DataLoader with step-wise evaluation (book §4.5.4.2)."""

import paddle


class RunnerV3:
    """Mini-batch SGD over a ``DataLoader``, evaluation every ``eval_steps`` steps with a streaming
    metric, best-model save/load through ``state_dict`` (book §4.5.4.2).

    Note the argument order ``(model, optimizer, loss_fn, metric)``, unlike RunnerV2*. Records
    ``train_step_losses`` [(step, loss)], ``train_epoch_losses`` [mean batch loss per epoch],
    ``dev_losses`` [(step, dev loss)], ``dev_scores`` and ``best_score``.

    ``train(train_loader, dev_loader=None, num_epochs=0, log_steps=100, eval_steps=0,
    save_path="best_model.pdparams", custom_print_log=None)``: for every batch forward, loss,
    ``backward``, ``custom_print_log(self)``, ``optimizer.step()``, ``clear_grad()``; when
    ``eval_steps`` > 0, evaluates at steps s ≠ 0 with s % eval_steps == 0 and at the last step, and
    saves when the dev score strictly improves (``save_path=None`` skips saving). ``evaluate`` returns
    ``(score, loss)`` with the loss the mean of the batch means, as the book. Differs from the book:
    the epoch loss is summed from ``loss.item()`` (the book sums tensors, keeping every batch's
    autograd graph alive until the epoch ends).
    """

    def __init__(self, model, optimizer, loss_fn, metric, **kwargs):
        self.model = model
        self.optimizer = optimizer
        self.loss_fn = loss_fn
        self.metric = metric
        self.dev_scores = []
        self.train_epoch_losses = []
        self.train_step_losses = []
        self.dev_losses = []
        self.best_score = 0

    def train(self, train_loader, dev_loader=None, **kwargs):
        self.model.train()
        num_epochs = kwargs.get("num_epochs", 0)
        log_steps = kwargs.get("log_steps", 100)
        eval_steps = kwargs.get("eval_steps", 0)
        save_path = kwargs.get("save_path", "best_model.pdparams")
        custom_print_log = kwargs.get("custom_print_log", None)

        num_training_steps = num_epochs * len(train_loader)
        if eval_steps:
            if self.metric is None:
                raise RuntimeError("Error: Metric can not be None!")
            if dev_loader is None:
                raise RuntimeError("Error: dev_loader can not be None!")

        global_step = 0
        for epoch in range(num_epochs):
            total_loss = 0.0
            for X, y in train_loader:
                logits = self.model(X)
                loss = self.loss_fn(logits, y)
                loss_value = loss.item()
                total_loss += loss_value
                self.train_step_losses.append((global_step, loss_value))
                if log_steps and global_step % log_steps == 0:
                    print(f"[Train] epoch: {epoch}/{num_epochs}, step: {global_step}/{num_training_steps}, "
                          f"loss: {loss_value:.5f}")
                loss.backward()
                if custom_print_log:
                    custom_print_log(self)
                self.optimizer.step()
                self.optimizer.clear_grad()

                if eval_steps > 0 and global_step != 0 and (
                        global_step % eval_steps == 0 or global_step == num_training_steps - 1):
                    dev_score, dev_loss = self.evaluate(dev_loader, global_step=global_step)
                    print(f"[Evaluate] dev score: {dev_score:.5f}, dev loss: {dev_loss:.5f}")
                    self.model.train()
                    if dev_score > self.best_score:
                        if save_path:
                            self.save_model(save_path)
                        print(f"[Evaluate] best accuracy performance has been updated: "
                              f"{self.best_score:.5f} --> {dev_score:.5f}")
                        self.best_score = dev_score
                global_step += 1
            self.train_epoch_losses.append(total_loss / len(train_loader))
        print("[Train] Training done!")

    @paddle.no_grad()
    def evaluate(self, dev_loader, **kwargs):
        assert self.metric is not None
        self.model.eval()
        global_step = kwargs.get("global_step", -1)
        total_loss = 0.0
        self.metric.reset()
        num_batches = 0
        for X, y in dev_loader:
            logits = self.model(X)
            total_loss += self.loss_fn(logits, y).item()
            self.metric.update(logits, y)
            num_batches += 1
        dev_loss = total_loss / num_batches
        self.dev_losses.append((global_step, dev_loss))
        dev_score = self.metric.accumulate()
        self.dev_scores.append(dev_score)
        return dev_score, dev_loss

    @paddle.no_grad()
    def predict(self, x, **kwargs):
        self.model.eval()
        return self.model(x)

    def save_model(self, save_path):
        paddle.save(self.model.state_dict(), save_path)

    def load_model(self, model_path):
        self.model.set_state_dict(paddle.load(model_path))
