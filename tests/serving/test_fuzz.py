"""Fuzzing the API: no request, valid or not, gets a 5xx.

Two generators: schemathesis drives every operation of the app's own OpenAPI document (positive and negative
cases), and hypothesis strategies aim at the predict body's hard cases (near-valid shapes, mixed JSON types, numbers
at the edge of float32, NaN/Infinity tokens, raw bytes; for the table model, rows and columns with fields of every
JSON type, left out, misspelled or unseen).
"""

from __future__ import annotations

import json
from urllib.parse import quote

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from serving_helpers import TABLE_FIELDS, TestClient

from learnloop.serving.app import create_app

FUZZ = settings(max_examples=120, deadline=None, derandomize=True, database=None,
                suppress_health_check=list(HealthCheck))

numbers = st.one_of(st.integers(min_value=-(2**70), max_value=2**70),
                    st.floats(allow_nan=False, allow_infinity=False),
                    st.sampled_from([0.0, -0.0, 1e-45, 3.4e38, 3.5e38, -3.5e38, 1.7e308]))
json_values = st.recursive(
    st.none() | st.booleans() | numbers | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=20)
element = numbers | json_values
instance = st.one_of(st.lists(numbers, min_size=64, max_size=64),
                     st.lists(element, min_size=62, max_size=66),
                     json_values)
predict_bodies = st.one_of(
    st.builds(lambda xs: json.dumps({"instances": xs}).encode(), st.lists(instance, max_size=4)),
    st.builds(lambda d: json.dumps(d).encode(), st.dictionaries(st.sampled_from(["instances", "x", ""]), json_values,
                                                         max_size=2)),
    st.builds(lambda xs, tok: orjson.dumps({"instances": [xs]}).replace(b"0.5", tok, 1),
              st.lists(st.just(0.5), min_size=64, max_size=64),
              st.sampled_from([b"NaN", b"Infinity", b"-Infinity", b"1e999", b"nul", b"0x10", b"1.5.5", b"--1"])),
    st.binary(max_size=200),
)


field_values = st.one_of(numbers, st.none(), st.booleans(), st.text(max_size=6),
                         st.sampled_from(["red", "M", "L", "[MISSING]", "[UNK]", "", "3"]), json_values)
field_names = st.sampled_from(TABLE_FIELDS + ["id", "label", "group", "agee", ""]) | st.text(max_size=5)
row = st.dictionaries(field_names, field_values, max_size=8)
full_row = st.fixed_dictionaries({"age": st.none() | numbers, "hours": numbers, "color": field_values,
                                  "size": st.sampled_from(["S", "M", "L", "XL"]) | field_values,
                                  "code": st.sampled_from([3, 7, 11, 12]) | numbers})
table_bodies = st.one_of(
    st.builds(lambda rows: json.dumps({"instances": rows}).encode(), st.lists(full_row | row, max_size=4)),
    st.builds(lambda cols: json.dumps({"inputs": cols}).encode(),
              st.dictionaries(field_names, st.lists(field_values, max_size=3) | field_values, max_size=7)),
    predict_bodies,
)


@pytest.fixture(scope="module")
def fuzz_client(digits_model_file, table_model_file, tmp_path_factory):
    app = create_app({"digits": digits_model_file, "table": table_model_file},
                     log_db=tmp_path_factory.mktemp("fuzz") / "log.sqlite", watch_interval=0, max_body_bytes=64_000)
    with TestClient(app) as client:
        yield client


def test_predict_bodies_never_get_a_5xx(fuzz_client):
    @FUZZ
    @given(body=predict_bodies)
    def check(body):
        r = fuzz_client.post("/v1/models/digits:predict", content=body,
                             headers={"content-type": "application/json"})
        assert r.status_code < 500, (body[:300], r.text)
        payload = r.json()
        if r.status_code == 200:
            assert len(payload["predictions"]) == len(orjson.loads(body)["instances"])
        else:
            assert 400 <= r.status_code < 500 and payload["detail"]

    check()


def test_table_bodies_never_get_a_5xx(fuzz_client):
    @FUZZ
    @given(body=table_bodies)
    def check(body):
        r = fuzz_client.post("/v1/models/table:predict", content=body, headers={"content-type": "application/json"})
        assert r.status_code < 500, (body[:300], r.text)
        payload = r.json()
        if r.status_code == 200:
            assert {p["label"] for p in payload["predictions"]} <= {"no", "yes"}
        else:
            assert 400 <= r.status_code < 500 and payload["detail"] and payload.get("field") is not None

    check()


def test_every_route_with_any_name_and_body_never_gets_a_5xx(fuzz_client):
    spec = fuzz_client.get("/openapi.json").json()
    operations = sorted((method.upper(), path) for path, item in spec["paths"].items() for method in item)

    names = st.sampled_from(["digits", "table", "DIGITS", ""]) | st.text(max_size=8)

    @FUZZ
    @given(op=st.sampled_from(operations), name=names,
           body=st.builds(lambda v: json.dumps(v).encode(), json_values) | st.binary(max_size=50))
    def check(op, name, body):
        method, path = op
        url = path.replace("{name}", quote(name, safe=""))
        r = fuzz_client.request(method, url, content=body if method == "POST" else None)
        assert r.status_code < 500, (method, url, body[:200], r.text[:300])

    check()


def test_schemathesis_finds_no_server_error(digits_model_file, table_model_file, tmp_path):
    schemathesis = pytest.importorskip("schemathesis")
    app = create_app({"digits": digits_model_file, "table": table_model_file}, log_db=tmp_path / "log.sqlite",
                     watch_interval=0)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    schema.config.generation.update(max_examples=15, deterministic=True, database="none")
    failures = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @settings(max_examples=15, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def check(case):
            response = case.call()
            if response.status_code >= 500:
                failures.append((case.method, case.formatted_path, case.body, response.text[:200]))

        check()
    assert failures == []
