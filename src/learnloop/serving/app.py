"""The HTTP API: a FastAPI app serving learnloop models, logging every prediction durably and watching for drift.

Endpoints (``{name}`` is the served model's name; the OpenAPI document is at ``/openapi.json`` and ``/docs``)::

    POST /v1/models/{name}:predict    {"instances": [[...], ...]} -> {"predictions", "model_version", "request_id"}
                                      (a table model: {"instances": [{field: value, ...}, ...]} or
                                      {"inputs": {field: [...], ...}}, the raw fields it was trained on)
    POST /v1/models/{name}:feedback   {"request_id", "label", "instance"} -> live accuracy
    POST /v1/models/{name}:reload     load the model file again if it changed
    GET  /v1/models/{name}            input shape or raw fields, classes, version, training date
    GET  /v1/models/{name}/monitor    drift of the recent window against the training reference, live accuracy
    GET  /v1/models                   the served models
    GET  /healthz  /readyz  /metrics  liveness, readiness, Prometheus metrics
    GET  /docs  /openapi.json         the API described (a page that needs no network, and the OpenAPI document)

Every request first meets :class:`~learnloop.serving.middleware.LimitsMiddleware`: the Host allow-list, API keys
(:mod:`learnloop.serving.auth`: a predict key for predict and the model descriptions, an admin key for feedback,
reload, the monitor and /metrics), JSON-only request bodies (415 otherwise), the body read within a time limit, a
bound on body bytes held and on requests being answered.

The predict route reads the raw body straight into NumPy (simdjson or orjson, :mod:`learnloop.serving.parsing`)
instead of letting pydantic build objects, and requests to it are answered by a pure ASGI fast path
(:mod:`learnloop.serving.predict`) ahead of FastAPI's routing; its request and response schemas are still in the
OpenAPI document. A 200 is sent only after the request's
row is committed to the prediction log (see :mod:`learnloop.serving.predlog` for the guarantee).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from learnloop.errors import LearnloopError
from learnloop.serving import schemas
from learnloop.serving.auth import ADMIN, PREDICT, APIKeys
from learnloop.serving.docs_page import docs_page
from learnloop.serving.errors import APIError, quoted
from learnloop.serving.metrics import ServingMetrics
from learnloop.serving.middleware import OPEN, LimitsMiddleware
from learnloop.serving.monitoring import ModelMonitor
from learnloop.serving.openapi import document_models, document_security
from learnloop.serving.parsing import expected_text, load_json_object
from learnloop.serving.predict import PredictHandler
from learnloop.serving.predlog import PredictionLog
from learnloop.serving.registry import ModelRegistry, ServedModel, default_loader
from learnloop.serving.retention import Retention

JSON = "application/json"
logger = logging.getLogger("learnloop.serve")
_NUMPY = orjson.OPT_SERIALIZE_NUMPY


def _json(content, status: int = 200, headers: dict | None = None) -> Response:
    return Response(orjson.dumps(content, option=_NUMPY), status_code=status, media_type=JSON, headers=headers)


def _errors(*codes: int) -> dict:
    return {code: {"model": schemas.ErrorResponse} for code in codes}


class ServingApp(FastAPI):
    """A FastAPI app whose HTTP requests meet :class:`LimitsMiddleware` first, outside FastAPI's own middleware.

    So host, key and admission checks and metrics cover every request, and ``POST /v1/models/{name}:predict`` goes
    from there straight to the predict handler, skipping five ASGI layers that wrap every send and receive.
    """

    limits: LimitsMiddleware
    keys: APIKeys | None = None
    _documents: dict

    def openapi(self, public: bool = False) -> dict:
        """FastAPI's document with the request bodies of the models being served (redone after a new version);
        ``public``: without anything taken from training data, for callers without a key."""
        registry = self.state.registry
        models = [registry.get(n) for n in registry.names()]
        key = (public, tuple((m.name, m.version) for m in models))
        cached = getattr(self, "_documents", {}).get(key)
        if cached is not None:
            return cached
        self.openapi_schema = None
        spec = super().openapi()
        self.openapi_schema = None
        document_models(spec, models, public=public)
        document_security(spec, self.keys)
        self._documents = {key: spec}                   # the other variant, or an older version, is redone
        return spec

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http":
            await self.limits(scope, receive, send)
        else:
            await super().__call__(scope, receive, send)

    async def route_request(self, scope, receive, send) -> None:
        """FastAPI's full stack (routing, exception handlers, error pages)."""
        await super().__call__(scope, receive, send)


def create_app(models: dict[str, str | Path], *, log_db: str | Path = "predictions.sqlite",
               max_body_bytes: int = 1 << 20, max_concurrency: int = 128, synchronous: str = "normal",
               watch_interval: float = 1.0, window_size: int = 2000, loader=default_loader,
               log_retention: Retention | None = None, api_keys: APIKeys | None = None,
               allowed_hosts: list[str] | None = None, body_timeout: float = 10.0,
               max_bytes_in_flight: int = 64 * 2**20, workers: int | None = None) -> ServingApp:
    """A FastAPI app serving ``models`` (name -> model file).

    Args:
        models: name -> path of a file written by ``model.save``.
        log_db: SQLite file of the prediction log (created if missing, readable by its owner only).
        max_body_bytes: larger request bodies get 413.
        max_concurrency: requests (whose bodies have arrived) beyond this many in flight get 503 at once.
        synchronous: ``"normal"`` (acknowledged rows survive a killed server) or ``"full"`` (they also survive a
            power loss, at about concurrency / (2 x fsync time) requests per second); see predlog.
        watch_interval: seconds between checks of the model files' mtime (0 disables; ``:reload`` still works).
        window_size: instances in the drift window.
        loader: path -> model (``learnloop.load_model``).
        log_retention: how much of the prediction log to keep (by age, row count and/or bytes); ``None`` keeps all.
        api_keys: predict and admin keys (:mod:`learnloop.serving.auth`); None or none configured: no key needed.
        allowed_hosts: the names a request's Host header may give (``"*"`` any); None allows any.
        body_timeout: seconds a request's body may take to arrive (then 408).
        max_bytes_in_flight: body bytes all requests together may hold (more get 503).
        workers: threads for the CPU work of large predict requests (default: one per core).
    """
    if not models:
        raise LearnloopError("create_app() needs at least one model: {name: path of a saved model}.")
    metrics = ServingMetrics()
    monitors: dict[str, ModelMonitor] = {}

    def on_swap(old: ServedModel | None, new: ServedModel) -> None:
        if old is not None:
            metrics.model_version.remove(old.name, old.version)
            logger.info("model %r: version %s replaces %s", new.name, new.version, old.version)
        metrics.model_version.labels(new.name, new.version).set(1)
        if new.name in monitors:
            monitors[new.name].use(new)

    registry = ModelRegistry(loader=loader, on_swap=on_swap)
    for name, path in models.items():
        registry.add(name, path)

    def on_commit(rows: int, seconds: float) -> None:
        metrics.log_batch.observe(rows)
        metrics.log_commit.observe(seconds)

    log = PredictionLog(log_db, synchronous=synchronous, on_commit=on_commit, retention=log_retention)
    for name in registry.names():
        monitors[name] = ModelMonitor(registry.get(name), log.path, metrics, window_size=window_size)
    pool_size = workers or os.cpu_count() or 1

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        log.open()                                     # again, if an earlier lifespan closed it
        pool = ThreadPoolExecutor(max_workers=pool_size, thread_name_prefix="learnloop-predict")
        predictor.pool = pool
        await asyncio.gather(*(asyncio.to_thread(m.prefill) for m in monitors.values()))
        watcher = asyncio.create_task(registry.watch(watch_interval)) if watch_interval > 0 else None
        try:
            yield
        finally:
            if watcher is not None:
                watcher.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await watcher
            predictor.pool = None
            pool.shutdown(wait=True)
            await asyncio.to_thread(log.close)

    app = ServingApp(title="learnloop model server", version=_version(), lifespan=lifespan,
                     description=__doc__.split("\n\n")[0], openapi_url=None, docs_url=None, redoc_url=None)
    app.keys = api_keys if api_keys is not None and api_keys.enabled else None
    app.state.registry, app.state.log, app.state.metrics, app.state.monitors = registry, log, metrics, monitors
    predictor = PredictHandler(registry, log, monitors)
    app.limits = LimitsMiddleware(app.route_request, metrics=metrics, max_body_bytes=max_body_bytes,
                                  max_concurrency=max_concurrency, known_models=registry, predict=predictor,
                                  keys=app.keys, allowed_hosts=allowed_hosts, body_timeout=body_timeout,
                                  max_bytes_in_flight=max_bytes_in_flight)

    def role(request: Request) -> str:
        return request.scope.get("learnloop.role") or ""

    @app.exception_handler(APIError)
    async def api_error(request: Request, exc: APIError) -> Response:
        return _json(exc.body(), exc.status, exc.headers)

    @app.exception_handler(LearnloopError)
    async def learnloop_error(request: Request, exc: LearnloopError) -> Response:
        return _json({"detail": str(exc)}, 422)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        first = (exc.errors() or [{}])[0]
        where = ".".join(str(part) for part in first.get("loc", ()) if part != "body") or "request"
        got = first.get("input")
        return _json({"detail": f"{where}: {first.get('msg', 'invalid')}; got {quoted(got, 60)}.", "field": where,
                      "expected": first.get("type")}, 422)

    # The request bodies of :predict and :feedback are documented from the served models (ServingApp.openapi).
    @app.post("/v1/models/{name}:predict", response_model=schemas.PredictResponse, tags=["predict"],
              responses=_errors(400, 401, 404, 405, 408, 413, 415, 422, 503),
              summary="Predict for a batch of instances")
    async def predict(name: str, request: Request) -> Response:
        """Predictions for ``instances``; answered once the request is committed to the prediction log.

        An array model takes ``{"instances": [[...], ...]}``; a model trained on a table takes its raw fields, as
        rows ``{"instances": [{"age": 39, ...}]}`` or columns ``{"inputs": {"age": [39], ...}}``, and answers with
        the original class labels. A 422 names the field at fault (e.g. ``instances[2].age``). The body must be
        sent as ``Content-Type: application/json``; a key given twice in one object is a 400.

        (Requests normally reach the same code through the ASGI fast path, see ServingApp.)
        """
        rid, payload = await predictor.respond(name, await request.body())
        return Response(payload, media_type=JSON, headers={"x-request-id": rid})

    @app.post("/v1/models/{name}:feedback", response_model=schemas.FeedbackResponse, tags=["monitor"],
              responses=_errors(400, 401, 403, 404, 409, 413, 415, 422, 503),
              summary="Send the true label of an earlier prediction")
    async def feedback(name: str, request: Request, overwrite: bool = False) -> Response:
        """Record the true label of instance ``instance`` of request ``request_id``. A label is written once: a
        second one for the same instance is a 409, unless ``overwrite=true`` is sent with the admin key."""
        served = registry.get(name)
        if overwrite and role(request) != ADMIN:
            raise APIError(403, "Replacing a feedback label needs the admin key (start the server with "
                                "--admin-key-file and send it).", field="overwrite", expected="false")
        doc = load_json_object(await request.body(), '{"request_id": str, "label": ..., "instance": int}')
        result = await monitors[served.name].feedback(doc, log, overwrite=overwrite)
        return _json(result)

    @app.post("/v1/models/{name}:reload", response_model=schemas.ReloadResponse, tags=["models"],
              responses=_errors(401, 403, 404, 422), summary="Load the model file again if it changed")
    async def reload(name: str, force: bool = False) -> Response:
        old = registry.get(name)
        new, swapped = await registry.reload(name, force=force)
        return _json({"model_version": new.version, "previous_version": old.version, "swapped": swapped})

    @app.get("/v1/models", tags=["models"], summary="The served models", responses=_errors(401))
    async def list_models() -> dict:
        return {"models": [registry.describe(n) for n in registry.names()]}

    @app.get("/v1/models/{name}", response_model=schemas.ModelInfo, tags=["models"], responses=_errors(401, 404),
             summary="Input shape or raw fields, classes, version and training date of a model")
    async def model_info(name: str) -> Response:
        served = registry.get(name)
        expected = expected_text(served.input_shape) if served.schema is None else served.schema.expected
        return _json({**registry.describe(name), "expected_instances": expected})

    @app.get("/v1/models/{name}/monitor", response_model=schemas.MonitorResponse, tags=["monitor"],
             responses=_errors(401, 403, 404), summary="Drift of recent requests against training, and live accuracy")
    async def monitor(name: str) -> Response:
        served = registry.get(name)
        return _json(await asyncio.to_thread(monitors[served.name].report))

    @app.get("/healthz", tags=["health"], summary="Liveness: the process answers")
    async def healthz() -> dict:
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"], summary="Readiness: models loaded, the prediction log writable, a free "
             "slot", responses=_errors(503))
    async def readyz(request: Request) -> Response:
        limits = app.limits
        detail = None
        if not log.alive or log.last_error:
            detail = log.last_error or "prediction log closed"
        elif limits.in_flight >= limits.max_concurrency:
            detail = f"busy: answering {limits.in_flight} requests, the limit (--max-concurrency)"
        body = {"status": "not ready" if detail else "ready"}
        if role(request) in (OPEN, PREDICT, ADMIN):      # the details only for callers with a key (or none needed)
            errors = {n: registry.status(n)["last_reload_error"] for n in registry.names()}
            body.update(detail=detail, models={n: registry.get(n).version for n in registry.names()},
                        reload_errors={n: e for n, e in errors.items() if e}, in_flight=limits.in_flight,
                        max_concurrency=limits.max_concurrency)
        return _json(body, 503 if detail else 200)

    @app.get("/metrics", tags=["health"], summary="Prometheus metrics", responses={
        200: {"content": {CONTENT_TYPE_LATEST: {}}}, **_errors(401, 403)})
    async def prometheus_metrics() -> Response:
        await asyncio.gather(*(asyncio.to_thread(m.report) for m in monitors.values()))   # refresh drift gauges
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    @app.get("/openapi.json", include_in_schema=False)
    async def openapi_document(request: Request) -> Response:
        public = app.keys is not None and role(request) not in (PREDICT, ADMIN)
        return _json(app.openapi(public=public))

    @app.get("/docs", include_in_schema=False)
    async def docs(request: Request) -> Response:
        public = app.keys is not None and role(request) not in (PREDICT, ADMIN)
        return HTMLResponse(docs_page(app.openapi(public=public)))

    return app


def _version() -> str:
    from learnloop import __version__

    return __version__
