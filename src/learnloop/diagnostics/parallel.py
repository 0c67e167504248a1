"""Run a sweep's fits through :class:`joblib.Parallel`, so any joblib backend can carry them.

``n_jobs=None`` means one process unless an enclosing ``joblib.parallel_backend(...)`` says otherwise, so the same
sweep runs on a dask cluster with::

    from dask.distributed import Client
    client = Client(cluster_address)
    with joblib.parallel_backend("dask"):
        curve = validation_curve(build, lambdas, splits)

Process backends pickle the builder: use module-level functions or :func:`functools.partial` of them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from learnloop.errors import LearnloopError


def check_n_jobs(n_jobs) -> int | None:
    if n_jobs is None:
        return None
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, int) or n_jobs == 0 or n_jobs < -1:
        raise LearnloopError(f"n_jobs must be None, -1 (all cores) or a positive int; got {n_jobs!r}.")
    return n_jobs


def run_parallel(fn: Callable[..., Any], calls: Sequence[tuple], n_jobs: int | None = None,
                 kwargs: dict | None = None) -> list:
    """``[fn(*call, **kwargs) for call in calls]``, in parallel through joblib, results in input order."""
    from joblib import Parallel, delayed

    kwargs = kwargs or {}
    n_jobs = check_n_jobs(n_jobs)
    if n_jobs == 1 or len(calls) == 1:
        return [fn(*call, **kwargs) for call in calls]
    return Parallel(n_jobs=n_jobs)(delayed(fn)(*call, **kwargs) for call in calls)
