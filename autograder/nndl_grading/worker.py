"""Run one submission and its tests in THIS process; the grader starts it as a child with limits.

    python -m nndl_grading.worker SUBMISSION.ipynb TESTS_DIR RESULT.json

Executes the notebook's code cells in order into one namespace, skipping experiment cells (tag
``otter_ignore``) and otter's own plumbing (``grader = otter.Notebook(...)``, ``grader.check(...)``),
so neither the notebook's file name nor its kernel matters. A cell that raises is recorded and the
next cell still runs, as in a notebook. Then every test file's cases run against that namespace
(otter's exception-test format). The result JSON is written atomically at the end and carries the
token the grader sent on standard input, so a file the notebook writes itself is not taken as a result;
``guard.ModuleGuard`` undoes monkeypatching of the libraries the checks use.
"""

import builtins
import importlib.util
import inspect
import json
import os
import re
import sys
import traceback
import types
from pathlib import Path

from . import checks
from .checks import REFERENCE_PACKAGES, is_reference

IGNORE_TAG = "otter_ignore"
OTTER_PLUMBING = re.compile(
    r"^\s*(#.*|import otter|grader\s*=\s*otter\.Notebook\(.*\)|grader\.(check|check_all|export)\(.*\))?\s*$")


def is_plumbing(source):
    """True for cells that only set up or call otter's student-side checker."""
    return all(OTTER_PLUMBING.match(line) for line in source.splitlines())


def _transform(source):
    """IPython syntax (``%matplotlib``, ``!pip``) to plain Python; magics then do nothing."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager
    except ImportError:
        return source
    return TransformerManager().transform_cell(source)


def block_reference_imports():
    """Make ``import nndl_ref`` / ``import nndl_grading`` fail in the submission's own code.

    Wraps ``builtins.__import__``: an import whose calling frame belongs to the notebook (module name
    ``__main__``) is refused; the grader's own imports go through. The guard keeps the wrapper in place.
    """
    original_import = builtins.__import__

    def guarded_import(name, globals=None, locals=None, fromlist=(), level=0):
        if level == 0 and name.split(".")[0] in REFERENCE_PACKAGES and (globals or {}).get("__name__") == "__main__":
            raise ImportError(f"评分时不能导入 {name} (the grader's reference is not available to submissions)")
        return original_import(name, globals, locals, fromlist, level)

    builtins.__import__ = guarded_import


class _NoMagics:
    def __getattr__(self, name):
        return lambda *args, **kwargs: None


def execute_cells(cells):
    """Run the graded code cells; return (namespace, list of cell errors)."""
    namespace = {"__name__": "__main__", "__builtins__": builtins, "get_ipython": _NoMagics}
    errors = []
    for index, cell in enumerate(cells):
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else str(source)
        tags = cell.get("metadata", {}).get("tags", [])
        if IGNORE_TAG in tags or is_plumbing(source):
            continue
        try:
            exec(compile(_transform(source), f"<cell {index}>", "exec"), namespace)
        except BaseException as error:  # SystemExit, KeyboardInterrupt too: a cell never ends the grading
            if isinstance(error, MemoryError):
                raise
            errors.append({"cell": index, "error": f"{type(error).__name__}: {error}"[:500]})
    return namespace, errors


def otter_exception_tests():
    """otter's ``otter.test_files`` exception-test classes.

    Importing the ``otter`` package pulls in its whole notebook/export stack (~4 s, most of a grading
    run), so unless the submission already imported otter, only the two modules that define
    ``test_case`` and ``ExceptionTestFile`` are loaded, under otter's own module names.
    """
    if "otter.test_files" in sys.modules:
        return sys.modules["otter.test_files"]
    folder = Path(importlib.util.find_spec("otter").origin).parent
    for name, path in (("otter", folder), ("otter.test_files", folder / "test_files")):
        package = types.ModuleType(name)
        package.__path__ = [str(path)]
        sys.modules[name] = package
    test_files = sys.modules["otter.test_files"]
    for submodule in ("abstract_test", "exception_test"):
        module = importlib.import_module(f"otter.test_files.{submodule}")
        setattr(test_files, submodule, module)
    test_files.test_case = test_files.exception_test.test_case
    test_files.ExceptionTestFile = test_files.exception_test.ExceptionTestFile
    return test_files


def load_tests(tests_dir):
    ExceptionTestFile = otter_exception_tests().ExceptionTestFile
    return [ExceptionTestFile.from_file(str(path)) for path in sorted(Path(tests_dir).glob("*.py"))]


def run_tests(test_files, namespace, settle):
    """Run every case of every test file; messages come from the exception only, never test source."""
    questions = {}
    for test_file in test_files:
        cases = []
        for case in test_file.test_cases:
            try:
                borrowed = [name for name in inspect.signature(case.body.test_func).parameters
                            if name != "env" and is_reference(namespace.get(name))]
                if borrowed:
                    raise AssertionError(f"{', '.join(borrowed)}: 不能直接使用评分用的参考实现 "
                                         "(must not reuse the grader's reference)")
                case.body.call_func(namespace)
                passed, message = True, ""
            except MemoryError:
                raise
            except BaseException as error:
                passed, message = False, f"{type(error).__name__}: {error}"[:2000]
                where = traceback.extract_tb(error.__traceback__)[-1]
                if where.filename.startswith("<cell"):
                    message += f"（出错位置 raised in your code: {where.name}, code cell {where.filename[6:-1]}）"
            replaced = settle()
            if replaced:
                passed = False
                message = ("[行为 behaviour] 测试运行期间你的代码替换了库函数 (your code replaced library functions "
                           f"while the test ran): {', '.join(replaced[:5])}")
            cases.append({"name": case.name, "hidden": case.hidden, "points": case.points,
                          "passed": passed, "message": message})
        questions[test_file.name] = cases
    return questions


def limit_memory(device):
    """Cap the address space at NNDL_MEMORY_GB on the CPU. Not on a GPU: CUDA reserves large virtual
    ranges, so there the timeout (and the machine's own limits) must do."""
    memory_gb = os.environ.get("NNDL_MEMORY_GB")
    if memory_gb and device == "cpu":
        import resource
        limit = int(float(memory_gb) * 1024 ** 3)
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def settler(guard, work_dir, select_device):
    """A function that undoes what the notebook changed under the checks: replaced library objects
    (returned by name), the working folder, Paddle's default dtype, grad mode and device."""
    def settle():
        replaced = guard.restore()
        os.chdir(work_dir)
        import paddle
        paddle.set_default_dtype("float32")
        paddle.set_grad_enabled(True)
        select_device()
        return replaced
    return settle


def main(notebook_path, tests_dir, result_path):
    work_dir = Path.cwd()
    notebook_path, result_path = Path(notebook_path).resolve(), Path(result_path).resolve()
    token = sys.stdin.readline().strip()

    def write(result):
        partial = result_path.with_suffix(".partial")
        partial.write_text(json.dumps({**result, "token": token}, ensure_ascii=False), encoding="utf-8")
        os.replace(partial, result_path)

    try:
        notebook = json.loads(Path(notebook_path).read_text(encoding="utf-8"))
        cells = notebook["cells"]
        if not isinstance(cells, list):
            raise ValueError("'cells' is not a list")
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as error:
        write({"status": "error", "reason": f"不是可读的 Jupyter 笔记本 (not a readable notebook): {error}"[:300]})
        return 0
    import matplotlib
    matplotlib.use("Agg")
    from nndl_ref.device import select_device
    from .guard import ModuleGuard, import_hidden_checks
    limit_memory(select_device())
    test_files = load_tests(tests_dir)
    import_hidden_checks()
    checks.reject_reference = True
    block_reference_imports()
    settle = settler(ModuleGuard(), work_dir, select_device)
    try:
        namespace, cell_errors = execute_cells(cells)
        replaced = settle()
        if replaced:
            cell_errors.append({"cell": "-", "error": "已还原被你的代码替换的库函数 (restored library functions "
                                                      f"your code replaced): {', '.join(replaced[:5])}"})
        questions = run_tests(test_files, namespace, settle)
    except MemoryError:
        write({"status": "memory", "reason": "超出内存限制 (MemoryError)"})
        return 0
    import resource
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    write({"status": "ok", "cell_errors": cell_errors, "questions": questions, "peak_mb": round(peak_mb, 1)})
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
