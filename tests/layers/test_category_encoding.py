"""CategoryEncoding: golden values by hand for each output mode, count weights, shapes, errors and config."""

import json

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from learnloop.errors import LearnloopError
from learnloop.layers import REGISTRY, CategoryEncoding
from learnloop.saving import layer_from_config, layer_to_config


def test_one_hot_encodes_each_value_of_a_column():
    layer = CategoryEncoding(num_tokens=4, output_mode="one_hot")
    expected = [[0, 0, 1, 0], [1, 0, 0, 0], [0, 0, 0, 1]]
    out = layer(np.array([2, 0, 3]))
    assert out.dtype == np.float32
    assert_array_equal(out, expected)
    assert_array_equal(layer(np.array([[2], [0], [3]])), expected)
    assert_array_equal(layer([2.0, 0.0, 3.0]), expected)            # whole floats are read as indices


def test_multi_hot_is_the_default_and_encodes_each_row():
    layer = CategoryEncoding(num_tokens=4)
    assert layer.output_mode == "multi_hot"
    assert_array_equal(layer(np.array([[0, 1, 1], [3, 3, 3]])), [[1, 1, 0, 0], [0, 0, 0, 1]])
    assert_array_equal(layer(np.array([1, 3])), [0, 1, 0, 1])        # a 1-D input is one sample (Keras)
    assert CategoryEncoding(3, output_mode="binary").output_mode == "multi_hot"


def test_count_counts_and_weighs():
    layer = CategoryEncoding(num_tokens=3, output_mode="count")
    x = np.array([[0, 2, 2], [1, 1, 1]])
    assert_array_equal(layer(x), [[1, 0, 2], [0, 3, 0]])
    weights = np.array([[0.5, 1.0, 2.0], [0.1, 0.2, 0.3]])
    assert_allclose(layer(x, count_weights=weights), [[0.5, 0, 3.0], [0, 0.6, 0]], rtol=1e-6)


def test_output_shapes_follow_keras():
    assert CategoryEncoding(5, "one_hot").compute_output_shape((None,)) == (None, 5)
    assert CategoryEncoding(5, "one_hot").compute_output_shape((None, 1)) == (None, 5)
    assert CategoryEncoding(5, "one_hot").compute_output_shape((None, 3)) == (None, 3, 5)
    assert CategoryEncoding(5, "count").compute_output_shape((None, 3)) == (None, 5)
    assert CategoryEncoding(5).compute_output_shape(()) == (5,)


def test_values_outside_the_range_raise_naming_value_and_range():
    layer = CategoryEncoding(num_tokens=3, output_mode="one_hot", name="enc")
    with pytest.raises(LearnloopError, match=r"CategoryEncoding 'enc' expects values in \[0, 3\) \(num_tokens=3\); "
                                             r"got 1 value\(s\) outside it, e.g. 5"):
        layer(np.array([0, 5, 1]))
    with pytest.raises(LearnloopError, match=r"e\.g\. -1"):
        CategoryEncoding(3)(np.array([[0, -1]]))


def test_argument_and_input_errors():
    with pytest.raises(LearnloopError, match="num_tokens must be set"):
        CategoryEncoding()
    with pytest.raises(LearnloopError, match="num_tokens must be an integer >= 1; got 0"):
        CategoryEncoding(0)
    with pytest.raises(LearnloopError, match=r"unknown output_mode 'int'; expected one of \['one_hot', 'multi_hot', "
                                             r"'count'\]"):
        CategoryEncoding(3, output_mode="int")
    with pytest.raises(LearnloopError, match="sparse=True is not supported"):
        CategoryEncoding(3, sparse=True)
    with pytest.raises(LearnloopError, match="expects integer category indices"):
        CategoryEncoding(3)(np.array(["a"]))
    with pytest.raises(LearnloopError, match="count_weights are only used with output_mode='count'"):
        CategoryEncoding(3)(np.array([[1]]), count_weights=np.array([[1.0]]))


def test_config_round_trip_and_registry():
    layer = CategoryEncoding(num_tokens=7, output_mode="count", name="colors", dtype="float64")
    restored = layer_from_config(json.loads(json.dumps(layer_to_config(layer))))
    assert (restored.num_tokens, restored.output_mode, restored.name, restored.dtype) == (7, "count", "colors",
                                                                                         "float64")
    assert restored(np.array([[6, 6]])).dtype == np.float64
    assert REGISTRY["CategoryEncoding"] is CategoryEncoding and CategoryEncoding.preprocessing
    with pytest.raises(LearnloopError, match="not differentiable"):
        layer.backward(np.ones((1, 7)))
