"""``learnloop audit``: a saved model, a raw table, metrics by group and an exit code that gates."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from learnloop import Input, Sequential
from learnloop.cli import main
from learnloop.commands._labelled import ModelView
from learnloop.commands.audit import audit_file
from learnloop.fairness import audit
from learnloop.layers import Dense


def _write_csv(path, rows, header=None):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        if header is not None:
            w.writerow(header)
        w.writerows(rows)
    return path


# ---- array models (no FeatureSpace): the columns by name, labels as numbers ----------------------------------
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
    assert doc["data_rows"] == {"read": 400, "audited": 400, "left_out": {"target": 0, "group sex": 0}}


def test_stored_feature_names_choose_and_order_the_columns(case):
    model = Sequential([Input((2,)), Dense(1, activation="sigmoid")])
    model.set_weights([np.array([[0.0], [10.0]]), np.zeros(1)])    # predicts from its second feature
    model.metadata["feature_names"] = ["x2", "x1"]
    report, _, _ = audit_file(ModelView.of(model), case["data"], "label", ["sex"])   # so x1 >= 0 again
    assert report.by_group == case["expected"].by_group


def test_text_labels_need_pos_label_when_the_model_names_no_classes(case, capsys):
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


def test_an_array_model_needs_numeric_features_without_gaps(tmp_path, capsys):
    path = _write_csv(tmp_path / "d.csv", [["1", "a", "?", "0", "m"], ["2", "b", "3", "1", "f"]],
                      ["num", "text", "gappy", "y", "sex"])
    model = Sequential([Input((2,)), Dense(1, activation="sigmoid")])
    model.metadata["feature_names"] = ["num", "gappy"]
    model.save(tmp_path / "m.zip")
    assert main(["audit", str(tmp_path / "m.zip"), "--data", str(path), "--target", "y", "--group", "sex"]) == 2
    assert "Feature column 'gappy' of" in capsys.readouterr().err


def test_ragged_table_is_an_error(case, tmp_path, capsys):
    path = tmp_path / "bad.csv"
    path.write_text("x1,x2,sex,label\n" + "1,2,m,0\n" * 5 + "3\n")
    assert main(["audit", str(case["model"]), "--data", str(path), "--target", "label", "--group", "sex"]) == 2
    assert "line 7 has 1 fields where the table has 4" in capsys.readouterr().err


# ---- table models written by learnloop run: raw columns in, original labels out -------------------------------
def _table(rng, n=300):
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    color = rng.choice(["red", "green", "blue"], size=n)
    sex = rng.choice(["F", "M"], size=n)
    score = x1 + (color == "red") + np.where(sex == "F", rng.normal(scale=1.0, size=n), rng.normal(scale=0.3, size=n))
    label = np.where(score > 0.3, "yes", "no")
    return {"x1": x1.round(3), "color": color, "x2": x2.round(3), "sex": sex, "label": label,
            "price": (3 * x1 - x2 + (color == "red") + rng.normal(scale=0.2, size=n)).round(3)}


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """Two models learnloop run writes on the same generated table: a classifier of label and a regression of
    price (each leaving the other target out)."""
    folder = tmp_path_factory.mktemp("audit_models")
    t = _table(np.random.default_rng(5))
    header = list(t)
    _write_csv(folder / "train.csv", zip(*t.values()), header)
    out = {"folder": folder, "table": _table(np.random.default_rng(6)), "header": header}
    for name, target, extra in (("clf", "label", ["--drop", "price"]), ("reg", "price", ["--drop", "label"])):
        assert main(["run", "--data", str(folder / "train.csv"), "--target", target, "--group", "sex", "--quick",
                     "--seed", "0", "--out", str(folder / name), *extra]) == 0
        out[name] = folder / name / "model.zip"
    return out


def _test_file(trained, path, header=True, **changes):
    t = {**trained["table"], **changes}
    return _write_csv(path, zip(*t.values()), list(t) if header else None)


def test_a_table_model_is_audited_on_the_raw_columns_with_its_classes(trained, tmp_path, capsys):
    path = _test_file(trained, tmp_path / "test.csv")
    assert main(["audit", str(trained["clf"]), "--data", str(path), "--target", "label", "--group", "sex",
                 "--json", str(tmp_path / "a.json")]) == 0
    out = capsys.readouterr().out
    assert "classes 'no', 'yes'; table model reading the raw columns color, x1, x2" in out
    assert "positive class: 'yes' (the model's second class; --pos-label chooses the other)" in out
    import learnloop

    model = learnloop.load_model(trained["clf"])
    t = trained["table"]
    logits = model.predict({k: v for k, v in t.items()})[:, 0]
    expected = audit(t["label"], np.where(logits >= 0, "yes", "no"), {"sex": t["sex"]}, pos_label="yes")
    assert str(expected) in out
    doc = json.loads((tmp_path / "a.json").read_text())
    assert doc["pos_label"] == "yes" and doc["classes"] == ["no", "yes"] and doc["task"] == "classification"
    assert main(["audit", str(trained["clf"]), "--data", str(path), "--group", "sex", "--pos-label", "no"]) == 0
    flipped = audit(t["label"], np.where(logits >= 0, "yes", "no"), {"sex": t["sex"]}, pos_label="no")
    out = capsys.readouterr().out
    assert "positive class: 'no' (--pos-label)" in out and str(flipped) in out      # --target from the model


def test_rows_with_a_missing_target_or_group_are_left_out_and_counted(trained, tmp_path, capsys):
    t = trained["table"]
    label = t["label"].astype(object)
    label[[0, 5, 9]] = ""
    sex = t["sex"].astype(object)
    sex[[5, 20]] = "?"
    path = _test_file(trained, tmp_path / "gaps.csv", label=label, sex=sex)
    assert main(["audit", str(trained["clf"]), "--data", str(path), "--target", "label", "--group", "sex",
                 "--json", str(tmp_path / "a.json")]) == 0
    out = capsys.readouterr().out
    assert "rows: 296 of 300 audited (left out: 3 with a missing target, 1 with a missing group sex)" in out
    assert "Fairness audit by sex: 296 samples, 2 groups" in out
    doc = json.loads((tmp_path / "a.json").read_text())
    assert doc["data_rows"] == {"read": 300, "audited": 296, "left_out": {"target": 3, "group sex": 1}}


def test_missing_feature_values_go_through_the_models_own_pipeline(trained, tmp_path, capsys):
    color = trained["table"]["color"].astype(object)
    color[:10] = ""                                               # missing text is a category of the pipeline
    path = _test_file(trained, tmp_path / "gaps.csv", color=color)
    assert main(["audit", str(trained["clf"]), "--data", str(path), "--target", "label", "--group", "sex"]) == 0
    x1 = trained["table"]["x1"].astype(object)
    x1[7] = "?"                                                   # trained without missing numbers: refused
    path = _test_file(trained, tmp_path / "gaps2.csv", x1=x1)
    assert main(["audit", str(trained["clf"]), "--data", str(path), "--target", "label", "--group", "sex"]) == 2
    assert "gaps2.csv, data row 7 (from 0): column 'x1' is missing" in capsys.readouterr().err


def test_a_headerless_file_gets_the_models_column_names(trained, tmp_path, capsys):
    path = _test_file(trained, tmp_path / "noheader.csv", header=False)
    assert main(["audit", str(trained["clf"]), "--data", str(path), "--target", "label", "--group", "sex"]) == 0
    out = capsys.readouterr().out
    assert "note: no header line: the 6 columns are named as in the model's training file (x1, color, x2, sex, " \
           "label, price)" in out
    assert "Fairness audit by sex: 300 samples" in out


def test_labels_with_a_trailing_period_are_mapped_with_a_note_and_unknown_labels_are_an_error(trained, tmp_path,
                                                                                              capsys):
    label = np.array([f" {v}." for v in trained["table"]["label"]], dtype=object)
    path = _test_file(trained, tmp_path / "dots.csv", label=label)
    assert main(["audit", str(trained["clf"]), "--data", str(path), "--target", "label", "--group", "sex"]) == 0
    out = capsys.readouterr().out
    assert ("note: target 'label': 300 labels match the model's classes only after removing surrounding spaces and "
            "a trailing period; read 'no.' as 'no', 'yes.' as 'yes'") in out
    label = trained["table"]["label"].astype(object)
    label[:3] = "maybe"
    path = _test_file(trained, tmp_path / "odd.csv", label=label)
    assert main(["audit", str(trained["clf"]), "--data", str(path), "--target", "label", "--group", "sex"]) == 2
    assert "target column 'label' holds labels ['maybe'] that are none of the model's classes ['no', 'yes']" \
        in capsys.readouterr().err
    assert main(["audit", str(trained["clf"]), "--data", str(path), "--group", "sex", "--pos-label", "si"]) == 2
    assert "--pos-label 'si' is not one of the model's classes ['no', 'yes']" in capsys.readouterr().err


def test_parquet_data(trained, tmp_path, capsys):
    from learnloop.data.tables import write_table

    path = write_table(trained["table"], tmp_path / "test.parquet")
    assert main(["audit", str(trained["clf"]), "--data", str(path), "--target", "label", "--group", "sex"]) == 0
    assert "Fairness audit by sex: 300 samples" in capsys.readouterr().out


def test_a_regression_model_is_audited_on_mae_mse_and_mean_prediction(trained, tmp_path, capsys):
    import learnloop

    path = _test_file(trained, tmp_path / "test.csv")
    assert main(["audit", str(trained["reg"]), "--data", str(path), "--target", "price", "--group", "sex"]) == 0
    out = capsys.readouterr().out
    t = trained["table"]
    pred = learnloop.load_model(trained["reg"]).predict(t)[:, 0]
    expected = audit(t["price"], pred, {"sex": t["sex"]}, ["mae", "mse", "mean_prediction"])
    assert "regression; table model" in out and str(expected) in out
    assert "demographic parity" not in out and "positive class" not in out
    # The gate compares one quantity in the target's units, so it needs --metric.
    assert main(["audit", str(trained["reg"]), "--data", str(path), "--group", "sex", "--max-difference", "1"]) == 2
    assert "pass --metric with --max-difference (one of ['mae', 'mse', 'mean_prediction'])" in capsys.readouterr().err
    gap = expected.difference()["mae"]
    assert main(["audit", str(trained["reg"]), "--data", str(path), "--group", "sex", "--metric", "mae",
                 "--max-difference", f"{gap / 2}"]) == 1
    assert capsys.readouterr().out.rstrip().endswith(f"on ['mae']: FAIL: mae {gap:.4f}")
    assert main(["audit", str(trained["reg"]), "--data", str(path), "--group", "sex", "--metric", "tpr"]) == 2
    assert "--metric tpr applies to classification" in capsys.readouterr().err


# ---- real data ---------------------------------------------------------------------------------------------------

@pytest.mark.slow
def test_adult_run_then_audit_on_adult_test_as_given(shared_data, adult_model, capsys):
    capsys.readouterr()
    code = main(["audit", str(adult_model), "--data", str(shared_data / "fairness" /
                 "adult.test"), "--target", "income", "--group", "sex", "--max-difference", "1"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "skipped 1 line before the table" in out and "no header line: the 15 columns are named as in" in out
    assert ("target 'income': 16281 labels match the model's classes only after removing surrounding spaces and a "
            "trailing period; read '<=50K.' as '<=50K', '>50K.' as '>50K'") in out
    assert "positive class: '>50K' (the model's second class" in out
    assert "rows: 16281 of 16281 audited (left out: 0 with a missing target, 0 with a missing group sex)" in out
    assert "Fairness audit by sex: 16281 samples, 2 groups" in out
    female = next(line for line in out.splitlines() if line.startswith("Female "))
    assert female.split()[1] == "5421"
    assert out.rstrip().endswith("pass")


@pytest.mark.slow
def test_german_credit_run_then_audit(shared_data, tmp_path, capsys):
    data = shared_data / "fairness" / "german.data"
    assert main(["run", "--data", str(data), "--target", "column_21", "--group", "column_9", "--quick",
                 "--out", str(tmp_path / "report")]) == 0
    capsys.readouterr()
    path = tmp_path / "audit.json"
    assert main(["audit", str(tmp_path / "report" / "model.zip"), "--data", str(data), "--group", "column_9",
                 "--json", str(path)]) == 0
    out = capsys.readouterr().out
    assert "classes 1, 2;" in out and "positive class: 2 (the model's second class" in out
    assert "Fairness audit by column_9: 1000 samples, 4 groups" in out
    doc = json.loads(path.read_text())
    assert doc["pos_label"] == 2 and {r["column_9"]: r["count"] for r in doc["rows"]} == \
        {"A91": 50, "A92": 310, "A93": 548, "A94": 92}
