"""Grade submissions: one child process per submission, with a wall-clock timeout, an address-space
limit and bounded threads, the student's code in the sandbox of ``sandbox.py``; a batch writes grades.csv
row by row and one feedback file per submission.
"""

import csv
import dataclasses
import json
import os
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

from .config import ASSIGNMENTS_ROOT, BUILD_ROOT, TOLERANCE_ENV_VAR
from .feedback import write_feedback
from .gradebook import UNSANDBOXED, read_chapter, status_kind, summarise_chapter
from .sandbox import EXCHANGE, SANDBOX_ENV_VAR, require

THREAD_ENV_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS")
MEMORY_SIGNS = ("MemoryError", "std::bad_alloc", "Cannot allocate memory", "ResourceExhaustedError")
LOG_LIMIT = 20_000
# Live workers, killed if the batch is interrupted; no worker starts once _STOPPING is set.
_RUNNING, _STOPPING, _LAUNCH_LOCK = set(), threading.Event(), threading.Lock()


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


# The only variables a submission inherits: the instructor's other variables (tokens, keys) must not
# reach a student's code or feedback.
INHERITED_ENV_VARS = ("PATH", "HOME", "TMPDIR", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "VIRTUAL_ENV", "LD_LIBRARY_PATH",
                      "CUDA_HOME", "CUDA_VISIBLE_DEVICES", "NVIDIA_VISIBLE_DEVICES", "OPENBLAS_CORETYPE",
                      "OPENBLAS_L2_SIZE")


def _grading_env(limits, device=None, sandbox="bwrap"):
    env = {name: os.environ[name] for name in INHERITED_ENV_VARS if name in os.environ}
    env.update({name: str(limits.threads) for name in THREAD_ENV_VARS})
    env.update({
        "MPLBACKEND": "Agg",
        "NNDL_SMOKE": "1",
        "NNDL_DEVICE": device or os.environ.get("NNDL_DEVICE") or limits.device,
        "NNDL_MEMORY_GB": str(limits.memory_gb),
        TOLERANCE_ENV_VAR: json.dumps(limits.tolerances),
        "NVIDIA_TF32_OVERRIDE": "0",   # float32 matmuls at full precision on Ampere+ GPU graders
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONWARNINGS": "ignore",
        SANDBOX_ENV_VAR: sandbox,
    })
    return env


def _crash_reason(returncode, log):
    if any(sign in log for sign in MEMORY_SIGNS):
        return "memory", "超出内存限制 (memory limit exceeded)"
    if returncode < 0:
        number = -returncode
        name = signal.Signals(number).name if number in signal.Signals._value2member_map_ else f"signal {number}"
        return "crashed", f"进程被信号 {name} 终止 (killed by {name})"
    return "crashed", (f"评分进程提前结束，没有有效结果 (ended early without a valid result, exit code {returncode})；"
                       "可能调用了 os._exit 或 sys.exit")


RESULT_LIMIT = 64 * 2 ** 20


def _parse_result(raw):
    """The worker's result from its private pipe, or None if it sent none (it died) or nonsense."""
    try:
        result = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    return result if isinstance(result, dict) and "status" in result else None


def _drain(fd, chunks):
    """Read the result pipe to its end (in a thread, so that a large result never blocks the worker)."""
    with os.fdopen(fd, "rb") as channel:
        while sum(map(len, chunks)) <= RESULT_LIMIT and (chunk := channel.read(1 << 16)):
            chunks.append(chunk)


def default_sandbox():
    """The sandbox mode when none is given: ``NNDL_SANDBOX`` (bwrap | user | off), else bwrap."""
    return os.environ.get(SANDBOX_ENV_VAR) or "bwrap"


def grade_notebook(chapter, notebook, limits=None, device=None, submission=None, bundle=None, tests_dir=None,
                   sandbox=None):
    """Grade one notebook file of ``chapter``. Never raises: a failure of the grader itself is an
    ``error:`` outcome too, so one submission cannot stop a batch. ``sandbox`` is how the student's code
    runs (``sandbox.probe_launch``); with 'off' the status says ``[unsandboxed]``."""
    submission = submission or Path(notebook).name
    sandbox = sandbox or default_sandbox()
    try:
        tests_dir = Path(tests_dir or BUILD_ROOT / chapter.key / "autograder" / "tests").resolve()
        outcome = _grade_notebook(chapter, notebook, limits or chapter.limits, device, submission,
                                  Path(bundle or ASSIGNMENTS_ROOT / chapter.key), tests_dir, sandbox)
    except Exception as error:
        outcome = Outcome(submission, f"error: 评分程序内部错误 (internal grader error) {type(error).__name__}: {error}",
                          {q.name: 0.0 for q in chapter.questions}, chapter.points, 0.0)
    if sandbox == "off":
        outcome.status += f" {UNSANDBOXED}"
    return outcome


def _grade_notebook(chapter, notebook, limits, device, submission, bundle, tests_dir, sandbox):
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="nndl-grade-") as work:
        work = Path(work)
        staged = _stage_submission(bundle, notebook, work / "submission")
        exchange = work / EXCHANGE   # the worker's TMPDIR, shared with the student's process
        exchange.mkdir()
        exchange.chmod(0o1777)
        env = {**_grading_env(limits, device, sandbox), "TMPDIR": str(exchange)}
        run = _run_worker(staged, tests_dir, work, limits, env)
    return _outcome(chapter, submission, run, limits, round(time.monotonic() - started, 2))


def _stage_submission(bundle, notebook, folder):
    """The notebook's working folder: the chapter's student bundle (``nndl/``, ``data/``) and the
    submission as ``submission.ipynb``; returns the notebook's path."""
    folder.mkdir()
    for item in bundle.iterdir():
        if item.is_dir():
            shutil.copytree(item, folder / item.name)
        elif item.suffix not in (".ipynb", ".md"):
            shutil.copy(item, folder / item.name)
    shutil.copy(notebook, folder / "submission.ipynb")
    return folder / "submission.ipynb"


@dataclass
class WorkerRun:
    returncode: int
    timed_out: bool
    log: str          # the end of what the worker and the probe printed
    result: dict      # the worker's result, or None if it sent none


def _run_worker(notebook, tests_dir, work, limits, env):
    """Start the worker on ``notebook`` in ``work``, wait at most the timeout, kill what is left."""
    log_path = work / "output.log"
    result_read, result_write = os.pipe()
    command = [sys.executable, "-m", "nndl_grading.worker", str(notebook), str(tests_dir), str(result_write)]
    chunks = []
    reader = threading.Thread(target=_drain, args=(result_read, chunks), daemon=True)
    with open(log_path, "wb") as log:
        with _LAUNCH_LOCK:
            if _STOPPING.is_set():
                os.close(result_read)
                os.close(result_write)
                raise RuntimeError("the batch was interrupted before this submission started")
            try:
                process = subprocess.Popen(command, cwd=work, stdout=log, stderr=subprocess.STDOUT,
                                           stdin=subprocess.DEVNULL, env=env,
                                           pass_fds=(result_write,), start_new_session=True)
            except BaseException:
                os.close(result_read)
                raise
            finally:
                os.close(result_write)
            _RUNNING.add(process.pid)
        reader.start()
        try:
            process.wait(timeout=limits.timeout)
            timed_out = False
        except subprocess.TimeoutExpired:
            timed_out = True
            _terminate(process)
        finally:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            process.wait()
            _RUNNING.discard(process.pid)
    log_text = log_path.read_bytes()[-LOG_LIMIT:].decode("utf-8", errors="replace")
    reader.join(timeout=10)
    return WorkerRun(process.returncode, timed_out, log_text, _parse_result(b"".join(chunks)))


def _outcome(chapter, submission, run, limits, seconds):
    """The Outcome of one worker run: its scores, or why there are none."""
    zero = {q.name: 0.0 for q in chapter.questions}

    def failed(status, reason):
        return Outcome(submission, f"{status}: {reason}", dict(zero), chapter.points, seconds, log_tail=run.log)

    result = run.result
    if run.timed_out:
        return failed("timeout", f"超过 {limits.timeout:g} 秒仍未完成 (no result after {limits.timeout:g} s)")
    if result is None:
        return failed(*_crash_reason(run.returncode, run.log))
    if result["status"] == "student_ended":
        return failed(*_crash_reason(result["returncode"], run.log))
    if result["status"] != "ok":
        return failed(result["status"], result["reason"])
    scores = dict(zero)
    for question, cases in result["questions"].items():
        if question in scores:
            scores[question] = round(sum(c["points"] for c in cases if c["passed"]), 4)
    return Outcome(submission, "ok", scores, chapter.points, seconds, cases=result["questions"],
                   cell_errors=result["cell_errors"], log_tail=run.log, peak_mb=result.get("peak_mb", 0.0))


def _terminate(worker, grace=5):
    """SIGTERM first: the worker then kills every process the notebook started, including those that left
    the process group (``processes.adopt_orphans``); the SIGKILL of the group follows."""
    try:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=grace)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        pass


def _is_notebook(path):
    return (path.suffix.lower() == ".ipynb" and path.is_file() and not path.name.startswith("._")
            and not {".ipynb_checkpoints", "__MACOSX"} & set(path.parts))


def find_submissions(path):
    """(id, file) of every notebook under ``path``, sorted; the id is the path below ``path``.

    A single file's id keeps its folder (``alice/ch02.ipynb``), so files graded one at a time from
    per-student folders do not collide. Checkpoints and macOS ``__MACOSX``/``._*`` files are skipped.
    """
    path = Path(path)
    if path.is_file():
        return [(f"{path.resolve().parent.name}/{path.name}", path)]
    if not path.is_dir():
        raise FileNotFoundError(f"SUBMISSIONS={path}: no such file or folder")
    return sorted((p.relative_to(path).as_posix(), p) for p in path.rglob("*") if _is_notebook(p))


class ChapterGrades:
    """``OUT/chNN/grades.csv``, appended one row at a time so an interrupted batch loses nothing."""

    def __init__(self, chapter, out_dir):
        self.folder = Path(out_dir) / chapter.key
        self.path = self.folder / "grades.csv"
        self.header = ["submission", *[q.name for q in chapter.questions], "total", "possible", "status"]
        self.lock = threading.Lock()
        self.folder.mkdir(parents=True, exist_ok=True)
        self.rows, self.problems = {}, []   # problems: rows of the file left out (gradebook.read_chapter)
        if self.path.exists():
            _, rows, self.problems = read_chapter(self.path, self.header, chapter.maxima, chapter.points,
                                                  chapter.extra_points)
            self.rows = {row["submission"]: row for row in rows}

    def drop(self, submissions, backup):
        """Move the CSV to ``backup`` and keep every row except those of ``submissions`` (to be regraded)."""
        with self.lock:
            self.path.rename(backup)
            self.rows = {sid: row for sid, row in self.rows.items() if sid not in submissions}
            with open(self.path, "w", newline="", encoding="utf-8") as handle:
                writer = csv.DictWriter(handle, fieldnames=self.header)
                writer.writeheader()
                writer.writerows(self.rows.values())

    def add(self, outcome):
        row = [outcome.submission, *[f"{outcome.scores[q]:g}" for q in self.header[1:-3]],
               f"{outcome.total:g}", f"{outcome.possible:g}", outcome.status]
        with self.lock:
            new_file = not self.path.exists() or self.path.stat().st_size == 0
            with open(self.path, "a+b") as handle:   # a hand-edited file may lack its last line end
                handle.seek(max(0, handle.seek(0, os.SEEK_END) - 1))
                if not new_file and handle.read(1) not in (b"\n", b"\r"):
                    handle.write(b"\r\n")
            with open(self.path, "a", newline="", encoding="utf-8") as handle:
                writer = csv.writer(handle)
                if new_file:
                    writer.writerow(self.header)
                writer.writerow(row)
                handle.flush()
                os.fsync(handle.fileno())
            self.rows[outcome.submission] = dict(zip(self.header, row))


def grade_batch(chapter, submissions, out_dir, jobs=1, timeout=None, device=None, regrade=False, progress=None,
                sandbox=None, scheduler=None):
    """Grade every notebook under ``submissions`` into ``out_dir``; returns the ChapterGrades. Refuses
    (``sandbox.SandboxUnavailable``) when the sandbox does not work here, unless ``sandbox`` is 'off'.
    With ``scheduler`` (``tcp://host:port``, ``local:N`` or a ``distributed.Client``) the submissions are
    graded on that Dask cluster instead of ``jobs`` local processes (``cluster.py``; its workers check
    their sandbox)."""
    progress = progress or sys.stderr
    sandbox = sandbox or default_sandbox()
    if scheduler is None:
        require(sandbox)
    limits = chapter.limits if timeout is None else dataclasses.replace(chapter.limits, timeout=float(timeout))
    book = ChapterGrades(chapter, out_dir)
    for problem in book.problems:
        print(f"{chapter.key}: left out of {book.path.name} (not a valid grade row): {problem}", file=progress)
    if sandbox == "off":
        print(f"{chapter.key}: warning: grading UNSANDBOXED (SANDBOX=off): the notebooks run as this user, with "
              "this disk and network; every row says " + UNSANDBOXED, file=progress)
    feedback_dir = book.folder / "feedback"
    found = find_submissions(submissions)
    todo = [(sid, path) for sid, path in found if regrade or sid not in book.rows]
    if len(found) > len(todo):
        print(f"{chapter.key}: {len(found) - len(todo)} submission(s) already graded in {book.path}, skipped "
              "(REGRADE=1 grades them again)", file=progress)
    if regrade and book.path.exists():
        backup = book.path.with_name(f"grades.{time.strftime('%Y%m%d-%H%M%S')}.csv")
        book.drop({sid for sid, _ in todo}, backup)
        print(f"{chapter.key}: previous grades kept in {backup}", file=progress)
    started = time.monotonic()
    if scheduler is not None:
        from .cluster import grade_on_cluster
        grade_on_cluster(scheduler, chapter, todo, limits, device, sandbox, book, feedback_dir, progress)
    else:
        _grade_on_pool(chapter, todo, limits, device, sandbox, book, feedback_dir, progress, jobs)
    if todo:
        print(f"{chapter.key}: graded {len(todo)} in {time.monotonic() - started:.1f} s → {book.path}", file=progress)
        print("\n".join(summarise_chapter(book.path, list(book.rows.values()), book.problems)), file=progress)
    return book


def _grade_on_pool(chapter, todo, limits, device, sandbox, book, feedback_dir, progress, jobs):
    """Grade ``todo`` with ``jobs`` submissions at a time on this machine, a row as each finishes."""
    _STOPPING.clear()
    pool = ThreadPoolExecutor(max_workers=max(1, int(jobs)))
    try:
        futures = [pool.submit(grade_notebook, chapter, path, limits, device, sid, sandbox=sandbox)
                   for sid, path in todo]
        for done, future in enumerate(as_completed(futures), start=1):
            outcome = future.result()
            write_feedback(chapter, outcome, feedback_dir)   # before the row: a row always has its feedback
            book.add(outcome)
            print(f"[{done}/{len(todo)}] {outcome.submission}: {outcome.total:g}/{outcome.possible:g} "
                  f"{status_kind(outcome.status)} ({outcome.seconds:.1f} s)", file=progress, flush=True)
    except BaseException:
        with _LAUNCH_LOCK:
            _STOPPING.set()
            for pid in list(_RUNNING):
                try:
                    os.killpg(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        pool.shutdown(wait=False, cancel_futures=True)
        print(f"\ninterrupted: {len(book.rows)} graded rows are in {book.path}; run again to resume", file=progress)
        raise
    pool.shutdown()
