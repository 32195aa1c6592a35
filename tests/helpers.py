"""What the reference tests share: float64/float32 tensors of explicit arrays, float64 finite-difference
gradients, and the kit's one relative error (``nndl_ref.gradcheck``, which the hidden checks and the
students' ``gradient_check`` use too)."""

import numpy as np
import paddle

from nndl_ref.gradcheck import numeric_vjp, relative_error  # noqa: F401  (re-exported: the one definition)


def t64(array):
    """``array`` as a float64 tensor."""
    return paddle.to_tensor(np.asarray(array, dtype=np.float64))


def t32(array):
    """``array`` as a float32 tensor."""
    return paddle.to_tensor(np.asarray(array, dtype=np.float32))


def numeric_grad(f, x, step=1e-6):
    """∂f/∂x of the scalar function ``f`` at the float64 array ``x`` by central differences (``numeric_vjp``
    with upstream 1); ``x`` is left unchanged."""
    (grad,) = numeric_vjp(f, [x], np.array(1.0), step)
    return grad


def master_test(chapter_key, name):
    """The public test function ``name`` of master ``solutions/<chapter_key>.py``, and its parameter names
    (otter passes the notebook's globals of those names), to run it on chosen implementations."""
    import ast
    import inspect

    from nndl_grading.config import load_course
    source = load_course().chapter(chapter_key).master.read_text(encoding="utf-8")
    (node,) = [n for n in ast.parse(source).body if isinstance(n, ast.FunctionDef) and n.name == name]
    namespace = {}
    exec(compile(ast.Module([node], type_ignores=[]), f"<{chapter_key} master>", "exec"), namespace)
    return namespace[name], list(inspect.signature(namespace[name]).parameters)
