"""The Keras parity table (docs/reference/keras-parity.md) is current, and what it says learnloop has, learnloop has.

The table is written by docs/keras/parity.py from the code and from docs/keras/keras3.json, the frozen list of Keras
3's public names (TensorFlow is not needed here; where Keras is installed the list is compared with it). The check
that every supported or partial name imports reads the committed page and imports each name itself, so it does not
trust the generator that wrote the page.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import re
import sys
import warnings
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
KERAS_DIR = ROOT / "docs" / "keras"
PAGE = ROOT / "docs" / "reference" / "keras-parity.md"
# What the table must cover: these Keras modules, and the Sequential/Model members the course and Keras's guides use.
REQUIRED_MODULES = {"layers", "losses", "optimizers", "callbacks", "activations", "regularizers", "initializers",
                    "metrics", "utils"}
REQUIRED_MEMBERS = {"add", "build", "compile", "fit", "evaluate", "predict", "summary", "get_layer", "get_weights",
                    "set_weights", "save", "layers", "count_params"}
MODEL_SECTION = "Sequential/Model members"
ROW = re.compile(r"^\| `(?P<name>[^`]+)` \| (?P<status>supported|partial|not) \| (?P<note>.*) \|$")


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"_docs_keras_{name}", KERAS_DIR / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module                      # dataclasses look their module up while it loads
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def parity():
    return _load("parity")


def page_rows(text: str) -> dict[tuple[str, str], tuple[str, str]]:
    """{(section, name): (status, note)} of the committed page; section is "layers"... or MODEL_SECTION."""
    rows, section = {}, None
    for line in text.splitlines():
        heading = re.fullmatch(r"## (?:keras\.(\w+)|(.+))", line)
        if heading:
            section = heading[1] or heading[2]
            continue
        row = ROW.match(line)
        if row and section:
            name = row["name"].removeprefix("model.") if section == MODEL_SECTION else row["name"]
            rows[(section, name)] = (row["status"], row["note"])
    return rows


def _trained_model():
    import numpy as np

    import learnloop

    model = learnloop.Sequential([learnloop.Input((2,)), learnloop.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    model.fit(np.zeros((4, 2), "float32"), np.zeros((4, 1), "float32"), epochs=1, verbose=0)
    return model


def test_the_page_is_what_the_code_says_now(parity):
    assert PAGE.read_text(encoding="utf-8") == parity.markdown(), \
        "docs/reference/keras-parity.md is out of date: run python docs/keras/parity.py and commit the page"


def not_in_learnloop(rows: dict, model) -> list[str]:
    """The rows listed as supported or partial whose name learnloop does not have."""
    missing = []
    for (section, name), (status, _) in rows.items():
        if status == "not":
            continue
        if section == MODEL_SECTION:
            if not (hasattr(type(model), name) or hasattr(model, name)):
                missing.append(f"learnloop.Sequential.{name}")
        elif not hasattr(importlib.import_module(f"learnloop.{section}"), name):
            missing.append(f"learnloop.{section}.{name}")
    return missing


@pytest.fixture(scope="module")
def model():
    return _trained_model()


def test_every_name_listed_as_supported_or_partial_imports_from_learnloop(model):
    missing = not_in_learnloop(page_rows(PAGE.read_text(encoding="utf-8")), model)
    assert not missing, f"listed as supported or partial but not in learnloop: {missing}"


def test_the_import_check_catches_a_name_learnloop_lacks(parity, model):
    rows = [parity.Entry("layers", "LSTM", "class", "supported", ""),
            parity.Entry("layers", "Dense", "class", "supported", ""),
            parity.Entry(parity.MODEL, "fit", "function", "partial", "missing: x"),
            parity.Entry(parity.MODEL, "call", "function", "supported", "")]
    listed = page_rows(parity.markdown(rows))
    assert len(listed) == 4
    assert sorted(not_in_learnloop(listed, model)) == ["learnloop.Sequential.call", "learnloop.layers.LSTM"]


def test_every_keras_name_has_a_row_and_every_missing_one_says_what_to_use():
    names = json.loads((KERAS_DIR / "keras3.json").read_text(encoding="utf-8"))
    rows = page_rows(PAGE.read_text(encoding="utf-8"))
    assert REQUIRED_MODULES <= set(names["modules"]), "keras3.json lacks a module the table must cover"
    assert REQUIRED_MEMBERS <= set(names["model"]), "keras3.json lacks a Sequential/Model member the course uses"
    expected = {(m, n) for m, module in names["modules"].items() for n in module}
    expected |= {(MODEL_SECTION, n) for n in names["model"]}
    assert set(rows) == expected, f"rows missing: {sorted(expected - set(rows))[:10]}; " \
                                  f"rows for no Keras name: {sorted(set(rows) - expected)[:10]}"
    silent = [f"{s}.{n}" for (s, n), (status, note) in rows.items() if status == "not" and not note.strip()]
    assert not silent, f"names learnloop lacks with no note on what to use instead: {silent}"
    unexplained = [f"{s}.{n}" for (s, n), (status, note) in rows.items() if status == "partial" and not note.strip()]
    assert not unexplained, f"partial names that do not say what is missing: {unexplained}"


def test_each_differs_note_reaches_a_learnloop_object(parity, model):
    for key in parity.DIFFERS:
        module, name = key.rsplit(".", 1)
        assert parity.learnloop_object(module, name, model) is not None, f"DIFFERS names {key}, which learnloop lacks"
    for key in parity.PARTIAL:
        module, name = key.rsplit(".", 1)
        assert parity.learnloop_object(module, name, model) is not None, f"PARTIAL names {key}, which learnloop lacks"


@pytest.mark.skipif(importlib.util.find_spec("keras") is None, reason="Keras is not installed: keras3.json is the "
                    "frozen list (python docs/keras/dump_names.py rewrites it where Keras is installed)")
def test_the_frozen_list_matches_the_installed_keras():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")                  # TensorFlow's own deprecation noise on import
        dumped = _load("dump_names").dump()
    frozen = json.loads((KERAS_DIR / "keras3.json").read_text(encoding="utf-8"))
    if dumped["keras_version"] != frozen["keras_version"]:
        pytest.skip(f"Keras {dumped['keras_version']} is installed; keras3.json lists Keras {frozen['keras_version']}")
    assert {m: sorted(v) for m, v in dumped["modules"].items()} == {m: sorted(v) for m, v in frozen["modules"].items()}
    assert sorted(dumped["model"]) == sorted(frozen["model"])
