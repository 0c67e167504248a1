"""A real server killed with SIGKILL under load loses no acknowledged request and leaves an intact log."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time

import httpx
import orjson
import pytest

BODY = orjson.dumps({"instances": [[0.25] * 64]})


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(model_file, db, port: int, synchronous: str = "normal", extra: list[str] = ()) -> subprocess.Popen:
    out = db.with_suffix(".out")
    with open(out, "ab") as f:
        proc = subprocess.Popen(
            [sys.executable, "-m", "learnloop.cli", "serve", str(model_file), "--name", "digits", "--port", str(port),
             "--log-db", str(db), "--watch-interval", "0", "--synchronous", synchronous, *extra],
            stdout=f, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"the server exited with {proc.returncode}: {out.read_text()[-2000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return proc
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    proc.kill()
    pytest.fail("the server did not become ready within 30 s")


async def _load_then_kill(url: str, pid: int, kill_after: int, workers: int = 16, limit: int = 5000) -> list[str]:
    """Send predict requests from ``workers`` connections; SIGKILL the server once ``kill_after`` are acknowledged.
    Returns the request ids of every 200 received."""
    acked: list[str] = []
    killed = asyncio.Event()

    async def worker(client: httpx.AsyncClient):
        while not killed.is_set() and len(acked) < limit:
            try:
                r = await client.post(url, content=BODY, headers={"content-type": "application/json"})
            except httpx.TransportError:
                return                                   # the server is gone
            if r.status_code == 200:
                acked.append(r.json()["request_id"])
                if len(acked) >= kill_after and not killed.is_set():
                    os.kill(pid, signal.SIGKILL)           # mid-load: other workers still have requests in flight
                    killed.set()

    async with httpx.AsyncClient(timeout=5) as client:
        await asyncio.wait_for(asyncio.gather(*(worker(client) for _ in range(workers))), timeout=60)
    return acked


def _kill_under_load(model_file, db, port: int, synchronous: str) -> tuple[list[str], set[str]]:
    """Start a server, load it, SIGKILL it after 200 acknowledged requests; (acknowledged ids, logged ids)."""
    url = f"http://127.0.0.1:{port}/v1/models/digits:predict"
    proc = _start(model_file, db, port, synchronous)
    try:
        acked = asyncio.run(_load_then_kill(url, proc.pid, kill_after=200))
        assert proc.wait(10) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        logged = {rid for (rid,) in conn.execute("SELECT request_id FROM predictions")}
    return acked, logged


def test_sigkill_under_load_loses_no_acknowledged_request(model_file, tmp_path):
    db, port = tmp_path / "predictions.sqlite", _free_port()
    acked, logged = _kill_under_load(model_file, db, port, "full")
    assert len(acked) >= 200
    assert set(acked) <= logged                         # every acknowledged request survived
    assert len(logged) - len(acked) <= 16               # at most the requests in flight at the kill
    # restarted on the log the kill left behind (recovered from its WAL), in the default mode, and killed again
    acked2, logged2 = _kill_under_load(model_file, db, port, "normal")
    assert len(acked2) >= 200
    assert logged <= logged2 and set(acked2) <= logged2
    assert len(logged2) - len(logged) - len(acked2) <= 16
