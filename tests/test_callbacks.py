import csv

import numpy as np
import pytest
from numpy.testing import assert_array_equal

import learnloop
from learnloop import Input, Sequential
from learnloop.callbacks import (
    CSVLogger,
    EarlyStopping,
    LambdaCallback,
    LearningRateScheduler,
    ModelCheckpoint,
    ReduceLROnPlateau,
    TerminateOnNaN,
)
from learnloop.errors import LearnloopError
from learnloop.layers import Dense
from learnloop.optimizers import SGD


def _model(lr=0.01):
    model = Sequential([Input((3,)), Dense(8, activation="relu"), Dense(1)])
    model.compile(optimizer=SGD(lr), loss="mse")
    return model


@pytest.fixture
def data(rng):
    x = rng.normal(size=(64, 3))
    return x, x @ np.array([[1.0], [-2.0], [0.5]])


def test_early_stopping_stops_and_restores_the_best_weights(data, rng):
    x, y = data
    model = _model()
    seen = []
    record = LambdaCallback(on_epoch_end=lambda epoch, logs: seen.append((logs["val_loss"], model.get_weights())))
    # noisy validation targets: val_loss stops improving early
    stop = EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True)
    history = model.fit(x, y, epochs=200, verbose=0, validation_data=(x, rng.normal(size=y.shape) * 5),
                        callbacks=[record, stop])
    assert len(history.epoch) < 200 and stop.stopped_epoch > 0
    best = int(np.argmin([v for v, _ in seen]))
    for a, b in zip(model.get_weights(), seen[best][1]):
        assert_array_equal(a, b)


def test_early_stopping_start_from_epoch_and_mode(data):
    x, y = data
    stop = EarlyStopping(monitor="loss", patience=0, start_from_epoch=5, min_delta=1e9)
    history = _model().fit(x, y, epochs=20, verbose=0, callbacks=[stop])
    assert len(history.epoch) == 7               # epoch 5 sets the best, epoch 6 fails to improve
    assert EarlyStopping(monitor="val_accuracy").mode == "max"
    with pytest.raises(LearnloopError, match="mode must be one of"):
        EarlyStopping(mode="up")


def test_missing_monitor_warns(data):
    x, y = data
    with pytest.warns(RuntimeWarning, match="'val_loss', which is not in the logs"):
        _model().fit(x, y, epochs=1, verbose=0, callbacks=[EarlyStopping()])


def test_model_checkpoint_best_only(tmp_path, data):
    x, y = data
    path = tmp_path / "best-{epoch:02d}.zip"
    ckpt = ModelCheckpoint(path, monitor="loss", save_best_only=True)
    _model().fit(x, y, epochs=3, verbose=0, callbacks=[ckpt])
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files[0] == "best-01.zip" and len(files) >= 2
    assert learnloop.load_model(tmp_path / files[-1]).count_params() == 41


def test_model_checkpoint_weights_only(tmp_path, data):
    x, y = data
    _model().fit(x, y, epochs=1, verbose=0, callbacks=[ModelCheckpoint(tmp_path / "w.npz", save_weights_only=True,
                                                                       monitor="loss")])
    assert (tmp_path / "w.npz").exists()


def test_terminate_on_nan(data):
    x, y = data
    model = _model(lr=1e6)
    history = model.fit(x, y * 1e6, epochs=50, verbose=0, callbacks=[TerminateOnNaN()])
    assert len(history.epoch) < 50


def test_csv_logger_writes_one_row_per_epoch(tmp_path, data):
    x, y = data
    path = tmp_path / "log.csv"
    _model().fit(x, y, epochs=3, verbose=0, validation_split=0.25, callbacks=[CSVLogger(path)])
    with path.open() as f:
        rows = list(csv.DictReader(f))
    assert [r["epoch"] for r in rows] == ["0", "1", "2"] and {"loss", "val_loss"} <= set(rows[0])


def test_reduce_lr_on_plateau(data):
    x, y = data
    model = _model()
    history = model.fit(x, y, epochs=6, verbose=0,
                        callbacks=[ReduceLROnPlateau(monitor="loss", patience=1, factor=0.5, min_delta=1e9)])
    assert float(model.optimizer.learning_rate) < 0.01
    assert "learning_rate" in history.history


def test_learning_rate_scheduler(data):
    x, y = data
    model = _model()
    model.fit(x, y, epochs=3, verbose=0, callbacks=[LearningRateScheduler(lambda epoch, lr: 0.1 / (epoch + 1))])
    assert float(model.optimizer.learning_rate) == pytest.approx(0.1 / 3)


def test_lambda_callback_batch_hooks(data):
    x, y = data
    batches = []
    _model().fit(x, y, epochs=1, batch_size=16, verbose=0,
                 callbacks=[LambdaCallback(on_train_batch_end=lambda batch, logs: batches.append(logs["loss"]))])
    assert len(batches) == 4
    with pytest.raises(LearnloopError, match="unknown hooks"):
        LambdaCallback(on_epoch_finish=print)
