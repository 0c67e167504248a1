"""Preprocessing layers against Keras 3 on random data (skipped without TensorFlow/Keras: not dependencies)."""

import os

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
tf = pytest.importorskip("tensorflow")
keras = pytest.importorskip("keras")

from learnloop import layers  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::FutureWarning",
                                        "ignore::UserWarning")

WORDS = np.array([f"w{i}" for i in range(30)] + ["é", "Z", "a", "", "日本"], dtype=object)
LOOKUP_CASES = [{}, {"max_tokens": 10}, {"mask_token": ""}, {"num_oov_indices": 3},
                {"mask_token": "", "num_oov_indices": 2, "max_tokens": 8}, {"num_oov_indices": 4, "salt": [3, 99]}]
INTEGER_CASES = [{}, {"max_tokens": 12}, {"mask_token": 0}, {"num_oov_indices": 3},
                 {"num_oov_indices": 5, "oov_method": "farmhash"},
                 {"num_oov_indices": 5, "oov_method": "farmhash", "salt": 11}]
MODES = ["int", "one_hot", "multi_hot", "count", "tf_idf"]


def _numpy(x):
    return np.asarray(x)


def _words(rng, shape):
    return WORDS[rng.integers(0, len(WORDS), shape)]


def _probe_words(rng):
    oov = np.array([[f"oov{i}", "q" * i, f"{i}"] for i in range(25)], dtype=object)
    return np.concatenate([_words(rng, (40, 3)), oov])


@pytest.mark.parametrize("kwargs", LOOKUP_CASES)
@pytest.mark.parametrize("mode", MODES)
def test_string_lookup_vocabulary_and_outputs_match_keras(rng, kwargs, mode):
    data = _words(rng, (150, 3))
    ours, theirs = layers.StringLookup(output_mode=mode, **kwargs), keras.layers.StringLookup(output_mode=mode,
                                                                                              **kwargs)
    ours.adapt(data)
    theirs.adapt(data)
    assert ours.get_vocabulary() == [str(v) for v in theirs.get_vocabulary()]
    assert ours.vocabulary_size() == theirs.vocabulary_size()
    probe = _probe_words(rng)
    probe = probe[:, :1] if mode == "one_hot" else probe
    assert_allclose(ours(probe), _numpy(theirs(probe)), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("kwargs", INTEGER_CASES)
@pytest.mark.parametrize("mode", MODES)
def test_integer_lookup_vocabulary_and_outputs_match_keras(rng, kwargs, mode):
    data = rng.integers(-5, 40, (200, 2)) * 3
    ours, theirs = layers.IntegerLookup(output_mode=mode, **kwargs), keras.layers.IntegerLookup(output_mode=mode,
                                                                                                **kwargs)
    ours.adapt(data)
    theirs.adapt(data)
    assert ours.get_vocabulary() == [int(v) for v in theirs.get_vocabulary()]
    probe = np.concatenate([data[:30], rng.integers(-1000, 1000, (50, 2))])
    probe = probe[:, :1] if mode == "one_hot" else probe
    assert_allclose(ours(probe), _numpy(theirs(probe)), rtol=1e-6, atol=1e-7)


def test_tf_idf_documents_from_a_generator_match_keras():
    def batches():
        yield np.array(["a", "b", "a"])
        yield np.array(["c"])
        yield np.array(["c", "c"])

    ours, theirs = layers.StringLookup(output_mode="tf_idf"), keras.layers.StringLookup(output_mode="tf_idf")
    ours.adapt(batches())
    theirs.adapt(batches())
    assert ours.get_vocabulary() == [str(v) for v in theirs.get_vocabulary()]
    probe = np.array([["a", "c", "c", "x"]])
    assert_allclose(ours(probe), _numpy(theirs(probe)), rtol=1e-6)


@pytest.mark.parametrize("kwargs", [
    {"vocabulary": ["a", "b", "c"], "idf_weights": [0.5, 1.0, 2.0], "output_mode": "tf_idf", "max_tokens": 6,
     "pad_to_max_tokens": True},
    {"vocabulary": ["[UNK]", "a", "b", "c"], "idf_weights": [0.7, 0.5, 1.0, 2.0], "output_mode": "tf_idf"},
    {"vocabulary": ["a", "b", "c"], "max_tokens": 6, "pad_to_max_tokens": True, "output_mode": "multi_hot"},
    {"vocabulary": ["a", "b", "c"], "mask_token": "", "output_mode": "count"},
])
def test_given_vocabularies_match_keras(kwargs):
    probe = np.array([["a", "a", "z"], ["c", "", "b"]])
    assert_allclose(layers.StringLookup(**kwargs)(probe), _numpy(keras.layers.StringLookup(**kwargs)(probe)),
                    rtol=1e-6)


def test_invert_matches_keras():
    kwargs = {"vocabulary": ["a", "b", "c"], "invert": True, "mask_token": ""}
    indices = np.array([[0, 1, 2], [3, 4, 9]])
    theirs = [[v.decode() for v in row] for row in _numpy(keras.layers.StringLookup(**kwargs)(indices))]
    assert layers.StringLookup(**kwargs)(indices).tolist() == theirs
    kwargs = {"vocabulary": [12, 36, 1138, 42], "invert": True}
    indices = np.array([[1, 3, 4], [4, 0, 2], [7, -3, 1]])
    assert_array_equal(layers.IntegerLookup(**kwargs)(indices), _numpy(keras.layers.IntegerLookup(**kwargs)(indices)))


@pytest.mark.parametrize("mode", ["one_hot", "multi_hot", "count"])
@pytest.mark.parametrize("shape", [(20,), (20, 1), (20, 4)])
def test_category_encoding_matches_keras(rng, mode, shape):
    if mode == "one_hot" and shape == (20, 4):
        shape = (20, 1)
    x = rng.integers(0, 6, shape)
    ours, theirs = layers.CategoryEncoding(6, mode), keras.layers.CategoryEncoding(6, mode)
    assert_array_equal(ours(x), _numpy(theirs(x)))
    assert ours.compute_output_shape((None,) + shape[1:]) == theirs.compute_output_shape((None,) + shape[1:])


def test_category_encoding_count_weights_match_keras(rng):
    x, weights = rng.integers(0, 6, (20, 4)), rng.random((20, 4)).astype(np.float32)
    ours = layers.CategoryEncoding(6, "count")(x, count_weights=weights)
    assert_allclose(ours, _numpy(keras.layers.CategoryEncoding(6, "count")(x, count_weights=weights)), rtol=1e-6)


@pytest.mark.parametrize("n", [3, 10, 99, 257, 5000])
@pytest.mark.parametrize("num_bins,epsilon", [(2, 0.01), (4, 0.01), (7, 0.1), (32, 0.003)])
def test_discretization_boundaries_match_keras(rng, n, num_bins, epsilon):
    x = rng.normal(size=n) * 10
    x[:n // 5] = np.round(x[:n // 5])                   # ties
    ours, theirs = layers.Discretization(num_bins=num_bins, epsilon=epsilon), keras.layers.Discretization(
        num_bins=num_bins, epsilon=epsilon)
    ours.adapt(x)
    theirs.adapt(x)
    assert ours.bin_boundaries == theirs.bin_boundaries
    probe = np.concatenate([x[:50], ours.bin_boundaries[:5], [-np.inf, np.inf, np.nan]])
    assert_array_equal(ours(probe), _numpy(theirs(probe)))


def test_discretization_from_batches_matches_keras(rng):
    data = [rng.normal(size=(size, 2)) for size in (30, 200, 7, 1000)]
    ours, theirs = layers.Discretization(num_bins=5), keras.layers.Discretization(num_bins=5)
    ours.adapt(iter(data))
    theirs.adapt(iter(data))
    assert ours.bin_boundaries == theirs.bin_boundaries


@pytest.mark.parametrize("mode", ["int", "one_hot", "multi_hot", "count"])
@pytest.mark.parametrize("shape", [(12,), (12, 1), (4, 3)])
def test_discretization_outputs_match_keras(rng, mode, shape):
    x = rng.normal(size=shape).astype(np.float32)
    kwargs = {"bin_boundaries": [-0.5, 0.0, 0.5], "output_mode": mode}
    ours, theirs = layers.Discretization(**kwargs), keras.layers.Discretization(**kwargs)
    assert_array_equal(ours(x), _numpy(theirs(x)))
    assert ours.compute_output_shape(shape) == tuple(theirs.compute_output_shape(shape))


def _random_strings(rng, n):
    lengths = rng.integers(0, 150, n)                  # every Fingerprint64 branch, ASCII to CJK
    return np.array(["".join(chr(c) for c in rng.integers(32, 0x3000, size)) for size in lengths], dtype=object)


def test_fingerprint64_and_siphash_match_tensorflow_on_random_bytes(rng):
    from learnloop.layers import _farmhash

    values = [bytes(rng.integers(0, 256, size, dtype=np.uint8)) for size in range(300) for _ in range(3)]
    theirs = tf.fingerprint(tf.constant(values), method="farmhash64").numpy().view("<u8")[:, 0]
    assert_array_equal(_farmhash.fingerprint64(values), theirs)
    key = [int(k) for k in rng.integers(0, 2 ** 62, 2)]
    buckets = 2 ** 63 - 1
    assert_array_equal(_farmhash.hash_buckets(values, buckets, key=key),
                       tf.strings.to_hash_bucket_strong(values, buckets, key=key).numpy())


@pytest.mark.parametrize("kwargs", [{"num_bins": 10}, {"num_bins": 1000003}, {"num_bins": 7, "salt": 5},
                                    {"num_bins": 11, "salt": [2 ** 40, 3]}, {"num_bins": 5, "mask_value": ""}])
def test_hashing_bins_match_keras(rng, kwargs):
    strings = _random_strings(rng, 300)
    assert_array_equal(layers.Hashing(**kwargs)(strings), _numpy(keras.layers.Hashing(**kwargs)(strings)))
    if kwargs.get("mask_value") == "":
        kwargs = {**kwargs, "mask_value": 0}
    numbers = np.concatenate([rng.integers(-10 ** 12, 10 ** 12, 200), [0, 0]])
    assert_array_equal(layers.Hashing(**kwargs)(numbers), _numpy(keras.layers.Hashing(**kwargs)(numbers)))
    floats = np.concatenate([rng.normal(size=100) * 1e3, [np.nan, np.inf, -np.inf, 1e30, -0.5, 0.0]])
    assert_array_equal(layers.Hashing(**kwargs)(floats), _numpy(keras.layers.Hashing(**kwargs)(floats)))


@pytest.mark.parametrize("mode", ["one_hot", "multi_hot", "count"])
def test_hashing_encoded_outputs_match_keras(rng, mode):
    strings = _random_strings(rng, 40)
    x = strings.reshape(-1, 1) if mode == "one_hot" else strings.reshape(10, 4)
    assert_array_equal(layers.Hashing(num_bins=6, output_mode=mode)(x),
                       _numpy(keras.layers.Hashing(num_bins=6, output_mode=mode)(x)))


@pytest.mark.parametrize("num_bins", [5, 1000, 2 ** 40])
def test_hashed_crossing_matches_keras(rng, num_bins):
    words, numbers, small = _random_strings(rng, 100), rng.integers(-10 ** 12, 10 ** 12, 100), rng.integers(0, 5, 100)
    for features in ([words, numbers], [numbers, small, words], [words.reshape(-1, 1), small.reshape(-1, 1)]):
        assert_array_equal(layers.HashedCrossing(num_bins)(features),
                           _numpy(keras.layers.HashedCrossing(num_bins)(tuple(features))))
    one_hot = layers.HashedCrossing(6, output_mode="one_hot")([words[:20], numbers[:20]])
    assert_array_equal(one_hot, _numpy(keras.layers.HashedCrossing(6, output_mode="one_hot")((words[:20],
                                                                                               numbers[:20]))))
