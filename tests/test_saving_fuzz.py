"""A short fuzz of load_model over mutated model files: the only exception it may raise is ModelFileError.

The long run is ``benchmarks/fuzz_model_files.py`` (same mutations, many more files).
"""

from __future__ import annotations

import pytest

pytest.importorskip("hypothesis")

from hypothesis import HealthCheck, given, settings  # noqa: E402

import learnloop  # noqa: E402
from learnloop.errors import ModelFileError  # noqa: E402
from model_file_mutations import mutated_files, seed_files  # noqa: E402

SEEDS = seed_files()


def test_the_seed_files_load():
    for data in SEEDS:
        assert learnloop.load_model(_write(data)) is not None


_PATH = None


def _write(data: bytes):
    import tempfile
    from pathlib import Path

    global _PATH
    if _PATH is None:
        _PATH = Path(tempfile.mkdtemp(prefix="learnloop-fuzz-")) / "model.zip"
    _PATH.write_bytes(data)
    return _PATH


@settings(max_examples=120, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
@given(data=mutated_files(SEEDS))
def test_mutated_files_raise_only_model_file_error(data):
    path = _write(data)
    try:
        learnloop.load_model(path)
    except ModelFileError:
        pass
