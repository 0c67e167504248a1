"""Hashing / HashedCrossing and the hash functions under them.

The constants were computed once with TensorFlow 2.21 (``tf.fingerprint(method="farmhash64")``,
``tf.strings.to_hash_bucket_strong``, ``keras.layers.Hashing`` / ``HashedCrossing``), so these tests check
learnloop against TensorFlow without TensorFlow installed; tests/oracle/test_preprocessing_parity.py compares
against it live on random data.
"""

import json

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from learnloop.errors import LearnloopError
from learnloop.layers import REGISTRY, HashedCrossing, Hashing
from learnloop.layers import _farmhash as farmhash
from learnloop.saving import layer_from_config, layer_to_config
from learnloop.shapes import SymbolicTensor

INT64_MAX = 2 ** 63 - 1
STRINGS = [b"", b"a", b"abc", b"abcd", b"hello world", b"seventeen bytes!!", b"x" * 40, bytes(range(100)),
           "naïve café ☕".encode(), bytes(range(256)) + b"tail"]       # every length branch of Fingerprint64
FINGERPRINTS = [0x9AE16A3B2F90404F, 0xB3454265B6DF75E3, 0x24A5B3A074E7F369, 0x1A5502DE4A1F8101,
                0x588FB7478BD6B01B, 0x507A9D6592469765, 0xEBF8E8AEAC993C94, 0x3CFF0F886D8D6195,
                0x4169622656C59E5A, 0xF562C8DF38C70E4B]
STRONG_1_2 = [443797209252341628, 5158252350249958646, 5862226954915230110, 8889024970603298004,
              1015233985318741639, 985941112466891161, 5231829118318405120, 5707655745480194381,
              6222745829633256488, 3132777193577424037]
STRONG_BIG_KEY = [2135344131843382422, 375339580576811431, 3812986746446397404, 8184247307591980379,
                  8627464611108422585, 2958709891393829892, 513820919319869684, 344773503510415939,
                  399273514980727465, 2993660378353689667]


@pytest.fixture(params=[1, 10 ** 9], ids=["vectorized", "one-by-one"])
def hash_path(request, monkeypatch):
    """Run a test through the NumPy (length groups) path and through the Python-int path."""
    monkeypatch.setattr(farmhash, "_VECTOR_MIN", request.param)


def test_fingerprint64_matches_tensorflow(hash_path):
    assert farmhash.fingerprint64(STRINGS).tolist() == FINGERPRINTS
    assert farmhash.fingerprint64(STRINGS * 9).tolist() == FINGERPRINTS * 9       # groups of equal length


def test_keyed_siphash_matches_tensorflow(hash_path):
    assert farmhash.hash_buckets(STRINGS, INT64_MAX, key=[1, 2]).tolist() == STRONG_1_2
    assert farmhash.hash_buckets(STRINGS * 9, INT64_MAX, key=[2 ** 62 + 12345, 987654321]).tolist() == \
        STRONG_BIG_KEY * 9


def test_fingerprint_cat64_folds_like_cross_hashed():
    start = np.full(1, 0xDECAFCAFFE, dtype=np.uint64)
    folded = farmhash.fingerprint_cat64(farmhash.fingerprint_cat64(start, farmhash.fingerprint64([b"A"])),
                                        np.array([101], dtype=np.uint64))
    assert int(folded[0]) % INT64_MAX == 1126068114334019084


def test_hashing_bins_match_keras_examples():
    inputs = [["A"], ["B"], ["C"], ["D"], ["E"]]
    out = Hashing(num_bins=3)(inputs)
    assert out.dtype == np.int64 and out.shape == (5, 1)
    assert out.ravel().tolist() == [1, 0, 1, 1, 2]
    assert Hashing(num_bins=3, salt=133)(inputs).ravel().tolist() == [0, 0, 2, 1, 0]
    assert Hashing(num_bins=3, mask_value="")([["A"], ["B"], [""], ["C"], ["D"]]).ravel().tolist() == [1, 1, 0, 2, 2]
    assert Hashing(num_bins=3)(np.array([[1], [2], [10], [-7]])).ravel().tolist() == [0, 1, 2, 2]


def test_integers_hash_as_their_decimal_strings_and_floats_are_truncated_first():
    layer = Hashing(num_bins=1000)
    assert_array_equal(layer(np.array([12, -7])), layer(np.array(["12", "-7"])))
    assert_array_equal(layer(np.array([12.9, -7.5])), layer(np.array([12, -7])))
    assert_array_equal(layer(np.array([np.nan, np.inf])), layer(np.array(["-9223372036854775808"] * 2)))
    assert_array_equal(layer(np.array([True, False])), layer(np.array(["true", "false"])))
    assert_array_equal(layer(np.array([None, "a"], dtype=object)), layer(np.array(["", "a"])))


def test_hashing_encoded_modes_and_shapes():
    one_hot = Hashing(num_bins=3, output_mode="one_hot")(np.array([["A"], ["B"], ["E"]]))
    assert one_hot.dtype == np.float32
    assert_array_equal(one_hot, [[0, 1, 0], [1, 0, 0], [0, 0, 1]])
    assert_array_equal(Hashing(num_bins=3, output_mode="multi_hot")(np.array([["A", "B"], ["E", "E"]])),
                       [[1, 1, 0], [0, 0, 1]])
    assert_array_equal(Hashing(num_bins=3, output_mode="count")(np.array([["A", "B"], ["E", "E"]])),
                       [[1, 1, 0], [0, 0, 2]])
    assert Hashing(num_bins=3, output_mode="count").compute_output_shape((None, 4)) == (None, 3)
    assert Hashing(num_bins=3).compute_output_shape((None, 4)) == (None, 4)


def test_hashed_crossing_matches_the_keras_example():
    layer = HashedCrossing(num_bins=5)
    out = layer([np.array(["A", "B", "A", "B", "A"]), np.array([101, 101, 101, 102, 102])])
    assert out.dtype == np.int64
    assert out.tolist() == [1, 4, 1, 1, 3]
    one_hot = HashedCrossing(num_bins=5, output_mode="one_hot")((["A", "B"], [101, 101]))
    assert_array_equal(one_hot, [[0, 1, 0, 0, 0], [0, 0, 0, 0, 1]])
    assert HashedCrossing(num_bins=5)([np.array([["A"], ["B"]]), np.array([[101], [101]])]).tolist() == [[1], [4]]


def test_hashed_crossing_of_integers_folds_the_integers_themselves():
    first, second = np.array([101, 101, 101, 102, 102]), np.array([-1, 0, 5, 2 ** 40, -2 ** 62])
    assert HashedCrossing(num_bins=INT64_MAX)([first, second]).tolist() == [
        5231052920977868543, 6516917656153351052, 165076042664561259, 7660140099699785349, 2932724550158635110]


def test_hashed_crossing_symbolic_shape():
    out = HashedCrossing(num_bins=4, output_mode="one_hot")([SymbolicTensor((None, 1)), SymbolicTensor((None, 1))])
    assert tuple(out.shape) == (None, 4)
    assert HashedCrossing(num_bins=4).compute_output_shape([(None,), (None,)]) == (None,)


def test_errors():
    with pytest.raises(LearnloopError, match="num_bins must be an integer >= 1; got 0"):
        Hashing(num_bins=0)
    with pytest.raises(LearnloopError, match=r"unknown output_mode 'tf_idf'; expected one of \['int', 'one_hot', "
                                             r"'multi_hot', 'count'\]"):
        Hashing(num_bins=3, output_mode="tf_idf")
    with pytest.raises(LearnloopError, match="salt must be an integer or a pair of integers; got 'x'"):
        Hashing(num_bins=3, salt="x")
    with pytest.raises(LearnloopError, match="sparse=True is not supported"):
        Hashing(num_bins=3, output_mode="count", sparse=True)
    with pytest.raises(LearnloopError, match=r"got the value \{'a': 1\} \(dict\); expected strings or numbers"):
        Hashing(num_bins=3)(np.array([{"a": 1}], dtype=object))
    with pytest.raises(LearnloopError, match=r"Hashing 'h': cannot hash a value of type tuple \(\(1, 2\)\)"):
        Hashing(num_bins=3, name="h")(np.array([(1, 2), "a"], dtype=object))
    crossing = HashedCrossing(num_bins=3, name="cross")
    with pytest.raises(LearnloopError, match="HashedCrossing 'cross' crosses a list or tuple of at least two "
                                             "features; got a list of 1"):
        crossing([np.array([1])])
    with pytest.raises(LearnloopError, match=r"same shape, \(\), \(batch,\) or \(batch, 1\); got shapes"):
        crossing([np.array([1, 2]), np.array([1])])
    with pytest.raises(LearnloopError, match="feature 1 must hold integers or strings; got dtype float64"):
        crossing([np.array([1]), np.array([1.5])])
    with pytest.raises(LearnloopError, match=r"expected one of \['int', 'one_hot'\]"):
        HashedCrossing(num_bins=3, output_mode="count")


def test_configs_round_trip_and_registry():
    for layer in (Hashing(num_bins=7, salt=[1, 2], mask_value="", output_mode="count", name="h"),
                  HashedCrossing(num_bins=9, output_mode="one_hot", name="x")):
        restored = layer_from_config(json.loads(json.dumps(layer_to_config(layer))))
        assert restored.get_config() == layer.get_config()
        assert REGISTRY[type(layer).__name__] is type(layer) and type(layer).preprocessing
    with pytest.raises(LearnloopError, match="not differentiable"):
        Hashing(num_bins=2).backward(np.ones((1, 1)))
