"""Conv1D / Conv2D against PyTorch and Keras (each skipped when not installed: they are not dependencies)."""

from __future__ import annotations

import numpy as np
import pytest
from conv_cases import CONV2D_CASES
from numpy.testing import assert_allclose

import learnloop
from learnloop.layers import Conv1D, Conv2D

CASES = CONV2D_CASES[2:9]                   # "same" with odd and even kernels, strides that do not divide


# ---- oracle: PyTorch, when installed ----------------------------------------------------------------------------
@pytest.mark.parametrize("kernel_size, strides, padding, dilation, c_in, filters, hw", CASES)
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
