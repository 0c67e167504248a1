"""diagnose(): the whole loop on bundled data, with plain JSON-able results."""

from __future__ import annotations

import json

import numpy as np
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits

from learnloop.diagnostics import BiasVariance, LearningCurve, ValidationCurve
from learnloop.diagnostics.bias_variance import VERDICTS
from learnloop.diagnostics.loop import diagnose


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
    assert results["chosen"]["j_cv"] == min(results["lambda_curve"]["j_cv"])
    assert results["chosen"]["j_cv"] < 0.1 and results["chosen"]["j_test"] < 0.1
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
