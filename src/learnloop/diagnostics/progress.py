"""Progress bars with an ETA inside the loop's stages: over the fits of a sweep, the epochs of a training, the rows
of a pass over a file.

Off unless :func:`showing` turns it on (``learnloop run`` does, unless ``--quiet``), and then drawn by tqdm on stderr
only when stderr is a terminal, so pipes, logs and tests see nothing. A sweep's bar counts work in example-epochs
(rows x epochs x networks): each fit adds its share when it ends, and a fit running in this process also adds it
epoch by epoch (:func:`tick`, called by the training loops), so the ETA moves inside a long fit too. Fits on other
processes or on a cluster report when they end.
"""

from __future__ import annotations

import sys
from contextlib import contextmanager

from learnloop.callbacks import Callback

_show = False
_stage = ""
_bar = None                 # the sweep bar being drawn, if any
_call_left = 0.0            # units the running in-process call may still add by ticks


@contextmanager
def showing(on: bool = True):
    """Draw progress bars (on stderr, when it is a terminal) inside this block."""
    global _show
    before, _show = _show, bool(on)
    try:
        yield
    finally:
        _show = before


def set_stage(name: str) -> None:
    """The name the next bars carry (``"architectures"``, ``"lambda"``...)."""
    global _stage
    _stage = name


def active() -> bool:
    return _show


def bar(total: float | None, unit: str, desc: str | None = None, scale: bool = True):
    """A tqdm bar on stderr, or ``None`` when progress is off or stderr is not a terminal."""
    if not _show or not _is_terminal():
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, unit=unit, unit_scale=scale, desc=desc if desc is not None else _stage, file=sys.stderr,
                mininterval=0.5, dynamic_ncols=True, leave=False)


def _is_terminal() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


@contextmanager
def sweep(costs: list[float]):
    """A bar over one sweep whose calls cost ``costs`` units; yields ``done(i)`` to call as call ``i`` ends."""
    global _bar
    b = bar(sum(costs), "ex-epoch") if costs else None
    outer, _bar = _bar, b
    try:
        yield b
    finally:
        _bar = outer
        if b is not None:
            b.close()


@contextmanager
def call(cost: float):
    """One call of a sweep run in this process: ticks inside it advance the bar, up to ``cost``; the rest is added
    when it ends."""
    global _call_left
    outer, _call_left = _call_left, float(cost)
    try:
        yield
    finally:
        if _bar is not None and _call_left > 0:
            _bar.update(_call_left)
        _call_left = outer


def finished(cost: float) -> None:
    """A call that ran elsewhere (another process, a cluster worker) ended."""
    if _bar is not None:
        _bar.update(cost)


def ticking() -> bool:
    """True while a bar is drawn for a call running in this process (its fits may add :class:`EpochTicks`)."""
    return _bar is not None and _call_left > 0


def tick(units: float) -> None:
    """Work done inside the running call (example-epochs), e.g. one epoch over m rows of k networks."""
    global _call_left
    if _bar is None or _call_left <= 0:
        return
    units = min(float(units), _call_left)
    _call_left -= units
    _bar.update(units)


class EpochTicks(Callback):
    """A training callback that ticks ``rows`` example-epochs at the end of every epoch (the sweeps' fits add it
    while a bar is drawn)."""

    def __init__(self, rows: int):
        super().__init__()
        self.rows = rows

    def on_epoch_end(self, epoch, logs=None):
        tick(self.rows)
