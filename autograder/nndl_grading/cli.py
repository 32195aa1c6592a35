"""Command line of the kit: ``python -m nndl_grading.cli build|all|grade|check-generated|…``.

Modules are imported by the commands that use them: ``grade`` on one submission is a whole process whose
start-up should cost little beside the grading itself (``make bench``).
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path

from .config import ConfigError, load_course
from .grade import ASSIGNMENTS_ROOT, BUILD_ROOT, grade_batch, grade_notebook
from .gradebook import build_gradebook
from .sandbox import SandboxUnavailable, require

SANDBOX_CHOICES = {"on": "bwrap", "off": "off"}


def _chapters(course, refs):
    return [course.chapter(ref) for ref in refs] if refs else list(course.chapters.values())


def command_all(course, refs, sandbox):
    """Build every chapter, grade its reference (must be full) and its untouched stub (must be 0)."""
    from .build import build_chapter
    require(sandbox)
    rows, problems = [], []
    for chapter in _chapters(course, refs):
        started = time.monotonic()
        print(f"[{chapter.key}] building …", file=sys.stderr, flush=True)
        build_chapter(chapter)
        print(f"[{chapter.key}] grading the reference and the untouched student notebook …", file=sys.stderr, flush=True)
        reference = grade_notebook(chapter, BUILD_ROOT / chapter.key / "reference.ipynb", submission="reference",
                                   sandbox=sandbox)
        stub = grade_notebook(chapter, ASSIGNMENTS_ROOT / chapter.key / f"{chapter.key}.ipynb", submission="stub",
                              sandbox=sandbox)
        if not reference.status.startswith("ok") or reference.total != chapter.full_marks:
            problems.append(f"{chapter.key}: reference scored {reference.total:g}/{chapter.full_marks:g} ({reference.status})"
                            + "".join(f"\n    {q}: {c['name']}: {c['message']}" for q, cases in reference.cases.items()
                                      for c in cases if not c["passed"]))
        if not stub.status.startswith("ok") or any(stub.scores.values()):
            nonzero = {q: s for q, s in stub.scores.items() if s}
            problems.append(f"{chapter.key}: untouched stub scored {nonzero or 0} ({stub.status})")
        points = f"{chapter.points:g}" + (f"+{chapter.extra_points:g}" if chapter.extra_points else "")
        rows.append((chapter.key, len(chapter.questions), points, reference.total, stub.total,
                     time.monotonic() - started))
    header = ("chapter", "questions", "points", "solution", "stub", "seconds")
    print("\n" + "  ".join(f"{h:>9}" for h in header))
    for row in rows:
        print("  ".join(f"{v:>9}" if isinstance(v, (str, int)) else f"{v:>9.4g}" for v in row))
    if problems:
        print("\nFAILED:\n  " + "\n  ".join(problems), file=sys.stderr)
        return 1
    return 0


def command_check_generated(course, refs):
    """Rebuild the student bundles into a temporary folder and compare them with assignments/."""
    from .build import build_chapter, bundle_differences
    stale = []
    with tempfile.TemporaryDirectory() as scratch:
        for chapter in _chapters(course, refs):
            build_chapter(chapter, assignments_root=Path(scratch) / "assignments", build_root=Path(scratch) / "build")
            fresh, committed = Path(scratch) / "assignments" / chapter.key, ASSIGNMENTS_ROOT / chapter.key
            stale += [f"assignments/{chapter.key}/{name}" for name in bundle_differences(fresh, committed)]
    if stale:
        print("Stale generated files (run `make` and commit):\n  " + "\n  ".join(stale), file=sys.stderr)
        return 1
    print("assignments/ is up to date")
    return 0


def _ensure_built(chapter):
    """Never grade with tests or points older than the sources."""
    from .build import build_chapter, is_built
    if not is_built(chapter):
        build_chapter(chapter)


def command_demo(course, refs, out, sandbox):
    """Grade a synthetic class (complete, partial, broken, looping, attacking …) of each chapter into ``out``,
    with a loopback server for the network attack to try."""
    from .samples import SAMPLES, loopback_server, make_samples
    require(sandbox)
    for chapter in _chapters(course, refs):
        _ensure_built(chapter)
        grades = out / "grades"
        with loopback_server() as server:
            samples = make_samples(BUILD_ROOT / chapter.key / "reference.ipynb",
                                   ASSIGNMENTS_ROOT / chapter.key / f"{chapter.key}.ipynb",
                                   out / "submissions" / chapter.key, port=server.port,
                                   out_csv=grades / chapter.key / "grades.csv")
            print(f"{chapter.key}: sample class in {samples}:\n" + "\n".join(f"  {n}: {e}" for n, e in SAMPLES.items()))
            grade_batch(chapter, samples, grades, jobs=2, timeout=30, regrade=True, sandbox=sandbox)
        print(f"{chapter.key}: connections to the loopback server from the sample class: {server.connections}")
    path, summary = build_gradebook(out / "grades", course)
    print("\n".join(summary) + f"\ngradebook: {path}")
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog="nndl_grading")
    parser.add_argument("--config", default=None, help="course configuration (default: grading.yml)")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("all", "build", "check-generated"):
        p = sub.add_parser(name)
        p.add_argument("chapters", nargs="*", help="chapter numbers or keys (default: all)")
        if name == "all":
            p.add_argument("--sandbox", choices=SANDBOX_CHOICES, default="on")
    g = sub.add_parser("grade")
    g.add_argument("chapter")
    g.add_argument("submissions")
    g.add_argument("--out", default="grades")
    g.add_argument("--jobs", type=int, default=1)
    g.add_argument("--timeout", type=float, default=None)
    g.add_argument("--device", choices=("auto", "cpu", "gpu"), default=None)
    g.add_argument("--regrade", action="store_true")
    g.add_argument("--sandbox", choices=SANDBOX_CHOICES, default="on",
                   help="off: run the students' code unsandboxed (every row says so)")
    g.add_argument("--scheduler", default=None,
                   help="grade on a Dask cluster: tcp://host:8786, or local:N for N worker processes here")
    b = sub.add_parser("gradebook", help="merge OUT/ch*/grades.csv into OUT/gradebook.csv")
    b.add_argument("--out", default="grades")
    n = sub.add_parser("nbgrader", help="generate an nbgrader course from the masters")
    n.add_argument("chapters", nargs="*")
    n.add_argument("--out", default=str(BUILD_ROOT / "nbgrader"))
    i = sub.add_parser("nbgrader-import", help="import OUT/chNN/grades.csv into an nbgrader course's gradebook")
    i.add_argument("chapter")
    i.add_argument("--out", default="grades")
    i.add_argument("--course", default=str(BUILD_ROOT / "nbgrader"))
    d = sub.add_parser("demo", help="build a synthetic class per chapter and grade it")
    d.add_argument("chapters", nargs="*")
    d.add_argument("--out", default="build/demo")
    d.add_argument("--sandbox", choices=SANDBOX_CHOICES, default="on")
    args = parser.parse_args(argv)
    try:
        course = load_course(args.config) if args.config else load_course()
        if args.command == "all":
            return command_all(course, args.chapters, SANDBOX_CHOICES[args.sandbox])
        if args.command == "build":
            from .build import build_chapter
            for chapter in _chapters(course, args.chapters):
                build_chapter(chapter)
            return 0
        if args.command == "check-generated":
            return command_check_generated(course, args.chapters)
        if args.command == "gradebook":
            path, summary = build_gradebook(args.out, course)
            print("\n".join(summary) + f"\ngradebook: {path}")
            return 0
        if args.command == "nbgrader":
            from .nbgrader_course import TRUST_WARNING, write_course
            chapters = _chapters(course, args.chapters)
            for chapter in chapters:
                _ensure_built(chapter)
            root = write_course(chapters, Path(args.out))
            print(f"nbgrader course: {root} (cd there; nbgrader generate_assignment ch01 …)\n\n{TRUST_WARNING}")
            return 0
        if args.command == "nbgrader-import":
            from .nbgrader_course import import_grades
            chapter = course.chapter(args.chapter)
            for line in import_grades(chapter, Path(args.out) / chapter.key / "grades.csv", Path(args.course)):
                print(line)
            return 0
        if args.command == "demo":
            return command_demo(course, args.chapters, Path(args.out), SANDBOX_CHOICES[args.sandbox])
        chapter = course.chapter(args.chapter)
        if (args.device or chapter.limits.device) == "gpu" and not args.scheduler:   # a cluster checks its workers
            from nndl_ref.device import select_device
            select_device("gpu")   # fails at once, with a clear message, on a CPU-only Paddle
        _ensure_built(chapter)
        grade_batch(chapter, args.submissions, args.out, jobs=args.jobs, timeout=args.timeout, device=args.device,
                    regrade=args.regrade, sandbox=SANDBOX_CHOICES[args.sandbox], scheduler=args.scheduler)
        return 0
    except KeyboardInterrupt:
        return 130
    except (ConfigError, FileNotFoundError, ValueError, RuntimeError, SandboxUnavailable) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
