"""Per-model monitoring state of a running server: the drift window, cached drift reports, and feedback labels.

:mod:`learnloop.serving.monitor` holds the statistics (NumPy/SciPy only); this module ties them to a served model,
the prediction log and the Prometheus gauges.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections import deque
from pathlib import Path

import numpy as np
import orjson

from learnloop.serving.drift_columns import ColumnCoder, model_vocabularies
from learnloop.serving.errors import APIError, quoted
from learnloop.serving.logquery import feedback_accuracy, predicted_outputs, recent_instances
from learnloop.serving.metrics import ServingMetrics
from learnloop.serving.monitor import DriftWindow, drift_report
from learnloop.serving.predlog import connect
from learnloop.serving.registry import ServedModel

REPORT_TTL = 2.0            # seconds a drift report is reused (it runs a KS test per feature)
ACCURACY_WINDOW = 5000      # most recent feedback labels in the live accuracy
PENDING_LIMIT = 256         # row requests queued before they are coded into the drift window


class ModelMonitor:
    """Drift window and feedback for one model name (kept across model versions that read the same inputs).

    An array model's window holds its flattened inputs; a table model's holds one code per raw column of its
    reference statistics (:class:`~learnloop.serving.drift_columns.ColumnCoder`): numbers as they are, categories
    as buckets, unseen categories in their own bucket and counted on ``learnloop_unseen_values``.
    """

    def __init__(self, served: ServedModel, db: Path, metrics: ServingMetrics, window_size: int = 2000):
        self.db = Path(db)
        self.metrics = metrics
        self.seen = 0               # instances added since start, those read back from the log included
        self.unreadable_log_rows = 0     # logged rows that could not be read back into the window at start
        self._feedback_lock: asyncio.Lock | None = None
        self._report: dict | None = None
        self._report_time = 0.0
        self._lock = threading.Lock()
        self._instances = metrics.instances.labels(served.name)
        self._unseen: dict[str, object] = {}
        self._pending: deque = deque()   # (ParsedRows, outputs) of row requests not yet coded into the window
        self._drain_lock = threading.Lock()
        self.served = served
        self.coder = _coder(served)
        self.window = DriftWindow(self._width(served, self.coder), window_size)
        self._by_class = [metrics.predictions.labels(served.name, str(c)) for c in served.classes or []]

    @staticmethod
    def _width(served: ServedModel, coder: ColumnCoder | None) -> int:
        if served.schema is not None:
            return coder.width if coder is not None else 0
        return served.n_features

    def use(self, served: ServedModel) -> None:
        """Serve a new version: keep the window unless what it holds changes (input size, reference columns)."""
        self._drain()                                 # rows queued under the previous version, coded by it
        coder = _coder(served)
        same = (served.schema is None) == (self.served.schema is None) and (
            coder.key == self.coder.key if coder is not None and self.coder is not None else
            coder is None and self.coder is None and served.n_features == self.served.n_features)
        if not same:
            self.window = DriftWindow(self._width(served, coder), self.window.size)
        self.served, self.coder = served, coder
        self._by_class = [self.metrics.predictions.labels(served.name, str(c)) for c in served.classes or []]
        self._report = None

    def prefill(self) -> None:
        """Fill the window from the most recent logged requests (so drift survives a restart)."""
        counts: dict = {}
        conn = connect(self.db, readonly=True)
        try:
            inputs, outputs = recent_instances(conn, self.served.name, self.window.size, counts)
        finally:
            conn.close()
        self.unreadable_log_rows = counts.get("skipped", 0)
        served, coder = self.served, self.coder
        if served.schema is not None:                 # logged row objects -> column codes
            keep = [i for i, row in enumerate(inputs) if type(row) is dict and self._codable(row)]
            self.unreadable_log_rows += len(inputs) - len(keep)
            if coder is None or not keep:
                return
            rows = [inputs[i] for i in keep]
            x = coder.encode({name: [row.get(name) for row in rows] for name in coder.names}, len(rows))[0]
        else:                                         # logged arrays of this model's input size
            keep, flat = [], []
            for i, inst in enumerate(inputs):
                try:
                    values = np.asarray(inst, dtype=np.float64).reshape(-1)
                except (TypeError, ValueError):
                    continue
                if values.size == served.n_features:
                    keep.append(i)
                    flat.append(values)
            if not keep:
                return
            x = np.stack(flat)
        y = [outputs[i] for i in keep]
        if served.classes is not None:                # the log holds labels; the window holds class indices
            lookup = {orjson.dumps(c): i for i, c in enumerate(served.classes)}
            y = np.asarray([lookup.get(orjson.dumps(_plain(v)), -1) for v in y], dtype=np.float64)
        else:
            y = np.asarray([v if isinstance(v, (int, float)) else np.nan for v in y], dtype=np.float64)
        self.window.add(x, y)
        self.seen += x.shape[0]

    def _codable(self, row: dict) -> bool:
        """A logged row whose values the coder can take (numbers for numeric columns; scalars for the others)."""
        for name, numeric, *_ in self.coder.columns if self.coder is not None else ():
            value = row.get(name)
            if numeric and not (value is None or (type(value) in (int, float) and abs(value) < 1e308)):
                return False
            if not numeric and type(value) not in (str, int, float, bool, type(None)):
                return False
        return True

    def observe(self, x: np.ndarray, out: np.ndarray, classifier: bool) -> None:
        """Add a logged request: inputs ``x`` (n, ...), class indices (n,) or values (n, k)."""
        n = x.shape[0]
        self._count(n, out, classifier)
        self.window.add(x.reshape(n, -1), out if classifier else out[:, 0])

    def observe_rows(self, parsed, out: np.ndarray, classifier: bool) -> None:
        """Add a logged row request (:class:`~learnloop.serving.rows.ParsedRows`) and its outputs.

        The rows are coded for the window later, many at once (:meth:`_drain`, before each report and every
        PENDING_LIMIT requests): a request only queues them.
        """
        self._count(parsed.n, out, classifier)
        if self.coder is not None:
            self._pending.append((parsed, out if classifier else out[:, 0]))
            if len(self._pending) >= PENDING_LIMIT:
                self._drain()

    def _drain(self) -> None:
        """Code the queued rows into the window, and count their unseen categories (requests may keep queueing
        meanwhile: deque appends and pops are atomic)."""
        with self._drain_lock:
            coder, pending = self.coder, self._pending
            items = [pending.popleft() for _ in range(len(pending))]
            if coder is None or not items:
                return
            rows = [row for parsed, _ in items for row in parsed.rows]
            codes, unseen = coder.encode({name: [row.get(name) for row in rows] for name in coder.names}, len(rows))
            self.window.add(codes, np.concatenate([y for _, y in items]).astype(np.float64, copy=False))
        for name, count in unseen.items():
            counter = self._unseen.get(name)
            if counter is None:
                counter = self._unseen[name] = self.metrics.unseen.labels(self.served.name, name)
            counter.inc(count)

    def _count(self, n: int, out: np.ndarray, classifier: bool) -> None:
        self.seen += n
        self._instances.inc(n)
        if classifier:
            if n == 1:
                self._by_class[int(out[0])].inc()
            else:
                counts = np.bincount(out, minlength=len(self._by_class))
                for i in np.flatnonzero(counts).tolist():
                    self._by_class[i].inc(int(counts[i]))

    # -- reports --------------------------------------------------------------------------------------------
    def report(self) -> dict:
        """Drift of the window and live accuracy (recomputed at most every REPORT_TTL seconds); sets the gauges."""
        with self._lock:
            self._drain()
            if self._report is not None and time.monotonic() - self._report_time < REPORT_TTL:
                return self._report
            served = self.served
            accuracy = self.accuracy()
            out = {"model": served.name, "model_version": served.version, "requests_seen": self.seen,
                   "drift": None, "live_accuracy": accuracy, "detail": None}
            if served.reference is None:
                out["detail"] = ("The model file has no usable reference statistics (metadata "
                                 "'reference_statistics'" + (", in the raw-column form for a model that takes table "
                                                             "rows" if served.schema is not None else "") +
                                 "), so drift cannot be measured; save it with them to enable drift monitoring.")
            else:
                x, y = self.window.snapshot()
                try:
                    out["drift"] = drift_report(served.reference, x, y)
                    _name_classes(out["drift"], served.classes)
                    self.metrics.set_drift(served.name, out["drift"])
                except Exception as exc:  # noqa: BLE001 - a report that cannot be computed must not fail /metrics
                    out["drift"] = None
                    out["detail"] = f"The drift report could not be computed: {type(exc).__name__}: {str(exc)[:200]}"
            if self.unreadable_log_rows:
                out["unreadable_log_rows"] = self.unreadable_log_rows
            if accuracy["accuracy"] is not None:
                self.metrics.accuracy.labels(served.name).set(accuracy["accuracy"])
            self._report, self._report_time = out, time.monotonic()
            return out

    def accuracy(self) -> dict:
        conn = connect(self.db, readonly=True)
        try:
            return feedback_accuracy(conn, self.served.name, last=ACCURACY_WINDOW)
        finally:
            conn.close()

    # -- feedback -------------------------------------------------------------------------------------------
    async def feedback(self, doc: dict, log, overwrite: bool = False) -> dict:
        """Record the true label of an earlier prediction; returns it with the live accuracy.

        A label is written once: another for the same instance is a 409 unless ``overwrite`` (which the app grants
        only to the admin key). Feedback is recorded one at a time, so two labels sent together cannot both win.
        """
        served = self.served
        expected = '{"request_id": str, "label": one of the model\'s classes, "instance": int >= 0}'
        extra = [k for k in doc if k not in ("request_id", "label", "instance")]
        if extra:
            raise APIError(422, f"Unknown field {quoted(extra[0])}; feedback has 'request_id', 'label' and "
                                f"'instance'.", field=extra[0][:60], expected=expected)
        rid, label, instance = doc.get("request_id"), doc.get("label"), doc.get("instance", 0)
        if not isinstance(rid, str) or not rid:
            raise APIError(422, f"'request_id' must be the request_id of a prediction; got {quoted(rid)}.",
                           field="request_id", expected=expected)
        if type(instance) is not int or instance < 0:
            raise APIError(422, f"'instance' must be an integer >= 0; got {quoted(instance)}.", field="instance",
                           expected=expected)
        if served.classes is None:
            raise APIError(422, f"Model {served.name!r} is a regressor; feedback labels are for classifiers.",
                           field="label")
        label = _plain(label)
        if type(label) is bool or type(label) not in (int, float, str) or label not in served.classes:
            raise APIError(422, f"'label' must be one of the model's classes {quoted(served.classes, 200)}; got "
                                f"{quoted(label)}.", field="label", expected=expected)
        if self._feedback_lock is None:
            self._feedback_lock = asyncio.Lock()
        async with self._feedback_lock:
            found = await asyncio.to_thread(self._lookup, rid, instance)
            if found is None:
                raise APIError(404, f"No logged prediction has request_id {quoted(rid)}.", field="request_id",
                               expected="the request_id returned by :predict")
            model, outputs, recorded = found
            if model != served.name:
                raise APIError(422, f"Request {quoted(rid)} was answered by model {model!r}, not {served.name!r}.",
                               field="request_id")
            if instance >= len(outputs):
                raise APIError(422, f"Request {quoted(rid)} had {len(outputs)} instance(s); got instance {instance}.",
                               field="instance", expected=f"0..{len(outputs) - 1}")
            if recorded is not None and not overwrite:
                raise APIError(409, f"Instance {instance} of request {quoted(rid)} already has the label {recorded}; "
                                    f"a label is written once (to replace it, send overwrite=true with the admin "
                                    f"key).", field="request_id")
            await log.append((rid, instance, orjson.dumps(label).decode(), time.time()),
                             kind="feedback_replace" if overwrite else "feedback")
        self._report = None
        accuracy = await asyncio.to_thread(self.accuracy)
        if accuracy["accuracy"] is not None:
            self.metrics.accuracy.labels(served.name).set(accuracy["accuracy"])
        predicted = outputs[instance].get("label") if isinstance(outputs[instance], dict) else None
        return {"request_id": rid, "instance": instance, "label": label, "predicted": predicted,
                "correct": predicted == label, "live_accuracy": accuracy}

    def _lookup(self, rid: str, instance: int):
        """(model, logged outputs, label already recorded for ``instance`` or None) of request ``rid``, or None."""
        conn = connect(self.db, readonly=True)
        try:
            found = predicted_outputs(conn, rid)
            if found is None:
                return None
            row = conn.execute("SELECT label FROM feedback WHERE request_id = ? AND instance = ?",
                               (rid, instance)).fetchone()
            return (*found, None if row is None else row[0])
        finally:
            conn.close()


def _coder(served: ServedModel) -> ColumnCoder | None:
    """The column coder of a table model with raw-column reference statistics, else None."""
    if served.schema is None or served.reference is None:
        return None
    return ColumnCoder(served.reference, model_vocabularies(served.schema.feature_space))


def _name_classes(report: dict, classes: list | None) -> None:
    """The prediction drift keyed by class label rather than class index."""
    prediction = report.get("prediction") or {}
    if classes is None or prediction.get("kind") != "classes":
        return
    names = {str(i): str(c) for i, c in enumerate(classes)}
    for key in ("reference", "window"):
        if isinstance(prediction.get(key), dict):
            prediction[key] = {names.get(k, k): v for k, v in prediction[key].items()}


def _plain(v):
    """3.0 -> 3 (a float label that is a whole number is the integer label)."""
    if isinstance(v, float) and math.isfinite(v) and v.is_integer():
        return int(v)
    return v
