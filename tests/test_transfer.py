"""Transfer learning: copied layers, a new head, freezing, the two fine-tuning options, and a real demonstration."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_array_equal

import learnloop
from learnloop import Input, Sequential
from learnloop.errors import LearnloopError, NotFittedError
from learnloop.layers import Dense, Dropout
from learnloop.losses import SparseCategoricalCrossentropy
from learnloop.transfer import fine_tune, freeze, replace_head, trainable_counts, unfreeze

LOSS = SparseCategoricalCrossentropy(from_logits=True)


def _pretrained(rng) -> tuple[Sequential, np.ndarray, np.ndarray]:
    x = rng.normal(size=(200, 6)).astype(np.float32)
    y = (x[:, 0] > 0).astype(int) + (x[:, 1] > 0)
    model = Sequential([Input((6,)), Dense(8, activation="relu", name="h1"), Dropout(0.1, name="drop"),
                        Dense(5, activation="relu", name="h2"), Dense(3, name="out")])
    model.compile(optimizer="adam", loss=LOSS)
    model.fit(x, y, epochs=3, batch_size=32, verbose=0)
    return model, x, y


def test_replace_head_copies_the_kept_layers_and_adds_a_new_head(rng):
    model, x, _ = _pretrained(rng)
    new = replace_head(model, units=4, activation="softmax", name="new_head")
    assert [layer.name for layer in new.layers] == ["h1", "drop", "h2", "new_head"]
    assert new.output_shape == (None, 4) and new.layers[-1].get_config()["activation"] == "softmax"
    for old_layer, new_layer in zip(model.layers[:-1], new.layers[:-1]):
        assert new_layer is not old_layer
        for a, b in zip(old_layer.get_weights(), new_layer.get_weights()):
            assert_array_equal(a, b)
    # The copies compute the same features as the original.
    features = Sequential([Input((6,))] + [layer for layer in new.layers[:-1]])
    originals = replace_head(model, 5, keep=3).layers[:-1]
    assert_array_equal(features.predict(x), Sequential([Input((6,))] + originals).predict(x))
    assert len(replace_head(model, 2, keep=1).layers) == 2


def test_training_the_new_model_leaves_the_pretrained_one_alone(rng):
    model, x, y = _pretrained(rng)
    before = model.get_weights()
    new = replace_head(model, 3)
    fine_tune(new, x, y, option=2, loss=LOSS, epochs=2, head_epochs=1, batch_size=32)
    for a, b in zip(before, model.get_weights()):
        assert_array_equal(a, b)
    assert not np.array_equal(new.layers[0].get_weights()[0], before[0])


def test_freeze_and_unfreeze_with_summary_counts(rng):
    model, _, _ = _pretrained(rng)
    n_total = model.count_params()
    freeze(model)
    assert [layer.trainable for layer in model.layers] == [False, False, False, True]
    assert trainable_counts(model) == (5 * 3 + 3, n_total - 18)
    lines = []
    model.summary(print_fn=lines.append)
    assert f"Trainable params: {5 * 3 + 3:,}" in lines[0] and f"Non-trainable params: {n_total - 18:,}" in lines[0]
    freeze(model, up_to="drop")
    assert [layer.trainable for layer in model.layers] == [False, False, True, True]
    freeze(model, up_to=0)
    assert [layer.trainable for layer in model.layers] == [False, True, True, True]
    freeze(model, up_to=-1)
    assert trainable_counts(model) == (0, n_total)
    unfreeze(model)
    assert trainable_counts(model) == (n_total, 0)


def test_option_1_trains_only_the_head_option_2_trains_everything(rng):
    model, x, y = _pretrained(rng)
    one, two = replace_head(model, 3), replace_head(model, 3)
    fine_tune(one, x, y, option=1, loss=LOSS, epochs=2, batch_size=32)
    fine_tune(two, x, y, option=2, loss=LOSS, epochs=2, batch_size=32)
    assert_array_equal(one.layers[0].get_weights()[0], model.layers[0].get_weights()[0])
    assert not np.array_equal(one.layers[-1].get_weights()[0], replace_head(model, 3).layers[-1].get_weights()[0])
    assert not np.array_equal(two.layers[0].get_weights()[0], model.layers[0].get_weights()[0])
    assert one.optimizer.learning_rate.value == pytest.approx(1e-3)
    assert two.optimizer.learning_rate.value == pytest.approx(1e-4)


def test_errors_name_the_problem(rng):
    model, x, y = _pretrained(rng)
    with pytest.raises(LearnloopError, match="option must be 1 .* or 2"):
        fine_tune(model, x, y, option=3, loss=LOSS)
    with pytest.raises(LearnloopError, match="needs the new task's loss"):
        fine_tune(model, x, y)
    with pytest.raises(LearnloopError, match=r"no layer named 'h3'; the layers are \['h1', 'drop', 'h2', 'out'\]"):
        freeze(model, up_to="h3")
    with pytest.raises(LearnloopError, match="keep must be in"):
        replace_head(model, 2, keep=4)
    with pytest.raises(NotFittedError, match="not built"):
        replace_head(Sequential([Dense(3)]), 2)


def test_pretraining_on_other_writers_beats_training_from_scratch_on_100_digits(shared_data):
    """Pretrain on optdigits.tra (3,823 digits by 30 writers), then learn scikit-learn's digits (the 1,797 digits
    of optdigits.tes, by 13 other writers; no image appears in both files) from 100 labelled examples."""
    from sklearn.datasets import load_digits

    path = shared_data / "optdigits" / "optdigits.tra"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    source = np.loadtxt(path, delimiter=",", dtype=int)
    x_source, y_source = (source[:, :64] / 16).astype(np.float32), source[:, 64]
    digits = load_digits()
    x, y = (digits.data / 16).astype(np.float32), digits.target
    labelled = np.concatenate([np.random.default_rng(0).choice(np.flatnonzero(y == c), 10, replace=False)
                               for c in range(10)])
    held_out = np.setdiff1d(np.arange(len(y)), labelled)

    def network() -> Sequential:
        return Sequential([Input((64,)), Dense(128, activation="relu"), Dense(64, activation="relu"), Dense(10)])

    def accuracy(model: Sequential) -> float:
        return float(np.mean(model.predict(x[held_out]).argmax(1) == y[held_out]))

    learnloop.set_seed(0)
    pretrained = network()
    pretrained.compile(optimizer="adam", loss=LOSS)
    pretrained.fit(x_source, y_source, epochs=20, batch_size=64, verbose=0)

    learnloop.set_seed(0)
    scratch = network()
    scratch.compile(optimizer="adam", loss=LOSS)
    scratch.fit(x[labelled], y[labelled], epochs=300, batch_size=32, verbose=0)
    results = {"scratch": accuracy(scratch)}
    for option, epochs in ((1, 300), (2, 150)):
        learnloop.set_seed(0)
        model = replace_head(pretrained, 10)
        fine_tune(model, x[labelled], y[labelled], option=option, loss=LOSS, epochs=epochs, batch_size=32)
        results[f"option {option}"] = accuracy(model)
    assert results["option 1"] > results["scratch"] + 0.01, results
    assert results["option 2"] > results["scratch"] + 0.01, results
