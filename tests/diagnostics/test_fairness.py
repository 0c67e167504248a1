"""The fairness audit against fairlearn's MetricFrame, plus golden values by hand and the error messages."""

from __future__ import annotations

import functools
import importlib.util
import math
import re
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose

from learnloop.errors import LearnloopError
from learnloop.fairness import FairnessReport, audit, demographic_parity_difference, equalized_odds_difference

fairlearn_metrics = pytest.importorskip("fairlearn.metrics")
skm = pytest.importorskip("sklearn.metrics")

METHODS = ("between_groups", "to_overall")


def _fairlearn_functions(pos_label):
    fm = fairlearn_metrics
    return {
        "accuracy": skm.accuracy_score,
        "error_rate": lambda yt, yp: 1.0 - skm.accuracy_score(yt, yp),
        "selection_rate": functools.partial(fm.selection_rate, pos_label=pos_label),
        "tpr": functools.partial(fm.true_positive_rate, pos_label=pos_label),
        "fpr": functools.partial(fm.false_positive_rate, pos_label=pos_label),
        "fnr": functools.partial(fm.false_negative_rate, pos_label=pos_label),
    }


def _data(rng, n=600, labels=(0, 1)):
    sex = rng.choice(np.array(["female", "male"]), size=n, p=[0.35, 0.65])
    race = rng.choice(np.array(["a", "b", "c"]), size=n, p=[0.6, 0.3, 0.1])
    y_true = rng.random(n) < np.where(sex == "male", 0.35, 0.2)
    flip = rng.random(n) < np.where(race == "c", 0.3, 0.1)
    y_pred = y_true ^ flip
    lab = np.asarray(labels)
    return lab[y_true.astype(int)], lab[y_pred.astype(int)], sex, race


def _assert_matches_metric_frame(report: FairnessReport, frame):
    for m in report.metrics:
        assert_allclose(report.overall[m], frame.overall[m], rtol=0, atol=1e-12)
    expected = frame.by_group.dropna(how="all")                  # fairlearn lists empty intersections as NaN rows
    assert list(report.by_group) == expected.index.tolist()
    for group, row in report.by_group.items():
        for m in report.metrics:
            assert_allclose(row[m], expected.loc[group, m], rtol=0, atol=1e-12)
    for method in METHODS:
        for ours, theirs in ((report.difference(method), frame.difference(method=method)),
                             (report.ratio(method), frame.ratio(method=method))):
            for m in report.metrics:
                assert_allclose(ours[m], theirs[m], rtol=0, atol=1e-12)


@pytest.mark.parametrize("labels, pos_label", [((0, 1), 1), (("no", "yes"), "yes"), ((1, 2), 1)])
def test_one_feature_matches_fairlearn_metric_frame(rng, labels, pos_label):
    y_true, y_pred, sex, _ = _data(rng, labels=labels)
    report = audit(y_true, y_pred, sex, pos_label=pos_label)
    frame = fairlearn_metrics.MetricFrame(metrics=_fairlearn_functions(pos_label), y_true=y_true, y_pred=y_pred,
                                          sensitive_features=sex)
    _assert_matches_metric_frame(report, frame)
    assert report.counts == {"female": int((sex == "female").sum()), "male": int((sex == "male").sum())}


def test_intersections_of_two_features_match_fairlearn(rng):
    y_true, y_pred, sex, race = _data(rng)
    report = audit(y_true, y_pred, {"sex": sex, "race": race})
    frame = fairlearn_metrics.MetricFrame(metrics=_fairlearn_functions(1), y_true=y_true, y_pred=y_pred,
                                          sensitive_features={"sex": sex, "race": race})
    _assert_matches_metric_frame(report, frame)
    assert report.features == ["sex", "race"]
    assert ("female", "a") in report.by_group and len(report.by_group) == 6
    assert sum(report.counts.values()) == len(y_true)


@pytest.mark.parametrize("method", METHODS)
def test_parity_and_odds_differences_match_fairlearn(rng, method):
    y_true, y_pred, sex, race = _data(rng)
    groups = {"sex": sex, "race": race}
    assert_allclose(demographic_parity_difference(y_true, y_pred, groups, method=method),
                    fairlearn_metrics.demographic_parity_difference(y_true, y_pred, sensitive_features=groups,
                                                                    method=method), atol=1e-12)
    assert_allclose(equalized_odds_difference(y_true, y_pred, race, method=method),
                    fairlearn_metrics.equalized_odds_difference(y_true, y_pred, sensitive_features=race,
                                                                method=method), atol=1e-12)
    report = audit(y_true, y_pred, groups, metrics=["accuracy"])
    assert_allclose(report.equalized_odds_difference(method),
                    fairlearn_metrics.equalized_odds_difference(y_true, y_pred, sensitive_features=groups,
                                                                method=method), atol=1e-12)


def test_golden_values_by_hand():
    #            a  a  a  a  b  b  b  b
    y_true = [1, 1, 0, 0, 1, 1, 0, 0]
    y_pred = [1, 0, 0, 0, 1, 1, 1, 0]
    report = audit(y_true, y_pred, list("aaaabbbb"))
    assert report.by_group["a"] == {"accuracy": 0.75, "error_rate": 0.25, "selection_rate": 0.25,
                                    "tpr": 0.5, "fpr": 0.0, "fnr": 0.5}
    assert report.by_group["b"] == {"accuracy": 0.75, "error_rate": 0.25, "selection_rate": 0.75,
                                    "tpr": 1.0, "fpr": 0.5, "fnr": 0.0}
    assert report.difference()["selection_rate"] == 0.5
    assert report.ratio()["selection_rate"] == pytest.approx(1 / 3)
    assert report.demographic_parity_difference() == 0.5
    assert report.equalized_odds_difference() == 0.5          # max(TPR gap 0.5, FPR gap 0.5)
    assert report.rows()[0] == {"group": "a", "count": 4, **report.by_group["a"]}


def test_rate_is_nan_for_a_group_without_that_class_and_gaps_skip_it():
    # group "b" has no positive sample: its TPR and FNR are undefined (fairlearn reports 0.0 there).
    y_true = [1, 0, 1, 0, 0, 0, 1, 0]
    y_pred = [1, 0, 0, 1, 1, 0, 1, 0]
    report = audit(y_true, y_pred, list("aaaabbcc"))
    assert math.isnan(report.by_group["b"]["tpr"]) and math.isnan(report.by_group["b"]["fnr"])
    assert report.by_group["b"]["fpr"] == 0.5
    assert report.difference()["tpr"] == 0.5                  # a: 0.5, c: 1.0; b skipped
    assert ("b", "tpr") in report.undefined()
    assert "nan: undefined" in str(report) and "tpr for b" in str(report)


def test_custom_metric_callables_and_dict_names():
    y_true, y_pred = np.array([1, 0, 1, 1]), np.array([1, 1, 1, 0])
    report = audit(y_true, y_pred, ["x", "x", "y", "y"], metrics={"f1": skm.f1_score, "n_pos": lambda t, p: t.sum()})
    assert report.metrics == ["f1", "n_pos"]
    assert report.by_group["x"]["f1"] == pytest.approx(skm.f1_score([1, 0], [1, 1]))
    assert report.overall["n_pos"] == 3
    assert audit(y_true, y_pred, ["x"] * 4, metrics=[skm.recall_score]).metrics == ["recall_score"]


def test_groups_as_columns_of_a_2d_array_and_as_a_list_of_arrays(rng):
    y_true, y_pred, sex, race = _data(rng, n=100)
    a = audit(y_true, y_pred, np.column_stack([sex, race]))
    b = audit(y_true, y_pred, [sex, race])
    assert a.by_group == b.by_group and a.features == ["group_0", "group_1"]


def test_str_is_a_readable_table(rng):
    y_true, y_pred, sex, _ = _data(rng, n=200)
    text = str(audit(y_true, y_pred, {"sex": sex}))
    lines = text.splitlines()
    assert lines[0] == "Fairness audit by sex: 200 samples, 2 groups"
    assert lines[1].split() == ["sex", "count", "accuracy", "error_rate", "selection_rate", "tpr", "fpr", "fnr"]
    assert any(line.startswith("female") for line in lines) and any(line.startswith("difference") for line in lines)
    assert "demographic parity difference:" in text


def test_to_dict_is_json_able(rng):
    import json

    y_true, y_pred, sex, race = _data(rng, n=100)
    d = json.loads(json.dumps(audit(y_true, y_pred, {"sex": sex, "race": race}).to_dict()))
    assert d["features"] == ["sex", "race"] and len(d["rows"]) == 6 and "equalized_odds_difference" in d


@pytest.mark.parametrize("kwargs, message", [
    (dict(y_pred=[1, 0]), "one y_pred value per sample (3); got 2"),
    (dict(groups=["a", "b"]), "one groups 'group' value per sample (3); got 2"),
    (dict(groups={"sex": ["a", "b", "a"], "race": ["x"]}), "one groups 'race' value per sample (3); got 1"),
    (dict(y_true=[0, 1, 2]), "needs binary labels (pos_label=1 and one other value); y_true and y_pred hold 3"),
    (dict(y_pred=[0.2, 0.7, 0.9]), "threshold them first"),
    (dict(y_pred=np.zeros((3, 2))), "got an array of shape (3, 2). For class scores, take argmax"),
    (dict(metrics=["acuracy"]), "Did you mean 'accuracy'?"),
    (dict(pos_label=5), "needs binary labels (pos_label=5"),
    (dict(groups=np.array(["a", None, "b"], dtype=object)), "cannot sort the values of groups 'group': they mix "
                                                             "types ['NoneType', 'str']"),
])
def test_errors_say_what_was_expected_and_what_arrived(kwargs, message):
    args = dict(y_true=[0, 1, 1], y_pred=[0, 1, 0], groups=["a", "b", "a"])
    with pytest.raises(LearnloopError, match=re.escape(message)):
        audit(**{**args, **kwargs})


def test_selection_rate_and_accuracy_accept_any_labels():
    report = audit([0, 1, 2], [0, 2, 2], ["a", "b", "a"], metrics=["accuracy", "selection_rate"], pos_label=2)
    assert report.overall == {"accuracy": pytest.approx(2 / 3), "selection_rate": pytest.approx(2 / 3)}


def test_adult_example_runs_fast_and_finds_the_known_gaps(shared_data, capsys, monkeypatch):
    if not (shared_data / "fairness" / "adult.data").is_file():
        pytest.skip("UCI Adult is not in the shared data folder")
    examples = Path(__file__).resolve().parents[2] / "examples"
    monkeypatch.syspath_prepend(str(examples))                        # the example imports its sibling _figures
    path = examples / "fairness_adult.py"
    spec = importlib.util.spec_from_file_location("fairness_adult", path)
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    result = example.main(["--fast", "--data-dir", str(shared_data)])
    by_sex = result["reports"]["sex"]
    assert result["accuracy"] > 0.8                                   # the majority class alone gives 0.76
    assert by_sex.counts == {"Female": 5421, "Male": 10860}          # adult.test, as SOURCES.md counts it
    assert by_sex.by_group["Male"]["selection_rate"] > by_sex.by_group["Female"]["selection_rate"] + 0.05
    assert "gaps (between groups)" in capsys.readouterr().out


def test_unknown_method_is_an_error():
    report = audit([0, 1], [0, 1], ["a", "b"])
    with pytest.raises(LearnloopError, match=r"method must be one of \['between_groups', 'to_overall'\]"):
        report.difference("max")


def test_regression_metrics_by_group_match_scikit_learn_and_skip_the_classification_summaries():
    y_true = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    y_pred = np.array([1.5, 2.0, 2.0, 4.0, 7.0, 6.5])
    groups = np.array(["a", "a", "a", "b", "b", "b"])
    report = audit(y_true, y_pred, {"region": groups}, ["mae", "mse", "mean_prediction"], pos_label=None)
    for g in ("a", "b"):
        mask = groups == g
        assert report.by_group[g]["mae"] == pytest.approx(skm.mean_absolute_error(y_true[mask], y_pred[mask]))
        assert report.by_group[g]["mse"] == pytest.approx(skm.mean_squared_error(y_true[mask], y_pred[mask]))
        assert report.by_group[g]["mean_prediction"] == pytest.approx(y_pred[mask].mean())
    assert report.by_group["a"]["mae"] == pytest.approx(0.5)                  # (0.5 + 0 + 1) / 3, by hand
    assert report.difference()["mae"] == pytest.approx(2.5 / 3 - 0.5)        # b: (0 + 2 + 0.5) / 3
    assert report.regression and report.to_dict()["demographic_parity_difference"] is None
    text = str(report)
    assert "Fairness audit by region: 6 samples, 2 groups" in text and "demographic parity" not in text
