import numpy as np
import pytest
from numpy.testing import assert_allclose

import learnloop
from learnloop.errors import LearnloopError
from learnloop.layers import (
    Activation,
    Dense,
    Dropout,
    Flatten,
    Input,
    LeakyReLU,
    Normalization,
    ReLU,
    Reshape,
    Softmax,
)
from learnloop.regularizers import L1, L1L2, L2
from learnloop.testing import assert_gradients_match


def test_dense_kernel_is_n_in_by_units_and_built_on_first_call(rng):
    layer = Dense(3)
    assert layer.get_weights() == []
    out = layer(rng.normal(size=(4, 5)))
    assert out.shape == (4, 3) and out.dtype == np.float32
    assert layer.kernel.shape == (5, 3) and layer.bias.shape == (3,)


def test_dense_accepts_input_dim_and_input_shape():
    model = learnloop.Sequential([Dense(4, input_dim=3), Dense(1)])
    assert model.built and model.input_shape == (None, 3)
    assert learnloop.Sequential([Dense(4, input_shape=(3,))]).built


@pytest.mark.parametrize("use_bias", [True, False])
def test_dense_gradients_with_and_without_bias(rng, use_bias):
    assert_gradients_match(Dense(4, activation="tanh", use_bias=use_bias, dtype="float64"), rng.normal(size=(3, 6)))


def test_dense_on_3d_inputs_acts_on_the_last_axis(rng):
    layer = Dense(2, activation="sigmoid", dtype="float64")
    assert_gradients_match(layer, rng.normal(size=(2, 3, 4)))
    assert layer(rng.normal(size=(5, 7, 4))).shape == (5, 7, 2)


@pytest.mark.parametrize("reg", [L2(0.1), L1(0.05), L1L2(0.02, 0.03)])
def test_regularizer_gradients_match_finite_differences(rng, reg):
    w = rng.normal(size=(4, 3))
    grad = reg.gradient(w)
    eps = 1e-6
    numeric = np.zeros_like(w)
    for i in np.ndindex(w.shape):
        old = w[i]
        w[i] = old + eps
        plus = reg(w)
        w[i] = old - eps
        minus = reg(w)
        w[i] = old
        numeric[i] = (plus - minus) / (2 * eps)
    assert_allclose(grad, numeric, rtol=1e-6, atol=1e-9)


def test_l2_penalty_is_keras_lambda_sum_of_squares():
    assert L2(0.1)(np.array([[1.0, 2.0]])) == pytest.approx(0.5)
    assert learnloop.regularizers.l2 is L2


@pytest.mark.parametrize("layer", [ReLU(dtype="float64"), LeakyReLU(0.1, dtype="float64"), Softmax(dtype="float64"),
                                   Flatten(dtype="float64"), Reshape((3, 2), dtype="float64"),
                                   Activation("tanh", dtype="float64")])
def test_shape_and_activation_layer_gradients(rng, layer):
    x = rng.normal(size=(2, 6))
    x[np.abs(x) < 1e-3] = 0.3
    assert_gradients_match(layer, x)


def test_flatten_any_rank_and_reshape(rng):
    x = rng.normal(size=(2, 3, 4, 5))
    assert Flatten()(x).shape == (2, 60)
    assert Reshape((-1, 5))(x).shape == (2, 12, 5)
    with pytest.raises(LearnloopError, match="cannot reshape samples of shape"):
        Reshape((7,))(rng.normal(size=(2, 6)))


def test_dropout_is_identity_at_inference_and_scales_in_training(rng):
    x = np.ones((1000, 10), dtype=np.float32)
    layer = Dropout(0.3, seed=1)
    assert_allclose(layer(x), x)
    out = layer(x, training=True)
    assert set(np.unique(out)) <= {0.0, np.float32(1 / 0.7)}
    assert abs((out == 0).mean() - 0.3) < 0.02


def test_dropout_gradient_uses_the_same_mask(rng):
    layer = Dropout(0.5, seed=3, dtype="float64")
    x = rng.normal(size=(4, 5))
    out = layer.forward(x, training=True)
    grad = layer.backward(np.ones_like(x))
    assert_allclose(grad, out / x)


@pytest.mark.parametrize("rate", [-0.1, 1.0, 1.5])
def test_dropout_rate_outside_0_1_is_rejected(rate):
    with pytest.raises(LearnloopError, match=r"Dropout rate must be in \[0, 1\)"):
        Dropout(rate)


@pytest.mark.parametrize("units", [0, -3, 2.5])
def test_non_positive_units_are_rejected(units):
    with pytest.raises(LearnloopError, match="units to be a positive integer"):
        Dense(units)


def test_normalization_adapt_uses_population_variance(rng):
    x = rng.normal(3.0, 2.0, size=(50, 3))
    norm = Normalization(axis=-1)
    norm.adapt(x)
    assert_allclose(norm.mean, x.mean(0), rtol=1e-6)
    assert_allclose(norm.variance, x.var(0), rtol=1e-5)
    out = norm(x)
    assert_allclose(out.mean(0), 0, atol=1e-5)
    assert_allclose(out.std(0), 1, atol=1e-4)
    assert len(norm.get_weights()) == 3 and norm.count_params() == 7


def test_normalization_gradient_and_fixed_statistics(rng):
    norm = Normalization(mean=[1.0, 2.0], variance=[4.0, 9.0], dtype="float64")
    assert_allclose(norm(np.array([[3.0, 5.0]])), [[1.0, 1.0]])
    assert_gradients_match(norm, rng.normal(size=(3, 2)))


def test_normalization_rejects_nan_and_wrong_width(rng):
    norm = Normalization()
    with pytest.raises(LearnloopError, match="NaN or inf"):
        norm.adapt(np.array([[1.0, np.nan]]))
    norm.adapt(rng.normal(size=(5, 2)))
    with pytest.raises(LearnloopError, match="expects 2 features"):
        norm(rng.normal(size=(5, 3)))


def test_layer_call_rejects_1d_input_with_a_reshape_hint():
    with pytest.raises(LearnloopError, match=r"For one sample use x.reshape\(1, -1\)"):
        Dense(2)(np.ones(4))


def test_feature_count_mismatch_names_the_layer(rng):
    layer = Dense(3, name="L1")
    layer(rng.normal(size=(2, 400)))
    with pytest.raises(LearnloopError,
                       match=r"Dense 'L1' expects inputs with 400 features; got an array of shape \(5000, 20\)"):
        layer(np.zeros((5000, 20)))


def test_input_returns_a_symbolic_tensor_with_as_list():
    x = Input((400,))
    assert x.shape.as_list() == [None, 400]


def test_frozen_layer_keeps_its_weights_during_fit(rng):
    model = learnloop.Sequential([Input((4,)), Dense(3, activation="relu"), Dense(1)])
    model.layers[0].trainable = False
    before = model.layers[0].get_weights()
    model.compile(optimizer="adam", loss="mse")
    model.fit(rng.normal(size=(32, 4)), rng.normal(size=(32, 1)), epochs=2, verbose=0)
    for a, b in zip(before, model.layers[0].get_weights()):
        assert_allclose(a, b)
    assert not np.allclose(model.layers[1].get_weights()[0], 0)
    assert model.layers[0].trainable_weights == [] and len(model.layers[0].non_trainable_weights) == 2


def test_normalization_along_a_middle_axis(rng):
    x = rng.normal(size=(20, 3, 2)) * np.array([1.0, 5.0, 10.0])[:, None]
    norm = Normalization(axis=1, dtype="float64")
    norm.adapt(x)
    out = norm(x)
    assert_allclose(out.mean(axis=(0, 2)), 0, atol=1e-12)
    assert_allclose(out.std(axis=(0, 2)), 1, atol=1e-12)
    assert_gradients_match(norm, rng.normal(size=(2, 3, 2)))
