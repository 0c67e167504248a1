import numpy as np
import pytest
from numpy.testing import assert_allclose

import learnloop
from learnloop import Input, Sequential
from learnloop.errors import LearnloopError, NotFittedError
from learnloop.layers import Dense, Dropout


def course_model(name="my_model"):
    return Sequential([Input(shape=(400,)), Dense(25, activation="sigmoid", name="L1"),
                       Dense(15, activation="sigmoid", name="L2"), Dense(1, activation="sigmoid", name="L3")],
                      name=name)


def test_summary_parameter_counts_match_keras(capsys):
    model = course_model()
    assert [layer.count_params() for layer in model.layers] == [10025, 390, 16]
    assert model.count_params() == 10431
    model.summary()
    text = capsys.readouterr().out
    assert 'Model: "my_model"' in text
    assert "L1 (Dense)" in text and "(None, 25)" in text and "10,025" in text
    assert "Total params: 10,431 (40.75 KB)" in text
    assert "Trainable params: 10,431" in text and "Non-trainable params: 0" in text


def test_summary_shows_non_trainable_counts(capsys):
    model = course_model()
    model.get_layer("L1").trainable = False
    model.summary()
    text = capsys.readouterr().out
    assert "Trainable params: 406" in text and "Non-trainable params: 10,025" in text


def test_layers_exclude_the_input_and_get_layer_by_name_or_index():
    model = course_model()
    assert len(model.layers) == 3
    assert model.get_layer("L2") is model.layers[1]
    assert model.get_layer(index=-1).name == "L3"
    with pytest.raises(LearnloopError, match=r"No such layer: 'L9'. Existing layers are: \['L1', 'L2', 'L3'\]"):
        model.get_layer("L9")


def test_build_from_input_shape_and_symbolic_shapes():
    model = Sequential([Dense(25, activation="relu"), Dense(15, activation="relu"), Dense(10)])
    assert not model.built
    with pytest.raises(NotFittedError, match="never been called"):
        _ = model.input
    model.build(input_shape=(None, 400))
    assert model.input.shape.as_list() == [None, 400]
    assert model.layers[0].output.shape.as_list() == [None, 25]
    assert model.output_shape == (None, 10) and model.input_shape == (None, 400)


def test_lazy_build_on_first_data(rng):
    model = Sequential([Dense(3), Dense(1)])
    out = model.predict(rng.normal(size=(5, 7)))
    assert out.shape == (5, 1) and model.built and model.input_shape == (None, 7)


def test_add_and_pop():
    model = Sequential(name="stack")
    model.add(Input((4,)))
    model.add(Dense(3, name="a"))
    model.add(Dense(2, name="b"))
    assert model.output_shape == (None, 2)
    popped = model.pop()
    assert popped.name == "b" and model.output_shape == (None, 3)
    model.add(Dense(5, name="c"))
    assert model.output_shape == (None, 5)


def test_get_set_weights_roundtrip_and_dtype_coercion(rng):
    model = course_model()
    weights = [rng.normal(size=w.shape) for w in model.get_weights()]      # float64 in
    model.set_weights(weights)
    for got, want in zip(model.get_weights(), weights):
        assert got.dtype == np.float32
        assert_allclose(got, want, rtol=1e-6)
    model.layers[2].set_weights([np.ones((15, 1), dtype=int), np.zeros(1, dtype=int)])
    assert model.layers[2].kernel.dtype == np.float32


def test_set_weights_wrong_shape_is_reported():
    model = course_model()
    weights = model.get_weights()
    weights[0] = np.zeros((399, 25))
    with pytest.raises(LearnloopError,
                       match=r"weight 'kernel' has shape \(400, 25\); got an array of shape \(399, 25\)"):
        model.set_weights(weights)


def test_weights_lists_and_trainable_flag():
    model = course_model()
    assert len(model.weights) == 6 and len(model.trainable_weights) == 6
    model.trainable = False
    assert model.trainable_weights == [] and len(model.non_trainable_weights) == 6


def test_predict_errors_are_clear():
    model = course_model()
    with pytest.raises(LearnloopError, match=r"predict\(\) expects a 2-D array \(samples, features\); got a 1-D "
                                             r"array of shape \(400,\). For one sample use x.reshape\(1, -1\)."):
        model.predict(np.zeros(400))
    with pytest.raises(LearnloopError, match=r"Dense 'L1' expects inputs with 400 features; got an array of shape"
                                             r" \(5000, 20\)"):
        model.predict(np.zeros((5000, 20)))
    with pytest.raises(LearnloopError, match="NaN or inf"):
        model.predict(np.full((2, 400), np.nan))


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("where", [(0, 0), (3333, 17), (5999, 399)])
def test_predict_finds_every_non_finite_value_in_large_inputs(rng, value, where):
    model = course_model()
    x = rng.normal(size=(6000, 400)).astype(np.float32)       # large: checked through row sums first
    x[where] = value
    with pytest.raises(LearnloopError, match=rf"NaN or inf \(first at index \({where[0]}, {where[1]}\)\)"):
        model.predict(x)


def test_huge_but_finite_inputs_are_not_mistaken_for_inf():
    model = course_model()
    x = np.full((400, 400), 3e38, dtype=np.float32)           # row sums overflow; the values are finite
    with np.errstate(over="ignore", invalid="ignore"):
        assert model.predict(x).shape == (400, 1)


def test_predict_in_chunks_equals_one_pass(rng):
    model = course_model()
    x = rng.normal(size=(100, 400))
    assert_allclose(model.predict(x, batch_size=7), model.predict(x), rtol=1e-5)
    assert_allclose(model(x), model.predict(x))


def test_duplicate_layer_names_and_inputs_in_the_middle_are_rejected():
    with pytest.raises(LearnloopError, match="unique names"):
        Sequential([Dense(2, name="x"), Dense(2, name="x")])
    with pytest.raises(LearnloopError, match="first entry"):
        Sequential([Dense(2), Input((3,))])


def test_dropout_model_predicts_deterministically(rng):
    model = Sequential([Input((5,)), Dense(8), Dropout(0.5), Dense(1)])
    x = rng.normal(size=(4, 5))
    assert_allclose(model.predict(x), model.predict(x))


def test_float64_policy_builds_float64_layers(rng):
    learnloop.set_floatx("float64")
    try:
        model = Sequential([Input((3,)), Dense(2)])
        assert model.layers[0].kernel.dtype == np.float64
        assert model.predict(rng.normal(size=(2, 3))).dtype == np.float64
    finally:
        learnloop.set_floatx("float32")
