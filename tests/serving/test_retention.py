"""The prediction log's retention: old rows and rows beyond a count go, in chunks, with their feedback."""

from __future__ import annotations

import json
import sqlite3
import time

import pytest

from learnloop.errors import LearnloopError
from learnloop.serving.predlog import INSERT, PredictionLog, connect
from learnloop.serving.retention import Retention, prune

DAY = 86400.0
NOW = 1_800_000_000.0


def _fill(path, timestamps, feedback_every: int = 10) -> None:
    conn = connect(path)
    head, values = INSERT["prediction"]
    rows = [(f"r{i:06d}", ts, "m", "v1", 0.5, 1, json.dumps([[1.0]]), json.dumps([{"label": 1}]))
            for i, ts in enumerate(timestamps)]
    for start in range(0, len(rows), 1000):
        chunk = rows[start:start + 1000]
        conn.execute(head + ",".join([values] * len(chunk)), [v for r in chunk for v in r])
    conn.executemany("INSERT INTO feedback VALUES (?, 0, '1', ?)",
                     [(r[0], r[1]) for r in rows[::feedback_every]])
    conn.close()


def _ids(path) -> tuple[list[str], list[str]]:
    with sqlite3.connect(path) as conn:
        predictions = [r[0] for r in conn.execute("SELECT request_id FROM predictions ORDER BY id")]
        feedback = [r[0] for r in conn.execute("SELECT request_id FROM feedback ORDER BY request_id")]
    return predictions, feedback


def test_rows_older_than_the_age_go_with_their_feedback(tmp_path):
    db = tmp_path / "log.sqlite"
    _fill(db, [NOW - 10 * DAY + i for i in range(4500)] + [NOW - DAY + i for i in range(300)])
    conn = connect(db)
    assert prune(conn, Retention(max_age_days=7), now=NOW) == 4500            # more than one chunk of 2000
    assert prune(conn, Retention(max_age_days=7), now=NOW) == 0
    conn.close()
    predictions, feedback = _ids(db)
    assert predictions == [f"r{i:06d}" for i in range(4500, 4800)]
    assert feedback == [f"r{i:06d}" for i in range(4500, 4800, 10)]


def test_only_the_newest_rows_are_kept_when_a_count_is_set(tmp_path):
    db = tmp_path / "log.sqlite"
    _fill(db, [NOW + i for i in range(5000)])
    conn = connect(db)
    assert prune(conn, Retention(max_rows=1200)) == 3800
    conn.close()
    predictions, feedback = _ids(db)
    assert predictions == [f"r{i:06d}" for i in range(3800, 5000)]
    assert len(feedback) == 120


def test_the_server_log_prunes_in_the_background_and_keeps_logging(tmp_path, monkeypatch):
    monkeypatch.setattr("learnloop.serving.predlog.PRUNE_INTERVAL", 0.05)
    db = tmp_path / "log.sqlite"
    _fill(db, [time.time() - 30 * DAY + i for i in range(50)])
    log = PredictionLog(db, retention=Retention(max_age_days=1))
    deadline = time.monotonic() + 10
    while log.pruned_rows < 50 and time.monotonic() < deadline:
        time.sleep(0.02)
    log.write(("fresh", time.time(), "m", "v1", 0.5, 1, "[[1.0]]", "[]"))
    log.close()
    assert log.pruned_rows == 50
    assert _ids(db) == (["fresh"], [])


def test_an_unbounded_retention_deletes_nothing(tmp_path):
    db = tmp_path / "log.sqlite"
    _fill(db, [NOW - 100 * DAY])
    log = PredictionLog(db, retention=Retention())
    assert log.retention is None and log.prune() == 0
    log.close()
    assert len(_ids(db)[0]) == 1


@pytest.mark.parametrize("kwargs, match", [
    ({"max_age_days": 0}, "positive number of days"),
    ({"max_age_days": float("nan")}, "positive number of days"),
    ({"max_rows": 0}, "positive integer"),
    ({"max_rows": 2.5}, "positive integer"),
])
def test_bad_retention_settings_are_refused(kwargs, match):
    with pytest.raises(LearnloopError, match=match):
        Retention(**kwargs)
