"""model.summary(): Keras 3's table by default, Keras 2's layout on request, an HTML table for notebooks."""

import pytest

import learnloop
from learnloop import Input, Sequential
from learnloop.errors import LearnloopError
from learnloop.layers import Dense, Normalization
from learnloop.models.summary import format_summary, summary_html

RULE, DOUBLE, BLANK = "_" * 65, "=" * 65, " " * 65


def digits_model():
    return Sequential([Input(shape=(400,)), Dense(25, activation="relu", name="L1"),
                       Dense(15, activation="relu", name="L2"), Dense(10, name="L3")], name="my_model")


def test_keras2_layout_matches_keras_2_line_for_line():
    assert format_summary(digits_model(), style="keras2").splitlines() == [
        'Model: "my_model"', RULE,
        " Layer (type)                Output Shape              Param #   ", DOUBLE,
        " L1 (Dense)                  (None, 25)                10025     ", BLANK,
        " L2 (Dense)                  (None, 15)                390       ", BLANK,
        " L3 (Dense)                  (None, 10)                160       ", BLANK,
        DOUBLE, "Total params: 10,575", "Trainable params: 10,575", "Non-trainable params: 0", RULE]


def test_keras2_layout_wraps_long_names_and_counts_non_trainable_weights():
    model = Sequential([Input(shape=(2,)), Normalization(name="norm"),
                        Dense(3, name="a_layer_name_longer_than_its_column")], name="m")
    lines = format_summary(model, style="keras2").splitlines()
    assert lines[4:8] == [" norm (Normalization)        (None, 2)                 5         ", BLANK,
                          " a_layer_name_longer_than_i  (None, 3)                 9         ",
                          " ts_column (Dense)                                               "]
    assert lines[-4:-1] == ["Total params: 14", "Trainable params: 9", "Non-trainable params: 5"]


def test_keras2_layout_for_an_unbuilt_model():
    lines = format_summary(Sequential([Dense(3, name="d")], name="m"), style="keras2").splitlines()
    assert lines[4].split() == ["d", "(Dense)", "?", "0", "(unused)"]


def test_keras3_box_stays_the_default(capsys):
    digits_model().summary()
    out = capsys.readouterr().out
    assert "┏" in out and "Total params: 10,575 (41.31 KB)" in out
    assert out == format_summary(digits_model()) + "\n"


def test_summary_style_is_checked():
    with pytest.raises(LearnloopError, match=r"expects one of \['keras3', 'keras2'\]; got 'keras1'"):
        format_summary(digits_model(), style="keras1")


def test_summary_html_is_a_table_of_the_layers():
    html = summary_html(digits_model())
    assert "<table" in html and "L1 (Dense)" in html and "10,025" in html and "Total params: 10,575" in html
    assert "&lt;" not in html.replace("<", "")


def test_model_reprs_its_summary_in_notebooks():
    assert learnloop.Sequential._repr_html_(digits_model()) == summary_html(digits_model())
