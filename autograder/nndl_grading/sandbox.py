"""The student's process in an operating-system sandbox (bubblewrap), so that a notebook cannot take its
grade from the grader's disk, its network or its other processes.

    python -m nndl_grading.sandbox [--install] [--off]     # `make`'s check: is a working bwrap here?

The view the notebook gets (everything read-only unless said):
  - the system's libraries (``/usr``, ``/lib*``, the loader cache), the interpreter and its site-packages,
    with the kit's own entries masked (the editable-install hooks, ``nndl_ref``, ``nndl_grading``, their
    ``*.dist-info``, any ``.pth`` file naming the kit);
  - ``/nndl/kit``: a private copy of exactly the modules the probe runs (``probe``, ``rpc``, ``processes``,
    ``fixtures/`` and the device helper the student bundle ships too) — none imports reference code;
  - ``/nndl/work``: the notebook's working folder, a size-capped tmpfs holding the chapter's student
    ``nndl/`` and ``data/`` and the submission; a private size-capped ``/tmp``; a fresh ``/proc`` and
    minimal ``/dev`` (plus exactly the NVIDIA device nodes and driver libraries when grading on a GPU).
No network, its own PID, IPC, UTS and cgroup namespaces, a new session, no capabilities, dies with the
worker, an unprivileged uid (65534 in a user namespace; as root, a uid of its own outside any user
namespace, so that the kernel's process cap holds) and at most ``MAX_PROCESSES`` processes and threads.
"""

import argparse
import importlib.util
import os
import re
import shutil
import site
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from .processes import MAX_PROCESSES_ENV_VAR, SANDBOX_UID_ENV_VAR

SANDBOX_ENV_VAR = "NNDL_SANDBOX"          # bwrap | user | off: how the worker starts the probe
EXCHANGE = "exchange"   # in the worker's folder: its TMPDIR, shared with the student's process
MODES = ("bwrap", "user", "off")
# Candidates for grading.yml keys; module constants until then.
WORK_CAP_BYTES = 256 * 2 ** 20           # the notebook's working folder
TMP_CAP_BYTES = 256 * 2 ** 20            # its /tmp
MAX_PROCESSES = 64                       # processes and threads of one sandbox (the probe uses one)
NOBODY = 65534
UID_BASE = 1_000_000                     # root mode: uid = UID_BASE + worker pid, one per live sandbox
INSIDE = Path("/nndl")
# matplotlib's list of the system's fonts, built once for the grader's user and lent read-only to every
# sandbox: in a fresh /tmp each notebook's first matplotlib import would scan the fonts again (0.3–0.4 s).
FONT_CACHE = Path.home() / ".cache" / "nndl-grading" / "matplotlib"
MATPLOTLIB_INSIDE = "/tmp/matplotlib"
# The interpreter as the sandbox can reach it: run as ``../.venv/bin/python`` from autograder/, Python calls
# itself /work/kit/autograder/../.venv/bin/python, a path through a folder the sandbox does not hold.
PYTHON = os.path.normpath(sys.executable)
KIT_INSIDE, WORK_INSIDE = INSIDE / "kit", INSIDE / "work"
PACKAGE = Path(__file__).resolve().parent
# What the probe imports of the kit (checked by tests/test_sandbox.py: nothing here imports reference code).
PROBE_MODULES = ("__init__.py", "probe.py", "rpc.py", "processes.py")
# shipped to students as nndl/device.py; found where Python finds nndl_ref (a checkout or site-packages)
DEVICE_MODULE = Path(importlib.util.find_spec("nndl_ref").submodule_search_locations[0]) / "device.py"
KIT_NAMES = ("nndl_ref", "nndl_grading", "nndl_practice_kit", "nndl_kit_grading", "__editable__")
# The repository of an editable install (None when the kit is installed as a package, as under Gradescope).
KIT_ROOT = PACKAGE.parent.parent if PACKAGE.parent.name == "autograder" else None
SYSTEM_PATHS = ("/usr", "/lib", "/lib32", "/lib64", "/libx32", "/bin", "/sbin")
SYSTEM_FILES = ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/localtime")
GPU_DEVICE = re.compile(r"^nvidia(\d+|ctl|-uvm(-tools)?|-modeset)$")
GPU_LIBRARY = re.compile(r"^lib(cuda|nvidia-[\w.-]+?)\.so(\.\d+)*$")
INSTALL_HINT = ("install it with `sudo apt-get install -y bubblewrap` (Debian/Ubuntu; `sudo dnf install "
                "bubblewrap` on Fedora), then run the command again")
OFF_HINT = ("or grade without a sandbox, knowingly, with SANDBOX=off (make) / --sandbox off: every row and "
            "feedback file then says `unsandboxed` (README, Security)")


class SandboxUnavailable(RuntimeError):
    """bwrap is missing or cannot create its namespaces here; the message says what to run."""


def gpu_binds(dev="/dev", ldconfig_output=None):
    """The NVIDIA device nodes under ``dev`` and the driver libraries ``ldconfig -p`` lists (libcuda,
    libnvidia-*), with the files their symlinks point at: [(kind, path)] with kind 'dev' or 'lib'."""
    dev = Path(dev)
    binds = [("dev", str(path)) for path in sorted(dev.glob("nvidia*")) if GPU_DEVICE.match(path.name)]
    if (dev / "nvidia-caps").is_dir():
        binds.append(("dev", str(dev / "nvidia-caps")))
    if ldconfig_output is None:
        try:
            ldconfig_output = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True).stdout
        except OSError:
            ldconfig_output = ""
    libraries = []
    for line in ldconfig_output.splitlines():
        name, arrow, path = line.strip().partition(" => ")
        if arrow and GPU_LIBRARY.match(name.split()[0]):
            for candidate in (path, os.path.realpath(path)):
                if candidate not in libraries:
                    libraries.append(candidate)
    return binds + [("lib", path) for path in libraries]


def kit_masks(site_dirs, kit_root=KIT_ROOT):
    """Entries of the interpreter's site-packages that lead to the kit: its packages, its install records,
    its editable-install hooks (and their ``__pycache__``) and ``.pth`` files naming the kit. [(path, is_dir)]."""
    masks = []
    for folder in [path for site_dir in map(Path, site_dirs) for path in (site_dir, site_dir / "__pycache__")]:
        if not folder.is_dir():
            continue
        for entry in sorted(folder.iterdir()):
            name = entry.name.lower().replace("-", "_")
            named = name.startswith(KIT_NAMES)
            if not named and entry.suffix == ".pth":
                try:
                    text = entry.read_text(encoding="utf-8", errors="replace")
                except OSError:
                    text = "nndl"
                named = "nndl" in text or bool(kit_root and str(kit_root) in text)
            if named:
                masks.append((str(entry), entry.is_dir()))
    return masks


def stage_probe_kit(folder):
    """Copy the probe's own code into ``folder`` (bound at /nndl/kit): the protocol, the process controls,
    the fixtures and the device helper, with an empty ``nndl_ref`` package around that helper."""
    folder = Path(folder)
    package = folder / "nndl_grading"
    package.mkdir(parents=True)
    for name in PROBE_MODULES:
        shutil.copy(PACKAGE / name, package / name)
    shutil.copytree(PACKAGE / "fixtures", package / "fixtures", ignore=shutil.ignore_patterns("__pycache__"))
    (folder / "nndl_ref").mkdir()
    (folder / "nndl_ref" / "__init__.py").write_text("", encoding="utf-8")
    shutil.copy(DEVICE_MODULE, folder / "nndl_ref" / "device.py")
    (folder / "empty").write_text("", encoding="utf-8")
    return folder


def interpreter_paths():
    """The folders the interpreter needs: its base installation, the virtual environment, site-packages."""
    paths = {sys.base_prefix, sys.base_exec_prefix, sys.prefix, sys.exec_prefix,
             str(Path(os.path.realpath(sys.executable)).parent.parent)}
    return sorted(p for p in paths if p and not p.startswith(SYSTEM_PATHS))


def _system_view():
    args = []
    for path in SYSTEM_PATHS:
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", path, path]
    for path in SYSTEM_FILES:
        if os.path.exists(path):
            args += ["--ro-bind", path, path]
    return args


def as_root():
    return os.geteuid() == 0


def sandbox_uid():
    """The uid of the student's process when the worker (this process) runs as root."""
    return UID_BASE + os.getpid()


def share_temporary_folders(mode):
    """Folders the worker's checks create with ``tempfile`` (the exchange folder, ``TMPDIR``) are where
    the student's code saves files for them: as root, hand each new one to the student's uid."""
    if not as_root() or mode == "off":
        return
    create = tempfile.mkdtemp

    def mkdtemp(*args, **kwargs):
        folder = create(*args, **kwargs)
        os.chown(folder, sandbox_uid(), sandbox_uid())
        return folder
    tempfile.mkdtemp = mkdtemp


def watch_folder(folder, cap, on_exceed, interval=0.5):
    """Call ``on_exceed()`` (once) if the files under ``folder`` (on the grader's disk, shared with the
    student's process) grow past ``cap`` bytes; a daemon thread, checked every ``interval`` s."""
    def watch():
        while True:
            total = 0
            for base, _, files in os.walk(folder):
                for name in files:
                    try:
                        total += os.lstat(os.path.join(base, name)).st_blocks * 512
                    except OSError:
                        pass
            if total > cap:
                on_exceed()
                return
            time.sleep(interval)
    threading.Thread(target=watch, daemon=True).start()


def _parents(path, made):
    """``--dir`` for each parent of ``path`` not made yet, traversable by the unprivileged uid."""
    args = []
    for parent in reversed(Path(path).parents[:-1]):
        if parent not in made:
            made.add(parent)
            args += ["--perms", "0755", "--dir", str(parent)]
    return args


def bwrap_command(argv, kit, seed, exchange=None, gpu=False, root=None):
    """The ``bwrap`` command line that runs ``argv`` in the sandbox.

    ``kit`` is a folder made by ``stage_probe_kit`` (bound at /nndl/kit), ``seed`` a folder whose entries
    are bound read-only into the working folder /nndl/work. As a normal user bwrap runs in a user
    namespace as uid 65534; as root (``root``, default: the effective uid is 0) it makes no user
    namespace — root's processes are exempt from the process cap — and the probe drops to
    ``UID_BASE + pid`` itself (``processes.enter_sandbox``), keeping CAP_SETUID/SETGID/SETPCAP until then.
    """
    root = as_root() if root is None else root
    bwrap = shutil.which("bwrap") or "bwrap"
    if root:
        args = [bwrap, "--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try",
                "--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID", "--cap-add", "CAP_SETPCAP"]
    else:
        args = [bwrap, "--unshare-all", "--unshare-user", "--disable-userns", "--uid", str(NOBODY),
                "--gid", str(NOBODY), "--cap-drop", "ALL"]
    # /proc, /dev and the private /tmp first: the interpreter (a virtual environment in a clone under /tmp,
    # as CI makes) is bound over them, not hidden by them.
    args += ["--new-session", "--die-with-parent", "--hostname", "sandbox", *_system_view(),
             "--proc", "/proc", "--dev", "/dev",
             "--perms", "01777", "--size", str(TMP_CAP_BYTES), "--tmpfs", "/tmp"]
    made = {Path("/tmp")}
    for path in interpreter_paths():
        args += [*_parents(path, made), "--ro-bind", path, path]
    empty = str(Path(kit) / "empty")
    site_dirs = [*site.getsitepackages(), site.getusersitepackages()]
    for path, is_dir in kit_masks(site_dirs):
        args += ["--tmpfs", path] if is_dir else ["--ro-bind", empty, path]
    args += ["--perms", "0777", "--size", str(WORK_CAP_BYTES), "--tmpfs", str(WORK_INSIDE),
             "--ro-bind", str(kit), str(KIT_INSIDE)]
    for entry in sorted(Path(seed).iterdir()):
        args += ["--ro-bind", str(entry), str(WORK_INSIDE / entry.name)]
    if exchange:
        args += [*_parents(exchange, made), "--bind", str(exchange), str(exchange)]
    args += ["--perms", "01777", "--dir", MATPLOTLIB_INSIDE]
    for font_list in sorted(FONT_CACHE.glob("fontlist-v*.json")):
        args += ["--ro-bind", str(font_list), f"{MATPLOTLIB_INSIDE}/{font_list.name}"]
    if gpu:
        for kind, path in gpu_binds():
            args += ["--dev-bind" if kind == "dev" else "--ro-bind", path, path]
    env = {"HOME": "/tmp", "TMPDIR": "/tmp", "MPLCONFIGDIR": MATPLOTLIB_INSIDE, "PYTHONPATH": str(KIT_INSIDE),
           "PYTHONNOUSERSITE": "1", MAX_PROCESSES_ENV_VAR: str(MAX_PROCESSES)}
    if root:
        env[SANDBOX_UID_ENV_VAR] = str(sandbox_uid())
    for name, value in env.items():
        args += ["--setenv", name, value]
    return [*args, "--chdir", str(WORK_INSIDE), "--", *argv]


def _wants_gpu(dev="/dev"):
    policy = (os.environ.get("NNDL_DEVICE") or "auto").lower()
    return policy == "gpu" or (policy == "auto" and os.path.exists(os.path.join(dev, "nvidiactl")))


def probe_launch(mode, notebook, args, scratch, exchange=None):
    """(command, extra ``Popen`` arguments) that start ``python -m nndl_grading.probe NOTEBOOK *args`` in
    ``mode``: 'bwrap' (the sandbox above; the notebook's folder becomes /nndl/work), 'user' (no bwrap,
    e.g. a container without user namespaces: an unprivileged uid of its own, the probe's code copied
    aside, its folder handed to that uid; the caller makes the kit readable by root only) or 'off'.
    ``scratch`` is a folder of the caller's for the copy of the probe's code; ``exchange`` the folder the
    checks and the student's code share (``bwrap_command``)."""
    notebook = Path(notebook)
    probe = [PYTHON, "-m", "nndl_grading.probe"]
    if mode == "off":
        return [*probe, str(notebook), *args], {"cwd": notebook.parent}
    kit = stage_probe_kit(Path(scratch) / "probe-kit")
    if mode == "bwrap":
        command = bwrap_command([*probe, str(WORK_INSIDE / notebook.name), *args], kit, notebook.parent,
                                exchange=exchange, gpu=_wants_gpu())
        return command, {}
    if mode != "user" or not as_root():
        raise SandboxUnavailable(f"sandbox mode {mode!r} needs {'root' if mode == 'user' else 'bwrap'}")
    uid = sandbox_uid()
    reached = [Path(scratch), *Path(scratch).parents[:-1]]
    for path in interpreter_paths():   # e.g. a conda environment under /root
        reached += Path(path).parents[:-1]
    for folder in reached:   # traversable (not listable) by the probe's uid
        os.chmod(folder, os.stat(folder).st_mode | 0o001)
    for path in (notebook.parent, *notebook.parent.rglob("*")):
        os.chown(path, uid, uid, follow_symlinks=False)
    env = {**os.environ, "HOME": str(notebook.parent), "PYTHONPATH": str(kit), "PYTHONNOUSERSITE": "1",
           MAX_PROCESSES_ENV_VAR: str(MAX_PROCESSES)}
    return [*probe, str(notebook), *args], {"cwd": notebook.parent, "env": env, "user": uid, "group": uid,
                                            "extra_groups": []}


def build_font_cache():
    """Make matplotlib's font list in ``FONT_CACHE`` unless it is there (it is kept for later batches)."""
    if not any(FONT_CACHE.glob("fontlist-v*.json")):
        FONT_CACHE.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-c", "import matplotlib.font_manager"], capture_output=True, timeout=300,
                       env={**os.environ, "MPLCONFIGDIR": str(FONT_CACHE)})


def check():
    """None if the sandbox works here, else what to do (the reason bwrap gave included). Builds the font
    list the sandboxes share first (``build_font_cache``)."""
    if not shutil.which("bwrap"):
        return f"the grader sandbox needs bubblewrap (bwrap), which is not installed: {INSTALL_HINT}; {OFF_HINT}."
    build_font_cache()
    with tempfile.TemporaryDirectory(prefix="nndl-sandbox-check-") as scratch:
        kit, seed = stage_probe_kit(Path(scratch) / "kit"), Path(scratch) / "seed"
        seed.mkdir()
        (seed / "marker").write_text("", encoding="utf-8")
        probe = ("from nndl_grading.processes import enter_sandbox; enter_sandbox(); import os; "
                 "assert os.getuid() != 0 and os.path.exists('marker'); print('ok')")
        command = bwrap_command([PYTHON, "-c", probe], kit, seed)
        try:
            result = subprocess.run(command, capture_output=True, text=True, timeout=60)
        except (OSError, subprocess.TimeoutExpired) as error:
            result = subprocess.CompletedProcess(command, 1, "", str(error))
    if result.returncode == 0 and result.stdout.strip() == "ok":
        return None
    said = (result.stderr.strip().splitlines() or ["(nothing)"])[-1]
    return (f"bwrap is installed but cannot create the grader sandbox here (bwrap said: {said}). User "
            "namespaces may be disabled (`sudo sysctl -w kernel.unprivileged_userns_clone=1`; on Ubuntu 24.04 "
            "`sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0`), or this is a container without "
            f"them; {OFF_HINT}.")


def require(mode):
    """Refuse to grade in ``mode`` 'bwrap' when the sandbox does not work here."""
    if mode not in MODES:
        raise ValueError(f"sandbox must be one of {MODES}, not {mode!r}")
    if mode == "bwrap" and (problem := check()):
        raise SandboxUnavailable(problem)


def _install():
    """Install bubblewrap with apt-get when running as root; True if it ran."""
    if shutil.which("bwrap") or not as_root() or not shutil.which("apt-get"):
        return False
    print("installing bubblewrap (apt-get) for the grader sandbox …", file=sys.stderr, flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    if subprocess.run(["apt-get", "install", "-y", "-qq", "bubblewrap"], env=env).returncode != 0:
        subprocess.run(["apt-get", "update", "-qq"], env=env)
        subprocess.run(["apt-get", "install", "-y", "-qq", "bubblewrap"], env=env)
    return True


def main(argv=None):
    parser = argparse.ArgumentParser(prog="nndl_grading.sandbox", description="check the grader sandbox")
    parser.add_argument("--install", action="store_true", help="apt-get install bubblewrap if missing (root)")
    parser.add_argument("--off", action="store_true", help="SANDBOX=off: only warn")
    args = parser.parse_args(argv)
    if args.off:
        print("warning: SANDBOX=off — students' code runs unsandboxed, as the grader's user with the grader's "
              "disk and network; every row and feedback file says `unsandboxed`.", file=sys.stderr)
        return 0
    if args.install:
        _install()
    problem = check()
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
