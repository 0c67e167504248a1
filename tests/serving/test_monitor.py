"""Reference statistics, PSI, the sliding window and drift reports."""

from __future__ import annotations

import json

import numpy as np
import pytest
from numpy.testing import assert_allclose

from learnloop.errors import LearnloopError
from learnloop.serving.monitor import DriftWindow, bin_counts, drift_report, psi, reference_statistics


def test_psi_matches_a_hand_computed_value():
    # fractions e = (0.5, 0.5), a = (0.9, 0.1): 0.4 ln(1.8) + (-0.4) ln(0.2) = 0.23511 + 0.64378
    assert psi([50, 50], [90, 10]) == pytest.approx(0.4 * np.log(1.8) - 0.4 * np.log(0.2), rel=1e-9)
    assert psi([10, 20, 30], [1, 2, 3]) == pytest.approx(0.0, abs=1e-12)


def test_psi_of_an_empty_bin_is_large_but_finite():
    value = psi([100, 0], [50, 50])
    assert np.isfinite(value) and value > 2.0


def test_bin_counts_put_values_outside_the_edges_in_the_outer_bins():
    edges = np.array([0.0, 1.0, 2.0, 3.0])
    assert bin_counts(np.array([-5.0, 0.5, 1.0, 2.5, 3.0, 99.0]), edges).tolist() == [2, 1, 3]


def test_reference_statistics_are_json_and_describe_the_data(rng):
    x = rng.normal(size=(500, 3)).astype(np.float32)
    x[:, 2] = 7.0                                     # a constant feature still gets one bin
    labels = rng.integers(0, 4, size=500)
    ref = reference_statistics(x, labels, bins=5, sample_size=100, feature_names=["a", "b", "c"])
    json.dumps(ref, allow_nan=False)
    assert ref["n_samples"] == 500 and ref["input_shape"] == [3]
    assert ref["features"]["names"] == ["a", "b", "c"]
    assert [len(e) for e in ref["features"]["bin_edges"]] == [6, 6, 2]
    assert all(sum(c) == 500 for c in ref["features"]["counts"])
    assert [sum(c) for c in ref["features"]["counts"]] == [500, 500, 500]
    assert len(ref["sample"]) == 100 and len(ref["sample"][0]) == 3
    assert ref["outputs"] == {"kind": "classes", "labels": [0, 1, 2, 3],
                              "counts": np.bincount(labels).tolist()}


def test_reference_statistics_flatten_images_and_describe_regression_outputs(rng):
    x = rng.random((50, 4, 4))
    ref = reference_statistics(x, rng.normal(size=(50, 1)))
    assert ref["input_shape"] == [4, 4] and len(ref["features"]["bin_edges"]) == 16
    assert ref["outputs"]["kind"] == "values" and sum(ref["outputs"]["counts"]) == 50


def test_reference_statistics_refuse_mismatched_inputs(rng):
    with pytest.raises(LearnloopError, match="x has 10 samples but y_pred has 9"):
        reference_statistics(rng.random((10, 2)), np.zeros(9, dtype=int))
    with pytest.raises(LearnloopError, match="at least one sample"):
        reference_statistics(np.zeros((0, 2)), np.zeros(0, dtype=int))


def test_window_keeps_the_last_rows_in_order():
    w = DriftWindow(n_features=2, size=5)
    for start in range(0, 12, 3):                     # rows 0..11 in blocks of 3
        rows = np.arange(start, start + 3, dtype=float)
        w.add(np.stack([rows, -rows], axis=1), rows)
    x, y = w.snapshot()
    assert y.tolist() == [7, 8, 9, 10, 11] and x[:, 1].tolist() == [-7, -8, -9, -10, -11]
    assert w.count == 12
    w.add(np.arange(40, dtype=float).reshape(20, 2), np.arange(20, dtype=float))   # more than the window
    assert w.snapshot()[1].tolist() == [15, 16, 17, 18, 19]


def test_drift_report_is_stable_on_training_like_data_and_flags_a_shift(rng):
    x = rng.normal(size=(3000, 4))
    labels = (x[:, 0] > 0).astype(int)
    ref = reference_statistics(x, labels)
    same = rng.normal(size=(1000, 4))
    report = drift_report(ref, same, (same[:, 0] > 0).astype(float))
    assert report["status"] == "stable" and report["drifted_features"] == 0
    assert report["prediction"]["psi"] < 0.05
    shifted = same.copy()
    shifted[:, 2] += 1.5                              # one feature moves
    report = drift_report(ref, shifted, np.ones(1000))  # and every prediction becomes class 1
    assert report["status"] == "drift"
    assert report["top"][0]["name"] == "f2" and report["top"][0]["psi"] > 0.25
    assert report["features"][2]["ks_pvalue"] < 1e-6 and report["features"][1]["ks_pvalue"] > 1e-3
    assert report["prediction"]["psi"] > 0.25
    assert_allclose(sum(report["prediction"]["window"].values()), 1.0)


def test_drift_report_of_an_empty_window():
    ref = reference_statistics(np.arange(10.0).reshape(5, 2), np.arange(5))
    assert drift_report(ref, np.zeros((0, 2)), np.zeros(0))["status"] == "no_data"


def _raw_table(rng, n: int = 1000) -> dict:
    age = rng.normal(40, 10, n)
    age[:50] = np.nan
    city = rng.choice(np.array([f"c{i}" for i in range(30)] + [None], dtype=object), n)
    return {"age": age, "city": city, "code": rng.choice([1, 2, 3], n), "unused": np.arange(n)}


def test_reference_statistics_of_raw_columns_are_small_json(rng):
    table = _raw_table(rng)
    ref = reference_statistics(table, np.zeros(1000, dtype=int), sample_size=200, max_categories=10,
                               column_types={"age": "numeric", "city": "categorical", "code": "integer"})
    json.dumps(ref, allow_nan=False)
    assert ref["kind"] == "columns" and ref["n_samples"] == 1000 and list(ref["columns"]) == ["age", "city", "code"]
    age, city, code = (ref["columns"][c] for c in ("age", "city", "code"))
    assert age["type"] == "numeric" and age["missing"] == 50 and sum(age["counts"]) == 950
    assert len(age["sample"]) == 200 and age["median"] == pytest.approx(np.nanmedian(table["age"]))
    assert city["type"] == "categorical" and len(city["categories"]) == 10
    assert sum(city["counts"]) + city["other"] + city["missing"] == 1000
    assert city["counts"] == sorted(city["counts"], reverse=True)
    assert code["type"] == "categorical" and sorted(code["categories"]) == ["1", "2", "3"] and code["other"] == 0
    default = reference_statistics({"x": [1.0, 2.0], "t": ["a", "b"]}, np.array([0, 1]))
    assert [c["type"] for c in default["columns"].values()] == ["numeric", "categorical"]
    with pytest.raises(LearnloopError, match="x has 3 rows but y_pred has 2"):
        reference_statistics({"x": [1.0, 2.0, 3.0]}, np.array([0, 1]))


def test_column_codes_and_drift_per_raw_field(rng):
    from learnloop.serving.drift_columns import ColumnCoder

    table = _raw_table(rng, 3000)
    types = {"age": "numeric", "city": "categorical", "code": "categorical"}
    ref = reference_statistics(table, np.zeros(3000, dtype=int), max_categories=20, column_types=types)
    vocabulary = {f"c{i}" for i in range(30)}
    coder = ColumnCoder(ref, {"city": vocabulary})
    first = ref["columns"]["city"]["categories"][0]
    codes, unseen = coder.encode({"age": [30.0, None], "city": [first, "atlantis"], "code": [2, None]}, 2)
    assert codes[0].tolist() == [30.0, 0, ref["columns"]["code"]["categories"].index("2")]
    assert np.isnan(codes[1, 0]) and codes[1, 1] == 21 and codes[1, 2] == 3 + 2 and unseen == {"city": 1}
    other = sorted(vocabulary - set(ref["columns"]["city"]["categories"]))[0]
    assert coder.encode({"city": [other]}, 1)[0][0, 1] == 20                    # known to the model: "other"
    same = _raw_table(np.random.default_rng(1), 1000)
    x, _ = coder.encode({k: list(v) for k, v in same.items()}, 1000)
    report = drift_report(ref, x, np.zeros(1000))
    assert report["status"] == "stable" and report["unseen_values"]["total"] == 0
    shifted = dict(same, city=np.array(["atlantis"] * 300 + list(same["city"][300:]), dtype=object))
    x, _ = coder.encode({k: list(v) for k, v in shifted.items()}, 1000)
    report = drift_report(ref, x, np.zeros(1000))
    assert report["status"] == "drift" and report["top"][0]["name"] == "city"
    assert report["unseen_values"] == {"total": 300, "by_feature": {"city": 300}}
    assert {r["name"]: r["psi"] for r in report["features"]}["age"] < 0.1
