"""Admission control and request metrics, as one pure ASGI middleware (no per-request task or body copy).

For every ``/v1/`` request: refuse with 503 at once when ``max_concurrency`` requests are already being answered;
refuse with 413 a body larger than ``max_body_bytes`` (from Content-Length before reading, or while reading a
chunked body); and record the status and latency in the Prometheus metrics. ``POST /v1/models/{name}:predict``
then goes straight to ``predict`` (a pure ASGI app) instead of through FastAPI's routing.
"""

from __future__ import annotations

import time
from collections.abc import Container

import orjson

from learnloop.serving.errors import APIError
from learnloop.serving.metrics import ServingMetrics

PREFIX = "/v1/models/"


def endpoint_of(path: str) -> tuple[str, str]:
    """(model name, endpoint) of a ``/v1/models/...`` path, e.g. ('digits', 'predict')."""
    rest = path[len(PREFIX):]
    if rest.endswith("/monitor"):
        return rest[:-8], "monitor"
    name, sep, verb = rest.rpartition(":")
    if sep and verb in ("predict", "feedback", "reload"):
        return name, verb
    return rest, "metadata"


class LimitsMiddleware:
    """See the module docstring. Model names in ``known_models`` are metric labels (others count as 'unknown')."""

    def __init__(self, app, *, metrics: ServingMetrics, max_body_bytes: int, max_concurrency: int,
                 known_models: Container[str], predict=None):
        self.app = app
        self.predict = predict
        self.metrics = metrics
        self.max_body_bytes = int(max_body_bytes)
        self.max_concurrency = int(max_concurrency)
        self.known_models = known_models
        self.in_flight = 0

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not scope["path"].startswith("/v1/"):
            return await self.app(scope, receive, send)
        start = time.perf_counter()
        name, endpoint = endpoint_of(scope["path"]) if scope["path"].startswith(PREFIX) else ("", "other")
        model = name if name in self.known_models else "unknown"
        if self.in_flight >= self.max_concurrency:
            self.metrics.rejected.inc()
            await _send_error(send, APIError(503, f"The server is answering {self.in_flight} requests, its limit "
                                                  f"(--max-concurrency {self.max_concurrency}); retry shortly.",
                                             headers={"retry-after": "1"}))
            self.metrics.observe(model, endpoint, 503, time.perf_counter() - start)
            return
        limit = self.max_body_bytes
        for key, value in scope["headers"]:
            if key == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1
                if declared > limit:
                    await _send_error(send, _too_large(limit, f"Content-Length is {declared} bytes"))
                    self.metrics.observe(model, endpoint, 413, time.perf_counter() - start)
                    return
                break
        status = 500
        received = 0

        async def counted_receive():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _too_large(limit, f"the body reached {received} bytes")
            return message

        async def send_status(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        target = self.app
        if endpoint == "predict" and self.predict is not None and scope["method"] == "POST":
            target = self.predict
        self.in_flight += 1
        self.metrics.in_flight.inc()
        try:
            await target(scope, counted_receive, send_status)
        finally:
            self.in_flight -= 1
            self.metrics.in_flight.dec()
            self.metrics.observe(model, endpoint, status, time.perf_counter() - start)


def _too_large(limit: int, what: str) -> APIError:
    return APIError(413, f"The request body is too large: {what}; the limit is {limit} bytes (--max-body-bytes).",
                    field="body", expected=f"at most {limit} bytes")


async def _send_error(send, error: APIError) -> None:
    body = orjson.dumps(error.body())
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    headers += [(k.encode(), v.encode()) for k, v in error.headers.items()]
    await send({"type": "http.response.start", "status": error.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
