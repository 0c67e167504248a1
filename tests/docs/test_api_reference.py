"""What the API reference is generated from: the list of public names, one directive each, and the errors read
from the code (docs/_ext/learnloop_docs). The built site is checked in test_site_builds.py."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "docs" / "_ext"))
from learnloop_docs import api, raises  # noqa: E402


def test_lazy_names_aliases_and_constants_are_public_and_get_a_directive():
    public = api.public_objects()
    for name in ("learnloop.data.read_table", "learnloop.data.NpyBatches", "learnloop.losses.MAE",
                 "learnloop.layers.REGISTRY", "learnloop.Sequential"):
        assert name in public, name
    assert public["learnloop.Sequential"] == "learnloop.models.Sequential"     # documented where it lives
    page = api.page_text(next(p for p in api.PAGES if p.module == "learnloop.data"), api.homes())
    assert ".. autofunction:: learnloop.data.read_table" in page and ".. autoclass:: learnloop.data.NpyBatches" in page
    page = api.page_text(next(p for p in api.PAGES if p.module == "learnloop.layers"), api.homes())
    assert ".. autodata:: learnloop.layers.REGISTRY\n   :no-value:" in page


def test_every_public_module_has_a_page_or_a_reason():
    import learnloop

    pages = {p.module for p in api.PAGES}
    for name in getattr(learnloop, "_SUBMODULES", ()):
        assert f"learnloop.{name}" in pages or name in api.NOT_PAGES, f"learnloop.{name} has no API page"


def _checked(n: int, scale: float = 1.0) -> float:
    if n < 0:
        raise ValueError(f"n must be >= 0; got {n}.")
    if scale == 0:
        raise ZeroDivisionError("scale is 0")
    return _helper(n) / scale


def _helper(n: int) -> int:
    if n > 10:
        raise OverflowError("n is over " + "10")
    try:
        return n
    except KeyError:
        raise                                   # a re-raise names nothing new


def test_the_errors_a_function_raises_are_read_from_its_code():
    assert raises.raised(_checked) == [("ValueError", "n must be >= 0; got ...."), ("ZeroDivisionError", "scale is 0")]
    assert raises.field_lines(_checked, "function") == [":raises ValueError: n must be >= 0; got ...",
                                                        ":raises ZeroDivisionError: scale is 0"]


def test_learnloop_helpers_are_followed_and_messages_escaped():
    from learnloop.layers import Conv2D, Dense

    assert any("positive integer" in line for line in raises.field_lines(Dense, "class"))   # a module function
    assert any("padding" in line for line in raises.field_lines(Conv2D, "class"))           # a base's __init__

    lines = raises.field_lines(Dense.build, "method")
    assert lines and lines[0].startswith(":raises ~learnloop.errors.LearnloopError: Dense '...' needs a known last")
    from learnloop.data import train_cv_test_split

    lines = raises.field_lines(train_cv_test_split, "function")
    assert any("sum to 1" in line for line in lines)               # raised in a private helper it calls
    assert all("`" not in line.replace("\\`", "") for line in lines)


def test_a_docstring_with_its_own_raises_is_left_alone():
    lines = ["Does a thing.", "", ":raises KeyError: when the key is missing"]
    raises.add_raises(None, "function", "f", _checked, {}, lines)
    assert lines == ["Does a thing.", "", ":raises KeyError: when the key is missing"]
    lines = ["Does a thing."]
    raises.add_raises(None, "function", "f", _checked, {}, lines)
    assert ":raises ValueError: n must be >= 0; got ..." in lines


def test_a_class_shows_its_public_bases_only():
    import learnloop
    from learnloop.layers import Conv2D
    from learnloop.losses import BinaryCrossentropy, Loss

    assert api.public_bases(Loss) == []                                    # no "Bases: object"
    assert api.public_bases(BinaryCrossentropy) == [Loss]                   # through a private base
    assert all(not b.__name__.startswith("_") for b in api.public_bases(Conv2D)) and api.public_bases(Conv2D)
    page = api.page_text(next(p for p in api.PAGES if p.module == "learnloop.losses"), api.homes())
    assert ".. autoclass:: learnloop.losses.Loss\n   :members:\n" in page
    assert ".. autoclass:: learnloop.losses.BinaryCrossentropy\n   :members:\n   :show-inheritance:" in page
    assert learnloop.Sequential.__bases__ and api.public_bases(learnloop.Sequential)
