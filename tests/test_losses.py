import numpy as np
import pytest
from numpy.testing import assert_allclose

from learnloop import losses
from learnloop.errors import LearnloopError
from learnloop.testing import assert_loss_gradient_matches


def _binary(rng, m=6, k=1):
    return (rng.random((m, k)) > 0.5).astype(float), rng.normal(size=(m, k))


@pytest.mark.parametrize("from_logits", [True, False])
def test_binary_crossentropy_gradient(rng, from_logits):
    y, z = _binary(rng, k=2)
    p = z if from_logits else 1 / (1 + np.exp(-z))
    assert_loss_gradient_matches(losses.BinaryCrossentropy(from_logits=from_logits), y, p)


@pytest.mark.parametrize("from_logits", [True, False])
def test_categorical_crossentropy_gradient(rng, from_logits):
    y = np.eye(4)[rng.integers(0, 4, size=5)]
    z = rng.normal(size=(5, 4))
    p = z if from_logits else np.exp(z) / np.exp(z).sum(1, keepdims=True)
    assert_loss_gradient_matches(losses.CategoricalCrossentropy(from_logits=from_logits), y, p)


@pytest.mark.parametrize("from_logits", [True, False])
def test_sparse_categorical_crossentropy_gradient(rng, from_logits):
    y = rng.integers(0, 4, size=5)
    z = rng.normal(size=(5, 4))
    p = z if from_logits else np.exp(z) / np.exp(z).sum(1, keepdims=True)
    assert_loss_gradient_matches(losses.SparseCategoricalCrossentropy(from_logits=from_logits), y, p)


@pytest.mark.parametrize("cls", [losses.MeanSquaredError, losses.MeanAbsoluteError])
def test_regression_loss_gradients(rng, cls):
    y, p = rng.normal(size=(6, 2)), rng.normal(size=(6, 2))
    assert_loss_gradient_matches(cls(), y, p)


def test_sample_weights_enter_value_and_gradient(rng):
    y, p = rng.normal(size=(6, 1)), rng.normal(size=(6, 1))
    w = rng.random(6)
    loss = losses.MeanSquaredError()
    assert_loss_gradient_matches(loss, y, p, sample_weight=w)
    assert loss(y, p, sample_weight=w) == pytest.approx(float(np.sum(w * ((p - y) ** 2)[:, 0])) / 6)


def test_keras_values():
    y = np.array([[0.0, 1.0], [0.0, 0.0]])
    p = np.array([[0.6, 0.4], [0.4, 0.6]])
    assert losses.BinaryCrossentropy()(y, p) == pytest.approx(0.81492424, rel=1e-6)
    assert losses.MeanSquaredError()(y, p) == pytest.approx(0.31)
    y_sparse = np.array([1, 2])
    p3 = np.array([[0.05, 0.95, 0], [0.1, 0.8, 0.1]])
    assert losses.SparseCategoricalCrossentropy()(y_sparse, p3) == pytest.approx(1.1769392, rel=1e-6)


@pytest.mark.parametrize("loss,y", [
    (losses.BinaryCrossentropy(from_logits=True), np.array([[1.0, 0.0, 1.0, 0.0]]).T),
    (losses.SparseCategoricalCrossentropy(from_logits=True), np.array([0, 1, 2, 3])),
    (losses.CategoricalCrossentropy(from_logits=True), np.eye(4)),
])
def test_extreme_logits_give_finite_loss_and_gradients_in_float32(loss, y):
    if isinstance(loss, losses.BinaryCrossentropy):
        z = np.array([[1e4], [1e4], [-1e4], [-1e4]], dtype=np.float32)
    else:
        z = np.array([[1e4, -1e4, 0, 0], [-1e4, 1e4, 0, 0], [1e4, 0, -1e4, 0], [0, 0, 0, 1e4]], dtype=np.float32)
    yp = loss.prepare(y, z)
    value, grad = loss.value_and_gradient(yp, z)
    assert np.isfinite(value) and value > 1000   # the wrong ones cost ~1e4
    assert np.all(np.isfinite(grad))


@pytest.mark.parametrize("labels", [np.array([0, 2, 1]), np.array([[0], [2], [1]]), np.array([0.0, 2.0, 1.0])])
def test_sparse_labels_accept_m_and_m1_int_and_float(labels):
    p = np.array([[0.8, 0.1, 0.1], [0.1, 0.1, 0.8], [0.1, 0.8, 0.1]])
    assert losses.SparseCategoricalCrossentropy()(labels, p) == pytest.approx(-np.log(0.8))


def test_sparse_labels_out_of_range_are_rejected():
    with pytest.raises(LearnloopError, match=r"labels must be in \[0, 3\).*got values from 0 to 3"):
        losses.SparseCategoricalCrossentropy()(np.array([0, 3]), np.full((2, 3), 1 / 3))


def test_non_integer_sparse_labels_are_rejected():
    with pytest.raises(LearnloopError, match="integer class labels"):
        losses.SparseCategoricalCrossentropy()(np.array([0.5, 1.0]), np.full((2, 3), 1 / 3))


def test_shape_mismatch_is_reported():
    with pytest.raises(LearnloopError, match=r"y_true has shape \(3, 2\) but the model outputs shape \(3, 1\)"):
        losses.MeanSquaredError()(np.zeros((3, 2)), np.zeros((3, 1)))


def test_get_config_and_string_aliases():
    assert losses.SparseCategoricalCrossentropy(from_logits=True).get_config()["from_logits"] is True
    assert isinstance(losses.get("mse"), losses.MeanSquaredError)
    assert isinstance(losses.get("sparse_categorical_crossentropy"), losses.SparseCategoricalCrossentropy)
    with pytest.raises(LearnloopError, match="Did you mean 'mse'"):
        losses.get("msee")


def test_loss_functions_return_per_sample_values():
    out = losses.binary_crossentropy(np.array([[1.0], [0.0]]), np.array([[0.9], [0.2]]))
    assert_allclose(out, [-np.log(0.9), -np.log(0.8)], rtol=1e-6)
