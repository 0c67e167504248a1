"""fit / evaluate / predict on PyDatasets, generators and iterables of batches: the same numbers as arrays when the
batches and their order are the same, and Keras's epoch semantics."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

import learnloop
from learnloop import Input, Sequential
from learnloop.callbacks import Callback, EarlyStopping
from learnloop.errors import LearnloopError
from learnloop.layers import Dense
from learnloop.losses import BinaryCrossentropy, SparseCategoricalCrossentropy
from learnloop.utils import FeatureSpace, PyDataset

N, BS = 120, 20


@pytest.fixture
def data(rng):
    x = rng.normal(size=(N, 5)).astype(np.float32)
    y = (x[:, 0] + x[:, 1] > 0).astype(np.float32)
    return x, y


def model(loss=None, metrics=("accuracy",), seed=0):
    learnloop.set_seed(seed)
    m = Sequential([Input((5,)), Dense(8, activation="relu"), Dense(1)])
    m.compile(optimizer="adam", loss=loss or BinaryCrossentropy(from_logits=True), metrics=list(metrics))
    return m


class Batches(PyDataset):
    """Batches of arrays, in order; records the indices asked for and the epoch hooks."""

    def __init__(self, *arrays, batch_size=BS, **kwargs):
        super().__init__(**kwargs)
        self.arrays, self.batch_size = arrays, batch_size
        self.asked, self.ends, self.begins = [], 0, 0

    def __len__(self):
        return -(-len(self.arrays[0]) // self.batch_size)

    def __getitem__(self, i):
        self.asked.append(i)
        part = tuple(a[i * self.batch_size:(i + 1) * self.batch_size] for a in self.arrays)
        return part if len(part) > 1 else part[0]

    def on_epoch_begin(self):
        self.begins += 1

    def on_epoch_end(self):
        self.ends += 1


def same_weights(a, b):
    return all(np.array_equal(p, q) for p, q in zip(a.get_weights(), b.get_weights()))


def test_a_pydataset_fit_reaches_the_weights_of_the_array_fit(data):
    x, y = data
    reference = model()
    expected = reference.fit(x, y, batch_size=BS, epochs=3, shuffle=False, verbose=0,
                             validation_data=(x[:40], y[:40])).history
    streamed = model()
    ds = Batches(x, y)
    got = streamed.fit(ds, epochs=3, shuffle=False, verbose=0, validation_data=Batches(x[:40], y[:40])).history
    assert same_weights(reference, streamed)
    assert got.keys() == expected.keys()
    for key in expected:
        assert_allclose(got[key], expected[key], rtol=1e-12)
    assert ds.asked == list(range(6)) * 3 and ds.begins == ds.ends == 3


def test_a_generator_with_steps_per_epoch_matches_the_array_fit(data):
    x, y = data
    reference = model()
    reference.fit(x, y, batch_size=BS, epochs=3, shuffle=False, verbose=0)

    def forever():
        while True:
            for i in range(0, N, BS):
                yield x[i:i + BS], y[i:i + BS]

    streamed = model()
    history = streamed.fit(forever(), steps_per_epoch=N // BS, epochs=3, verbose=0)
    assert same_weights(reference, streamed) and len(history.history["loss"]) == 3


def test_a_generator_without_steps_ends_its_epoch_when_exhausted_and_training_stops(data):
    x, y = data
    seen = []
    gen = ((x[i:i + BS], y[i:i + BS]) for i in range(0, N, BS))
    m = model()
    with pytest.warns(UserWarning, match="exhausted after epoch 1; training stops"):
        history = m.fit(gen, epochs=3, verbose=0,
                        callbacks=[learnloop.callbacks.LambdaCallback(on_epoch_end=lambda e, logs: seen.append(e))])
    assert seen == [0] and len(history.history["loss"]) == 1
    reference = model()
    reference.fit(x, y, batch_size=BS, epochs=1, shuffle=False, verbose=0)
    assert same_weights(reference, m)


def test_steps_per_epoch_continues_the_pass_across_epochs(data):
    x, y = data
    ds = Batches(x, y)                                     # 6 batches
    with pytest.warns(UserWarning, match="ran out of data after 2 batches of the 4"):   # as Keras does
        history = model().fit(ds, steps_per_epoch=4, epochs=3, shuffle=False, verbose=0)
    assert ds.asked == [0, 1, 2, 3, 4, 5, 0, 1, 2, 3]     # epoch 2 goes on from batch 4 and ends with the pass
    assert ds.ends == 3 and len(history.history["loss"]) == 3
    ds = Batches(x, y)
    model().fit(ds, steps_per_epoch=3, epochs=4, shuffle=False, verbose=0)
    assert ds.asked == [0, 1, 2, 3, 4, 5] * 2


def test_more_steps_than_batches_ends_the_epoch_with_a_warning(data):
    x, y = data
    ds = Batches(x, y)
    with pytest.warns(UserWarning, match="ran out of data after 6 batches of the 10"):
        history = model().fit(ds, steps_per_epoch=10, epochs=2, shuffle=False, verbose=0)
    assert len(history.history["loss"]) == 2 and ds.asked == list(range(6)) * 2


def test_a_dataset_without_end_needs_steps(data):
    x, y = data

    class Endless(PyDataset):
        num_batches = None

        def __getitem__(self, i):
            j = (i % 6) * BS
            return x[j:j + BS], y[j:j + BS]

    with pytest.raises(LearnloopError, match="has no end.*steps_per_epoch="):
        model().fit(Endless(), epochs=1, verbose=0)
    reference = model()
    reference.fit(x, y, batch_size=BS, epochs=2, shuffle=False, verbose=0)
    streamed = model()
    streamed.fit(Endless(), steps_per_epoch=6, epochs=2, verbose=0)
    assert same_weights(reference, streamed)


@pytest.mark.parametrize("options", [{"workers": 3}, {"workers": 2, "max_queue_size": 1},
                                     {"workers": 2, "use_multiprocessing": True}])
def test_workers_give_the_batches_in_order(data, options):
    x, y = data
    one = model()
    one.fit(Batches(x, y), epochs=2, verbose=0)             # shuffle=True: a seeded batch order
    many = model()
    many.fit(Batches(x, y, **options), epochs=2, verbose=0)
    assert same_weights(one, many)
    assert_allclose(many.predict(Batches(x, **options)), one.predict(x))


def test_shuffle_visits_every_batch_once_per_epoch_in_a_new_order(data):
    x, y = data
    ds = Batches(x, y)
    model().fit(ds, epochs=3, verbose=0)
    epochs = [ds.asked[i:i + 6] for i in range(0, 18, 6)]
    assert all(sorted(e) == list(range(6)) for e in epochs)
    assert len({tuple(e) for e in epochs}) > 1


def test_class_weight_and_sample_weights_in_batches_match_arrays(data, rng):
    x, y = data
    w = rng.uniform(0.5, 2.0, N).astype(np.float32)
    reference = model()
    reference.fit(x, y, batch_size=BS, epochs=2, shuffle=False, verbose=0, sample_weight=w,
                  class_weight={0: 1.0, 1: 3.0})
    streamed = model()
    streamed.fit(Batches(x, y, w), epochs=2, shuffle=False, verbose=0, class_weight={0: 1.0, 1: 3.0})
    assert same_weights(reference, streamed)
    assert_allclose(streamed.evaluate(Batches(x, y, w), verbose=0), reference.evaluate(x, y, sample_weight=w),
                    rtol=1e-6)


def test_evaluate_and_predict_on_sources_match_arrays(data):
    x, y = data
    m = model(loss=SparseCategoricalCrossentropy(from_logits=True))
    m.pop()
    m.add(Dense(2))
    m.compile(optimizer="adam", loss=SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    m.fit(x, y.astype(int), epochs=2, verbose=0)
    expected = m.evaluate(x, y.astype(int), return_dict=True)
    got = m.evaluate(((x[i:i + 7], y[i:i + 7].astype(int)) for i in range(0, N, 7)), return_dict=True)
    assert got.keys() == expected.keys()
    assert_allclose(list(got.values()), list(expected.values()), rtol=1e-6)
    assert_allclose(m.predict(Batches(x)), m.predict(x), rtol=1e-6)
    assert_allclose(m.predict(iter([(x[:50], y[:50]), (x[50:],)])), m.predict(x), rtol=1e-6)   # y ignored
    assert m.predict(Batches(x), steps=2).shape == (40, 2)
    assert_allclose(m.evaluate(Batches(x, y.astype(int)), steps=1), m.evaluate(x[:BS], y[:BS].astype(int)))


def test_validation_data_from_a_generator_reads_validation_steps_each_time(data):
    x, y = data

    def forever():
        while True:
            yield x[:40], y[:40]

    m = model()
    history = m.fit(Batches(x, y), epochs=2, verbose=0, validation_data=forever(), validation_steps=2)
    assert len(history.history["val_loss"]) == 2
    assert_allclose(history.history["val_loss"][-1], m.evaluate(x[:40], y[:40])[0], rtol=1e-6)


def test_a_feature_space_model_encodes_dict_batches_one_by_one(rng):
    import pandas as pd
    import pyarrow as pa

    n = 90
    cols = {"age": rng.normal(40, 10, n),
            "city": np.array(["Paris", "Lyon", "Nice"], dtype=object)[rng.integers(0, 3, n)]}
    y = (cols["age"] > 40).astype(np.float32)

    def table_model():
        learnloop.set_seed(0)
        space = FeatureSpace({"age": "float_normalized", "city": "string_categorical"})
        space.adapt(cols)
        m = Sequential([space, Dense(4, activation="relu"), Dense(1)])
        m.compile(optimizer="adam", loss=BinaryCrossentropy(from_logits=True))
        return m

    reference = table_model()
    reference.fit(cols, y, batch_size=30, epochs=2, shuffle=False, verbose=0)
    parts = [{k: v[i:i + 30] for k, v in cols.items()} for i in range(0, n, 30)]
    for make in (dict, pd.DataFrame, pa.RecordBatch.from_pydict):
        streamed = table_model()
        streamed.fit(iter([(make(p), y[i * 30:(i + 1) * 30]) for i, p in enumerate(parts)] * 2), steps_per_epoch=3,
                     epochs=2, verbose=0)
        assert same_weights(reference, streamed), make
    assert_allclose(reference.predict(iter([make(p) for p in parts])), reference.predict(cols), rtol=1e-6)


def test_callbacks_see_the_steps_and_can_stop_training(data):
    x, y = data
    steps = []

    class Steps(Callback):
        def on_epoch_begin(self, epoch, logs=None):
            steps.append(self.params["steps"])

    gen = ((x[i:i + BS], y[i:i + BS]) for i in range(0, N, BS))
    model().fit(gen, epochs=1, verbose=0, callbacks=[Steps()])
    model().fit(Batches(x, y), epochs=1, verbose=0, callbacks=[Steps()])
    assert steps == [None, 6]                 # a generator's length is unknown; a PyDataset's is its len
    history = model().fit(Batches(x, y), epochs=20, verbose=0,
                          callbacks=[EarlyStopping(monitor="loss", patience=0, min_delta=10.0)])
    assert len(history.history["loss"]) == 2


def test_the_progress_bar_counts_batches_of_a_generator(data, capsys):
    x, y = data
    model().fit(((x[i:i + BS], y[i:i + BS]) for i in range(0, N, BS)), epochs=1, verbose=2)
    assert "Epoch 1/1 - " in capsys.readouterr().out
    model().fit(Batches(x, y), epochs=1, verbose=1)
    assert "6/6" in capsys.readouterr().out


def test_errors_name_the_batch(data):
    x, y = data
    bad = x.copy()
    bad[45, 2] = np.nan
    with pytest.raises(LearnloopError, match=r"fit\(\): batch 2 of the Batches \(a PyDataset\): x contains NaN"):
        model().fit(Batches(bad, y), epochs=1, shuffle=False, verbose=0)
    with pytest.raises(LearnloopError, match=r"predict\(\): batch 2 of the Batches \(a PyDataset\): x contains NaN"):
        model().predict(Batches(bad))
    with pytest.raises(LearnloopError, match="batch 0 of the generator has no targets"):
        model().fit(iter([x[:10]]), epochs=1, verbose=0)
    with pytest.raises(LearnloopError, match="y= is not used when x is a Batches"):
        model().fit(Batches(x, y), y, verbose=0)
    with pytest.raises(LearnloopError, match="validation_split needs arrays"):
        model().fit(Batches(x, y), validation_split=0.2, verbose=0)
    with pytest.raises(LearnloopError, match="yielded no batches"):
        model().fit(iter([]), verbose=0)
    with pytest.raises(LearnloopError, match="a tuple of 4 items"):
        model().fit(iter([(x, y, y, y)]), verbose=0)


def test_arrays_lists_and_tables_are_not_batch_sources(data):
    import pandas as pd
    import pyarrow as pa

    from learnloop.models.batch_sources import is_batch_source

    x, _ = data
    for value in (x, x.tolist(), (1, 2), {"a": [1]}, pd.DataFrame({"a": [1]}), pa.table({"a": [1]}),
                  pa.record_batch({"a": [1]}), "text", None):
        assert not is_batch_source(value), type(value)
    for value in (iter([x]), (b for b in [x]), Batches(x), pa.table({"a": [1]}).to_reader()):
        assert is_batch_source(value), type(value)


def test_a_pydataset_that_skips_super_init_warns_like_keras(data):
    x, y = data

    class NoInit(PyDataset):
        def __init__(self):
            pass

        def __len__(self):
            return 1

        def __getitem__(self, i):
            return x, y

    with pytest.warns(UserWarning, match=r"should call `super\(\).__init__\(\*\*kwargs\)`"):
        assert NoInit().workers == 1
    assert_array_equal(next(iter(Batches(x, batch_size=N))), x)
