"""The HTTP API end to end (in process): predictions, errors, metadata, metrics, feedback, drift, OpenAPI."""

from __future__ import annotations

import sqlite3

import numpy as np
import orjson
import pytest
from numpy.testing import assert_allclose
from serving_helpers import digits_xy

from learnloop.saving import load_model
from learnloop.serving.registry import file_version

PREDICT = "/v1/models/digits:predict"


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def test_predictions_match_the_model_and_are_logged(client, model_file, tmp_path):
    x, _ = digits_xy()
    r = client.post(PREDICT, json={"instances": x[:5].tolist()})
    assert r.status_code == 200
    body = r.json()
    probs = np.array([p["probabilities"] for p in body["predictions"]])
    expected = _softmax(load_model(model_file).predict(x[:5]).astype(np.float64))
    assert_allclose(probs, expected, atol=1e-5)
    assert [p["label"] for p in body["predictions"]] == expected.argmax(axis=1).tolist()
    assert body["model_version"] == file_version(model_file)
    assert r.headers["x-request-id"] == body["request_id"]
    with sqlite3.connect(tmp_path / "predictions.sqlite") as conn:
        rid, version, n, inputs, outputs = conn.execute(
            "SELECT request_id, model_version, n_instances, inputs, outputs FROM predictions").fetchone()
    assert (rid, version, n) == (body["request_id"], body["model_version"], 5)
    assert_allclose(orjson.loads(inputs), x[:5], atol=1e-7)
    assert orjson.loads(outputs) == orjson.loads(orjson.dumps(body["predictions"]))


@pytest.mark.parametrize("body, status, field", [
    ({"instances": []}, 422, "instances"),
    ({"instances": [[0.0] * 63]}, 422, "instances[0]"),
    ({"instances": [[0.0] * 64, [0.0] * 65]}, 422, "instances[1]"),
    ({"instances": [["0"] * 64]}, 422, "instances[0][0]"),
    ({"instances": [[0.0] * 63 + [None]]}, 422, "instances[0][63]"),
    ({"instances": [[1e300] * 64]}, 422, "instances[0][0]"),
    ({"instance": [[0.0] * 64]}, 422, "instance"),
])
def test_bad_inputs_get_a_4xx_naming_the_field(client, body, status, field):
    r = client.post(PREDICT, json=body)
    assert r.status_code == status
    assert r.json()["field"] == field
    assert "64" in r.json()["expected"]


def test_nan_unknown_models_and_wrong_methods(client):
    r = client.post(PREDICT, content=b'{"instances": [[NaN' + b", 0" * 63 + b"]]}")
    assert r.status_code == 400 and "NaN" in r.json()["detail"]
    r = client.post("/v1/models/cats:predict", json={"instances": [[0.0] * 64]})
    assert r.status_code == 404 and r.json()["field"] == "name" and "['digits']" in r.json()["detail"]
    assert client.get("/v1/models/cats").status_code == 404
    assert client.get("/v1/models/cats/monitor").status_code == 404
    assert client.get(PREDICT).status_code in (404, 405)


def test_oversized_bodies_get_413(make_client):
    client = make_client(max_body_bytes=2000)
    big = orjson.dumps({"instances": [[0.5] * 64] * 20})
    r = client.post(PREDICT, content=big)
    assert r.status_code == 413 and "2000" in r.json()["detail"]

    def chunks():                                     # no Content-Length: counted while reading
        for i in range(0, len(big), 500):
            yield big[i:i + 500]

    r = client.post(PREDICT, content=chunks())
    assert r.status_code == 413 and "reached" in r.json()["detail"]
    r = client.post("/v1/models/digits:feedback", content=chunks())
    assert r.status_code == 413
    assert client.post(PREDICT, json={"instances": [[0.5] * 64]}).status_code == 200


def test_model_metadata_health_and_openapi(client, model_file):
    info = client.get("/v1/models/digits").json()
    assert info["input_shape"] == [None, 64] and info["classes"] == list(range(10))
    assert info["task"] == "multiclass" and info["from_logits"] is True
    assert info["version"] == file_version(model_file) and info["trained_at"] == "2026-01-02T03:04:05+00:00"
    assert client.get("/v1/models").json()["models"][0]["name"] == "digits"
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json()["models"] == {"digits": info["version"]}
    spec = client.get("/openapi.json").json()
    op = spec["paths"]["/v1/models/{name}:predict"]["post"]
    assert "instances" in op["requestBody"]["content"]["application/json"]["schema"]["properties"]
    assert op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("PredictResponse")
    assert {"404", "413", "422", "503"} <= set(op["responses"])
    assert {"/v1/models/{name}:feedback", "/v1/models/{name}/monitor", "/metrics", "/readyz"} <= set(spec["paths"])


def test_metrics_count_requests_errors_latency_and_classes(client):
    x, _ = digits_xy()
    for i in range(3):
        client.post(PREDICT, json={"instances": x[i * 4:i * 4 + 4].tolist()})
    client.post(PREDICT, json={"instances": []})
    client.get("/v1/models/digits/monitor")
    text = client.get("/metrics").text
    assert 'learnloop_requests_total{code="200",endpoint="predict",model="digits"} 3.0' in text
    assert 'learnloop_errors_total{code="422",endpoint="predict",model="digits"} 1.0' in text
    assert 'learnloop_request_latency_seconds_count{endpoint="predict",model="digits"} 4.0' in text
    assert 'learnloop_instances_total{model="digits"} 12.0' in text
    by_class = [float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
                if line.startswith("learnloop_predictions_total{")]
    assert sum(by_class) == 12
    assert 'learnloop_feature_psi{feature="f10",model="digits"}' in text
    assert "learnloop_drift_max_psi" in text and "learnloop_predlog_batch_rows_count" in text


def test_feedback_gives_live_accuracy(client):
    x, y = digits_xy()
    ids = [client.post(PREDICT, json={"instances": x[i:i + 1].tolist()}).json() for i in range(20)]
    results = [client.post("/v1/models/digits:feedback",
                           json={"request_id": r["request_id"], "label": int(y[i])}).json() for i, r in enumerate(ids)]
    predicted = [r["predictions"][0]["label"] for r in ids]
    correct = int(np.sum(np.array(predicted) == y[:20]))
    assert [r["correct"] for r in results] == (np.array(predicted) == y[:20]).tolist()
    assert results[-1]["live_accuracy"] == {"labelled": 20, "correct": correct, "accuracy": correct / 20}
    assert client.get("/v1/models/digits/monitor").json()["live_accuracy"]["labelled"] == 20
    assert f'learnloop_live_accuracy{{model="digits"}} {correct / 20}' in client.get("/metrics").text
    bad = [({"request_id": "nope", "label": 1}, 404, "request_id"),
           ({"request_id": ids[0]["request_id"], "label": 42}, 422, "label"),
           ({"request_id": ids[0]["request_id"], "label": True}, 422, "label"),
           ({"request_id": ids[0]["request_id"], "label": 1, "instance": 1}, 422, "instance"),
           ({"request_id": ids[0]["request_id"], "label": 1, "extra": 0}, 422, "extra"),
           ({"label": 1}, 422, "request_id")]
    for body, status, field in bad:
        r = client.post("/v1/models/digits:feedback", json=body)
        assert (r.status_code, r.json()["field"]) == (status, field), body


def test_monitor_reports_drift_on_shifted_traffic(make_client, monkeypatch):
    x, _ = digits_xy()
    client = make_client(window_size=400)
    for i in range(0, 400, 100):                       # training-like traffic
        assert client.post(PREDICT, json={"instances": x[i:i + 100].tolist()}).status_code == 200
    report = client.get("/v1/models/digits/monitor").json()
    assert report["requests_seen"] == 400 and report["drift"]["window_size"] == 400
    assert report["drift"]["status"] in ("stable", "moderate") and report["drift"]["drifted_features"] < 5
    shifted = np.clip(x[400:800] + 0.4, 0, 1)          # every pixel brighter
    for i in range(0, 400, 100):
        client.post(PREDICT, json={"instances": shifted[i:i + 100].tolist()})
    monkeypatch.setattr("learnloop.serving.monitoring.REPORT_TTL", 0.0)   # no cached report
    report = client.get("/v1/models/digits/monitor").json()
    assert report["drift"]["status"] == "drift" and report["drift"]["drifted_features"] > 20
    # a new server on the same log starts with the window it left off with
    again = make_client(window_size=400)
    assert again.get("/v1/models/digits/monitor").json()["drift"]["status"] == "drift"
