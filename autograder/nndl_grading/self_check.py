"""The student's self-check in the notebook: otter's ``grader.check`` and ``grader.check_all`` results, readable.

The build copies this module into every student bundle as ``nndl/self_check.py``; the notebook's import
cell switches it on with ``readable_checks()``. It changes only what the student sees, in the student's
own kernel:

* a failed public test shows its assertion message and, when the student's code raised, the line of the
  student's cell that raised — never a line number of otter's test file, which the student cannot see;
* what a test prints (a training loop's log, a warning) is not shown above the verdict;
* ``grader.check_all()`` shows one row per question: passed or not, and the points it is worth, then the
  reminder that the hidden tests decide the grade.

Grading never runs it: the grader skips otter's cells, and ``readable_checks`` does nothing where otter was
not imported first (the notebook's first cell does that). With an otter-grader other than the series whose
internals it replaces (``SUPPORTED_OTTER``), otter's own output stays.
"""

import contextlib
import html
import io
import linecache
import os
import re
import sys
import traceback

SUPPORTED_OTTER = "7."
HIDDEN_TESTS_REMINDER = ("公开测试 (public tests) 只是自查：成绩由评分时的隐藏测试 (hidden tests) 决定，"
                         "它们用更多的输入、梯度检查等检查你的实现，公开测试全部通过不等于满分。")
PASSED = "<span style='color:#1a7f37'>✔</span>"
FAILED = "<span style='color:#cf222e'>✘</span>"
EXTRA_CREDIT = set()   # question names readable_checks(extra_credit=…) marks as extra credit


def _is_notebook_cell(filename):
    """True for code compiled from a notebook cell (ipykernel: ``…/ipykernel_<pid>/<n>.py``; IPython)."""
    return os.path.basename(os.path.dirname(filename)).startswith("ipykernel_") \
        or filename.startswith("<ipython-input-")


def _students_line(error):
    """(function name, line number in its cell, source line) of the innermost notebook-cell frame, or None."""
    where = None
    for frame, line_number in traceback.walk_tb(error.__traceback__):
        if _is_notebook_cell(frame.f_code.co_filename):
            where = frame.f_code.co_name, line_number, linecache.getline(frame.f_code.co_filename, line_number)
    return where


def failure_message(error):
    """What a failed public test tells the student: the line of their code that raised, then the message."""
    lines = []
    where = _students_line(error)
    if where is not None:
        function, line_number, source = where
        inside = "" if function == "<module>" else f"（{function} 中）"
        lines.append(f"你的代码第 {line_number} 行出错{inside}：\n    {source.strip()}")
    message = str(error).strip()
    if isinstance(error, AssertionError):
        lines.append(message or "公开测试的断言没有通过")
    else:
        if where is None:   # raised by the test while it looked at what the student's code returned
            lines.append("检查你的代码返回的结果时出错（返回值的类型或形状不对？）：")
        lines.append(f"{type(error).__name__}: {message}" if message else type(error).__name__)
    return "\n".join(lines)


def _case_name(case):
    function = getattr(case.body, "test_func", None)
    return getattr(function, "__name__", case.name)


def _run_quietly(test_file, global_environment):
    """otter's ``ExceptionTestFile.run`` without the test's printing and with ``failure_message``."""
    from otter.test_files.abstract_test import TestCaseResult
    test_file.test_case_results = []
    for case in test_file.test_cases:
        missing = [name for name in case.body._get_func_params() if name != "env" and name not in global_environment]
        if missing:
            message = (f"✘ {_case_name(case)} 未通过\n还没有定义 {'、'.join(missing)}：请先运行定义它的单元格"
                       "（或从头运行全部单元格）")
            test_file.test_case_results.append(TestCaseResult(test_case=case, message=message, passed=False))
            continue
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            try:
                case.body.call_func(global_environment)
                passed, message = True, "✔ 通过"
            except Exception as error:  # the student's code or the test's assertion: both are the verdict
                passed, message = False, f"✘ {_case_name(case)} 未通过\n{failure_message(error)}"
        test_file.test_case_results.append(TestCaseResult(test_case=case, message=message, passed=passed))


def _test_file_html(test_file):
    name = html.escape(test_file.name)
    if test_file.passed_all:
        return f"<p>{PASSED} <strong><code>{name}</code></strong> 通过了公开测试（评分时还有隐藏测试）。</p>"
    failures = "".join(f"<pre>{html.escape(result.message or '')}</pre>"
                       for result in test_file.test_case_results if not result.passed)
    return f"<p>{FAILED} <strong><code>{name}</code></strong> 没有通过公开测试：</p>{failures}"


def _natural(name):
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def summary_rows(results):
    """(question, points, passed, reason) for each question ``grader.check_all()`` ran, in question order;
    ``reason`` is the last line of the first failed test's message ("" when it passed)."""
    rows = []
    for name in sorted(results.results, key=_natural):
        test_file = results.results[name]
        failed = [result.message or "" for result in test_file.test_case_results if not result.passed]
        reason = failed[0].strip().splitlines()[-1] if failed else ""
        rows.append((name, test_file.possible, test_file.passed_all, reason))
    return rows


def _points(value):
    return f"{value:g}"


def _results_html(results):
    rows = summary_rows(results)
    table = "".join(f"<tr><td><code>{html.escape(name)}</code>{' （附加题）' if name in EXTRA_CREDIT else ''}</td>"
                    f"<td>{_points(points)}</td>"
                    f"<td>{PASSED + ' 通过' if passed else FAILED + ' 未通过'}</td>"
                    f"<td style='text-align:left'>{html.escape(reason[:160])}</td></tr>"
                    for name, points, passed, reason in rows)
    passed_points = sum(points for _, points, passed, _ in rows if passed)
    possible = sum(points for name, points, _, _ in rows if name not in EXTRA_CREDIT)
    total = (f"公开测试：通过 {sum(passed for _, _, passed, _ in rows)}/{len(rows)} 题"
             f"（通过的题共 {_points(passed_points)} 分，满分 {_points(possible)} 分"
             + ("，另有附加题" if EXTRA_CREDIT & {row[0] for row in rows} else "") + "）。")
    return (f"<div class='nndl-check-all'><p><strong>{total}</strong></p><table><thead><tr><th>题目</th>"
            f"<th>分值</th><th>公开测试</th><th style='text-align:left'>说明</th></tr></thead><tbody>{table}</tbody>"
            f"</table><p>{HIDDEN_TESTS_REMINDER}没通过的题，运行它下方的 <code>grader.check(\"…\")</code> "
            "看完整的说明。</p></div>")


def readable_checks(extra_credit=()):
    """Make otter's results in this kernel readable (see the module docstring); True if switched on.
    ``extra_credit``: the chapter's extra-credit questions (grading.yml), marked so in ``check_all``'s table
    and left out of its total."""
    EXTRA_CREDIT.update(extra_credit)
    if "otter" not in sys.modules:
        return False
    from importlib.metadata import version
    if not version("otter-grader").startswith(SUPPORTED_OTTER):
        return False
    from otter.test_files import GradingResults
    from otter.test_files.abstract_test import TestFile
    from otter.test_files.exception_test import ExceptionTestFile
    ExceptionTestFile.run = _run_quietly
    TestFile._repr_html_ = _test_file_html
    GradingResults._repr_html_ = _results_html
    return True
