"""Shared fixtures: a seeded generator and the path to the shared data folder beside the repo."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


@pytest.fixture
def shared_data() -> Path:
    """../shared/data beside the repo; the test is skipped when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data folder not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(autouse=True, scope="session")
def _one_blas_thread():
    """Tests use small matrices, where BLAS threads only add contention (many times slower on a busy machine)."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1, user_api="blas"):
        yield


@pytest.fixture(autouse=True)
def _seed_learnloop():
    """Every test starts from the same global seed, so results do not depend on test order."""
    import learnloop

    learnloop.set_seed(1234)
    yield


ADULT_COLUMNS = ["age", "workclass", "fnlwgt", "education", "education-num", "marital-status", "occupation",
                 "relationship", "race", "sex", "capital-gain", "capital-loss", "hours-per-week", "native-country",
                 "income"]


@pytest.fixture(scope="session")
def adult_model(tmp_path_factory) -> Path:
    """``learnloop run --data adult.csv --target income --group sex --quick`` on all of UCI Adult's training file
    (with a header row, as a user would write it), once per test session; the saved model's path. Skipped when the
    shared data folder is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data folder not found at {SHARED_DATA}")
    from learnloop.cli import main

    folder = tmp_path_factory.mktemp("adult")
    train = folder / "adult.csv"
    train.write_text(",".join(ADULT_COLUMNS) + "\n" + (SHARED_DATA / "fairness" / "adult.data").read_text())
    assert main(["run", "--data", str(train), "--target", "income", "--group", "sex", "--quick",
                 "--out", str(folder / "report")]) == 0
    return folder / "report" / "model.zip"


@pytest.fixture(scope="session")
def dask_cluster():
    """A dask.distributed LocalCluster of 2 worker processes (one thread each), shared by the cluster tests; they
    skip without dask.distributed."""
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=":0") as cluster:
        yield cluster
