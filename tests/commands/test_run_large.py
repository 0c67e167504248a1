"""``learnloop run`` on a table larger than its diagnosis sample: the diagnosis on a sample, the chosen network on
every training row, the report's stages; and its sweeps on a dask cluster."""

from __future__ import annotations

import json

import numpy as np
import pytest

from learnloop.cli import main
from learnloop.data.sampling import row_parts
from learnloop.data.tables import write_table

pytest.importorskip("matplotlib")

STAGES = ["read", "features", "encode", "diagnosis", "baseline", "architectures", "lambda", "learning curve",
          "final training", "J_cv and J_test"]


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    rng = np.random.default_rng(0)
    n = 3_000
    x = rng.normal(size=(n, 4))
    color = rng.choice(["red", "green", "blue"], n).astype(object)
    z = 1.5 * x[:, 0] - x[:, 1] + (color == "red")
    columns = {f"x{i}": x[:, i].round(4) for i in range(4)}
    columns["color"] = color
    columns["sex"] = rng.choice(["female", "male"], n).astype(object)
    columns["y"] = np.where(rng.random(n) < 1 / (1 + np.exp(-z)), "yes", "no").astype(object)
    return write_table(columns, tmp_path_factory.mktemp("table") / "t.csv"), columns


def _run(path, out, *extra, target: str = "y") -> dict:
    assert main(["run", "--data", str(path), "--target", target, "--quick", "--out", str(out), *extra]) == 0
    return json.loads((out / "report.json").read_text())


@pytest.fixture(scope="module")
def sampled(table, tmp_path_factory):
    out = tmp_path_factory.mktemp("sampled")
    return _run(table[0], out, "--sample", "1000", "--group", "sex"), out


def test_the_diagnosis_runs_on_the_sample_and_the_final_model_on_every_training_row(sampled):
    report, out = sampled
    parts = np.bincount(row_parts(0, 3_000, 0), minlength=3)
    assert report["split_sizes"] == {"train": parts[0], "cv": parts[1], "test": parts[2]}
    stages = {s["stage"]: s for s in report["stages"]}
    assert [s["stage"] for s in report["stages"]] == STAGES
    assert stages["read"]["rows"] == 3_000 and stages["diagnosis"]["rows"] == 1_000
    assert stages["diagnosis"]["why"].startswith("the sample size was given (--sample 1,000)")
    assert stages["final training"]["rows"] == parts[0]
    assert "early stopping on all" in stages["final training"]["why"]
    assert stages["J_cv and J_test"]["rows"] == parts[1] + parts[2]
    sample = report["diagnosis_sample"]
    assert sample["rows"] == 1_000 and sum(sample["split_sizes"].values()) == 1_000
    assert stages["baseline"]["rows"] == sample["split_sizes"]["train"]
    diagnosis = report["diagnosis"]
    assert diagnosis["n_cv"] == parts[1]                               # the verdict's J_cv: every cv row
    assert diagnosis["n_train"] == sample["split_sizes"]["train"]      # J_train paired with the baseline's rows
    assert report["verdict"] == diagnosis["verdict"] and report["final_training"]["epochs"] >= 1
    assert report["sample_diagnosis"]["n_cv"] == sample["split_sizes"]["cv"]
    assert any("J_cv on all" in note for note in report["notes"])


def test_the_fairness_audit_and_the_error_analysis_use_the_rows_kept(sampled):
    report, _ = sampled
    kept = np.bincount(row_parts(0, 3_000, 0), minlength=3)          # 3,000 rows: every row is kept
    assert sum(row["count"] for row in report["fairness"]["rows"]) == kept[2]
    assert report["error_analysis"]["n"] == kept[1]
    assert "sex" not in report["selected"] and all(c["name"] != "sex" for c in report["columns"])


def test_a_regression_table_trains_its_final_network_on_every_row(tmp_path, rng):
    n = 2_500
    x = rng.normal(size=(n, 3))
    path = write_table({"a": x[:, 0], "b": x[:, 1], "c": x[:, 2], "price": 100 + 20 * x[:, 0] - 5 * x[:, 1]
                        + rng.normal(scale=3, size=n)}, tmp_path / "r.csv")
    report = _run(path, tmp_path / "out", "--sample", "800", target="price")
    assert report["task"] == "regression"
    stages = {s["stage"]: s for s in report["stages"]}
    assert stages["final training"]["rows"] == report["split_sizes"]["train"] > 1_400
    assert report["j_test"] < 40                          # squared error / 2 of a network that learned (noise: 4.5)
    assert report["interval_methods"]["j_cv"] == "bootstrap"


def test_the_saved_model_takes_raw_rows(sampled, table):
    from learnloop import load_model

    _, out = sampled
    _, columns = table
    model = load_model(out / "model.zip")
    rows = {k: v[:50] for k, v in columns.items() if k not in ("y", "sex")}
    assert model.predict(rows).shape == (50, 1)
    assert model.metadata["classes"] == ["no", "yes"]


def test_the_printed_summary_says_the_stages(table, tmp_path, capsys, monkeypatch):
    from learnloop.diagnostics import budget

    monkeypatch.setattr(budget, "FIRST_SAMPLE", 1_000)
    report = _run(table[0], tmp_path, "--time-budget", "1")
    out = capsys.readouterr().out
    assert "[1/7] reading" in out and "[4/7] final training: the chosen network on all" in out
    assert "\nstages: read 3,000 rows " in out and "; diagnosis 1,000 rows " in out
    assert "measured: the verdict and its intervals: J_train on the" in out
    stages = {s["stage"]: s for s in report["stages"]}
    assert stages["diagnosis"]["rows"] == 1_000                           # the budget was spent: no growth
    assert report["final_training"]["epochs"] == 1
    assert "stopped by the time budget" in stages["final training"]["why"]


def test_sample_all_runs_the_loop_on_every_row_in_memory(table, tmp_path, capsys):
    report = _run(table[0], tmp_path, "--sample", "all")
    assert "[1/5] loading" in capsys.readouterr().out
    assert sum(report["split_sizes"].values()) == 3_000
    assert report["stages"][0] == {**report["stages"][0], "stage": "read", "rows": 3_000,
                                   "why": "every row: --sample all"}


def test_the_sweeps_on_a_dask_cluster_give_the_local_run(table, sampled, tmp_path, dask_cluster):
    local, _ = sampled
    remote = _run(table[0], tmp_path, "--sample", "1000", "--group", "sex", "--scheduler",
                  dask_cluster.scheduler_address)
    for curve in ("architecture_curve", "validation_curve", "learning_curve"):
        assert remote[curve]["j_cv"] == local[curve]["j_cv"]
    assert remote["verdict"] == local["verdict"] and remote["selected"] == local["selected"]
    assert remote["j_test"] == local["j_test"]


def test_an_unreachable_scheduler_stops_the_run_in_one_line(table, tmp_path, capsys, monkeypatch):
    pytest.importorskip("distributed")
    from learnloop import _cluster

    monkeypatch.setattr(_cluster, "CONNECT_TIMEOUT", 0.5)
    assert main(["run", "--data", str(table[0]), "--scheduler", "tcp://127.0.0.1:9", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("learnloop run: error: cannot reach the dask scheduler at tcp://127.0.0.1:9: ")
