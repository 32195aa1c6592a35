"""Merge every chapter's grades.csv into one course gradebook and summarise the class.

A student is the first folder of a submission's path (``alice/ch02.ipynb`` → ``alice``) or, for a
flat folder, the file name without ``.ipynb``.
"""

import csv
from collections import Counter, defaultdict
from pathlib import Path


def student_of(submission):
    parts = submission.split("/")
    return parts[0] if len(parts) > 1 else parts[0].removesuffix(".ipynb")


def read_chapter(path):
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        return reader.fieldnames, list(reader)


def summarise_chapter(path):
    """Lines saying how many submissions ended in each status and the class mean of each question."""
    header, rows = read_chapter(path)
    if not rows:
        return [f"{path.parent.name}: nothing graded"]
    statuses = Counter(row["status"].split(":")[0] for row in rows)
    lines = [f"{path.parent.name}: {len(rows)} graded — " + ", ".join(f"{n} {s}" for s, n in sorted(statuses.items()))]
    for question in header[1:-3]:
        scores = [float(row[question]) for row in rows]
        lines.append(f"  {question:<24} mean {sum(scores) / len(scores):.2f}")
    return lines


def build_gradebook(out_dir):
    """Write ``OUT/gradebook.csv``; return (path, summary lines)."""
    out_dir = Path(out_dir)
    chapter_files = sorted(out_dir.glob("ch*/grades.csv"))
    if not chapter_files:
        raise FileNotFoundError(f"{out_dir}: no ch*/grades.csv to merge (run `make grade` first)")
    table, possible, summary = defaultdict(dict), {}, []
    for path in chapter_files:
        chapter = path.parent.name
        _, rows = read_chapter(path)
        summary += summarise_chapter(path)
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
