"""diagnose(): the whole loop on bundled data, with plain JSON-able results, intervals and coded findings."""

from __future__ import annotations

import json

import numpy as np
from known_cases import contradictions
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits

from learnloop.diagnostics import BiasVariance, LearningCurve, ValidationCurve
from learnloop.diagnostics import advisor as A
from learnloop.diagnostics.bias_variance import VERDICTS
from learnloop.diagnostics.findings import CODES
from learnloop.diagnostics.loop import diagnose

INTERVALS = {"j_train", "j_cv", "j_test", "baseline", "bias_gap", "variance_gap"}


def test_quick_diagnosis_of_the_digits():
    x, y = load_digits(return_X_y=True)
    out = diagnose(x.reshape(-1, 8, 8), y, quick=True, seed=0)
    results = json.loads(json.dumps(out["results"]))                  # plain JSON
    assert results["kind"] == "classification" and results["classes"] == list(range(10))
    assert results["split_sizes"] == {"train": 1078, "cv": 359, "test": 360}
    assert 0 < results["baseline"]["value"] < 0.1
    assert results["diagnosis"]["verdict"] in VERDICTS
    assert results["chosen"]["architecture"] in results["architecture_curve"]["values"]
    assert results["chosen"]["lambda"] in results["lambda_curve"]["values"]
    lam = results["lambda_curve"]                                      # the one-standard-error rule
    assert results["chosen"]["lambda"] == lam["chosen_value"]
    assert results["chosen"]["j_cv"] <= min(lam["j_cv"]) + lam["effect"]["standard_error"]
    assert results["chosen"]["j_cv"] < 0.1 and results["chosen"]["j_test"] < 0.1
    assert INTERVALS <= set(results["intervals"])
    for name, (low, high) in results["intervals"].items():
        value = {"j_train": results["chosen"]["j_train"], "j_cv": results["chosen"]["j_cv"],
                 "j_test": results["chosen"]["j_test"], "baseline": results["baseline"]["value"]}.get(name)
        assert low <= high and (value is None or low <= value <= high)
    assert results["diagnosis"]["verdict"] == "high variance"         # J_train 0 on 1078 digits, J_cv ~2% on 359
    assert results["findings"][0]["code"] == "LL-VARIANCE" and all(f["code"] in CODES for f in results["findings"])
    advice = out["advice"]
    assert A.FEWER_FEATURES not in [a.action for a in advice]          # 64 pixels for 1078 training images
    assert not contradictions(advice, out["diagnosis"], out["curves"]["learning"], out["curves"]["lambda"], 64)
    assert [a["priority"] for a in results["advice"]] == list(range(1, len(results["advice"]) + 1))
    assert isinstance(out["diagnosis"], BiasVariance) and isinstance(out["curves"]["learning"], LearningCurve)
    assert isinstance(out["curves"]["lambda"], ValidationCurve)
    splits, model = out["splits"], out["model"]
    predicted = model.predict(splits.test.x).argmax(axis=1)           # takes the raw 8x8 images
    assert np.mean(predicted != splits.test.y) == results["chosen"]["j_test"]


def test_binary_and_regression_runs():
    x, y = load_breast_cancer(return_X_y=True)
    binary = diagnose(x, np.where(y == 1, "benign", "malignant"), quick=True)["results"]
    assert binary["classes"] == ["benign", "malignant"]
    assert binary["chosen"]["j_cv"] < 0.1
    x, y = load_diabetes(return_X_y=True)
    regression = diagnose(x, y, quick=True, architectures=[(8,)], lambdas=[0.0, 10.0], sizes=[0.5, 1.0])
    results = regression["results"]
    assert results["kind"] == "regression"
    assert results["chosen"]["j_cv"] < results["baseline"]["value"] * 2     # the scale of a linear model
    assert len(results["learning_curve"]["sizes"]) == 2
    assert results["interval_methods"]["j_cv"] == "bootstrap"
    assert results["interval_methods"]["bias_gap"] == "paired bootstrap"    # the baseline's held-out losses
    # diabetes: a network no better than linear regression is the first finding; lambda moves J_cv by a few
    # thousandths on a cost near 2000, so nothing is said about lambda
    codes = [f["code"] for f in results["findings"]]
    assert codes[0] in ("LL-BASELINE-BETTER", "LL-BASELINE-TIE") and "LL-LAMBDA-NO-EFFECT" in codes
    actions = [a["action"] for a in results["advice"]]
    assert actions[0] == A.SIMPLE_MODEL and A.INCREASE_LAMBDA not in actions and A.DECREASE_LAMBDA not in actions


def test_a_given_baseline_says_what_it_is():
    import pytest

    from learnloop.errors import LearnloopError

    x, y = load_breast_cancer(return_X_y=True)
    with pytest.raises(LearnloopError, match="baseline_source must be one of"):
        diagnose(x, y, baseline=0.02, baseline_source="oracle")

