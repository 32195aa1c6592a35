"""The Gradescope zip's run_autograder runs the kit's own grader (probe + worker, sandboxed) in a folder
laid out as Gradescope lays it out, given as a path prefix, and writes the same verdict to results.json."""

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from nndl_grading.config import load_course
from nndl_grading.gradescope import CHAPTER_FILE, load_chapter

COURSE = load_course()
KEY = "ch02"


def _run_autograder(built, tmp_path, notebook):
    """Unzip into <prefix>/autograder/source, the notebook into …/submission, run run_autograder."""
    root = tmp_path / "autograder"
    (root / "submission").mkdir(parents=True)
    with zipfile.ZipFile(built[KEY][1] / "autograder.zip") as archive:
        archive.extractall(root / "source")
    shutil.copy(notebook, root / "submission" / "my homework.ipynb")
    env = {**os.environ, "NNDL_AUTOGRADER_ROOT": str(root),
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    subprocess.run(["bash", str(root / "source" / "run_autograder")], env=env, check=True, capture_output=True,
                   timeout=300)
    return json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))


def test_the_zip_describes_its_chapter_and_runs_the_kits_grader(built):
    with zipfile.ZipFile(built[KEY][1] / "autograder.zip") as archive:
        run = archive.read("run_autograder").decode()
        setup = archive.read("setup.sh").decode()
        archive.extract(CHAPTER_FILE, built[KEY][1] / "described")
    assert "python -m nndl_grading.gradescope" in run and "run_otter.py" not in run
    assert "mamba activate otter-env" in run and "apt-get install -y bubblewrap" in setup
    chapter = load_chapter(built[KEY][1] / "described" / CHAPTER_FILE)
    assert chapter.questions == tuple(q.__class__(q.name, q.points, (), q.hint) for q in COURSE.chapters[KEY].questions)
    assert chapter.limits == COURSE.chapters[KEY].limits and chapter.points == COURSE.chapters[KEY].points


@pytest.mark.slow
@pytest.mark.parametrize("which, expected", [("reference", 14), ("stub", 0)])
def test_run_autograder_in_a_gradescope_layout_gives_the_kits_verdict(built, tmp_path, which, expected):
    bundle, work = built[KEY]
    notebook = work / "reference.ipynb" if which == "reference" else bundle / f"{KEY}.ipynb"
    results = _run_autograder(built, tmp_path, notebook)
    assert results["score"] == expected == COURSE.chapters[KEY].points * (which == "reference")
    assert sum(test["max_score"] for test in results["tests"]) == COURSE.chapters[KEY].points
    assert sum(test["score"] for test in results["tests"]) == expected
    hidden = [test for test in results["tests"] if test["visibility"] == "after_published"]
    assert hidden and "状态 (status): ok" in results["output"]
    assert "def check_" not in json.dumps(results, ensure_ascii=False)
