"""``make bench``: a class graded on a Dask ``LocalCluster`` (``SCHEDULER=local:2``) vs the local pool
(``JOBS=2``), side by side on the same machine, for Dask's overhead per submission (cluster.py).

    python -m nndl_grading.bench_cluster [SIZE]     # a SIZE-submission ch01 class (default 20)

The class is split in two halves graded in the order pool, cluster, cluster, pool, so that a change of
the machine's load during the run weighs on both alike; the cluster's start-up is timed apart.
"""

import logging
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from .grade import grade_batch


def _grade(chapter, folder, out, **how):
    started = time.monotonic()
    with open(os.devnull, "w") as quiet:
        book = grade_batch(chapter, folder, out, progress=quiet, **how)
    assert len(book.rows) == len(list(folder.iterdir()))
    return time.monotonic() - started


def compare(chapter, klass, scratch, workers=2):
    """{"pool": s, "cluster": s, "start-up": s, "submissions": n}: ``klass`` (a folder of notebooks of a
    built ``chapter``) graded with JOBS=``workers`` and on a LocalCluster of ``workers`` processes."""
    from distributed import Client, LocalCluster
    scratch = Path(scratch)
    notebooks = sorted(klass.iterdir())
    halves = []
    for index, part in enumerate((notebooks[: len(notebooks) // 2], notebooks[len(notebooks) // 2:])):
        folder = scratch / f"half{index}"
        folder.mkdir(parents=True)
        for notebook in part:
            shutil.copy(notebook, folder / notebook.name)
        halves.append(folder)
    started = time.monotonic()
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                      silence_logs=logging.ERROR) as cluster, Client(cluster) as client:
        client.wait_for_workers(workers)
        start_up = time.monotonic() - started
        seconds = {"pool": 0.0, "cluster": 0.0}
        for run, (half, how) in enumerate([(0, "pool"), (0, "cluster"), (1, "cluster"), (1, "pool")]):
            options = {"jobs": workers} if how == "pool" else {"scheduler": client}
            seconds[how] += _grade(chapter, halves[half], scratch / f"out{run}", **options)
    return {**seconds, "start-up": start_up, "submissions": len(notebooks)}


def markdown(result, workers=2):
    overhead = (result["cluster"] - result["pool"]) / result["pool"]
    per = {how: result[how] / result["submissions"] for how in ("pool", "cluster")}
    return [
        f"A {result['submissions']}-submission class on a Dask `LocalCluster` (`SCHEDULER=local:{workers}`) vs the "
        f"local pool (`JOBS={workers}`), halves interleaved:", "",
        "| how | wall time | per submission |", "|---|---|---|",
        f"| `JOBS={workers}` | {result['pool']:.1f} s | {per['pool']:.2f} s |",
        f"| `SCHEDULER=local:{workers}` | {result['cluster']:.1f} s | {per['cluster']:.2f} s |", "",
        f"Dask's overhead per submission: **{overhead:+.1%}** (goal < 10%), plus the cluster's start-up "
        f"({result['start-up']:.1f} s, once per batch; none with a running cluster). Each task ships the "
        "notebook, starts one small runner process on the worker (the shipped kit) and returns the Outcome; the "
        "autograder zip travels once per worker.",
    ]


def run(size=20, chapter_key="ch01"):
    from .build import ASSIGNMENTS_ROOT, BUILD_ROOT, build_chapter, is_built
    from .config import load_course
    from .samples import make_samples
    chapter = load_course().chapter(chapter_key)
    if not is_built(chapter):
        build_chapter(chapter)
    with tempfile.TemporaryDirectory() as scratch:
        samples = make_samples(BUILD_ROOT / chapter.key / "reference.ipynb",
                               ASSIGNMENTS_ROOT / chapter.key / f"{chapter.key}.ipynb", Path(scratch) / "s")
        usable = [p for p in sorted(samples.iterdir()) if p.name not in ("looping.ipynb", "memory hog.ipynb")]
        klass = Path(scratch) / "class"
        klass.mkdir()
        for index in range(size):
            shutil.copy(usable[index % len(usable)], klass / f"student{index:03d}.ipynb")
        lines = markdown(compare(chapter, klass, Path(scratch) / "bench"))
    print("\n".join(lines))
    return lines


if __name__ == "__main__":
    run(*map(int, sys.argv[1:2]))
