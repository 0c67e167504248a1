"""Discretization: bucketing and adapt worked out by hand, NaN, output modes, errors and config."""

import json

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from learnloop.errors import LearnloopError, NotFittedError
from learnloop.layers import REGISTRY, Discretization
from learnloop.saving import layer_from_config, layer_to_config


def test_a_value_equal_to_a_boundary_goes_to_the_upper_bin():
    layer = Discretization(bin_boundaries=[0.0, 1.0, 2.0])
    out = layer(np.array([[-1.5, 0.0, 0.5], [1.0, 2.0, 3.0]]))
    assert out.dtype == np.int32                       # Keras's int output dtype
    assert_array_equal(out, [[0, 1, 1], [2, 3, 3]])


def test_values_are_compared_in_float32_like_keras():
    layer = Discretization(bin_boundaries=[0.1])
    assert_array_equal(layer(np.array([0.0999999999, 0.1, 0.09])), [1, 1, 0])   # float32(0.0999999999) == 0.1f


def test_nan_goes_to_the_last_bin_and_adapt_ignores_it():
    layer = Discretization(bin_boundaries=[0.0, 1.0])
    assert_array_equal(layer(np.array([np.nan, -np.inf, np.inf])), [2, 0, 2])
    assert_array_equal(layer(np.array([None, 0.5], dtype=object)), [2, 1])
    learned, clean = Discretization(num_bins=4), Discretization(num_bins=4)
    learned.adapt(np.array([1, 2, 3, np.nan, 4, 5, 6, 7, 8, np.nan]))
    clean.adapt(np.arange(1, 9))
    assert learned.bin_boundaries == clean.bin_boundaries


def test_adapt_interpolates_equal_weight_quantiles():
    # 8 values of weight 1: cumulative shares 1/8..1; the 1/4, 2/4, 3/4 points fall on 2, 4, 6
    layer = Discretization(num_bins=4)
    layer.adapt(np.array([[8, 1], [3, 5], [2, 7], [6, 4]]))
    assert layer.bin_boundaries == [2.0, 4.0, 6.0]
    assert_array_equal(layer(np.array([1, 2, 3, 4, 7, 8])), [0, 1, 1, 2, 3, 3])


def test_fewer_values_than_bins_keep_every_value_but_the_largest_as_a_boundary():
    layer = Discretization(num_bins=4)                  # Keras: a summary shorter than num_bins is not re-cut
    layer.adapt([5.0, 1.0, 3.0])
    assert layer.bin_boundaries == [1.0, 3.0]
    assert layer.compute_output_shape((None, 1)) == (None, 1)


def test_adapt_reads_batches_from_an_iterable(rng):
    data = rng.normal(size=(300, 2))
    whole, batched = Discretization(num_bins=3), Discretization(num_bins=3)
    whole.adapt(data)
    batched.adapt(iter([data[:150], data[150:]]))
    assert len(batched.bin_boundaries) == 2
    assert np.allclose(whole.bin_boundaries, batched.bin_boundaries, atol=0.3)   # an approximate summary


@pytest.mark.parametrize("mode,expected", [
    ("one_hot", [[1, 0, 0], [0, 1, 0], [0, 0, 1]]),
    ("multi_hot", [1, 1, 1]),
    ("count", [1, 1, 1]),
])
def test_encoded_modes(mode, expected):
    layer = Discretization(bin_boundaries=[0.0, 1.0], output_mode=mode)
    out = layer(np.array([-1.0, 0.5, 2.0]))
    assert out.dtype == np.float32
    assert_array_equal(out, expected)
    assert_array_equal(layer(np.array([[-1.0], [0.5], [2.0]])),
                       [[1, 0, 0], [0, 1, 0], [0, 0, 1]])
    assert layer.compute_output_shape((None, 1)) == (None, 3)


def test_config_round_trip_keeps_learned_boundaries():
    layer = Discretization(num_bins=3, epsilon=0.05, output_mode="one_hot", name="age_bins")
    layer.adapt(np.arange(30.0))
    restored = layer_from_config(json.loads(json.dumps(layer_to_config(layer))))
    assert restored.bin_boundaries == layer.bin_boundaries and restored.num_bins == 3
    assert restored.epsilon == 0.05 and restored.name == "age_bins"
    x = np.linspace(-1, 31, 17).reshape(-1, 1)
    assert_array_equal(restored(x), layer(x))
    restored.adapt(np.arange(10.0))                    # still adaptable
    given = layer_from_config(json.loads(json.dumps(layer_to_config(Discretization(bin_boundaries=[1, 2])))))
    assert given.bin_boundaries == [1.0, 2.0] and given.num_bins is None


def test_errors():
    with pytest.raises(LearnloopError, match="pass either num_bins"):
        Discretization()
    with pytest.raises(LearnloopError, match="not both"):
        Discretization(num_bins=3, bin_boundaries=[1.0])
    with pytest.raises(LearnloopError, match="num_bins must be an integer >= 1; got 0"):
        Discretization(num_bins=0)
    with pytest.raises(LearnloopError, match=r"bin_boundaries must be a sorted 1-D list of numbers; got \[2.0, 1.0\]"):
        Discretization(bin_boundaries=[2, 1])
    with pytest.raises(LearnloopError, match=r"unknown output_mode 'tf_idf'; expected one of \['int', 'one_hot', "
                                             r"'multi_hot', 'count'\]"):
        Discretization(num_bins=2, output_mode="tf_idf")
    with pytest.raises(LearnloopError, match="sparse=True is not supported"):
        Discretization(num_bins=2, output_mode="count", sparse=True)
    with pytest.raises(NotFittedError, match=r"Discretization 'd' has no bin boundaries yet; call adapt\(data\)"):
        Discretization(num_bins=2, name="d")(np.array([1.0]))
    with pytest.raises(LearnloopError, match="construct it with num_bins instead"):
        Discretization(bin_boundaries=[1.0]).adapt(np.arange(5.0))
    with pytest.raises(LearnloopError, match="no values to learn boundaries from"):
        Discretization(num_bins=2).adapt(np.array([np.nan, np.nan]))
    with pytest.raises(LearnloopError, match="expects numbers; got <U1"):
        Discretization(bin_boundaries=[1.0])(np.array(["a"]))


def test_registered_preprocessing_layer_without_gradient():
    assert REGISTRY["Discretization"] is Discretization and Discretization.preprocessing
    with pytest.raises(LearnloopError, match="not differentiable"):
        Discretization(bin_boundaries=[0.0]).backward(np.ones((2, 1)))
