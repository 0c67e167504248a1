"""Conv1D / Conv2D as Keras users meet them: shapes, summary, weight layout, freezing, config, saving, errors."""

from __future__ import annotations

import re

import numpy as np
import pytest
from numpy.testing import assert_allclose

import learnloop
from learnloop.errors import LearnloopError
from learnloop.layers import (
    REGISTRY,
    Conv1D,
    Conv2D,
    Dense,
    Flatten,
    Input,
    MaxPooling1D,
    MaxPooling2D,
)


# ---- Keras's shapes, names and weight layout ----------------------------------------------------------------
@pytest.mark.parametrize("layer, input_shape, expected", [
    (lambda: Conv2D(8, 3), (None, 28, 28, 1), (None, 26, 26, 8)),
    (lambda: Conv2D(8, 3, strides=2, padding="same"), (None, 28, 28, 1), (None, 14, 14, 8)),
    (lambda: Conv2D(8, (3, 5), strides=(2, 3)), (None, 28, 28, 1), (None, 13, 8, 8)),
    (lambda: Conv2D(4, 3, dilation_rate=2), (None, 10, 10, 3), (None, 6, 6, 4)),
    (lambda: Conv2D(4, 2, strides=2, padding="same"), (None, 7, 7, 3), (None, 4, 4, 4)),
    (lambda: Conv2D(4, 3), (None, None, None, 3), (None, None, None, 4)),
    (lambda: Conv1D(16, 5), (None, 140, 1), (None, 136, 16)),
    (lambda: Conv1D(16, 5, strides=2, padding="same"), (None, 140, 1), (None, 70, 16)),
    (lambda: Conv1D(16, 5, padding="causal", dilation_rate=4), (None, 140, 1), (None, 140, 16)),
    (lambda: Conv1D(16, 5, strides=3), (None, 140, 1), (None, 46, 16)),
])
def test_output_shapes_are_keras_shapes(layer, input_shape, expected):
    assert layer().compute_output_shape(input_shape) == expected


def test_summary_shows_keras_shapes_names_and_parameter_counts(capsys):
    model = learnloop.Sequential([Input((28, 28, 1)), Conv2D(16, 3, activation="relu"), MaxPooling2D(2),
                                  Conv2D(32, 3, activation="relu"), MaxPooling2D(2), Flatten(), Dense(10)])
    model.summary()
    text = capsys.readouterr().out
    for shape in ("(None, 26, 26, 16)", "(None, 13, 13, 16)", "(None, 11, 11, 32)", "(None, 5, 5, 32)",
                  "(None, 800)"):
        assert shape in text
    assert re.search(r"conv2d(_\d+)? \(Conv2D\)", text) and re.search(r"max_pooling2d(_\d+)? \(MaxPooling2D\)", text)
    assert model.count_params() == (9 * 16 + 16) + (9 * 16 * 32 + 32) + (800 * 10 + 10)


def test_kernel_has_keras_layout_and_set_weights_moves_weights_unchanged(rng):
    layer = Conv2D(5, (3, 2), dtype="float64")
    x = rng.normal(size=(2, 6, 5, 4))
    layer(x)
    assert [w.shape for w in layer.get_weights()] == [(3, 2, 4, 5), (5,)]
    kernel, bias = rng.normal(size=(3, 2, 4, 5)), rng.normal(size=5)
    layer.set_weights([kernel, bias])
    got = layer.get_weights()
    assert_allclose(got[0], kernel) and assert_allclose(got[1], bias)
    # out[n, i, j, o] = b[o] + sum over (di, dj, c) of x[n, i+di, j+dj, c] * kernel[di, dj, c, o]
    assert_allclose(layer(x)[1, 2, 3, 4],
                    bias[4] + np.einsum("ijc,ijc->", x[1, 2:5, 3:5], kernel[:, :, :, 4]), atol=1e-12)
    assert Conv1D(3, 4)(np.zeros((1, 6, 2))).shape == (1, 3, 3)


def test_kernel_initializer_uses_the_receptive_field_for_its_fans():
    layer = Conv2D(64, 5, kernel_initializer="glorot_uniform")
    layer(np.zeros((1, 8, 8, 32), np.float32))
    limit = np.sqrt(6 / (5 * 5 * 32 + 5 * 5 * 64))
    assert np.abs(layer.kernel).max() <= limit and np.abs(layer.kernel).max() > 0.9 * limit


# ---- freezing and the first layer ---------------------------------------------------------------------------
@pytest.mark.parametrize("cls, shape", [(Conv2D, (2, 6, 5, 3)), (Conv1D, (2, 9, 3))])
def test_frozen_layer_fills_no_grads_but_returns_input_gradient(rng, cls, shape):
    x, layer = rng.normal(size=shape), cls(4, 3, padding="same", activation="tanh", dtype="float64")
    out = layer(x)
    g = rng.normal(size=out.shape)
    dx_trainable = layer.backward(g)
    layer.trainable = False
    for grad in layer.grads.values():
        grad[...] = 7.0
    layer.forward(x)
    assert_allclose(layer.backward(g), dx_trainable)
    assert all(np.all(grad == 7.0) for grad in layer.grads.values())


def test_first_layer_skips_the_input_gradient_but_fills_weight_grads(rng):
    x, layer = rng.normal(size=(2, 6, 6, 1)), Conv2D(3, 3, dtype="float64")
    out = layer(x)
    layer.input_grad_needed = False
    assert layer.backward(np.ones_like(out)) is None
    assert_allclose(layer.grads["bias"], np.full(3, out.shape[0] * out.shape[1] * out.shape[2]))


# ---- config and saving --------------------------------------------------------------------------------------
@pytest.mark.parametrize("layer", [
    Conv2D(8, (3, 2), strides=(2, 1), padding="same", dilation_rate=(1, 2), activation="relu", use_bias=False,
           kernel_regularizer=learnloop.regularizers.l2(0.01), name="c2"),
    Conv1D(4, 5, padding="causal", activation="tanh", bias_initializer="ones", dtype="float64"),
])
def test_config_round_trip_rebuilds_the_same_layer(layer):
    config = layer.get_config()
    assert config["data_format"] == "channels_last"
    clone = REGISTRY[type(layer).__name__].from_config(config)
    assert clone.get_config() == config


def test_saved_cnn_loads_with_the_same_predictions(rng, tmp_path):
    model = learnloop.Sequential([Input((9, 8, 1)), Conv2D(4, 3, padding="same", activation="relu"),
                                  MaxPooling2D(2), Conv2D(6, 2, strides=2), Flatten(), Dense(3)])
    model.compile(optimizer="adam", loss=learnloop.losses.SparseCategoricalCrossentropy(from_logits=True))
    x = rng.normal(size=(16, 9, 8, 1)).astype(np.float32)
    model.fit(x, rng.integers(0, 3, 16), epochs=2, verbose=0)
    model.save(tmp_path / "cnn.zip")
    loaded = learnloop.load_model(tmp_path / "cnn.zip")
    assert [type(layer).__name__ for layer in loaded.layers] == [type(layer).__name__ for layer in model.layers]
    assert_allclose(loaded.predict(x), model.predict(x))
    for a, b in zip(loaded.get_weights(), model.get_weights()):
        assert_allclose(a, b)


def test_saved_conv1d_model_with_every_pooling_kind_loads_the_same(rng, tmp_path):
    from learnloop.layers import AveragePooling1D, GlobalMaxPooling1D

    model = learnloop.Sequential([
        Conv1D(4, 3, padding="causal", activation="tanh", input_shape=(20, 2)), AveragePooling1D(2, padding="same"),
        Conv1D(5, 2, dilation_rate=2), MaxPooling1D(3, strides=2), GlobalMaxPooling1D(keepdims=True), Flatten(),
        Dense(1)])
    assert model.built and model.output_shape == (None, 1)
    x = rng.normal(size=(8, 20, 2)).astype(np.float32)
    model.save(tmp_path / "signal.zip")
    loaded = learnloop.load_model(tmp_path / "signal.zip")
    assert [layer.get_config() for layer in loaded.layers] == [layer.get_config() for layer in model.layers]
    assert_allclose(loaded.predict(x), model.predict(x))


# ---- errors ---------------------------------------------------------------------------------------------------
def test_wrong_rank_says_which_axes_and_suggests_a_channel_axis():
    with pytest.raises(LearnloopError, match=r"Conv2D 'c' expects \(batch, height, width, channels\); got shape "
                                             r"\(64, 28, 28\)\. Add a channel axis: x\[\.\.\., None\]"):
        Conv2D(8, 3, name="c")(np.zeros((64, 28, 28)))
    with pytest.raises(LearnloopError, match=r"Conv1D 'c1' expects \(batch, steps, channels\); got shape \(8, 140\)"):
        Conv1D(8, 3, name="c1")(np.zeros((8, 140)))
    with pytest.raises(LearnloopError, match=r"expects \(batch, steps, channels\); got shape \(8, 1, 140, 1\)\.$"):
        Conv1D(8, 3)(np.zeros((8, 1, 140, 1)))


def test_kernel_larger_than_a_valid_input_is_an_error():
    with pytest.raises(LearnloopError, match=r"kernel_size \(5, 5\).*padding='valid' needs inputs at least that "
                                             r"large; got shape \(None, 3, 3, 1\)\. Use padding='same'"):
        Conv2D(2, 5)(np.zeros((1, 3, 3, 1)))
    with pytest.raises(LearnloopError, match=r"windows of \(5,\)"):
        Conv1D(2, 3, dilation_rate=2)(np.zeros((1, 4, 1)))
    assert Conv2D(2, 5, padding="same")(np.zeros((1, 3, 3, 1))).shape == (1, 3, 3, 2)


@pytest.mark.parametrize("kwargs, match", [
    ({"filters": 0, "kernel_size": 3}, r"Conv2D expects filters to be a positive integer; got 0"),
    ({"filters": 2.5, "kernel_size": 3}, r"filters to be a positive integer; got 2\.5"),
    ({"filters": True, "kernel_size": 3}, r"filters to be a positive integer; got True"),
    ({"filters": 2, "kernel_size": 0}, r"kernel_size to be a positive int or a tuple of 2 positive ints; got 0"),
    ({"filters": 2, "kernel_size": (3, -1)}, r"kernel_size .* got \(3, -1\)"),
    ({"filters": 2, "kernel_size": (3, 3, 3)}, r"kernel_size .* got \(3, 3, 3\)"),
    ({"filters": 2, "kernel_size": 3, "strides": 0}, r"strides to be a positive int .* got 0"),
    ({"filters": 2, "kernel_size": 3, "dilation_rate": (1, 0)}, r"dilation_rate .* got \(1, 0\)"),
    ({"filters": 2, "kernel_size": 3, "padding": "full"},
     r"Conv2D expects padding to be one of \['valid', 'same'\]; got 'full'"),
    ({"filters": 2, "kernel_size": 3, "padding": "causal"}, r"one of \['valid', 'same'\]; got 'causal'"),
    ({"filters": 2, "kernel_size": 3, "data_format": "channels_first"}, r"channels_last' only"),
    ({"filters": 2, "kernel_size": 3, "groups": 2}, r"groups=1 only"),
    ({"filters": 2, "kernel_size": 3, "activation": "rleu"}, r"Did you mean 'relu'"),
])
def test_bad_arguments_are_named_in_the_error(kwargs, match):
    with pytest.raises(LearnloopError, match=match):
        Conv2D(**kwargs)


def test_conv1d_lists_causal_among_its_paddings():
    with pytest.raises(LearnloopError, match=r"Conv1D expects padding to be one of \['valid', 'same', 'causal'\]"):
        Conv1D(2, 3, padding="full")
    with pytest.raises(LearnloopError, match=r"Conv1D expects kernel_size to be a positive int; got \(3, 3\)"):
        Conv1D(2, (3, 3))


def test_channel_mismatch_after_build_is_an_error():
    layer = Conv2D(4, 3, name="c")
    layer(np.zeros((1, 6, 6, 3), np.float32))
    with pytest.raises(LearnloopError, match=r"Conv2D 'c' was built for 3 input channels \(last axis\); got shape "
                                             r"\(2, 6, 6, 1\)"):
        layer(np.zeros((2, 6, 6, 1), np.float32))
