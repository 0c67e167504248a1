"""A real server with many clients that declare a body and send it one byte a second: normal requests keep at least
90% of their throughput (the slow ones hold no admission slot while they send)."""

from __future__ import annotations

import http.client
import socket
import statistics
import threading
import time

import orjson
import pytest
from test_durability import _free_port, _start

BODY = orjson.dumps({"instances": [[0.25] * 64]})
SLOW_CLIENTS, SLOTS = 40, 16          # more slow clients than slots (the attack: 130 against 128)


def _throughput(port: int, seconds: float) -> float:
    """200s per second of one keep-alive client sending predict requests back to back."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    ok, end = 0, time.monotonic() + seconds
    start = time.monotonic()
    try:
        while time.monotonic() < end:
            conn.request("POST", "/v1/models/digits:predict", body=BODY, headers={"content-type": "application/json"})
            response = conn.getresponse()
            response.read()
            ok += response.status == 200
    finally:
        conn.close()
    return ok / (time.monotonic() - start)


class SlowClients:
    """Connections that declare a 100 kB body and send one byte a second, until closed."""

    def __init__(self, port: int, n: int):
        self.sockets = []
        for _ in range(n):
            s = socket.create_connection(("127.0.0.1", port))
            s.sendall(b"POST /v1/models/digits:predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json"
                      b"\r\nContent-Length: 100000\r\n\r\n{")
            self.sockets.append(s)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._drip, daemon=True)
        self.thread.start()

    def _drip(self):
        while not self.stop.wait(1.0):
            for s in self.sockets:
                try:
                    s.sendall(b" ")
                except OSError:
                    pass

    def close(self):
        self.stop.set()
        self.thread.join(5)
        for s in self.sockets:
            s.close()


def test_slow_senders_leave_normal_throughput_at_90_percent(model_file, tmp_path):
    port = _free_port()
    proc = _start(model_file, tmp_path / "log.sqlite", port, extra=["--max-concurrency", str(SLOTS),
                                                                     "--body-timeout", "60"])
    try:
        _throughput(port, 0.5)                                         # warm-up
        ratios = []
        for _ in range(5):                     # a shared machine: the best of five alternating measurements
            before = _throughput(port, 1.5)
            slow = SlowClients(port, SLOW_CLIENTS)
            try:
                time.sleep(0.3)
                loaded = _throughput(port, 1.5)
            finally:
                slow.close()
            after = _throughput(port, 1.5)
            ratios.append(loaded / statistics.mean([before, after]))
            if ratios[-1] >= 0.9:
                break
        assert max(ratios) >= 0.9, ratios
    finally:
        proc.kill()
        proc.wait()


@pytest.fixture
def model_file(digits_model_file, tmp_path):
    path = tmp_path / "digits.llm"
    path.write_bytes(digits_model_file.read_bytes())
    return path
