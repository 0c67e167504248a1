"""select_model chooses by J_cv and touches the test set only for the chosen candidate."""

from __future__ import annotations

from functools import partial

import numpy as np
import pytest
from sklearn.base import BaseEstimator, RegressorMixin

from learnloop.data import train_cv_test_split
from learnloop.diagnostics import ModelSelection, select_model
from learnloop.errors import LearnloopError

SEEN: list[tuple[float, int]] = []


class ConstantPlusSlope(RegressorMixin, BaseEstimator):
    """y = slope * x; records the size of every batch it predicts on."""

    def __init__(self, slope: float = 1.0):
        self.slope = slope

    def fit(self, x, y):
        self.fitted_ = True
        return self

    def predict(self, x):
        SEEN.append((self.slope, len(x)))
        return self.slope * np.asarray(x)[:, 0]


def test_chooses_the_lowest_j_cv_and_measures_only_its_test_error(rng):
    x = rng.normal(size=(100, 1))
    splits = train_cv_test_split(x, 2.0 * x[:, 0], sizes=(0.6, 0.25, 0.15), seed=0)
    SEEN.clear()
    selection = select_model({f"slope {s}": partial(ConstantPlusSlope, s) for s in (0.0, 1.0, 2.0, 3.0)}, splits,
                             kind="regression", n_jobs=1)
    assert isinstance(selection, ModelSelection)
    assert selection.best_name == "slope 2.0" and selection.best_j_cv == 0.0 and selection.j_test == 0.0
    assert selection.j_train.shape == selection.j_cv.shape == (4,)
    test_calls = [slope for slope, n in SEEN if n == splits.test.m]
    assert test_calls == [2.0]                                  # J_test of the chosen candidate only
    assert selection.as_dict()["best_name"] == "slope 2.0"


def test_needs_candidates(rng):
    splits = train_cv_test_split(rng.normal(size=(20, 1)), rng.normal(size=20))
    with pytest.raises(LearnloopError, match="at least one candidate"):
        select_model({}, splits)
