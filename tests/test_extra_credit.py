"""Extra-credit questions (``extra_credit: true`` in grading.yml): their points count in a student's total but
not in the chapter's possible points, in the grades CSV, the resume, the gradebook, the feedback and the
Gradescope description alike."""

import csv
import dataclasses
import json

import pytest
import yaml

from nndl_grading.config import REPO_ROOT, ConfigError, load_course
from nndl_grading.feedback import render_feedback
from nndl_grading.gradebook import build_gradebook
from nndl_grading.grade import ChapterGrades, Outcome


def _course(tmp_path, mutate):
    raw = yaml.safe_load((REPO_ROOT / "grading.yml").read_text(encoding="utf-8"))
    mutate(raw["chapters"]["ch02"]["questions"])
    path = tmp_path / "grading.yml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return load_course(path)


def _last_is_extra(questions):
    questions[-1]["extra_credit"] = True


@pytest.fixture
def chapter(tmp_path):
    return _course(tmp_path, _last_is_extra).chapter(2)


def test_extra_credit_points_leave_the_possible_points(chapter):
    plain = load_course().chapter(2)
    last = plain.questions[-1]
    assert not plain.extra_points and plain.points == sum(q.points for q in plain.questions)
    assert chapter.questions[-1].extra_credit and chapter.extra_points == last.points
    assert chapter.points == plain.points - last.points and chapter.full_marks == plain.points


@pytest.mark.parametrize("mutate,message", [
    (lambda qs: qs[0].update(extra_credit="yes"), "'chapters.ch02.questions[0].extra_credit' must be bool"),
    (lambda qs: [q.update(extra_credit=True) for q in qs], "are all extra_credit"),
])
def test_bad_extra_credit_settings_are_refused(tmp_path, mutate, message):
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        _course(tmp_path, mutate)


def _full_marks(chapter):
    return {q.name: q.points for q in chapter.questions}


def test_a_total_above_possible_is_kept_up_to_the_extra_credit(chapter, tmp_path):
    book = ChapterGrades(chapter, tmp_path)
    book.add(Outcome("alice.ipynb", "ok", _full_marks(chapter), chapter.points, 1.0))
    again = ChapterGrades(chapter, tmp_path)
    assert list(again.rows) == ["alice.ipynb"] and not again.problems
    row = again.rows["alice.ipynb"]
    assert float(row["total"]) == chapter.points + chapter.extra_points and float(row["possible"]) == chapter.points

    with open(book.path, "a", encoding="utf-8") as handle:         # one point more than the extra credit allows
        names = [q.name for q in chapter.questions]
        handle.write(",".join(["mallory.ipynb", *["0"] * (len(names) - 1), f"{chapter.points + chapter.extra_points + 1:g}",
                               f"{chapter.points + chapter.extra_points + 1:g}", f"{chapter.points:g}", "ok"]) + "\n")
    third = ChapterGrades(chapter, tmp_path)
    assert list(third.rows) == ["alice.ipynb"] and len(third.problems) == 1
    assert "above the question's points" in third.problems[0]


def test_without_the_extra_credit_setting_such_a_total_is_refused(chapter, tmp_path):
    ChapterGrades(chapter, tmp_path).add(Outcome("alice.ipynb", "ok", _full_marks(chapter), chapter.points, 1.0))
    plain = dataclasses.replace(chapter, questions=tuple(dataclasses.replace(q, extra_credit=False)
                                                         for q in chapter.questions))
    refused = ChapterGrades(plain, tmp_path)     # a resume without the setting grades alice again
    assert not refused.rows and len(refused.problems) == 1 and "possible" in refused.problems[0]
    _, summary = build_gradebook(tmp_path)      # no course: extra credit unknown, the row is left out
    assert any("total above possible" in line for line in summary)


def test_the_gradebook_counts_extra_credit_in_the_total_only(chapter, tmp_path):
    ChapterGrades(chapter, tmp_path).add(Outcome("alice.ipynb", "ok", _full_marks(chapter), chapter.points, 1.0))
    course = dataclasses.replace(load_course(), chapters={"ch02": chapter})
    path, summary = build_gradebook(tmp_path, course)
    assert not any("left out" in line for line in summary)
    with open(path, newline="", encoding="utf-8") as handle:
        (row,) = list(csv.DictReader(handle))
    assert float(row["ch02"]) == chapter.points + chapter.extra_points and float(row["possible"]) == chapter.points


def test_feedback_and_gradescope_name_the_extra_credit_question(chapter, tmp_path):
    from nndl_grading.gradescope import CHAPTER_FILE, describe_chapter, load_chapter
    outcome = Outcome("alice.ipynb", "ok", _full_marks(chapter), chapter.points, 1.0)
    text = render_feedback(chapter, outcome)
    assert f"| {chapter.questions[-1].name} (附加题 extra credit) |" in text
    assert f"| {chapter.questions[0].name} |" in text
    (tmp_path / CHAPTER_FILE).write_text(json.dumps(describe_chapter(chapter)), encoding="utf-8")
    loaded = load_chapter(tmp_path / CHAPTER_FILE)
    assert loaded.points == chapter.points and loaded.extra_points == chapter.extra_points
