"""The loop report's error analysis and fairness parts on tables: raw rows, error rates by column value, original
labels, regression metrics by group, and pictures only for pictures."""

from __future__ import annotations

import json

import numpy as np
import pytest

from learnloop.cli import main

pytest.importorskip("matplotlib")


def _run(tmp_path, columns: dict, *args) -> tuple[dict, str]:
    from learnloop.data.tables import write_table

    path = write_table(columns, tmp_path / "data.csv")
    out = tmp_path / "out"
    assert main(["run", "--data", str(path), "--quick", "--out", str(out), *args]) == 0
    return json.loads((out / "report.json").read_text()), (out / "report.html").read_text()


@pytest.mark.parametrize("width", [9, 16, 25, 64])
def test_a_table_with_a_square_number_of_features_is_not_drawn_as_pictures(tmp_path, rng, width):
    n = 160
    x = rng.normal(size=(n, width)).round(3)
    columns = {f"f{j}": x[:, j] for j in range(width)}
    columns["group"] = rng.choice(["a", "b"], size=n)
    columns["label"] = np.where(x[:, 0] + x[:, 1] + rng.normal(scale=0.7, size=n) > 0, "yes", "no")
    report, page = _run(tmp_path, columns, "--target", "label", "--group", "group")
    assert not (tmp_path / "out" / "misclassified.png").exists()
    assert "Misclassified cv examples" not in page
    analysis = report["error_analysis"]
    assert analysis["n"] == 32 and len(analysis["error_rows"]) == min(20, analysis["n_errors"])
    if analysis["error_rows"]:
        row = analysis["error_rows"][0]
        assert {row["true"], row["predicted"]} == {"yes", "no"} and set(columns) - {"label"} <= set(row)
        assert "Misclassified cv rows" in page
    assert "Error rate by column value (cv set)" in page
    fairness = report["fairness"]
    assert fairness["features"] == ["group"] and fairness["pos_label"] == "yes"
    assert "positive class &#x27;yes&#x27;" in page


def test_a_regression_table_gets_error_rows_slices_and_fairness_by_mae(tmp_path, rng):
    n = 200
    x1 = rng.normal(size=n).round(3)
    region = rng.choice(["east", "west"], size=n)
    noise = rng.normal(scale=np.where(region == "east", 1.5, 0.1))
    columns = {"x1": x1, "region": region, "kind": rng.choice(["p", "q", "r"], size=n),
               "y": (3 * x1 + noise).round(3)}
    report, page = _run(tmp_path, columns, "--target", "y", "--group", "region", "--task", "regression")
    analysis = report["error_analysis"]
    errors = [abs(r["error"]) for r in analysis["error_rows"]]
    assert errors == sorted(errors, reverse=True) and analysis["slice_measure"] == "mean |error|"
    assert "cv rows with the largest errors" in page and "Mean |error| by column value (cv set)" in page
    fairness = report["fairness"]
    assert fairness["metrics"] == ["mae", "mse", "mean_prediction"] and fairness["pos_label"] is None
    by_group = {r["region"]: r for r in fairness["rows"]}
    assert by_group["east"]["mae"] > by_group["west"]["mae"]
    assert fairness["demographic_parity_difference"] is None
    assert "Fairness by region (test set)" in page
