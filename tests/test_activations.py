import numpy as np
import pytest
from numpy.testing import assert_allclose

import learnloop
from learnloop import activations
from learnloop.errors import LearnloopError
from learnloop.layers import Activation, Dense
from learnloop.testing import assert_gradients_match

NAMES = ["linear", "sigmoid", "relu", "leaky_relu", "tanh", "softmax", "elu", "gelu", "softplus"]


def test_softmax_golden_values():
    assert_allclose(activations.softmax(np.array([1.0, 2.0, 3.0, 4.0])),
                    [0.0321, 0.0871, 0.2369, 0.6439], atol=5e-5)


def test_softmax_keeps_float64_and_matches_numpy_to_1e_10(rng):
    z = rng.normal(size=7) * 5
    expected = np.exp(z) / np.exp(z).sum()
    out = activations.softmax(z)
    assert out.dtype == np.float64
    assert_allclose(out, expected, rtol=0, atol=1e-10)


def test_softmax_and_sigmoid_do_not_overflow_on_huge_inputs():
    z = np.array([[1e4, -1e4, 0.0]], dtype=np.float32)
    assert np.all(np.isfinite(activations.softmax(z)))
    assert_allclose(activations.sigmoid(z), [[1.0, 0.0, 0.5]])


@pytest.mark.parametrize("name", NAMES)
def test_activation_gradients_match_finite_differences(rng, name):
    layer = Activation(name, dtype="float64")
    x = rng.normal(size=(4, 5))
    x[np.abs(x) < 1e-3] = 0.5            # keep relu-like kinks away from the finite-difference step
    assert_gradients_match(layer, x, rtol=1e-6)


@pytest.mark.parametrize("name", NAMES)
def test_dense_gradients_match_finite_differences_for_each_activation(rng, name):
    layer = Dense(3, activation=name, dtype="float64")
    assert_gradients_match(layer, rng.normal(size=(4, 5)), rtol=1e-6)


@pytest.mark.parametrize("name", NAMES)
def test_string_activation_resolves_to_the_exported_function(name):
    assert Dense(2, activation=name).activation is getattr(learnloop.activations, name)


def test_none_is_linear():
    assert Dense(2).activation is activations.linear


def test_known_values():
    z = np.array([-2.0, -0.5, 0.0, 1.5])
    assert_allclose(activations.relu(z), [0, 0, 0, 1.5])
    assert_allclose(activations.leaky_relu(z), [-0.4, -0.1, 0, 1.5])
    assert_allclose(activations.sigmoid(z), 1 / (1 + np.exp(-z)), rtol=1e-12)
    assert_allclose(activations.elu(z), np.where(z > 0, z, np.expm1(z)))
    assert_allclose(activations.softplus(z), np.log1p(np.exp(z)), rtol=1e-12)
    assert_allclose(activations.gelu(np.array([1.0])), [0.8413447460685429], rtol=1e-12)


def test_unknown_activation_lists_valid_names_and_suggests_the_closest():
    with pytest.raises(LearnloopError,
                       match=r"Unknown activation 'rleu'; expected one of \[.*\]\. Did you mean 'relu'\?"):
        Dense(3, activation="rleu")


def test_unsupported_callable_is_rejected_with_the_reason():
    with pytest.raises(LearnloopError, match="needs to know its derivative"):
        Dense(3, activation=np.sin)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu_on_large_arrays_matches_numpy_across_block_boundaries_and_keeps_nan(rng, dtype):
    x = rng.normal(size=(3, 70_001)).astype(dtype)               # spans several 64k blocks, and a ragged end
    x[0, 5], x[2, -1] = np.nan, -np.inf
    expected = np.maximum(x, 0)
    np.testing.assert_array_equal(activations.relu(x), expected)
    np.testing.assert_array_equal(activations.relu(x.T), expected.T)      # non-contiguous input
    scratch = x.copy()
    assert activations.apply_inplace(activations.relu, scratch) is scratch
    np.testing.assert_array_equal(scratch, expected)


@pytest.mark.parametrize("slope", [0.2, 0.3, 0.01, 0.1234567, 1.5])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_leaky_relu_and_its_gradient_equal_the_select_they_stand_for(rng, slope, dtype):
    x = rng.normal(size=5000).astype(dtype)
    x[7] = np.nan
    s = np.asarray(slope, dtype)
    np.testing.assert_array_equal(activations.leaky_relu(x, slope), np.where(x > 0, x, x * s))
    grad = rng.normal(size=5000).astype(dtype)
    np.testing.assert_array_equal(activations.leaky_relu_grad(x > 0, grad, slope), np.where(x > 0, grad, grad * s))
