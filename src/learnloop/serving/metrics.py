"""Prometheus metrics of one server (its own registry, so several apps in one process do not collide).

Hot-path children (``.labels(...)``) are cached, so a request costs a few dictionary lookups and increments.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.0075, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class ServingMetrics:
    """The counters, histograms and gauges exported on ``/metrics``."""

    def __init__(self):
        r = self.registry = CollectorRegistry()
        self.requests = Counter("learnloop_requests", "HTTP requests by endpoint and status code.",
                                ["model", "endpoint", "code"], registry=r)
        self.errors = Counter("learnloop_errors", "Requests answered with a 4xx or 5xx status.",
                              ["model", "endpoint", "code"], registry=r)
        self.latency = Histogram("learnloop_request_latency_seconds", "Time from request to response, by endpoint.",
                                 ["model", "endpoint"], buckets=LATENCY_BUCKETS, registry=r)
        self.instances = Counter("learnloop_instances", "Instances predicted.", ["model"], registry=r)
        self.predictions = Counter("learnloop_predictions", "Predicted instances by class label.",
                                   ["model", "label"], registry=r)
        self.in_flight = Gauge("learnloop_in_flight_requests", "Requests being answered now.", registry=r)
        self.rejected = Counter("learnloop_rejected", "Requests refused at once because the server was at its "
                                "concurrency limit.", registry=r)
        self.log_batch = Histogram("learnloop_predlog_batch_rows", "Rows per prediction-log commit.",
                                   buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048), registry=r)
        self.log_commit = Histogram("learnloop_predlog_commit_seconds", "Time of one prediction-log commit.",
                                    buckets=LATENCY_BUCKETS, registry=r)
        self.model_version = Gauge("learnloop_model_info", "1 for the model version being served.",
                                   ["model", "version"], registry=r)
        self.feature_psi = Gauge("learnloop_feature_psi", "PSI of each input feature, window vs training.",
                                 ["model", "feature"], registry=r)
        self.feature_ks = Gauge("learnloop_feature_ks_statistic", "KS statistic of each input feature, window vs "
                                "training.", ["model", "feature"], registry=r)
        self.max_psi = Gauge("learnloop_drift_max_psi", "Largest feature PSI in the window.", ["model"], registry=r)
        self.drifted = Gauge("learnloop_drift_features", "Features flagged as drifted.", ["model"], registry=r)
        self.prediction_psi = Gauge("learnloop_prediction_psi", "PSI of the predicted-class distribution.",
                                    ["model"], registry=r)
        self.unseen = Counter("learnloop_unseen_values", "Values of categorical input fields never seen in training "
                              "(each takes its feature's out-of-vocabulary slot).", ["model", "feature"], registry=r)
        self.accuracy = Gauge("learnloop_live_accuracy", "Accuracy on requests that received feedback labels.",
                              ["model"], registry=r)
        self._request_children: dict = {}
        self._latency_children: dict = {}

    def observe(self, model: str, endpoint: str, code: int, seconds: float) -> None:
        key = (model, endpoint, code)
        children = self._request_children.get(key)
        if children is None:
            err = self.errors.labels(model, endpoint, str(code)) if code >= 400 else None
            children = self._request_children[key] = (self.requests.labels(model, endpoint, str(code)), err)
        children[0].inc()
        if children[1] is not None:
            children[1].inc()
        hist = self._latency_children.get((model, endpoint))
        if hist is None:
            hist = self._latency_children[(model, endpoint)] = self.latency.labels(model, endpoint)
        hist.observe(seconds)

    def set_drift(self, model: str, report: dict) -> None:
        if report.get("window_size", 0) == 0:
            return
        for row in report["features"]:
            self.feature_psi.labels(model, row["name"]).set(row["psi"])
            if row["ks_statistic"] is not None:
                self.feature_ks.labels(model, row["name"]).set(row["ks_statistic"])
        self.max_psi.labels(model).set(report["max_psi"])
        self.drifted.labels(model).set(report["drifted_features"])
        self.prediction_psi.labels(model).set(report["prediction"]["psi"])
