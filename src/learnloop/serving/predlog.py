"""The prediction log: every answered request as one row of a SQLite database in WAL mode, written by group commit.

Durability guarantee: a coroutine awaiting :meth:`PredictionLog.append` resumes only after the transaction that
holds its row has committed, and the server sends its 200 only then. So every acknowledged request is in the log:

- ``synchronous="normal"`` (the server's default): the commit writes the WAL with ``write()`` and fsyncs only at
  checkpoints, so an acknowledged row survives SIGKILL of the server (the OS already holds it) but the last commits
  may be lost if the machine itself crashes or loses power.
- ``synchronous="full"``: SQLite also fsyncs the WAL at each commit, so an acknowledged row survives an OS crash and
  a power loss too. The price is throughput: at most two batches are in the pipeline (one committing, one filling),
  so with C concurrent clients the server answers at most about C / (2 x fsync time) requests per second
  (benchmarks/RESULTS.md has both modes measured side by side).

Throughput comes from group commit, not from weakening that guarantee: rows queue up while a commit is in flight,
and one writer thread inserts everything queued in one statement, commits once, then wakes every waiting request
with one call per event loop. WAL checkpoints (copying committed pages into the database file) run in a second
thread, so no commit waits for one. Requests that were not acknowledged (the server was killed first) may or may
not be in the log; the log never holds a row twice.

Tables::

    predictions(id, request_id UNIQUE, ts, model, model_version, latency_ms, n_instances, inputs, outputs)
    feedback(request_id, instance, label, ts)   -- true labels sent later, primary key (request_id, instance)

``ts`` is seconds since the epoch; ``inputs`` and ``outputs`` are JSON text (the request's instances as the model
read them, and the predictions returned); ``latency_ms`` is the time from reading the request to having its
predictions, before the log write. The log holds what clients sent, so a new log file is created readable and
writable by its owner only (0600; SQLite gives its -wal and -shm files the same mode).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import queue
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

from learnloop.errors import LearnloopError
from learnloop.serving.retention import PRUNE_INTERVAL, Retention, over_bytes, prune

SCHEMA = """
CREATE TABLE IF NOT EXISTS predictions (
    id INTEGER PRIMARY KEY,
    request_id TEXT NOT NULL UNIQUE,
    ts REAL NOT NULL,
    model TEXT NOT NULL,
    model_version TEXT NOT NULL,
    latency_ms REAL NOT NULL,
    n_instances INTEGER NOT NULL,
    inputs TEXT NOT NULL,
    outputs TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS predictions_model_ts ON predictions (model, ts);
CREATE TABLE IF NOT EXISTS feedback (
    request_id TEXT NOT NULL,
    instance INTEGER NOT NULL,
    label TEXT NOT NULL,
    ts REAL NOT NULL,
    PRIMARY KEY (request_id, instance)
);
"""
INSERT = {   # statement head, and one row's placeholders
    "prediction": ("INSERT INTO predictions (request_id, ts, model, model_version, latency_ms, n_instances, inputs, "
                   "outputs) VALUES ", "(?,?,?,?,?,?,?,?)"),
    # feedback is written once: the monitor checks for a label first, and OR IGNORE keeps a batch whole regardless
    "feedback": ("INSERT OR IGNORE INTO feedback (request_id, instance, label, ts) VALUES ", "(?,?,?,?)"),
    "feedback_replace": ("INSERT OR REPLACE INTO feedback (request_id, instance, label, ts) VALUES ", "(?,?,?,?)"),
}
MAX_ROWS_PER_STATEMENT = 32766 // 8          # SQLite's default limit on bound parameters per statement
SYNCHRONOUS = ("full", "normal")
PAGE_SIZE = 16384
CHECKPOINT_INTERVAL = 0.5                   # seconds between background WAL checkpoints
WAL_SIZE_LIMIT = 64 * 2**20                 # the WAL file is truncated to this after a checkpoint resets it
_STOP = object()


class PredictionLogError(LearnloopError):
    """The log could not commit a row; the request it belongs to must not be acknowledged."""


def connect(path: str | Path, synchronous: str = "normal", *, readonly: bool = False) -> sqlite3.Connection:
    """A connection to the log at ``path`` in WAL mode, tables created (``readonly`` opens an existing file)."""
    if synchronous not in SYNCHRONOUS:
        raise LearnloopError(f"synchronous must be one of {list(SYNCHRONOUS)}; got {synchronous!r}.")
    path = Path(path)
    if readonly:
        if not path.is_file():
            raise LearnloopError(f"Prediction log {str(path)!r} does not exist.")
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA busy_timeout = 5000")
        return conn
    new = not path.exists() or path.stat().st_size == 0
    if not path.exists():
        try:
            os.close(os.open(path, os.O_CREAT | os.O_WRONLY | os.O_EXCL, 0o600))
        except FileExistsError:
            pass
        except OSError as exc:
            raise LearnloopError(f"Prediction log {str(path)!r} cannot be created: {exc}") from None
    conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
    try:
        conn.execute("PRAGMA busy_timeout = 5000")
        if new:                                      # rows of 100 instances span pages: fewer, larger pages
            conn.execute(f"PRAGMA page_size = {PAGE_SIZE}")
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if mode.lower() != "wal":
            raise LearnloopError(f"Prediction log {str(path)!r}: could not switch to WAL mode (got {mode!r}).")
        conn.execute(f"PRAGMA synchronous = {synchronous.upper()}")
        conn.executescript(SCHEMA)
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise LearnloopError(f"Prediction log {str(path)!r} is not a usable SQLite database: {exc}") from exc
    return conn


class _Batcher:
    """Group commit for one event loop: rows wait in ``pending`` while a batch is being written, then go together.

    Touched only from its loop's thread (``append``, and ``_done`` scheduled back by the writer), so it needs no
    lock; the writer thread is handed one list per batch, which keeps GIL hand-offs to a few per batch.
    """

    def __init__(self, log: PredictionLog, loop: asyncio.AbstractEventLoop):
        self.log = log
        self.loop = loop
        self.pending: list = []
        self.busy = False            # a batch of this loop is queued or being written
        self.scheduled = False       # a flush is already scheduled for the end of this loop iteration

    def append(self, kind: str, row: tuple) -> asyncio.Future:
        future = self.loop.create_future()
        self.pending.append((kind, row, future))
        if not self.busy and not self.scheduled:
            self.scheduled = True
            self.loop.call_soon(self.flush)          # rows appended in this iteration join the same batch
        return future

    def flush(self) -> None:
        self.scheduled = False
        if self.busy or not self.pending:
            return
        batch, self.pending = self.pending[:self.log.max_batch], self.pending[self.log.max_batch:]
        self.busy = True
        self.log._queue.put((batch, self))

    def done(self, batch: list, error: BaseException | None) -> None:
        for _, _, future in batch:
            if not future.done():                    # a cancelled request (client gone) needs no answer
                if error is None:
                    future.set_result(None)
                else:
                    future.set_exception(error)
        self.busy = False
        self.flush()


class PredictionLog:
    """Group-committed, durable log of predictions (see the module docstring for the guarantee).

    Args:
        path: the SQLite file (created with its tables if missing).
        synchronous: ``"full"`` (survives power loss) or ``"normal"`` (survives process kill only).
        max_batch: most rows in one transaction.
        on_commit: called in the writer thread after each commit with (rows, seconds the commit took).
        retention: what to keep (:class:`~learnloop.serving.retention.Retention`); the rest is deleted in the
            background at start and every minute. ``None`` keeps everything.
    """

    def __init__(self, path: str | Path, *, synchronous: str = "normal", max_batch: int = 2048,
                 on_commit: Callable[[int, float], None] | None = None, retention: Retention | None = None):
        self.path = Path(path)
        self.synchronous = synchronous
        self.max_batch = min(int(max_batch), MAX_ROWS_PER_STATEMENT)
        self.on_commit = on_commit
        self.retention = retention if retention is not None and retention.bounded else None
        self.pruned_rows = 0
        self.committed_rows = 0
        self.commits = 0
        self.last_error: str | None = None
        self._closed = True
        self.open()

    def open(self) -> None:
        """Open the database and start the writer thread (done by the constructor; again after :meth:`close`)."""
        if not self._closed:
            return
        conn = connect(self.path, self.synchronous)
        conn.execute("PRAGMA wal_autocheckpoint = 0")   # checkpoints run in their own thread, off the commit path
        conn.execute(f"PRAGMA journal_size_limit = {WAL_SIZE_LIMIT}")
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._batchers: dict[asyncio.AbstractEventLoop, _Batcher] = {}
        self._closed = False
        self._stop_checkpoints = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(conn, self._queue),
                                        name="learnloop-predlog-writer", daemon=True)
        self._checkpointer = threading.Thread(target=self._checkpoint_loop, args=(self._stop_checkpoints,),
                                              name="learnloop-predlog-checkpoint", daemon=True)
        self._thread.start()
        self._checkpointer.start()

    # -- producers ------------------------------------------------------------------------------------------
    def append(self, row: tuple, kind: str = "prediction") -> asyncio.Future:
        """Queue ``row`` (the columns of ``INSERT[kind]``); the returned future resolves once it is committed.

        Must be called from a running event loop; await the result before acknowledging the request.
        """
        if self._closed:
            raise PredictionLogError(f"Prediction log {str(self.path)!r} is closed.")
        loop = asyncio.get_running_loop()
        batcher = self._batchers.get(loop)
        if batcher is None:
            batcher = self._batchers[loop] = _Batcher(self, loop)
        return batcher.append(kind, row)

    def write(self, row: tuple, kind: str = "prediction", timeout: float = 30.0) -> None:
        """Blocking :meth:`append` for code outside an event loop: returns once the row is committed."""
        if self._closed:
            raise PredictionLogError(f"Prediction log {str(self.path)!r} is closed.")
        future: concurrent.futures.Future = concurrent.futures.Future()
        self._queue.put(([(kind, row, future)], None))
        future.result(timeout)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive() and not self._closed

    def close(self, timeout: float = 30.0) -> None:
        """Commit the batches handed to the writer, stop it and close the database (call once requests are done)."""
        if self._closed:
            return
        self._closed = True
        self._stop_checkpoints.set()
        self._checkpointer.join(timeout)
        self._queue.put(_STOP)
        self._thread.join(timeout)

    # -- the writer thread ----------------------------------------------------------------------------------
    def _run(self, conn: sqlite3.Connection, items: queue.SimpleQueue) -> None:
        while True:
            item = items.get()
            if item is _STOP:
                break
            batch, batcher = item
            error = self._commit(conn, batch)
            if batcher is None:
                for _, _, future in batch:
                    future.set_result(None) if error is None else future.set_exception(error)
            else:
                try:
                    batcher.loop.call_soon_threadsafe(batcher.done, batch, error)
                except RuntimeError:                 # that loop has closed: nobody is waiting any more
                    pass
        try:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")   # leave one compact file behind
        except sqlite3.Error:
            pass
        conn.close()

    def _checkpoint_loop(self, stop: threading.Event) -> None:
        """Copy committed WAL frames into the database file every CHECKPOINT_INTERVAL seconds (PASSIVE: never
        blocks the writer), so commits never pay for a checkpoint and the WAL does not grow without bound; and,
        with a retention, delete what it does not keep every PRUNE_INTERVAL seconds (and as soon as the log is
        past a byte bound: that is checked every interval)."""
        conn = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False)
        next_prune = time.monotonic()
        try:
            conn.execute("PRAGMA busy_timeout = 5000")
            conn.execute(f"PRAGMA synchronous = {self.synchronous.upper()}")
            while True:
                if self.retention is not None and (time.monotonic() >= next_prune or over_bytes(conn, self.retention)):
                    self.prune(conn)
                    next_prune = time.monotonic() + PRUNE_INTERVAL
                if stop.wait(CHECKPOINT_INTERVAL):
                    break
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                except sqlite3.Error:
                    pass                             # retried at the next interval
        finally:
            conn.close()

    def prune(self, conn: sqlite3.Connection | None = None) -> int:
        """Delete what the retention does not keep now (the server does this every minute); returns the count."""
        if self.retention is None:
            return 0
        own = conn is None
        conn = conn or connect(self.path, self.synchronous)
        try:
            deleted = prune(conn, self.retention)
        except sqlite3.Error as exc:                 # retried at the next interval; the log keeps working
            self.last_error = f"Prediction log {str(self.path)!r}: pruning failed: {exc}"
            return 0
        finally:
            if own:
                conn.close()
        self.pruned_rows += deleted
        return deleted

    def _commit(self, conn: sqlite3.Connection, batch: list) -> BaseException | None:
        """Insert ``batch`` with one multi-row statement per kind (one sqlite3 step, so the GIL is handed back
        and forth a few times per batch instead of twice per row), committing once."""
        start = time.perf_counter()
        by_kind: dict[str, list] = {}
        for kind, row, _ in batch:
            by_kind.setdefault(kind, []).append(row)
        try:
            if len(by_kind) > 1:
                conn.execute("BEGIN")
            for kind, rows in by_kind.items():
                head, values = INSERT[kind]
                conn.execute(head + ",".join([values] * len(rows)), [v for r in rows for v in r])
            if len(by_kind) > 1:
                conn.execute("COMMIT")
        except (sqlite3.Error, KeyError) as exc:
            error = PredictionLogError(f"Prediction log {str(self.path)!r}: commit of {len(batch)} rows failed: {exc}")
            self.last_error = str(error)
            if conn.in_transaction:
                try:
                    conn.execute("ROLLBACK")
                except sqlite3.Error:
                    pass
            return error
        self.committed_rows += len(batch)
        self.commits += 1
        self.last_error = None
        if self.on_commit is not None:
            self.on_commit(len(batch), time.perf_counter() - start)
        return None
