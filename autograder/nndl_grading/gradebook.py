"""Read chapters' grades.csv files (never trusting them), merge them into one course gradebook and
summarise the class.

A student is the first folder of a submission's path (``alice/ch02.ipynb`` → ``alice``) or, for a
flat folder, the file name without ``.ipynb``. A ``grades.csv`` may have been edited by hand in a
spreadsheet, or written to by something else: every row is checked (its number of fields, numbers that
are numbers, within the question's points, a total that is their sum, the chapter's possible points, a
known status, one row per submission), and a row that fails is reported with its line number and left
out of the summary, the gradebook and a resumed batch (which grades that submission again).
"""

import csv
import math
import re
from collections import Counter, defaultdict
from pathlib import Path

STATUS_KINDS = ("ok", "timeout", "crashed", "memory", "error")
UNSANDBOXED = "[unsandboxed]"   # appended to the status of every row graded with SANDBOX=off


def student_of(submission):
    parts = submission.split("/")
    return parts[0] if len(parts) > 1 else parts[0].removesuffix(".ipynb")


def status_kind(status):
    """'ok', 'timeout', 'crashed', 'memory' or 'error' (the word before any ':' or mark)."""
    return re.match(r"[a-z]*", status).group(0)


def _number(text, what):
    value = float(text)
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{what} is {text!r}")
    return value


def _row_problem(row, questions, maxima, possible, extra_credit):
    """Why ``row`` (a dict of one CSV row) cannot be a grade row, or None. ``extra_credit``: the points a
    total may have above ``possible`` (the chapter's extra-credit questions)."""
    if not row["submission"]:
        return "no submission"
    try:
        scores = [_number(row[q], q) for q in questions]
        total, row_possible = _number(row["total"], "total"), _number(row["possible"], "possible")
    except ValueError as error:
        return f"not a number: {error}"
    over = [q for q, s in zip(questions, scores) if maxima and s > maxima[q] + 1e-6]
    if over:
        return f"{', '.join(over)} above the question's points"
    if abs(total - sum(scores)) > 0.01:
        return f"total {row['total']} is not the sum of the questions ({sum(scores):g})"
    if possible is not None and abs(row_possible - possible) > 1e-6:
        return f"possible {row['possible']}, the chapter has {possible:g}"
    if total > row_possible + extra_credit + 1e-6:
        return "total above possible" + (f" + extra credit {extra_credit:g}" if extra_credit else "")
    if status_kind(row["status"]) not in STATUS_KINDS:
        return f"unknown status {row['status'][:40]!r}"
    return None


def read_chapter(path, header=None, maxima=None, possible=None, extra_credit=0.0):
    """(header, valid rows, problems) of a chapter's ``grades.csv``.

    ``header``/``maxima``/``possible`` (the expected columns, each question's points, the chapter's
    points) are checked when given; without ``possible`` every row must agree with the first valid one.
    A total may exceed the possible points by ``extra_credit`` (the chapter's extra-credit questions).
    ``problems`` are lines ``grades.csv line N: …``; the rows they name are left out.
    """
    path = Path(path)
    with open(path, newline="", encoding="utf-8-sig", errors="replace") as handle:
        reader = csv.reader(handle)
        found = next(reader, None)
        if found is None:
            return header, [], []
        if header is not None and found != header:
            raise ValueError(f"{path} has columns {found}, expected {header}; "
                             "move it away or grade into another OUT folder")
        header, questions = found, found[1:-3]
        if header[:1] != ["submission"] or header[-3:] != ["total", "possible", "status"]:
            raise ValueError(f"{path} is not a grades.csv (columns {header})")
        rows, problems, lines = {}, [], defaultdict(list)
        for fields in reader:
            where = f"{path.parent.name}/{path.name} line {reader.line_num}"
            if not any(field.strip() for field in fields):
                continue
            if len(fields) != len(header):
                problems.append(f"{where}: {len(fields)} fields, expected {len(header)}")
                continue
            row = dict(zip(header, fields))
            problem = _row_problem(row, questions, maxima, possible, extra_credit)
            if problem:
                problems.append(f"{where}: {problem}")
                continue
            if possible is None:
                possible = float(row["possible"])
            rows.setdefault(row["submission"], row)
            lines[row["submission"]].append(reader.line_num)
    for submission, numbers in lines.items():
        if len(numbers) > 1:
            problems.append(f"{path.parent.name}/{path.name} lines {', '.join(map(str, numbers))}: "
                            f"{len(numbers)} rows for {submission!r} (all left out: graded again on the next run)")
            del rows[submission]
    return header, list(rows.values()), problems


def summarise_chapter(path, rows=None, problems=()):
    """Lines saying how many submissions ended in each status, the class mean of each question and which
    rows of the file were left out."""
    path = Path(path)
    if rows is None:
        header, rows, problems = read_chapter(path)
    else:
        header = list(rows[0]) if rows else None
    notes = [f"  left out: {problem}" for problem in problems]
    if not rows:
        return [f"{path.parent.name}: nothing graded", *notes]
    statuses = Counter(status_kind(row["status"]) for row in rows)
    unsandboxed = sum(UNSANDBOXED in row["status"] for row in rows)
    lines = [f"{path.parent.name}: {len(rows)} graded — " + ", ".join(f"{n} {s}" for s, n in sorted(statuses.items()))
             + (f"; {unsandboxed} graded unsandboxed" if unsandboxed else "")]
    for question in header[1:-3]:
        scores = [float(row[question]) for row in rows]
        lines.append(f"  {question:<24} mean {sum(scores) / len(scores):.2f}")
    return lines + notes


def build_gradebook(out_dir, course=None):
    """Write ``OUT/gradebook.csv``; return (path, summary lines). With ``course`` (grading.yml), a configured
    chapter's rows are checked against its questions' points, and totals may include its extra credit."""
    out_dir = Path(out_dir)
    chapter_files = sorted(out_dir.glob("ch*/grades.csv"))
    if not chapter_files:
        raise FileNotFoundError(f"{out_dir}: no ch*/grades.csv to merge (run `make grade` first)")
    table, possible, summary = defaultdict(dict), {}, []
    for path in chapter_files:
        chapter = path.parent.name
        configured = course.chapters.get(chapter) if course else None
        try:
            _, rows, problems = (read_chapter(path, None, configured.maxima, configured.points, configured.extra_points)
                                 if configured else read_chapter(path))
        except ValueError as error:
            summary.append(f"{chapter}: left out: {error}")
            continue
        summary += summarise_chapter(path, rows, problems)
        for row in rows:
            student = student_of(row["submission"])
            table[student][chapter] = max(float(row["total"]), table[student].get(chapter, 0.0))
            possible[chapter] = float(row["possible"])
    chapters = sorted(possible)
    path = out_dir / "gradebook.csv"
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student", *chapters, "total", "possible"])
        for student in sorted(table):
            scores = [table[student].get(chapter, 0.0) for chapter in chapters]
            writer.writerow([student, *[f"{s:g}" for s in scores], f"{sum(scores):g}", f"{sum(possible.values()):g}"])
    return path, summary
