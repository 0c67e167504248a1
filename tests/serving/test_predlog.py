"""The prediction log: group commit, durability before acknowledgement, failures, readers."""

from __future__ import annotations

import asyncio
import io
import json
import sqlite3

import pytest

from learnloop.errors import LearnloopError
from learnloop.serving import logquery
from learnloop.serving.predlog import PredictionLog, PredictionLogError, connect


def _row(i: int, model: str = "m", label: int = 1) -> tuple:
    return (f"r{i:05d}", 1_700_000_000.0 + i, model, "v1", 0.5, 1, json.dumps([[float(i), 2.0]]),
            json.dumps([{"label": label, "probabilities": [0.25, 0.75]}]))


def _count(path) -> int:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT COUNT(*) FROM predictions").fetchone()[0]


def test_every_awaited_row_is_committed_and_rows_are_grouped(tmp_path):
    db = tmp_path / "log.sqlite"
    batches = []
    log = PredictionLog(db, on_commit=lambda rows, secs: batches.append(rows))
    seen_after_await = []

    async def one(i):
        await log.append(_row(i))
        reader = sqlite3.connect(db)                 # another connection already sees the committed row
        seen_after_await.append(reader.execute("SELECT 1 FROM predictions WHERE request_id = ?",
                                               (f"r{i:05d}",)).fetchone() is not None)
        reader.close()

    async def main():
        await asyncio.gather(*(one(i) for i in range(300)))

    asyncio.run(main())
    log.close()
    assert all(seen_after_await) and len(seen_after_await) == 300
    assert _count(db) == 300 and sum(batches) == 300
    assert max(batches) > 1 and len(batches) < 300      # group commit: several rows per transaction
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_a_failed_commit_fails_the_waiting_requests_and_the_log_recovers(tmp_path):
    log = PredictionLog(tmp_path / "log.sqlite")

    async def main():
        await log.append(_row(1))
        with pytest.raises(PredictionLogError, match="commit of 1 rows failed: UNIQUE constraint"):
            await log.append(_row(1))                  # same request id again
        assert log.last_error is not None
        await log.append(_row(2))                      # later batches still commit
        assert log.last_error is None

    asyncio.run(main())
    log.close()
    assert _count(tmp_path / "log.sqlite") == 2


def test_blocking_write_and_feedback_rows(tmp_path):
    db = tmp_path / "log.sqlite"
    log = PredictionLog(db, synchronous="full")
    log.write(_row(1, label=3))
    log.write(_row(2, label=4))
    log.write(("r00001", 0, "3", 1.0), kind="feedback")
    log.write(("r00002", 0, "5", 1.0), kind="feedback")
    log.close()
    with pytest.raises(PredictionLogError, match="closed"):
        log.write(_row(3))
    conn = connect(db, readonly=True)
    assert logquery.feedback_accuracy(conn) == {"labelled": 2, "correct": 1, "accuracy": 0.5}
    assert logquery.predicted_outputs(conn, "r00002")[0] == "m"
    assert logquery.predicted_outputs(conn, "nope") is None
    x, y = logquery.recent_instances(conn, "m", limit=1)
    assert x == [[2.0, 2.0]] and y == [4]
    conn.close()


def test_export_and_stats(tmp_path):
    db = tmp_path / "log.sqlite"
    log = PredictionLog(db)
    for i in range(5):
        log.write(_row(i, label=i % 2))
    log.close()
    out = io.StringIO()
    assert logquery.export(db, out, "jsonl") == 5
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [r["request_id"] for r in rows] == [f"r{i:05d}" for i in range(5)]
    assert rows[3]["inputs"] == [[3.0, 2.0]] and rows[3]["outputs"][0]["label"] == 1
    out = io.StringIO()
    logquery.export(db, out, "csv")
    lines = out.getvalue().splitlines()
    assert lines[0] == ",".join(logquery.COLUMNS) and len(lines) == 6
    s = logquery.stats(db)
    assert s["requests"] == 5 and s["instances"] == 5
    assert s["predicted_labels"] == {"0": 3, "1": 2}
    assert s["versions"] == [{"model": "m", "model_version": "v1", "requests": 5}]
    assert s["latency_ms"]["p50"] == 0.5
    assert "requests      5" in logquery.text_summary(s)


def test_bad_paths_and_settings_are_refused(tmp_path):
    with pytest.raises(LearnloopError, match="does not exist"):
        connect(tmp_path / "missing.sqlite", readonly=True)
    with pytest.raises(LearnloopError, match="synchronous must be one of"):
        connect(tmp_path / "x.sqlite", "sometimes")
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"this is not a database" * 100)
    with pytest.raises(LearnloopError, match="not a usable SQLite database"):
        PredictionLog(junk)
