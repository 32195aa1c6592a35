"""Shared checking helpers of the hidden tests: staged failures, tolerant comparison, finite differences.

Every failure is a ``CheckFailure`` whose message names the stage that failed (signature → shape/dtype
→ values → gradients → behaviour) and the book section to re-read. A check names its section once, with
``@book_section("4.2.4.3")`` (or ``with section("…"):`` for a part of it; the innermost wins), and every
helper below takes it from there. Messages are student-facing, so they are in Chinese with English terms,
and never show the reference's code.
"""

import contextlib
import contextvars
import functools
import io
import json
import os
import pickle

import numpy as np

from nndl_ref.gradcheck import numeric_vjp, relative_error, sample_coordinates  # noqa: F401  (the one definition)

from .config import TOLERANCE_ENV_VAR
from .fixtures import paddle_linear, substituted  # noqa: F401  (re-exported: shared with the student's side)
from .rpc import describe

STAGES = {
    "signature": "接口 signature",
    "shape": "形状/类型 shape/dtype",
    "values": "数值 values",
    "gradients": "梯度 gradients",
    "behaviour": "行为 behaviour",
}



@functools.cache
def _course_tolerances():
    """grading.yml's ``defaults.tolerances`` (validated by ``load_course``, which names what is wrong)."""
    import yaml

    from .config import DEFAULT_CONFIG, load_course
    load_course()
    return yaml.safe_load(DEFAULT_CONFIG.read_text(encoding="utf-8"))["defaults"]["tolerances"]


def tolerances():
    """rtol (relative to the largest |expected|) and atol (the floor for near-zero data), from grading.yml's
    ``defaults.tolerances``: through ``NNDL_TOLERANCES`` when the grader set it, else read from grading.yml."""
    if TOLERANCE_ENV_VAR in os.environ:
        limits = json.loads(os.environ[TOLERANCE_ENV_VAR])
    else:
        limits = _course_tolerances()
    missing = {"rtol", "atol"} - set(limits)
    if missing:
        raise KeyError(f"comparison tolerances {sorted(missing)} are not set: give them in grading.yml under "
                       f"defaults.tolerances (the grader passes them on in {TOLERANCE_ENV_VAR})")
    return limits


_SECTION = contextvars.ContextVar("nndl_book_section", default=None)


@contextlib.contextmanager
def section(number):
    """Within the block, failures cite book section ``number`` (overriding an enclosing section)."""
    token = _SECTION.set(str(number))
    try:
        yield
    finally:
        _SECTION.reset(token)


def book_section(number):
    """Decorator: the check's failures cite book section ``number`` (``section(number)`` around the call)."""
    def decorate(check):
        @functools.wraps(check)
        def run(*args, **kwargs):
            with section(number):
                return check(*args, **kwargs)
        return run
    return decorate


def current_section():
    """The book section the running check cites; a check outside any ``section`` is a kit bug."""
    number = _SECTION.get()
    if number is None:
        raise RuntimeError("a check failed outside any book section: decorate it with @book_section(\"x.y\")")
    return number


class CheckFailure(AssertionError):
    """A failed check, with the stage and the current book section in its message."""

    def __init__(self, stage, what, detail):
        super().__init__(f"[{STAGES[stage]}] {what}: {detail}（请重读 §{current_section()}）")


def to_numpy(value):
    """Any tensor, array, number or nested sequence as a float64 numpy array."""
    if hasattr(value, "numpy"):
        value = value.numpy()
    return np.asarray(value, dtype=np.float64)


def student_call(function, *args, what, stage="values", **kwargs):
    """Call student code; turn a stub's NotImplementedError or any crash into a staged ``CheckFailure``."""
    try:
        return function(*args, **kwargs)
    except NotImplementedError:
        raise CheckFailure(stage, what, "尚未实现 (raises NotImplementedError)") from None
    except CheckFailure:
        raise
    except Exception as error:  # the student's code crashed: report its own error, not ours
        where = getattr(error, "where", "")     # set when the error comes from the student's process
        where = f"（出错位置 {where}）" if where else ""
        raise CheckFailure(stage, what, f"运行出错 {type(error).__name__}: {error}{where}") from None


REFERENCE_PACKAGES = ("nndl_ref", "nndl_grading")
# On by default (and set again by the grading worker): a submission's names must not be (or derive from)
# the reference itself. tests/conftest.py turns it off for the test suite, whose "student"
# implementations are reference objects and their subclasses.
reject_reference = True


def is_reference(value):
    """True if ``value`` is, or (for a class) inherits from, something defined in the reference packages."""
    return any(origin.startswith(REFERENCE_PACKAGES) for origin in describe(value)["origins"])


def require(env, name, kind="callable"):
    """Fetch ``name`` from the student's notebook globals (here or in the student's process), or fail at
    the signature stage."""
    value = env.get(name)
    if value is None:
        raise CheckFailure("signature", name, "未定义 (not defined in the notebook)")
    if reject_reference and is_reference(value):
        raise CheckFailure("signature", name, "不能直接使用评分用的参考实现 (must not reuse the grader's reference)")
    description = describe(value)
    if kind == "class" and not description["isclass"]:
        raise CheckFailure("signature", name, f"应是一个类 (class)，实际是 {description['type']}")
    if kind == "callable" and not description["callable"]:
        raise CheckFailure("signature", name, "应是可调用的函数 (callable)")
    return value


def check_shape(actual, expected_shape, what, squeezable=True):
    """Shapes agree; with ``squeezable`` [N] and [N,1] (or [1] and []) count as the same."""
    actual_shape = list(np.shape(to_numpy(actual)))
    expected_shape = list(expected_shape)
    if actual_shape == expected_shape:
        return
    if squeezable and [d for d in actual_shape if d != 1] == [d for d in expected_shape if d != 1]:
        return
    raise CheckFailure("shape", what, f"形状应为 {expected_shape}，实际为 {actual_shape}")


def check_close(actual, expected, what, stage="values", rtol=None):
    """Values agree to ``rtol`` relative to the scale of ``expected``, after squeezing size-1 axes.

    NaN or inf where the expected values are finite always fails.
    """
    actual_array, expected_array = to_numpy(actual), to_numpy(expected)
    if actual_array.size != expected_array.size:
        raise CheckFailure("shape", what, f"元素个数应为 {expected_array.size}，实际为 {actual_array.size}")
    actual_array = actual_array.reshape(expected_array.shape)
    if not np.all(np.isfinite(actual_array)) and np.all(np.isfinite(expected_array)):
        raise CheckFailure(stage, what, "结果含 NaN 或 inf (not finite)")
    limits = tolerances()
    rtol = limits["rtol"] if rtol is None else rtol
    error = relative_error(actual_array, expected_array, floor=limits["atol"] / rtol)
    if not error <= rtol:     # NaN (from inf − inf) fails too
        raise CheckFailure(stage, what, f"与期望值不一致，相对误差 (relative error) {error:.2e} > {rtol:.0e}")


def sampled_numeric_vjp(function, inputs, upstream, count=20, seed=0):
    """``numeric_vjp`` at no more than ``count`` coordinates of each input, drawn with a fixed seed (every
    coordinate of a small input), so a check of a large layer stays fast: per input, (the coordinates as a
    numpy index, the float64 central-difference gradient there)."""
    coordinates = [sample_coordinates(np.shape(x), count, seed + i) for i, x in enumerate(inputs)]
    result = []
    for x, chosen, grad in zip(inputs, coordinates, numeric_vjp(function, inputs, upstream, coordinates=coordinates)):
        index = tuple(np.array(chosen, dtype=np.int64).reshape(len(chosen), np.ndim(x)).T)
        result.append((index, grad[index]))
    return result


def compare_to_oracles(actual, oracles, what, stage="values", agree="all"):
    """``actual`` against independent expectations ``{label: expected}`` (closed form, finite differences,
    autograd, reference …), each with ``check_close``; a label is appended to ``what`` as （label）.
    ``agree="all"`` fails at the first oracle that disagrees; ``agree="any"`` passes when one agrees (for a
    value the book leaves open between equally valid definitions) and otherwise reports the first."""
    if agree not in ("all", "any"):
        raise ValueError(f"agree must be 'all' or 'any', not {agree!r}")
    failures = []
    for label, expected in oracles.items():
        try:
            check_close(actual, expected, f"{what}（{label}）" if label else what, stage)
        except CheckFailure as failure:
            if agree == "all":
                raise
            failures.append(failure)
        else:
            if agree == "any":
                return
    if failures:
        raise failures[0]


def quietly(function, *args, **kwargs):
    """``student_call`` with the student's prints swallowed (training logs would flood the feedback)."""
    with contextlib.redirect_stdout(io.StringIO()):
        return student_call(function, *args, **kwargs)


def as_float(value, what):
    """One number from a float, a numpy scalar/array or a tensor of one element, else a shape-stage failure."""
    try:
        return float(np.asarray(value.numpy() if hasattr(value, "numpy") else value).reshape(-1)[0])
    except Exception:
        raise CheckFailure("shape", what, f"应是一个数 (float)，实际是 {type(value).__name__}") from None


def require_grads(owner, keys, what):
    """``owner.grads``: a dict holding a (non-None) gradient under every key, else a signature failure."""
    grads = getattr(owner, "grads", None)
    if not isinstance(grads, dict) or any(grads.get(key) is None for key in keys):
        raise CheckFailure("signature", what, f"应把参数梯度存入 self.grads{list(keys)}")
    return grads


def require_gradient(value, name, what):
    """``value`` (a gradient the layer harness read back), unless autograd never reached ``name``."""
    if value is None:
        raise CheckFailure("gradients", what, f"没有梯度传到 {name}：forward 是否用 .numpy()、detach() 或 "
                           "paddle.to_tensor 断开了计算图 (computation graph)？")
    return value


def reject_forbidden(harness, what, rule):
    """A behaviour failure if the student's layer in ``harness`` called a built-in the question rules out."""
    called = student_call(harness.forbidden_calls, what=what, stage="behaviour")
    if called:
        raise CheckFailure("behaviour", what, f"本题要求{rule}，不能调用飞桨内置的 {', '.join(called)}；"
                           "其余检查不受影响")


# Everything a ``paddle.save`` file of tensors or a state_dict needs: numpy's array reconstruction.
_SAVED_FILE_GLOBALS = {(module, name) for module in ("numpy._core.multiarray", "numpy.core.multiarray")
                       for name in ("_reconstruct", "scalar")} | {("numpy", "ndarray"), ("numpy", "dtype"),
                                                                  ("collections", "OrderedDict")}


class _SavedFileUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) not in _SAVED_FILE_GLOBALS:
            raise pickle.UnpicklingError(f"{module}.{name} may not appear in a saved parameter file")
        return super().find_class(module, name)


def load_saved(path):
    """The {name: numpy array} that the student's code saved to ``path`` with ``paddle.save``, or None if there
    is no such file or it holds anything else. Nothing in the file can run code here: only numpy's array
    reconstruction is unpickled (``paddle.load`` would unpickle anything)."""
    try:
        with open(path, "rb") as handle:
            saved = _SavedFileUnpickler(handle).load()
    except Exception:
        return None
    if not isinstance(saved, dict):
        return None
    return {key: value for key, value in saved.items() if not str(key).endswith("@@")}


# ------------------------------------------------------------------ explicit inputs and independent oracles
def as_tensor(array, dtype="float32"):
    """``array`` (anything numpy accepts) as a Paddle tensor of ``dtype``: explicit values, no framework RNG."""
    import paddle
    return paddle.to_tensor(np.asarray(array).astype(dtype))


def float32_exact(array):
    """``array`` rounded to float32 and back to float64: the exact values a float32 tensor holds, so that a
    float64 expectation is computed on the very inputs the student's code sees."""
    return np.asarray(array, dtype=np.float32).astype(np.float64)


def np_sigmoid(z):
    """σ(z) = 1/(1+exp(−z)) in float64, written with tanh so it never overflows."""
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(z, dtype=np.float64)))


def np_log_softmax(z):
    """log softmax over the last axis in float64, shifted by the maximum so it never overflows."""
    z = np.asarray(z, dtype=np.float64)
    z = z - z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def require_tensor(value, what):
    """``value`` is a ``paddle.Tensor`` (not None, a list or a numpy array), else a shape-stage failure."""
    import paddle
    if not isinstance(value, paddle.Tensor):
        got = "None（是否漏写了 return？）" if value is None else type(value).__name__
        raise CheckFailure("shape", what, f"应返回 paddle.Tensor，实际是 {got}")
