"""The student's side of grading: run the notebook's code cells, then answer the verdict's requests.

    python -m nndl_grading.probe SUBMISSION.ipynb READ_FD WRITE_FD

Started by the grading worker (``worker.py``) with the CPU memory limit, in the sandbox of ``sandbox.py``
(which holds a copy of this module, ``rpc``, ``processes`` and the fixtures, nothing else of the kit); it
never sees the tests, the checks or the reference. Code cells run in order into one namespace, skipping
experiment cells (tag ``otter_ignore``) and otter's own plumbing (``grader = otter.Notebook(...)``, ``grader.check(...)``),
so neither the notebook's file name nor its kernel matters; a cell that raises is recorded and the next
cell still runs, as in a notebook. Then it serves requests (``rpc.py``) until the worker closes it,
with the student's printing discarded, and after every test case it puts back the working folder and
Paddle's default dtype, grad mode and device.
"""

import builtins
import importlib.abc
import json
import os
import re
import sys
from pathlib import Path

from . import fixtures
from .processes import die_with_parent, enter_sandbox, exit_now, limit_address_space, limit_file_size, peak_mb
from .rpc import ProtocolError, Session

IGNORE_TAG = "otter_ignore"
OTTER_PLUMBING = re.compile(
    r"^\s*(#.*|import otter|grader\s*=\s*otter\.Notebook\(.*\)|grader\.(check|check_all|export)\(.*\))?\s*$")
KIT_MODULES = ("nndl_ref", "nndl_grading")
SERVING_MODULES = ("nndl_grading", "nndl_grading.rpc", "nndl_grading.probe", "nndl_grading.processes")


def _serving(name):
    """The modules the student's side keeps: the protocol, this module and the fixtures."""
    return name in SERVING_MODULES or name.startswith("nndl_grading.fixtures")


def is_plumbing(source):
    """True for cells that only set up or call otter's student-side checker."""
    return all(OTTER_PLUMBING.match(line) for line in source.splitlines())


def _transform(source):
    """IPython syntax (``%matplotlib``, ``!pip``) to plain Python; magics then do nothing. A cell that is
    plain Python already stays as it is, without importing IPython (a tenth of a second)."""
    try:
        compile(source, "<cell>", "exec")
        return source
    except (SyntaxError, ValueError):
        pass
    try:
        from IPython.core.inputtransformer2 import TransformerManager
    except ImportError:
        return source
    return TransformerManager().transform_cell(source)


class _NoMagics:
    def __getattr__(self, name):
        return lambda *args, **kwargs: None


def execute_cells(cells):
    """Run the graded code cells; return (namespace, list of cell errors). MemoryError propagates."""
    namespace = {"__name__": "__main__", "__builtins__": builtins, "get_ipython": _NoMagics}
    errors = []
    for index, cell in enumerate(cells):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
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


class _KitBlocker(importlib.abc.MetaPathFinder):
    """Refuses to import the reference and the grader's other modules into the student's process."""

    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in KIT_MODULES and not _serving(name):
            raise ImportError("评分时不能导入评分程序的模块 "
                              "(the grader's modules are not available to submissions)")
        return None


def hide_kit():
    """Unload every kit module the student's side does not need, drop the import routes to the kit (its
    editable-install finder, path entries holding it) and refuse to import it by name. The kit's files stay
    readable on disk, so code that goes looking for them can still load them: only an operating-system
    sandbox prevents that."""
    for name in list(sys.modules):
        if name.split(".")[0] in KIT_MODULES and not _serving(name):
            del sys.modules[name]
    sys.meta_path[:] = [finder for finder in sys.meta_path
                        if not str(getattr(finder, "__module__", "")).startswith("__editable__")]
    sys.path[:] = [entry for entry in sys.path
                   if not any(os.path.isdir(os.path.join(entry or ".", kit)) for kit in KIT_MODULES)]
    sys.meta_path.insert(0, _KitBlocker())


def settler(work_dir, select_device):
    """A function that undoes what the notebook changed under the tests: the working folder, Paddle's
    default dtype, grad mode and device."""
    def settle():
        import paddle
        os.chdir(work_dir)
        paddle.set_default_dtype("float32")
        paddle.set_grad_enabled(True)
        select_device()
    return settle


def serve(session, settle):
    """Answer requests until ``close``; the student's printing while tests run is discarded."""
    sys.stdout = open(os.devnull, "w")
    while True:
        message = session.receive()
        if message.get("op") == "close":
            session.post({"reply": peak_mb()})
            return
        session.post(session.answer(message))
        if message.get("op") == "release":
            settle()


def main(notebook_path, read_fd, write_fd):
    enter_sandbox()
    die_with_parent()
    session = Session("student").connect_pipes(int(read_fd), int(write_fd))
    cells = json.loads(Path(notebook_path).read_text(encoding="utf-8"))["cells"]
    import matplotlib
    matplotlib.use("Agg")
    from nndl_ref.device import select_device
    limit_file_size()
    if select_device() == "cpu":     # not on a GPU: CUDA reserves large virtual ranges
        limit_address_space()
    fixtures.import_all()
    hide_kit()
    settle = settler(Path.cwd(), select_device)
    try:
        namespace, cell_errors = execute_cells(cells)
    except MemoryError:
        session.post({"ready": {"status": "memory"}})
        return 0
    settle()
    session.namespace = namespace
    session.post({"ready": {"status": "ok", "cell_errors": cell_errors}})
    try:
        serve(session, settle)
    except ProtocolError:   # the worker went away
        return 0
    return 0


if __name__ == "__main__":
    exit_now(main(*sys.argv[1:4]))
