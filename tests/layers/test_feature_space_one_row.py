"""FeatureSpace.encode of one row dict (the planned fast path) is bit-identical to the general path."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from learnloop.errors import LearnloopError
from learnloop.layers.feature_space import FeatureSpace


def _space(impute: bool) -> FeatureSpace:
    rng = np.random.default_rng(0)
    n = 200
    age = rng.normal(40, 12, n)
    if impute:
        age[::7] = np.nan
    data = {"age": age, "hours": rng.integers(1, 80, n), "ratio": rng.random(n),
            "color": rng.choice(np.array(["red", "green", "blue", None], dtype=object), n),
            "size": rng.choice(np.array(["S", "M", "L"], dtype=object), n),
            "code": rng.choice([3, 7, 11], n), "year": rng.choice([1990, 2000], n)}
    space = FeatureSpace({"age": FeatureSpace.float_normalized(impute=impute),
                          "hours": FeatureSpace.float_normalized(),
                          "ratio": FeatureSpace.float_rescaled(scale=2.5, offset=-1.0, impute=impute),
                          "color": FeatureSpace.string_categorical(impute=True),
                          "size": FeatureSpace.string_categorical(impute=impute),
                          "code": FeatureSpace.integer_categorical(impute=impute),
                          "year": FeatureSpace.float()})
    space.adapt(data)
    return space


SPACES = {impute: _space(impute) for impute in (False, True)}
values = st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=False, width=64),
                   st.integers(-(2**66), 2**66), st.booleans(),
                   st.sampled_from(["red", "blue", "S", "L", "purple", "", "3", "[MISSING]"]),
                   st.integers(-20, 200).map(float))
rows = st.fixed_dictionaries({name: values for name in ("age", "hours", "ratio", "color", "size", "code", "year")},
                             optional={"extra": values})


def _general(space: FeatureSpace, row: dict):
    """The general path: the same row as a dict of one-element columns."""
    return space.encode({k: [v] for k, v in row.items()})


def _outcome(f):
    try:
        return f()
    except (LearnloopError, OverflowError, RuntimeWarning) as exc:     # warnings are errors in the tests
        return type(exc), str(exc)


@pytest.mark.parametrize("impute", [False, True])
def test_a_planned_row_encodes_bit_for_bit_like_the_general_path(impute):
    space = SPACES[impute]

    @settings(max_examples=400, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(row=rows)
    def check(row):
        fast, slow = _outcome(lambda: space.encode(row)), _outcome(lambda: _general(space, row))
        if isinstance(slow, np.ndarray):
            assert isinstance(fast, np.ndarray) and fast.dtype == slow.dtype and fast.shape == slow.shape
            assert fast.tobytes() == slow.tobytes(), row
        else:
            assert fast == slow

    check()
    assert space._row_plan                                  # the plan was used, not refused


def test_typical_rows_take_the_plan_and_a_new_vocabulary_replans():
    space = _space(True)
    row = {"age": 39.5, "hours": 40, "ratio": 0.25, "color": "red", "size": "M", "code": 7, "year": 1990}
    expected = _general(space, row)
    assert space._encode_one_row(row).tobytes() == expected.tobytes()
    assert space._encode_one_row({**row, "color": [1]}) is None           # not a plain value: general path
    assert space._encode_one_row({**row, "hours": None}) is None          # hours does not impute: its error
    space.features["size"].preprocessor.set_vocabulary(["M", "XL"])
    assert space.encode(row).shape == (1, space.compute_output_shape(None)[1])
    assert space.encode(row).tobytes() == _general(space, row).tobytes()


def test_an_unplanned_feature_space_uses_the_general_path():
    space = FeatureSpace({"a": FeatureSpace.float_normalized(), "b": FeatureSpace.string_categorical()},
                         output_mode="dict")
    space.adapt({"a": [1.0, 2.0], "b": ["x", "y"]})
    out = space.encode({"a": 1.5, "b": "x"})
    assert isinstance(out, dict) and space._row_plan is None
