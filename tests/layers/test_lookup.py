"""StringLookup / IntegerLookup: golden values worked out by hand, every output mode, OOV and mask, errors, configs."""

import json
import math

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from learnloop.errors import LearnloopError, NotFittedError
from learnloop.layers import REGISTRY, IntegerLookup, Layer, StringLookup
from learnloop.saving import layer_from_config, layer_to_config
from learnloop.shapes import SymbolicTensor


def _round_trip(layer):
    return layer_from_config(json.loads(json.dumps(layer_to_config(layer))))


# ---- vocabulary order ----------------------------------------------------------------------------------------
def test_adapt_orders_by_count_and_breaks_ties_by_the_greater_string():
    layer = StringLookup()
    layer.adapt(["b", "a", "c", "a", "b", "d"])        # a:2 b:2 c:1 d:1
    assert layer.get_vocabulary() == ["[UNK]", "b", "a", "d", "c"]
    assert layer.get_vocabulary(include_special_tokens=False) == ["b", "a", "d", "c"]
    assert layer.vocabulary_size() == 5


def test_integer_adapt_ties_go_to_the_greater_integer_and_the_oov_token_is_not_learned():
    layer = IntegerLookup()
    layer.adapt(np.array([5, 3, 3, 5, 7, -1, -1, -1, 9]))  # -1 is the OOV token: never a term
    assert layer.get_vocabulary() == [-1, 5, 3, 9, 7]
    assert all(type(v) is int for v in layer.get_vocabulary())


def test_max_tokens_counts_the_special_indices():
    layer = StringLookup(max_tokens=3)
    layer.adapt(np.array(["b", "a", "c", "a", "b", "d"]))
    assert layer.get_vocabulary() == ["[UNK]", "b", "a"]
    masked = StringLookup(max_tokens=4, mask_token="", num_oov_indices=2)
    masked.adapt(["x", "y", "x", "", ""])                 # the mask token is never learned either
    assert masked.get_vocabulary() == ["", "[UNK]", "[UNK]", "x"]


def test_adapt_skips_none_and_nan_and_reads_generators_with_steps():
    layer = StringLookup()
    layer.adapt(np.array(["a", None, "b", float("nan"), "a"], dtype=object))
    assert layer.get_vocabulary() == ["[UNK]", "a", "b"]
    batches = (np.array([c]) for c in "abcabcab")
    layer = StringLookup()
    layer.adapt(batches, steps=4)                          # a, b, c, a
    assert layer.get_vocabulary() == ["[UNK]", "a", "c", "b"]
    numbers = IntegerLookup()
    numbers.adapt(np.array([2.0, np.nan, 2.0, 4.0]))
    assert numbers.get_vocabulary() == [-1, 2, 4]


# ---- "int" mode ----------------------------------------------------------------------------------------------
def test_int_mode_returns_int64_indices_of_the_input_shape():
    layer = StringLookup(vocabulary=["a", "b", "c"])
    out = layer(np.array([["a", "c"], ["zz", "b"]]))
    assert out.dtype == np.int64
    assert_array_equal(out, [[1, 3], [0, 2]])
    assert_array_equal(layer(["c"]), [3])
    assert layer("b") == 2


def test_none_and_nan_are_out_of_vocabulary_and_never_raise():
    layer = StringLookup(vocabulary=["a", "b"])
    assert_array_equal(layer(np.array(["a", None, float("nan"), "b"], dtype=object)), [1, 0, 0, 2])
    numbers = IntegerLookup(vocabulary=[7, 9])
    assert_array_equal(numbers(np.array([9.0, np.nan, 7.0])), [2, 0, 1])
    assert_array_equal(numbers([9, None, 7]), [2, 0, 1])


def test_bytes_and_fixed_width_string_arrays_find_the_same_indices():
    layer = StringLookup(vocabulary=["a", "é"])
    assert_array_equal(layer(np.array([b"a", "é".encode(), b"q"], dtype=object)), [1, 2, 0])
    assert_array_equal(layer(np.array([b"a", b"q"])), [1, 0])
    many = np.array(["a", "é", "q"] * 100)                 # long fixed-width arrays take the vectorized search
    assert_array_equal(layer(many)[:3], [1, 2, 0])


def test_mask_token_is_index_0_in_int_mode_and_dropped_when_encoding():
    layer = StringLookup(vocabulary=["a", "b"], mask_token="")
    assert layer.get_vocabulary() == ["", "[UNK]", "a", "b"]
    assert_array_equal(layer(np.array([["a", "", "q"]])), [[2, 0, 1]])
    counts = StringLookup(vocabulary=["a", "b"], mask_token="", output_mode="count")
    assert counts.get_vocabulary() == ["[UNK]", "a", "b"]
    assert_array_equal(counts(np.array([["a", "a", ""], ["b", "", "q"]])), [[0, 2, 0], [1, 0, 1]])
    numbers = IntegerLookup(vocabulary=[5, 6], mask_token=0)
    assert_array_equal(numbers(np.array([0, 5, 8, 6])), [0, 2, 1, 3])


def test_several_oov_indices_hash_strings_like_keras():
    # expected values computed once with keras.layers.StringLookup (TensorFlow's to_hash_bucket_fast / _strong)
    layer = StringLookup(vocabulary=["a"], num_oov_indices=4)
    assert_array_equal(layer(np.array(["x", "y", "z", "hello", "a"])), [2, 1, 1, 0, 4])
    salted = StringLookup(vocabulary=["a"], num_oov_indices=4, salt=[1, 2])
    assert_array_equal(salted(np.array(["x", "y", "z", "hello", "a"])), [2, 1, 0, 2, 4])
    assert_array_equal(layer(np.array([None, "a"], dtype=object)), [0, 4])   # missing: the first OOV index


def test_several_oov_indices_for_integers_use_floormod_or_farmhash():
    layer = IntegerLookup(vocabulary=[1, 2], num_oov_indices=3)
    assert_array_equal(layer(np.array([10, -4, 1])), [10 % 3, -4 % 3, 3])   # 1, 2, then index 3 for term 1
    hashed = IntegerLookup(vocabulary=[1], num_oov_indices=4, oov_method="farmhash")
    assert_array_equal(hashed(np.array([10, 11, 12, -7, 1])), [2, 3, 0, 2, 4])  # from Keras


def test_num_oov_indices_0_refuses_out_of_vocabulary_values():
    layer = StringLookup(vocabulary=["a", "b"], num_oov_indices=0)
    assert_array_equal(layer(["b", "a"]), [1, 0])
    with pytest.raises(LearnloopError, match=r"num_oov_indices=0.*\['zz'\]"):
        layer(["a", "zz", "zz"])


# ---- encoded modes -------------------------------------------------------------------------------------------
def test_one_hot_encodes_each_value():
    layer = StringLookup(vocabulary=["a", "b", "c"], output_mode="one_hot")
    expected = [[0, 1, 0, 0], [0, 0, 0, 1], [1, 0, 0, 0]]
    out = layer(np.array(["a", "c", "zz"]))
    assert out.dtype == np.float32
    assert_array_equal(out, expected)
    assert_array_equal(layer(np.array([["a"], ["c"], ["zz"]])), expected)
    assert layer(np.array([["a", "b"], ["c", "a"]])).shape == (2, 2, 4)


def test_multi_hot_and_count_encode_each_row():
    rows = np.array([["a", "c", "a"], ["b", "b", "zz"]])
    multi = StringLookup(vocabulary=["a", "b", "c"], output_mode="multi_hot")
    assert_array_equal(multi(rows), [[0, 1, 0, 1], [1, 0, 1, 0]])
    assert_array_equal(multi(np.array(["a", "b", "zz"])), [1, 1, 1, 0])   # a 1-D input is one sample
    count = StringLookup(vocabulary=["a", "b", "c"], output_mode="count")
    assert_array_equal(count(rows), [[0, 2, 0, 1], [1, 0, 2, 0]])
    assert_array_equal(IntegerLookup(vocabulary=[4, 8], output_mode="binary")(np.array([[8, 8]])), [[0, 0, 1]])


def test_pad_to_max_tokens_widens_the_encoding():
    layer = StringLookup(vocabulary=["a", "b"], max_tokens=6, pad_to_max_tokens=True, output_mode="multi_hot")
    assert_array_equal(layer(np.array([["b", "q"]])), [[1, 0, 1, 0, 0, 0]])
    assert layer.compute_output_shape((None, 2)) == (None, 6)


def test_tf_idf_from_given_weights_gives_the_oov_slot_their_mean():
    layer = StringLookup(vocabulary=["a", "b", "c"], idf_weights=[0.5, 1.0, 2.0], output_mode="tf_idf")
    assert_allclose(layer(np.array([["a", "a", "z"], ["c", "b", "b"]])),
                    [[7 / 6, 1.0, 0.0, 0.0], [0.0, 0.0, 2.0, 2.0]], rtol=1e-6)


def test_tf_idf_adapt_learns_log_inverse_document_frequencies():
    layer = StringLookup(output_mode="tf_idf")
    layer.adapt(np.array([["a", "b"], ["a", "a"], ["c", "c"]]))   # 3 documents; a in 2, b in 1, c in 1
    assert layer.get_vocabulary() == ["[UNK]", "a", "c", "b"]
    idf = [math.log(1 + 3 / 3), math.log(1 + 3 / 2), math.log(1 + 3 / 2)]
    out = layer(np.array([["a", "a", "b", "zz"]]))
    assert_allclose(out, [[np.mean(idf), 2 * idf[0], 0.0, idf[2]]], rtol=1e-6)


# ---- invert --------------------------------------------------------------------------------------------------
def test_invert_maps_indices_back_to_tokens():
    layer = StringLookup(vocabulary=["a", "b", "c"], invert=True)
    out = layer(np.array([[1, 3], [0, 9]]))
    assert out.dtype == object
    assert out.tolist() == [["a", "c"], ["[UNK]", "[UNK]"]]
    numbers = IntegerLookup(vocabulary=[12, 36, 1138, 42], invert=True)
    assert_array_equal(numbers(np.array([[1, 3, 4], [4, 0, 2]])), [[12, 1138, 42], [42, -1, 36]])
    forward = IntegerLookup(vocabulary=[12, 36, 1138, 42])
    back = IntegerLookup(vocabulary=forward.get_vocabulary(), invert=True)
    assert_array_equal(back(forward(np.array([12, 1000, 36]))), [12, -1, 36])


# ---- vocabularies given --------------------------------------------------------------------------------------
def test_vocabulary_file_and_set_vocabulary(tmp_path):
    path = tmp_path / "vocab.txt"
    path.write_text("red\ngreen\nblue\n", encoding="utf-8")
    layer = StringLookup(vocabulary=str(path))
    assert layer.get_vocabulary() == ["[UNK]", "red", "green", "blue"]
    layer.set_vocabulary(["blue", "red"])
    assert_array_equal(layer(["red", "green"]), [2, 0])
    (tmp_path / "ints.txt").write_text("10\n20\n", encoding="utf-8")
    assert IntegerLookup(vocabulary=tmp_path / "ints.txt").get_vocabulary() == [-1, 10, 20]


def test_a_vocabulary_with_its_special_tokens_first_is_read_as_is():
    layer = StringLookup(vocabulary=["[UNK]", "a", "b"])
    assert layer.get_vocabulary() == ["[UNK]", "a", "b"]


# ---- config --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("make", [
    lambda: StringLookup(max_tokens=5, mask_token="", num_oov_indices=2),
    lambda: StringLookup(output_mode="tf_idf", pad_to_max_tokens=True, max_tokens=8, name="words"),
    lambda: IntegerLookup(num_oov_indices=3, oov_method="farmhash", salt=5, output_mode="count"),
])
def test_adapted_layers_round_trip_through_json(make):
    data = np.array([["a", "b", "a"], ["c", "a", ""], ["d", "b", "e"]])
    layer = make()
    if isinstance(layer, IntegerLookup):
        data = np.array([[3, 4, 3], [5, 3, 0], [6, 4, 7]])
    layer.adapt(data)
    restored = _round_trip(layer)
    assert type(restored) is type(layer) and restored.name == layer.name
    assert restored.get_vocabulary() == layer.get_vocabulary()
    probe = np.concatenate([data, data[::-1]], axis=1)
    assert_allclose(restored(probe), layer(probe), rtol=1e-7)
    restored.adapt(data[:1])                           # an adapted layer can be adapted again after loading


def test_a_layer_without_vocabulary_round_trips_and_still_asks_for_one():
    restored = _round_trip(StringLookup(num_oov_indices=2))
    assert restored.num_oov_indices == 2 and restored.get_config()["vocabulary"] is None
    with pytest.raises(NotFittedError, match="has no vocabulary yet"):
        restored(["a"])


def test_registered_and_flagged_as_preprocessing():
    assert REGISTRY["StringLookup"] is StringLookup and REGISTRY["IntegerLookup"] is IntegerLookup
    assert StringLookup.preprocessing and IntegerLookup.preprocessing and not Layer.preprocessing
    assert StringLookup().name.startswith("string_lookup")


def test_shapes_and_symbolic_calls():
    layer = StringLookup(vocabulary=["a", "b"], output_mode="one_hot")
    assert layer.compute_output_shape((None, 1)) == (None, 3)
    assert layer.compute_output_shape((None,)) == (None, 3)
    assert StringLookup(vocabulary=["a"]).compute_output_shape((None, 4)) == (None, 4)
    out = layer(SymbolicTensor((None, 1), "object"))
    assert tuple(out.shape) == (None, 3) and out.dtype == "float32"


# ---- errors --------------------------------------------------------------------------------------------------
def test_calling_before_a_vocabulary_says_how_to_get_one():
    with pytest.raises(NotFittedError, match=r"StringLookup 'lookup_a' has no vocabulary yet; call adapt\(data\) "
                                             r"or pass vocabulary=\.\.\."):
        StringLookup(name="lookup_a")(["a"])


def test_argument_errors_name_the_argument_and_the_valid_values():
    with pytest.raises(LearnloopError, match=r"unknown output_mode 'onehot'; expected one of \['int', 'one_hot', "
                                             r"'multi_hot', 'count', 'tf_idf'\]\. Did you mean 'one_hot'\?"):
        StringLookup(output_mode="onehot")
    with pytest.raises(LearnloopError, match="sparse=True is not supported"):
        StringLookup(output_mode="multi_hot", sparse=True)
    with pytest.raises(LearnloopError, match="max_tokens, if set, must be an integer greater than 1"):
        StringLookup(max_tokens=1)
    with pytest.raises(LearnloopError, match="pad_to_max_tokens=True needs max_tokens"):
        StringLookup(pad_to_max_tokens=True)
    with pytest.raises(LearnloopError, match="invert=True .* output_mode must be 'int'"):
        StringLookup(invert=True, output_mode="count")
    with pytest.raises(LearnloopError, match="idf_weights are only used with output_mode='tf_idf'"):
        StringLookup(vocabulary=["a"], idf_weights=[1.0])
    with pytest.raises(LearnloopError, match="pass idf_weights too"):
        StringLookup(vocabulary=["a"], output_mode="tf_idf")
    with pytest.raises(LearnloopError, match="salt is only used with oov_method='farmhash'"):
        IntegerLookup(salt=3)
    with pytest.raises(LearnloopError, match="only vocabulary_dtype='int64'"):
        IntegerLookup(vocabulary_dtype="int32")


def test_vocabulary_errors():
    with pytest.raises(LearnloopError, match=r"repeats terms \['a'\]"):
        StringLookup(vocabulary=["a", "b", "a"])
    with pytest.raises(LearnloopError, match="the mask token '' is in the vocabulary at index 1"):
        StringLookup(vocabulary=["a", ""], mask_token="")
    with pytest.raises(LearnloopError, match="has 4 indices .* more than max_tokens=3"):
        StringLookup(vocabulary=["a", "b", "c"], max_tokens=3)
    with pytest.raises(LearnloopError, match="non-empty 1-D list"):
        StringLookup(vocabulary=[])
    with pytest.raises(LearnloopError, match="does not exist"):
        StringLookup(vocabulary="/no/such/vocabulary.txt")
    with pytest.raises(LearnloopError, match=r"expected string vocabulary terms; got 3 \(int\)"):
        StringLookup(vocabulary=["a", 3])
    with pytest.raises(LearnloopError, match=r"expected integer vocabulary terms; got 'a' \(str\)"):
        IntegerLookup(vocabulary=[1, "a"])
    with pytest.raises(LearnloopError, match="cannot adapt a layer constructed with vocabulary"):
        StringLookup(vocabulary=["a"]).adapt(["b"])


def test_input_type_errors_point_to_the_other_lookup():
    with pytest.raises(LearnloopError, match="expects strings; got an array of dtype int64.*Use IntegerLookup"):
        StringLookup(vocabulary=["a"])(np.array([1, 2]))
    with pytest.raises(LearnloopError, match="expects integers; got an array of dtype <U1.*Use StringLookup"):
        IntegerLookup(vocabulary=[1])(np.array(["a"]))
    with pytest.raises(LearnloopError, match="expects integers; got the value 2.5"):
        IntegerLookup(vocabulary=[1])(np.array([1.0, 2.5]))
    with pytest.raises(LearnloopError, match="invert=True, so it maps integer indices"):
        StringLookup(vocabulary=["a"], invert=True)(np.array(["a"]))


def test_backward_says_preprocessing_layers_are_not_differentiable():
    with pytest.raises(LearnloopError, match="StringLookup 'pre' is a preprocessing layer: it is not differentiable"):
        StringLookup(vocabulary=["a"], name="pre").backward(np.ones((1, 2)))
    assert StringLookup(vocabulary=["a"]).get_weights() == []


def test_the_first_call_on_data_records_the_output_shape_and_a_model_can_start_with_the_layer():
    import learnloop
    from learnloop.layers import Dense

    x = np.array([["a"], ["b"], ["c"], ["a"]] * 5, dtype=object)
    layer = StringLookup(output_mode="one_hot")
    layer.adapt(x)
    layer(x[:2])
    assert tuple(layer.output.shape) == (None, 4)
    model = learnloop.Sequential([StringLookup(vocabulary=["a", "b", "c"], output_mode="one_hot"), Dense(1)])
    model.compile(loss="mse", optimizer="sgd")
    model.fit(x, np.ones((20, 1)), epochs=1, verbose=0)
    assert model.predict(x[:3], verbose=0).shape == (3, 1)
