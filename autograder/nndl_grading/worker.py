"""Grade one submission: the verdict process. The grader starts it as a child with a timeout.

    python -m nndl_grading.worker SUBMISSION.ipynb TESTS_DIR RESULT_FD

It starts the student's side (``probe.py``: runs the notebook's code cells under the memory limit, then
answers requests), in the sandbox of ``sandbox.py`` unless ``NNDL_SANDBOX`` says otherwise, and runs the
chapter's otter test files (exception-based tests) here, against the notebook's namespace as
``rpc.RemoteNamespace``: the student's code runs in the other process and only its outputs come back, so
nothing it does (monkeypatching numpy, otter or the checks) reaches the code that judges it. The
result JSON goes to RESULT_FD, a pipe to the grader that the student's process never inherits; this process is made non-dumpable, so a student's process of another (non-root) user cannot
open it through /proc either.
"""

import importlib.metadata
import importlib.util
import json
import os
import re
import signal
import subprocess
import sys
import types
from pathlib import Path

from .processes import (adopt_orphans, die_with_parent, exit_now, kill_children, limit_address_space, make_undumpable,
                        peak_mb)
from .rpc import ProtocolError, RemoteNamespace, Session
from .sandbox import EXCHANGE, SANDBOX_ENV_VAR, WORK_CAP_BYTES, probe_launch, share_temporary_folders, watch_folder


SUPPORTED_OTTER = "7."   # the otter-grader series whose internals otter_exception_tests loads


def check_otter_version():
    """None, or why this otter-grader cannot be used: ``otter_exception_tests`` loads two of its internal
    modules directly, which only the tested series is known to lay out that way."""
    try:
        version = importlib.metadata.version("otter-grader")
    except importlib.metadata.PackageNotFoundError:
        return "otter-grader is not installed in the grading environment"
    if not version.startswith(SUPPORTED_OTTER):
        return (f"otter-grader {version} is installed, but the grading worker uses otter's internal "
                f"otter.test_files modules as laid out in otter-grader {SUPPORTED_OTTER}x: install the version "
                "pinned in requirements.txt (or check worker.otter_exception_tests against the new version)")
    return None


def otter_exception_tests():
    """otter's ``otter.test_files`` exception-test classes.

    Importing the ``otter`` package pulls in its whole notebook/export stack (~4 s, most of a grading
    run), so unless the submission already imported otter, only the two modules that define
    ``test_case`` and ``ExceptionTestFile`` are loaded, under otter's own module names
    (``check_otter_version`` guards this use of otter's internals).
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


def preload_checks(tests_dir):
    """Import the hidden-check modules the tests name now, while the student's side runs the notebook
    (for ch02 that is half a second of imports taken off the tests)."""
    for path in Path(tests_dir).glob("*.py"):
        for module in set(re.findall(r"nndl_grading\.hidden\.\w+", path.read_text(encoding="utf-8"))):
            importlib.import_module(module)


def run_tests(test_files, namespace, session):
    """Run every case of every test file; messages come from the exception only, never test source.
    After each case both sides forget the objects they exchanged and the student's side settles."""
    questions = {}
    for test_file in test_files:
        cases = []
        for case in test_file.test_cases:
            try:
                case.body.call_func(namespace)
                passed, message = True, ""
            except (MemoryError, ProtocolError):
                raise
            except BaseException as error:
                passed, message = False, f"{type(error).__name__}: {error}"[:2000]
                where = getattr(error, "where", "") or getattr(error.__cause__, "where", "")
                if where:
                    message += f"（出错位置 raised in your code: {where}）"
            session.call_student("release")
            session.release()
            cases.append({"name": case.name, "hidden": case.hidden, "points": case.points,
                          "passed": passed, "message": message})
        questions[test_file.name] = cases
    return questions


def on_sigterm_kill_children():
    """The grader's SIGTERM at the timeout: end every child first. Set before the student starts and again
    after importing Paddle, which installs a SIGTERM handler of its own."""
    signal.signal(signal.SIGTERM, lambda *_: (kill_children(), os._exit(1)))


def start_student(notebook_path, mode):
    """The probe process (sandboxed as ``mode`` says, ``sandbox.probe_launch``) and a session connected to
    it through two pipes. The exchange folder (``TMPDIR``, where the checks make the folders the student's
    code saves into) is shared with it."""
    to_student_read, to_student_write = os.pipe()
    from_student_read, from_student_write = os.pipe()
    exchange = Path.cwd() / EXCHANGE
    share_temporary_folders(mode)
    command, options = probe_launch(mode, notebook_path, [str(to_student_read), str(from_student_write)], Path.cwd(),
                                    exchange if exchange.is_dir() else None)
    process = subprocess.Popen(command, pass_fds=(to_student_read, from_student_write), stdin=subprocess.DEVNULL,
                               **options)
    os.close(to_student_read)
    os.close(from_student_write)
    return process, Session("verdict").connect_pipes(from_student_read, to_student_write)


def main(notebook_path, tests_dir, result_fd):
    notebook_path = Path(notebook_path).resolve()
    make_undumpable()
    adopt_orphans()
    limit_address_space()   # it decodes what the student's side sends; on the CPU, so also on GPU graders

    def write(result):
        with os.fdopen(int(result_fd), "w", encoding="utf-8") as channel:
            channel.write(json.dumps(result, ensure_ascii=False))

    if problem := check_otter_version():
        write({"status": "error", "reason": f"评分环境有误 (grading environment): {problem}"})
        return 0
    try:
        notebook = json.loads(Path(notebook_path).read_text(encoding="utf-8"))
        if not isinstance(notebook["cells"], list):
            raise ValueError("'cells' is not a list")
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as error:
        write({"status": "error", "reason": f"不是可读的 Jupyter 笔记本 (not a readable notebook): {error}"[:300]})
        return 0
    mode = os.environ.get(SANDBOX_ENV_VAR, "bwrap")
    on_sigterm_kill_children()
    die_with_parent(signal.SIGTERM)   # the grader killed (it enforces the timeout): end the grading as at a timeout
    student, session = start_student(notebook_path, mode)
    overflowed = []
    if (Path.cwd() / EXCHANGE).is_dir():
        watch_folder(Path.cwd() / EXCHANGE, WORK_CAP_BYTES, lambda: (overflowed.append(True), student.kill()))
    try:   # the student's side is running: import what judges it meanwhile, on the other core
        import paddle

        from . import checks
        paddle.set_device("cpu")    # the checks' inputs are small; only the student's code uses a GPU
        on_sigterm_kill_children()  # again: importing Paddle replaced it
        test_files = load_tests(tests_dir)
        preload_checks(tests_dir)
        checks.reject_reference = True
        try:
            ready = session.receive().get("ready")
            if not isinstance(ready, dict) or ready.get("status") not in ("ok", "memory"):
                raise ProtocolError("no ready message")
            if ready["status"] == "memory":
                write({"status": "memory", "reason": "超出内存限制 (MemoryError)"})
                return 0
            questions = run_tests(test_files, RemoteNamespace(session), session)
            student_peak = session.call_student("close")
        except MemoryError:
            write({"status": "memory", "reason": "超出内存限制 (MemoryError)"})
            return 0
        except ProtocolError as error:
            try:   # it ended (give bwrap a moment to report how), or it is alive but talking nonsense
                student.wait(timeout=2)
            except subprocess.TimeoutExpired:
                student.kill()
            if overflowed:
                write({"status": "crashed", "reason": f"写入共享文件夹的文件超过 {WORK_CAP_BYTES >> 20} MiB "
                                                      f"(wrote more than {WORK_CAP_BYTES >> 20} MiB to the shared folder)"})
                return 0
            returncode = _wait(student)
            if mode == "bwrap" and returncode > 128:   # bwrap reports a child killed by signal N as 128 + N
                returncode = 128 - returncode
            write({"status": "student_ended", "returncode": returncode,
                   "reason": f"学生代码的进程意外结束或违反协议 "
                             f"(the student's process ended or broke the protocol): {error}"[:300]})
            return 0
        cell_errors = _cell_errors(ready.get("cell_errors"))
        write({"status": "ok", "cell_errors": cell_errors, "questions": questions,
               "peak_mb": max(peak_mb(), _number(student_peak))})
        return 0
    finally:
        student.kill()
        kill_children()


def _number(reported):
    try:
        return float(reported) if isinstance(reported, (int, float)) else 0.0
    except OverflowError:
        return 0.0


def _cell_errors(reported, limit=50):
    """The student's side's list of cells that raised, reduced to what the feedback shows."""
    if not isinstance(reported, list):
        return []
    return [{"cell": str(e.get("cell"))[:10], "error": str(e.get("error"))[:500]}
            for e in reported[:limit] if isinstance(e, dict)]


def _wait(process, timeout=10):
    try:
        return process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.wait()


if __name__ == "__main__":
    exit_now(main(*sys.argv[1:4]))
