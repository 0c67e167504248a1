"""The rule that sizes the diagnosis sample and bounds the final training by the time budget."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from learnloop.diagnostics import budget
from learnloop.diagnostics.budget import Clock, _EpochBudget, next_sample


def _found(more_data: str | None, m: int = 6_000):
    lc = SimpleNamespace(sizes=np.array([m // 10, m]), j_cv=np.array([0.3, 0.2]), more_data=more_data, law=None)
    return {"curves": {"learning": lc}}


def test_the_sample_doubles_while_j_cv_still_falls_beyond_noise():
    clock = Clock()
    assert next_sample(10_000, 1_000_000, _found("helps"), 30.0, clock, 60.0) == \
        (20_000, "J_cv still falls beyond noise with twice the 6,000 training rows: the sample grows")
    assert next_sample(10_000, 15_000, _found("helps"), 30.0, clock, 60.0)[0] == 15_000          # every row
    size, why = next_sample(10_000, 1_000_000, _found("unlikely to help"), 30.0, clock, 60.0)
    assert size is None and why == "J_cv would not fall beyond noise with twice the 6,000 training rows"
    size, why = next_sample(10_000, 1_000_000, _found("can't tell"), 30.0, clock, 60.0)
    assert size is None and "is not known to fall beyond noise" in why


@pytest.mark.parametrize("size, available, fixed, expected", [
    (15_000, 15_000, False, "the sample holds every row"),
    (2_000, 1_000_000, True, "the sample size was given (--sample 2,000)"),
    (budget.MAX_SAMPLE, 10**7, False, f"but the sample stops at {budget.MAX_SAMPLE:,} rows"),
])
def test_the_sample_stops_at_every_row_a_given_size_or_its_cap(size, available, fixed, expected):
    grown, why = next_sample(size, available, _found("helps"), 30.0, Clock(), 60.0, fixed=fixed)
    assert grown is None and expected in why


def test_the_time_budget_stops_the_growth_when_the_next_diagnosis_and_the_final_training_would_not_fit():
    clock = Clock(budget=120.0)
    clock.start -= 40.0                                   # 40 s used
    assert next_sample(10_000, 10**6, _found("helps"), 20.0, clock, 30.0)[0] == 20_000    # 40 + 40 + 30 <= 120
    grown, why = next_sample(10_000, 10**6, _found("helps"), 20.0, clock, 50.0)           # 40 + 40 + 50 > 120
    assert grown is None
    assert "a diagnosis on 20,000 rows (about 40 s) and the final training (about 50 s) would not fit in the 8" in why


def test_an_epoch_that_would_end_past_the_budget_stops_the_training(rng):
    from learnloop import Input, Sequential
    from learnloop.layers import Dense

    model = Sequential([Input((3,)), Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    clock = Clock(budget=3600.0)
    stop = _EpochBudget(clock, after=3590.0)             # 10 s left once the scoring is counted
    x, y = rng.normal(size=(64, 3)), rng.normal(size=64)
    assert len(model.fit(x, y, epochs=5, verbose=0, callbacks=[stop]).history["loss"]) == 5
    clock.start -= 9.999
    history = model.fit(x, y, epochs=5, verbose=0, callbacks=[stop])
    assert len(history.history["loss"]) == 1 and stop.stopped_by_budget
    unlimited = _EpochBudget(Clock(), after=1e9)
    assert len(model.fit(x, y, epochs=3, verbose=0, callbacks=[unlimited]).history["loss"]) == 3


def test_the_final_stages_estimate_grows_with_the_training_rows():
    small, large = budget.final_seconds(60_000, 40_000, 1e-5), budget.final_seconds(600_000, 400_000, 1e-5)
    assert budget.REPORT_SECONDS < small < large
    assert large - budget.REPORT_SECONDS == pytest.approx(10 * (small - budget.REPORT_SECONDS))
