"""Admission control and model updates, driven at the ASGI level so requests can be held mid-flight."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time

import orjson
from serving_helpers import train_digits_model

from learnloop.serving.app import create_app
from learnloop.serving.registry import file_version

PREDICT = "/v1/models/digits:predict"
BODY = orjson.dumps({"instances": [[0.5] * 64]})


def _scope(method: str, path: str, body: bytes) -> dict:
    return {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
            "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
            "headers": [(b"host", b"test"), (b"content-type", b"application/json"),
                        (b"content-length", str(len(body)).encode())],
            "client": ("127.0.0.1", 5000), "server": ("127.0.0.1", 8000)}


async def call(app, method: str, path: str, body: bytes = b"", gate: asyncio.Event | None = None,
               split: bool = False):
    """(status, JSON body) of one request; the body is delivered only once ``gate`` is set (``split``: its first
    half at once, the rest once ``gate`` is set)."""
    half = len(body) // 2
    messages = [{"type": "http.request", "body": body[half:], "more_body": False},
                {"type": "http.request", "body": body[:half], "more_body": True}] if split else \
        [{"type": "http.request", "body": body, "more_body": False}]
    sent = []

    async def receive():
        if gate is not None and (not split or len(messages) == 1):
            await gate.wait()
        return messages.pop() if messages else {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    await app(_scope(method, path, body), receive, send)
    return sent[0]["status"], orjson.loads(b"".join(m.get("body", b"") for m in sent[1:]))


def test_requests_beyond_the_limit_get_503_at_once(model_file, tmp_path):
    app = create_app({"digits": model_file}, log_db=tmp_path / "log.sqlite", max_concurrency=2, watch_interval=0)
    log = app.state.log
    release = threading.Event()
    commit = log._commit

    def slow_commit(conn, batch):                       # two requests held while their rows are being committed
        release.wait(10)
        return commit(conn, batch)

    log._commit = slow_commit

    async def main():
        held = [asyncio.create_task(call(app, "POST", PREDICT, BODY)) for _ in range(2)]
        await asyncio.sleep(0.1)                         # both are in flight, waiting for the log
        # Answered while the two are still held: a request that queued behind them would never finish here.
        status, body = await asyncio.wait_for(call(app, "POST", PREDICT, BODY), timeout=10)
        release.set()
        done = await asyncio.gather(*held)
        after = await call(app, "POST", PREDICT, BODY)
        return status, body, [s for s, _ in done], after[0]

    status, body, held_statuses, after = asyncio.run(main())
    assert status == 503 and "--max-concurrency 2" in body["detail"]
    assert held_statuses == [200, 200] and after == 200
    log.close()


def test_clients_still_sending_their_body_hold_no_slot_and_time_out(model_file, tmp_path):
    """Slots are taken once a body has arrived: slow senders neither block others nor wait forever (408)."""
    app = create_app({"digits": model_file}, log_db=tmp_path / "log.sqlite", max_concurrency=2, watch_interval=0,
                     body_timeout=0.5)

    async def main():
        never = asyncio.Event()
        slow = [asyncio.create_task(call(app, "POST", PREDICT, BODY, never)) for _ in range(5)]
        await asyncio.sleep(0.05)
        answers = [await asyncio.wait_for(call(app, "POST", PREDICT, BODY), timeout=10) for _ in range(3)]
        timed_out = await asyncio.wait_for(asyncio.gather(*slow), timeout=10)
        return answers, timed_out

    answers, timed_out = asyncio.run(main())
    assert [s for s, _ in answers] == [200, 200, 200]
    assert {s for s, _ in timed_out} == {408} and "--body-timeout" in timed_out[0][1]["detail"]
    assert app.limits.in_flight == 0 and app.limits.bytes_in_flight == 0
    app.state.log.close()


def test_bytes_held_by_request_bodies_are_bounded(model_file, tmp_path):
    app = create_app({"digits": model_file}, log_db=tmp_path / "log.sqlite", watch_interval=0,
                     max_bytes_in_flight=3 * len(BODY))

    async def main():
        gate = asyncio.Event()
        parts = [asyncio.create_task(call(app, "POST", PREDICT, BODY, gate, split=True)) for _ in range(4)]
        await asyncio.sleep(0.1)                        # each holds half its body: the fourth passes the bound
        gate.set()
        return await asyncio.gather(*parts)

    statuses = sorted(s for s, _ in asyncio.run(main()))
    assert statuses == [200, 200, 200, 503]
    assert app.limits.bytes_in_flight == 0
    app.state.log.close()


def test_a_new_model_version_does_not_fail_requests_in_flight(model_file, tmp_path):
    db = tmp_path / "log.sqlite"
    app = create_app({"digits": model_file}, log_db=db, watch_interval=0)
    old = file_version(model_file)
    log = app.state.log
    release = threading.Event()
    commit = log._commit

    def slow_commit(conn, batch):                       # hold the first batch until the model is replaced
        release.wait(10)
        return commit(conn, batch)

    log._commit = slow_commit

    async def main():
        in_flight = [asyncio.create_task(call(app, "POST", PREDICT, BODY)) for _ in range(5)]
        await asyncio.sleep(0.1)                         # predicted with the old model, waiting for the log
        train_digits_model(model_file, epochs=2, seed=7)  # written beside and renamed into place
        status, reloaded = await call(app, "POST", "/v1/models/digits:reload")
        release.set()
        answers = await asyncio.gather(*in_flight)
        after = await call(app, "POST", PREDICT, BODY)
        unchanged = await call(app, "POST", "/v1/models/digits:reload")
        return status, reloaded, answers, after, unchanged

    status, reloaded, answers, after, unchanged = asyncio.run(main())
    new = file_version(model_file)
    assert new != old
    assert status == 200 and reloaded == {"model_version": new, "previous_version": old, "swapped": True}
    assert [(s, b["model_version"]) for s, b in answers] == [(200, old)] * 5
    assert after[0] == 200 and after[1]["model_version"] == new
    assert unchanged[1]["swapped"] is False
    log.close()
    with sqlite3.connect(db) as conn:
        versions = [v for (v,) in conn.execute("SELECT model_version FROM predictions ORDER BY id")]
    assert versions == [old] * 5 + [new]


def test_a_broken_file_keeps_the_old_version_serving(model_file, tmp_path):
    app = create_app({"digits": model_file}, log_db=tmp_path / "log.sqlite", watch_interval=0)
    old = file_version(model_file)
    model_file.write_bytes(b"PK\x03\x04 not really a zip")

    async def main():
        return (await call(app, "POST", "/v1/models/digits:reload"),
                await call(app, "POST", PREDICT, BODY),
                await call(app, "GET", "/v1/models/digits"))

    (status, err), (pstatus, pred), (_, info) = asyncio.run(main())
    assert status == 422 and f"still serving version {old}" in err["detail"]
    assert pstatus == 200 and pred["model_version"] == old and info["version"] == old
    app.state.log.close()


def test_the_file_is_watched_for_new_versions(make_client, model_file):
    client = make_client(watch_interval=0.05)
    old = client.get("/v1/models/digits").json()["version"]
    train_digits_model(model_file, epochs=1, seed=3)
    deadline = time.monotonic() + 10
    while client.get("/v1/models/digits").json()["version"] == old and time.monotonic() < deadline:
        time.sleep(0.05)
    new = client.post(PREDICT, content=BODY).json()["model_version"]
    assert new == file_version(model_file) != old
    assert f'learnloop_model_info{{model="digits",version="{new}"}} 1.0' in client.get("/metrics").text
    assert old not in client.get("/metrics").text
