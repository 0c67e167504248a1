"""The gate every HTTP request passes first: host, method, key, content type, body, admission and metrics.

One pure ASGI layer (no per-request task, no body copy). In order:

1. Host: with an allow-list (``learnloop serve`` on a loopback address allows only loopback names, so a web page
   cannot reach it through DNS rebinding), any other ``Host`` is a 400.
2. Method: ``:predict``, ``:feedback`` and ``:reload`` take POST only (405, naming it in ``Allow``).
3. Key: with API keys configured (:mod:`learnloop.serving.auth`), no valid key is a 401, a predict key on an admin
   endpoint a 403.
4. Content type: a POST with a body must say ``application/json`` (a charset may follow); anything else, or none,
   is a 415, so the POSTs a browser sends cross-site without asking (forms, ``text/plain``) never reach an endpoint.
5. Body: read to its end here, within ``body_timeout`` seconds (else 408) and ``max_body_bytes`` (else 413, from
   Content-Length before reading), while the body bytes held by all requests together stay within
   ``max_bytes_in_flight`` (else 503).
6. Admission: only a request whose body has arrived takes one of ``max_concurrency`` slots (else 503 at once), so
   clients that send slowly hold none; the slot is held until the answer is sent.

Then ``POST /v1/models/{name}:predict`` goes straight to the predict handler, and everything else to FastAPI with
the body replayed. Requests under ``/v1/`` are counted in the metrics by model, endpoint and status.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Container

import orjson

from learnloop.serving.auth import ADMIN, PREDICT, APIKeys
from learnloop.serving.errors import APIError, quoted
from learnloop.serving.metrics import ServingMetrics

PREFIX = "/v1/models/"
PUBLIC = frozenset({"/healthz", "/readyz", "/docs", "/openapi.json"})
POST_ONLY = frozenset({"predict", "feedback", "reload"})
ADMIN_ENDPOINTS = frozenset({"feedback", "reload", "monitor"})
OPEN = "open"                         # the role of every caller when no key is configured
_JSON_TYPE = b"application/json"


def endpoint_of(path: str) -> tuple[str, str]:
    """(model name, endpoint) of a ``/v1/models/...`` path, e.g. ('digits', 'predict')."""
    rest = path[len(PREFIX):]
    if rest.endswith("/monitor"):
        return rest[:-8], "monitor"
    name, sep, verb = rest.rpartition(":")
    if sep and verb in ("predict", "feedback", "reload"):
        return name, verb
    return rest, "metadata"


def host_name(value: bytes) -> str:
    """The name of a Host header, without its port (``[::1]:8000`` -> ``::1``), lower-cased."""
    text = value.decode("latin-1").strip().lower()
    if text.startswith("["):
        return text[1:text.find("]")] if "]" in text else text
    return text.rsplit(":", 1)[0] if text.count(":") == 1 else text


class LimitsMiddleware:
    """See the module docstring. Model names in ``known_models`` are metric labels (others count as 'unknown').

    Args:
        allowed_hosts: names the Host header may give (``"*"``: any); None allows any.
        keys: the API keys; None (or none configured) leaves every endpoint open.
    """

    def __init__(self, app, *, metrics: ServingMetrics, max_body_bytes: int, max_concurrency: int,
                 known_models: Container[str], predict=None, keys: APIKeys | None = None,
                 allowed_hosts=None, body_timeout: float = 10.0, max_bytes_in_flight: int = 64 * 2**20):
        self.app = app
        self.predict = predict
        self.metrics = metrics
        self.max_body_bytes = int(max_body_bytes)
        self.max_concurrency = int(max_concurrency)
        self.known_models = known_models
        self.keys = keys if keys is not None and keys.enabled else None
        hosts = None if allowed_hosts is None else {h.strip().strip("[]").lower() for h in allowed_hosts}
        self.allowed_hosts = None if hosts is None or "*" in hosts else frozenset(hosts)
        self.body_timeout = float(body_timeout)
        self.max_bytes_in_flight = int(max_bytes_in_flight)
        self.in_flight = 0
        self.bytes_in_flight = 0
        # bodies being read: task -> deadline; one sweeper task cancels the late ones (cheaper than a timer each)
        self._reading: dict[asyncio.Task, float] = {}
        self._expired: set[asyncio.Task] = set()
        self._sweeper: asyncio.Task | None = None

    async def _sweep(self) -> None:
        """Every quarter of the body timeout (at most a second), cancel the reads past their deadline; ends once
        no body is being read."""
        while self._reading:
            await asyncio.sleep(min(1.0, self.body_timeout / 4))
            now = time.monotonic()
            for task, deadline in list(self._reading.items()):
                if deadline <= now:
                    del self._reading[task]
                    self._expired.add(task)
                    task.cancel()

    # -- the checks that need no body ------------------------------------------------------------------------
    def _refusal(self, scope, endpoint: str, path: str) -> tuple[APIError | None, str]:
        """(the error that answers this request before its body is read, or None; the caller's role)."""
        headers = scope["headers"]
        if self.allowed_hosts is not None:
            host = next((v for k, v in headers if k == b"host"), b"")
            name = host_name(host)
            if name not in self.allowed_hosts:
                return APIError(400, f"This server does not answer for the host {quoted(name)}; it answers for "
                                     f"{sorted(self.allowed_hosts)} (--allowed-hosts).", field="host",
                                expected=f"one of {sorted(self.allowed_hosts)}"), ""
        method = scope["method"]
        if endpoint in POST_ONLY and method != "POST":
            return APIError(405, f"{path.rsplit(':', 1)[-1]} takes POST; got {quoted(method, 10)}.", field="method",
                            expected="POST", headers={"allow": "POST"}), ""
        if self.keys is None:
            return None, OPEN
        role = self.keys.role(headers)
        if path in PUBLIC:
            return None, role or ""
        needed = ADMIN if endpoint in ADMIN_ENDPOINTS or path == "/metrics" else PREDICT
        if role is None:
            return APIError(401, "This endpoint needs an API key: send 'Authorization: Bearer KEY' (or 'X-API-Key: "
                                 "KEY'); none was sent, or it is not a key of this server.", field="authorization",
                            expected="Bearer <API key>", headers={"www-authenticate": "Bearer"}), ""
        if needed == ADMIN and role != ADMIN:
            return APIError(403, "This endpoint needs the admin key (--admin-key-file); the key sent is a predict "
                                 "key.", field="authorization", expected="Bearer <admin key>"), role
        return None, role

    # -- one request -----------------------------------------------------------------------------------------
    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        start = time.perf_counter()
        path = scope["path"]
        counted = path.startswith("/v1/")
        name, endpoint = endpoint_of(path) if path.startswith(PREFIX) else ("", "other")
        model = name if name in self.known_models else "unknown"
        status = 500

        async def send_status(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        held = 0
        try:
            error, role = self._refusal(scope, endpoint, path)
            scope["learnloop.role"] = role
            if error is None:
                error, body = await self._body(scope, receive)
                if body is None and error is None:
                    return                                      # the client went away
                held = len(body or b"")
            if error is not None:
                await send_error(send_status, error)
                return
            if counted and self.in_flight >= self.max_concurrency:
                self.metrics.rejected.inc()
                await send_error(send_status, APIError(
                    503, f"The server is answering {self.in_flight} requests, its limit (--max-concurrency "
                         f"{self.max_concurrency}); retry shortly.", headers={"retry-after": "1"}))
                return
            self.in_flight += counted
            self.metrics.in_flight.inc(counted)
            try:
                if endpoint == "predict" and self.predict is not None:
                    await self.predict.answer(name, body, send_status)
                else:
                    await self.app(scope, _replay(body, receive), send_status)
            finally:
                self.in_flight -= counted
                self.metrics.in_flight.dec(counted)
        finally:
            self.bytes_in_flight -= held
            if counted:
                self.metrics.observe(model, endpoint, status, time.perf_counter() - start)

    async def _body(self, scope, receive) -> tuple[APIError | None, bytes | None]:
        """(error, body): the whole body within the time and byte limits; (None, None) if the client left."""
        limit = self.max_body_bytes
        declared = chunked = content_type = None
        for key, value in scope["headers"]:
            if key == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1
            elif key == b"content-type":
                content_type = value
            elif key == b"transfer-encoding":
                chunked = b"chunked" in value.lower()
        if declared is not None and declared > limit:
            return _too_large(limit, f"Content-Length is {declared} bytes"), b""
        has_body = bool(declared) or chunked
        if scope["method"] == "POST" and has_body and (
                content_type is None or content_type.split(b";", 1)[0].strip().lower() != _JSON_TYPE):
            what = "none" if content_type is None else quoted(content_type.decode("latin-1"), 60)
            return APIError(415, f"The request body must be JSON sent as 'Content-Type: application/json'; the "
                                 f"content type was {what}.", field="content-type", expected="application/json",
                            headers={"connection": "close"}), b""
        task = asyncio.current_task()
        self._reading[task] = time.monotonic() + self.body_timeout
        if self._sweeper is None or self._sweeper.done():
            self._sweeper = asyncio.get_running_loop().create_task(self._sweep())
        chunks: list[bytes] = []
        received = 0
        try:
            while True:
                message = await receive()
                if message["type"] != "http.request":
                    self.bytes_in_flight -= received
                    return None, None
                chunk = message.get("body", b"")
                if chunk:
                    received += len(chunk)
                    self.bytes_in_flight += len(chunk)
                    chunks.append(chunk)
                    if received > limit:
                        self.bytes_in_flight -= received
                        return _too_large(limit, f"the body reached {received} bytes"), b""
                    if self.bytes_in_flight > self.max_bytes_in_flight:
                        self.bytes_in_flight -= received
                        self.metrics.rejected.inc()
                        return APIError(503, f"The server holds {self.max_bytes_in_flight:,} bytes of request bodies, "
                                             f"its limit (--max-bytes-in-flight); retry shortly.",
                                        headers={"retry-after": "1", "connection": "close"}), b""
                if not message.get("more_body", False):
                    break
        except asyncio.CancelledError:
            if task not in self._expired:
                raise
            self._expired.discard(task)
            if hasattr(task, "uncancel"):
                task.uncancel()
            self.bytes_in_flight -= received
            return APIError(408, f"The request body did not arrive within {self.body_timeout:g} s (--body-timeout); "
                                 f"{received} bytes came.", field="body", headers={"connection": "close"}), b""
        finally:
            self._reading.pop(task, None)
        return None, chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _replay(body: bytes, receive):
    """An ASGI receive that gives ``body`` once, then what the client sends next (its disconnect)."""
    pending = [{"type": "http.request", "body": body, "more_body": False}]

    async def replay():
        return pending.pop() if pending else await receive()

    return replay


def _too_large(limit: int, what: str) -> APIError:
    return APIError(413, f"The request body is too large: {what}; the limit is {limit} bytes (--max-body-bytes).",
                    field="body", expected=f"at most {limit} bytes", headers={"connection": "close"})


async def send_error(send, error: APIError) -> None:
    body = orjson.dumps(error.body())
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    headers += [(k.encode(), v.encode()) for k, v in error.headers.items()]
    await send({"type": "http.response.start", "status": error.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
