"""Named train/cv/test splits: sizes, reproducibility, stratification, errors."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.model_selection import train_test_split as sk_split

from learnloop.data import Splits, train_cv_test_split, train_test_split
from learnloop.errors import LearnloopError


def _data(m=100, n=3):
    x = np.arange(m * n, dtype=float).reshape(m, n)
    y = np.arange(m) % 4
    return x, y


def test_three_way_split_has_the_requested_sizes_and_covers_every_row_once():
    x, y = _data(100)
    splits = train_cv_test_split(x, y, sizes=(0.6, 0.2, 0.2), seed=0)
    assert isinstance(splits, Splits)
    assert splits.sizes == (60, 20, 20)
    every = np.concatenate([part.indices for part in splits])
    assert sorted(every.tolist()) == list(range(100))
    np.testing.assert_array_equal(splits.train.x, x[splits.train.indices])
    np.testing.assert_array_equal(splits.cv.y, y[splits.cv.indices])
    np.testing.assert_array_equal(splits.test.x, x[splits.test.indices])


def test_same_seed_same_split_other_seed_other_split():
    x, y = _data(100)
    a, b = train_cv_test_split(x, y, seed=3), train_cv_test_split(x, y, seed=3)
    c = train_cv_test_split(x, y, seed=4)
    for pa, pb in zip(a, b):
        np.testing.assert_array_equal(pa.indices, pb.indices)
    assert not np.array_equal(a.train.indices, c.train.indices)


def test_reproduces_the_labs_two_sklearn_cuts():
    # The course labs: train_test_split(test_size=0.40, random_state=1), then 0.50 of the rest.
    x, y = _data(50)
    x_train, x_rest, y_train, y_rest = sk_split(x, y, test_size=0.40, random_state=1)
    x_cv, x_test, y_cv, y_test = sk_split(x_rest, y_rest, test_size=0.50, random_state=1)
    splits = train_cv_test_split(x, y, sizes=(0.6, 0.2, 0.2), seed=1)
    np.testing.assert_array_equal(splits.train.x, x_train)
    np.testing.assert_array_equal(splits.cv.x, x_cv)
    np.testing.assert_array_equal(splits.test.y, y_test)


def test_stratify_true_keeps_class_proportions_in_every_part():
    y = np.array([0] * 140 + [1] * 60)
    x = np.arange(200).reshape(-1, 1)
    splits = train_cv_test_split(x, y, sizes=(0.6, 0.2, 0.2), stratify=True, seed=0)
    for part in splits:
        assert abs(part.y.mean() - 0.3) <= 1.0 / len(part) + 1e-12
    train, cv, test = splits
    assert (len(train), len(cv), len(test)) == (120, 40, 40)


def test_stratify_by_a_group_array():
    x, y = _data(120)
    groups = np.repeat(["a", "b", "c"], [60, 40, 20])
    splits = train_cv_test_split(x, y, stratify=groups, seed=2)
    for part in splits:
        share = np.mean(groups[part.indices] == "c")
        assert abs(share - 20 / 120) <= 1.0 / len(part) + 1e-12


def test_two_way_split_unpacks_and_has_no_cv():
    x, y = _data(100)
    splits = train_test_split(x, y, test_size=0.3, seed=0)
    assert splits.cv is None and splits.sizes == (70, 30) and splits.names == ("train", "test")
    train, test = splits
    assert len(train) == 70 and test.m == 30
    assert train_test_split(x, y, test_size=0.2).sizes == (80, 20)


def test_column_vector_targets_and_stratify_on_them():
    y = np.array([[0]] * 30 + [[1]] * 30)
    splits = train_cv_test_split(np.zeros((60, 2)), y, stratify=True, seed=0)
    assert splits.train.y.shape == (36, 1)
    assert splits.cv.y.mean() == pytest.approx(0.5)


@pytest.mark.parametrize(("sizes", "match"), [
    ((0.6, 0.2, 0.1), "sum to 1"),
    ((0.8, -0.1, 0.3), "fraction > 0"),
    ((0.5, 0.5), "expects 3 sizes"),
])
def test_bad_sizes_say_what_arrived(sizes, match):
    x, y = _data(50)
    with pytest.raises(LearnloopError, match=match):
        train_cv_test_split(x, y, sizes=sizes)


def test_length_mismatch_names_both_lengths():
    with pytest.raises(LearnloopError, match="x with 10 rows .* y with 9 rows"):
        train_cv_test_split(np.zeros((10, 2)), np.zeros(9))


def test_a_class_too_small_to_stratify_is_named():
    y = np.array([0] * 20 + [1] * 20 + [7])
    with pytest.raises(LearnloopError, match="class 7 has only 1 example"):
        train_cv_test_split(np.zeros((41, 1)), y, stratify=True)


def test_bad_test_size_and_bad_stratify_length():
    x, y = _data(20)
    with pytest.raises(LearnloopError, match="strictly between 0 and 1"):
        train_test_split(x, y, test_size=1.2)
    with pytest.raises(LearnloopError, match="stratify labels for each of the 20"):
        train_test_split(x, y, stratify=np.zeros(5))
