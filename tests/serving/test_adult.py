"""UCI Adult end to end: ``learnloop run`` on the table, then the saved model served on raw rows posted as JSON."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose
from serving_helpers import TestClient

from learnloop.saving import load_model
from learnloop.serving.app import create_app

ADULT_COLUMNS = ["age", "workclass", "fnlwgt", "education", "education-num", "marital-status", "occupation",
                 "relationship", "race", "sex", "capital-gain", "capital-loss", "hours-per-week", "native-country",
                 "income"]
NUMBERS = {"age", "fnlwgt", "education-num", "capital-gain", "capital-loss", "hours-per-week"}


def adult_rows(path, n: int) -> list[dict]:
    """The first ``n`` records of an Adult file as a client would send them: numbers, text, null for '?'."""
    rows = []
    for line in path.read_text().splitlines():
        fields = [f.strip() for f in line.split(",")]
        if len(fields) != len(ADULT_COLUMNS):
            continue                                          # adult.test's banner line, the empty last line
        rows.append({name: None if value == "?" else int(value) if name in NUMBERS else value
                     for name, value in zip(ADULT_COLUMNS, fields)})
        if len(rows) == n:
            break
    return rows


@pytest.mark.slow
def test_adult_trained_by_learnloop_run_answers_raw_rows_with_its_labels(shared_data, adult_model, tmp_path):
    path = adult_model
    model = load_model(path)
    reference = model.metadata["reference_statistics"]
    assert reference["kind"] == "columns" and set(reference["columns"]) == set(model.feature_space.column_names)
    assert reference["columns"]["workclass"]["categories"][0] == "Private"
    rows = adult_rows(shared_data / "fairness" / "adult.test", 300)      # unseen by training; income, sex ignored
    rows[0]["native-country"] = "Atlantis"                                 # an unseen category
    out = model.predict(rows).astype(np.float64)
    classes = model.metadata["classes"]
    assert classes == ["<=50K", ">50K"]
    index = (out[:, 0] >= 0).astype(int) if out.shape[1] == 1 else out.argmax(axis=1)
    expected = [classes[i] for i in index]
    assert set(expected) == {"<=50K", ">50K"}

    with TestClient(create_app({"adult": path}, log_db=tmp_path / "log.sqlite", watch_interval=0)) as client:
        r = client.post("/v1/models/adult:predict", json={"instances": rows})
        assert r.status_code == 200, r.text
        assert [p["label"] for p in r.json()["predictions"]] == expected
        probs = np.array([p["probabilities"] for p in r.json()["predictions"]])
        if out.shape[1] == 1:
            assert_allclose(probs[:, 1], 1 / (1 + np.exp(-out[:, 0])), atol=1e-6)
        singles = [client.post("/v1/models/adult:predict", json={"instances": [row]}).json() for row in rows[:30]]
        assert [s["predictions"][0]["label"] for s in singles] == expected[:30]
        info = client.get("/v1/models/adult").json()
        assert info["input_format"] == "rows" and info["fields"]["age"]["type"] == "number"
        assert info["fields"]["workclass"]["nullable"] and "income" in info["ignored_fields"]
        bad = client.post("/v1/models/adult:predict", json={"instances": [{**rows[1], "age": "39"}]})
        assert bad.status_code == 422 and bad.json()["field"] == "instances[0].age"
        drift = client.get("/v1/models/adult/monitor").json()["drift"]
        assert {f["name"] for f in drift["features"]} == set(model.feature_space.column_names)
        assert drift["unseen_values"]["by_feature"].get("native-country", 0) >= 1
        spec = client.get("/openapi.json").json()
        example = spec["components"]["schemas"]["adult.Row"]["example"]
        assert example["workclass"] == "Private" and isinstance(example["age"], (int, float))
        assert client.post("/v1/models/adult:predict", json={"instances": [example]}).status_code == 200
