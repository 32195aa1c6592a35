"""Reference chapter 6 (循环神经网络): book numbers (the DigitSum files, the appendix toys of the SRN and the
LSTM, the gradient-explosion run E6.2), Paddle's built-in recurrent layers and gradient clipping with copied
weights, closed forms and float64 finite differences."""

import contextlib
import io
import random

import numpy as np
import paddle
import paddle.nn as nn
import paddle.nn.functional as F
import pytest

from helpers import numeric_vjp, relative_error
from nndl_ref.ch04 import Accuracy, RunnerV3
from nndl_ref.ch06 import (GRU, LSTM, SRN, AveragePooling, ClipGradByNormByHand, DigitSumDataset, Embedding,
                           GradNormLogger, Model_BiLSTM_FC, Model_RNN4SeqClass, clip_grad_by_global_norm,
                           clip_grad_by_norm, collate_fn, custom_print_log, generate_data, load_data,
                           make_digitsum_datasets)

TOY_W, TOY_U, TOY_b = [[0.1, 0.2], [0.1, 0.2]], [[0.0, 0.1], [0.1, 0.0]], [[0.1, 0.1]]


def assign(values):
    return paddle.ParamAttr(initializer=nn.initializer.Assign(np.asarray(values, dtype="float32")))


@pytest.fixture(scope="module")
def digitsum_root(tmp_path_factory):
    return make_digitsum_datasets(str(tmp_path_factory.mktemp("digitsum")))


# ------------------------------------------------------------------------------------------- §6.1.1
def test_digitsum_files_are_the_books(digitsum_root):
    train, dev, test = load_data(f"{digitsum_root}/5")
    assert (len(train), len(dev), len(test)) == (300, 100, 100)
    assert dev[:2] == [([0, 0, 6, 0, 0], 0), ([0, 1, 0, 0, 8], 1)]                 # the book's print (§6.1.1.2)
    train, _, _ = load_data(f"{digitsum_root}/10")
    assert train[:3] == [([0, 0, 0, 0, 5, 0, 0, 0, 0, 0], 0), ([0, 0, 0, 0, 0, 1, 0, 0, 0, 0], 0),
                         ([0, 0, 0, 0, 0, 0, 0, 0, 0, 3], 0)]
    with open(f"{digitsum_root}/5/dev.txt", encoding="utf-8") as handle:
        assert handle.read().startswith("0 0 6 0 0\t0\n0 1 0 0 8\t1\n")


def test_digitsum_examples_have_one_distractor_and_the_sum_label(digitsum_root):
    for length in (5, 35):
        for digits, label in sum(load_data(f"{digitsum_root}/{length}"), []):
            assert len(digits) == length and label == digits[0] + digits[1]
            assert sum(d != 0 for d in digits[2:]) <= 1
    with pytest.raises(ValueError):
        generate_data(2, 1, "unused.txt")
    with pytest.raises(ValueError):
        generate_data(5, 0, "unused.txt")


def test_digitsum_batches_are_int64_digits_and_flat_labels(digitsum_root):
    train, _, _ = load_data(f"{digitsum_root}/10")
    loader = paddle.io.DataLoader(DigitSumDataset(train), batch_size=8)
    X, y = next(iter(loader))
    assert X.shape == [8, 10] and y.shape == [8] and X.dtype == y.dtype == paddle.int64
    assert len(loader) == 38


# ------------------------------------------------------------------------------------------- §6.1.2
def test_embedding_is_the_one_hot_product_of_equation_6_3_and_nn_embedding():
    table = np.random.default_rng(0).normal(size=(10, 4)).astype("float32")
    ids = paddle.to_tensor([[3, 0, 3], [9, 1, 2]])
    ours = Embedding(10, 4, para_attr=assign(table))
    out = ours(ids)
    np.testing.assert_allclose(out.numpy(), (F.one_hot(ids, 10) @ paddle.to_tensor(table)).numpy(), rtol=1e-6)
    builtin = nn.Embedding(10, 4, weight_attr=assign(table))
    np.testing.assert_allclose(out.numpy(), builtin(ids).numpy(), rtol=1e-6)
    upstream = paddle.to_tensor(np.random.default_rng(1).normal(size=(2, 3, 4)).astype("float32"))
    (out * upstream).sum().backward()
    (builtin(ids) * upstream).sum().backward()
    np.testing.assert_allclose(ours.W.grad.numpy(), builtin.weight.grad.numpy(), rtol=1e-6, atol=1e-7)


def test_srn_reproduces_the_appendix_toy():
    srn = SRN(2, 2, W_attr=assign(TOY_W), U_attr=assign(TOY_U), b_attr=assign(TOY_b))
    out = srn(paddle.to_tensor([[[1.0, 0.0], [0.0, 2.0]]]))
    np.testing.assert_allclose(out.numpy(), [[0.31773996, 0.47749741]], rtol=1e-5)


def test_srn_creates_W_U_b_in_the_books_order_and_shapes():
    assert [(n, p.shape) for n, p in SRN(3, 5).named_parameters()] == [("W", [3, 5]), ("U", [5, 5]), ("b", [1, 5])]
    model = Model_RNN4SeqClass(SRN(3, 5), 10, 3, 5, 19)
    assert [n for n, _ in model.named_parameters()] == ["model.W", "model.U", "model.b", "embedding.W",
                                                        "linear.weight", "linear.bias"]
    assert model(paddle.to_tensor([[1, 2, 3, 4]])).shape == [1, 19]


def _copy_simple_rnn(builtin):
    """The book's W = weight_ih_l0ᵀ, U = weight_hh_l0ᵀ, b = bias_ih + bias_hh of a built-in SimpleRNN."""
    return SRN(builtin.input_size, builtin.hidden_size, W_attr=assign(builtin.weight_ih_l0.numpy().T),
               U_attr=assign(builtin.weight_hh_l0.numpy().T),
               b_attr=assign((builtin.bias_ih_l0 + builtin.bias_hh_l0).numpy()[None]))


def test_srn_matches_nn_simple_rnn_and_its_gradients():
    rng = np.random.default_rng(2)
    builtin = nn.SimpleRNN(3, 4)
    srn = _copy_simple_rnn(builtin)
    X = rng.normal(size=(2, 5, 3)).astype("float32")
    x_ours, x_builtin = paddle.to_tensor(X, stop_gradient=False), paddle.to_tensor(X, stop_gradient=False)
    ours, (_, last) = srn(x_ours), builtin(x_builtin)
    np.testing.assert_allclose(ours.numpy(), last[0].numpy(), rtol=1e-5, atol=1e-6)
    upstream = paddle.to_tensor(rng.normal(size=(2, 4)).astype("float32"))
    (ours * upstream).sum().backward()
    (last[0] * upstream).sum().backward()
    np.testing.assert_allclose(x_ours.grad.numpy(), x_builtin.grad.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(srn.W.grad.numpy(), builtin.weight_ih_l0.grad.numpy().T, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(srn.U.grad.numpy(), builtin.weight_hh_l0.grad.numpy().T, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(srn.b.grad.numpy()[0], builtin.bias_ih_l0.grad.numpy(), rtol=1e-5, atol=1e-6)


def _np_srn(X, W, U, b):
    h = np.zeros((X.shape[0], W.shape[1]))
    for step in range(X.shape[1]):
        h = np.tanh(X[:, step] @ W + h @ U + b)
    return h


def test_srn_backpropagation_through_time_matches_float64_finite_differences():
    rng = np.random.default_rng(3)
    values = [rng.normal(size=shape).astype("float32") for shape in ((2, 3, 2), (2, 3), (3, 3), (1, 3))]
    X, W, U, b = values
    srn = SRN(2, 3, W_attr=assign(W), U_attr=assign(U), b_attr=assign(b))
    x = paddle.to_tensor(X, stop_gradient=False)
    upstream = rng.normal(size=(2, 3))
    (srn(x) * paddle.to_tensor(upstream.astype("float32"))).sum().backward()
    numeric = numeric_vjp(_np_srn, [v.astype(np.float64) for v in values], upstream)
    for autograd, expected in zip((x.grad, srn.W.grad, srn.U.grad, srn.b.grad), numeric):
        assert relative_error(autograd.numpy(), expected) < 1e-5


# ------------------------------------------------------------------------------------------- §6.2
def _explosion_runner(train, steps=None):
    """E6.2 with the book's seeds and settings (SRN(32, 32), SGD lr 0.2, batch 64, summed cross-entropy),
    for one epoch or its first ``steps`` batches, recording the gradient norms."""
    np.random.seed(0)
    random.seed(0)
    paddle.seed(0)
    model = Model_RNN4SeqClass(SRN(32, 32), 10, 32, 32, 19)
    optimizer = paddle.optimizer.SGD(learning_rate=0.2, parameters=model.parameters())
    runner = RunnerV3(model, optimizer, nn.CrossEntropyLoss(reduction="sum"), Accuracy())
    logger = GradNormLogger(verbose=False)
    loader = paddle.io.DataLoader(DigitSumDataset(train if steps is None else train[:64 * steps]), batch_size=64)
    with contextlib.redirect_stdout(io.StringIO()):
        runner.train(loader, num_epochs=1, log_steps=0, custom_print_log=logger)
    return runner, logger


def test_gradient_explosion_reproduces_the_books_losses_and_gradient_norms(digitsum_root):
    train, dev, _ = load_data(f"{digitsum_root}/20")
    runner, logger = _explosion_runner(train)
    losses = [loss for _, loss in runner.train_step_losses[:4]]
    np.testing.assert_allclose(losses, [185.85355, 356.53052, 742.90344, 4096.0], rtol=1e-5)
    norms = np.array([logger.W_list[:3], logger.U_list[:3], logger.b_list[:3]])
    np.testing.assert_allclose(norms, [[17.70298, 70.45609, 641.59662], [54.53837, 102.08938, 649.36023],
                                       [17.50586, 18.73236, 123.62273]], rtol=1e-5)
    # step 3 (book 7823.55859 / 2093.90259 / 359.69080) follows from the loss saturating at 4096 and is
    # chaotic in the last float32 bits (docs/errata/ch06.md): only its explosion is pinned
    assert logger.W_list[3] > 10 * logger.W_list[2] and logger.U_list[3] > logger.U_list[2]
    runner, _ = _explosion_runner(train, steps=1)
    score, loss = runner.evaluate(paddle.io.DataLoader(DigitSumDataset(dev), batch_size=64))
    np.testing.assert_allclose([score, loss], [0.05, 377.19659], rtol=1e-5)


def test_custom_print_log_prints_the_books_line():
    model = Model_RNN4SeqClass(SRN(2, 3), 10, 2, 3, 19)
    nn.CrossEntropyLoss()(model(paddle.to_tensor([[1, 2, 3]])), paddle.to_tensor([4])).backward()
    runner = RunnerV3(model, None, None, None)
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        W, U, b = custom_print_log(runner)
    np.testing.assert_allclose([W, U, b], [np.linalg.norm(model.model.W.grad.numpy()),
                                           np.linalg.norm(model.model.U.grad.numpy()),
                                           np.linalg.norm(model.model.b.grad.numpy())], rtol=1e-6)
    assert output.getvalue() == f"[Training] W_grad_l2: {W:.5f}, U_grad_l2: {U:.5f}, b_grad_l2: {b:.5f}\n"


def _parameters_with_grads(scales, seed=4):
    rng = np.random.default_rng(seed)
    params = [paddle.create_parameter([3, 2], "float32") for _ in scales]
    grads = [paddle.to_tensor((scale * rng.normal(size=(3, 2))).astype("float32")) for scale in scales]
    return list(zip(params, grads))


@pytest.mark.parametrize("scales", [(0.1, 1.0, 10.0, 3.0), (0.01, 0.02)])
def test_clipping_matches_clip_grad_by_norm_and_by_global_norm(scales):
    params_grads = _parameters_with_grads(scales)
    grads = [g for _, g in params_grads]
    for (_, expected), grad in zip(nn.ClipGradByNorm(clip_norm=2.0)(params_grads), grads):
        np.testing.assert_allclose(clip_grad_by_norm(grad, 2.0).numpy(), expected.numpy(), rtol=1e-6)
    expected = [g for _, g in nn.ClipGradByGlobalNorm(clip_norm=2.0)(params_grads)]
    for ours, theirs in zip(clip_grad_by_global_norm(grads, 2.0), expected):
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)
    for name, hand, builtin in (("per tensor", ClipGradByNormByHand(2.0), nn.ClipGradByNorm(2.0)),
                                ("global", ClipGradByNormByHand(2.0, global_norm=True), nn.ClipGradByGlobalNorm(2.0))):
        for (_, ours), (_, theirs) in zip(hand(params_grads), builtin(params_grads)):
            np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6, err_msg=name)


def test_clip_by_norm_is_equation_6_6():
    grad = paddle.to_tensor([[3.0, 4.0]])
    np.testing.assert_allclose(clip_grad_by_norm(grad, 1.0).numpy(), [[0.6, 0.8]], rtol=1e-6)
    np.testing.assert_allclose(clip_grad_by_norm(grad, 5.0).numpy(), [[3.0, 4.0]], rtol=1e-6)
    np.testing.assert_allclose(clip_grad_by_norm(grad, 10.0).numpy(), [[3.0, 4.0]], rtol=1e-6)


# ------------------------------------------------------------------------------------------- §6.3
def test_lstm_reproduces_the_appendix_toy():
    attrs = {f"{kind}_{gate}": assign(value) for kind, value in (("W", TOY_W), ("U", TOY_U), ("b", TOY_b))
             for gate in "ifoa"}
    out = LSTM(2, 2, attrs)(paddle.to_tensor([[[1.0, 0.0]]]))
    np.testing.assert_allclose(out.numpy(), [[0.05943684, 0.09524119]], rtol=1e-5)


def test_lstm_creates_the_twelve_parameters_in_the_books_order():
    names = [n for n, _ in LSTM(3, 4).named_parameters()]
    assert names == [f"{kind}_{gate}" for kind in "WUb" for gate in "ifoa"]


def _gates(matrix, count):
    return np.split(matrix, count, axis=0)


def test_lstm_matches_nn_lstm_with_the_i_f_c_o_chunks_and_its_gradients():
    rng = np.random.default_rng(5)
    builtin = nn.LSTM(3, 4)
    W = _gates(builtin.weight_ih_l0.numpy(), 4)
    U = _gates(builtin.weight_hh_l0.numpy(), 4)
    b = _gates(builtin.bias_ih_l0.numpy() + builtin.bias_hh_l0.numpy(), 4)
    order = dict(zip("ifao", range(4)))                    # Paddle's chunks: input, forget, candidate, output
    attrs = {}
    for gate in "ifoa":
        attrs.update({f"W_{gate}": assign(W[order[gate]].T), f"U_{gate}": assign(U[order[gate]].T),
                      f"b_{gate}": assign(b[order[gate]][None])})
    lstm = LSTM(3, 4, attrs)
    X = rng.normal(size=(2, 6, 3)).astype("float32")
    x_ours, x_builtin = paddle.to_tensor(X, stop_gradient=False), paddle.to_tensor(X, stop_gradient=False)
    ours, (_, (last, _)) = lstm(x_ours), builtin(x_builtin)
    np.testing.assert_allclose(ours.numpy(), last[0].numpy(), rtol=1e-5, atol=1e-6)
    upstream = paddle.to_tensor(rng.normal(size=(2, 4)).astype("float32"))
    (ours * upstream).sum().backward()
    (last[0] * upstream).sum().backward()
    np.testing.assert_allclose(x_ours.grad.numpy(), x_builtin.grad.numpy(), rtol=1e-5, atol=1e-6)
    for gate in "ifoa":
        builtin_grad = _gates(builtin.weight_hh_l0.grad.numpy(), 4)[order[gate]].T
        np.testing.assert_allclose(getattr(lstm, f"U_{gate}").grad.numpy(), builtin_grad, rtol=1e-5, atol=1e-6)


def test_gru_matches_nn_gru_with_the_r_z_c_chunks():
    rng = np.random.default_rng(6)
    builtin = nn.GRU(3, 4)
    builtin.bias_hh_l0.set_value(np.zeros(12, dtype="float32"))       # the book-style cell has one bias per gate
    W, U = _gates(builtin.weight_ih_l0.numpy(), 3), _gates(builtin.weight_hh_l0.numpy(), 3)
    b = _gates(builtin.bias_ih_l0.numpy(), 3)
    attrs = {}
    for index, gate in enumerate("rzc"):
        attrs.update({f"W_{gate}": assign(W[index].T), f"U_{gate}": assign(U[index].T),
                      f"b_{gate}": assign(b[index][None])})
    gru = GRU(3, 4, attrs)
    assert [n for n, _ in gru.named_parameters()] == [f"{kind}_{gate}" for kind in "WUb" for gate in "rzc"]
    X = paddle.to_tensor(rng.normal(size=(2, 5, 3)).astype("float32"), stop_gradient=False)
    ours, (_, last) = gru(X), builtin(X)
    np.testing.assert_allclose(ours.numpy(), last[0].numpy(), rtol=1e-5, atol=1e-6)


# ------------------------------------------------------------------------------------------- §6.4
def test_collate_fn_truncates_and_pads_the_companion_demo():
    (seqs, lens), labels = collate_fn([[[1, 2, 3, 4, 5, 6], 1], [[2, 4, 6], 0]], pad_val=0, max_seq_len=5)
    assert seqs.numpy().tolist() == [[1, 2, 3, 4, 5], [2, 4, 6, 0, 0]]
    assert lens.numpy().tolist() == [5, 3] and labels.numpy().tolist() == [1, 0]
    assert seqs.dtype == lens.dtype == labels.dtype == paddle.int64


def test_average_pooling_is_the_mean_of_the_unpadded_positions_for_int_and_float_lengths():
    rng = np.random.default_rng(0)
    values = rng.normal(size=(3, 5, 4)).astype("float32")
    lengths = [5, 2, 1]
    expected = np.stack([values[i, :n].mean(axis=0) for i, n in enumerate(lengths)])
    for dtype in ("int64", "int32", "float32"):
        pooled = AveragePooling()(paddle.to_tensor(values), paddle.to_tensor(lengths, dtype=dtype))
        np.testing.assert_allclose(pooled.numpy(), expected, rtol=1e-6, atol=1e-6)
    garbage = values.copy()
    garbage[1, 2:] = 1e3
    garbage[2, 1:] = -7.0
    pooled = AveragePooling()(paddle.to_tensor(garbage), paddle.to_tensor(lengths))
    np.testing.assert_allclose(pooled.numpy(), expected, rtol=1e-6, atol=1e-6)


def test_average_pooling_sends_no_gradient_to_padded_positions():
    x = paddle.to_tensor(np.ones((2, 4, 3), dtype="float32"), stop_gradient=False)
    AveragePooling()(x, paddle.to_tensor([4, 2])).sum().backward()
    expected = np.zeros((2, 4, 3), dtype="float32")
    expected[0] = 1 / 4
    expected[1, :2] = 1 / 2
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-6)


def test_bilstm_classifier_ignores_what_the_padding_holds():
    paddle.seed(1)
    model = Model_BiLSTM_FC(num_embeddings=20, input_size=6, hidden_size=5)
    model.eval()
    lengths = paddle.to_tensor([4, 2])
    padded = paddle.to_tensor([[3, 4, 5, 6], [7, 8, 0, 0]])
    other_padding = paddle.to_tensor([[3, 4, 5, 6], [7, 8, 19, 11]])
    logits = model((padded, lengths))
    assert logits.shape == [2, 2]
    np.testing.assert_allclose(logits.numpy(), model((other_padding, lengths)).numpy(), rtol=1e-5, atol=1e-6)
    alone = model((paddle.to_tensor([[7, 8]]), paddle.to_tensor([2])))
    np.testing.assert_allclose(logits.numpy()[1], alone.numpy()[0], rtol=1e-5, atol=1e-6)
