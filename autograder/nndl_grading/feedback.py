"""Per-submission feedback in Markdown: score per question, what failed and the book section to re-read.

Only the checks' own messages are shown, never the source of a hidden test or the reference.
"""

from pathlib import Path

from .gradebook import UNSANDBOXED, status_kind

OUTPUT_SHOWN = 3000
STATUS_HINTS = {
    "timeout": "笔记本运行超时：检查是否有死循环，或未标记 `otter_ignore` 的长时间训练单元格。",
    "crashed": "评分进程崩溃：检查是否调用了 `os._exit`、`sys.exit` 或会导致内核崩溃的代码。",
    "memory": "超出内存限制：检查是否创建了过大的张量。",
    "error": "无法读取提交的文件：请提交完整的 .ipynb 笔记本文件。",
}


def feedback_name(submission):
    """A flat, collision-free file name for a submission id ('%' and '/' escaped as %25 and %2F)."""
    return submission.replace("%", "%25").replace("/", "%2F").removesuffix(".ipynb") + ".md"


def render_feedback(chapter, outcome):
    lines = [f"# 第{chapter.number}章 {chapter.title} — 评分反馈 (feedback)", "",
             f"- 提交 (submission): `{outcome.submission}`",
             f"- 得分 (score): **{outcome.total:g} / {outcome.possible:g}**",
             f"- 状态 (status): {outcome.status}", ""]
    kind = status_kind(outcome.status)
    if kind in STATUS_HINTS:
        lines += [f"> {STATUS_HINTS[kind]}", ""]
    if UNSANDBOXED in outcome.status:
        lines += ["> 本次评分未使用沙箱 (graded unsandboxed, SANDBOX=off)。", ""]
    lines += ["| 题目 (question) | 得分 (points) | 满分 (possible) |", "|---|---|---|"]
    for question in chapter.questions:
        extra = " (附加题 extra credit)" if question.extra_credit else ""
        lines.append(f"| {question.name}{extra} | {outcome.scores[question.name]:g} | {question.points:g} |")
    lines.append("")
    for question in chapter.questions:
        failures = [c for c in outcome.cases.get(question.name, []) if not c["passed"]]
        if not failures:
            continue
        lines += [f"## {question.name}", ""]
        if question.hint:
            lines += [f"提示 (hint)：{question.hint}", ""]
        for case in failures:
            label = "隐藏测试 (hidden)" if case["hidden"] else "公开测试 (public)"
            lines.append(f"- {label} `{case['name']}`: {case['message'].strip()}")
        lines.append("")
    if outcome.cell_errors:
        lines += ["## 运行出错的单元格 (cells that raised)", ""]
        lines += [f"- 代码单元格 #{e['cell']}: `{e['error']}`" for e in outcome.cell_errors]
        lines.append("")
    if outcome.log_tail.strip() and kind != "ok":
        tail = outcome.log_tail[-OUTPUT_SHOWN:]
        lines += ["## 程序输出的末尾 (end of output, truncated)", "", "```", tail.replace("```", "'''"), "```", ""]
    lines.append("公开测试只是成绩的一部分；请根据上面的阶段 (stage) 与章节 (§) 提示修改。")
    return "\n".join(lines) + "\n"


def write_feedback(chapter, outcome, folder):
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / feedback_name(outcome.submission)
    path.write_text(render_feedback(chapter, outcome), encoding="utf-8")
    return path
