"""The nbgrader course generated from the masters runs under nbgrader and gives the same per-question
points as `make grade` on the same submissions."""

import copy
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from nndl_grading.config import load_course
from nndl_grading.grade import grade_batch, grade_notebook
from nndl_grading.nbgrader_course import TRUST_WARNING, import_grades, write_course

COURSE = load_course()
KEY = "ch02"


def _nbgrader(course_root, *args):
    """Run ``nbgrader *args`` in ``course_root``; returns what it printed."""
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run([str(Path(sys.executable).with_name("nbgrader")), *args], cwd=course_root, env=env,
                          check=True, capture_output=True, text=True, timeout=900)
    return done.stdout + done.stderr


def _grade_id(cell):
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


@pytest.fixture(scope="module")
def nbgrader_run(built, tmp_path_factory):
    root = write_course([COURSE.chapters[KEY]], tmp_path_factory.mktemp("nbgrader"), built[KEY][1].parent)
    _nbgrader(root, "generate_assignment", KEY, "--force")
    shutil.copy(root / "gradebook.db", root / "gradebook-generated.db")   # for the safe route's import
    source = json.loads((root / "source" / KEY / f"{KEY}.ipynb").read_text(encoding="utf-8"))
    release = json.loads((root / "release" / KEY / f"{KEY}.ipynb").read_text(encoding="utf-8"))
    solutions = {_grade_id(c): c for c in source["cells"] if c.get("metadata", {}).get("nbgrader", {}).get("solution")}
    partial = copy.deepcopy(release)
    first_half = sorted(solutions)[: len(solutions) // 2]
    partial["cells"] = [copy.deepcopy(solutions[_grade_id(c)]) if _grade_id(c) in first_half else c
                        for c in partial["cells"]]
    submissions = {"complete": source, "partial": partial, "stub": release}
    for student, notebook in submissions.items():
        folder = root / "submitted" / student / KEY
        shutil.copytree(root / "release" / KEY, folder)
        (folder / f"{KEY}.ipynb").write_text(json.dumps(notebook, ensure_ascii=False), encoding="utf-8")
    _nbgrader(root, "autograde", KEY, "--force")
    return root, submissions


def _nbgrader_scores(root, student, database="gradebook.db"):
    from nbgrader.api import Gradebook
    scores = {}
    with Gradebook(f"sqlite:///{root / database}") as gradebook:
        for grade in gradebook.find_submission_notebook(KEY, KEY, student).grades:
            question = grade.name.rsplit("_test_", 1)[0]
            scores[question] = scores.get(question, 0.0) + (grade.score or 0.0)
    return scores


def test_release_hides_solutions_and_hidden_tests(nbgrader_run):
    root, _ = nbgrader_run
    text = (root / "release" / KEY / f"{KEY}.ipynb").read_text(encoding="utf-8")
    assert "nndl_grading.hidden" not in text and "BEGIN PROMPT" not in text and "YOUR CODE HERE" in text


def test_nbgrader_validate_fails_the_untouched_release_and_passes_the_solution(nbgrader_run):
    """What a student sees on nbgrader's Validate button (`nbgrader validate`)."""
    root, _ = nbgrader_run
    untouched = _nbgrader(root, "validate", str(root / "release" / KEY / f"{KEY}.ipynb"))
    assert "VALIDATION FAILED" in untouched and "NotImplementedError" in untouched
    solved = _nbgrader(root, "validate", str(root / "source" / KEY / f"{KEY}.ipynb"))
    assert "Success! Your notebook passes all the tests." in solved and "FAILED" not in solved


@pytest.mark.parametrize("student", ["complete", "partial", "stub"])
def test_nbgrader_points_equal_make_grade_points(nbgrader_run, built, student, tmp_path):
    root, submissions = nbgrader_run
    notebook = tmp_path / f"{student}.ipynb"
    notebook.write_text(json.dumps(submissions[student], ensure_ascii=False), encoding="utf-8")
    bundle, work = built[KEY]
    ours = grade_notebook(COURSE.chapters[KEY], notebook, bundle=bundle, tests_dir=work / "autograder" / "tests")
    theirs = _nbgrader_scores(root, student)
    assert ours.status == "ok"
    assert {q: pytest.approx(s) for q, s in ours.scores.items()} == theirs
    expected_total = {"complete": COURSE.chapters[KEY].points, "stub": 0}.get(student)
    if expected_total is not None:
        assert ours.total == expected_total
    else:
        assert 0 < ours.total < COURSE.chapters[KEY].points


def test_the_safe_route_grades_the_submitted_folder_sandboxed_and_imports_the_points(nbgrader_run, built, tmp_path):
    """`make grade SUBMISSIONS=<course>/submitted`, then `make nbgrader-import`: nbgrader's gradebook holds
    the sandboxed grader's points for every student, per question."""
    root, submissions = nbgrader_run
    course = tmp_path / "course"
    course.mkdir()
    shutil.copy(root / "gradebook-generated.db", course / "gradebook.db")
    chapter = COURSE.chapters[KEY]
    bundle, work = built[KEY]
    import nndl_grading.grade as grade_module
    original = grade_module.grade_notebook
    grade_module.grade_notebook = lambda chapter, notebook, limits=None, device=None, submission=None, sandbox=None: \
        original(chapter, notebook, limits, device, submission, bundle=bundle, tests_dir=work / "autograder" / "tests",
                 sandbox=sandbox)
    try:
        book = grade_batch(chapter, root / "submitted", tmp_path / "grades", jobs=2)
    finally:
        grade_module.grade_notebook = original
    assert sorted(book.rows) == [f"{student}/{KEY}/{KEY}.ipynb" for student in sorted(submissions)]
    lines = import_grades(chapter, book.path, course)
    assert len(lines) == len(submissions)
    for student in submissions:
        row = book.rows[f"{student}/{KEY}/{KEY}.ipynb"]
        assert _nbgrader_scores(course, student) == {q.name: pytest.approx(float(row[q.name])) for q in chapter.questions}
    assert "trust your students" in TRUST_WARNING and "make nbgrader-import" in TRUST_WARNING
