"""Reading the prediction log: export, summary statistics, recent rows for drift, and live accuracy.

Readers open their own connection; WAL mode lets them read while the server writes. A row whose inputs or outputs
are not JSON (a log written by an older server, or edited by hand) is skipped and counted (``counts["skipped"]``),
never a reason to fail: the server restarts, and ``learnloop logs`` exports and summarizes, whatever the log holds.
"""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import TextIO

import numpy as np

from learnloop.serving.predlog import connect

COLUMNS = ("request_id", "time", "model", "model_version", "latency_ms", "n_instances", "inputs", "outputs")


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=timezone.utc).isoformat(timespec="microseconds")


def _loads(text):
    """JSON text of a logged cell, or None when it is not JSON."""
    try:
        return json.loads(text)
    except (ValueError, TypeError, RecursionError):
        return None


def _skip(counts: dict | None) -> None:
    if counts is not None:
        counts["skipped"] = counts.get("skipped", 0) + 1


def iter_rows(conn: sqlite3.Connection, model: str | None = None, counts: dict | None = None) -> Iterator[dict]:
    """Every logged prediction in commit order as a dict of :data:`COLUMNS` (inputs/outputs decoded); rows that
    cannot be decoded are skipped and counted in ``counts["skipped"]``."""
    sql = ("SELECT request_id, ts, model, model_version, latency_ms, n_instances, inputs, outputs "
           "FROM predictions" + (" WHERE model = ?" if model else "") + " ORDER BY id")
    for rid, ts, name, version, latency, n, inputs, outputs in conn.execute(sql, (model,) if model else ()):
        inputs, outputs = _loads(inputs), _loads(outputs)
        if inputs is None or outputs is None or not isinstance(ts, (int, float)):
            _skip(counts)
            continue
        yield {"request_id": rid, "time": _iso(ts), "model": name, "model_version": version,
               "latency_ms": latency, "n_instances": n, "inputs": inputs, "outputs": outputs}


def export(db: str | Path, out: TextIO, fmt: str = "jsonl", model: str | None = None,
           counts: dict | None = None) -> int:
    """Write the log at ``db`` to ``out`` as ``jsonl`` (one object a line) or ``csv`` (inputs/outputs as JSON
    text in their cells); returns the number of rows written (rows skipped: ``counts["skipped"]``)."""
    conn = connect(db, readonly=True)
    try:
        n = 0
        if fmt == "jsonl":
            for row in iter_rows(conn, model, counts):
                out.write(json.dumps(row, separators=(",", ":")) + "\n")
                n += 1
        elif fmt == "csv":
            writer = csv.writer(out)
            writer.writerow(COLUMNS)
            for row in iter_rows(conn, model, counts):
                cells = dict(row, inputs=json.dumps(row["inputs"], separators=(",", ":")),
                             outputs=json.dumps(row["outputs"], separators=(",", ":")))
                writer.writerow([cells[c] for c in COLUMNS])
                n += 1
        else:
            raise ValueError(f"format must be 'csv' or 'jsonl'; got {fmt!r}.")
        return n
    finally:
        conn.close()


def stats(db: str | Path) -> dict:
    """Summary of the log: row and instance counts, time span, latency percentiles, counts per model version and
    per predicted label, and feedback accuracy."""
    conn = connect(db, readonly=True)
    try:
        n, instances, first, last = conn.execute(
            "SELECT COUNT(*), COALESCE(SUM(n_instances), 0), MIN(ts), MAX(ts) FROM predictions").fetchone()
        latencies = np.array([r[0] for r in conn.execute("SELECT latency_ms FROM predictions")], dtype=np.float64)
        versions = [{"model": m, "model_version": v, "requests": c} for m, v, c in conn.execute(
            "SELECT model, model_version, COUNT(*) FROM predictions GROUP BY model, model_version ORDER BY MIN(id)")]
        labels = {str(lab): c for lab, c in conn.execute(
            "SELECT json_extract(CASE WHEN p.type = 'object' THEN p.value END, '$.label') AS lab, COUNT(*) "
            "FROM predictions, json_each(CASE WHEN json_valid(outputs) THEN outputs ELSE '[]' END) AS p "
            "WHERE lab IS NOT NULL GROUP BY lab ORDER BY lab")}
        unreadable = conn.execute("SELECT COUNT(*) FROM predictions WHERE NOT json_valid(inputs) OR "
                                  "NOT json_valid(outputs)").fetchone()[0]
        acc = feedback_accuracy(conn)
    finally:
        conn.close()
    pct = (lambda q: round(float(np.percentile(latencies, q)), 3)) if latencies.size else (lambda q: None)
    return {"requests": n, "instances": instances, "first": _iso(first) if first else None,
            "last": _iso(last) if last else None,
            "latency_ms": {"p50": pct(50), "p95": pct(95), "p99": pct(99), "max": pct(100)},
            "versions": versions, "predicted_labels": labels, "feedback": acc, "unreadable_rows": unreadable}


def feedback_accuracy(conn: sqlite3.Connection, model: str | None = None, last: int | None = None) -> dict:
    """Accuracy of logged predicted labels against feedback labels (the most recent ``last`` feedback rows)."""
    sql = ("SELECT json_extract(CASE WHEN json_valid(p.outputs) THEN p.outputs END, '$[' || f.instance || '].label'), "
           "f.label FROM feedback f JOIN predictions p ON p.request_id = f.request_id" +
           (" WHERE p.model = ?" if model else "") +
           " ORDER BY f.ts DESC" + (f" LIMIT {int(last)}" if last else ""))
    pairs = conn.execute(sql, (model,) if model else ()).fetchall()
    correct = sum(1 for predicted, true in pairs if predicted is not None and _same_label(predicted, true))
    return {"labelled": len(pairs), "correct": correct,
            "accuracy": round(correct / len(pairs), 6) if pairs else None}


def _same_label(predicted, feedback_text: str) -> bool:
    """A logged predicted label (decoded by SQLite) against a feedback label (JSON text, as the server wrote it;
    compared as values, so non-ASCII text matches however it was escaped)."""
    try:
        return predicted == json.loads(feedback_text)
    except ValueError:
        return False


def _first_output(output: dict):
    """The predicted label of one logged prediction, or the first of its output values."""
    if "label" in output:
        return output["label"]
    value = output.get("value")
    while isinstance(value, list) and value:
        value = value[0]
    return value


def predicted_outputs(conn: sqlite3.Connection, request_id: str) -> tuple[str, list] | None:
    """(model, outputs) of one logged request, or None when the id is not in the log."""
    row = conn.execute("SELECT model, outputs FROM predictions WHERE request_id = ?", (request_id,)).fetchone()
    outputs = None if row is None else _loads(row[1])
    return None if not isinstance(outputs, list) else (row[0], outputs)


def recent_instances(conn: sqlite3.Connection, model: str, limit: int,
                     counts: dict | None = None) -> tuple[list, list]:
    """The last ``limit`` logged instances of ``model``, oldest first, as logged: (inputs, outputs), one item per
    instance: its input (a list of numbers, nested lists, or a row object) and its output (the predicted label, of
    any JSON type, or the first output value of a regressor)."""
    inputs: list = []
    outputs: list = []
    need = limit
    for logged_inputs, logged_outputs in conn.execute(
            "SELECT inputs, outputs FROM predictions WHERE model = ? ORDER BY id DESC", (model,)):
        xs, out = _loads(logged_inputs), _loads(logged_outputs)
        if not isinstance(xs, list) or not isinstance(out, list) or len(xs) != len(out) or \
                not all(isinstance(o, dict) for o in out):
            _skip(counts)
            continue
        ys = [_first_output(o) for o in out]
        inputs.append(xs)
        outputs.append(ys)
        need -= len(xs)
        if need <= 0:
            break
    flat_inputs = [x for xs in inputs[::-1] for x in xs]
    flat_outputs = [y for ys in outputs[::-1] for y in ys]
    return flat_inputs[-limit:], flat_outputs[-limit:]


def text_summary(s: dict) -> str:
    """The :func:`stats` dict as a few readable lines."""
    buf = io.StringIO()
    buf.write(f"requests      {s['requests']} ({s['instances']} instances)\n")
    buf.write(f"from          {s['first']}\nto            {s['last']}\n")
    lat = s["latency_ms"]
    buf.write(f"latency ms    p50 {lat['p50']}  p95 {lat['p95']}  p99 {lat['p99']}  max {lat['max']}\n")
    for v in s["versions"]:
        buf.write(f"version       {v['model']} {v['model_version']}: {v['requests']} requests\n")
    if s["predicted_labels"]:
        buf.write("labels        " + "  ".join(f"{k}:{c}" for k, c in s["predicted_labels"].items()) + "\n")
    fb = s["feedback"]
    buf.write(f"feedback      {fb['labelled']} labelled, accuracy {fb['accuracy']}\n")
    if s.get("unreadable_rows"):
        buf.write(f"unreadable    {s['unreadable_rows']} rows (inputs or outputs not JSON), left out above\n")
    return buf.getvalue()
