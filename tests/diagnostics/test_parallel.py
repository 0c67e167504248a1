"""Sweeps through joblib: n_jobs checks, and the same sweep on a dask.distributed cluster."""

from __future__ import annotations

from functools import partial

import numpy as np
import pytest

from learnloop.diagnostics import validation_curve
from learnloop.diagnostics.parallel import check_n_jobs, run_parallel
from learnloop.errors import LearnloopError


def test_run_parallel_keeps_the_input_order():
    assert run_parallel(pow, [(2, 3), (3, 2), (5, 1)], n_jobs=2) == [8, 9, 5]
    assert run_parallel(pow, [(2, 3)], n_jobs=None) == [8]


@pytest.mark.parametrize("bad", [0, -2, 1.5, True])
def test_bad_n_jobs_is_refused(bad):
    with pytest.raises(LearnloopError, match="n_jobs must be"):
        check_n_jobs(bad)


def test_a_sweep_runs_on_a_dask_cluster_through_joblib(blobs3, blobs3_net):
    distributed = pytest.importorskip("dask.distributed")
    import joblib

    build = partial(blobs3_net, (8,))
    lambdas = [0.0, 1.0, 10.0, 100.0]
    local = validation_curve(build, lambdas, blobs3, epochs=8, stack=False, n_jobs=1)
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        with joblib.parallel_backend("dask"), distributed.get_task_stream(client) as stream:
            remote = validation_curve(build, lambdas, blobs3, epochs=8, stack=False)
        workers = {task["worker"] for task in stream.data}
    assert len(stream.data) >= len(lambdas)             # every fit ran as a task on the cluster
    assert len(workers) == 2
    np.testing.assert_array_equal(remote.j_cv, local.j_cv)
    np.testing.assert_array_equal(remote.j_train, local.j_train)
    assert remote.best_model is not None and remote.best_value == local.best_value
