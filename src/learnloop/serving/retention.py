"""Keeping the prediction log bounded: rows older than an age, beyond a row count, or beyond a byte size are deleted.

Deleting runs in the log's background thread, in transactions of at most ``CHUNK`` rows, so a request's commit
never waits behind more than one chunk. SQLite reuses the freed pages, so once the log is at its bound the file
stops growing. Feedback labels whose prediction is gone are deleted with it. A byte bound counts the pages the
database uses (not the free ones it keeps for reuse); past it, the oldest rows go until the log is back under 90% of
it, and the server checks it every half second, so a flood of large requests cannot outrun it by much.
"""

from __future__ import annotations

import math
import sqlite3
import time
from dataclasses import dataclass

from learnloop.errors import LearnloopError

CHUNK = 2000
BYTES_TARGET = 0.9               # a log past its byte bound is pruned down to this fraction of it
PRUNE_INTERVAL = 60.0            # seconds between prunes while the server runs (one also runs at start)


@dataclass(frozen=True)
class Retention:
    """How much of the prediction log to keep: rows newer than ``max_age_days``, the ``max_rows`` newest, and no
    more than ``max_bytes`` of database pages."""

    max_age_days: float | None = None
    max_rows: int | None = None
    max_bytes: int | None = None

    def __post_init__(self):
        age, rows = self.max_age_days, self.max_rows
        if age is not None and not (isinstance(age, (int, float)) and math.isfinite(age) and age > 0):
            raise LearnloopError(f"Retention max_age_days must be a positive number of days; got {age!r}.")
        if rows is not None and (isinstance(rows, bool) or not isinstance(rows, int) or rows <= 0):
            raise LearnloopError(f"Retention max_rows must be a positive integer; got {rows!r}.")
        size = self.max_bytes
        if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 2**20):
            raise LearnloopError(f"Retention max_bytes must be an integer of at least 1 MiB; got {size!r}.")

    @property
    def bounded(self) -> bool:
        return self.max_age_days is not None or self.max_rows is not None or self.max_bytes is not None


def used_bytes(conn: sqlite3.Connection) -> int:
    """Bytes of the database's pages in use (its free pages left out)."""
    pages = conn.execute("PRAGMA page_count").fetchone()[0] - conn.execute("PRAGMA freelist_count").fetchone()[0]
    return pages * conn.execute("PRAGMA page_size").fetchone()[0]


def over_bytes(conn: sqlite3.Connection, retention: Retention) -> bool:
    return retention.max_bytes is not None and used_bytes(conn) > retention.max_bytes


def prune(conn: sqlite3.Connection, retention: Retention, now: float | None = None) -> int:
    """Delete the predictions ``retention`` does not keep (and their feedback); returns how many were deleted."""
    deleted = 0
    if retention.max_age_days is not None:
        cutoff = (time.time() if now is None else now) - retention.max_age_days * 86400.0
        oldest = conn.execute("SELECT ts FROM predictions ORDER BY id LIMIT 1").fetchone()
        if oldest is not None and oldest[0] < cutoff:          # rows arrive in time order: else nothing is old
            deleted += _delete_in_chunks(conn, "ts < ?", (cutoff,))
    if retention.max_rows is not None:
        last_dropped = conn.execute("SELECT id FROM predictions ORDER BY id DESC LIMIT 1 OFFSET ?",
                                    (retention.max_rows,)).fetchone()
        if last_dropped is not None:
            deleted += _delete_in_chunks(conn, "id <= ?", (last_dropped[0],))
    if retention.max_bytes is not None:
        target = retention.max_bytes * BYTES_TARGET
        while (used := used_bytes(conn)) > target:
            low, high = conn.execute("SELECT MIN(id), MAX(id) FROM predictions").fetchone()
            if low is None:
                break
            per_row = used / (high - low + 1)               # the oldest go, about as many as hold the excess
            step = min(CHUNK, max(1, math.ceil((used - target) / per_row)))
            deleted += conn.execute(f"DELETE FROM predictions WHERE id IN (SELECT id FROM predictions ORDER BY id "
                                    f"LIMIT {step})").rowcount
    if deleted:
        while conn.execute(
                "DELETE FROM feedback WHERE rowid IN (SELECT f.rowid FROM feedback f WHERE NOT EXISTS "
                f"(SELECT 1 FROM predictions p WHERE p.request_id = f.request_id) LIMIT {CHUNK})").rowcount == CHUNK:
            pass
    return deleted


def _delete_in_chunks(conn: sqlite3.Connection, condition: str, params: tuple) -> int:
    total = 0
    while True:
        count = conn.execute(f"DELETE FROM predictions WHERE id IN (SELECT id FROM predictions WHERE {condition} "
                             f"ORDER BY id LIMIT {CHUNK})", params).rowcount
        total += count
        if count < CHUNK:
            return total
