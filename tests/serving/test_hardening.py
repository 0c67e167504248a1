"""What a client, a log or a model file can do to a server, and what it must not: keys, hosts, content types, bodies
given twice, logs that cannot be read back, files that cannot be loaded, references that cannot be used."""

from __future__ import annotations

import io
import json
import os
import socket
import sqlite3
import stat
import subprocess
import sys
import threading
import time

import numpy as np
import orjson
import pytest
from serving_helpers import TestClient, digits_xy, table_rows, train_digits_model

from learnloop.cli import main
from learnloop.serving import logquery
from learnloop.serving.app import create_app
from learnloop.serving.auth import APIKeys
from learnloop.serving.retention import Retention, used_bytes

PREDICT = "/v1/models/digits:predict"
ROW = {"instances": [[0.5] * 64]}
PREDICT_KEY, ADMIN_KEY = "p" * 24, "a" * 24


# ---- a body given twice, and the log read back --------------------------------------------------------------------
def test_a_key_given_twice_is_a_400_and_nothing_is_logged(client, tmp_path):
    body = b'{"instances": [' + b",".join([b"0"] * 64) + b'], "instances": [[' + b",".join([b"1"] * 64) + b"]]}"
    r = client.post(PREDICT, content=body.replace(b"[0,", b"[[0,").replace(b"0], ", b"0]], "))
    assert r.status_code == 400 and r.json()["field"] == "body" and "twice" in r.json()["detail"]
    r = client.post("/v1/models/digits:feedback", content=b'{"request_id": "a", "request_id": "b", "label": 1}')
    assert r.status_code == 400
    with sqlite3.connect(tmp_path / "predictions.sqlite") as conn:
        assert conn.execute("SELECT COUNT(*) FROM predictions").fetchone()[0] == 0


def test_a_table_row_with_a_field_given_twice_is_a_400(make_table_client):
    client = make_table_client()
    row = json.dumps(table_rows(1)[0])
    body = ('{"instances": [' + row[:-1] + ', "size": "L"}]}').encode()
    r = client.post("/v1/models/table:predict", content=body)
    assert r.status_code == 400 and "twice" in r.json()["detail"]


def test_the_log_holds_the_array_that_was_predicted_on(client, tmp_path):
    body = b'{"instances": [[' + b", ".join([b"1.50"] * 64) + b']] , "instances2": 1}'
    assert client.post(PREDICT, content=body).status_code == 422          # one key too many: nothing logged
    body = b'{"instances": [[' + b", ".join([b"1.50e0"] * 63 + [b"2"]) + b"]]}"
    assert client.post(PREDICT, content=body).status_code == 200
    with sqlite3.connect(tmp_path / "predictions.sqlite") as conn:
        (inputs,) = conn.execute("SELECT inputs FROM predictions").fetchone()
    assert orjson.loads(inputs) == [[1.5] * 63 + [2.0]]


def test_a_log_with_unreadable_rows_restarts_exports_and_summarizes(make_client, tmp_path, capsys):
    client = make_client()
    x, _ = digits_xy()
    for i in range(3):
        assert client.post(PREDICT, json={"instances": x[i:i + 1].tolist()}).status_code == 200
    db = tmp_path / "predictions.sqlite"
    with sqlite3.connect(db) as conn:                  # what the duplicate-key bug once logged: not JSON
        conn.execute("INSERT INTO predictions (request_id, ts, model, model_version, latency_ms, n_instances, inputs, "
                     "outputs) VALUES ('bad', ?, 'digits', 'v', 0, 1, '[[0, 1]], \"instances\": [[1', '[{\"label\"')",
                     (time.time(),))
    again = make_client()                                  # the server starts on that log
    report = again.get("/v1/models/digits/monitor").json()
    assert report["requests_seen"] == 3 and report["unreadable_log_rows"] == 1
    out, counts = io.StringIO(), {}
    assert logquery.export(db, out, "jsonl", counts=counts) == 3 and counts == {"skipped": 1}
    stats = logquery.stats(db)
    assert stats["requests"] == 4 and stats["unreadable_rows"] == 1 and sum(stats["predicted_labels"].values()) == 3
    assert main(["logs", "export", "--db", str(db), "--format", "csv", "-o", str(tmp_path / "out.csv")]) == 0
    assert "skipped 1 unreadable rows" in capsys.readouterr().err
    assert main(["logs", "stats", "--db", str(db)]) == 0 and "unreadable    1 rows" in capsys.readouterr().out


def test_an_array_model_with_text_classes_restarts_on_its_log(model_file, tmp_path):
    from learnloop.saving import load_model

    model = load_model(model_file)
    model.metadata["classes"] = [f"digit {i}" for i in range(10)]
    path = tmp_path / "named.llm"
    model.save(path)
    x, _ = digits_xy()
    for _ in range(2):
        with TestClient(create_app({"digits": path}, log_db=tmp_path / "log.sqlite", watch_interval=0)) as c:
            r = c.post(PREDICT, json={"instances": x[:5].tolist()})
            assert r.status_code == 200 and r.json()["predictions"][0]["label"].startswith("digit")
    with TestClient(create_app({"digits": path}, log_db=tmp_path / "log.sqlite", watch_interval=0)) as c:
        assert c.get("/v1/models/digits/monitor").json()["requests_seen"] == 10


# ---- keys, hosts, content types, methods --------------------------------------------------------------------------
@pytest.fixture
def keyed(make_table_client, table_model_file, digits_model_file):
    keys = APIKeys.from_keys([PREDICT_KEY], [ADMIN_KEY])
    return make_table_client({"table": table_model_file, "digits": digits_model_file}, api_keys=keys)


def _auth(key: str) -> dict:
    return {"authorization": f"Bearer {key}"}


def test_with_keys_every_endpoint_needs_the_right_one(keyed):
    r = keyed.post(PREDICT, json=ROW)
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    assert r.json()["field"] == "authorization" and "API key" in r.json()["detail"]
    assert keyed.post(PREDICT, json=ROW, headers=_auth("x" * 24)).status_code == 401
    ok = keyed.post(PREDICT, json=ROW, headers=_auth(PREDICT_KEY))
    assert ok.status_code == 200
    assert keyed.post(PREDICT, json=ROW, headers={"x-api-key": ADMIN_KEY}).status_code == 200
    rid = ok.json()["request_id"]
    feedback = {"request_id": rid, "label": 3}
    for path, method, body in (("/v1/models/digits:feedback", "POST", feedback), ("/v1/models/digits:reload", "POST",
                               None), ("/v1/models/digits/monitor", "GET", None), ("/metrics", "GET", None)):
        assert keyed.request(method, path, json=body).status_code == 401, path
        r = keyed.request(method, path, json=body, headers=_auth(PREDICT_KEY))
        assert r.status_code == 403 and "admin key" in r.json()["detail"], path
        assert keyed.request(method, path, json=body, headers=_auth(ADMIN_KEY)).status_code == 200, path
    for path in ("/v1/models", "/v1/models/table"):
        assert keyed.get(path).status_code == 401
        assert keyed.get(path, headers=_auth(PREDICT_KEY)).status_code == 200
    assert keyed.get("/healthz").json() == {"status": "ok"}
    assert keyed.get("/readyz").json() == {"status": "ready"}               # no versions, paths or errors
    assert "models" in keyed.get("/readyz", headers=_auth(PREDICT_KEY)).json()


def test_without_a_key_the_documents_show_no_training_data(keyed):
    public = keyed.get("/openapi.json").json()
    text = json.dumps(public)
    assert "training median" not in text and "training categories" not in text and "\"red\"" not in text
    assert public["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    op = public["paths"]["/v1/models/{name}:predict"]["post"]
    assert {"bearerAuth": []} in op["security"] and "401" in op["responses"]
    assert public["components"]["schemas"]["table.Row"]["example"]["size"] == ""
    full = keyed.get("/openapi.json", headers=_auth(PREDICT_KEY)).json()
    assert "training median" in json.dumps(full) and full["components"]["schemas"]["table.Row"]["example"]["size"]
    page = keyed.get("/docs").text
    assert "training median" not in page and "Authorization: Bearer" in page


def test_keys_are_read_from_files_and_the_environment(tmp_path):
    (tmp_path / "keys").write_text(f"# predict keys\n{PREDICT_KEY}\n\n{'q' * 20}\n")
    keys = APIKeys.load(tmp_path / "keys", None, environ={"LEARNLOOP_ADMIN_KEY": ADMIN_KEY})
    assert keys.role([(b"authorization", b"Bearer " + b"q" * 20)]) == "predict"
    assert keys.role([(b"x-api-key", ADMIN_KEY.encode())]) == "admin"
    assert keys.role([(b"authorization", b"Basic " + ADMIN_KEY.encode())]) is None
    with pytest.raises(Exception, match="at least 16 characters"):
        APIKeys.from_keys(["short"])


def test_hosts_outside_the_allow_list_are_refused(make_client):
    client = make_client(allowed_hosts=["localhost", "127.0.0.1", "::1"])
    r = client.get("/healthz", headers={"host": "attacker.example:8000"})
    assert r.status_code == 400 and r.json()["field"] == "host"
    assert client.post(PREDICT, json=ROW, headers={"host": "rebound.example"}).status_code == 400
    for host in ("localhost:8000", "127.0.0.1", "[::1]:8000"):
        assert client.post(PREDICT, json=ROW, headers={"host": host}).status_code == 200, host


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; "
                                          "boundary=x", "application/jsonp", None])
def test_bodies_that_are_not_sent_as_json_get_415(client, content_type):
    headers = {"content-type": content_type} if content_type else {}
    http = TestClient(client.app, headers={}) if content_type is None else client     # sends no content type
    r = http.post(PREDICT, content=orjson.dumps(ROW), headers=headers)
    assert r.status_code == 415 and r.json()["field"] == "content-type"
    assert http.post("/v1/models/digits:feedback", content=b"{}", headers=headers).status_code == 415
    ok = client.post(PREDICT, content=orjson.dumps(ROW), headers={"content-type": "Application/JSON; charset=utf-8"})
    assert ok.status_code == 200


def test_wrong_methods_get_405_and_bad_parameters_the_error_shape(client):
    r = client.get(PREDICT)
    assert r.status_code == 405 and r.headers["allow"] == "POST" and r.json()["field"] == "method"
    r = client.post("/v1/models/digits:reload?force=perhaps")
    assert r.status_code == 422 and r.json()["field"] == "query.force" and "perhaps" in r.json()["detail"]


def test_request_ids_cannot_be_guessed(client):
    ids = [client.post(PREDICT, json=ROW).json()["request_id"] for _ in range(40)]
    assert len(set(ids)) == 40 and all(len(i) >= 22 for i in ids)
    assert len({i[:6] for i in ids}) == 40                     # no shared prefix, no counter


def test_feedback_is_written_once(make_client, tmp_path):
    client = make_client()
    rid = client.post(PREDICT, json=ROW).json()["request_id"]
    assert client.post("/v1/models/digits:feedback", json={"request_id": rid, "label": 1}).status_code == 200
    r = client.post("/v1/models/digits:feedback", json={"request_id": rid, "label": 2})
    assert r.status_code == 409 and "written once" in r.json()["detail"]
    r = client.post("/v1/models/digits:feedback?overwrite=true", json={"request_id": rid, "label": 2})
    assert r.status_code == 403                                   # no admin key on this server: never replaced
    keyed = make_client(api_keys=APIKeys.from_keys([PREDICT_KEY], [ADMIN_KEY]))
    r = keyed.post("/v1/models/digits:feedback?overwrite=true", json={"request_id": rid, "label": 2},
                   headers=_auth(ADMIN_KEY))
    assert r.status_code == 200 and r.json()["label"] == 2
    with sqlite3.connect(tmp_path / "predictions.sqlite") as conn:
        assert conn.execute("SELECT label FROM feedback").fetchall() == [("2",)]


def test_error_messages_echo_client_text_bounded(client, make_table_client):
    key = "k" * 10_000 + '"\n<script>'
    r = client.post(PREDICT, content=orjson.dumps({key: 1}))
    assert r.status_code == 422 and len(r.text) < 1500
    r = make_table_client().post("/v1/models/table:predict", json={"instances": [{key: 1}]})
    assert r.status_code == 422 and len(r.text) < 2500 and "<script>" not in r.json()["field"]


# ---- CPU work, the log file, the docs page ---------------------------------------------------------------------------
def test_large_requests_are_computed_off_the_event_loop(client, monkeypatch):
    from learnloop.serving.predict import PredictHandler

    threads = []
    compute = PredictHandler.compute

    def recorded(served, body):
        threads.append(threading.current_thread().name)
        return compute(served, body)

    monkeypatch.setattr(PredictHandler, "compute", staticmethod(recorded))
    x, _ = digits_xy()
    assert client.post(PREDICT, json={"instances": x[:1].tolist()}).status_code == 200
    assert client.post(PREDICT, json={"instances": x[:400].tolist()}).status_code == 200     # ~170 KB
    assert not threads[0].startswith("learnloop-predict") and threads[1].startswith("learnloop-predict")


def test_the_log_is_private_and_bounded_in_bytes(tmp_path):
    from learnloop.serving.predlog import PredictionLog

    log = PredictionLog(tmp_path / "log.sqlite", retention=Retention(max_bytes=2**20))
    big = json.dumps([[0.123456] * 64] * 100)
    for i in range(200):                                        # about 5 MB of rows
        log.write((f"r{i}", time.time(), "m", "v", 0.0, 100, big, "[]"))
    assert stat.S_IMODE(os.stat(tmp_path / "log.sqlite").st_mode) == 0o600
    deadline = time.monotonic() + 10
    conn = sqlite3.connect(tmp_path / "log.sqlite")
    while used_bytes(conn) > 2**20 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert used_bytes(conn) <= 2**20
    newest = conn.execute("SELECT request_id FROM predictions ORDER BY id DESC LIMIT 1").fetchone()[0]
    assert newest == "r199"
    conn.close()
    log.close()
    for suffix in ("-wal", "-shm"):
        path = tmp_path / f"log.sqlite{suffix}"
        if path.exists():
            assert stat.S_IMODE(os.stat(path).st_mode) & 0o077 == 0


def test_the_docs_page_needs_no_network(make_table_client):
    page = make_table_client().get("/docs").text
    assert "<script" not in page and "http://" not in page.replace("http://localhost", "") and "https://" not in page
    assert "content-type: application/json" in page and "table.RowsRequest" not in page.split("<pre>")[0]


# ---- files that cannot be loaded, references that cannot be used ---------------------------------------------------
def test_the_watcher_survives_a_loader_that_raises_anything(model_file, tmp_path):
    from learnloop.saving import load_model

    calls = {"n": 0}

    def loader(path):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("something no loader should raise")
        return load_model(path)

    app = create_app({"digits": model_file}, log_db=tmp_path / "log.sqlite", watch_interval=0.05, loader=loader)
    with TestClient(app) as client:
        old = client.get("/v1/models/digits").json()["version"]
        train_digits_model(model_file, epochs=1, seed=5)                  # the second load raises
        deadline = time.monotonic() + 10
        while not client.get("/readyz").json().get("reload_errors") and time.monotonic() < deadline:
            time.sleep(0.05)
        ready = client.get("/readyz").json()
        assert ready["status"] == "ready" and "RuntimeError" in ready["reload_errors"]["digits"]
        assert "RuntimeError" in client.get("/v1/models/digits").json()["last_reload_error"]
        train_digits_model(model_file, epochs=1, seed=6)                  # a valid file afterwards is picked up
        while client.get("/v1/models/digits").json()["version"] == old and time.monotonic() < deadline:
            time.sleep(0.05)
        info = client.get("/v1/models/digits").json()
        assert info["version"] != old and info["last_reload_error"] is None
        model_file.write_bytes(b"PK\x05\x06" + bytes(18))
        r = client.post("/v1/models/digits:reload")
        assert r.status_code == 422 and "ModelFileError" in r.json()["detail"]


@pytest.mark.parametrize("reference", [
    {"outputs": {"kind": "classes", "labels": [0, 1], "counts": ["x", 1]}, "features": {"bin_edges": [[0, 1]] * 64,
                                                                                         "counts": [[1]] * 64}},
    {"outputs": {"kind": "classes", "labels": list(range(10)), "counts": [1] * 10},
     "features": {"names": ["f"] * 64, "bin_edges": [[1, 0]] * 64, "counts": [[1]] * 64}},
    {"outputs": {"kind": "values"}, "features": {"names": ["f"] * 64, "bin_edges": [[0, 1]] * 64,
                                                 "counts": [[1]] * 64}, "sample": [[0.5] * 63]},
])
def test_malformed_reference_statistics_never_fail_the_monitor_or_metrics(model_file, tmp_path, reference):
    from learnloop.saving import load_model

    model = load_model(model_file)
    model.metadata["reference_statistics"] = reference
    model.save(model_file)
    with TestClient(create_app({"digits": model_file}, log_db=tmp_path / "log.sqlite", watch_interval=0)) as c:
        assert c.post(PREDICT, json=ROW).status_code == 200
        monitor = c.get("/v1/models/digits/monitor")
        assert monitor.status_code == 200 and "no usable reference statistics" in monitor.json()["detail"]
        assert c.get("/metrics").status_code == 200


def test_a_window_of_a_few_requests_gets_no_verdict(client):
    assert client.post(PREDICT, json=ROW).status_code == 200
    drift = client.get("/v1/models/digits/monitor").json()["drift"]
    assert drift["window_size"] == 1 and drift["status"] == "insufficient_data"


# ---- the command line --------------------------------------------------------------------------------------------
def test_serve_says_the_port_is_taken_without_a_banner_first(model_file, tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        out = subprocess.run([sys.executable, "-m", "learnloop.cli", "serve", str(model_file), "--port", str(port),
                              "--log-db", str(tmp_path / "log.sqlite")], capture_output=True, text=True, timeout=120)
    assert out.returncode == 2 and "already in use" in out.stderr and "Traceback" not in out.stderr
    assert "version" not in out.stdout


def test_serve_refuses_a_hostile_file_in_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.llm"
    bad.write_bytes(b"PK\x03\x04" + np.random.default_rng(0).bytes(500))
    assert main(["serve", str(bad), "--log-db", str(tmp_path / "log.sqlite")]) == 2
    assert "not a learnloop model file" in capsys.readouterr().err
