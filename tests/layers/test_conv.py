"""Conv1D / Conv2D: finite-difference gradients, a plain-loop reference, Keras shapes and layout, errors, real data."""

from __future__ import annotations

import re

import numpy as np
import pytest
from numpy.testing import assert_allclose
from threadpoolctl import threadpool_limits

import learnloop
from learnloop.errors import LearnloopError
from learnloop.layers import (
    REGISTRY,
    Conv1D,
    Conv2D,
    Dense,
    Dropout,
    Flatten,
    GlobalAveragePooling1D,
    Input,
    MaxPooling1D,
    MaxPooling2D,
)
from learnloop.testing import assert_gradients_match


# ---- a plain-loop reference, written from the definitions ---------------------------------------------------
def _same_pad(n: int, k: int, s: int, d: int) -> int:
    """TensorFlow's "same": ceil(n / s) outputs; the smaller half of the total padding goes first."""
    extent = (k - 1) * d + 1
    out = -(-n // s)
    return max((out - 1) * s + extent - n, 0) // 2


def conv2d_loop(x, kernel, bias, strides=(1, 1), padding="valid", dilation=(1, 1)):
    b, h, w, c = x.shape
    kh, kw, _, f = kernel.shape
    (sh, sw), (dh, dw) = strides, dilation
    if padding == "same":
        oh, ow = -(-h // sh), -(-w // sw)
        top, left = _same_pad(h, kh, sh, dh), _same_pad(w, kw, sw, dw)
    else:
        oh, ow = (h - (kh - 1) * dh - 1) // sh + 1, (w - (kw - 1) * dw - 1) // sw + 1
        top = left = 0
    out = np.zeros((b, oh, ow, f))
    for n in range(b):
        for i in range(oh):
            for j in range(ow):
                for o in range(f):
                    total = bias[o]
                    for di in range(kh):
                        for dj in range(kw):
                            r, q = i * sh + di * dh - top, j * sw + dj * dw - left
                            if 0 <= r < h and 0 <= q < w:             # outside the input: zero padding
                                for ci in range(c):
                                    total += x[n, r, q, ci] * kernel[di, dj, ci, o]
                    out[n, i, j, o] = total
    return out


def conv1d_loop(x, kernel, bias, stride=1, padding="valid", dilation=1):
    b, n_steps, c = x.shape
    k, _, f = kernel.shape
    extent = (k - 1) * dilation + 1
    if padding == "valid":
        n_out, left = (n_steps - extent) // stride + 1, 0
    else:
        n_out = -(-n_steps // stride)
        left = extent - 1 if padding == "causal" else _same_pad(n_steps, k, stride, dilation)
    out = np.zeros((b, n_out, f))
    for n in range(b):
        for t in range(n_out):
            for o in range(f):
                total = bias[o]
                for d in range(k):
                    src = t * stride + d * dilation - left
                    if 0 <= src < n_steps:
                        total += sum(x[n, src, ci] * kernel[d, ci, o] for ci in range(c))
                out[n, t, o] = total
    return out


# ---- gradients ----------------------------------------------------------------------------------------------
# (kernel_size, strides, padding, dilation_rate, c_in, filters, input h x w): odd sizes, even kernels with "same",
# strides that do not divide the input, dilations, and strides with dilations.
CONV2D_CASES = [
    (1, 1, "valid", 1, 1, 2, (4, 3)),
    (3, 1, "valid", 1, 1, 2, (5, 5)),
    (3, 1, "same", 1, 2, 3, (5, 4)),
    (2, 1, "same", 1, 2, 2, (5, 5)),
    ((2, 2), 2, "same", 1, 3, 2, (5, 6)),
    ((4, 2), (1, 2), "same", 1, 1, 2, (5, 5)),
    ((3, 2), (2, 1), "valid", 1, 2, 3, (7, 5)),
    (3, 2, "valid", 1, 5, 2, (7, 7)),
    (3, 2, "same", 1, 5, 2, (6, 7)),
    (3, 1, "valid", 2, 2, 2, (6, 6)),
    (2, 1, "same", (2, 1), 4, 2, (5, 4)),
    ((2, 3), (2, 1), "same", (1, 2), 3, 2, (5, 6)),
    (3, 2, "valid", 2, 1, 2, (7, 8)),
    (5, 3, "same", 1, 1, 1, (4, 4)),
]


@pytest.mark.parametrize("kernel_size, strides, padding, dilation, c_in, filters, hw", CONV2D_CASES)
def test_conv2d_gradients_match_finite_differences(rng, kernel_size, strides, padding, dilation, c_in, filters, hw):
    layer = Conv2D(filters, kernel_size, strides=strides, padding=padding, dilation_rate=dilation,
                   bias_initializer="random_normal", dtype="float64")
    # The loss is linear in x and in the weights, so wide central differences are exact up to rounding.
    assert_gradients_match(layer, rng.normal(size=(2, *hw, c_in)), rtol=1e-6, eps=1e-3)


CONV1D_CASES = [
    (1, 1, "valid", 1, 1, 2, 5),
    (3, 1, "valid", 1, 1, 2, 7),
    (4, 1, "same", 1, 2, 3, 7),
    (2, 2, "same", 1, 3, 2, 9),
    (3, 2, "valid", 1, 5, 2, 10),
    (3, 1, "causal", 1, 2, 2, 6),
    (2, 3, "causal", 2, 1, 2, 11),
    (3, 1, "same", 3, 4, 2, 9),
    (5, 2, "valid", 2, 2, 1, 13),
]


@pytest.mark.parametrize("kernel_size, strides, padding, dilation, c_in, filters, steps", CONV1D_CASES)
def test_conv1d_gradients_match_finite_differences(rng, kernel_size, strides, padding, dilation, c_in, filters,
                                                  steps):
    layer = Conv1D(filters, kernel_size, strides=strides, padding=padding, dilation_rate=dilation,
                   bias_initializer="random_normal", dtype="float64")
    assert_gradients_match(layer, rng.normal(size=(2, steps, c_in)), rtol=1e-6, eps=1e-3)


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "elu", "softplus", "gelu", "softmax"])
@pytest.mark.parametrize("cls, shape", [(Conv2D, (2, 5, 4, 2)), (Conv1D, (2, 7, 2))])
def test_conv_gradients_with_activations(rng, cls, shape, activation):
    layer = cls(3, 2, padding="same", activation=activation, dtype="float64")
    assert_gradients_match(layer, rng.normal(size=shape), rtol=1e-6, eps=1e-5)


@pytest.mark.parametrize("cls, shape", [(Conv2D, (2, 5, 5, 3)), (Conv1D, (2, 6, 3))])
def test_conv_gradients_without_bias(rng, cls, shape):
    layer = cls(2, 3, padding="same", use_bias=False, dtype="float64")
    assert_gradients_match(layer, rng.normal(size=shape), rtol=1e-6, eps=1e-3)
    assert [w.shape for w in layer.get_weights()] == [(3, 3, 3, 2) if cls is Conv2D else (3, 3, 2)]


# ---- forward against the loop reference ---------------------------------------------------------------------
@pytest.mark.parametrize("kernel_size, strides, padding, dilation, c_in, filters, hw", CONV2D_CASES)
def test_conv2d_forward_equals_loop_reference(rng, kernel_size, strides, padding, dilation, c_in, filters, hw):
    layer = Conv2D(filters, kernel_size, strides=strides, padding=padding, dilation_rate=dilation, dtype="float64")
    x = rng.normal(size=(2, *hw, c_in))
    layer(x)
    kernel, bias = rng.normal(size=layer.kernel.shape), rng.normal(size=filters)
    layer.set_weights([kernel, bias])
    as2 = lambda v: (v, v) if isinstance(v, int) else tuple(v)
    assert_allclose(layer(x), conv2d_loop(x, kernel, bias, as2(strides), padding, as2(dilation)), atol=1e-12)


@pytest.mark.parametrize("kernel_size, strides, padding, dilation, c_in, filters, steps", CONV1D_CASES)
def test_conv1d_forward_equals_loop_reference(rng, kernel_size, strides, padding, dilation, c_in, filters, steps):
    layer = Conv1D(filters, kernel_size, strides=strides, padding=padding, dilation_rate=dilation, dtype="float64")
    x = rng.normal(size=(2, steps, c_in))
    layer(x)
    kernel, bias = rng.normal(size=layer.kernel.shape), rng.normal(size=filters)
    layer.set_weights([kernel, bias])
    assert_allclose(layer(x), conv1d_loop(x, kernel, bias, strides, padding, dilation), atol=1e-12)


def test_conv_activation_is_applied_after_the_bias(rng):
    x = rng.normal(size=(2, 5, 5, 3))
    layer = Conv2D(4, 3, activation="relu", bias_initializer="ones", dtype="float64")
    out = layer(x)
    assert_allclose(out, np.maximum(conv2d_loop(x, layer.kernel, layer.bias), 0), atol=1e-12)


def test_causal_conv1d_output_at_t_ignores_later_inputs(rng):
    layer = Conv1D(2, 3, padding="causal", dilation_rate=2, dtype="float64")
    x = rng.normal(size=(1, 10, 1))
    before = layer(x)
    x[0, 6:] += 100.0
    assert_allclose(layer(x)[0, :6], before[0, :6])
    assert not np.allclose(layer(x)[0, 6:], before[0, 6:])


def test_float32_layers_compute_in_float32(rng):
    layer = Conv2D(3, 3)
    out = layer(rng.normal(size=(2, 6, 6, 2)))
    assert out.dtype == np.float32 and layer.kernel.dtype == np.float32
    assert layer.backward(np.ones_like(out)).dtype == np.float32


def test_inference_on_large_batches_runs_in_chunks_with_the_same_result(rng, monkeypatch):
    from learnloop.layers import conv

    layer = Conv2D(3, 3, padding="same", activation="gelu", dtype="float64")
    x = rng.normal(size=(7, 5, 5, 2))
    expected = layer(x, training=True).copy()
    monkeypatch.setattr(conv, "INFERENCE_COLS_BYTES", 2 * 5 * 5 * 19 * 8)   # two samples' im2col per chunk
    assert_allclose(layer.forward(x, training=False), expected, atol=1e-12)
    with pytest.raises(LearnloopError, match=r"backward\(\) needs forward\(x, training=True\)"):
        layer.backward(np.ones_like(expected))


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


# ---- real data ------------------------------------------------------------------------------------------------
def test_small_cnn_learns_sklearn_digits(shared_data):
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    x = (digits.images / 16.0).astype(np.float32)[..., None]                     # (1797, 8, 8, 1) in [0, 1]
    x_train, x_test, y_train, y_test = train_test_split(x, digits.target, test_size=0.25, random_state=0,
                                                        stratify=digits.target)
    learnloop.set_seed(0)
    model = learnloop.Sequential([
        Input((8, 8, 1)),
        Conv2D(32, 3, padding="same", activation="relu"), MaxPooling2D(2),
        Conv2D(64, 3, padding="same", activation="relu"), MaxPooling2D(2),
        Flatten(), Dropout(0.3), Dense(10)])
    model.compile(optimizer=learnloop.optimizers.Adam(0.002),
                  loss=learnloop.losses.SparseCategoricalCrossentropy(from_logits=True))
    with threadpool_limits(1, user_api="blas"):      # small matrices: threads cost more than they give
        model.fit(x_train, y_train, batch_size=32, epochs=30, verbose=0)
    accuracy = np.mean(model.predict(x_test).argmax(axis=1) == y_test)
    assert accuracy >= 0.98, f"held-out accuracy {accuracy:.3f}"


def _ucr(path):
    data = np.loadtxt(path)
    return data[:, 1:, None].astype(np.float32), (data[:, 0] > 0).astype(np.float32)   # labels -1/1 -> 0/1


def test_conv1d_network_classifies_ecg200(shared_data):
    train, test = shared_data / "ecg" / "ECG200_TRAIN.txt", shared_data / "ecg" / "ECG200_TEST.txt"
    if not (train.is_file() and test.is_file()):
        pytest.skip(f"ECG200 not found under {shared_data / 'ecg'}")
    (x_train, y_train), (x_test, y_test) = _ucr(train), _ucr(test)
    assert x_train.shape == (100, 96, 1) and x_test.shape == (100, 96, 1)
    learnloop.set_seed(0)
    model = learnloop.Sequential([Input((96, 1)), Conv1D(8, 7, activation="relu"), MaxPooling1D(3), Flatten(),
                                  Dense(1, activation="sigmoid")])
    model.compile(optimizer=learnloop.optimizers.Adam(0.003), loss="binary_crossentropy")
    with threadpool_limits(1, user_api="blas"):
        model.fit(x_train, y_train, batch_size=16, epochs=200, verbose=0)
    accuracy = np.mean((model.predict(x_test)[:, 0] > 0.5) == y_test)
    assert accuracy >= 0.85, f"test accuracy {accuracy:.2f}"


def test_conv1d_with_global_pooling_trains_on_signals(rng):
    # A tiny synthetic check that Conv1D -> pooling -> GlobalAveragePooling1D learns: bumps vs. dips.
    t = np.linspace(0, 1, 40)
    sign = rng.integers(0, 2, 200)
    centers = rng.uniform(0.2, 0.8, 200)
    x = ((2 * sign - 1)[:, None] * np.exp(-((t - centers[:, None]) / 0.05) ** 2) +
         0.1 * rng.normal(size=(200, 40)))[..., None].astype(np.float32)
    model = learnloop.Sequential([Input((40, 1)), Conv1D(8, 5, activation="relu"), MaxPooling1D(2),
                                  Conv1D(8, 3, activation="relu"), GlobalAveragePooling1D(),
                                  Dense(1, activation="sigmoid")])
    model.compile(optimizer=learnloop.optimizers.Adam(0.01), loss="binary_crossentropy")
    model.fit(x[:150], sign[:150].astype(np.float32), batch_size=32, epochs=30, verbose=0)
    assert np.mean((model.predict(x[150:])[:, 0] > 0.5) == sign[150:]) >= 0.95


# ---- oracle: PyTorch, when installed ----------------------------------------------------------------------------
@pytest.mark.parametrize("kernel_size, strides, padding, dilation, c_in, filters, hw", CONV2D_CASES[2:9])
def test_conv2d_matches_torch_forward_and_backward(rng, kernel_size, strides, padding, dilation, c_in, filters, hw):
    torch = pytest.importorskip("torch")
    layer = Conv2D(filters, kernel_size, strides=strides, padding=padding, dilation_rate=dilation,
                   bias_initializer="random_normal", dtype="float64")
    x = rng.normal(size=(3, *hw, c_in))
    out = layer(x)
    g = rng.normal(size=out.shape)
    dx = layer.backward(g)
    as2 = lambda v: (v, v) if isinstance(v, int) else tuple(v)
    (kh, kw), (sh, sw), (dh, dw) = as2(kernel_size), as2(strides), as2(dilation)
    pads = [0, 0, 0, 0]
    if padding == "same":
        for n, k, s, d, slot in ((hw[1], kw, sw, dw, 0), (hw[0], kh, sh, dh, 2)):
            total = max((-(-n // s) - 1) * s + (k - 1) * d + 1 - n, 0)
            pads[slot], pads[slot + 1] = total // 2, total - total // 2
    xt = torch.tensor(x.transpose(0, 3, 1, 2), requires_grad=True)
    wt = torch.tensor(layer.kernel.transpose(3, 2, 0, 1).copy(), requires_grad=True)      # (f, c, kh, kw)
    bt = torch.tensor(layer.bias.copy(), requires_grad=True)
    yt = torch.nn.functional.conv2d(torch.nn.functional.pad(xt, pads), wt, bt, stride=(sh, sw), dilation=(dh, dw))
    yt.backward(torch.tensor(g.transpose(0, 3, 1, 2)))
    assert_allclose(out, yt.detach().numpy().transpose(0, 2, 3, 1), atol=1e-10)
    assert_allclose(dx, xt.grad.numpy().transpose(0, 2, 3, 1), atol=1e-10)
    assert_allclose(layer.grads["kernel"], wt.grad.numpy().transpose(2, 3, 1, 0), atol=1e-10)
    assert_allclose(layer.grads["bias"], bt.grad.numpy(), atol=1e-10)


@pytest.mark.parametrize("kernel_size, strides, padding, dilation", [(5, 1, "valid", 1), (4, 2, "causal", 2),
                                                                     (3, 3, "valid", 2)])
def test_conv1d_matches_torch_forward_and_backward(rng, kernel_size, strides, padding, dilation):
    torch = pytest.importorskip("torch")
    layer = Conv1D(4, kernel_size, strides=strides, padding=padding, dilation_rate=dilation,
                   bias_initializer="random_normal", dtype="float64")
    x = rng.normal(size=(3, 17, 2))
    out = layer(x)
    g = rng.normal(size=out.shape)
    dx = layer.backward(g)
    left = (kernel_size - 1) * dilation if padding == "causal" else 0
    xt = torch.tensor(x.transpose(0, 2, 1), requires_grad=True)
    wt = torch.tensor(layer.kernel.transpose(2, 1, 0).copy(), requires_grad=True)         # (f, c, k)
    yt = torch.nn.functional.conv1d(torch.nn.functional.pad(xt, (left, 0)), wt, torch.tensor(layer.bias),
                                    stride=strides, dilation=dilation)
    yt.backward(torch.tensor(g.transpose(0, 2, 1)))
    assert_allclose(out, yt.detach().numpy().transpose(0, 2, 1), atol=1e-10)
    assert_allclose(dx, xt.grad.numpy().transpose(0, 2, 1), atol=1e-10)
    assert_allclose(layer.grads["kernel"], wt.grad.numpy().transpose(2, 1, 0), atol=1e-10)


# ---- oracle: Keras itself, when installed ------------------------------------------------------------------------
@pytest.mark.parametrize("name, kwargs, shape", [
    ("Conv2D", {"filters": 3, "kernel_size": (2, 4), "strides": (2, 3), "padding": "same"}, (2, 7, 8, 2)),
    ("Conv2D", {"filters": 3, "kernel_size": 4, "padding": "same", "dilation_rate": 2}, (2, 9, 8, 2)),
    ("Conv2D", {"filters": 2, "kernel_size": 3, "strides": 2, "activation": "relu"}, (2, 8, 9, 3)),
    ("Conv1D", {"filters": 3, "kernel_size": 4, "strides": 2, "padding": "same"}, (2, 9, 2)),
    ("Conv1D", {"filters": 3, "kernel_size": 3, "padding": "causal", "dilation_rate": 2}, (2, 9, 2)),
])
def test_conv_matches_keras_with_the_same_weights(rng, name, kwargs, shape):
    keras = pytest.importorskip("keras")
    x = rng.normal(size=shape).astype(np.float32)
    theirs = getattr(keras.layers, name)(**kwargs, bias_initializer="random_normal")
    expected = np.asarray(theirs(x))
    ours = getattr(learnloop.layers, name)(**kwargs)
    ours(x)
    ours.set_weights(theirs.get_weights())                                  # Keras's arrays, unchanged
    assert ours.compute_output_shape((None, *shape[1:])) == tuple(theirs.compute_output_shape((None, *shape[1:])))
    assert_allclose(ours(x), expected, atol=1e-5)
