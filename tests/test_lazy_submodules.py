"""Every public submodule is an attribute of learnloop, imported on first use, not by `import learnloop`."""

import subprocess
import sys

import pytest

import learnloop

LAZY = ["compat", "diagnostics", "export", "fairness", "reference", "report", "serving", "transfer", "wrappers"]


def test_import_learnloop_loads_none_of_the_heavy_submodules():
    code = f"import sys, learnloop; print([m for m in {LAZY!r} if 'learnloop.' + m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_submodules_are_attributes_and_listed_by_dir():
    for name in ("diagnostics", "reference", "fairness", "transfer", "compat", "report"):
        assert getattr(learnloop, name).__name__ == f"learnloop.{name}"
    assert set(LAZY) <= set(dir(learnloop)) and "Sequential" in dir(learnloop)
    assert learnloop.compat.tensorflow.keras.layers.Dense.__name__ == "Dense"


def test_unknown_attributes_still_raise():
    with pytest.raises(AttributeError, match="no attribute 'no_such_module'"):
        getattr(learnloop, "no_such_module")   # noqa: B009
