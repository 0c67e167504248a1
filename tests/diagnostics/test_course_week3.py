"""The course's week-3 data: the labs' model selection numbers and the assignment's bias/variance verdicts."""

from __future__ import annotations

from functools import partial

import numpy as np
import pytest
from sklearn.linear_model import LinearRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import PolynomialFeatures, StandardScaler

import learnloop as ll
from learnloop.data import train_cv_test_split
from learnloop.diagnostics import BiasVariance, estimate_baseline, j_measures, select_model, validation_curve


def polynomial_regression(degree: int):
    """The lab's candidate: PolynomialFeatures -> StandardScaler -> LinearRegression."""
    return make_pipeline(PolynomialFeatures(degree, include_bias=False), StandardScaler(), LinearRegression())


@pytest.fixture
def ex1(shared_data):
    path = shared_data / "course" / "C2_W3" / "data_w3_ex1.csv"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    data = np.loadtxt(path, delimiter=",")
    # the lab: train_test_split(test_size=0.40, random_state=1), then 0.50 of the rest, random_state=1
    return train_cv_test_split(data[:, :1], data[:, 1:], sizes=(0.6, 0.2, 0.2), seed=1)


def test_lab_linear_and_quadratic_mse_values(ex1):
    assert ex1.sizes == (30, 10, 10)
    selection = select_model({"linear": partial(polynomial_regression, 1),
                              "quadratic": partial(polynomial_regression, 2)}, ex1, kind="regression")
    assert np.round(selection.j_train, 2).tolist() == [406.19, 49.11]
    assert np.round(selection.j_cv, 2).tolist() == [551.78, 87.70]
    assert selection.best_name == "quadratic"
    assert selection.j_test == pytest.approx(j_measures(selection.best_model, ex1, test=True).j_test)


def test_lab_degree_sweep_is_u_shaped(ex1):
    curve = validation_curve(polynomial_regression, range(1, 11), ex1, name="degree", kind="regression")
    j_cv = curve.j_cv
    assert 0 < curve.best_index < 9                       # the minimum is not at either end
    assert j_cv[0] > j_cv[1] > j_cv[curve.best_index]      # falls...
    assert j_cv[-1] > j_cv[curve.best_index] * 1.1         # ...then rises
    assert j_cv[:curve.best_index + 1].argmax() == 0
    assert curve.j_train[-1] < curve.j_train[0]           # higher degree, lower training error


def _six_class_network(units, l2: float = 0.0):
    reg = ll.regularizers.L2(l2) if l2 else None
    model = ll.models.Sequential([ll.layers.Dense(u, activation="relu", kernel_regularizer=reg) for u in units]
                                 + [ll.layers.Dense(6, activation="linear")])
    model.compile(loss=ll.losses.SparseCategoricalCrossentropy(from_logits=True),
                  optimizer=ll.optimizers.Adam(0.01))
    return model


def test_assignment_blobs_large_network_has_high_variance_and_l2_helps(shared_data):
    path = shared_data / "course" / "derived" / "C2_W3_assignment_blobs800.npz"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    data = np.load(path)
    # the assignment: 50% train, then 20% of the rest for test (400 / 320 / 80)
    splits = train_cv_test_split(data["X"], data["y"], sizes=(0.5, 0.4, 0.1), seed=1)
    assert splits.sizes == (400, 320, 80)
    baseline = estimate_baseline(splits.train.x, splits.train.y)
    selection = select_model({"large": partial(_six_class_network, (120, 40)),
                              "small": partial(_six_class_network, (6,)),
                              "large_l2": partial(_six_class_network, (120, 40), 0.1)},
                             splits, epochs=500, seed=0)
    j_train, j_cv = dict(zip(selection.names, selection.j_train)), dict(zip(selection.names, selection.j_cv))
    large = BiasVariance(baseline, j_train["large"], j_cv["large"])
    assert large.verdict == "high variance"
    assert j_train["small"] > j_train["large"]
    assert j_cv["large_l2"] < j_cv["large"]
    assert selection.best_name != "large"
