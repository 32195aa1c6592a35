"""Grading on a Dask cluster (cluster.py) on a LocalCluster of 2 single-threaded worker processes: the
same CSV as local grading, the shipped kit rather than the checkout, a build mismatch refused, GPU
batches refused at once on CPU-only workers, a killed worker losing and duplicating nothing, a
submission that kills every worker it touches or its grading runner, and resuming after the coordinator
is interrupted."""

import csv
import dataclasses
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import dask
import pytest
from distributed import Client, LocalCluster

import nndl_grading.config as config
import nndl_grading.grade as grade_module
from nndl_grading import cluster
from nndl_grading.build import FINGERPRINT_FILE, build_chapter
from nndl_grading.config import REPO_ROOT, load_course
from nndl_grading.grade import grade_batch
from nndl_grading.samples import make_samples

CHAPTER = load_course().chapter("ch01")
TIMEOUT = 40
# Statuses of every kind that a 5-second grading can give (the looping one would cost a whole timeout).
CLASS = ("complete.ipynb", "partial.ipynb", "untouched stub.ipynb", "语法错误 syntax error.ipynb", "crash.ipynb",
         "not a notebook.ipynb")
# A cell that SIGKILLs the grading runner running it (VICTIM = "pid") or the runner's parent, the Dask worker
# (VICTIM = "parent"); reachable only unsandboxed.
KILL_ANCESTOR = """import os, signal
pid = os.getpid()
while pid > 1:
    parent = int(open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[1])
    if b"nndl_grading.cluster" in open(f"/proc/{pid}/cmdline", "rb").read():
        os.kill(VICTIM, signal.SIGKILL)
        break
    pid = parent
"""
KILL_WORKER = KILL_ANCESTOR.replace("VICTIM", "parent")
KILL_RUNNER = KILL_ANCESTOR.replace("VICTIM", "pid") + "import time\ntime.sleep(300)\n"   # and stays


@pytest.fixture(scope="module")
def ch01(tmp_path_factory):
    """Chapter 1 built into a scratch folder and its sample class: (build root, bundle, samples folder)."""
    root = tmp_path_factory.mktemp("cluster-kit")
    work = build_chapter(CHAPTER, assignments_root=root / "assignments", build_root=root / "build")
    samples = make_samples(work / "reference.ipynb", root / "assignments" / "ch01" / "ch01.ipynb", root / "samples")
    return root / "build", root / "assignments" / "ch01", samples


@pytest.fixture(scope="module")
def client():
    """2 worker processes, one task each at a time; a task is tried on at most 2 workers that die."""
    with dask.config.set({"distributed.scheduler.allowed-failures": 1}):
        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                          silence_logs=logging.ERROR) as local, Client(local) as connected:
            yield connected


@pytest.fixture
def scratch_build(ch01, monkeypatch):
    """Local grading and the cluster's coordinator both use the scratch build."""
    build_root, bundle, _ = ch01
    original = grade_module.grade_notebook

    def grade_in_scratch(chapter, notebook, limits=None, device=None, submission=None, sandbox=None):
        return original(chapter, notebook, limits, device, submission, bundle=bundle,
                        tests_dir=build_root / "ch01" / "autograder" / "tests", sandbox=sandbox)
    monkeypatch.setattr(grade_module, "grade_notebook", grade_in_scratch)
    monkeypatch.setattr(config, "BUILD_ROOT", build_root)
    return build_root


def _class(samples, folder, names):
    folder.mkdir()
    for name in names:
        shutil.copy(samples / name, folder / name)
    return folder


def _rows(out):
    with open(out / "ch01" / "grades.csv", newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _alive(*marks):
    """Command lines of other live processes that contain every one of ``marks``."""
    found = []
    for entry in os.listdir("/proc"):
        try:
            command = open(f"/proc/{entry}/cmdline", "rb").read()
        except OSError:
            continue
        if all(mark in command for mark in marks) and entry != str(os.getpid()):
            found.append(command)
    return found


def _runners():
    """Grading runners (cluster.run_task) still alive."""
    return _alive(b"nndl_grading.cluster\0")


def _no_runner_left(seconds=10):
    deadline = time.monotonic() + seconds
    while _runners() and time.monotonic() < deadline:
        time.sleep(0.2)
    return not _runners()


@pytest.fixture(scope="module")
def local_rows(ch01, tmp_path_factory):
    """The class graded locally (JOBS=2), for comparison: {submission: row}."""
    build_root, bundle, samples = ch01
    out = tmp_path_factory.mktemp("local")
    with pytest.MonkeyPatch.context() as patch:
        original = grade_module.grade_notebook
        patch.setattr(grade_module, "grade_notebook", lambda chapter, notebook, limits=None, device=None,
                      submission=None, sandbox=None: original(chapter, notebook, limits, device, submission,
                                                              bundle=bundle, sandbox=sandbox,
                                                              tests_dir=build_root / "ch01" / "autograder" / "tests"))
        grade_batch(CHAPTER, _class(samples, out / "class", CLASS), out, jobs=2, timeout=TIMEOUT)
    return {row["submission"]: row for row in _rows(out)}, out


@pytest.mark.slow
def test_the_class_grades_to_the_same_csv_as_local_grading(ch01, client, scratch_build, local_rows, tmp_path):
    expected, local_out = local_rows
    book = grade_batch(CHAPTER, _class(ch01[2], tmp_path / "class", CLASS), tmp_path, timeout=TIMEOUT, scheduler=client)
    rows = _rows(tmp_path)
    assert sorted(row["submission"] for row in rows) == sorted(CLASS)
    assert {row["submission"]: row for row in rows} == expected
    assert {s.split(":")[0] for s in (r["status"] for r in rows)} == {"ok", "crashed", "error"}
    assert sorted(p.name for p in (tmp_path / "ch01" / "feedback").iterdir()) == \
        sorted(p.name for p in (local_out / "ch01" / "feedback").iterdir())
    assert len(book.rows) == len(CLASS)


def _install_scratch_build(client, scratch_build):
    fingerprint = (scratch_build / "ch01" / FINGERPRINT_FILE).read_text()
    client.register_plugin(cluster.BuildInstaller("ch01", fingerprint, (scratch_build / "ch01" / "autograder.zip")
                                                  .read_bytes()), name=cluster.PLUGIN_PREFIX + "ch01")
    return fingerprint


def test_a_task_grades_with_the_shipped_build_not_the_checkout(ch01, client, scratch_build):
    fingerprint = _install_scratch_build(client, scratch_build)
    request = {"limits": dataclasses.asdict(CHAPTER.limits), "device": None, "sandbox": "bwrap"}
    notebook = (ch01[2] / "not a notebook.ipynb").read_bytes()
    task = client.submit(cluster.by_value(cluster.grade_on_worker), "ch01", fingerprint, notebook, "n.ipynb", request,
                         pure=False)
    result = task.result(timeout=60)
    assert result["outcome"]["status"].startswith("error: ")
    local_directories = client.run(lambda dask_worker: dask_worker.local_directory)
    assert result["grader"].startswith(local_directories[result["worker"]])
    assert not result["grader"].startswith(str(REPO_ROOT))
    loaded = client.run(lambda: [name for name in sys.modules if name.startswith(("nndl_grading", "nndl_ref"))])
    assert loaded == {address: [] for address in loaded}   # the Dask workers imported nothing of the kit


def test_a_worker_holding_another_build_refuses(ch01, client, scratch_build):
    fingerprint = _install_scratch_build(client, scratch_build)
    other = "0" * 64
    task = client.submit(cluster.by_value(cluster.grade_on_worker), "ch01", other, b"{}", "n.ipynb",
                         {"sandbox": "bwrap"}, pure=False)
    with pytest.raises(RuntimeError, match=f"refuses: it holds build {fingerprint[:12]} of ch01, the batch was "
                                           f"built as {other[:12]}"):
        task.result(timeout=60)


def test_a_sandbox_that_leaves_the_network_open_is_refused(ch01, client, scratch_build, tmp_path):
    """In 'user' mode the student's code shares the worker's network, where the Dask scheduler takes any
    client: the coordinator refuses the batch, and a worker refuses such a task sent by anything else."""
    with pytest.raises(RuntimeError, match="runs only in the bwrap sandbox"):
        grade_batch(CHAPTER, _class(ch01[2], tmp_path / "class", CLASS[:1]), tmp_path, sandbox="user",
                    scheduler=client)
    fingerprint = _install_scratch_build(client, scratch_build)
    task = client.submit(cluster.by_value(cluster.grade_on_worker), "ch01", fingerprint, b"{}", "n.ipynb",
                         {"sandbox": "user"}, pure=False)
    with pytest.raises(RuntimeError, match="refuses sandbox mode 'user'"):
        task.result(timeout=60)


def test_another_build_cannot_start_while_a_batch_of_the_chapter_runs(ch01, client, scratch_build):
    """Installing a second build would swap the running batch's build under it: refused while it runs."""
    import cloudpickle
    cloudpickle.register_pickle_by_value(cluster)
    fingerprint = _install_scratch_build(client, scratch_build)
    running = client.submit(time.sleep, 3, key="nndl-ch01-running", pure=False)
    deadline = time.monotonic() + 30
    while not any(client.processing().values()) and time.monotonic() < deadline:
        time.sleep(0.05)
    with pytest.raises(RuntimeError, match="another batch of ch01, built from other sources"):
        cluster.require_no_other_build_running(client, "ch01", "1" * 64)
    cluster.require_no_other_build_running(client, "ch01", fingerprint)     # the same build may join
    running.result(timeout=30)
    cluster.require_no_other_build_running(client, "ch01", "1" * 64)       # nothing running: it may replace


def test_a_gpu_batch_on_cpu_only_workers_fails_at_once(ch01, client, scratch_build, tmp_path):
    started = time.monotonic()
    with pytest.raises(RuntimeError, match="DEVICE=gpu: none of the 2 Dask workers .* advertises a GPU"):
        grade_batch(CHAPTER, _class(ch01[2], tmp_path / "class", CLASS[:1]), tmp_path, device="gpu", scheduler=client)
    assert time.monotonic() - started < 10
    assert not (tmp_path / "ch01" / "grades.csv").exists()


def test_an_unreachable_scheduler_is_named(monkeypatch, tmp_path):
    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT", "1s")
    with pytest.raises(RuntimeError, match="SCHEDULER=tcp://127.0.0.1:9: no Dask scheduler answers there"):
        with cluster.connect("tcp://127.0.0.1:9"):
            pass


@pytest.mark.slow
def test_killing_a_worker_mid_batch_loses_nothing_and_duplicates_nothing(ch01, client, scratch_build, local_rows,
                                                                         tmp_path):
    names = ("complete.ipynb", "partial.ipynb", "语法错误 syntax error.ipynb")
    killed = []

    def kill_a_busy_worker():
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            busy = [address for address, keys in client.processing().items() if keys]
            if busy:
                time.sleep(1.5)   # its runner is grading by now
                pid = client.run(os.getpid, workers=busy[:1])[busy[0]]
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
                return
            time.sleep(0.1)
    killer = threading.Thread(target=kill_a_busy_worker)
    killer.start()
    grade_batch(CHAPTER, _class(ch01[2], tmp_path / "class", names), tmp_path, timeout=TIMEOUT, scheduler=client)
    killer.join()
    assert killed
    rows = _rows(tmp_path)
    assert sorted(row["submission"] for row in rows) == sorted(names)   # each once
    assert {row["submission"]: row for row in rows} == {name: local_rows[0][name] for name in names}
    assert _no_runner_left()   # the killed worker's runner ended its grading processes too
    client.wait_for_workers(2, timeout=60)


def _with_first_cell(samples, source, folder, name):
    """samples' complete.ipynb with a first cell of ``source``, saved as ``folder/name``."""
    notebook = json.loads((samples / "complete.ipynb").read_text(encoding="utf-8"))
    notebook["cells"].insert(0, {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
                                 "source": source})
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(json.dumps(notebook), encoding="utf-8")
    return folder


def _grading_workers():
    """Grading workers (``nndl_grading.worker``) of cluster tasks (their tests in a shipped build) still alive."""
    return _alive(b"nndl_grading.worker\0", b"/nndl-builds/")


@pytest.mark.slow
def test_a_submission_that_kills_every_worker_it_touches_ends_as_worker_lost(ch01, client, scratch_build, tmp_path):
    folder = _with_first_cell(ch01[2], KILL_WORKER, tmp_path / "class", "kills worker.ipynb")
    grade_batch(CHAPTER, folder, tmp_path, timeout=TIMEOUT, sandbox="off", scheduler=client)
    (row,) = _rows(tmp_path)
    assert row["submission"] == "kills worker.ipynb" and row["total"] == "0"
    assert row["status"].startswith("crashed: worker lost") and row["status"].endswith("[unsandboxed]")
    assert (tmp_path / "ch01" / "feedback" / "kills worker.md").is_file()
    client.wait_for_workers(2, timeout=60)


@pytest.mark.slow
def test_a_submission_that_kills_its_grading_runner_gets_an_error_row_and_the_batch_goes_on(ch01, client,
                                                                                         scratch_build, tmp_path):
    folder = _with_first_cell(ch01[2], KILL_RUNNER, tmp_path / "class", "kills runner.ipynb")
    shutil.copy(ch01[2] / "complete.ipynb", folder / "complete.ipynb")
    grade_batch(CHAPTER, folder, tmp_path, timeout=TIMEOUT, sandbox="off", scheduler=client)
    rows = {row["submission"]: row for row in _rows(tmp_path)}
    assert rows["complete.ipynb"]["status"] == "ok [unsandboxed]"
    assert rows["complete.ipynb"]["total"] == rows["complete.ipynb"]["possible"]
    killer = rows["kills runner.ipynb"]
    assert killer["total"] == "0" and killer["status"].endswith("[unsandboxed]")
    assert killer["status"].startswith(f"error: 评分程序内部错误 (internal grader error) 评分节点上的评分进程 "
                                       f"{cluster.RETRIES + 1} 次都没有给出结果")
    assert "exit code -9" in killer["status"]
    assert (tmp_path / "ch01" / "feedback" / "kills runner.md").is_file()
    deadline = time.monotonic() + 10   # the grading workers the killed runners left ended with them
    while _grading_workers() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _grading_workers()


class InterruptAfterFirstRow:
    """A progress stream that interrupts the coordinator (as Ctrl-C) once the first row is written."""

    def write(self, text):
        if "1/3 done" in text:
            raise KeyboardInterrupt

    def flush(self):
        pass


@pytest.mark.slow
def test_an_interrupted_coordinator_resumes_where_it_stopped(ch01, client, scratch_build, tmp_path, capsys):
    names = ("not a notebook.ipynb", "complete.ipynb", "untouched stub.ipynb")
    submissions = _class(ch01[2], tmp_path / "class", names)
    with pytest.raises(KeyboardInterrupt):
        grade_batch(CHAPTER, submissions, tmp_path, timeout=TIMEOUT, scheduler=client,
                    progress=InterruptAfterFirstRow())
    assert [row["submission"] for row in _rows(tmp_path)] == ["not a notebook.ipynb"]
    assert _no_runner_left()   # the cancelled tasks stopped grading
    grade_batch(CHAPTER, submissions, tmp_path, timeout=TIMEOUT, scheduler=client)
    assert "1 submission(s) already graded" in capsys.readouterr().err
    rows = _rows(tmp_path)
    assert sorted(row["submission"] for row in rows) == sorted(names)


class LoseSchedulerAfterFirstRow:
    """A progress stream that kills the scheduler process once the first row is written."""

    def __init__(self, scheduler):
        self.scheduler = scheduler

    def write(self, text):
        if "1/2 done" in text:
            self.scheduler.kill()
            self.scheduler.wait()

    def flush(self):
        pass


@pytest.mark.slow
def test_losing_the_scheduler_stops_the_batch_and_keeps_its_rows(ch01, scratch_build, tmp_path):
    """A cluster started by hand as the README says (`dask scheduler`, `dask worker`)."""
    dask_command = str(Path(sys.executable).with_name("dask"))
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    scheduler = subprocess.Popen([dask_command, "scheduler", "--host", "127.0.0.1", "--port", str(port),
                                  "--no-dashboard"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    worker = subprocess.Popen([dask_command, "worker", address, "--nworkers", "1", "--nthreads", "1",
                               "--no-dashboard", "--death-timeout", "10"], cwd=tmp_path,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        with Client(address, timeout="30s") as probe:
            probe.wait_for_workers(1, timeout=60)
        names = ("not a notebook.ipynb", "complete.ipynb")
        with pytest.raises(RuntimeError, match=f"the Dask scheduler {address} went away: 1 graded rows are kept in "
                                               ".*run the same command to resume"):
            grade_batch(CHAPTER, _class(ch01[2], tmp_path / "class", names), tmp_path, timeout=TIMEOUT,
                        scheduler=address, progress=LoseSchedulerAfterFirstRow(scheduler))
        assert len(_rows(tmp_path)) == 1
    finally:
        for process in (worker, scheduler):
            process.kill()
            process.wait()
    assert _no_runner_left()


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_worker_whose_sandbox_does_not_work_refuses_the_batch(ch01, client, scratch_build, tmp_path, monkeypatch):
    monkeypatch.setattr(cluster, "sandbox_problem", lambda folder: "bwrap is not installed here")   # ships as is
    with pytest.raises(RuntimeError, match="cannot sandbox students' code: bwrap is not installed here"):
        grade_batch(CHAPTER, _class(ch01[2], tmp_path / "class", CLASS[:1]), tmp_path, scheduler=client)
    assert not (tmp_path / "ch01" / "grades.csv").exists()
