"""make similarity (nndl_grading.similarity, issue 16) on a synthetic ch04 class built from the student
notebook: a copy with renamed variables and reordered helpers, independent solutions, untouched and
broken notebooks."""

import csv
import json
import re

import pytest

from nndl_grading.config import load_course
from nndl_grading.grade import ASSIGNMENTS_ROOT
from nndl_grading.similarity import OTHER, Settings, compare_class, settings_from, write_csv, write_html

TEMPLATE = ASSIGNMENTS_ROOT / "ch04" / "ch04.ipynb"
QUESTIONS = [q.name for q in load_course().chapter("ch04").questions]

# Alice's answers (stub name -> body) and her added cell of helpers; Bob copies them with renamed
# variables and the helpers in the other order.
ALICE = {
    "tanh": "doubled = paddle.exp(-2 * z)\nreturn (1 - doubled) / (1 + doubled)",
    "relu": "zeros = paddle.zeros_like(z)\nreturn paddle.maximum(z, zeros)",
    "leaky_relu": "positive = paddle.maximum(z, paddle.zeros_like(z))\n"
                  "negative = paddle.minimum(z, paddle.zeros_like(z))\nreturn positive + negative_slope * negative",
    "Accuracy.update": "labels = paddle.reshape(labels, [-1])\n"
                       "if outputs.shape[1] == 1:\n"
                       "    cut = 0.0 if self.is_logist else 0.5\n"
                       "    predicted = paddle.cast(paddle.reshape(outputs, [-1]) >= cut, 'int64')\n"
                       "else:\n"
                       "    predicted = paddle.argmax(outputs, axis=1)\n"
                       "hits = paddle.cast(predicted == paddle.cast(labels, 'int64'), 'float32')\n"
                       "self.num_correct += float(paddle.sum(hits))\n"
                       "self.num_count += int(labels.shape[0])",
    "Accuracy.accumulate": "if self.num_count == 0:\n    return 0.0\nreturn self.num_correct / self.num_count",
}
HELPERS = [
    "def count_matches(first, second):\n    total = 0\n    for left, right in zip(first, second):\n"
    "        if left == right:\n            total = total + 1\n    return total\n",
    "def batch_summary(values, labels, width=8):\n    rows = []\n    for index in range(len(values)):\n"
    "        rows.append(f'{index:>{width}} {values[index]:.4f} {labels[index]}')\n    return '\\n'.join(rows)\n",
]
RENAMES = {"doubled": "e2", "zeros": "nothing", "positive": "pos_part", "negative": "neg_part",
           "cut": "limit", "predicted": "guess", "hits": "correct_ones",
           "total": "n_same", "left": "a", "right": "b", "rows": "lines", "index": "k", "width": "pad"}
# Two students who solved it on their own, differently.
CAROL = {
    "tanh": "s = 1.0 / (1.0 + paddle.exp(-2.0 * z))\nreturn 2.0 * s - 1.0",
    "relu": "return paddle.where(z > 0, z, paddle.zeros_like(z))",
    "leaky_relu": "return paddle.where(z >= 0, z, z * negative_slope)",
    "Accuracy.update": "y = labels.numpy().reshape(-1)\nout = outputs.numpy()\n"
                       "if out.shape[-1] > 1:\n    guess = out.argmax(-1)\n"
                       "elif self.is_logist:\n    guess = (out[:, 0] >= 0).astype('int64')\n"
                       "else:\n    guess = (out[:, 0] >= 0.5).astype('int64')\n"
                       "self.num_correct = self.num_correct + int((guess == y.astype('int64')).sum())\n"
                       "self.num_count = self.num_count + len(y)",
    "Accuracy.accumulate": "return float(self.num_correct) / self.num_count if self.num_count else 0.0",
}
DAVE = {
    "tanh": "import numpy\nvalue = paddle.tanh(z)\nreturn value",
    "relu": "mask = paddle.cast(z > 0, z.dtype)\nreturn z * mask",
    "leaky_relu": "slope = paddle.where(z > 0, paddle.ones_like(z), paddle.full_like(z, negative_slope))\n"
                  "return slope * z",
    "Accuracy.update": "preds = outputs\nif preds.shape[1] > 1:\n    preds = paddle.argmax(preds, axis=-1, keepdim=True)\n"
                       "else:\n    threshold = 0 if self.is_logist else 0.5\n"
                       "    preds = paddle.cast(preds >= threshold, 'int64')\n"
                       "truth = paddle.cast(paddle.reshape(labels, [-1, 1]), 'int64')\n"
                       "same = (paddle.reshape(preds, [-1, 1]) == truth).astype('int32')\n"
                       "self.num_correct += same.sum().item()\nself.num_count += truth.shape[0]",
    "Accuracy.accumulate": "total = max(self.num_count, 1)\nreturn self.num_correct / total * (self.num_count > 0)",
}


def _rename(code):
    return re.sub(r"\b(\w+)\b", lambda m: RENAMES.get(m.group(1), m.group(1)), code)


def _notebook(answers, added=()):
    """The student notebook with each named stub's TODO banner and raise replaced by ``answers[name]``
    and ``added`` cells appended after the last question."""
    notebook = json.loads(TEMPLATE.read_text(encoding="utf-8"))
    for cell in notebook["cells"]:
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        for name, body in answers.items():
            stub = re.compile(rf"( *)# TODO: 请实现 {re.escape(name)}（.*\n *raise NotImplementedError\(.*\)")
            source = stub.sub(lambda m: "\n".join(m.group(1) + line for line in body.splitlines()), source)
        cell["source"] = source
    notebook["cells"] += [{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
                           "source": code} for code in added]
    return notebook


@pytest.fixture(scope="module")
def klass(tmp_path_factory):
    folder = tmp_path_factory.mktemp("class")
    notebooks = {
        "alice.ipynb": _notebook(ALICE, ["\n\n".join(HELPERS)]),
        "bob.ipynb": _notebook({k: _rename(v) for k, v in ALICE.items()},
                               ["# my helpers <script>alert(1)</script>\n" + "\n\n\n".join(_rename(h) for h in reversed(HELPERS))]),
        "carol.ipynb": _notebook(CAROL, ["print('carol')\n"]),
        "dave.ipynb": _notebook(DAVE),
        "erin.ipynb": _notebook({}),
        "frank.ipynb": _notebook({}),
    }
    for name, notebook in notebooks.items():
        (folder / name).write_text(json.dumps(notebook, ensure_ascii=False), encoding="utf-8")
    (folder / "broken.ipynb").write_text('{"cells": [', encoding="utf-8")
    (folder / "odd.ipynb").write_text(json.dumps({"cells": [None, {"cell_type": "code", "metadata": None, "source": None},
                                                           {"cell_type": "code", "metadata": {"tags": "x"},
                                                            "source": ["print(", 1, ")"]}]}), encoding="utf-8")
    latin = json.dumps(_notebook({}, ["# café: Latin-1 bytes\nprint('bonjour')\n"]), ensure_ascii=False)
    (folder / "latin1.ipynb").write_bytes(latin.encode("utf-8").replace("é".encode(), b"\xe9"))
    paths = sorted((p.name, p) for p in folder.iterdir())
    return compare_class(TEMPLATE, paths, QUESTIONS, settings_from(load_course()), "ch04", progress=False)


def _pair(result, a, b):
    return next((p for p in result.pairs if {p.a.sid, p.b.sid} == {a, b}), None)


def test_copy_with_renamed_variables_and_reordered_helpers_ranks_first(klass):
    top = klass.pairs[0]
    assert {top.a.sid, top.b.sid} == {"alice.ipynb", "bob.ipynb"}
    assert top.overall >= klass.settings.threshold
    assert top.overlaps[OTHER] > 0.6 and top.overlaps["q7_accuracy"] > 0.9


def test_independent_solutions_stay_below_threshold(klass):
    for a, b in [("alice.ipynb", "carol.ipynb"), ("alice.ipynb", "dave.ipynb"), ("carol.ipynb", "dave.ipynb")]:
        pair = _pair(klass, a, b)
        assert pair is None or pair.overall < klass.settings.threshold, (a, b, pair.overlaps)

def test_non_utf8_notebook_is_read(klass):
    latin, = [s for s in klass.submissions if s.sid == "latin1.ipynb"]
    assert latin.note.startswith("not UTF-8") and "caf\ufffd" in latin.answers[OTHER]


def test_untouched_notebooks_share_nothing_beyond_the_template(klass):
    for pair in klass.pairs:
        assert not {pair.a.sid, pair.b.sid} & {"erin.ipynb", "frank.ipynb", "latin1.ipynb", "odd.ipynb"}, (pair.a.sid, pair.b.sid, pair.overlaps)


def test_broken_notebook_reported_not_compared(klass):
    assert [sid for sid, _ in klass.problems] == ["broken.ipynb"]
    assert "odd.ipynb" in [s.sid for s in klass.submissions]   # null metadata and sources, a non-cell: read
    assert "not a notebook" in klass.problems[0][1]


def test_short_answer_weighting(tmp_path):
    """One short identical answer (relu's one line) shows in its column, not in the overall."""
    one_line = {"relu": "return paddle.maximum(z, paddle.zeros_like(z))"}
    for name in ("x.ipynb", "y.ipynb"):
        (tmp_path / name).write_text(json.dumps(_notebook(one_line)), encoding="utf-8")
    paths = sorted((p.name, p) for p in tmp_path.iterdir())
    pair, = compare_class(TEMPLATE, paths, QUESTIONS, Settings(0.5, 80), progress=False).pairs
    assert pair.overlaps["q1_activations"] == 1.0 and pair.overall == 0.0 and not pair.counted
    pair, = compare_class(TEMPLATE, paths, QUESTIONS, Settings(0.5, 1), progress=False).pairs
    assert pair.overall == 1.0


def test_report_files_escape_student_text(klass, tmp_path):
    write_csv(klass, tmp_path / "similarity.csv")
    write_html(klass, tmp_path / "similarity.html")
    rows = list(csv.DictReader(open(tmp_path / "similarity.csv", encoding="utf-8")))
    assert {rows[0]["submission_a"], rows[0]["submission_b"]} == {"alice.ipynb", "bob.ipynb"}
    assert rows[0]["flagged"] == "1" and set(rows[0]) >= set(QUESTIONS)
    page = (tmp_path / "similarity.html").read_text(encoding="utf-8")
    assert "<script>" not in page and "&lt;script&gt;alert(1)" in page
    assert page.count("<mark>") > 5 and "broken.ipynb" in page
