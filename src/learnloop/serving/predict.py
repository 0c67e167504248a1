"""The predict endpoint: body -> NumPy -> model -> JSON, logged durably before the answer.

Array models read ``{"instances": [[...], ...]}`` straight into NumPy (:mod:`learnloop.serving.parsing`); models
that start with a FeatureSpace read named raw fields, rows or columns (:mod:`learnloop.serving.rows`), and log the
rows as the model read them.

:class:`PredictHandler` is both the core (:meth:`PredictHandler.respond`, which the documented FastAPI route calls)
and a pure ASGI app (:meth:`PredictHandler.__call__`) that :class:`~learnloop.serving.middleware.LimitsMiddleware`
dispatches ``POST /v1/models/{name}:predict`` to directly, ahead of FastAPI's routing and dependency machinery.
Both give the same answers; the ASGI path costs about a third less CPU per request.

The CPU work of a request (parsing, the model, encoding the answer) runs on the event loop only for bodies up to
``INLINE_BODY_BYTES`` (at most about a millisecond of work); larger ones run in a pool of worker threads, one per
core, so the loop keeps answering meanwhile (NumPy, orjson and simdjson release the GIL or hand it back every few
milliseconds). Request ids are 128 random bits (url-safe base64), so no client can guess another's.
"""

from __future__ import annotations

import asyncio
import base64
import os
import time
from concurrent.futures import Executor

import numpy as np
import orjson

from learnloop.errors import LearnloopError
from learnloop.serving.errors import APIError
from learnloop.serving.monitoring import ModelMonitor
from learnloop.serving.parsing import check_model_range, read_instances
from learnloop.serving.predlog import PredictionLog, PredictionLogError
from learnloop.serving.registry import ModelRegistry, ServedModel

_NUMPY = orjson.OPT_SERIALIZE_NUMPY
SUFFIX = ":predict"


def encode_predictions(served: ServedModel, index_or_values: np.ndarray, probs: np.ndarray | None) -> bytes:
    """The ``predictions`` list as JSON bytes: label + probabilities per instance, or value for a regressor."""
    if probs is None:
        vals = index_or_values
        items = [{"value": v} for v in (vals[:, 0].tolist() if vals.shape[1] == 1 else vals)]
        return orjson.dumps(items, option=_NUMPY)
    # One dumps of the (n, c) array, split into rows (numbers hold no brackets): a third faster than n dicts.
    rows = orjson.dumps(probs, option=_NUMPY)[2:-2].split(b"],[")
    labels = served.label_json
    return b"[" + b",".join([b'{"label":%s,"probabilities":[%s]}' % (labels[i], row)
                             for i, row in zip(index_or_values.tolist(), rows)]) + b"]"


INLINE_BODY_BYTES = 64 * 2**10
_ID_BYTES, _IDS_AT_ONCE = 16, 256


class PredictHandler:
    """Answers predict requests for the models of ``registry``, logging each to ``log`` before answering.

    Args:
        pool: the executor that runs the CPU work of large requests (None: all of it on the event loop).
    """

    def __init__(self, registry: ModelRegistry, log: PredictionLog, monitors: dict[str, ModelMonitor],
                 pool: Executor | None = None):
        self.registry = registry
        self.log = log
        self.monitors = monitors
        self.pool = pool
        self._ids: list[str] = []

    def new_id(self) -> str:
        """A request id: 16 random bytes as url-safe base64 (drawn 256 at a time: one getrandom call)."""
        if not self._ids:
            raw = os.urandom(_ID_BYTES * _IDS_AT_ONCE)
            self._ids = [base64.urlsafe_b64encode(raw[i:i + _ID_BYTES]).rstrip(b"=").decode()
                         for i in range(0, len(raw), _ID_BYTES)]
        return self._ids.pop()

    @staticmethod
    def compute(served: ServedModel, body: bytes):
        """The CPU work of one request: (n, logged inputs, predictions JSON, outputs, classifier?, what was read)."""
        if served.schema is None:                    # arrays of numbers
            x, inputs = read_instances(body, served.input_shape)
            out, probs = served.outputs(check_model_range(x, served.dtype, served.input_shape))
            n, read = x.shape[0], x
        else:                                        # named raw fields through the model's FeatureSpace
            read = served.schema.parse(body)
            out, probs = served.outputs(served.encode(read))
            n, inputs = read.n, read.log_text()
        return n, inputs, encode_predictions(served, out, probs), out, probs is not None, read

    async def respond(self, name: str, body: bytes) -> tuple[str, bytes]:
        """(request id, response body) for a predict request; raises :class:`APIError` for a bad one.

        Returns only once the request's row is committed to the prediction log.
        """
        served = self.registry.get(name)
        start = time.perf_counter()
        if self.pool is not None and len(body) > INLINE_BODY_BYTES:
            done = await asyncio.get_running_loop().run_in_executor(self.pool, self.compute, served, body)
        else:
            done = self.compute(served, body)
        n, inputs, preds, out, classifier, read = done
        rid = self.new_id()
        latency_ms = (time.perf_counter() - start) * 1e3
        row = (rid, time.time(), served.name, served.version, latency_ms, n, inputs, preds.decode())
        try:
            await self.log.append(row)
        except PredictionLogError as exc:
            raise APIError(503, f"The prediction could not be logged, so it is not returned: {exc}") from None
        if served.schema is None:
            self.monitors[served.name].observe(read, out, classifier)
        else:
            self.monitors[served.name].observe_rows(read, out, classifier)
        return rid, b'{"predictions":%s,"model_version":"%s","request_id":"%s"}' % (
            preds, served.version.encode(), rid.encode())

    async def answer(self, name: str, body: bytes, send) -> None:
        """Answer ``POST {prefix}{name}:predict`` with ``body`` (already read) through ASGI ``send``."""
        try:
            rid, payload = await self.respond(name, body)
        except LearnloopError as exc:                      # APIError, or the model refusing the input
            if not isinstance(exc, APIError):
                exc = APIError(422, str(exc))
            payload = orjson.dumps(exc.body())
            headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(payload))]
            headers += [(k.encode(), v.encode()) for k, v in exc.headers.items()]
            await send({"type": "http.response.start", "status": exc.status, "headers": headers})
            await send({"type": "http.response.body", "body": payload})
            return
        await send({"type": "http.response.start", "status": 200, "headers": [
            (b"content-type", b"application/json"), (b"content-length", b"%d" % len(payload)),
            (b"x-request-id", rid.encode())]})
        await send({"type": "http.response.body", "body": payload})
