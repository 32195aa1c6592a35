"""A synthetic class of submissions for a built chapter, made from its reference and student notebooks.

Used by the test suite (every outcome the grader must handle) and by ``make demo``. Each sample's
expected result is documented next to it in ``SAMPLES``.
"""

import copy
import json
from pathlib import Path

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
    "kills grader.ipynb": "crashed, zero: stubs that kill the grading process",
    "imports reference.ipynb": "ok, zero: stubs that import the grader's reference or look for it in sys.modules",
}

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


def make_samples(reference_path, student_path, out_dir):
    """Write every sample of ``SAMPLES`` into ``out_dir``; returns the folder."""
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
            student, IMPORT_REFERENCE.format(key=reference["metadata"]["otter"]["assignment_name"])), FIND_REFERENCE),
        "fake result.ipynb": _append_cell(student, questions + FAKE_RESULT),
        "snoops on grader.ipynb": _append_cell(student, questions + SNOOPS_ON_GRADER),
        "patches while called.ipynb": _append_cell(student, PATCHES_WHILE_CALLED),
        "kills grader.ipynb": _append_cell(student, "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\n"),
    }
    for name, notebook in notebooks.items():
        (out_dir / name).write_text(json.dumps(notebook, ensure_ascii=False, indent=1), encoding="utf-8")
    (out_dir / "not a notebook.ipynb").write_text("这不是笔记本 {not json", encoding="utf-8")
    return out_dir
