"""A CSV whose numbers are written as text (prices with "$" and ",", percentages, dates, a "$" target): typed as
numbers by learnloop run, and read the same way by predict, errors, audit, the server and the budgeted run."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from learnloop import load_model
from learnloop.cli import main
from learnloop.data.tables import read_table, write_table


@pytest.fixture(scope="module")
def houses(tmp_path_factory):
    rng = np.random.default_rng(7)
    n = 900
    area = rng.uniform(40, 300, n)
    listed = np.datetime64("2019-01-01") + rng.integers(0, 1500, n)
    city = rng.choice(["north", "south", "east"], n)
    price = 1000 * (2 * area + 0.05 * (listed - np.datetime64("2019-01-01")).astype(float)
                    + 40 * (city == "north") + rng.normal(0, 10, n))
    columns = {
        "listed": np.array([str(d) for d in listed], dtype=object),
        "area": np.array([f"{v:,.1f} " for v in area], dtype=object),
        "tax": np.array([f"{v:.2f}%" for v in rng.uniform(0.5, 2.5, n)], dtype=object),
        "city": city.astype(object),
        "price": np.array([f"${v:,.0f}" for v in price], dtype=object),
    }
    folder = tmp_path_factory.mktemp("houses")
    path = write_table(columns, folder / "houses.csv")
    out = folder / "out"
    assert main(["run", "--data", str(path), "--target", "price", "--quick", "--out", str(out)]) == 0
    return path, out, price


def test_run_types_the_text_columns_as_numbers_and_the_target_as_amounts(houses):
    path, out, price = houses
    report = json.loads((out / "report.json").read_text())
    kinds = {c["name"]: c for c in report["columns"]}
    assert kinds["listed"]["kind"] == "numeric" and kinds["listed"]["parse"] == {"kind": "date", "format": "iso"}
    assert kinds["area"]["kind"] == "numeric" and kinds["tax"]["kind"] == "numeric"
    assert kinds["city"]["kind"] == "categorical"
    assert report["task"] == "regression"
    assert any("target 'price' read from text such as '$" in note for note in report["notes"])
    # the network learned the amounts: far below the variance of the price (what predicting the mean costs)
    assert report["j_test"] < 0.1 * np.var(price) / 2
    meta = load_model(out / "model.zip").metadata
    assert meta["target_parse"] == {"kind": "number", "decimal": ".", "thousands": ","}


def test_predict_errors_and_audit_read_the_raw_file(houses, tmp_path, capsys):
    path, out, price = houses
    model = out / "model.zip"
    assert main(["predict", str(model), "--data", str(path), "-o", str(tmp_path / "p.csv")]) == 0
    predicted = read_table(tmp_path / "p.csv").columns["prediction"]
    assert np.sqrt(np.mean((predicted - price) ** 2)) < 0.2 * np.std(price)
    assert main(["errors", str(model), "--data", str(path), "--target", "price", "--out",
                 str(tmp_path / "errors")]) == 0
    assert main(["audit", str(model), "--data", str(path), "--target", "price", "--group", "city"]) == 0
    assert "north" in capsys.readouterr().out


def test_a_bad_amount_is_named_by_row_and_column(houses, tmp_path, capsys):
    path, out, _ = houses
    text = path.read_text().splitlines()
    fields = text[3].split(",")
    text[3] = ",".join([fields[0], '"about 80"', *fields[2:]])
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join(text) + "\n")
    assert main(["predict", str(out / "model.zip"), "--data", str(bad), "-o", str(tmp_path / "p.csv")]) == 2
    err = capsys.readouterr().err
    assert "row 3" in err and "column 'area'" in err and "'about 80'" in err


def test_the_server_takes_the_amounts_as_text_or_numbers(houses, tmp_path, monkeypatch):
    pytest.importorskip("fastapi")
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[1] / "serving"))
    from serving_helpers import TestClient

    from learnloop.serving.app import create_app

    _, out, _ = houses
    row = {"listed": "2020-06-01", "area": 120.5, "tax": "1.5%", "city": "north"}
    same = {"listed": 18414.0, "area": 120.5, "tax": 1.5, "city": "north"}
    with TestClient(create_app({"houses": out / "model.zip"}, log_db=tmp_path / "log.sqlite",
                               watch_interval=0)) as client:
        a = client.post("/v1/models/houses:predict", json={"instances": [row]})
        b = client.post("/v1/models/houses:predict", json={"instances": [same, row]})
        assert a.status_code == b.status_code == 200, (a.text, b.text)
        first = a.json()["predictions"][0]
        assert b.json()["predictions"] == [pytest.approx(first, rel=1e-6)] * 2
        bad = client.post("/v1/models/houses:predict", json={"instances": [dict(row, tax="high")]})
        assert bad.status_code == 422 and bad.json()["field"] == "instances[0].tax"
        assert "does not read as numbers written as text" in bad.json()["detail"]
        schema = json.dumps(client.get("/openapi.json").json())
        assert '"type": ["number", "string"]' in schema


def test_the_onnx_graph_refuses_and_the_numeric_core_describes_the_format(houses, tmp_path, capsys):
    pytest.importorskip("onnx")
    _, out, _ = houses
    assert main(["export", str(out / "model.zip"), "-o", str(tmp_path / "m.onnx")]) == 2
    assert "reads numbers written as text" in capsys.readouterr().err
    assert main(["export", str(out / "model.zip"), "-o", str(tmp_path / "core.onnx"), "--numeric-core"]) == 0
    encoding = json.loads((tmp_path / "core.encoding.json").read_text())
    assert encoding["features"]["listed"]["parse"] == {"kind": "date", "format": "iso"}


def test_the_budgeted_run_reads_the_text_columns_on_every_pass(houses, tmp_path):
    path, _, price = houses
    out = tmp_path / "sampled"
    assert main(["run", "--data", str(path), "--target", "price", "--quick", "--sample", "500", "--out",
                 str(out)]) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["task"] == "regression" and report["j_test"] < 0.1 * np.var(price) / 2
    stages = {s["stage"]: s for s in report["stages"]}
    assert stages["final training"]["rows"] == report["split_sizes"]["train"]
