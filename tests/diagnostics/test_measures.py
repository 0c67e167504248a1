"""The course's cost conventions and J_train / J_cv / J_test of fitted models."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression

import learnloop as ll
from learnloop.data import train_cv_test_split
from learnloop.diagnostics import JMeasures, classification_error, j_measures, mse_cost
from learnloop.errors import LearnloopError


def test_mse_cost_golden_values():
    assert mse_cost([2.4, 4.2], [2.3, 4.1]) == pytest.approx(0.005, abs=1e-12)   # (0.01 + 0.01) / (2 * 2)
    assert mse_cost([3], [0]) == 4.5                                               # 9 / 2
    assert type(mse_cost(np.array([[1.0], [2.0]]), np.array([1.0, 4.0]))) is float
    assert mse_cost(np.array([[1.0], [2.0]]), np.array([1.0, 4.0])) == 1.0         # (m,1) vs (m,): 4 / (2 * 2)


def test_mse_cost_rejects_mismatched_shapes():
    with pytest.raises(LearnloopError, match=r"y \(3, 1\) and yhat \(2, 1\)"):
        mse_cost([1, 2, 3], [1, 2])


def test_classification_error_hand_cases():
    assert classification_error([0, 1, 1], [0, 1, 0]) == pytest.approx(1 / 3)
    assert classification_error([1, 0, 1, 0], [1, 1, 0, 0]) == 0.5
    result = classification_error(np.array([[1], [0], [1]]), np.array([[1], [0], [0]]))
    assert type(result) is float and result == pytest.approx(1 / 3)


def test_classification_error_reads_probabilities_logits_and_scores():
    y = np.array([0, 1, 1, 0])
    assert classification_error(y, np.array([[0.2], [0.7], [0.4], [0.1]])) == 0.25          # thresholded at 0.5
    assert classification_error(y, np.array([0.2, 0.7, 0.4, 0.1]), threshold=0.3) == 0.0
    assert classification_error(y, np.array([-2.0, 1.5, -0.3, -4.0])) == 0.25                # logits: cut at 0
    scores = np.array([[2.0, 1.0, 0.0], [0.1, 3.0, 0.2], [0.0, 0.5, 0.4], [1.0, 0.0, 2.0]])
    assert classification_error(np.array([0, 1, 2, 2]), scores) == 0.25                      # argmax
    one_hot = np.eye(3)[[0, 1, 2, 2]]
    assert classification_error(one_hot, scores) == 0.25
    assert classification_error(np.array([0, 2, 1]), np.array([0.0, 2.0, 1.0])) == 0.0      # whole-number labels


def test_j_measures_of_sklearn_models_and_test_only_when_asked(rng):
    x = rng.normal(size=(200, 2))
    y = (x[:, 0] + 0.3 * rng.normal(size=200) > 0).astype(int)
    splits = train_cv_test_split(x, y, seed=0)
    model = LogisticRegression().fit(splits.train.x, splits.train.y)
    j = j_measures(model, splits)
    assert isinstance(j, JMeasures) and j.kind == "classification" and j.j_test is None
    assert j.j_train == pytest.approx(1 - model.score(splits.train.x, splits.train.y))
    assert 0 < j.j_cv < 0.3
    with_test = j_measures(model, splits, test=True)
    assert with_test.j_test == pytest.approx(1 - model.score(splits.test.x, splits.test.y))

    target = x @ np.array([2.0, -1.0]) + 0.1 * rng.normal(size=200)
    reg_splits = train_cv_test_split(x, target, seed=0)
    reg = LinearRegression().fit(reg_splits.train.x, reg_splits.train.y)
    jr = j_measures(reg, reg_splits)
    assert jr.kind == "regression"
    assert jr.j_cv == pytest.approx(mse_cost(reg_splits.cv.y, reg.predict(reg_splits.cv.x)))


def test_j_measures_of_a_learnloop_model_reads_its_logits(rng):
    x = rng.normal(size=(150, 2))
    y = (x[:, 0] > 0).astype(int) + (x[:, 1] > 0).astype(int)
    splits = train_cv_test_split(x, y, seed=0)
    model = ll.models.Sequential([ll.layers.Dense(8, activation="relu"), ll.layers.Dense(3)])
    model.compile(optimizer=ll.optimizers.Adam(0.01),
                  loss=ll.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(splits.train.x, splits.train.y, epochs=60, verbose=0)
    j = j_measures(model, splits)
    assert j.j_cv == pytest.approx(np.mean(model.predict(splits.cv.x).argmax(axis=1) != splits.cv.y))
    assert j.j_train < 0.15


def test_kind_is_read_from_the_targets():
    from learnloop.diagnostics.measures import infer_kind

    assert infer_kind(np.array([0, 1, 1])) == "classification"
    assert infer_kind(np.array(["cat", "dog"])) == "classification"
    assert infer_kind(np.array([0.0, 1.0, 2.0])) == "classification"
    assert infer_kind(np.array([0.5, 1.25])) == "regression"
    assert infer_kind(np.arange(25.0)) == "regression"                 # whole-number float targets, many values
