"""Grade a batch on a Dask cluster: ``make grade … SCHEDULER=tcp://host:8786`` (or ``local:N``, a
``LocalCluster`` of N worker processes here). One task per submission runs the kit's own grader
(``grade.grade_notebook``: probe and worker, sandbox, limits and timeout) on a worker's machine and
returns the submission's Outcome; ``grade.grade_batch`` is the coordinator, writing each row and its
feedback as its task finishes, so resume, ``REGRADE=1``, the class summary and the gradebook are those of
local grading.

    python -m nndl_grading.cluster BUILD NOTEBOOK SUBMISSION REQUEST RESULT   # one task, on a worker

A worker needs the grading environment (``autograder/requirements-grading.txt``, otter-grader,
``distributed``, bubblewrap), not a checkout. The chapter's built autograder (``build/chNN/autograder.zip``)
travels once per worker in a ``WorkerPlugin`` named after the chapter, identified by the build's
fingerprint; a task finding another build there refuses. This module goes to the workers by value
(cloudpickle): what runs in a Dask worker process imports nothing of the kit; the grading itself runs
in a child process (the command above) that imports the shipped kit.
"""

import compileall
import contextlib
import dataclasses
import io
import json
import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from pathlib import Path

# Only bwrap cuts the student's code off the network: in 'user' mode it could reach the Dask scheduler (no
# authentication by default) and run code on every worker. 'off' is the instructor's knowing choice.
CLUSTER_SANDBOXES = ("bwrap", "off")
USER_MODE_REFUSED = ("on a cluster students' code runs only in the bwrap sandbox (its own network namespace: a Dask "
                     "scheduler accepts any client); install bubblewrap on the workers, or pass SANDBOX=off knowingly")
PLUGIN_PREFIX = "nndl-build-"        # + chapter key: the WorkerPlugin holding that chapter's build
RETRIES = 2                          # a task that raised (its runner failed) is tried again this often, then
                                     # its row says error: (ChildProcessError); a worker's refusal stops the batch
ALLOWED_FAILURES = 2                 # local:N: a task whose worker died is tried on up to 2 more workers
CONNECT_TIMEOUT = "30s"
POLL_SECONDS = 0.5
LOG_TAIL = 3000
NOTEBOOK_LIMIT = "256MB"             # a task carries its notebook: Dask's large-graph warning above this only
WORKER_LOST = "crashed: worker lost"
SCHEDULER_LOST = "scheduler-connection-lost"
LOCAL_SCHEDULER = re.compile(r"local:(\d+)")
# Where the shipped kit goes in a build folder: the layout of a checkout, which its modules expect.
KIT_LAYOUT = {"files/kit/nndl_grading/": "autograder/nndl_grading/", "files/kit/nndl_ref/": "nndl_ref/",
              "files/nndl/": "bundle/nndl/", "files/data/": "bundle/data/", "tests/": "tests/",
              "nndl_chapter.json": "nndl_chapter.json"}


# ---- the worker's side: only the standard library and distributed ----

def kit_path(folder):
    """The PYTHONPATH that makes a build folder's kit importable."""
    return os.pathsep.join([str(Path(folder) / "autograder"), str(folder)])


def install_build(root, key, fingerprint, archive):
    """Unpack ``archive`` (a chapter's autograder.zip, bytes) into ``root/key-fingerprint`` (readable by
    this user only) unless it is there already; returns that folder."""
    folder = Path(root) / f"{key}-{fingerprint[:16]}"
    if (folder / "fingerprint").is_file():
        return folder
    Path(root).mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f"{key}-unpacking-", dir=root))   # mode 0700
    with zipfile.ZipFile(io.BytesIO(archive)) as zipped:
        for member in zipped.infolist():
            prefix = next((p for p in KIT_LAYOUT if member.filename.startswith(p)), None)
            if prefix is None or member.is_dir() or "__pycache__" in member.filename:
                continue
            if ".." in Path(member.filename).parts:
                raise ValueError(f"unsafe path in the autograder zip: {member.filename}")
            target = staging / (KIT_LAYOUT[prefix] + member.filename[len(prefix):])
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(zipped.read(member))
    # Graders run with PYTHONDONTWRITEBYTECODE: compiled once here, or every grading compiles the kit again.
    compileall.compile_dir(staging, ddir=folder, quiet=1)
    (staging / "fingerprint").write_text(fingerprint, encoding="utf-8")
    try:
        staging.rename(folder)
    except OSError:   # another process of this worker unpacked it meanwhile
        shutil.rmtree(staging, ignore_errors=True)
    return folder


def sandbox_problem(folder):
    """None if the grader sandbox works on this worker, else why (``python -m nndl_grading.sandbox``)."""
    result = subprocess.run([sys.executable, "-m", "nndl_grading.sandbox"], capture_output=True, text=True,
                            env={**os.environ, "PYTHONPATH": kit_path(folder)}, cwd=folder)
    return None if result.returncode == 0 else (result.stderr.strip() or f"exit code {result.returncode}")


if __name__ == "__main__":   # the runner: no Dask needed (nor its import time)
    WorkerPlugin = object
else:
    from distributed import WorkerPlugin


class BuildInstaller(WorkerPlugin):
    """A chapter's build on every worker of the cluster, those that join later included: set up once
    per worker (unpacked under the worker's local directory, its sandbox checked)."""

    def __init__(self, key, fingerprint, archive):
        self.key, self.fingerprint, self.archive = key, fingerprint, archive
        self.folder, self.sandbox_problem = None, "the build is not set up on this worker yet"

    def setup(self, worker):
        self.folder = install_build(Path(worker.local_directory) / "nndl-builds", self.key, self.fingerprint,
                                    self.archive)
        self.sandbox_problem = sandbox_problem(self.folder)


def _cancelled(worker, key):
    task = worker.state.tasks.get(key)
    return task is None or task.state in ("cancelled", "released", "forgotten")


def by_value(function):
    """``function`` as a task that workers without the kit can run: plain pickle cannot name a local
    function, so distributed falls back to cloudpickle, which ships it and (this module being registered
    by value) what it calls."""
    def task(*args):
        return function(*args)
    return task


def grade_on_worker(key, fingerprint, notebook, submission, request):
    """The task of one submission: grade ``notebook`` (bytes) with this worker's build of chapter ``key``,
    which must be the build ``fingerprint``; returns {"outcome": Outcome fields, "grader": the folder of
    the nndl_grading that graded, "worker": this worker's address}. Raises RuntimeError, with what to do,
    when the worker holds another build or its sandbox does not work, and ChildProcessError when the
    grading runner ended without a result; a task whose result the coordinator no longer wants ends its
    grading at once."""
    from distributed import get_worker
    from distributed.worker import thread_state
    worker = get_worker()
    plugin = worker.plugins.get(PLUGIN_PREFIX + key)
    held = getattr(plugin, "fingerprint", None)
    if held != fingerprint:
        raise RuntimeError(
            f"worker {worker.address} refuses: it holds build {held[:12] if held else 'none'} of {key}, the batch "
            f"was built as {fingerprint[:12]}; a class is graded by one build only — another batch of {key} with "
            "other sources is using this cluster: let it finish (or restart the workers), then run again")
    if request["sandbox"] not in CLUSTER_SANDBOXES:
        raise RuntimeError(f"worker {worker.address} refuses sandbox mode {request['sandbox']!r}: " + USER_MODE_REFUSED)
    if request["sandbox"] == "bwrap" and plugin.sandbox_problem:
        raise RuntimeError(f"worker {worker.address} cannot sandbox students' code: {plugin.sandbox_problem}")
    with tempfile.TemporaryDirectory(prefix="nndl-task-", dir=worker.local_directory) as scratch:
        scratch = Path(scratch)
        (scratch / "submission.ipynb").write_bytes(notebook)
        (scratch / "request.json").write_text(json.dumps(request), encoding="utf-8")
        command = [sys.executable, "-m", "nndl_grading.cluster", str(plugin.folder),
                   str(scratch / "submission.ipynb"), submission, str(scratch / "request.json"),
                   str(scratch / "result.json")]
        env = {**os.environ, "PYTHONPATH": kit_path(plugin.folder)}
        with open(scratch / "runner.log", "wb") as log:
            runner = subprocess.Popen(command, cwd=scratch, stdout=log, stderr=subprocess.STDOUT,
                                      stdin=subprocess.DEVNULL, env=env)
            while True:
                try:
                    runner.wait(timeout=POLL_SECONDS)
                    break
                except subprocess.TimeoutExpired:
                    if _cancelled(worker, thread_state.key):
                        runner.terminate()   # the runner ends its grading processes (_stop_grading)
                        runner.wait()
                        raise RuntimeError(f"{submission}: cancelled by the coordinator")
        result = scratch / "result.json"
        if runner.returncode != 0 or not result.is_file():
            tail = (scratch / "runner.log").read_bytes()[-LOG_TAIL:].decode("utf-8", errors="replace")
            raise ChildProcessError(f"the grading runner on worker {worker.address} failed for {submission} "
                                    f"(exit code {runner.returncode}):\n{tail}")
        return {**json.loads(result.read_text(encoding="utf-8")), "worker": worker.address}


# ---- the runner: a child of the Dask worker, with the shipped kit on its path ----

def _stop_grading(grade):
    """End this runner's grading processes (their own sessions, out of reach of its death) and itself."""
    with grade._LAUNCH_LOCK:
        grade._STOPPING.set()
        for pid in list(grade._RUNNING):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
    os._exit(1)


def _stop_with_parent(grade):
    """The Dask worker killed (node lost, OOM): stop grading, as on its SIGTERM when it cancels."""
    parent = os.getppid()

    def watch():
        while os.getppid() == parent:
            time.sleep(POLL_SECONDS)
        _stop_grading(grade)
    signal.signal(signal.SIGTERM, lambda *_: _stop_grading(grade))
    threading.Thread(target=watch, daemon=True).start()


def run_task(build, notebook, submission, request_path, result_path):
    """Grade one notebook with the build in ``build`` as ``grade.grade_notebook`` does locally; write
    the Outcome's fields (and where the grading code came from) to ``result_path``."""
    from . import grade
    from .config import Limits
    from .gradescope import CHAPTER_FILE, load_chapter
    _stop_with_parent(grade)
    # The grading worker imports the shipped kit too: pass the runner's PYTHONPATH on to it (the sandbox
    # sets the probe's own; under SANDBOX=off the student's code sees it, as it sees the kit locally).
    grade.INHERITED_ENV_VARS = (*grade.INHERITED_ENV_VARS, "PYTHONPATH")
    build = Path(build)
    request = json.loads(Path(request_path).read_text(encoding="utf-8"))
    chapter = load_chapter(build / CHAPTER_FILE)
    outcome = grade.grade_notebook(chapter, notebook, Limits(**request["limits"]), request["device"], submission,
                                   bundle=build / "bundle", tests_dir=build / "tests", sandbox=request["sandbox"])
    Path(result_path).write_text(json.dumps({"outcome": dataclasses.asdict(outcome),
                                             "grader": str(Path(grade.__file__).parent)}, ensure_ascii=False),
                                 encoding="utf-8")
    return 0


# ---- the coordinator ----

@contextlib.contextmanager
def connect(scheduler):
    """A ``distributed.Client`` for ``scheduler``: a Client (used as it is), ``local:N`` (a LocalCluster of
    N single-threaded worker processes, closed afterwards) or a scheduler address."""
    import dask
    from distributed import Client, LocalCluster
    if isinstance(scheduler, Client):
        yield scheduler
        return
    local = LOCAL_SCHEDULER.fullmatch(str(scheduler))
    if local:
        with dask.config.set({"distributed.scheduler.allowed-failures": ALLOWED_FAILURES}):
            with LocalCluster(n_workers=int(local[1]), threads_per_worker=1, processes=True, dashboard_address=None,
                              silence_logs=logging.ERROR) as cluster, Client(cluster) as client:
                yield client
        return
    try:
        client = Client(scheduler, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError, ValueError) as error:
        raise RuntimeError(f"SCHEDULER={scheduler}: no Dask scheduler answers there ({error}); start one with "
                           "`dask scheduler` and its workers with `dask worker` (README: Grading on a cluster)"
                           ) from None
    with client:
        yield client


def _held_fingerprint(key, dask_worker=None):
    return getattr(dask_worker.plugins.get(PLUGIN_PREFIX + key), "fingerprint", None)


def require_no_other_build_running(client, key, fingerprint):
    """Refuse to start while a batch of ``key`` graded by another build is running on the cluster: installing
    this build would replace that batch's build under it (a worker holds one build per chapter)."""
    others = {held for held in client.run(_held_fingerprint, key).values() if held and held != fingerprint}
    running = any(str(task).startswith(f"nndl-{key}-") for tasks in client.processing().values() for task in tasks)
    if others and running:
        raise RuntimeError(f"another batch of {key}, built from other sources ({', '.join(h[:12] for h in others)}), "
                           "is running on this cluster: let it finish, then run again")


def require_gpu_workers(client):
    """Refuse at once a DEVICE=gpu batch on a cluster none of whose workers advertises a GPU."""
    workers = client.scheduler_info(n_workers=-1)["workers"]
    if not any(w.get("resources", {}).get("GPU", 0) >= 1 for w in workers.values()):
        raise RuntimeError(f"DEVICE=gpu: none of the {len(workers)} Dask workers of {client.scheduler.address} "
                           "advertises a GPU; start GPU graders with `dask worker SCHEDULER --nthreads 1 "
                           "--resources GPU=1` (one per GPU), or grade with DEVICE=auto or cpu")


def _bar(done, total, running, width=20):
    filled = round(width * done / total) if total else width
    return f"[{'#' * filled}{'.' * (width - filled)}] {done}/{total} done, {running} running, " \
           f"{total - done - running} queued"


def _running(client, keys):
    """How many of ``keys`` are being graded: on a worker, and no more than its threads."""
    threads = {address: info["nthreads"] for address, info in client.scheduler_info(n_workers=-1)["workers"].items()}
    return sum(min(len(keys & set(held)), threads.get(address, 1)) for address, held in client.processing().items())


def _ungraded(chapter, submission, sandbox, error):
    """The row of a submission the cluster could not grade: a worker died under it each time it was tried
    (``KilledWorker``), or its grading runner gave no result each time (``ChildProcessError``)."""
    from .gradebook import UNSANDBOXED
    from .grade import Outcome
    if isinstance(error, ChildProcessError):
        status = (f"error: 评分程序内部错误 (internal grader error) 评分节点上的评分进程 {RETRIES + 1} 次都没有给出结果 "
                  f"(the grading runner gave no result in {RETRIES + 1} tries; the last: {str(error).splitlines()[0]})")
    else:
        tries = error.allowed_failures + 1
        status = (f"{WORKER_LOST}: 评分此提交的 {tries} 个评分节点都在评分时退出 "
                  f"(the {tries} Dask workers that graded it all died, the last {error.last_worker.address})")
    if sandbox == "off":
        status += f" {UNSANDBOXED}"
    return Outcome(submission, status, {q.name: 0.0 for q in chapter.questions}, chapter.points, 0.0,
                   log_tail=str(error))


def grade_on_cluster(scheduler, chapter, todo, limits, device, sandbox, book, feedback_dir, progress):
    """Grade ``todo`` ([(submission id, notebook path)]) of ``chapter`` on the Dask cluster ``scheduler``
    into ``book`` (``grade.ChapterGrades``), a row and its feedback as each task finishes."""
    import cloudpickle
    import dask
    from distributed import as_completed
    from distributed.client import FutureCancelledError
    from distributed.scheduler import KilledWorker

    from .build import FINGERPRINT_FILE
    from .config import BUILD_ROOT
    from .feedback import write_feedback
    from .gradebook import status_kind
    from .grade import Outcome
    build = BUILD_ROOT / chapter.key   # as local grading, the build there (the command line makes it current)
    if not (build / FINGERPRINT_FILE).is_file():
        raise RuntimeError(f"{chapter.key} is not built: run `make build CH={chapter.number}`")
    fingerprint = (build / FINGERPRINT_FILE).read_text(encoding="utf-8")
    gpu = (device or limits.device) == "gpu"
    request = {"limits": dataclasses.asdict(limits), "device": device, "sandbox": sandbox}
    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    if not todo:
        return
    if sandbox not in CLUSTER_SANDBOXES:
        raise RuntimeError(f"sandbox mode {sandbox!r}: {USER_MODE_REFUSED}")
    with connect(scheduler) as client:
        if gpu:
            require_gpu_workers(client)
        require_no_other_build_running(client, chapter.key, fingerprint)
        client.register_plugin(BuildInstaller(chapter.key, fingerprint, (build / "autograder.zip").read_bytes()),
                               name=PLUGIN_PREFIX + chapter.key)
        task = by_value(grade_on_worker)
        with dask.config.set({"distributed.admin.large-graph-warning-threshold": NOTEBOOK_LIMIT}):
            futures = {client.submit(task, chapter.key, fingerprint, path.read_bytes(), sid, request,
                                     key=f"nndl-{chapter.key}-{index}-{time.time_ns()}", pure=False, retries=RETRIES,
                                     resources={"GPU": 1} if gpu else None): sid
                       for index, (sid, path) in enumerate(todo)}
        ours, done = {future.key for future in futures}, 0
        try:
            for future in as_completed(futures):
                try:
                    outcome = Outcome(**future.result()["outcome"])
                except (KilledWorker, ChildProcessError) as error:
                    outcome = _ungraded(chapter, futures[future], sandbox, error)
                except FutureCancelledError as error:
                    if error.reason == SCHEDULER_LOST:
                        raise RuntimeError(
                            f"the Dask scheduler {scheduler} went away: {len(book.rows)} graded rows are kept in "
                            f"{book.path}; start the scheduler and its workers again and run the same command to "
                            "resume (graded submissions are skipped)") from None
                    raise
                write_feedback(chapter, outcome, feedback_dir)   # before the row: a row always has its feedback
                book.add(outcome)
                done += 1
                print(f"{_bar(done, len(todo), _running(client, ours))} · {outcome.submission}: "
                      f"{outcome.total:g}/{outcome.possible:g} {status_kind(outcome.status)} ({outcome.seconds:.1f} s)",
                      file=progress, flush=True)
        except BaseException:
            if client.status == "running":   # not after losing the scheduler
                with contextlib.suppress(Exception):
                    client.cancel(list(futures))
            print(f"\ninterrupted: {len(book.rows)} graded rows are in {book.path}; run again to resume",
                  file=progress)
            raise


if __name__ == "__main__":
    sys.exit(run_task(*sys.argv[1:6]))
