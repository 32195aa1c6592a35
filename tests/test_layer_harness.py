"""The layer harness (fixtures/layers.py), each part on plain objects and through the protocol, with correct and
wrong layers; expected values are closed forms, Paddle built-ins with copied weights and float64 finite
differences. Also grading.yml's ``forbidden`` key and the sampled finite differences of the checks."""

import sys

import numpy as np
import paddle
import paddle.nn as nn
import paddle.nn.functional as F
import pytest
import yaml
from paddle.nn.functional import conv2d as aliased_conv2d

from nndl_grading.checks import sampled_numeric_vjp
from nndl_grading.config import REPO_ROOT, ConfigError, load_course
from nndl_grading.fixtures.layers import LayerHarness, NameMap, Piece, watched_codes
from nndl_grading.rpc import build, loopback_pair

HARNESS = "nndl_grading.fixtures.layers.LayerHarness"
CONV = ("paddle.nn.functional.conv2d", "paddle.nn.Conv2D")


@pytest.fixture(params=["direct", "rpc"])
def harness_of(request):
    """harness_of(Class, *args, **kwargs): a harness around ``Class`` built as a check builds it, in the same
    process (direct) or across ``rpc.loopback_pair`` with the class living on the student's side."""
    def make(layer_class, *args, forbidden=(), **kwargs):
        env = {"Layer": layer_class}
        if request.param == "rpc":
            env = loopback_pair(env)[1]
        return build(env, HARNESS, env["Layer"], args, kwargs, forbidden)
    return make


def _parameter(shape):
    return paddle.create_parameter(shape=shape, dtype="float32")


# ============================================================================ small layers
class Affine(nn.Layer):
    """Y = X·W + b with W [M, H], b [1, H]."""

    def __init__(self, M, H):
        super().__init__()
        self.W, self.b = _parameter([M, H]), _parameter([1, H])

    def forward(self, X):
        return paddle.matmul(X, self.W) + self.b


class AffineNumpy(Affine):
    def forward(self, X):                         # right values, no graph
        return paddle.to_tensor(X.numpy() @ self.W.numpy() + self.b.numpy())


class AffineDetachedWeight(Affine):
    def forward(self, X):
        return paddle.matmul(X, self.W.detach()) + self.b


class MaskedMean(nn.Layer):
    """(mean of x[b, :valid_lens[b]] over time · scale, doubled in train mode; the float mask)."""

    def __init__(self):
        super().__init__()
        self.scale = _parameter([1])

    def forward(self, x, valid_lens):
        mask = (paddle.arange(x.shape[1]).unsqueeze(0) < valid_lens.unsqueeze(1)).astype("float32")
        mean = (x * mask.unsqueeze(-1)).sum(axis=1) / valid_lens.astype("float32").unsqueeze(1)
        return mean * self.scale * (2.0 if self.training else 1.0), mask


class WithNorm(nn.Layer):
    """Linear, BatchNorm (whose running statistics Paddle holds as parameters without gradients) and a buffer."""

    def __init__(self):
        super().__init__()
        self.fc, self.bn = nn.Linear(3, 2), nn.BatchNorm1D(2)
        self.register_buffer("steps", paddle.zeros([1]))

    def forward(self, x):
        return self.bn(self.fc(x))


def _rng_values(seed, *shapes):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=shape).astype(np.float32) for shape in shapes]


# ============================================================================ parameters and state_dict
def test_parameters_lists_names_shapes_buffers_and_count(harness_of):
    info = harness_of(WithNorm).parameters()
    assert info["named_parameters"] == {"fc.weight": [3, 2], "fc.bias": [2], "bn.weight": [2], "bn.bias": [2],
                                        "bn._mean": [2], "bn._variance": [2]}
    assert info["state_dict"] == {**info["named_parameters"], "steps": [1]}
    assert info["count"] == 3 * 2 + 2 + 2 + 2 + 2 + 2 and info["trainable"] == 3 * 2 + 2 + 2 + 2


# ============================================================================ set_parameters and forward
def test_set_parameters_then_forward_matches_the_closed_form(harness_of):
    X, W, b = _rng_values(0, (4, 3), (3, 2), (2,))
    harness = harness_of(Affine, 3, 2)
    harness.set_parameters({"W": W, "b": b})           # b [2] into a [1, 2] parameter: size-1 axes are free
    np.testing.assert_allclose(harness.forward((X,)), X.astype(np.float64) @ W + b, rtol=1e-6)


def test_set_parameters_refuses_unknown_names_and_wrong_shapes(harness_of):
    harness = harness_of(Affine, 3, 2)
    with pytest.raises(KeyError, match="no parameter"):
        harness.set_parameters({"weight": np.zeros((3, 2))})
    with pytest.raises(ValueError, match=r"shape \[3, 2\], not \[2, 3\]"):
        harness.set_parameters({"W": np.zeros((2, 3))})


def test_forward_passes_keyword_arguments_and_the_mode(harness_of):
    (x,) = _rng_values(1, (2, 4, 3))
    valid_lens = np.array([2, 4], dtype=np.int64)
    harness = harness_of(MaskedMean)
    harness.set_parameters({"scale": np.array([1.5])})
    expected = np.stack([x[0, :2].mean(0), x[1].mean(0)]) * 1.5
    mean, mask = harness.forward((x,), {"valid_lens": valid_lens})
    np.testing.assert_allclose(mean, expected, rtol=1e-6)
    np.testing.assert_array_equal(mask, [[1, 1, 0, 0], [1, 1, 1, 1]])
    train_mean, _ = harness.forward((x,), {"valid_lens": valid_lens}, training=True)
    np.testing.assert_allclose(train_mean, 2 * expected, rtol=1e-6)


# ============================================================================ gradients
def test_gradients_of_an_upstream_gradient_match_the_closed_form(harness_of):
    X, W, b, G = _rng_values(2, (4, 3), (3, 2), (1, 2), (4, 2))
    harness = harness_of(Affine, 3, 2)
    harness.set_parameters({"W": W, "b": b})
    result = harness.gradients((X,), G)
    np.testing.assert_allclose(result["outputs"], X.astype(np.float64) @ W + b, rtol=1e-6)
    np.testing.assert_allclose(result["inputs"][0], G @ W.T, rtol=1e-5)
    np.testing.assert_allclose(result["parameters"]["W"], X.T @ G, rtol=1e-5)
    np.testing.assert_allclose(result["parameters"]["b"], G.sum(0, keepdims=True), rtol=1e-5)
    again = harness.gradients((X,), G)              # gradients of one call, not accumulated over calls
    np.testing.assert_allclose(again["parameters"]["W"], X.T @ G, rtol=1e-5)


def test_gradients_that_nothing_reached_are_none(harness_of):
    X, G = _rng_values(3, (4, 3), (4, 2))
    detached = harness_of(AffineNumpy, 3, 2).gradients((X,), G)
    assert detached["inputs"] == (None,) and detached["parameters"] == {"W": None, "b": None}
    partly = harness_of(AffineDetachedWeight, 3, 2).gradients((X,), G)
    assert partly["parameters"]["W"] is None and partly["parameters"]["b"] is not None
    assert partly["inputs"][0] is not None


def test_gradients_of_a_tuple_output_skip_none_parts_and_integer_inputs(harness_of):
    (x,) = _rng_values(4, (2, 4, 3))
    G = np.ones((2, 3), dtype=np.float32)
    harness = harness_of(MaskedMean)
    harness.set_parameters({"scale": np.array([1.5])})
    result = harness.gradients((x, np.array([2, 4], dtype=np.int64)), (G, None), training=False)
    expected = np.zeros_like(x)
    expected[0, :2], expected[1] = 1.5 / 2, 1.5 / 4
    np.testing.assert_allclose(result["inputs"][0], expected, rtol=1e-6)
    assert result["inputs"][1] is None
    np.testing.assert_allclose(result["parameters"]["scale"], [x[0, :2].mean(0).sum() + x[1].mean(0).sum()],
                               rtol=1e-5)
    in_train_mode = harness.gradients((x, np.array([2, 4], dtype=np.int64)), (G, None))     # the default
    np.testing.assert_allclose(in_train_mode["inputs"][0], 2 * expected, rtol=1e-6)
    with pytest.raises(ValueError, match="does not fit"):
        harness.gradients((x, np.array([2, 4], dtype=np.int64)), (np.ones((4, 2)), None))


# ============================================================================ forbidden built-ins
class ConvByHand(nn.Layer):
    def __init__(self):
        super().__init__()
        self.weight = _parameter([2, 1, 2, 2])

    def forward(self, x):
        cols = F.unfold(x, [2, 2])
        return paddle.matmul(self.weight.reshape([2, 4]), cols).reshape([x.shape[0], 2, 2, 2])


class ConvFunctional(ConvByHand):
    def forward(self, x):
        return F.conv2d(x, self.weight)


class ConvAliased(ConvByHand):
    def forward(self, x):
        return aliased_conv2d(x, self.weight)


class ConvSublayer(nn.Layer):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2D(1, 2, 2)

    def forward(self, x):
        return self.conv(x)


class ConvBuiltInForward(ConvByHand):
    def forward(self, x):                          # a built-in layer made and used inside forward
        layer = nn.Conv2D(1, 2, 2)
        layer.weight.set_value(self.weight)
        return layer(x)


@pytest.mark.parametrize("layer,called", [
    (ConvByHand, []), (ConvFunctional, ["paddle.nn.functional.conv2d"]),
    (ConvAliased, ["paddle.nn.functional.conv2d"]), (ConvSublayer, ["paddle.nn.Conv2D"]),
    (ConvBuiltInForward, ["paddle.nn.Conv2D"])])
def test_forbidden_calls_are_seen_however_they_are_reached(harness_of, layer, called):
    harness = harness_of(layer, forbidden=CONV)
    (x,) = _rng_values(5, (1, 1, 3, 3))
    harness.forward((x,))
    harness.gradients((x,), np.ones((1, 2, 2, 2), dtype=np.float32))
    assert harness.forbidden_calls() == called
    assert sys.getprofile() is None                 # the hook is gone after every call


MADE_ELSEWHERE = nn.SimpleRNN(2, 3)   # a built-in made outside the harness (at a notebook's top level)


class RNNMadeElsewhere(nn.Layer):
    def __init__(self):
        super().__init__()
        self.cells = nn.LayerList([nn.Linear(2, 3)])   # a generic container: not a forbidden call

    def forward(self, x):
        return MADE_ELSEWHERE(x)[0] + self.cells[0](x)


def test_an_inherited_forward_of_a_built_in_made_elsewhere_is_seen(harness_of):
    harness = harness_of(RNNMadeElsewhere, forbidden=["paddle.nn.SimpleRNN", "paddle.nn.LSTM"])
    harness.forward(tuple(_rng_values(5, (1, 4, 2))))
    assert harness.forbidden_calls() == ["paddle.nn.SimpleRNN / paddle.nn.LSTM"]   # both run RNNBase.forward


def test_generic_containers_are_not_forbidden_calls(harness_of):
    class ContainerOnly(RNNMadeElsewhere):
        def forward(self, x):
            return self.cells[0](x)
    harness = harness_of(ContainerOnly, forbidden=["paddle.nn.SimpleRNN", "paddle.nn.LSTM", "paddle.nn.Conv2D"])
    harness.forward(tuple(_rng_values(5, (1, 4, 2))))
    assert harness.forbidden_calls() == []


def test_nothing_is_watched_without_a_forbidden_list(harness_of):
    harness = harness_of(ConvFunctional)
    harness.forward(tuple(_rng_values(5, (1, 1, 3, 3))))
    assert harness.forbidden_calls() == []


def test_only_functions_and_classes_can_be_forbidden():
    assert watched_codes("paddle.nn.functional.conv2d") and len(watched_codes("paddle.nn.Conv2D")) >= 2
    with pytest.raises(AttributeError):
        watched_codes("paddle.nn.functional.no_such_thing")
    with pytest.raises(ValueError, match="cannot be seen"):
        watched_codes("paddle.nn.functional")


def _course_with_forbidden(tmp_path, names):
    raw = yaml.safe_load((REPO_ROOT / "grading.yml").read_text(encoding="utf-8"))
    raw["chapters"]["ch01"]["questions"][0]["forbidden"] = names
    path = tmp_path / "grading.yml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


def test_grading_yml_forbidden_key_is_read_and_validated(tmp_path):
    course = load_course(_course_with_forbidden(tmp_path, list(CONV)))
    assert course.chapter(1).questions[0].forbidden == CONV
    assert load_course().chapter(1).questions[0].forbidden == ()
    for bad in (["paddle.nn.functional.conv3x3"], ["paddle.nn.functional"], [7]):
        with pytest.raises(ConfigError, match=r"questions\[0\]\.forbidden' lists"):
            load_course(_course_with_forbidden(tmp_path, bad))


# ============================================================================ name map: the book's LSTM onto nn.LSTM
GATES = ("i", "f", "a", "o")          # nn.LSTM stacks its gates as input, forget, candidate (g), output


class BookLSTM(nn.Layer):
    """§6.3's LSTM cell unrolled over [B, L, M], returning the last hidden state (test's own code)."""

    def __init__(self, M, H, forget=True):
        super().__init__()
        self.H, self.forget = H, forget
        for g in GATES:
            setattr(self, f"W_{g}", _parameter([M, H]))
            setattr(self, f"U_{g}", _parameter([H, H]))
            setattr(self, f"b_{g}", _parameter([1, H]))

    def gate(self, g, x, h):
        return x @ getattr(self, f"W_{g}") + h @ getattr(self, f"U_{g}") + getattr(self, f"b_{g}")

    def forward(self, inputs):
        h = c = paddle.zeros([inputs.shape[0], self.H])
        for t in range(inputs.shape[1]):
            x = inputs[:, t]
            i, f, o = (F.sigmoid(self.gate(g, x, h)) for g in ("i", "f", "o"))
            c = (f * c if self.forget else c) + i * paddle.tanh(self.gate("a", x, h))
            h = o * paddle.tanh(c)
        return h


def lstm_map(H, order=GATES):
    block = lambda k: (slice(k * H, (k + 1) * H),)
    pieces = {}
    for k, g in enumerate(order):
        pieces[f"W_{g}"] = Piece("weight_ih_l0", block(k), transpose=True)
        pieces[f"U_{g}"] = Piece("weight_hh_l0", block(k), transpose=True)
        pieces[f"b_{g}"] = Piece("bias_ih_l0", block(k))
    return NameMap(pieces, zeros=("bias_hh_l0",))


def _lstm_case(M, H, seed):
    rng = np.random.default_rng(seed)
    params = {}
    for g in GATES:
        params[f"W_{g}"] = rng.normal(scale=0.5, size=(M, H)).astype(np.float32)
        params[f"U_{g}"] = rng.normal(scale=0.5, size=(H, H)).astype(np.float32)
        params[f"b_{g}"] = rng.normal(scale=0.5, size=(1, H)).astype(np.float32)
    return params, rng.normal(size=(2, 3, M)).astype(np.float32), rng.normal(size=(2, H)).astype(np.float32)


def _oracle(M, H, name_map):
    return LayerHarness(nn.LSTM, (M, H), name_map=name_map)


def test_name_map_puts_the_book_lstm_onto_nn_lstm(harness_of):
    M, H = 3, 2
    params, X, G = _lstm_case(M, H, 6)
    student = harness_of(BookLSTM, M, H)
    student.set_parameters(params)
    oracle = _oracle(M, H, lstm_map(H))
    oracle.set_parameters(params)
    upstream = (None, (G[None], None))              # d/dh of nn.LSTM's (outputs, (h [1, B, H], c))
    mine, theirs = student.gradients((X,), G), oracle.gradients((X,), upstream)
    np.testing.assert_allclose(mine["outputs"], theirs["outputs"][1][0][0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(mine["inputs"][0], theirs["inputs"][0], rtol=1e-4, atol=1e-6)
    assert set(theirs["parameters"]) == set(params)
    for name, grad in theirs["parameters"].items():
        assert grad.shape == params[name].shape
        np.testing.assert_allclose(mine["parameters"][name], grad, rtol=1e-4, atol=1e-6, err_msg=name)


def test_a_wrong_map_or_a_wrong_cell_disagrees_with_nn_lstm(harness_of):
    M, H = 3, 2
    params, X, _ = _lstm_case(M, H, 7)
    oracle = _oracle(M, H, lstm_map(H))
    oracle.set_parameters(params)
    h = oracle.forward((X,))[1][0][0]
    swapped = _oracle(M, H, lstm_map(H, order=("i", "a", "f", "o")))     # forget and candidate swapped
    swapped.set_parameters(params)
    assert not np.allclose(swapped.forward((X,))[1][0][0], h, atol=1e-3)
    no_forget = harness_of(BookLSTM, M, H, forget=False)
    no_forget.set_parameters(params)
    assert not np.allclose(no_forget.forward((X,)), h, atol=1e-3)


def test_a_name_map_must_cover_every_target_parameter():
    H = 2
    partial = NameMap(dict(lstm_map(H).pieces))                          # bias_hh_l0 neither mapped nor zeroed
    params, _, _ = _lstm_case(3, H, 8)
    with pytest.raises(ValueError, match="bias_hh_l0"):
        _oracle(3, H, partial).set_parameters(params)
    with pytest.raises(KeyError, match="exactly"):
        _oracle(3, H, lstm_map(H)).set_parameters({"W_i": params["W_i"]})


# ============================================================================ sampled finite differences
def test_sampled_numeric_vjp_matches_the_closed_form_at_at_most_count_coordinates():
    rng = np.random.default_rng(9)
    A, B, G = rng.normal(size=(6, 7)), rng.normal(size=(7, 2)), rng.normal(size=(6, 2))
    (index_a, dA), (index_b, dB) = sampled_numeric_vjp(lambda a, b: a @ b, [A, B], G, count=20, seed=1)
    assert len(dA) == 20 and len(set(zip(*index_a))) == 20 and len(dB) == 14       # B has only 14 entries
    np.testing.assert_allclose(dA, (G @ B.T)[index_a], rtol=1e-7)
    np.testing.assert_allclose(dB, (A.T @ G)[index_b], rtol=1e-7)
    again = sampled_numeric_vjp(lambda a, b: a @ b, [A, B], G, count=20, seed=1)
    assert all((np.array(i) == np.array(j)).all() for i, j in zip(again[0][0], index_a))
