"""The loop's report as one self-contained HTML page (images embedded), plus its JSON twin.

The page leads with what a practitioner acts on (the verdict, then the coded findings with their evidence and
actions, or the advice when there are no findings), then how the numbers were measured, the plots and the tables.
Everything is escaped; nothing is fetched from the network when the page is opened.
"""

from __future__ import annotations

import base64
import html
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from learnloop.saving import atomic_write


@dataclass
class Table:
    """A titled table: ``header`` (k,) and ``rows`` (n, k) of printable values."""

    title: str
    header: Sequence[str]
    rows: Sequence[Sequence]
    note: str = ""


@dataclass
class Figure:
    """A PNG on disk with a caption."""

    title: str
    path: Path
    caption: str = ""


@dataclass
class Report:
    """What the page shows; ``data`` is also written as report.json."""

    title: str
    data: dict
    figures: list[Figure] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)


_CSS = """
body { font: 15px/1.5 system-ui, sans-serif; margin: 0 auto; max-width: 980px; padding: 24px; color: #1d2430; }
h1 { font-size: 24px; margin: 0 0 4px; } h2 { font-size: 18px; margin: 28px 0 8px; }
.meta { color: #5b6472; margin-bottom: 16px; }
.verdict { border-radius: 10px; padding: 16px 20px; background: #eef4ff; border-left: 6px solid #3563e9; }
.verdict.warn { background: #fff6e6; border-left-color: #e39b17; } .verdict.good { background: #ebf8ef;
  border-left-color: #2f9e55; }
.verdict .label { font-size: 22px; font-weight: 700; }
.numbers { display: flex; gap: 28px; margin-top: 8px; flex-wrap: wrap; }
.numbers div span { display: block; color: #5b6472; font-size: 12px; text-transform: uppercase; }
.numbers div b { font-size: 20px; }
ol.advice li { margin-bottom: 6px; } ol.advice .why { color: #5b6472; }
.numbers div i { display: block; font-style: normal; color: #5b6472; font-size: 12px; }
.finding { border: 1px solid #e3e7ee; border-radius: 8px; padding: 10px 14px; margin: 10px 0; }
.finding.problem { border-left: 5px solid #d64545; } .finding.warning { border-left: 5px solid #e39b17; }
.finding.info { border-left: 5px solid #3563e9; }
.finding .code { font: 12px ui-monospace, monospace; background: #f5f7fa; padding: 2px 6px; border-radius: 4px; }
.finding .title { font-weight: 700; margin-left: 6px; } .finding p { margin: 6px 0; }
.finding ol { margin: 4px 0; } .finding details { color: #5b6472; font-size: 13px; }
.finding pre { white-space: pre-wrap; font-size: 12px; }
figure { margin: 12px 0 20px; } figure img { max-width: 100%; border: 1px solid #e3e7ee; border-radius: 6px; }
figcaption { color: #5b6472; font-size: 13px; }
table { border-collapse: collapse; margin: 6px 0 4px; font-size: 14px; }
th, td { padding: 4px 10px; border-bottom: 1px solid #e3e7ee; text-align: right; }
th:first-child, td:first-child { text-align: left; } th { background: #f5f7fa; }
.note { color: #5b6472; font-size: 13px; } .grid { display: grid; grid-template-columns: 1fr 1fr; gap: 12px; }
"""


def _esc(value) -> str:
    if isinstance(value, float):
        return html.escape(f"{value:.4g}")
    return html.escape(str(value))


def _image(path: Path) -> str:
    data = base64.b64encode(Path(path).read_bytes()).decode()
    return f"data:image/png;base64,{data}"


def _interval(bounds) -> str:
    if not isinstance(bounds, (list, tuple)) or len(bounds) != 2 or None in bounds:
        return ""
    return f"<i>95% [{_esc(float(bounds[0]))}, {_esc(float(bounds[1]))}]</i>"


def _verdict_block(data: dict) -> str:
    verdict = data.get("verdict", "")
    css = "good" if verdict == "good fit" else ("warn" if verdict else "")
    intervals = data.get("intervals") or {}
    numbers = [("baseline", data.get("baseline_error"), "baseline"), ("J_train", data.get("j_train"), "j_train"),
               ("J_cv", data.get("j_cv"), "j_cv"), ("J_test", data.get("j_test"), "j_test")]
    cells = "".join(f"<div><span>{_esc(k)}</span><b>{_esc(v)}</b>{_interval(intervals.get(key))}</div>"
                    for k, v, key in numbers if v is not None)
    measure = html.escape(data.get("measure", "error"))
    source = data.get("baseline_source")
    against = f"against the baseline ({_esc(source)})" if source else "against the baseline"
    return (f'<section class="verdict {css}" id="verdict"><div class="label">{_esc(verdict or "no verdict")}</div>'
            f'<div>{measure} on each split, {against}</div><div class="numbers">{cells}</div></section>')


def _findings_block(data: dict) -> str:
    items = []
    for f in data.get("findings") or []:
        actions = "".join(f"<li><b>{_esc(a.get('action', ''))}</b></li>" for a in f.get("actions", []))
        evidence = html.escape(json.dumps(_plain(f.get("evidence", {})), indent=1, allow_nan=False))
        items.append(f"<div class='finding {_esc(f.get('severity', 'info'))}' id='{_esc(f.get('code', ''))}'>"
                     f"<span class='code'>{_esc(f.get('code', ''))}</span><span class='title'>"
                     f"{_esc(f.get('title', ''))}</span><p>{_esc(f.get('summary', ''))}</p>"
                     + (f"<ol>{actions}</ol>" if actions else "")
                     + f"<details><summary>evidence</summary><pre>{evidence}</pre></details></div>")
    return "<h2>Findings</h2>" + "".join(items) if items else ""


def _methods_block(data: dict) -> str:
    methods = data.get("interval_methods")
    if not methods:
        return ""
    rows = "".join(f"<li><code>{_esc(k)}</code>: {_esc(v)}</li>" for k, v in methods.items())
    note = data.get("methods_note", "")
    return (f"<h2>How the intervals were computed</h2><p class='note'>{_esc(note)}</p><ul class='note'>{rows}"
            f"</ul>")


def _advice_block(data: dict) -> str:
    items = []
    for advice in data.get("advice", []):
        if isinstance(advice, dict):
            items.append(f"<li><b>{_esc(advice.get('action', ''))}</b> "
                         f"<span class='why'>{_esc(advice.get('reason', ''))}</span></li>")
        elif ": " in str(advice):
            action, reason = str(advice).split(": ", 1)
            items.append(f"<li><b>{_esc(action)}</b>: <span class='why'>{_esc(reason)}</span></li>")
        else:
            items.append(f"<li>{_esc(advice)}</li>")
    return "<h2>What to try next</h2><ol class='advice'>" + "".join(items) + "</ol>" if items else ""


def _table_block(table: Table) -> str:
    head = "".join(f"<th>{_esc(h)}</th>" for h in table.header)
    body = "".join("<tr>" + "".join(f"<td>{_esc(c)}</td>" for c in row) + "</tr>" for row in table.rows)
    note = f"<div class='note'>{_esc(table.note)}</div>" if table.note else ""
    return f"<h2>{_esc(table.title)}</h2><table><tr>{head}</tr>{body}</table>{note}"


def render(report: Report) -> str:
    """The report as an HTML string."""
    data = report.data
    sizes = data.get("split_sizes")
    if isinstance(sizes, dict):
        sizes = " / ".join(f"{v} {k}" for k, v in sizes.items())
    meta = " · ".join(_esc(x) for x in (data.get("dataset"), data.get("task"),
                                          f"split {sizes}" if sizes else None,
                                          f"{data['seconds']:.1f} s" if data.get("seconds") else None) if x)
    selected = data.get("selected") or {}
    chosen = ""
    if selected:
        parts = ", ".join(f"{_esc(k)} = {_esc(v)}" for k, v in selected.items())
        chosen = f"<h2>Chosen model</h2><p>{parts}. Saved to <code>{_esc(data.get('model_path', ''))}</code>.</p>"
    figures = "".join(f"<figure><img src='{_image(f.path)}' alt='{_esc(f.title)}'>"
                      f"<figcaption><b>{_esc(f.title)}</b> {_esc(f.caption)}</figcaption></figure>"
                      for f in report.figures)
    notes = "".join(f"<li>{_esc(n)}</li>" for n in data.get("notes", []))
    return (f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{_esc(report.title)}</title>"
            f"<style>{_CSS}</style></head><body><h1>{_esc(report.title)}</h1><div class='meta'>{meta}</div>"
            f"{_verdict_block(data)}{_findings_block(data) or _advice_block(data)}{chosen}{_methods_block(data)}"
            f"{'<h2>Plots</h2>' + figures if figures else ''}"
            f"{''.join(_table_block(t) for t in report.tables)}"
            f"{'<h2>Notes</h2><ul>' + notes + '</ul>' if notes else ''}</body></html>")


def write_report(out_dir: Path, report: Report) -> Path:
    """Write ``report.html`` and ``report.json`` into ``out_dir`` (atomically); returns the HTML path."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with atomic_write(out_dir / "report.json", "w") as f:
        json.dump(_plain(report.data), f, indent=2, allow_nan=False)
    path = out_dir / "report.html"
    with atomic_write(path, "w") as f:
        f.write(render(report))
    return path


def _plain(value):
    """JSON-ready: NumPy values to Python, NaN/inf to None (JSON has no NaN)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "tolist"):
        return _plain(value.tolist())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
