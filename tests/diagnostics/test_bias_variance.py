"""Verdicts from (baseline, J_train, J_cv), their thresholds, and baselines from simple models."""

from __future__ import annotations

import pytest
from sklearn.linear_model import LogisticRegression

from learnloop.data import train_cv_test_split
from learnloop.diagnostics import BiasVariance, estimate_baseline
from learnloop.errors import LearnloopError


@pytest.mark.parametrize(("train", "cv", "verdict"), [
    (0.108, 0.148, "high variance"),                 # the notes' speech example
    (0.15, 0.155, "high bias"),
    (0.15, 0.197, "high bias and high variance"),
    (0.11, 0.115, "good fit"),
])
def test_the_notes_speech_recognition_examples(train, cv, verdict):
    assert BiasVariance(baseline=0.106, train=train, cv=cv).verdict == verdict


def test_gaps_and_thresholds():
    d = BiasVariance(baseline=0.106, train=0.108, cv=0.148)
    assert d.bias_gap == pytest.approx(0.002)
    assert d.variance_gap == pytest.approx(0.040)
    assert d.variance_threshold == pytest.approx(0.0148)      # 10% of max(J_train, J_cv)
    assert d.bias_threshold == pytest.approx(0.0148)          # 10% of the largest of the three
    assert d.high_variance and not d.high_bias
    assert "high variance" in d.explain() and "0.108" in d.explain()


def test_threshold_edges_and_tolerance():
    # variance gap 0.01 against a threshold of 0.1 * 0.11 = 0.011: not large; against 0.05 * 0.11: large.
    assert BiasVariance(0.1, 0.1, 0.11).verdict == "good fit"
    assert BiasVariance(0.1, 0.1, 0.11, tolerance=0.05).verdict == "high variance"
    assert BiasVariance(0.0, 0.0, 0.0).verdict == "good fit"
    assert BiasVariance(0, 0, 0, tolerance=0).verdict == "good fit"


def test_a_weak_baseline_does_not_hide_a_variance_gap():
    # regression errors: a linear baseline far worse than the model, J_cv 68% above J_train
    d = BiasVariance(baseline=460.6, train=47.15, cv=79.2)
    assert d.verdict == "high variance" and d.bias_gap < 0


def test_bad_numbers_are_refused():
    with pytest.raises(LearnloopError, match="finite cv"):
        BiasVariance(0.1, 0.2, float("nan"))
    with pytest.raises(LearnloopError, match="tolerance >= 0"):
        BiasVariance(0.1, 0.2, 0.3, tolerance=-1)
    with pytest.raises(LearnloopError, match="train as a number"):
        BiasVariance(0.1, "high", 0.3)


def test_estimate_baseline_dummy_and_linear(rng):
    x = rng.normal(size=(300, 2))
    y = (x[:, 0] + x[:, 1] > 0.8).astype(int)
    share = min(y.mean(), 1 - y.mean())
    assert estimate_baseline(x, y, method="dummy") == pytest.approx(share, abs=0.02)
    assert estimate_baseline(x, y.reshape(-1, 1), method="linear") < 0.05
    target = 3 * x[:, 0] + rng.normal(scale=0.5, size=300)
    assert estimate_baseline(x, target, kind="regression") == pytest.approx(0.125, rel=0.3)   # noise var / 2
    with pytest.raises(LearnloopError, match="'linear', 'dummy'"):
        estimate_baseline(x, y, method="human")


def test_from_model_measures_and_estimates_the_baseline(rng):
    x = rng.normal(size=(300, 2))
    y = (x[:, 0] > 0).astype(int)
    splits = train_cv_test_split(x, y, seed=0)
    model = LogisticRegression().fit(splits.train.x, splits.train.y)
    d = BiasVariance.from_model(model, splits, baseline=0.0)
    assert d.train == pytest.approx(1 - model.score(splits.train.x, splits.train.y))
    assert d.cv == pytest.approx(1 - model.score(splits.cv.x, splits.cv.y))
    estimated = BiasVariance.from_model(model, splits)
    assert 0 <= estimated.baseline < 0.05
    # 60 cv examples: each gap's interval is wider than its threshold, so the losses cannot tell yet, and say how
    # many cv examples would
    assert estimated.evidence == "intervals" and estimated.baseline_source == "simple model"
    assert estimated.paired_baseline and estimated.intervals["bias_gap"].method == "bonett-price"
    assert estimated.verdict == "can't tell"
    assert "cv set of about" in estimated.explain() or "training examples would" in estimated.explain()


def test_from_model_with_many_examples_finds_a_good_fit(rng):
    x = rng.normal(size=(6000, 2))
    y = (x[:, 0] + 0.3 * rng.normal(size=6000) > 0).astype(int)          # Bayes error about 9%
    splits = train_cv_test_split(x, y, seed=0)
    model = LogisticRegression().fit(splits.train.x, splits.train.y)
    d = BiasVariance.from_model(model, splits, tolerance=0.5)
    assert d.verdict == "good fit", d.explain()
    assert set(d.intervals) >= {"j_train", "j_cv", "baseline", "bias_gap", "variance_gap"}
    assert d.intervals["j_cv"].low <= d.cv <= d.intervals["j_cv"].high


def test_counts_give_wilson_intervals_and_regression_needs_losses(rng):
    d = BiasVariance(0.0436, 0.0, 7 / 359, n_train=1078, n_cv=359, baseline_source="simple model")
    assert d.intervals["j_cv"].method == "wilson" and d.intervals["variance_gap"].method == "newcombe"
    assert d.verdict == "high variance"                     # 7 of 359 wrong against 0 of 1078: beyond noise
    with pytest.raises(LearnloopError, match="both J_train and J_cv"):
        BiasVariance(0.1, 0.1, 0.2, n_train=100)
    with pytest.raises(LearnloopError, match="error rate in"):
        BiasVariance(1.0, 400.0, 500.0, n_train=100, n_cv=50)
    with pytest.raises(LearnloopError, match="baseline_source"):
        BiasVariance(0.1, 0.1, 0.2, baseline_source="oracle")
    losses = BiasVariance.from_losses(rng.exponential(size=200), rng.exponential(2.0, size=100), baseline=1.0)
    assert losses.kind == "regression" and losses.intervals["variance_gap"].method == "independent bootstraps"
    assert losses.as_dict()["intervals"]["j_cv"][0] < losses.cv


def test_atol_floors_both_thresholds():
    assert BiasVariance(0.0, 0.0, 0.0166).verdict == "high variance"
    assert BiasVariance(0.0, 0.0, 0.0166, atol=1 / 60).verdict == "good fit"
    assert BiasVariance(0.0, 0.02, 0.02, atol=0.01).verdict == "high bias"
