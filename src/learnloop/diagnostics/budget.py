"""The loop on a table of any size: the diagnosis on a sample the learning curve justifies, then the chosen model
trained on every training row, streaming, with early stopping on the cv set, within an optional time budget.

The rule, and its constants:

1. The diagnosis (baseline, architectures, lambda, learning curve: :func:`~learnloop.diagnostics.loop.diagnose`)
   first runs on a uniform sample of ``FIRST_SAMPLE`` = 10,000 rows of the table (6,000 training rows), split as
   the table is (:mod:`learnloop.data.sampling`: the sample's cv and test rows are the table's, never trained on).
2. The sample doubles (20,000, 40,000, ... at most ``MAX_SAMPLE`` = 160,000 rows, or every row; a table of more
   than 50 columns keeps fewer rows in memory, ``KEPT_CELLS`` = 8,000,000 values, and the sample stops there) and
   the diagnosis runs again while, at the current size,
   - the learning curve says J_cv still falls beyond noise: its fitted inverse power law expects J_cv with twice the
     training rows to lie more than 1% below the current J_cv, with the whole 95% interval of that gain above 1%
     (``LearningCurve.more_data == "helps"``, :mod:`learnloop.diagnostics.power_law`), and
   - the time budget allows it: the time used, plus the next diagnosis (twice this one's: every fit runs a fixed
     number of epochs over its rows, so its cost grows with the rows), plus the final stages (below) fit in it.
   ``--sample N`` fixes the size instead (no growth).
3. The chosen network (architecture and lambda of the last diagnosis) is built afresh with the course's penalty
   lambda / 2m for the m training rows of the whole table, and trained on every training row through
   :class:`~learnloop.data.npy_batches.NpyBatches` (the rows encoded once, on disk, and read memory-mapped; when the
   encoded training rows take at most ``IN_MEMORY_BYTES`` = 1 GiB they are read into memory instead, which trains
   about 1.5x faster), with ``EarlyStopping`` on the cv rows (all of them, up to ``EARLY_STOP_ROWS`` = 250,000, else
   a uniform sample of that many; ``PATIENCE`` = 2 epochs, best weights restored), for at most the diagnosis's
   epochs, and no more epochs than the budget holds (another epoch starts only when the time used, one more epoch
   and the scoring fit in it).
4. The final model's diagnosis: J_train on the last diagnosis sample's training rows (paired with the baseline's
   held-out predictions on those rows), J_cv on every cv row of the table, J_test on every test row; the verdict,
   the intervals and the findings follow from those, the curves (sizes, lambda, learning) from the sample.

The final stages are estimated before each growth as: ``FINAL_EPOCHS_EXPECTED`` = 4 epochs (a best epoch, the
patience, one more) over the training rows at the speed the learning curve's fits ran, plus scoring the cv and test
rows, plus ``REPORT_SECONDS`` for the report.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from learnloop.callbacks import Callback
from learnloop.diagnostics import progress
from learnloop.errors import LearnloopError

FIRST_SAMPLE = 10_000
MAX_SAMPLE = 160_000
KEPT_CELLS = 8_000_000                 # values of the sample held in memory: 160,000 rows of 50 columns
GROWTH = 2
EARLY_STOP_ROWS = 250_000
PATIENCE = 2
FINAL_EPOCHS_EXPECTED = PATIENCE + 2
REPORT_SECONDS = 10.0
SCORE_ROWS_PER_SECOND = 500_000        # a small network's predictions, a floor measured on a loaded 2-core host
SCORE_CHUNK = 65_536
IN_MEMORY_BYTES = 1 << 30              # encoded training rows trained on from memory up to this size, else streamed


@dataclass
class Stage:
    """One stage of a run: what ran, on how many rows, how long it took, and why on those rows."""

    stage: str
    rows: int
    seconds: float
    why: str

    def as_dict(self) -> dict:
        return {"stage": self.stage, "rows": int(self.rows), "seconds": round(float(self.seconds), 2),
                "why": self.why}


class Clock:
    """Seconds since a start, and what is left of an optional budget."""

    def __init__(self, budget: float | None = None, start: float | None = None):
        self.start = time.perf_counter() if start is None else start
        self.budget = budget

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    @property
    def left(self) -> float:
        """Seconds left of the budget (infinite without one)."""
        return float("inf") if self.budget is None else self.budget - self.elapsed


def kept_rows(n_columns: int) -> int:
    """Rows of a table held in memory as its sample (and the largest diagnosis sample): ``MAX_SAMPLE``, fewer for
    a table of more than 50 columns (``KEPT_CELLS`` values at most), never fewer than twice ``FIRST_SAMPLE``."""
    return int(min(MAX_SAMPLE, max(2 * FIRST_SAMPLE, KEPT_CELLS // max(n_columns, 1))))


def example_epoch_seconds(found: dict) -> float:
    """Seconds per example-epoch of the chosen network, from the learning curve's fits (all of that network)."""
    lc, results = found["curves"]["learning"], found["results"]
    work = float(np.sum(lc.sizes)) * results["settings"]["epochs"]
    return results["seconds"]["learning_curve"] / max(work, 1.0)


def final_seconds(n_train: int, n_scored: int, per_example_epoch: float) -> float:
    """Estimated seconds of the final stages: the final training's expected epochs, scoring, the report."""
    return FINAL_EPOCHS_EXPECTED * n_train * per_example_epoch + n_scored / SCORE_ROWS_PER_SECOND + REPORT_SECONDS


def next_sample(size: int, available: int, found: dict, seconds: float, clock: Clock, final_estimate: float,
                fixed: bool = False, max_sample: int = MAX_SAMPLE) -> tuple[int | None, str]:
    """The size of the next diagnosis sample (``None``: stop here) and why.

    Args:
        size: rows of the sample just diagnosed.
        available: rows there are to sample from.
        found: what :func:`~learnloop.diagnostics.loop.diagnose` found on it.
        seconds: how long that diagnosis took.
        clock: the run's clock and budget.
        final_estimate: seconds the final stages are expected to take.
        fixed: the size was given (``--sample``): never grow.
        max_sample: the largest sample.
    """
    lc = found["curves"]["learning"]
    m = int(lc.sizes[-1])
    reading = _law_reading(lc)
    if fixed:
        return None, f"the sample size was given (--sample {size:,}){reading}"
    if size >= available:
        return None, f"the sample holds every row{reading}"
    if lc.more_data != "helps":
        what = "would not fall beyond noise" if lc.more_data == "unlikely to help" else \
            "is not known to fall beyond noise" if lc.more_data == "can't tell" else "is not measured"
        return None, f"J_cv {what} with twice the {m:,} training rows{reading}"
    if size >= max_sample:
        return None, f"J_cv still falls with twice the {m:,} training rows{reading}, but the sample stops at " \
                     f"{max_sample:,} rows; the final model trains on every row"
    grown = min(size * GROWTH, available, max_sample)
    cost = seconds * grown / size
    if clock.budget is not None and clock.elapsed + cost + final_estimate > clock.budget:
        return None, (f"J_cv still falls with twice the {m:,} training rows{reading}, but a diagnosis on {grown:,} "
                      f"rows (about {cost:.0f} s) and the final training (about {final_estimate:.0f} s) would not "
                      f"fit in the {clock.left:.0f} s left of the time budget")
    return grown, f"J_cv still falls beyond noise with twice the {m:,} training rows{reading}: the sample grows"


def _law_reading(lc) -> str:
    law = getattr(lc, "law", None)
    if law is None:
        return ""
    m = int(lc.sizes[-1])
    at = law.at(2 * m)
    return f" (J_cv {float(lc.j_cv[-1]):.4g} at m = {m:,}; {at.estimate:.4g} [{at.low:.4g}, {at.high:.4g}] expected " \
           f"at m = {2 * m:,})"


# ---- the final model -------------------------------------------------------------------------------------------
class _EpochBudget(Callback):
    """Stops training before an epoch that would not end within the budget (the scoring after it counted)."""

    def __init__(self, clock: Clock, after: float):
        super().__init__()
        self.clock, self.after = clock, after
        self.stopped_by_budget = False

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        took = time.perf_counter() - self._start
        if self.clock.budget is not None and self.clock.elapsed + took + self.after > self.clock.budget:
            self.stopped_by_budget = True
            self.model.stop_training = True


class _EpochBar(Callback):
    """A tqdm bar over each epoch's steps (stderr, terminals only), with the epoch and the last val_loss."""

    def __init__(self, max_epochs: int):
        super().__init__()
        self.max_epochs = max_epochs
        self.bar, self.last = None, ""

    @property
    def wants_batches(self) -> bool:
        return True

    def on_epoch_begin(self, epoch, logs=None):
        self.bar = progress.bar(self.params.get("steps"), "step", f"final training, epoch {epoch + 1} (at most "
                                f"{self.max_epochs}){self.last}", scale=False)

    def on_train_batch_end(self, batch, logs=None):
        if self.bar is not None:
            self.bar.update(1)

    def on_epoch_end(self, epoch, logs=None):
        if logs and "val_loss" in logs:
            self.last = f", val_loss {logs['val_loss']:.4f}"
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def on_train_end(self, logs=None):
        if self.bar is not None:
            self.bar.close()


@dataclass
class FinalModel:
    """The chosen network trained on every training row."""

    model: object
    epochs: int
    best_epoch: int
    stopped: str
    seconds: float
    history: dict


def build_final(found: dict, moments, target_moments, n_train: int, seed: int):
    """The chosen network, fresh, with the course's penalty lambda / 2m for the ``n_train`` rows and the training
    rows' statistics in its Normalization layers."""
    from learnloop.diagnostics.loop import network
    from learnloop.utils import set_seed

    results = found["results"]
    kind, classes = results["kind"], results["classes"]
    n_outputs = 1 if kind == "regression" or len(classes) == 2 else len(classes)
    variance = moments.variance
    extra = {}
    if kind == "regression":
        extra = {"target_mean": float(target_moments.mean[0]),
                 "target_variance": float(max(target_moments.variance[0], 1e-12))}
    set_seed(seed)
    return network(tuple(results["chosen"]["architecture"]), float(results["chosen"]["lambda"]), n_outputs=n_outputs,
                   kind=kind, mean=moments.mean, variance=np.where(variance > 1e-12, variance, 1.0), m=int(n_train),
                   flatten=False, **extra)


def train_final(found: dict, encoded, *, seed: int, clock: Clock, epochs: int, batch_size: int = 32,
                after_seconds: float = 0.0) -> FinalModel:
    """Train the chosen network on every training row of ``encoded`` (:class:`~learnloop.data.encode_pass.
    EncodedParts`) with early stopping on its cv rows, within the clock's budget."""
    from learnloop.callbacks import EarlyStopping
    from learnloop.data.npy_batches import NpyBatches

    start = time.perf_counter()
    model = build_final(found, encoded.train_moments, encoded.target_moments, encoded.rows["train"], seed)
    stopping = EarlyStopping(monitor="val_loss", patience=PATIENCE, restore_best_weights=True)
    budget = _EpochBudget(clock, after_seconds)
    callbacks = [stopping, budget, _EpochBar(int(epochs))]
    if in_memory(encoded):
        x, y = np.load(encoded.x["train"]), np.load(encoded.y["train"])
        history = model.fit(x, y, batch_size=batch_size, epochs=int(epochs), validation_data=encoded.early_stop,
                            verbose=0, callbacks=callbacks)
        del x, y
    else:
        source = NpyBatches(encoded.x["train"], encoded.y["train"], batch_size=batch_size, seed=seed)
        history = model.fit(source, epochs=int(epochs), validation_data=encoded.early_stop, verbose=0,
                            callbacks=callbacks)
    ran = len(history.history.get("loss", []))
    if stopping.stopped_epoch:
        stopped = f"early stopping: val_loss did not improve for {PATIENCE} epochs"
    elif budget.stopped_by_budget:
        stopped = "the time budget: another epoch would not have ended in it"
    else:
        stopped = f"the epochs of the diagnosis ({epochs})"
    return FinalModel(model, ran, int(stopping.best_epoch) + 1, stopped, time.perf_counter() - start,
                      history.history)


def in_memory(encoded) -> bool:
    """Whether the final training reads its rows from memory: when the encoded training rows take at most
    ``IN_MEMORY_BYTES``; else they stream from their memory-mapped file."""
    return encoded.x["train"].stat().st_size + encoded.y["train"].stat().st_size <= IN_MEMORY_BYTES


def part_losses(model, x_path: Path, y_path: Path, kind: str, bar=None) -> np.ndarray:
    """(m,) per-example losses of ``model`` on a part's ``.npy`` files, read in chunks."""
    from learnloop.diagnostics.measures import losses

    x, y = np.load(x_path, mmap_mode="r"), np.load(y_path, mmap_mode="r")
    out = np.empty(len(x), dtype=np.float64)
    for i in range(0, len(x), SCORE_CHUNK):
        out[i:i + SCORE_CHUNK] = losses(model, np.asarray(x[i:i + SCORE_CHUNK]), np.asarray(y[i:i + SCORE_CHUNK]),
                                        kind)
        if bar is not None:
            bar.update(min(SCORE_CHUNK, len(x) - i))
    return out


def conclude_final(found: dict, final: FinalModel, train_losses: np.ndarray, cv_losses: np.ndarray,
                   test_losses: np.ndarray, n_features: int) -> None:
    """Make ``found`` (what :func:`~learnloop.diagnostics.loop.diagnose` returned on the sample) describe the final
    model: its diagnosis from its own losses, the findings, the intervals and J_test; the curves stay the sample's."""
    from learnloop.diagnostics.bias_variance import BiasVariance
    from learnloop.diagnostics.loop import conclude

    sample = found["diagnosis"]
    if sample.baseline_losses is not None:
        if len(sample.baseline_losses) != len(train_losses):
            raise LearnloopError("conclude_final: train_losses must be the losses on the sample's training rows, "
                                 "where the baseline's held-out losses are.")
        diagnosis = BiasVariance.from_losses(train_losses, cv_losses, baseline_losses=sample.baseline_losses,
                                             baseline_source=sample.baseline_source)
    else:
        diagnosis = BiasVariance.from_losses(train_losses, cv_losses, baseline=sample.baseline,
                                             baseline_source=sample.baseline_source)
    findings, advice, entries = conclude(diagnosis, found["curves"], test_losses, n_features)
    results = found["results"]
    results["sample_diagnosis"] = results["diagnosis"]
    results.update(entries)
    results["chosen"].update(j_train=diagnosis.train, j_cv=diagnosis.cv, j_test=float(test_losses.mean()))
    results["baseline"]["interval"] = diagnosis.intervals["baseline"].as_list()
    results["final_training"] = {"epochs": final.epochs, "best_epoch": final.best_epoch, "stopped_by": final.stopped,
                                 "val_loss": [float(v) for v in final.history.get("val_loss", [])]}
    found.update(model=final.model, diagnosis=diagnosis, findings=findings, advice=advice)
