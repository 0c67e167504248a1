"""Reading the prediction log: export, summary statistics, recent rows for drift, and live accuracy.

Readers open their own connection; WAL mode lets them read while the server writes.
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


def iter_rows(conn: sqlite3.Connection, model: str | None = None) -> Iterator[dict]:
    """Every logged prediction in commit order as a dict of :data:`COLUMNS` (inputs/outputs decoded)."""
    sql = ("SELECT request_id, ts, model, model_version, latency_ms, n_instances, inputs, outputs "
           "FROM predictions" + (" WHERE model = ?" if model else "") + " ORDER BY id")
    for rid, ts, name, version, latency, n, inputs, outputs in conn.execute(sql, (model,) if model else ()):
        yield {"request_id": rid, "time": _iso(ts), "model": name, "model_version": version,
               "latency_ms": latency, "n_instances": n, "inputs": json.loads(inputs), "outputs": json.loads(outputs)}


def export(db: str | Path, out: TextIO, fmt: str = "jsonl", model: str | None = None) -> int:
    """Write the log at ``db`` to ``out`` as ``jsonl`` (one object a line) or ``csv`` (inputs/outputs as JSON
    text in their cells); returns the number of rows written."""
    conn = connect(db, readonly=True)
    try:
        n = 0
        if fmt == "jsonl":
            for row in iter_rows(conn, model):
                out.write(json.dumps(row, separators=(",", ":")) + "\n")
                n += 1
        elif fmt == "csv":
            writer = csv.writer(out)
            writer.writerow(COLUMNS)
            for row in iter_rows(conn, model):
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
            "SELECT json_extract(p.value, '$.label') AS lab, COUNT(*) FROM predictions, json_each(outputs) AS p "
            "WHERE lab IS NOT NULL GROUP BY lab ORDER BY lab")}
        acc = feedback_accuracy(conn)
    finally:
        conn.close()
    pct = (lambda q: round(float(np.percentile(latencies, q)), 3)) if latencies.size else (lambda q: None)
    return {"requests": n, "instances": instances, "first": _iso(first) if first else None,
            "last": _iso(last) if last else None,
            "latency_ms": {"p50": pct(50), "p95": pct(95), "p99": pct(99), "max": pct(100)},
            "versions": versions, "predicted_labels": labels, "feedback": acc}


def feedback_accuracy(conn: sqlite3.Connection, model: str | None = None, last: int | None = None) -> dict:
    """Accuracy of logged predicted labels against feedback labels (the most recent ``last`` feedback rows)."""
    sql = ("SELECT json_extract(p.outputs, '$[' || f.instance || '].label'), f.label FROM feedback f "
           "JOIN predictions p ON p.request_id = f.request_id" + (" WHERE p.model = ?" if model else "") +
           " ORDER BY f.ts DESC" + (f" LIMIT {int(last)}" if last else ""))
    pairs = conn.execute(sql, (model,) if model else ()).fetchall()
    correct = sum(1 for predicted, true in pairs if predicted is not None and json.dumps(predicted) == true)
    return {"labelled": len(pairs), "correct": correct,
            "accuracy": round(correct / len(pairs), 6) if pairs else None}


def predicted_outputs(conn: sqlite3.Connection, request_id: str) -> tuple[str, list] | None:
    """(model, outputs) of one logged request, or None when the id is not in the log."""
    row = conn.execute("SELECT model, outputs FROM predictions WHERE request_id = ?", (request_id,)).fetchone()
    return None if row is None else (row[0], json.loads(row[1]))


def recent_inputs(conn: sqlite3.Connection, model: str, limit: int) -> tuple[np.ndarray, np.ndarray]:
    """The last ``limit`` logged instances of ``model``, oldest first, flattened: (w, d) inputs and (w,) outputs
    (the predicted label, or the first output value of a regressor). Rows whose shape differs are skipped."""
    xs, ys, need = [], [], limit
    for inputs, outputs in conn.execute(
            "SELECT inputs, outputs FROM predictions WHERE model = ? ORDER BY id DESC", (model,)):
        x = np.asarray(json.loads(inputs), dtype=np.float64)
        out = json.loads(outputs)
        y = np.asarray([o["label"] if "label" in o else np.ravel(o["value"])[0] for o in out], dtype=np.float64)
        xs.append(x.reshape(x.shape[0], -1))
        ys.append(y)
        need -= x.shape[0]
        if need <= 0:
            break
    if not xs:
        return np.zeros((0, 0)), np.zeros(0)
    widths = {a.shape[1] for a in xs}
    width = xs[0].shape[1]
    if len(widths) > 1:
        keep = [i for i, a in enumerate(xs) if a.shape[1] == width]
        xs, ys = [xs[i] for i in keep], [ys[i] for i in keep]
    x, y = np.concatenate(xs[::-1]), np.concatenate(ys[::-1])
    return x[-limit:], y[-limit:]


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
    return buf.getvalue()
