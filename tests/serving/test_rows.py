"""Table models over HTTP: raw rows in, original labels out, field-named 422s, row logs, per-field drift, restarts."""

from __future__ import annotations

import io
import json
import sqlite3

import numpy as np
import orjson
import pytest
from numpy.testing import assert_allclose
from serving_helpers import TABLE_FIELDS, TestClient, table_rows, train_table_model

import learnloop
from learnloop import Sequential
from learnloop.cli import main
from learnloop.layers import Dense
from learnloop.layers.feature_space import FeatureSpace
from learnloop.saving import load_model
from learnloop.serving import logquery
from learnloop.serving.app import create_app
from learnloop.serving.registry import served_model

PREDICT = "/v1/models/table:predict"


def _expected(model_file, rows: list[dict]) -> tuple[list[str], np.ndarray]:
    """What load_model(path).predict gives on ``rows``, as labels and probabilities (the model outputs a logit)."""
    z = load_model(model_file).predict(rows)[:, 0].astype(np.float64)
    p1 = 1.0 / (1.0 + np.exp(-z))
    return ["yes" if v >= 0 else "no" for v in z], np.stack([1 - p1, p1], axis=1)


def _answers(response) -> tuple[list, np.ndarray]:
    assert response.status_code == 200, response.text
    preds = response.json()["predictions"]
    return [p["label"] for p in preds], np.array([p["probabilities"] for p in preds])


def test_raw_rows_get_the_models_answers_with_the_original_labels(make_table_client, table_model_file):
    client = make_table_client()
    rows = table_rows(40)
    rows[3]["color"] = "purple"                               # unseen: the out-of-vocabulary slot, no error
    rows[4]["age"] = None                                     # imputed
    del rows[5]["color"]                                      # absent and nullable: imputed too
    labels, probs = _expected(table_model_file, [{k: r.get(k) for k in TABLE_FIELDS} for r in rows])
    assert set(labels) == {"no", "yes"}
    got_labels, got_probs = _answers(client.post(PREDICT, json={"instances": rows}))
    assert got_labels == labels
    assert_allclose(got_probs, probs, atol=1e-6)
    one = [_answers(client.post(PREDICT, json={"instances": [row]})) for row in rows]     # the one-row path
    assert [lab[0] for lab, _ in one] == labels
    assert_allclose(np.concatenate([p for _, p in one]), probs, atol=1e-6)
    columns = {name: [r.get(name) for r in rows] for name in TABLE_FIELDS + ["id", "label"]}
    got_labels, got_probs = _answers(client.post(PREDICT, json={"inputs": columns}))
    assert got_labels == labels
    assert_allclose(got_probs, probs, atol=1e-6)


def test_the_log_holds_the_rows_the_model_read(make_table_client, tmp_path):
    client = make_table_client()
    row = {"age": 41, "hours": 30.5, "color": 3, "size": "L", "code": 7.0, "id": 12, "group": "a", "label": "no"}
    assert client.post(PREDICT, json={"instances": [row]}).status_code == 200
    with sqlite3.connect(tmp_path / "predictions.sqlite") as conn:
        (inputs,) = conn.execute("SELECT inputs FROM predictions").fetchone()
    # only the fields the model reads, as it read them: 3 -> "3" for a text field, 7.0 -> 7 for an integer one
    assert orjson.loads(inputs) == [{"age": 41, "code": 7, "color": "3", "hours": 30.5, "size": "L"}]


def _body(**changes) -> dict:
    """Two instances: a valid one, then the same with ``changes`` (``_DROP`` removes a field)."""
    good = {"age": 30.0, "hours": 40, "color": "red", "size": "M", "code": 3}
    row = {**good, **{k: v for k, v in changes.items() if v is not _DROP}}
    return {"instances": [good, {k: v for k, v in row.items() if changes.get(k) is not _DROP}]}


_DROP = object()


@pytest.mark.parametrize("body, field, words", [
    (_body(hours=_DROP), "instances[1].hours", "is missing"),
    (_body(hours="40"), "instances[1].hours", 'expected a number; got a JSON string "40"'),
    (_body(hours=True), "instances[1].hours", "expected a number; got a JSON boolean"),
    (_body(hours=None), "instances[1].hours", "does not impute"),
    (_body(size=None), "instances[1].size", "does not impute"),
    (_body(hours=[40]), "instances[1].hours", "got a JSON array"),
    (_body(code=2.5), "instances[1].code", "expected an integer"),
    (_body(size=True), "instances[1].size", "expected a string; got a JSON boolean"),
    (_body(agee=30), "instances[1].agee", "did you mean 'age'?"),
    (_body(hours=1e39), "instances[1].hours", "outside the range of float32"),
    ({"instances": [[30.0, 40, 1, 0]]}, "instances[0]", "expected an object of named fields"),
    ({"instances": []}, "instances", "empty"),
    ({"instances": {"age": 3}}, "instances", "must be a list"),
    ({"inputs": {"age": [1, 2], "hours": [3]}}, "inputs.hours", "every field needs one value per instance"),
    ({"inputs": {"age": [1], "hours": [3], "color": ["r"], "size": ["M"], "code": ["x"]}}, "inputs.code[0]",
     "expected an integer"),
    ({"inputs": {"age": [1], "hours": [3], "color": ["r"], "code": [3]}}, "inputs.size", "is missing"),
    ({"inputs": {"age": 1}}, "inputs.age", "expected a list"),
    ({"inputs": {"hourz": [1]}}, "inputs.hourz", "did you mean 'hours'?"),
    ({"instances": [{}], "inputs": {}}, "inputs", "not both"),
    ({"rows": []}, "rows", "Unknown field"),
])
def test_bad_fields_get_a_422_naming_them(make_table_client, body, field, words):
    r = make_table_client().post(PREDICT, json=body)
    assert r.status_code == 422, r.text
    assert r.json()["field"] == field
    assert words in r.json()["detail"]
    assert '"hours": number' in r.json()["expected"]


def test_nulls_are_taken_where_the_feature_imputes_and_other_columns_are_ignored(make_table_client):
    client = make_table_client()
    for body in (_body(age=None, color=None), _body(age=_DROP, color=_DROP), _body(color=12),
                 _body(color="never seen"), _body(code=99), _body(id=1, group="b", label="yes"),
                 {"inputs": {"hours": [40], "size": ["M"], "code": [3], "label": [None]}}):
        r = client.post(PREDICT, json=body)
        assert r.status_code == 200, (body, r.text)
        assert {p["label"] for p in r.json()["predictions"]} <= {"no", "yes"}


def test_unseen_categories_are_counted_by_the_monitor(make_table_client, monkeypatch):
    monkeypatch.setattr("learnloop.serving.monitoring.REPORT_TTL", 0.0)
    client = make_table_client()
    rows = table_rows(30)
    for row in rows[:10]:
        row["color"] = "purple"
    rows[10]["code"] = 99
    assert client.post(PREDICT, json={"instances": rows}).status_code == 200
    report = client.get("/v1/models/table/monitor").json()
    drift = report["drift"]
    assert report["requests_seen"] == 30 and drift["window_size"] == 30
    by_name = {f["name"]: f for f in drift["features"]}
    assert set(by_name) == set(TABLE_FIELDS)                     # one row per raw field, not per one-hot column
    assert by_name["color"]["unseen"] == 10 and by_name["code"]["unseen"] == 1
    assert by_name["age"]["type"] == "numeric" and by_name["age"]["ks_pvalue"] is not None
    assert drift["unseen_values"] == {"total": 11, "by_feature": {"code": 1, "color": 10}}
    assert set(drift["prediction"]["window"]) <= {"no", "yes"}
    metrics = client.get("/metrics").text
    assert 'learnloop_unseen_values_total{feature="color",model="table"} 10.0' in metrics
    assert 'learnloop_feature_psi{feature="age",model="table"}' in metrics


def test_drift_is_found_per_raw_field(make_table_client, monkeypatch):
    monkeypatch.setattr("learnloop.serving.monitoring.REPORT_TTL", 0.0)
    client = make_table_client(window_size=300)
    rows = table_rows(300, seed=5)
    for i in range(0, 300, 100):
        client.post(PREDICT, json={"instances": rows[i:i + 100]})
    drift = client.get("/v1/models/table/monitor").json()["drift"]
    assert drift["status"] in ("stable", "moderate") and drift["drifted_features"] == 0
    for row in rows:
        row["age"] = None if row["age"] is None else row["age"] + 25
    for i in range(0, 300, 100):
        client.post(PREDICT, json={"instances": rows[i:i + 100]})
    drift = client.get("/v1/models/table/monitor").json()["drift"]
    assert drift["status"] == "drift" and drift["top"][0]["name"] == "age"
    assert {f["name"]: f["psi"] for f in drift["features"]}["size"] < 0.25


def test_a_server_with_string_classes_restarts_on_its_log(make_table_client, tmp_path, capsys):
    client = make_table_client()
    rows = table_rows(20)
    answers = [client.post(PREDICT, json={"instances": [row]}).json() for row in rows]
    first = answers[0]["predictions"][0]["label"]
    r = client.post("/v1/models/table:feedback", json={"request_id": answers[0]["request_id"], "label": first})
    assert r.status_code == 200 and r.json()["correct"] is True and r.json()["predicted"] == first
    r = client.post("/v1/models/table:feedback", json={"request_id": answers[1]["request_id"], "label": "maybe"})
    assert r.status_code == 422 and r.json()["field"] == "label" and "['no', 'yes']" in r.json()["detail"]
    before = client.get("/v1/models/table/monitor").json()["drift"]
    again = make_table_client()                                  # a new server on the same log
    report = again.get("/v1/models/table/monitor").json()
    assert report["requests_seen"] == 20 and report["drift"]["window_size"] == 20
    assert report["drift"]["features"] == before["features"]
    assert report["drift"]["prediction"] == before["prediction"]
    assert report["live_accuracy"] == {"labelled": 1, "correct": 1, "accuracy": 1.0}
    db = tmp_path / "predictions.sqlite"
    out = io.StringIO()
    assert logquery.export(db, out, "jsonl", model="table") == 20
    exported = [json.loads(line) for line in out.getvalue().splitlines()]
    assert exported[0]["inputs"][0]["size"] == rows[0]["size"] and "label" not in exported[0]["inputs"][0]
    stats = logquery.stats(db)
    assert set(stats["predicted_labels"]) <= {"no", "yes"} and sum(stats["predicted_labels"].values()) == 20
    assert stats["feedback"]["correct"] == 1
    assert main(["logs", "stats", "--db", str(db)]) == 0 and "1 labelled, accuracy 1.0" in capsys.readouterr().out
    assert main(["logs", "export", "--db", str(db), "--format", "csv", "-o", str(tmp_path / "log.csv")]) == 0


def test_model_info_and_openapi_describe_the_raw_fields(make_table_client):
    client = make_table_client()
    info = client.get("/v1/models/table").json()
    assert info["input_format"] == "rows" and info["classes"] == ["no", "yes"]
    assert info["fields"]["age"] == {"type": "number", "nullable": True, "required": False, "example": 39.9}
    assert info["fields"]["size"]["required"] and info["fields"]["code"]["type"] == "integer"
    assert info["ignored_fields"] == ["group", "id", "label"]
    spec = client.get("/openapi.json").json()
    row = spec["components"]["schemas"]["table.Row"]
    assert row["properties"]["age"]["type"] == ["number", "null"]
    assert row["properties"]["hours"]["type"] == "number" and row["properties"]["size"]["type"] == "string"
    assert row["properties"]["code"]["type"] == "integer"
    assert sorted(row["required"]) == ["code", "hours", "size"] and row["additionalProperties"] is False
    assert row["example"] == {"age": 39.9, "code": 7, "color": "red", "hours": 35.5, "size": "M"}
    body = spec["paths"]["/v1/models/{name}:predict"]["post"]["requestBody"]["content"]["application/json"]
    assert {"$ref": "#/components/schemas/table.RowsRequest"} in body["schema"]["anyOf"]
    for example in body["examples"].values():                      # "Try it out" sends a valid request
        assert client.post(PREDICT, json=example["value"]).status_code == 200
    feedback = spec["paths"]["/v1/models/{name}:feedback"]["post"]["requestBody"]["content"]["application/json"]
    assert feedback["examples"]["table"]["value"]["label"] == "no"


def test_several_models_each_get_their_request_schema(make_table_client, table_model_file, digits_model_file):
    client = make_table_client({"table": table_model_file, "digits": digits_model_file})
    spec = client.get("/openapi.json").json()
    body = spec["paths"]["/v1/models/{name}:predict"]["post"]["requestBody"]["content"]["application/json"]
    assert {"$ref": "#/components/schemas/PredictRequest"} in body["schema"]["anyOf"]
    assert {"digits", "table (rows)", "table (columns)"} == set(body["examples"])
    for name, example in body["examples"].items():
        model = name.split(" ")[0]
        assert client.post(f"/v1/models/{model}:predict", json=example["value"]).status_code == 200
    r = client.post("/v1/models/digits:predict", json={"instances": [{"age": 3}]})
    assert r.status_code == 422 and r.json()["field"] == "instances[0]"
    assert client.post(PREDICT, json={"instances": [[0.0] * 64]}).status_code == 422


def test_whole_float_class_labels_are_served_as_integers(table_model_file, tmp_path):
    model = load_model(table_model_file)
    model.metadata["classes"] = [1.0, 3.0]
    assert served_model("t", table_model_file, model).classes == [1, 3]
    model.metadata["classes"] = [np.int64(2), np.str_("b")]
    assert served_model("t", table_model_file, model).classes == [2, "b"]


def test_a_new_table_model_version_is_served_and_monitored(make_table_client, table_model_file, tmp_path):
    path = tmp_path / "table.llm"
    path.write_bytes(table_model_file.read_bytes())
    client = make_table_client({"table": path})
    rows = table_rows(10)
    old = client.post(PREDICT, json={"instances": rows}).json()["model_version"]
    train_table_model(path, seed=3, epochs=2)
    reloaded = client.post("/v1/models/table:reload").json()
    assert reloaded["swapped"] and reloaded["previous_version"] == old
    r = client.post(PREDICT, json={"instances": rows})
    assert r.status_code == 200 and r.json()["model_version"] == reloaded["model_version"]
    report = client.get("/v1/models/table/monitor").json()
    assert report["model_version"] == reloaded["model_version"] and report["drift"]["window_size"] >= 10
    assert client.get("/openapi.json").json()["components"]["schemas"]["table.Row"]["required"]


def test_a_value_that_encodes_to_infinity_is_a_422_naming_its_field(tmp_path):
    space = FeatureSpace({"x": FeatureSpace.float_rescaled(scale=1e10), "c": FeatureSpace.string_categorical()})
    space.adapt({"x": [1.0, 2.0], "c": ["a", "b"]})
    model = Sequential([space, Dense(2, activation="softmax")])
    model.compile(optimizer="adam", loss=learnloop.losses.SparseCategoricalCrossentropy())
    model.fit({"x": [1.0, 2.0], "c": ["a", "b"]}, np.array([0, 1]), epochs=1, verbose=0)
    model.save(tmp_path / "m.llm")
    with TestClient(create_app({"m": tmp_path / "m.llm"}, log_db=tmp_path / "log.sqlite", watch_interval=0)) as c:
        assert c.post("/v1/models/m:predict", json={"instances": [{"x": 1.5, "c": "a"}]}).status_code == 200
        r = c.post("/v1/models/m:predict", json={"inputs": {"x": [1.0, 1e30], "c": ["a", "zzz"]}})
        assert r.status_code == 422 and r.json()["field"] == "inputs.x[1]" and "not finite" in r.json()["detail"]
        r = c.post("/v1/models/m:predict", json={"instances": [{"x": 1e30, "c": "a"}]})      # one row: the same
        assert r.status_code == 422 and r.json()["field"] == "instances[0].x"
        assert c.get("/v1/models/m").json()["ignored_fields"] == []
