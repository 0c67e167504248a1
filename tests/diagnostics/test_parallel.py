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


@pytest.mark.parametrize("stack", [False, True], ids=["separate fits", "stacked"])
def test_a_sweep_on_a_dask_cluster_gives_the_local_j_cv_of_every_lambda(blobs3, blobs3_net, dask_cluster, stack):
    import joblib
    from distributed import Client, get_task_stream

    build = partial(blobs3_net, (8,))
    lambdas = [0.0, 1.0, 10.0, 100.0]
    local = validation_curve(build, lambdas, blobs3, epochs=8, stack=stack, n_jobs=1)
    with Client(dask_cluster) as client, joblib.parallel_config(backend="dask"), get_task_stream(client) as tasks:
        remote = validation_curve(build, lambdas, blobs3, epochs=8, stack=stack)
    workers = {task["worker"] for task in tasks.data}
    assert len(tasks.data) >= (2 if stack else len(lambdas))     # the fits ran as tasks: one stack per worker
    assert len(workers) == 2
    np.testing.assert_array_equal(remote.j_cv, local.j_cv)            # bit for bit, however the values are split
    np.testing.assert_array_equal(remote.cv_losses, local.cv_losses)
    np.testing.assert_array_equal(remote.j_train, local.j_train)
    assert remote.chosen_value == local.chosen_value
    for a, b in zip(remote.chosen_model.get_weights(), local.chosen_model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_an_unreachable_scheduler_is_one_line_naming_it(monkeypatch):
    pytest.importorskip("distributed")
    from learnloop import _cluster
    from learnloop.diagnostics.parallel import cluster

    monkeypatch.setattr(_cluster, "CONNECT_TIMEOUT", 0.5)
    with pytest.raises(LearnloopError, match=r"^cannot reach the dask scheduler at tcp://127.0.0.1:9: [^\n]*$"):
        with cluster("tcp://127.0.0.1:9"):
            pass
    with pytest.raises(LearnloopError, match="cannot reach the dask scheduler at bogus://x: unknown address scheme"):
        with cluster("bogus://x"):
            pass
