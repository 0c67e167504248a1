"""Small HTML tables for notebooks: what ``_repr_html_`` shows for a model summary or a diagnosis.

Objects render their existing ``as_dict()`` / ``to_dict()``: scalars as rows, lists of scalars on one line, lists of
records as tables, nested mappings as nested tables. Everything is escaped; nothing here needs a browser or a
library.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence

_STYLE = ("<style>.ll-table{border-collapse:collapse;font-family:monospace;font-size:12px;margin:2px 0}"
          ".ll-table th,.ll-table td{border:1px solid #ccc;padding:2px 8px;text-align:left;vertical-align:top}"
          ".ll-table th{background:#f3f3f3}.ll-table caption{text-align:left;font-weight:bold;padding:2px 0}"
          "</style>")
_MAX_ROWS = 50
_MAX_ITEMS = 20


def _scalar(value) -> str:
    if isinstance(value, float):
        return "nan" if math.isnan(value) else f"{value:.6g}"
    if hasattr(value, "item") and getattr(value, "ndim", 1) == 0:
        return _scalar(value.item())
    return html.escape(str(value))


def _is_scalar(value) -> bool:
    return not isinstance(value, (Mapping, list, tuple)) or isinstance(value, str)


def _cell(value) -> str:
    if _is_scalar(value):
        return _scalar(value)
    if isinstance(value, Mapping):
        return _rows(value)
    items = list(value)
    if items and all(isinstance(v, Mapping) for v in items):
        return records(items)
    shown = ", ".join(_cell(v) for v in items[:_MAX_ITEMS])
    return f"[{shown}{', ...' if len(items) > _MAX_ITEMS else ''}]" + (f" ({len(items)} items)"
                                                                       if len(items) > _MAX_ITEMS else "")


def _rows(mapping: Mapping, caption: str | None = None) -> str:
    head = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    body = "".join(f"<tr><th>{html.escape(str(k))}</th><td>{_cell(v)}</td></tr>" for k, v in mapping.items())
    return f'<table class="ll-table">{head}{body}</table>'


def records(rows: Sequence[Mapping], caption: str | None = None) -> str:
    """A list of records (dicts with the same keys) as one table, at most 50 rows shown."""
    rows = list(rows)
    keys = list(dict.fromkeys(k for row in rows for k in row))
    head = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    header = "<tr>" + "".join(f"<th>{html.escape(str(k))}</th>" for k in keys) + "</tr>"
    body = "".join("<tr>" + "".join(f"<td>{_cell(row.get(k, ''))}</td>" for k in keys) + "</tr>"
                   for row in rows[:_MAX_ROWS])
    more = (f'<tr><td colspan="{len(keys)}">... {len(rows) - _MAX_ROWS} more rows</td></tr>'
            if len(rows) > _MAX_ROWS else "")
    return f'<table class="ll-table">{head}{header}{body}{more}</table>'


def table(header: Sequence[str], rows: Sequence[Sequence], caption: str | None = None, footer: str = "") -> str:
    """A plain table: ``header`` names, one row per sequence; ``footer`` is a line of text under it."""
    return _STYLE + records([dict(zip(header, row)) for row in rows], caption) + (
        f"<div>{html.escape(footer)}</div>" if footer else "")


def render(obj, data: Mapping | None = None) -> str:
    """``obj``'s ``as_dict()`` / ``to_dict()`` (or ``data``) as an HTML table captioned with its class and verdict."""
    if data is None:
        data = obj.as_dict() if hasattr(obj, "as_dict") else obj.to_dict()
    caption = type(obj).__name__
    verdict = getattr(obj, "verdict", None)
    if isinstance(verdict, str):
        caption += f": {verdict}"
    return _STYLE + _rows(data, caption)
