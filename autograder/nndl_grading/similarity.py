"""Class similarity report: which submissions share their answers, side by side (issue 16).

From every notebook only the code the student wrote is kept, per question: the answer cells (stubbed
bodies) and any cell the student added or changed, each assigned to the question whose
``grader.check`` follows it (``other`` after the last one). The chapter's untouched student notebook is
the template: its fingerprints are boilerplate. ``copydetect`` (winnowed k-gram fingerprints, as MOSS)
tokenises with Pygments and normalises names, strings, whitespace and comments.

Per question, the overlap of a pair is the share of the smaller answer's fingerprints found in the other
answer (every pair at once, as a sparse product); copydetect's ``compare_files`` finds the regions the
HTML marks. Overall = the mean of the questions' overlaps weighted by the shorter answer's length, over the
questions where both answers have at least ``min_tokens`` normalised characters beyond the template: a
one-line answer any two students write alike (``1 / (1 + exp(-x))``) shows in its column but does not
make a pair. ``grading.yml``'s ``defaults.similarity`` sets ``threshold`` and ``min_tokens``.

    python -m nndl_grading.similarity CH SUBMISSIONS --out OUT   (make similarity CH=3 SUBMISSIONS=dir)

writes ``OUT/chNN/similarity.csv`` (pairs ranked by overall) and ``OUT/chNN/similarity.html``.
"""

import argparse
import csv
import io
import json
import random
import re
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from copydetect import CodeFingerprint, compare_files, defaults
from copydetect.utils import highlight_overlap
from markupsafe import escape
from tqdm import tqdm

from .config import ConfigError, _get, load_course

K = defaults.NOISE_THRESHOLD                               # k-gram length (normalised characters)
WINDOW = defaults.GUARANTEE_THRESHOLD - K + 1              # winnowing window (copydetect's default)
OTHER = "other"                                            # student cells after the last question
ANSWER_TAGS = {"otter_answer_cell", "otter_assign_solution_cell"}
CHECK = re.compile(r"""^\s*grader\.check\(\s*["'](\w+)["']\s*\)\s*$""")
DETAILED_PAIRS = 30                                        # pairs shown side by side in the HTML


@dataclass
class Settings:
    threshold: float = 0.5    # overall overlap from which a pair is flagged
    min_tokens: int = 80      # normalised characters beyond the template for a question to count


@dataclass
class Submission:
    sid: str
    answers: dict = field(default_factory=dict)   # question -> student-written code
    note: str = ""                                # e.g. "not UTF-8"


@dataclass
class Pair:
    a: Submission
    b: Submission
    overlaps: dict     # question -> overlap in [0, 1]
    counted: set       # questions long enough to count in the overall
    overall: float


@dataclass
class Result:
    chapter: str
    questions: list
    settings: Settings
    submissions: list
    problems: list       # (submission, reason) of notebooks not compared
    fingerprints: dict   # (submission, question) -> CodeFingerprint
    overlap: dict        # question -> n×n overlaps of the submissions' answers
    counted: dict        # question -> n×n: both answers long enough to count in the overall
    overall: np.ndarray  # n×n
    order: tuple         # (rows, columns) of every pair sharing code, best first

    def __len__(self):
        return len(self.order[0])

    def pair(self, rank):
        """The pair at ``rank`` (0: most similar)."""
        i, j = self.order[0][rank], self.order[1][rank]
        return Pair(self.submissions[i], self.submissions[j], {q: float(self.overlap[q][i, j]) for q in self.questions},
                    {q for q in self.questions if self.counted[q][i, j]}, float(self.overall[i, j]))

    @property
    def pairs(self):
        return [self.pair(rank) for rank in range(len(self))]

    @property
    def flagged(self):
        return int(np.sum(self.overall[self.order] >= self.settings.threshold))


def settings_from(course):
    """``defaults.similarity`` of grading.yml (both keys optional)."""
    import yaml
    raw = yaml.safe_load(Path(course.path).read_text(encoding="utf-8"))
    block = _get(raw["defaults"], "similarity", "defaults", course.path, dict, default={}, required=False)
    base = Settings()
    threshold = float(_get(block, "threshold", "defaults.similarity", course.path, float, base.threshold, False))
    min_tokens = _get(block, "min_tokens", "defaults.similarity", course.path, int, base.min_tokens, False)
    if not 0 < threshold <= 1 or min_tokens < 0:
        raise ConfigError(f"{course.path}: 'defaults.similarity' needs 0 < threshold <= 1 and min_tokens >= 0")
    return Settings(threshold, min_tokens)


def _source(cell):
    source = cell.get("source") or ""
    text = "".join(map(str, source)) if isinstance(source, list) else str(source)
    return text.encode("utf-8", "replace").decode("utf-8")   # lone surrogates from JSON escapes


def _tags(cell):
    metadata = cell.get("metadata")
    tags = metadata.get("tags") if isinstance(metadata, dict) else None
    return {t for t in tags if isinstance(t, str)} if isinstance(tags, list) else set()


def _head(text):
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def read_notebook(path):
    """(code cells, note) of a notebook; raises ValueError naming why it cannot be read."""
    data = Path(path).read_bytes()
    note = ""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text, note = data.decode("utf-8", "replace"), "not UTF-8: undecodable bytes replaced"
    try:
        notebook = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"not a notebook (JSON: {error.msg} at line {error.lineno})") from None
    cells = notebook.get("cells") if isinstance(notebook, dict) else None
    if not isinstance(cells, list):
        raise ValueError("not a notebook (no list of cells)")
    code = [c for c in cells if isinstance(c, dict) and c.get("cell_type") == "code"]
    return code, note


class Template:
    """The chapter's untouched student notebook: given code, answer cells by first line, boilerplate."""

    def __init__(self, path, questions):
        cells, _ = read_notebook(path)
        self.questions = list(questions)
        self.given = {_source(c).strip() for c in cells}
        self.heads = {}
        for cell, question in zip(cells, self._next_checks(cells)):
            if ANSWER_TAGS & _tags(cell):
                self.heads[_head(_source(cell))] = question
        code = "\n\n".join(_source(c) for c in cells)
        self.boilerplate = np.array(sorted(CodeFingerprint("template.py", K, WINDOW, fp=io.StringIO(code),
                                                           language="python").hashes), dtype=np.int64)

    def _next_checks(self, cells):
        """For each cell, the question of the next ``grader.check`` cell (``other`` after the last)."""
        current, out = OTHER, []
        for cell in reversed(cells):
            match = CHECK.match(_source(cell))
            if match:
                current = match.group(1) if match.group(1) in self.questions else OTHER
            out.append(current)
        return out[::-1]

    def extract(self, cells):
        """question -> the student's code of that question (answer cells, added or changed cells)."""
        answers = {}
        for cell, question in zip(cells, self._next_checks(cells)):
            text = _source(cell)
            if CHECK.match(text):
                continue
            head = _head(text)
            if head in self.heads and (_tags(cell) & ANSWER_TAGS or text.strip() not in self.given):
                question = self.heads[head]
            elif text.strip() in self.given or not text.strip():
                continue
            answers.setdefault(question, []).append(text)
        return {q: "\n\n".join(texts) for q, texts in answers.items()}


def _overlap_matrix(prints):
    """Shared-fingerprint counts between every two answers of one question (a sparse product)."""
    from scipy.sparse import csr_matrix
    vocabulary, rows, cols = {}, [], []
    for row, fingerprint in enumerate(prints):
        for value in fingerprint.hashes:
            cols.append(vocabulary.setdefault(value, len(vocabulary)))
            rows.append(row)
    matrix = csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(len(prints), len(vocabulary)))
    return (matrix @ matrix.T).toarray()


def compare_class(template_path, notebooks, questions, settings=Settings(), chapter="", progress=True):
    """Compare every two of ``notebooks`` [(id, path)]; returns a ``Result`` (pairs best first)."""
    template = Template(template_path, questions)
    columns = [*questions, OTHER]
    submissions, problems = [], []
    for sid, path in tqdm(notebooks, desc="reading notebooks", unit="nb", disable=None if progress else True,
                          file=sys.stderr):
        try:
            cells, note = read_notebook(path)
            submissions.append(Submission(sid, template.extract(cells), note))
        except (OSError, ValueError) as error:
            problems.append((sid, str(error)))
    fingerprints, cache = {}, {}
    for submission in tqdm(submissions, desc="fingerprinting", unit="nb", disable=None if progress else True,
                           file=sys.stderr):
        for question, code in submission.answers.items():
            if code not in cache:
                cache[code] = CodeFingerprint(f"{submission.sid}:{question}.py", K, WINDOW, fp=io.StringIO(code),
                                              boilerplate=template.boilerplate, language="python")
            fingerprints[submission.sid, question] = cache[code]
    empty = CodeFingerprint("empty.py", K, WINDOW, fp=io.StringIO(""), language="python")
    n = len(submissions)
    overlap, weight = {}, {}
    for question in columns:
        prints = [fingerprints.get((s.sid, question), empty) for s in submissions]
        shared = _overlap_matrix(prints) if n else np.zeros((0, 0))
        sizes = np.array([len(p.hashes) for p in prints], dtype=np.float64)
        smaller = np.minimum.outer(sizes, sizes)
        overlap[question] = np.divide(shared, smaller, out=np.zeros_like(shared, dtype=np.float64), where=smaller > 0)
        lengths = np.array([p.token_coverage for p in prints], dtype=np.float64)
        shorter = np.minimum.outer(lengths, lengths)
        weight[question] = np.where(shorter >= max(settings.min_tokens, 1), shorter, 0.0)
    score, total = sum(overlap[q] * weight[q] for q in columns), sum(weight.values())
    overall = np.divide(score, total, out=np.zeros((n, n)), where=total > 0)
    pairs = np.nonzero(np.triu(sum(overlap.values()), k=1))
    ranked = np.lexsort((pairs[1], pairs[0], -sum(o[pairs] for o in overlap.values()), -overall[pairs]))
    return Result(chapter, columns, settings, submissions, problems, fingerprints, overlap,
                  {q: w > 0 for q, w in weight.items()}, overall, (pairs[0][ranked], pairs[1][ranked]))


def write_csv(result, path):
    """Every pair sharing code, best first: per-question overlaps, overall, flagged (0/1)."""
    (rows, cols), ids = result.order, [s.sid for s in result.submissions]
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["submission_a", "submission_b", *result.questions, "overall", "flagged"])
        columns = [np.char.mod("%.3f", result.overlap[q][rows, cols]) for q in result.questions]
        overall = result.overall[rows, cols]
        writer.writerows(zip([ids[i] for i in rows], [ids[j] for j in cols], *columns,
                             np.char.mod("%.3f", overall), (overall >= result.settings.threshold).astype(int)))


def _side_by_side(result, pair, question):
    """Both answers with copydetect's matching regions in <mark>, HTML-escaped."""
    first, second = result.fingerprints[pair.a.sid, question], result.fingerprints[pair.b.sid, question]
    _, _, (slices_a, slices_b) = compare_files(first, second)
    marked = []
    for fingerprint, slices in ((first, slices_a), (second, slices_b)):
        if slices.ndim == 2 and slices.shape[1]:
            marked.append(highlight_overlap(fingerprint.raw_code, slices, "<mark>", "</mark>", escape_html=True)[0])
        else:
            marked.append(str(escape(fingerprint.raw_code)))
    return marked


PAGE = """<!DOCTYPE html>
<html lang="zh"><head><meta charset="utf-8"><title>{{ chapter }} similarity</title><style>
body { font-family: system-ui, sans-serif; margin: 1.5em; color: #222; }
table { border-collapse: collapse; margin: .5em 0 1.5em; font-size: 14px; }
td, th { border: 1px solid #ccc; padding: 3px 8px; text-align: right; } th { font-size: 12px; max-width: 6.5em; }
td.id { text-align: left; } tr.flag td { background: #fde2e2; } td.short { color: #999; }
.pair { border-top: 2px solid #888; margin-top: 1.5em; } .cols { display: flex; gap: 1em; }
.cols > div { flex: 1; min-width: 0; } pre { background: #f6f6f6; padding: .5em; overflow-x: auto;
font-size: 12px; white-space: pre-wrap; } mark { background: #ffd54f; }
</style></head><body>
<h1>{{ chapter }}: answer similarity</h1>
<p>{{ n }} submissions compared ({{ problems|length }} not readable), {{ total }} pairs share code beyond
the template, <b>{{ flagged }}</b> at or above the threshold {{ "%.2f"|format(threshold) }}. Overlap: share of the
smaller answer's winnowed fingerprints (copydetect, k={{ k }}) found in the other; overall weights the questions
by the shorter answer's length; grey: shorter than {{ min_tokens }} normalised characters, not counted.</p>
{% if problems %}<h2>Not compared</h2><ul>{% for sid, why in problems %}<li>{{ sid }}: {{ why }}</li>{% endfor %}</ul>{% endif %}
<h2>Pairs, ranked</h2>
<table><tr><th>#</th><th>submission A</th><th>submission B</th>{% for q in questions %}<th>{{ q|replace("_", " ") }}</th>{% endfor %}<th>overall</th></tr>
{% for p in pairs[:rows] %}<tr class="{{ 'flag' if p.overall >= threshold }}"><td>{% if loop.index <= detailed %}<a href="#p{{ loop.index }}">{{ loop.index }}</a>{% else %}{{ loop.index }}{% endif %}</td>
<td class="id">{{ p.a.sid }}</td><td class="id">{{ p.b.sid }}</td>
{% for q in questions %}<td class="{{ '' if q in p.counted else 'short' }}">{{ "%.2f"|format(p.overlaps[q]) }}</td>{% endfor %}
<td><b>{{ "%.2f"|format(p.overall) }}</b></td></tr>{% endfor %}</table>
{% if total > rows %}<p>… {{ total - rows }} more pairs in similarity.csv.</p>{% endif %}
{% for p, parts in details %}<div class="pair" id="p{{ loop.index }}"><h2>#{{ loop.index }}: {{ p.a.sid }} ↔ {{ p.b.sid }}
(overall {{ "%.2f"|format(p.overall) }})</h2>
{% for q, left, right in parts %}<h3>{{ q }}: overlap {{ "%.2f"|format(p.overlaps[q]) }}{{ "" if q in p.counted else " (short, not counted)" }}</h3>
<div class="cols"><div><b>{{ p.a.sid }}</b><pre>{{ left|safe }}</pre></div><div><b>{{ p.b.sid }}</b><pre>{{ right|safe }}</pre></div></div>
{% endfor %}</div>{% endfor %}
</body></html>
"""


def write_html(result, path, rows=300):
    from jinja2 import Environment
    details = []
    top = [result.pair(rank) for rank in range(min(len(result), max(rows, DETAILED_PAIRS)))]
    for pair in top[:DETAILED_PAIRS]:
        parts = [(q, *_side_by_side(result, pair, q)) for q in result.questions if pair.overlaps[q] > 0]
        details.append((pair, parts))
    page = Environment(autoescape=True).from_string(PAGE).render(
        chapter=result.chapter, n=len(result.submissions), problems=result.problems, pairs=top, total=len(result),
        flagged=result.flagged, threshold=result.settings.threshold, min_tokens=result.settings.min_tokens,
        k=K, questions=result.questions, rows=rows, detailed=DETAILED_PAIRS, details=details)
    Path(path).write_text(page, encoding="utf-8")


def run(chapter, submissions, out, settings, progress=True):
    """Compare a chapter's submissions and write ``out/chNN/similarity.{csv,html}``; returns the Result."""
    from .grade import ASSIGNMENTS_ROOT, find_submissions
    template = ASSIGNMENTS_ROOT / chapter.key / f"{chapter.key}.ipynb"
    result = compare_class(template, find_submissions(submissions), [q.name for q in chapter.questions],
                           settings, chapter.key, progress)
    folder = Path(out) / chapter.key
    folder.mkdir(parents=True, exist_ok=True)
    write_csv(result, folder / "similarity.csv")
    write_html(result, folder / "similarity.html")
    return result


def _mutated(text, rng, suffix):
    """A student's variant of a reference answer: renamed locals, some lines gone, a comment added."""
    names = set(re.findall(r"^\s+([a-z_]\w*)\s*=", text, flags=re.M))
    for name in names:
        text = re.sub(rf"\b{name}\b", f"{name}_{suffix}", text)
    lines = [line for line in text.splitlines()
             if not line.strip() or re.match(r"\s*(def|class|return)\b", line) or rng.random() > 0.3]
    return "\n".join(lines) + f"\n# {suffix}\n"


def synthetic_class(reference_path, out_dir, n=500, copiers=0.05, seed=0):
    """``n`` notebooks from a chapter's reference: each answer cell a random variant of the reference's
    (``_mutated``), and a share ``copiers`` copying an earlier student's notebook with renamed locals."""
    rng = random.Random(seed)
    reference = json.loads(Path(reference_path).read_text(encoding="utf-8"))
    answers = [i for i, c in enumerate(reference["cells"]) if ANSWER_TAGS & _tags(c)]
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for index in range(n):
        if written and rng.random() < copiers:
            source = json.loads(rng.choice(written).read_text(encoding="utf-8"))
            for i in answers:
                source["cells"][i]["source"] = _source(source["cells"][i]).replace("_s", "_copy_s")
        else:
            source = json.loads(json.dumps(reference))
            for i in answers:
                source["cells"][i]["source"] = _mutated(_source(reference["cells"][i]), rng, f"s{index}")
        path = out_dir / f"student{index:04d}.ipynb"
        path.write_text(json.dumps(source, ensure_ascii=False), encoding="utf-8")
        written.append(path)
    return out_dir


def bench(n=500, chapter="ch04"):
    """Seconds to compare a synthetic class of ``n`` submissions of ``chapter`` and write its report
    (needs ``build/chNN/reference.ipynb``: ``make build CH=4``). Pygments' tokenising takes most of it."""
    from .grade import BUILD_ROOT
    course = load_course()
    chapter = course.chapter(chapter)
    with tempfile.TemporaryDirectory() as folder:
        synthetic_class(BUILD_ROOT / chapter.key / "reference.ipynb", Path(folder) / "class", n=n)
        start = time.perf_counter()
        result = run(chapter, Path(folder) / "class", Path(folder) / "out", settings_from(course), progress=False)
        seconds = time.perf_counter() - start
    print(f"similarity: {n} submissions of {chapter.key}, {len(result)} pairs sharing code, "
          f"{result.flagged} flagged: {seconds:.1f} s")
    return seconds


def main(argv=None):
    parser = argparse.ArgumentParser(prog="nndl_grading.similarity", description=__doc__.split("\n")[0])
    parser.add_argument("chapter", nargs="?", help="chapter number or key (3, ch03)")
    parser.add_argument("submissions", nargs="?", help="folder of notebooks (or one notebook)")
    parser.add_argument("--out", default="grades")
    parser.add_argument("--config", default=None, help="course configuration (default: grading.yml)")
    parser.add_argument("--bench", type=int, metavar="N", help="time a synthetic ch04 class of N submissions")
    args = parser.parse_args(argv)
    if args.bench:
        bench(args.bench)
        return 0
    if not (args.chapter and args.submissions):
        parser.error("CH and SUBMISSIONS are required")
    try:
        course = load_course(args.config) if args.config else load_course()
        chapter = course.chapter(args.chapter)
        start = time.perf_counter()
        result = run(chapter, args.submissions, args.out, settings_from(course))
    except (ConfigError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for sid, why in result.problems:
        print(f"not compared: {sid}: {why}")
    for submission in result.submissions:
        if submission.note:
            print(f"note: {submission.sid}: {submission.note}")
    for pair in [result.pair(rank) for rank in range(min(result.flagged, 20))]:
        print(f"flagged {pair.overall:.2f}: {pair.a.sid} <-> {pair.b.sid}")
    folder = Path(args.out) / chapter.key
    print(f"{chapter.key}: {len(result.submissions)} submissions, {len(result)} pairs share code, "
          f"{result.flagged} at or above {result.settings.threshold:.2f} "
          f"({time.perf_counter() - start:.1f} s)\nreport: {folder / 'similarity.html'}\ncsv: {folder / 'similarity.csv'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
