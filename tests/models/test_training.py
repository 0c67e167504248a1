import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import learnloop
from learnloop import Input, Sequential
from learnloop.errors import LearnloopError, NotFittedError
from learnloop.layers import Dense, Dropout, Normalization
from learnloop.losses import BinaryCrossentropy, SparseCategoricalCrossentropy
from learnloop.optimizers import Adam
from learnloop.regularizers import L2


def digits(classes=None):
    x, y = load_digits(return_X_y=True)
    if classes is not None:
        keep = np.isin(y, classes)
        x, y = x[keep], y[keep]
    return x / 16.0, y


def test_coffee_roasting_reaches_97_percent(shared_data):
    data = np.load(shared_data / "course" / "derived" / "C2_W1_coffee.npz")
    x, y = data["X"], data["Y"]
    norm = Normalization(axis=-1)
    norm.adapt(x)
    xn = norm(x)
    xt, yt = np.tile(xn, (500, 1)), np.tile(y, (500, 1))           # the lab tiles the data to train longer
    model = Sequential([Input((2,)), Dense(3, activation="sigmoid", name="layer1"),
                        Dense(1, activation="sigmoid", name="layer2")])
    model.compile(loss=BinaryCrossentropy(), optimizer=Adam(learning_rate=0.01), metrics=["accuracy"])
    history = model.fit(xt, yt, epochs=10, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    loss, accuracy = model.evaluate(xn, y)
    assert accuracy >= 0.97


def test_digits_zero_vs_one_reaches_99_percent():
    x, y = digits([0, 1])
    x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=0.2, random_state=0, stratify=y)
    model = Sequential([Input((64,)), Dense(25, activation="sigmoid"), Dense(15, activation="sigmoid"),
                        Dense(1, activation="sigmoid")])
    model.compile(loss=BinaryCrossentropy(), optimizer=Adam(0.001), metrics=["accuracy"])
    model.fit(x_tr, y_tr.reshape(-1, 1), epochs=20, verbose=0)
    accuracy = np.mean((model.predict(x_te)[:, 0] >= 0.5) == y_te)
    assert accuracy >= 0.99


def test_digits_ten_classes_reach_95_percent_held_out():
    x, y = digits()
    x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=0.2, random_state=0, stratify=y)
    model = Sequential([Input((64,)), Dense(25, activation="relu"), Dense(15, activation="relu"), Dense(10)])
    model.compile(loss=SparseCategoricalCrossentropy(from_logits=True), optimizer=Adam(0.001),
                  metrics=["accuracy"])
    history = model.fit(x_tr, y_tr, batch_size=32, epochs=40, verbose=0, validation_data=(x_te, y_te))
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert np.mean(np.argmax(model.predict(x_te), axis=1) == y_te) >= 0.95
    assert history.history["val_accuracy"][-1] >= 0.95


def _small_model(seed=None):
    if seed is not None:
        learnloop.set_seed(seed)
    model = Sequential([Input((64,)), Dense(16, activation="relu"), Dropout(0.2), Dense(10)])
    model.compile(optimizer="adam", loss=SparseCategoricalCrossentropy(from_logits=True))
    return model


def test_same_seed_gives_bit_identical_weights_and_history():
    x, y = digits()
    runs = []
    for _ in range(2):
        model = _small_model(seed=7)
        history = model.fit(x[:300], y[:300], epochs=3, verbose=0)
        runs.append((model.get_weights(), history.history["loss"]))
    for a, b in zip(runs[0][0], runs[1][0]):
        assert_array_equal(a, b)
    assert runs[0][1] == runs[1][1]
    other = _small_model(seed=8)
    assert not np.array_equal(other.get_weights()[0], runs[0][0][0])


def test_regularization_enters_the_reported_loss(rng):
    x, y = rng.normal(size=(64, 3)), rng.normal(size=(64, 1))
    model = Sequential([Input((3,)), Dense(4, kernel_regularizer=L2(10.0)), Dense(1)])
    model.compile(optimizer=Adam(0.0), loss="mse")
    plain = float(np.mean((model.predict(x) - y) ** 2))
    penalty = 10.0 * float(np.sum(model.layers[0].kernel.astype(np.float64) ** 2))
    assert model.evaluate(x, y) == pytest.approx(plain + penalty, rel=1e-4)
    history = model.fit(x, y, batch_size=64, epochs=1, verbose=0, shuffle=False)
    assert history.history["loss"][0] == pytest.approx(plain + penalty, rel=1e-4)


def test_regularization_shrinks_weights(rng):
    x, y = rng.normal(size=(128, 5)), rng.normal(size=(128, 1))
    norms = []
    for lam in (0.0, 0.1):
        learnloop.set_seed(0)
        model = Sequential([Input((5,)), Dense(8, activation="relu", kernel_regularizer=L2(lam)), Dense(1)])
        model.compile(optimizer=Adam(0.01), loss="mse")
        model.fit(x, y, epochs=30, verbose=0)
        norms.append(np.linalg.norm(model.layers[0].kernel))
    assert norms[1] < 0.5 * norms[0]


def test_fit_before_compile_is_an_error():
    with pytest.raises(NotFittedError, match=r"You must call compile\(\) before fit\(\)"):
        Sequential([Dense(1)]).fit(np.zeros((2, 2)), np.zeros(2))


@pytest.mark.parametrize("x,y,match", [
    (np.zeros((4, 64)), np.array([0, 1, 2]), "x has 4 samples but y has 3"),
    (np.zeros((3, 64)), np.array([0, 1, 10]), r"labels must be in \[0, 10\)"),
    (np.zeros((3, 64)), np.array([0.0, np.nan, 1.0]), "y contains NaN or inf"),
    (np.full((3, 64), np.inf), np.array([0, 1, 2]), "x contains NaN or inf"),
    (np.zeros(64), np.array([0]), "expects a 2-D array"),
])
def test_fit_input_errors(x, y, match):
    with pytest.raises(LearnloopError, match=match):
        _small_model().fit(x, y, verbose=0)


def test_softmax_output_with_from_logits_warns():
    model = Sequential([Input((4,)), Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss=SparseCategoricalCrossentropy(from_logits=True))
    with pytest.warns(UserWarning, match="from_logits=True, but the model's output layer"):
        model.fit(np.zeros((4, 4)), np.array([0, 1, 2, 0]), verbose=0)


def test_linear_output_with_probability_loss_warns():
    model = Sequential([Input((4,)), Dense(1)])
    model.compile(optimizer="adam", loss="binary_crossentropy")
    with pytest.warns(UserWarning, match="expects probabilities"):
        model.fit(np.zeros((4, 4)), np.array([0, 1, 1, 0]), verbose=0)


def test_validation_split_takes_the_last_samples_and_reports_val_loss(rng):
    x, y = rng.normal(size=(100, 3)), rng.normal(size=(100, 1))
    model = Sequential([Input((3,)), Dense(1)])
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    history = model.fit(x, y, epochs=2, validation_split=0.2, verbose=0)
    assert set(history.history) == {"loss", "mae", "val_loss", "val_mae"}
    assert history.epoch == [0, 1] and model.history is history


def test_sample_and_class_weight(rng):
    x = rng.normal(size=(200, 2))
    y = (x[:, 0] > 1.0).astype(int)                 # rare positive class
    results = {}
    for weight in (None, {0: 1.0, 1: 10.0}):
        learnloop.set_seed(0)
        model = Sequential([Input((2,)), Dense(1)])
        model.compile(optimizer=Adam(0.05), loss=BinaryCrossentropy(from_logits=True))
        model.fit(x, y, epochs=30, verbose=0, class_weight=weight)
        results[weight is None] = np.mean(model.predict(x)[:, 0] > 0)
    assert results[False] > results[True]          # weighting the rare class predicts it more often
    with pytest.raises(LearnloopError, match="class_weight has no entry for classes"):
        model.fit(x, y, verbose=0, class_weight={0: 1.0})


def test_evaluate_return_forms(rng):
    x, y = rng.normal(size=(20, 3)), rng.integers(0, 2, size=20)
    model = Sequential([Input((3,)), Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    loss, acc = model.evaluate(x, y)
    as_dict = model.evaluate(x, y, return_dict=True)
    assert as_dict == {"loss": loss, "accuracy": acc}
    assert model.metrics_names == ["loss", "accuracy"]
    assert acc == pytest.approx(np.mean((model.predict(x)[:, 0] > 0.5) == y))


def test_accuracy_with_logits_thresholds_at_zero(rng):
    x, y = rng.normal(size=(50, 3)), rng.integers(0, 2, size=50)
    model = Sequential([Input((3,)), Dense(1)])
    model.compile(optimizer="adam", loss=BinaryCrossentropy(from_logits=True), metrics=["accuracy"])
    _, acc = model.evaluate(x, y)
    assert acc == pytest.approx(np.mean((model.predict(x)[:, 0] > 0) == y))


def test_train_on_batch_steps_once(rng):
    x, y = rng.normal(size=(8, 3)), rng.normal(size=(8, 1))
    model = Sequential([Input((3,)), Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    first = model.train_on_batch(x, y)
    assert model.optimizer.iterations == 1
    assert model.train_on_batch(x, y) < first


def test_compile_accepts_course_objects_and_reads_back():
    model = Sequential([Input((2,)), Dense(6, activation="relu"), Dense(6)])
    model.compile(loss=SparseCategoricalCrossentropy(from_logits=True), optimizer=Adam(0.01))
    assert type(model.loss) is SparseCategoricalCrossentropy
    assert model.loss.get_config()["from_logits"]
    assert type(model.optimizer) is Adam
    assert model.optimizer.learning_rate.numpy() == pytest.approx(0.01)


def test_verbose_1_draws_a_progress_bar_and_verbose_2_one_line_per_epoch(rng, capsys):
    x, y = rng.normal(size=(64, 3)), rng.normal(size=(64, 1))
    model = Sequential([Input((3,)), Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    model.fit(x, y, epochs=2, verbose=2)
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("Epoch")]
    assert len(lines) == 2 and "loss:" in lines[0] and "ms/step" in lines[0]
    model.fit(x, y, epochs=1, verbose=1)
    captured = capsys.readouterr()
    text = captured.out + captured.err
    assert "Epoch 1/1" in text and "2/2" in text and "loss:" in text


def test_optimizer_state_resets_when_the_trainable_set_changes(rng):
    x, y = rng.normal(size=(16, 3)), rng.normal(size=(16, 1))
    model = Sequential([Input((3,)), Dense(4), Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, y, epochs=1, verbose=0)
    frozen = model.layers[0].get_weights()
    model.layers[0].trainable = False
    model.fit(x, y, epochs=2, verbose=0)
    assert_allclose(model.layers[0].get_weights()[0], frozen[0])
    assert model.optimizer.iterations == 2
