"""Grade submissions: one child process per submission, with a wall-clock timeout, an address-space
limit and bounded threads; a batch writes grades.csv row by row and one feedback file per submission.
"""

import csv
import json
import os
import resource
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from .build import ASSIGNMENTS_ROOT, BUILD_ROOT
from .checks import TOLERANCE_ENV_VAR
from .feedback import write_feedback
from .gradebook import summarise_chapter

THREAD_ENV_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS")
MEMORY_SIGNS = ("MemoryError", "std::bad_alloc", "Cannot allocate memory", "ResourceExhaustedError")
LOG_LIMIT = 20_000
_RUNNING = set()   # process ids of live workers, killed if the batch is interrupted


@dataclass
class Outcome:
    submission: str
    status: str                      # ok | timeout: … | crashed: … | memory: … | error: …
    scores: dict                     # question -> points earned
    possible: float
    seconds: float
    cases: dict = field(default_factory=dict)       # question -> list of case results
    cell_errors: list = field(default_factory=list)
    log_tail: str = ""
    peak_mb: float = 0.0                             # the worker's peak resident memory (self-reported)

    @property
    def total(self):
        return round(sum(self.scores.values()), 4)


def _grading_env(limits, device=None):
    env = dict(os.environ)
    env.update({name: str(limits.threads) for name in THREAD_ENV_VARS})
    env.update({
        "MPLBACKEND": "Agg",
        "NNDL_SMOKE": "1",
        "NNDL_DEVICE": device or os.environ.get("NNDL_DEVICE") or limits.device,
        TOLERANCE_ENV_VAR: json.dumps(limits.tolerances),
        "NVIDIA_TF32_OVERRIDE": "0",   # float32 matmuls at full precision on Ampere+ GPU graders
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONWARNINGS": "ignore",
    })
    return env


def _limit_memory(memory_gb):
    limit = int(memory_gb * 1024 ** 3)

    def apply():
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    return apply


def _crash_reason(returncode, log):
    if any(sign in log for sign in MEMORY_SIGNS):
        return "memory", "超出内存限制 (memory limit exceeded)"
    if returncode < 0:
        name = signal.Signals(-returncode).name
        return "crashed", f"进程被信号 {name} 终止 (killed by {name})"
    return "crashed", (f"评分进程提前结束，没有有效结果 (ended early without a valid result, exit code {returncode})；"
                       "可能调用了 os._exit 或 sys.exit")


def _read_result(path, token):
    """The worker's result, or None if there is none or it does not carry this run's token."""
    try:
        result = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return result if isinstance(result, dict) and result.get("token") == token else None


def grade_notebook(chapter, notebook, limits=None, device=None, submission=None,
                   bundle=None, tests_dir=None):
    """Grade one notebook file of ``chapter``; never raises for a bad submission."""
    limits = limits or chapter.limits
    bundle = Path(bundle or ASSIGNMENTS_ROOT / chapter.key)
    tests_dir = Path(tests_dir or BUILD_ROOT / chapter.key / "autograder" / "tests")
    submission = submission or Path(notebook).name
    zero = {q.name: 0.0 for q in chapter.questions}
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="nndl-grade-") as work:
        work = Path(work)
        for item in bundle.iterdir():
            if item.is_dir():
                shutil.copytree(item, work / item.name)
            elif item.suffix not in (".ipynb", ".md"):
                shutil.copy(item, work / item.name)
        shutil.copy(notebook, work / "submission.ipynb")
        log_path = work / "output.log"
        command = [sys.executable, "-m", "nndl_grading.worker", "submission.ipynb", str(tests_dir), "result.json"]
        with open(log_path, "wb") as log:
            process = subprocess.Popen(command, cwd=work, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.PIPE,
                                       env=_grading_env(limits, device), start_new_session=True,
                                       preexec_fn=_limit_memory(limits.memory_gb))
            _RUNNING.add(process.pid)
            token = secrets.token_hex(16)
            process.stdin.write(f"{token}\n".encode())
            process.stdin.close()
            try:
                process.wait(timeout=limits.timeout)
                timed_out = False
            except subprocess.TimeoutExpired:
                timed_out = True
            finally:
                try:
                    os.killpg(process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                process.wait()
                _RUNNING.discard(process.pid)
        raw_log = log_path.read_bytes()
        log_text = raw_log[-LOG_LIMIT:].decode("utf-8", errors="replace")
        result_path = work / "result.json"
        result = _read_result(result_path, token)
    seconds = round(time.monotonic() - started, 2)

    def failed(status, reason):
        return Outcome(submission, f"{status}: {reason}", dict(zero), chapter.points, seconds, log_tail=log_text)

    if timed_out:
        return failed("timeout", f"超过 {limits.timeout:g} 秒仍未完成 (no result after {limits.timeout:g} s)")
    if result is None:
        return failed(*_crash_reason(process.returncode, log_text))
    if result["status"] != "ok":
        return failed(result["status"], result["reason"])
    scores = dict(zero)
    for question, cases in result["questions"].items():
        if question in scores:
            scores[question] = round(sum(c["points"] for c in cases if c["passed"]), 4)
    return Outcome(submission, "ok", scores, chapter.points, seconds, cases=result["questions"],
                   cell_errors=result["cell_errors"], log_tail=log_text, peak_mb=result.get("peak_mb", 0.0))


def find_submissions(path):
    """(id, file) of every .ipynb under ``path`` (or the file itself), checkpoints skipped, sorted."""
    path = Path(path)
    if path.is_file():
        return [(path.name, path)]
    if not path.is_dir():
        raise FileNotFoundError(f"SUBMISSIONS={path}: no such file or folder")
    found = [p for p in path.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts and p.is_file()]
    return sorted((p.relative_to(path).as_posix(), p) for p in found)


class GradeBook:
    """``OUT/chNN/grades.csv``, appended one row at a time so an interrupted batch loses nothing."""

    def __init__(self, chapter, out_dir):
        self.folder = Path(out_dir) / chapter.key
        self.path = self.folder / "grades.csv"
        self.header = ["submission", *[q.name for q in chapter.questions], "total", "possible", "status"]
        self.lock = threading.Lock()
        self.folder.mkdir(parents=True, exist_ok=True)
        self.rows = {}
        if self.path.exists():
            with open(self.path, newline="", encoding="utf-8") as handle:
                reader = csv.DictReader(handle)
                if reader.fieldnames != self.header:
                    raise ValueError(f"{self.path} has columns {reader.fieldnames}, expected {self.header}; "
                                     "move it away or grade into another OUT folder")
                self.rows = {row["submission"]: row for row in reader}

    def add(self, outcome):
        row = [outcome.submission, *[f"{outcome.scores[q]:g}" for q in self.header[1:-3]],
               f"{outcome.total:g}", f"{outcome.possible:g}", outcome.status]
        with self.lock:
            new_file = not self.path.exists()
            with open(self.path, "a", newline="", encoding="utf-8") as handle:
                writer = csv.writer(handle)
                if new_file:
                    writer.writerow(self.header)
                writer.writerow(row)
                handle.flush()
                os.fsync(handle.fileno())
            self.rows[outcome.submission] = dict(zip(self.header, row))


def grade_batch(chapter, submissions, out_dir, jobs=1, timeout=None, device=None, regrade=False, progress=None):
    """Grade every notebook under ``submissions`` into ``out_dir``; returns the GradeBook."""
    progress = progress or sys.stderr
    limits = chapter.limits if timeout is None else chapter.limits.__class__(
        **{**chapter.limits.__dict__, "timeout": float(timeout)})
    book = GradeBook(chapter, out_dir)
    feedback_dir = book.folder / "feedback"
    todo = [(sid, path) for sid, path in find_submissions(submissions) if regrade or sid not in book.rows]
    skipped = len(find_submissions(submissions)) - len(todo)
    if skipped:
        print(f"{chapter.key}: {skipped} submission(s) already graded in {book.path}, skipped "
              "(REGRADE=1 grades them again)", file=progress)
    if regrade and book.path.exists():
        backup = book.path.with_name(f"grades.{time.strftime('%Y%m%d-%H%M%S')}.csv")
        book.path.rename(backup)   # the previous grades are kept, never silently replaced
        print(f"{chapter.key}: previous grades kept in {backup}", file=progress)
        book.rows = {}
    started = time.monotonic()
    pool = ThreadPoolExecutor(max_workers=max(1, int(jobs)))
    try:
        futures = {pool.submit(grade_notebook, chapter, path, limits, device, sid): sid for sid, path in todo}
        for done, future in enumerate(as_completed(futures), start=1):
            outcome = future.result()
            book.add(outcome)
            write_feedback(chapter, outcome, feedback_dir)
            print(f"[{done}/{len(todo)}] {outcome.submission}: {outcome.total:g}/{outcome.possible:g} "
                  f"{outcome.status.split(':')[0]} ({outcome.seconds:.1f} s)", file=progress, flush=True)
    except KeyboardInterrupt:
        pool.shutdown(wait=False, cancel_futures=True)
        for pid in list(_RUNNING):
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        print(f"\ninterrupted: {len(book.rows)} graded rows are in {book.path}; run again to resume", file=progress)
        raise
    pool.shutdown()
    if todo:
        print(f"{chapter.key}: graded {len(todo)} in {time.monotonic() - started:.1f} s → {book.path}", file=progress)
        print("\n".join(summarise_chapter(book.path)), file=progress)
    return book
