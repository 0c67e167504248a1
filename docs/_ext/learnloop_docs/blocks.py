"""The fenced code blocks of a Markdown page, and which of them run (no Sphinx here: the tests read pages too).

A block runs when its language is Python or a shell, unless the line just before its fence marks it::

    <!-- not run: REASON -->

Other languages are data or output (``text``, ``json``, ``toml``...) and are shown as they are; MyST directives
(```` ```{note} ````) are not code. ``tests/docs/test_code_blocks.py`` holds every page to this: each block in a code
language runs or is marked, and each mark gives a reason.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass

RUNNABLE = {"python": "python", "py": "python", "bash": "shell", "sh": "shell", "shell": "shell", "console": "shell"}
# Languages whose blocks are data, configuration or output, never run.
DATA = {"text", "txt", "json", "toml", "yaml", "yml", "ini", "cfg", "csv", "tsv", "html", "xml", "output", "http",
        "markdown", "md", "rst", "diff"}
FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>[^\n`]*)\n(?P<code>.*?)"
                   r"^[ \t]*(?P=fence)[ \t]*$", re.M | re.S)
NOT_RUN = re.compile(r"<!--\s*not run:\s*(?P<reason>.*?)\s*-->\s*$")
ANY_MARK = re.compile(r"<!--\s*not[ -]run\b.*?-->", re.S)


@dataclass
class Fence:
    start: int          # offset of the fence in the page
    end: int            # offset just after the closing fence
    line: int           # 1-based line of the opening fence
    info: str
    code: str
    not_run: str | None     # the reason, when marked

    @property
    def lang(self) -> str:
        return self.info.strip().split()[0].lower() if self.info.strip() else ""

    @property
    def directive(self) -> bool:
        """A MyST directive (```{note}```), not a code block."""
        return self.lang.startswith("{")


def fences(text: str) -> list[Fence]:
    """The page's fenced blocks (also indented ones, in lists), with the ``not run`` mark of the line before."""
    found = []
    for m in FENCE.finditer(text):
        before = text[:m.start()].removesuffix("\n").rsplit("\n", 1)[-1]
        mark = NOT_RUN.search(before)
        found.append(Fence(m.start(), m.end(), text.count("\n", 0, m.start()) + 1, m["info"],
                           textwrap.dedent(m["code"]), mark["reason"] if mark else None))
    return found


def runnable(fence: Fence) -> bool:
    return fence.lang in RUNNABLE and fence.not_run is None


def unaccounted(text: str) -> list[str]:
    """What breaks the rule on a page: a block in a code language neither run nor marked with a reason, a block with
    no language, a mark without a reason, a mark not right above a block. Empty when the page keeps the rule."""
    problems = []
    blocks = fences(text)
    for fence in blocks:
        if fence.directive:
            continue
        if not fence.lang:
            problems.append(f"line {fence.line}: a block with no language (write ```text for output, or the "
                            "language of the code)")
        elif fence.lang not in RUNNABLE and fence.lang not in DATA and fence.not_run is None:
            problems.append(f"line {fence.line}: a ```{fence.lang} block cannot run here; mark it "
                            "<!-- not run: REASON -->")
    marked_lines = {text.count("\n", 0, f.start) for f in blocks if f.not_run is not None}
    for m in ANY_MARK.finditer(text):
        line = text.count("\n", 0, m.start()) + 1
        reason = NOT_RUN.fullmatch(m[0])
        if reason is None or not reason["reason"].strip():
            problems.append(f"line {line}: {m[0]!r} gives no reason (write <!-- not run: REASON -->)")
        elif line not in marked_lines:
            problems.append(f"line {line}: {m[0]!r} is not on the line right above a fenced block")
    return problems
