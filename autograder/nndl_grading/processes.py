"""Linux process controls the grading worker and the probe share: resource limits, ``prctl`` flags,
peak memory, and ending every child. Elsewhere the flags are no-ops."""

import ctypes
import os
import resource
import signal
import sys
from pathlib import Path

MAX_FILE_BYTES = 256 * 2 ** 20
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_SET_CHILD_SUBREAPER = 1, 4, 36


def _prctl(option, value):
    try:
        ctypes.CDLL(None).prctl(option, value, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def limit_address_space():
    """Cap the address space at NNDL_MEMORY_GB (from grading.yml)."""
    memory_gb = os.environ.get("NNDL_MEMORY_GB")
    if memory_gb:
        limit = int(float(memory_gb) * 1024 ** 3)
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def limit_file_size():
    """Cap any file the process writes (its printed output included) at 256 MiB."""
    resource.setrlimit(resource.RLIMIT_FSIZE, (MAX_FILE_BYTES, MAX_FILE_BYTES))


def peak_mb():
    """This process's peak resident memory."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def exit_now(status):
    """End this process with ``status`` at once, its output flushed but without the interpreter's
    teardown, which with Paddle loaded takes about a second (after the grading's result was sent)."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:   # the student's side may have replaced or closed it
            pass
    os._exit(status or 0)


def make_undumpable():
    """Processes of the same (non-root) user can no longer read this one's memory or open its files
    through /proc."""
    _prctl(PR_SET_DUMPABLE, 0)


def die_with_parent(with_signal=signal.SIGKILL):
    """The kernel sends this process ``with_signal`` when its parent ends, however it ends."""
    _prctl(PR_SET_PDEATHSIG, with_signal)


def adopt_orphans():
    """Processes left behind by descendants (even in a new session, out of reach of a process-group kill)
    become this process's children, for ``kill_children``."""
    _prctl(PR_SET_CHILD_SUBREAPER, 1)


def kill_children():
    """SIGKILL and reap every child of this process (orphans it adopted included), until none is left."""
    if not os.path.isdir("/proc"):
        return
    for _ in range(100):
        children = []
        for entry in Path("/proc").iterdir():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == os.getpid():
                children.append(int(entry.name))
        if not children:
            return
        for pid in children:
            try:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass


PR_SET_NO_NEW_PRIVS, PR_CAPBSET_DROP, LAST_CAPABILITY = 38, 24, 63
SANDBOX_UID_ENV_VAR = "NNDL_SANDBOX_UID"          # set by sandbox.py as root: the uid to drop to
MAX_PROCESSES_ENV_VAR = "NNDL_MAX_PROCESSES"      # set by sandbox.py: RLIMIT_NPROC of the student's process


def enter_sandbox():
    """First thing in the student's process under the sandbox (``sandbox.py``): as root, drop to the uid
    bwrap was told (every capability and the bounding set with it, no new privileges ever), then cap the
    processes and threads this uid may have, which the kernel enforces for any uid but root."""
    uid = os.environ.pop(SANDBOX_UID_ENV_VAR, None)
    if uid is not None:
        libc = ctypes.CDLL(None, use_errno=True)
        for capability in range(LAST_CAPABILITY + 1):
            libc.prctl(PR_CAPBSET_DROP, capability, 0, 0, 0)
        os.setgroups([])
        os.setresgid(int(uid), int(uid), int(uid))
        os.setresuid(int(uid), int(uid), int(uid))
        if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 or os.getuid() == 0:
            raise SystemExit("could not drop privileges in the sandbox")
    limit = os.environ.pop(MAX_PROCESSES_ENV_VAR, None)
    if limit is not None:
        resource.setrlimit(resource.RLIMIT_NPROC, (int(limit), int(limit)))
