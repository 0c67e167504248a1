"""``learnloop audit``: a saved model, a CSV, a table by group and an exit code that gates."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from learnloop import Input, Sequential
from learnloop.cli import main
from learnloop.commands.audit import audit_csv, features_from_csv, read_csv
from learnloop.fairness import audit
from learnloop.layers import Dense


def _write_csv(path, rows, header):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path


@pytest.fixture
def case(tmp_path, rng):
    """A model that predicts 1 exactly when x1 >= 0, and data where that is right more often for men."""
    n = 400
    sex = rng.choice(["female", "male"], size=n)
    race = rng.choice(["a", "b"], size=n)
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    y = (x1 >= 0).astype(int)
    flip = rng.random(n) < np.where(sex == "female", 0.3, 0.05)
    y = np.where(flip, 1 - y, y)
    data = _write_csv(tmp_path / "data.csv", zip(x1, sex, x2, race, y), ["x1", "sex", "x2", "race", "label"])
    model = Sequential([Input((2,)), Dense(1, activation="sigmoid")])
    model.set_weights([np.array([[10.0], [0.0]]), np.zeros(1)])
    model_path = tmp_path / "model.zip"
    model.save(model_path)
    expected = audit(y, (x1 >= 0).astype(int), {"sex": sex})
    return {"data": data, "model": model_path, "expected": expected, "sex": sex, "race": race, "y": y, "x1": x1,
            "x2": x2, "tmp": tmp_path}


def test_prints_the_table_and_passes_a_loose_gate(case, capsys):
    code = main(["audit", str(case["model"]), "--data", str(case["data"]), "--target", "label", "--group", "sex",
                 "--max-difference", "0.9"])
    out = capsys.readouterr().out
    assert code == 0
    assert str(case["expected"]) in out
    assert "gate: difference between groups <= 0.9" in out and out.rstrip().endswith("pass")


def test_a_strict_gate_fails_with_exit_code_1_and_names_the_metrics(case, capsys):
    gap = case["expected"].difference()["accuracy"]
    assert gap > 0.15                                              # the data was made unfair on purpose
    code = main(["audit", str(case["model"]), "--data", str(case["data"]), "--target", "label", "--group", "sex",
                 "--max-difference", "0.1", "--metric", "accuracy", "--metric", "selection_rate"])
    out = capsys.readouterr().out
    diffs = case["expected"].difference()
    failing = ", ".join(f"{m} {diffs[m]:.4f}" for m in ("accuracy", "selection_rate") if diffs[m] > 0.1)
    assert code == 1
    assert out.rstrip().endswith(f"on ['accuracy', 'selection_rate']: FAIL: {failing}")
    assert failing.startswith(f"accuracy {gap:.4f}")


def test_without_a_gate_it_only_reports(case, capsys):
    assert main(["audit", str(case["model"]), "--data", str(case["data"]), "--target", "label",
                 "--group", "sex", "--group", "race"]) == 0
    out = capsys.readouterr().out
    assert "Fairness audit by sex, race" in out and "female, a" in out and "gate:" not in out


def test_json_report(case, capsys):
    path = case["tmp"] / "out" / "audit.json"
    main(["audit", str(case["model"]), "--data", str(case["data"]), "--target", "label", "--group", "sex",
          "--max-difference", "0.1", "--json", str(path)])
    doc = json.loads(path.read_text())
    assert doc["features"] == ["sex"] and doc["gate"]["max_difference"] == 0.1
    assert doc["gate"]["failed"]["accuracy"] == pytest.approx(case["expected"].difference()["accuracy"])


def test_stored_feature_names_choose_and_order_the_columns(case):
    model = Sequential([Input((2,)), Dense(1, activation="sigmoid")])
    model.set_weights([np.array([[0.0], [10.0]]), np.zeros(1)])    # predicts from its second feature
    model.metadata["feature_names"] = ["x2", "x1"]
    report = audit_csv(model, case["data"], "label", ["sex"])       # so x1 >= 0 again, as in the fixture
    assert report.by_group == case["expected"].by_group


def test_text_labels_need_pos_label(case, capsys):
    y_text = np.where(case["y"] == 1, ">50K", "<=50K")
    data = _write_csv(case["tmp"] / "text.csv", zip(case["x1"], case["x2"], case["sex"], y_text),
                      ["x1", "x2", "sex", "income"])
    assert main(["audit", str(case["model"]), "--data", str(data), "--target", "income", "--group", "sex"]) == 2
    assert "holds text labels ['<=50K', '>50K']; pass --pos-label" in capsys.readouterr().err
    assert main(["audit", str(case["model"]), "--data", str(data), "--target", "income", "--group", "sex",
                 "--pos-label", ">50K"]) == 0
    assert str(case["expected"]) in capsys.readouterr().out


@pytest.mark.parametrize("args, message", [
    (["--target", "labels", "--group", "sex"], "has no target column 'labels'; its columns are ['x1', 'sex'"),
    (["--target", "label", "--group", "gender"], "has no group column 'gender'"),
])
def test_bad_columns_exit_2_with_the_columns_listed(case, capsys, args, message):
    assert main(["audit", str(case["model"]), "--data", str(case["data"]), *args]) == 2
    assert message in capsys.readouterr().err


def test_missing_model_file_exits_2(case, capsys):
    assert main(["audit", str(case["tmp"] / "nope.zip"), "--data", str(case["data"]), "--target", "label",
                 "--group", "sex"]) == 2
    assert "No model file" in capsys.readouterr().err


def test_features_skip_text_and_missing_columns(tmp_path):
    path = _write_csv(tmp_path / "d.csv", [["1", "a", "?", "0", "m"], ["2", "b", "3", "1", "f"]],
                      ["num", "text", "gappy", "y", "sex"])
    x, names = features_from_csv(read_csv(path), "y", ["sex"])
    assert names == ["num"] and x.tolist() == [[1.0], [2.0]] and x.dtype == np.float32
    with pytest.raises(ValueError, match="Feature column 'gappy' .* must be numeric with no missing values; "
                                         "found '\\?'"):
        features_from_csv(read_csv(path), "y", ["sex"], feature_names=["num", "gappy"])


def test_ragged_csv_is_an_error(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("a,b\n1,2\n3\n")
    with pytest.raises(ValueError, match="bad.csv, line 3: 1 fields; the header has 2"):
        read_csv(path)
