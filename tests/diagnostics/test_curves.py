"""Learning and validation curves: shapes, nesting, the chosen value, stacked training, parallel fits."""

from __future__ import annotations

from functools import partial

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression, Ridge

from learnloop.data import train_cv_test_split, train_test_split
from learnloop.diagnostics import LearningCurve, ValidationCurve, learning_curve, validation_curve
from learnloop.diagnostics.curves import nested_order
from learnloop.errors import LearnloopError


def ridge(alpha):
    return Ridge(alpha=alpha)


def test_nested_order_keeps_class_proportions_in_every_prefix():
    y = np.array([0] * 300 + [1] * 100)
    order = nested_order(y, "classification", seed=0)
    assert sorted(order.tolist()) == list(range(400))
    for n in (20, 40, 100, 200):
        assert abs(y[order[:n]].mean() - 0.25) <= 1.5 / n


def test_learning_curve_shapes_and_sizes(blobs3):
    lc = learning_curve(LogisticRegression(), blobs3, sizes=[0.1, 0.5, 1.0])
    assert isinstance(lc, LearningCurve)
    assert lc.sizes.tolist() == [18, 90, 180]
    assert lc.j_train.shape == lc.j_cv.shape == (3,)
    assert lc.kind == "classification"
    assert learning_curve(LogisticRegression(), blobs3, sizes=[30, 60]).sizes.tolist() == [30, 60]
    with pytest.raises(LearnloopError, match="between 2 and the 180"):
        learning_curve(LogisticRegression(), blobs3, sizes=[500])


def test_learning_curve_of_a_linear_regression_falls_toward_the_noise(rng):
    x = rng.normal(size=(600, 5))
    y = x @ rng.normal(size=5) + rng.normal(scale=0.5, size=600)
    splits = train_cv_test_split(x, y, seed=0)
    lc = learning_curve(Ridge(alpha=1e-3), splits, sizes=[8, 20, 60, 360])
    assert lc.kind == "regression"
    assert lc.j_cv[0] > lc.j_cv[-1]                        # more data, lower J_cv
    assert lc.j_train[0] < lc.j_train[-1]                  # and a training set that is harder to fit exactly
    assert lc.j_cv[-1] == pytest.approx(0.125, rel=0.35)   # the noise: variance 0.25, halved by the 1/2m


def test_validation_curve_picks_the_lowest_j_cv_and_keeps_that_model(rng):
    x = rng.normal(size=(120, 30))
    y = x[:, 0] + rng.normal(scale=1.0, size=120)
    splits = train_cv_test_split(x, y, seed=0)
    values = [1e-3, 1e-1, 10.0, 100.0, 1e5]
    vc = validation_curve(ridge, values, splits, name="alpha")
    assert isinstance(vc, ValidationCurve)
    assert vc.values.tolist() == values and vc.j_cv.shape == (5,)
    assert vc.best_index == int(np.argmin(vc.j_cv)) and vc.best_value == values[vc.best_index]
    assert vc.best_model.alpha == vc.best_value
    assert np.all(np.diff(vc.j_train) >= 0)               # stronger penalty, worse fit of the training set
    assert vc.log_scale
    assert vc.as_dict()["best_value"] == vc.best_value


def test_validation_curve_over_architectures(blobs3, blobs3_net):
    build = partial(_arch, blobs3_net)
    vc = validation_curve(build, [(2,), (16, 8)], blobs3, name="units", epochs=40)
    assert vc.values.dtype == object and vc.values[1] == (16, 8)
    assert vc.j_train[1] < vc.j_train[0]                  # the bigger network fits the training set better
    assert vc.best_index == int(np.argmin(vc.j_cv))


def _arch(net, units):
    return net(units, 0.0)


def test_stacked_training_matches_separate_fits(blobs3, blobs3_net):
    build = partial(blobs3_net, (16,))
    lambdas = [0.0, 1.0, 30.0]
    separate = validation_curve(build, lambdas, blobs3, epochs=15, stack=False)
    stacked = validation_curve(build, lambdas, blobs3, epochs=15, stack=True)
    np.testing.assert_allclose(stacked.j_train, separate.j_train, atol=1.5 / 180)
    np.testing.assert_allclose(stacked.j_cv, separate.j_cv, atol=1.5 / 60)
    for a, b in zip(stacked.best_model.get_weights(), separate.best_model.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-4)


def test_stack_true_refuses_models_it_cannot_stack(blobs3):
    with pytest.raises(LearnloopError, match="stack=True"):
        validation_curve(ridge, [0.1, 1.0], blobs3, stack=True)


def test_two_processes_give_the_same_curve_as_one(blobs3, blobs3_net):
    build = partial(blobs3_net, (16,))
    one = validation_curve(build, [0.0, 3.0], blobs3, epochs=10, stack=False, n_jobs=1)
    two = validation_curve(build, [0.0, 3.0], blobs3, epochs=10, stack=False, n_jobs=2)
    np.testing.assert_array_equal(one.j_cv, two.j_cv)
    np.testing.assert_array_equal(one.j_train, two.j_train)
    stacked_two = validation_curve(build, [0.0, 3.0], blobs3, epochs=10, stack=True, n_jobs=2)
    np.testing.assert_allclose(stacked_two.j_cv, one.j_cv, atol=1.5 / 60)


def test_sweeps_need_a_cv_set(blobs3):
    two_way = train_test_split(blobs3.train.x, blobs3.train.y)
    with pytest.raises(LearnloopError, match="needs train/cv/test splits"):
        validation_curve(ridge, [1.0], two_way)


def test_an_sklearn_estimator_is_swept_over_its_named_parameter(blobs3):
    vc = validation_curve(LogisticRegression(), [1e-4, 1.0], blobs3, name="C")
    assert vc.best_model.C == vc.best_value and vc.j_cv.shape == (2,)
    with pytest.raises(LearnloopError, match="no parameter 'lambda'"):
        validation_curve(LogisticRegression(), [1.0], blobs3)


def _regression_net(l2):
    import learnloop as ll

    reg = ll.regularizers.L2(l2) if l2 else None
    model = ll.models.Sequential([ll.layers.Dense(8, activation="tanh", kernel_regularizer=reg),
                                  ll.layers.Dense(1, kernel_regularizer=reg, bias_regularizer=reg)])
    model.compile(optimizer=ll.optimizers.SGD(0.05, momentum=0.9), loss="mse")
    return model


def _binary_net(l1):
    import learnloop as ll

    reg = ll.regularizers.L1L2(l1=l1, l2=l1) if l1 else None
    model = ll.models.Sequential([ll.layers.Dense(8, activation="sigmoid", kernel_regularizer=reg),
                                  ll.layers.Dense(1)])
    model.compile(optimizer=ll.optimizers.Adam(0.01), loss=ll.losses.BinaryCrossentropy(from_logits=True))
    return model


@pytest.mark.parametrize(("build", "binary"), [(_regression_net, False), (_binary_net, True)])
def test_stacked_mse_and_binary_crossentropy_match_separate_fits(rng, build, binary):
    x = rng.normal(size=(200, 3))
    y = x @ np.array([1.0, -2.0, 0.5]) + 0.3 * rng.normal(size=200)
    y = (y > 0).astype(int) if binary else y
    splits = train_cv_test_split(x, y, seed=0)
    values = [0.0, 0.01, 0.1]
    separate = validation_curve(build, values, splits, epochs=10, stack=False)
    stacked = validation_curve(build, values, splits, epochs=10, stack=True)
    np.testing.assert_allclose(stacked.j_cv, separate.j_cv, rtol=1e-3, atol=1.5 / 40 if binary else 1e-4)
    for a, b in zip(stacked.best_model.get_weights(), separate.best_model.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-4)
