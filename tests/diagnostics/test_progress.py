"""Progress inside a sweep: a bar over its example-epochs, moved epoch by epoch in this process."""

from __future__ import annotations

from functools import partial

import pytest

from learnloop.diagnostics import learning_curve, progress, validation_curve


class Recorder:
    def __init__(self, total):
        self.total, self.n, self.updates, self.closed = total, 0, [], False

    def update(self, k):
        self.n += k
        self.updates.append(k)

    def close(self):
        self.closed = True


@pytest.fixture
def bars(monkeypatch):
    made = []

    def bar(total, unit, desc=None, scale=True):
        made.append(Recorder(total))
        return made[-1]

    monkeypatch.setattr(progress, "bar", bar)
    return made


@pytest.mark.parametrize("stack", [False, True])
def test_a_sweep_bar_counts_example_epochs_and_moves_every_epoch(blobs3, blobs3_net, bars, stack):
    with progress.showing():
        validation_curve(partial(blobs3_net, (8,)), [0.0, 1.0, 10.0], blobs3, epochs=4, stack=stack)
    (bar,) = bars
    assert bar.total == 3 * blobs3.train.m * 4 and bar.n == bar.total and bar.closed
    assert len(bar.updates) == (4 if stack else 3 * 4)               # one tick per epoch (of the stack, or each fit)


def test_a_learning_curve_bar_weighs_each_fit_by_its_rows(blobs3, blobs3_net, bars):
    with progress.showing():
        curve = learning_curve(partial(blobs3_net, (8,), 0.0), blobs3, sizes=[0.5, 1.0], epochs=2)
    (bar,) = bars
    assert bar.total == sum(curve.sizes) * 2 == bar.n
    assert bar.updates == [curve.sizes[0]] * 2 + [curve.sizes[1]] * 2


def test_fits_in_other_processes_report_as_they_end(blobs3, blobs3_net, bars):
    with progress.showing():
        validation_curve(partial(blobs3_net, (8,)), [0.0, 1.0], blobs3, epochs=2, stack=False, n_jobs=2)
    (bar,) = bars
    assert bar.updates == [blobs3.train.m * 2] * 2


def test_nothing_is_drawn_unless_shown_or_on_a_terminal(blobs3, blobs3_net, capsys):
    validation_curve(partial(blobs3_net, (8,)), [0.0, 1.0], blobs3, epochs=2, stack=False)
    with progress.showing():                                          # pytest's stderr is not a terminal
        assert progress.bar(10, "row") is None
    assert capsys.readouterr().err == ""
