import numpy as np
from numpy.testing import assert_allclose, assert_array_equal

from learnloop import activations
from learnloop.layers import Dense
from learnloop.reference import dense, dense_loop, sequential

W_COURSE = np.array([[1, 2], [1, 2], [1, 2], [1, 2]], dtype=float)


def linear(z):
    return z


def test_dense_loop_golden_values_from_the_course():
    x = np.array([1.0, 2.0, 3.0, 4.0])
    assert_array_equal(dense_loop(x, W_COURSE, np.array([0.0, 0.0]), linear), [10, 20])
    assert_array_equal(dense_loop(x, W_COURSE, np.array([3.0, 5.0]), linear), [13, 25])


def test_vectorized_dense_golden_values_from_the_course():
    A = np.array([[1, 2, 3, 4], [5, 6, 7, 8]], dtype=float)
    W = np.arange(1, 13, dtype=float).reshape(4, 3)
    assert_array_equal(dense(A, W, np.zeros(3), linear), [[70, 80, 90], [158, 184, 210]])


def test_loop_and_vectorized_versions_agree(rng):
    W, b = rng.normal(size=(5, 3)), rng.normal(size=3)
    A = rng.normal(size=(4, 5))
    looped = np.stack([dense_loop(a, W, b, activations.sigmoid) for a in A])
    assert_allclose(looped, dense(A, W, b, activations.sigmoid), rtol=1e-12)


def test_engine_dense_forward_equals_the_reference(rng):
    layer = Dense(7, activation="relu", dtype="float64")
    x = rng.normal(size=(6, 5))
    out = layer(x)
    assert_allclose(out, dense(x, layer.kernel, layer.bias, activations.relu), rtol=1e-12)


def test_sequential_chains_layers(rng):
    layers = [(rng.normal(size=(4, 3)), rng.normal(size=3), activations.relu),
              (rng.normal(size=(3, 1)), rng.normal(size=1), activations.sigmoid)]
    x = rng.normal(size=(2, 4))
    expected = activations.sigmoid(activations.relu(x @ layers[0][0] + layers[0][1]) @ layers[1][0] + layers[1][1])
    assert_allclose(sequential(x, layers), expected)

