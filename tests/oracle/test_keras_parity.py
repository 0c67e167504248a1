"""Numerical parity with Keras 3 (skipped when TensorFlow/Keras is not installed: it is not a dependency)."""

import os

import numpy as np
import pytest
from numpy.testing import assert_allclose

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
keras = pytest.importorskip("keras")

import learnloop  # noqa: E402
from learnloop import losses  # noqa: E402
from learnloop.layers import Dense, Normalization  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::FutureWarning",
                                        "ignore::UserWarning")


def _pair(activations, n_in=6):
    ours = learnloop.Sequential([learnloop.Input((n_in,))] + [Dense(4, activation=a) for a in activations])
    theirs = keras.Sequential([keras.Input((n_in,))] + [keras.layers.Dense(4, activation=a) for a in activations])
    return ours, theirs


@pytest.mark.parametrize("activation", ["linear", "sigmoid", "relu", "tanh", "softmax", "elu", "gelu", "softplus"])
def test_weights_move_between_learnloop_and_keras_unchanged(rng, activation):
    ours, theirs = _pair(["relu", activation])
    theirs.set_weights(ours.get_weights())
    x = rng.normal(size=(10, 6)).astype(np.float32)
    assert_allclose(ours.predict(x), theirs.predict(x, verbose=0), rtol=1e-5, atol=1e-6)
    assert ours.count_params() == theirs.count_params()
    assert [w.shape for w in ours.get_weights()] == [tuple(w.shape) for w in theirs.get_weights()]


@pytest.mark.parametrize("ours,theirs,kind", [
    (losses.BinaryCrossentropy(), keras.losses.BinaryCrossentropy(), "prob"),
    (losses.BinaryCrossentropy(from_logits=True), keras.losses.BinaryCrossentropy(from_logits=True), "logit"),
    (losses.CategoricalCrossentropy(), keras.losses.CategoricalCrossentropy(), "softmax"),
    (losses.CategoricalCrossentropy(from_logits=True), keras.losses.CategoricalCrossentropy(from_logits=True),
     "logits"),
    (losses.MeanSquaredError(), keras.losses.MeanSquaredError(), "logits"),
    (losses.MeanAbsoluteError(), keras.losses.MeanAbsoluteError(), "logits"),
])
def test_loss_values_match_keras(rng, ours, theirs, kind):
    z = rng.normal(size=(8, 3)).astype(np.float32) * 3
    if kind == "prob":
        y, p = (rng.random((8, 3)) > 0.5).astype(np.float32), 1 / (1 + np.exp(-z))
    elif kind == "logit":
        y, p = (rng.random((8, 3)) > 0.5).astype(np.float32), z
    else:
        y = np.eye(3, dtype=np.float32)[rng.integers(0, 3, 8)]
        p = np.exp(z) / np.exp(z).sum(1, keepdims=True) if kind == "softmax" else z
    assert ours(y, p) == pytest.approx(float(theirs(y, p)), rel=1e-5)


@pytest.mark.parametrize("from_logits", [True, False])
def test_sparse_categorical_crossentropy_matches_keras(rng, from_logits):
    z = rng.normal(size=(8, 5)).astype(np.float32)
    p = z if from_logits else np.exp(z) / np.exp(z).sum(1, keepdims=True)
    y = rng.integers(0, 5, 8)
    ours = losses.SparseCategoricalCrossentropy(from_logits=from_logits)(y, p)
    theirs = keras.losses.SparseCategoricalCrossentropy(from_logits=from_logits)(y, p)
    assert ours == pytest.approx(float(theirs), rel=1e-5)


@pytest.mark.parametrize("name", ["adam", "sgd", "rmsprop", "adamw"])
def test_optimizer_steps_match_keras(rng, name):
    w0 = rng.normal(size=(5,)).astype(np.float32)
    grads = [rng.normal(size=(5,)).astype(np.float32) for _ in range(4)]
    ours = learnloop.optimizers.get(name)
    theirs = keras.optimizers.get(name)
    ours.learning_rate = theirs.learning_rate = 0.05
    w = w0.copy()
    var = keras.Variable(w0.copy())
    for g in grads:
        ours.apply([(w, g)])
        theirs.apply([keras.ops.convert_to_tensor(g)], [var])
    assert_allclose(w, np.asarray(var), rtol=1e-5, atol=1e-6)


def test_normalization_adapt_matches_keras(rng):
    x = rng.normal(3, 2, size=(40, 3)).astype(np.float32)
    ours, theirs = Normalization(), keras.layers.Normalization(axis=-1)
    ours.adapt(x)
    theirs.adapt(x)
    assert_allclose(ours(x), np.asarray(theirs(x)), rtol=1e-4, atol=1e-5)


def test_course_model_summary_parameter_counts_match(rng):
    ours, theirs = _pair(["sigmoid"], n_in=400)
    assert ours.count_params() == theirs.count_params() == 400 * 4 + 4
