"""Generate an nbgrader course from the same expanded masters (``make nbgrader``), never by hand.

For each chapter: ``<root>/source/chNN/chNN.ipynb`` with nbgrader cell metadata, plus the chapter's
``nndl/`` and ``data/``; and one ``nbgrader_config.py`` for the course. The mapping:

* an otter solution cell becomes an nbgrader solution cell; its ``# BEGIN SOLUTION NO PROMPT`` region
  becomes nbgrader's ``### BEGIN SOLUTION`` region (the otter prompt lines are dropped);
* each otter test case becomes one locked grade cell that defines the test and calls it with the
  notebook's globals, worth the same points as in otter; hidden tests sit inside
  ``### BEGIN HIDDEN TESTS`` so the release never shows them;
* raw otter delimiters are dropped; everything else (prose, given code, experiments) is copied.

nbgrader runs the hidden tests inside the student's own kernel, with the kit importable there: a
submission can read or patch the checks and the reference. That route is for courses that trust their
students (``TRUST_WARNING``). The safe route keeps nbgrader for release, collection and feedback but
grades with ``make grade`` (sandboxed) and puts the points into nbgrader's gradebook (``import_grades``).
"""

import ast
import re
import shutil
from pathlib import Path

import nbformat
import yaml

from .build import BUILD_ROOT, write_support_files
from .gradebook import read_chapter, student_of

TRUST_WARNING = """WARNING: `nbgrader autograde` runs the hidden tests inside the student's own kernel, where the kit
(the checks and the reference solutions) is importable: use this course only if you trust your students.
The safe route: collect with nbgrader as usual, then grade the submitted folder with the sandboxed grader
and import the points into nbgrader's gradebook:

    make grade CH=2 SUBMISSIONS=build/nbgrader/submitted OUT=grades
    make nbgrader-import CH=2 OUT=grades COURSE=build/nbgrader"""

PROMPT_BLOCK = re.compile(r'^[ \t]*""" # BEGIN PROMPT\n.*?^[ \t]*""" # END PROMPT\n', re.MULTILINE | re.DOTALL)
TEST_CONFIG = re.compile(r'^""" # BEGIN TEST CONFIG\n(?P<config>.*?)""" # END TEST CONFIG\n', re.DOTALL)

CONFIG_TEMPLATE = '''"""{generated}"""
import os

# Experiment cells run in smoke mode when nbgrader executes a notebook (grading never trains).
os.environ.setdefault("NNDL_SMOKE", "1")
os.environ.setdefault("MPLBACKEND", "Agg")

c = get_config()  # noqa: F821
c.CourseDirectory.course_id = "nndl-practice"
c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.max_file_size = 100000          # KB; the Boston CSV and support package are small
c.Execute.timeout = {timeout}                      # seconds per cell (nbgrader's default is 30)
c.Execute.allow_errors = True
# Paddle prints warnings on stderr; nbgrader would give a grade cell 0 for any stderr output.
c.IgnorePattern.pattern = r"(W\\d{{4}} .*|.*UserWarning.*|\\s*warnings\\.warn\\(.*)"
c.ClearSolutions.code_stub = {{"python": "# YOUR CODE HERE\\nraise NotImplementedError()"}}
'''


def _metadata(grade_id, solution=False, grade=False, points=0.0):
    return {"nbgrader": {"grade": grade, "grade_id": grade_id, "locked": grade, "points": points,
                         "schema_version": 3, "solution": solution, "task": False}}


def _grade_cell_source(test_source, hidden):
    """The otter test ``def`` followed by a call that passes the notebook's globals by name."""
    function = next(node for node in ast.parse(test_source).body if isinstance(node, ast.FunctionDef))
    arguments = ", ".join("env=globals()" if a.arg == "env" else f"{a.arg}=globals().get({a.arg!r})"
                          for a in function.args.args)
    body = f"{test_source.rstrip()}\n\n{function.name}({arguments})\n"
    return f"### BEGIN HIDDEN TESTS\n{body}### END HIDDEN TESTS\n" if hidden else body


def to_nbgrader(master, points_by_question):
    """The nbgrader source notebook for an expanded master notebook."""
    test_counts = {name: len(list(_tests_of(master, name))) for name in points_by_question}
    cells, question, region, test_index = [], None, None, 0
    for cell in master.cells:
        if cell.cell_type == "raw":
            first = cell.source.strip().splitlines()[0].lower() if cell.source.strip() else ""
            if first.startswith("# begin question"):
                question = yaml.safe_load(cell.source.split("\n", 1)[1])["name"]
                test_index = 0
            elif first.startswith(("# begin solution", "# begin tests")):
                region = first.split()[-1]
            elif first.startswith(("# end solution", "# end tests")):
                region = None
            continue
        new = nbformat.v4.new_markdown_cell(cell.source) if cell.cell_type == "markdown" \
            else nbformat.v4.new_code_cell(cell.source)
        new.metadata.update({k: v for k, v in cell.metadata.items() if k == "tags"})
        if region == "solution" and cell.cell_type == "code":
            source = PROMPT_BLOCK.sub("", cell.source).replace("# BEGIN SOLUTION NO PROMPT", "### BEGIN SOLUTION") \
                .replace("# END SOLUTION", "### END SOLUTION")
            new.source = source
            new.metadata.update(_metadata(f"{question}_solution_{len(cells)}", solution=True))
        elif region == "tests" and cell.cell_type == "code":
            match = TEST_CONFIG.match(cell.source)
            config = yaml.safe_load(match.group("config")) if match else {}
            test_source = cell.source[match.end():] if match else cell.source
            new.source = _grade_cell_source(test_source, bool(config.get("hidden")))
            new.metadata.update(_metadata(f"{question}_test_{test_index}", grade=True,
                                          points=points_by_question[question] / test_counts[question]))
            test_index += 1
        cells.append(new)
    return nbformat.v4.new_notebook(cells=cells, metadata=dict(master.metadata))


def _tests_of(master, question):
    """The test cells of ``question`` in an expanded master."""
    current, in_tests = None, False
    for cell in master.cells:
        text = cell.source.strip().lower()
        if cell.cell_type == "raw" and text.startswith("# begin question"):
            current = yaml.safe_load(cell.source.split("\n", 1)[1])["name"]
        elif cell.cell_type == "raw" and text.startswith("# begin tests"):
            in_tests = True
        elif cell.cell_type == "raw" and text.startswith("# end tests"):
            in_tests = False
        elif in_tests and current == question and cell.cell_type == "code":
            yield cell


def write_course(chapters, root=BUILD_ROOT / "nbgrader", build_root=BUILD_ROOT):
    """Write the nbgrader course for ``chapters`` (each built under ``build_root``); returns its root."""
    root = Path(root)
    (root / "source").mkdir(parents=True, exist_ok=True)
    timeout = max(int(chapter.limits.timeout) for chapter in chapters)
    (root / "nbgrader_config.py").write_text(CONFIG_TEMPLATE.format(
        generated="Generated by `make nbgrader` from grading.yml; do not edit.", timeout=timeout), encoding="utf-8")
    for chapter in chapters:
        folder = root / "source" / chapter.key
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        master = nbformat.read(build_root / chapter.key / f"{chapter.key}.ipynb", as_version=4)
        points = {q.name: q.points for q in chapter.questions}
        nbformat.write(to_nbgrader(master, points), folder / f"{chapter.key}.ipynb")
        write_support_files(chapter, folder)
    return root


def import_grades(chapter, csv_path, course_root):
    """Put ``make grade``'s points (``OUT/chNN/grades.csv`` of the course's ``submitted/`` folder) into the
    nbgrader gradebook of ``course_root`` as manual scores: each question's points are spread over its
    grade cells in proportion to their points, so nbgrader's per-question and total scores equal ours.
    The assignment must have been generated there (``nbgrader generate_assignment``). Returns report lines."""
    from nbgrader.api import Gradebook, MissingEntry
    questions = {q.name: q.points for q in chapter.questions}
    _, rows, problems = read_chapter(csv_path, maxima=questions, possible=chapter.points,
                                  extra_credit=chapter.extra_points)
    lines = [f"left out: {problem}" for problem in problems]
    with Gradebook(f"sqlite:///{Path(course_root).resolve() / 'gradebook.db'}") as gradebook:
        cells = gradebook.find_notebook(chapter.key, chapter.key).grade_cells
        for row in rows:
            student = student_of(row["submission"])
            gradebook.update_or_create_student(student)
            try:
                gradebook.find_submission(chapter.key, student)
            except MissingEntry:
                gradebook.add_submission(chapter.key, student)
            for cell in cells:
                question = cell.name.rsplit("_test_", 1)[0]
                grade = gradebook.find_grade(cell.name, chapter.key, chapter.key, student)
                grade.manual_score = float(row[question]) * cell.max_score / questions[question]
            gradebook.db.commit()
            lines.append(f"{student}: {row['total']}/{row['possible']} ({row['status']})")
    return lines
