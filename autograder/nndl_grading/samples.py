"""A synthetic class of submissions for a built chapter, made from its reference and student notebooks.

Used by the test suite (every outcome the grader must handle) and by ``make demo``. Each sample's
expected result is documented next to it in ``SAMPLES``; the attacks on the sandbox (``sandbox.py``)
are real cells a student could append, each reporting what it managed as a cell error in the feedback.
"""

import contextlib
import copy
import json
import socket
import threading
from pathlib import Path

from .config import REPO_ROOT

ANSWER_TAG = "otter_answer_cell"

# file name -> what the grader must report for it
SAMPLES = {
    "complete.ipynb": "ok, full marks",
    "partial.ipynb": "ok, the first half of the questions' cells left as stubs",
    "untouched stub.ipynb": "ok, zero",
    "语法错误 syntax error.ipynb": "ok, the questions whose cell does not compile score zero",
    "looping.ipynb": "timeout",
    "crash.ipynb": "crashed (os._exit in a graded cell)",
    "memory hog.ipynb": "memory (allocates 16 GB, beyond the grading.yml limit)",
    "missing function.ipynb": "ok, the deleted answer cell's question scores zero",
    "not a notebook.ipynb": "error: not a readable notebook",
    "kernel-renamed.ipynb": "ok, full marks (a kernel that does not exist here)",
    "noisy stderr.ipynb": "ok, full marks (C++-style warnings on stderr do not matter)",
    "markdown shuffled.ipynb": "ok, full marks (markdown cells duplicated, deleted and reordered)",
    "huge output.ipynb": "ok, full marks (10 MB of saved output and 2 MB printed while grading)",
    "chdir float64.ipynb": "ok, full marks (the notebook changes folder and Paddle's default dtype)",
    "realtime signal.ipynb": "crashed (killed by a real-time signal)",
    "monkeypatch.ipynb": "ok, zero: stubs that patch numpy and builtins to pass",
    "patches while called.ipynb": "ok, zero: stubs that patch numpy only while the tests call them",
    "fake result.ipynb": "crashed, zero: stubs that write a full-marks result file and exit",
    "snoops on grader.ipynb": "crashed, zero: stubs that read the grader's /proc files, then forge a result file",
    "kills grader.ipynb": "ok, zero: stubs that SIGKILL their parent (in the sandbox bwrap's init, which "
                          "ignores it; unsandboxed the worker: crashed)",
    "imports reference.ipynb": "ok, zero: stubs that import the grader's reference or look for it in sys.modules",
    # attacks on the sandbox: each appended to the untouched stub unless said
    "steals reference from disk.ipynb": "ok, zero: searches the disk for nndl_ref and runs it under another "
                                        "name (full marks unsandboxed)",
    "reads grading files.ipynb": "ok, zero: looks for grading.yml and the hidden checks on disk",
    "reads instructor files.ipynb": "ok, zero: reads the grader's home folders and the repository",
    "lists processes.ipynb": "ok, zero: lists the processes it can see (only its own sandbox's)",
    "network.ipynb": "ok, zero: connects to a server on the grader's 127.0.0.1 (no network in the sandbox)",
    "writes outside.ipynb": "ok, zero: writes into the repository, build/ and the batch's grades.csv",
    "fills folder.ipynb": "ok, zero: writes 1 GiB into its folder (capped at 256 MiB)",
    "fork bomb.ipynb": "crashed or ok, zero: forks until the process cap stops it",
    "leaves daemon.ipynb": "ok, full marks: the reference plus a daemon that outlives the notebook (killed)",
    "ptrace.ipynb": "ok, zero: looks for the grading worker to ptrace it or read its /proc/<pid>/mem",
}
# The samples that attack the sandbox, and the marker in the daemon's command line (tests look for it).
ATTACKS = tuple(name for name in SAMPLES if list(SAMPLES).index(name) >= list(SAMPLES).index("steals reference from disk.ipynb"))
DAEMON_MARK = "nndl-sample-daemon"

MONKEYPATCH = """import builtins, numpy, numpy.testing, sys
numpy.allclose = lambda *args, **kwargs: True
numpy.testing.assert_allclose = lambda *args, **kwargs: None
numpy.max = lambda *args, **kwargs: 0.0
builtins.abs = lambda value: 0
loaded = [name for name in ("nndl_grading.checks", "otter.test_files.exception_test") if name in sys.modules]
raise RuntimeError(f"checks loaded in this process: {loaded}")   # reported as a cell error in the feedback
"""

# Beat the old in-process design: patch numpy only while a graded function runs, so that nothing is
# left to find between test cases.
PATCHES_WHILE_CALLED = """import functools, numpy, types
def _cheat(function):
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        saved = numpy.allclose, numpy.max, numpy.abs
        numpy.allclose, numpy.max, numpy.abs = (lambda *a, **k: True), (lambda *a, **k: 0.0), (lambda x: 0 * x)
        try:
            return function(*args, **kwargs)
        except NotImplementedError:
            return None
        finally:
            numpy.allclose, numpy.max, numpy.abs = saved
    return wrapper
for _name, _value in list(globals().items()):
    if isinstance(_value, types.FunctionType) and _value.__module__ == "__main__" and not _name.startswith("_"):
        globals()[_name] = _cheat(_value)
    elif isinstance(_value, type) and _value.__module__ == "__main__":
        for _attribute, _method in list(vars(_value).items()):
            if isinstance(_method, types.FunctionType):
                setattr(_value, _attribute, _cheat(_method))
"""

SNOOPS_ON_GRADER = """import json, os
for path in (f"/proc/{os.getppid()}/mem", f"/proc/{os.getppid()}/environ"):
    try:
        with open(path, "rb") as handle:
            print(path, "read", len(handle.read(1 << 20)), "bytes", flush=True)
    except OSError as error:
        print(path, "refused:", error, flush=True)
questions = {q: [{"name": q, "hidden": False, "points": 100, "passed": True, "message": ""}] for q in QUESTIONS}
with open("result.json", "w") as handle:
    json.dump({"status": "ok", "cell_errors": [], "questions": questions}, handle)
os._exit(0)
"""

IMPORT_REFERENCE = """import sys
sys.meta_path[:] = [f for f in sys.meta_path if type(f).__name__ != "_KitBlocker"]   # drop the import block
try:
    from nndl_ref.{key} import *   # still not found: the kit's import routes are gone from this process
except ImportError as error:
    raise RuntimeError(f"reference import failed: {{type(error).__name__}}") from None
"""

FIND_REFERENCE = """import sys
for module in [m for name, m in list(sys.modules.items()) if name.startswith(("nndl_ref", "nndl_grading.hidden"))]:
    globals().update({{k: v for k, v in vars(module).items() if not k.startswith("_")}})
"""

FAKE_RESULT = """import json, os
questions = {q: [{"name": q, "hidden": False, "points": 100, "passed": True, "message": ""}] for q in QUESTIONS}
with open("result.json", "w") as handle:
    json.dump({"status": "ok", "cell_errors": [], "questions": questions}, handle)
os._exit(0)
"""


# A bounded search of the disk a student could write: the usual places first, then the whole tree.
SEARCH = """import os
def _find(names, roots=("/work", "/home", "/root", "/srv", "/opt", "/tmp", "/"), depth=7, budget=60000):
    found, seen = [], set()
    for root in roots:
        for folder, dirs, files in os.walk(root):
            budget -= 1
            if budget < 0 or found:
                return found
            if folder in seen or folder.startswith(("/proc", "/sys", "/dev", "/usr")) or folder.count(os.sep) > depth:
                dirs[:] = []
                continue
            seen.add(folder)
            found += [os.path.join(folder, n) for n in dirs + files if n in names]
    return found
"""

STEAL_REFERENCE = SEARCH + """import importlib, shutil, sys, tempfile
_hits = [h for h in _find({{"nndl_ref"}}) if os.path.isfile(os.path.join(h, "{key}", "__init__.py"))]
if not _hits:
    raise RuntimeError("reference not found on disk")
_copy = tempfile.mkdtemp()
shutil.copytree(_hits[0], os.path.join(_copy, "stolen_ref"))
sys.path.insert(0, _copy)
_stolen = importlib.import_module("stolen_ref.{key}")
globals().update({{k: v for k, v in vars(_stolen).items() if not k.startswith("_")}})
print("stole the reference from", _hits[0])
"""

READ_GRADING_FILES = SEARCH + """_hits = _find({"grading.yml", "hidden", "autograder.zip"})
_read = {}
for _hit in _hits:
    _files = [os.path.join(_hit, n) for n in os.listdir(_hit)] if os.path.isdir(_hit) else [_hit]
    for _file in _files:
        try:
            _read[_file] = len(open(_file, "rb").read())
        except OSError as error:
            _read[_file] = str(error)
raise RuntimeError(f"grading files found: {_read or 'none'}")
"""

READ_INSTRUCTOR_FILES = """import glob, os
_read = {{}}
for _path in ["/root", *glob.glob("/home/*"), os.path.expanduser("~"), {repo!r}, {repo!r} + "/grading.yml"]:
    try:
        _read[_path] = sorted(os.listdir(_path))[:5] if os.path.isdir(_path) else len(open(_path, "rb").read())
    except OSError as error:
        _read[_path] = type(error).__name__
raise RuntimeError(f"instructor files: {{_read}}")
"""

LIST_PROCESSES = """import os
_seen = []
for _pid in sorted((p for p in os.listdir("/proc") if p.isdigit()), key=int):
    try:
        _seen.append(open(f"/proc/{_pid}/cmdline", "rb").read().replace(b"\\0", b" ").decode()[:80])
    except OSError:
        pass
raise RuntimeError(f"processes seen: {len(_seen)}: {_seen}")
"""

NETWORK = """import socket
try:
    with socket.create_connection(("127.0.0.1", {port}), timeout=3) as _connection:
        _connection.sendall(b"stolen grades")
    _said = "connected to the grader's loopback"
except OSError as error:
    _said = f"no connection: {{error}}"
raise RuntimeError(_said)
"""

WRITE_OUTSIDE = """import os
_results = {{}}
for _path in {targets!r}:
    try:
        with open(_path, "a", encoding="utf-8") as _handle:
            _handle.write({forged!r} if _path.endswith(".csv") else "written by a submission\\n")
        _results[_path] = "written"
    except OSError as error:
        _results[_path] = type(error).__name__
raise RuntimeError(f"writes outside the folder: {{_results}}")
"""

FILL_FOLDER = """import os
_written = 0
try:
    for _index in range(16):
        with open(f"fill{_index}.bin", "wb") as _handle:
            for _ in range(64):
                _handle.write(b"x" * 2 ** 20)
                _written += 2 ** 20
finally:
    print(f"wrote {_written / 2 ** 20:.0f} MiB", flush=True)
"""

# Exponential, but at most 2**9 processes even where nothing caps it; the children wait, then end.
FORK_BOMB = """import os, time
_origin, _forks, _error = os.getpid(), 0, None
for _ in range(9):
    try:
        if os.fork() != 0:
            _forks += 1
    except OSError as error:
        _error = error
        break
if os.getpid() != _origin:
    time.sleep(20)
    os._exit(0)
raise RuntimeError(f"forked {_forks} times, then: {_error}")
"""

LEAVE_DAEMON = """import os, subprocess, sys
subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)", {mark!r}], start_new_session=True,
                 stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
"""

PTRACE = """import ctypes, os
_libc = ctypes.CDLL(None, use_errno=True)
_targets = {}
for _pid in (p for p in os.listdir("/proc") if p.isdigit() and int(p) != os.getpid()):
    try:
        _command = open(f"/proc/{_pid}/cmdline", "rb").read()
    except OSError:
        continue
    _said = []
    if _libc.ptrace(16, int(_pid), 0, 0) == 0:          # PTRACE_ATTACH
        _said.append("attached")
        _libc.ptrace(17, int(_pid), 0, 0)               # PTRACE_DETACH
    else:
        _said.append(f"ptrace refused ({os.strerror(ctypes.get_errno())})")
    try:
        with open(f"/proc/{_pid}/mem", "rb") as _memory:
            _said.append("mem opened")
    except OSError as error:
        _said.append(f"mem refused ({type(error).__name__})")
    _targets[_command.split(b"\\0")[:3].__repr__()] = _said
_worker = [t for t in _targets if "nndl_grading.worker" in t]
raise RuntimeError(f"grading worker visible: {bool(_worker)}; tried {_targets}")
"""


def _source(cell):
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def _answer_pairs(reference, student):
    """(reference cell index, student answer cell) for each answer cell, matched by first line."""
    pairs = []
    for cell in student["cells"]:
        if ANSWER_TAG not in cell.get("metadata", {}).get("tags", []):
            continue
        first = _source(cell).splitlines()[0]
        index = next(i for i, c in enumerate(reference["cells"])
                     if c["cell_type"] == "code" and _source(c).splitlines()[:1] == [first])
        pairs.append((index, cell))
    return pairs


def _insert_after_first_answer(reference, pairs, source):
    notebook = copy.deepcopy(reference)
    notebook["cells"].insert(pairs[0][0] + 1, {"cell_type": "code", "metadata": {}, "outputs": [],
                                               "execution_count": None, "source": source})
    return notebook


def _append_cell(notebook, source):
    notebook = copy.deepcopy(notebook)
    notebook["cells"].append({"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
                              "source": source})
    return notebook


class _LoopbackServer:
    """A TCP server on 127.0.0.1 that counts connections (the network attack's target)."""

    def __init__(self):
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.socket.settimeout(0.5)
        self.port, self.connections, self.stopping = self.socket.getsockname()[1], 0, threading.Event()
        self.thread = threading.Thread(target=self._accept, daemon=True)

    def _accept(self):
        while not self.stopping.is_set():
            try:
                connection, _ = self.socket.accept()
            except OSError:
                continue
            self.connections += 1
            connection.close()


@contextlib.contextmanager
def loopback_server():
    """A loopback-only server for the length of the block; ``.port``, ``.connections``."""
    server = _LoopbackServer()
    server.thread.start()
    try:
        yield server
    finally:
        server.stopping.set()
        server.thread.join(timeout=5)
        server.socket.close()


def write_targets(key, out_csv=None):
    """Where the write-outside attack writes: the repository's root, ``build/`` and the batch's CSV."""
    name = f"written-by-a-submission-{key}.txt"
    return [str(REPO_ROOT / name), str(REPO_ROOT / "build" / name), *([str(out_csv)] if out_csv else [])]


def make_samples(reference_path, student_path, out_dir, port=9, out_csv=None):
    """Write every sample of ``SAMPLES`` into ``out_dir``; returns the folder. The network attack connects
    to 127.0.0.1:``port``; the write attack also appends a forged row to ``out_csv``."""
    reference = json.loads(Path(reference_path).read_text(encoding="utf-8"))
    student = json.loads(Path(student_path).read_text(encoding="utf-8"))
    pairs = _answer_pairs(reference, student)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)

    partial = copy.deepcopy(reference)
    for index, stub_cell in pairs[: len(pairs) // 2]:
        partial["cells"][index] = copy.deepcopy(stub_cell)
    broken = copy.deepcopy(reference)
    broken["cells"][pairs[0][0]]["source"] = _source(broken["cells"][pairs[0][0]]) + "\n    def oops(:\n"
    missing = copy.deepcopy(reference)
    del missing["cells"][pairs[-1][0]]
    renamed = copy.deepcopy(reference)
    renamed["metadata"]["kernelspec"] = {"name": "paddle-gpu-2.2", "display_name": "Paddle GPU", "language": "python"}
    shuffled = copy.deepcopy(reference)
    markdown = [i for i, c in enumerate(shuffled["cells"]) if c["cell_type"] == "markdown"]
    shuffled["cells"].insert(markdown[0], copy.deepcopy(shuffled["cells"][markdown[-1]]))
    del shuffled["cells"][markdown[1] + 1]
    shuffled["cells"][0], shuffled["cells"][1] = shuffled["cells"][1], shuffled["cells"][0]
    questions = f"QUESTIONS = {sorted(reference['metadata']['otter']['tests'])!r}\n"
    key = reference["metadata"]["otter"]["assignment_name"]
    huge = _insert_after_first_answer(reference, pairs, "print('x' * 2_000_000)\n")
    huge["cells"][pairs[0][0] + 1]["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "y" * 10_000_000}]
    notebooks = {
        "complete.ipynb": reference,
        "partial.ipynb": partial,
        "untouched stub.ipynb": student,
        "语法错误 syntax error.ipynb": broken,
        "looping.ipynb": _insert_after_first_answer(reference, pairs, "while True:\n    pass\n"),
        "crash.ipynb": _insert_after_first_answer(reference, pairs, "import os\nos._exit(3)\n"),
        "memory hog.ipynb": _insert_after_first_answer(reference, pairs, "import numpy\nhog = numpy.ones(2 ** 31)\n"),
        "missing function.ipynb": missing,
        "kernel-renamed.ipynb": renamed,
        "noisy stderr.ipynb": _insert_after_first_answer(
            reference, pairs, "import sys\nprint('W1127 05:00:00.000 1 gpu_resources.cc:119] warning', file=sys.stderr)\n"),
        "chdir float64.ipynb": _insert_after_first_answer(
            reference, pairs, "import os, paddle\nos.makedirs('elsewhere', exist_ok=True)\nos.chdir('elsewhere')\n"
                              "paddle.set_default_dtype('float64')\npaddle.set_grad_enabled(False)\n"),
        "realtime signal.ipynb": _insert_after_first_answer(reference, pairs, "import os\nos.kill(os.getpid(), 40)\n"),
        "markdown shuffled.ipynb": shuffled,
        "huge output.ipynb": huge,
        "monkeypatch.ipynb": _append_cell(student, MONKEYPATCH),
        "imports reference.ipynb": _append_cell(_append_cell(
            student, IMPORT_REFERENCE.format(key=key)), FIND_REFERENCE),
        "fake result.ipynb": _append_cell(student, questions + FAKE_RESULT),
        "snoops on grader.ipynb": _append_cell(student, questions + SNOOPS_ON_GRADER),
        "patches while called.ipynb": _append_cell(student, PATCHES_WHILE_CALLED),
        "kills grader.ipynb": _append_cell(student, "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\n"),
        "steals reference from disk.ipynb": _append_cell(student, STEAL_REFERENCE.format(key=key)),
        "reads grading files.ipynb": _append_cell(student, READ_GRADING_FILES),
        "reads instructor files.ipynb": _append_cell(student, READ_INSTRUCTOR_FILES.format(repo=str(REPO_ROOT))),
        "lists processes.ipynb": _append_cell(student, LIST_PROCESSES),
        "network.ipynb": _append_cell(student, NETWORK.format(port=int(port))),
        "writes outside.ipynb": _append_cell(student, WRITE_OUTSIDE.format(
            targets=write_targets(key, out_csv), forged="forged.ipynb,14\r\n")),
        "fills folder.ipynb": _append_cell(student, FILL_FOLDER),
        "fork bomb.ipynb": _append_cell(student, FORK_BOMB),
        "leaves daemon.ipynb": _append_cell(reference, LEAVE_DAEMON.format(mark=DAEMON_MARK)),
        "ptrace.ipynb": _append_cell(student, PTRACE),
    }
    for name, notebook in notebooks.items():
        (out_dir / name).write_text(json.dumps(notebook, ensure_ascii=False, indent=1), encoding="utf-8")
    (out_dir / "not a notebook.ipynb").write_text("这不是笔记本 {not json", encoding="utf-8")
    return out_dir
