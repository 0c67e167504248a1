"""Run a sweep's fits through :class:`joblib.Parallel`, so any joblib backend can carry them: processes on this
machine (``n_jobs``) or the workers of a dask.distributed cluster.

``n_jobs=None`` means one process unless an enclosing ``joblib.parallel_config(...)`` says otherwise, so the same
sweep runs on a cluster with::

    import joblib
    from dask.distributed import Client

    with Client("tcp://scheduler:8786"), joblib.parallel_config(backend="dask"):
        curve = validation_curve(build, lambdas, splits)

(or ``learnloop run --scheduler tcp://scheduler:8786``, see :func:`cluster`). Every fit seeds learnloop's generator
before it builds its model, so a fit gives the same numbers in this process, in a loky worker or on a dask worker:
the J_cv of each value are the local run's, bit for bit.

Process backends pickle the builder: use module-level functions or :func:`functools.partial` of them. The workers
need learnloop installed (the same version).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from learnloop.diagnostics import progress
from learnloop.errors import LearnloopError


def check_n_jobs(n_jobs) -> int | None:
    if n_jobs is None:
        return None
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, int) or n_jobs == 0 or n_jobs < -1:
        raise LearnloopError(f"n_jobs must be None, -1 (all cores) or a positive int; got {n_jobs!r}.")
    return n_jobs


def run_parallel(fn: Callable[..., Any], calls: Sequence[tuple], n_jobs: int | None = None,
                 kwargs: dict | None = None) -> list:
    """``[fn(*call, **kwargs) for call in calls]``, in parallel through joblib, results in input order.

    While progress is shown (:mod:`learnloop.diagnostics.progress`), a bar counts the sweep's example-epochs, each
    call's share added as it ends (and epoch by epoch for calls run in this process).
    """
    from joblib import Parallel, delayed, effective_n_jobs

    kwargs = kwargs or {}
    n_jobs = check_n_jobs(n_jobs)
    costs = [_cost(fn, call) for call in calls]
    with progress.sweep(costs):
        if len(calls) == 1 or n_jobs == 1 or effective_n_jobs(n_jobs) == 1:     # in this process
            out = []
            for call, cost in zip(calls, costs):
                with progress.call(cost):
                    out.append(fn(*call, **kwargs))
            return out
        results = Parallel(n_jobs=n_jobs, return_as="generator")(delayed(fn)(*call, **kwargs) for call in calls)
        out = []
        for result, cost in zip(results, costs):
            out.append(result)
            progress.finished(cost)
        return out


def _cost(fn, call: tuple) -> float:
    """Example-epochs of one sweep call: rows x epochs (x networks for a stacked call); 1 for anything else."""
    from learnloop.diagnostics import _stacked, fitting

    try:
        if fn is fitting.fit_and_measure:
            splits, options = call[2], call[3]
            rows = call[4] if len(call) > 4 and call[4] is not None else None
            return float((splits.train.m if rows is None else len(rows)) * options.epochs)
        if fn is _stacked.fit_and_measure_stacked:
            return float(call[2].train.m * call[3].epochs * len(call[1]))
    except (AttributeError, IndexError, TypeError):
        pass
    return 1.0


@contextmanager
def cluster(address: str) -> Iterator[Any]:
    """Connect to the dask.distributed scheduler at ``address`` and send every sweep's fits to its workers inside
    the block (joblib's dask backend); yields the ``Client``.

    Raises:
        LearnloopError: dask.distributed is not installed, or the scheduler cannot be reached (one line naming it).
    """
    import joblib

    from learnloop._cluster import connect

    client = connect(address)
    try:
        with joblib.parallel_config(backend="dask"):
            yield client
    finally:
        client.close()
