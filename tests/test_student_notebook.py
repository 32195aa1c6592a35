"""What the student gets (issue 10): the committed bundles' notebooks and READMEs, and the readable checks
of ``nndl_grading/self_check.py`` (copied into every bundle as ``nndl/self_check.py``)."""

import linecache

import nbformat
import pytest

from nndl_grading import self_check
from nndl_grading.config import ASSIGNMENTS_ROOT, load_course
from nndl_grading.master import student_setup

COURSE = load_course()
BUNDLES = [key for key in COURSE.chapters if (ASSIGNMENTS_ROOT / key / f"{key}.ipynb").is_file()]


@pytest.mark.parametrize("key", BUNDLES)
def test_notebook_is_nbformat_4_5_with_ids_provenance_and_no_empty_first_cell(key):
    notebook = nbformat.read(ASSIGNMENTS_ROOT / key / f"{key}.ipynb", as_version=4)
    nbformat.validate(notebook)
    assert (notebook.nbformat, notebook.nbformat_minor) == (4, 5)
    ids = [cell.id for cell in notebook.cells]
    assert len(set(ids)) == len(ids)
    assert notebook.metadata["nndl"]["source"] == f"solutions/{key}.py"
    first, setup = [cell for cell in notebook.cells if cell.cell_type == "code"][:2]
    assert "otter.Notebook" in first.source and notebook.cells[0] is first
    assert setup.source.startswith(student_setup(COURSE.chapters[key])), "the import cell starts with the setup"
    extra_credit = [q.name for q in COURSE.chapters[key].questions if q.extra_credit]
    assert (f"readable_checks(extra_credit={extra_credit})" in setup.source) == bool(extra_credit)


@pytest.mark.parametrize("key", BUNDLES)
def test_notebook_ends_with_check_all_and_what_to_submit(key):
    notebook = nbformat.read(ASSIGNMENTS_ROOT / key / f"{key}.ipynb", as_version=4)
    intro, check_all, submit = notebook.cells[-3:]
    assert intro.source.startswith("## 完成与提交")
    assert check_all.source == "grader.check_all()" and check_all.metadata["editable"] is False
    assert "隐藏测试" in submit.source and f"`{key}.ipynb`" in submit.source


@pytest.mark.parametrize("key", BUNDLES)
def test_readme_describes_what_the_bundle_holds(key):
    bundle = ASSIGNMENTS_ROOT / key
    readme = (bundle / "README.md").read_text(encoding="utf-8")
    assert ("`data/`" in readme) == (bundle / "data").is_dir()
    assert "nbgrader" not in readme.split("## 打开")[0], "the install line never pulls nbgrader"
    assert f"`{key}.ipynb`" in readme.split("## 提交")[1]


def _student_cell(source, tmp_path):
    """Code compiled as ipykernel compiles a notebook cell (a file under ``ipykernel_<pid>/``)."""
    filename = str(tmp_path / "ipykernel_4242" / "7.py")
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace = {}
    exec(compile(source, filename, "exec"), namespace)
    return namespace


def test_a_failure_names_the_students_line_not_the_test_file(tmp_path):
    logistic = _student_cell('def logistic(x):\n    y = x * 2\n    return y.exp()\n', tmp_path)["logistic"]
    try:
        logistic(3.0)
    except AttributeError as error:
        message = self_check.failure_message(error)
    assert message.splitlines()[:2] == ["你的代码第 3 行出错（logistic 中）：", "    return y.exp()"]
    assert message.endswith("AttributeError: 'float' object has no attribute 'exp'")
    assert self_check.failure_message(AssertionError("σ(0) 应为 0.5")) == "σ(0) 应为 0.5", "a test's assertion: its message"
    returned_none = self_check.failure_message(AttributeError("'NoneType' object has no attribute 'shape'"))
    assert returned_none.startswith("检查你的代码返回的结果时出错"), "raised in the test, not in the student's code"


def test_check_and_check_all_are_readable_and_quiet(monkeypatch, capsys):
    import otter  # noqa: F401  (the notebook's first cell imports it)
    from otter.test_files import GradingResults
    from otter.test_files.abstract_test import TestFile
    from otter.test_files.exception_test import ExceptionTestFile
    for owner, name in ((ExceptionTestFile, "run"), (TestFile, "_repr_html_"), (GradingResults, "_repr_html_")):
        monkeypatch.setattr(owner, name, getattr(owner, name, None), raising=False)   # undone after the test
    assert self_check.readable_checks()
    source = ('from otter.test_files import test_case\nname = "{name}"\npoints = {points}\n'
              '@test_case()\ndef test_it(value):\n    print("epoch 0, loss 0.69")\n'
              '    assert value == 1, "value 应为 1"\n')
    files = [ExceptionTestFile.from_string(source.format(name=name, points=points))
             for name, points in (("q10_late", 3), ("q2_early", 2))]
    for test_file in files:
        test_file.run({"value": 1 if test_file.name == "q2_early" else 0})
    assert capsys.readouterr().out == "", "a check does not print the test's output"
    assert "value 应为 1" in files[0]._repr_html_() and "Error at line" not in files[0]._repr_html_()
    results = GradingResults(files)
    assert [row[:3] for row in self_check.summary_rows(results)] == [("q2_early", 2, True), ("q10_late", 3, False)]
    assert "通过 1/2 题（通过的题共 2 分，满分 5 分）" in results._repr_html_()
    monkeypatch.setattr(self_check, "EXTRA_CREDIT", set())
    assert self_check.readable_checks(extra_credit=["q10_late"])     # an extra-credit question leaves the total
    assert "通过 1/2 题（通过的题共 2 分，满分 2 分，另有附加题）" in results._repr_html_()
    assert "<code>q10_late</code> （附加题）" in results._repr_html_()
    missing = ExceptionTestFile.from_string(source.format(name="q3", points=1))
    missing.run({})
    assert "还没有定义 value" in missing.test_case_results[0].message
