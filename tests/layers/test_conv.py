"""Conv1D / Conv2D: finite-difference gradients, a plain-loop reference, behaviour, and training on real data."""

from __future__ import annotations

import numpy as np
import pytest
from conv_cases import CONV1D_CASES, CONV2D_CASES
from numpy.testing import assert_allclose
from threadpoolctl import threadpool_limits

import learnloop
from learnloop.errors import LearnloopError
from learnloop.layers import (
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
@pytest.mark.parametrize("kernel_size, strides, padding, dilation, c_in, filters, hw", CONV2D_CASES)
def test_conv2d_gradients_match_finite_differences(rng, kernel_size, strides, padding, dilation, c_in, filters, hw):
    layer = Conv2D(filters, kernel_size, strides=strides, padding=padding, dilation_rate=dilation,
                   bias_initializer="random_normal", dtype="float64")
    # The loss is linear in x and in the weights, so wide central differences are exact up to rounding.
    assert_gradients_match(layer, rng.normal(size=(2, *hw, c_in)), rtol=1e-6, eps=1e-3)


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
