"""How a model's outputs are read: task, logits, class indices and probabilities, the same for every command."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from learnloop import Input, Sequential, losses
from learnloop.errors import LearnloopError
from learnloop.layers import Dense
from learnloop.models.outputs import class_indices, class_probabilities, output_kind


@pytest.mark.parametrize("loss,task,logits", [
    (losses.BinaryCrossentropy(from_logits=True), "binary", True),
    ("binary_crossentropy", "binary", False),
    (losses.SparseCategoricalCrossentropy(from_logits=True), "multiclass", True),
    ("mse", "regression", False),
])
def test_the_compiled_loss_decides(loss, task, logits):
    model = Sequential([Input((3,)), Dense(1 if task != "multiclass" else 4)])
    model.compile(optimizer="adam", loss=loss)
    kind = output_kind(model)
    assert (kind.task, kind.from_logits, kind.classification) == (task, logits, task != "regression")


@pytest.mark.parametrize("activation,units,task", [("softmax", 3, "multiclass"), ("sigmoid", 1, "binary"),
                                                   ("linear", 1, "regression")])
def test_without_a_loss_the_last_activation_decides(activation, units, task):
    model = Sequential([Input((3,)), Dense(units, activation=activation)])
    assert output_kind(model).task == task


def test_a_single_logit_is_positive_at_zero_and_a_probability_at_one_half():
    assert_array_equal(class_indices(np.array([[-0.1], [0.0], [2.0]]), from_logits=True), [0, 1, 1])
    assert_array_equal(class_indices(np.array([[0.4], [0.5]]), from_logits=False), [0, 1])
    assert_array_equal(class_indices(np.array([[0.0]]), from_logits=True, threshold=0.7), [0])
    assert_array_equal(class_indices(np.array([[1.0, 3.0, 2.0]]), from_logits=True), [1])
    with pytest.raises(LearnloopError, match="threshold must be in"):
        class_indices(np.array([[0.2]]), from_logits=False, threshold=1.0)


def test_probabilities_sum_to_one():
    assert_allclose(class_probabilities(np.array([[0.0]]), "binary", True), [[0.5, 0.5]])
    probs = class_probabilities(np.array([[1.0, 2.0, 3.0]]), "multiclass", True)
    assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-6)
