"""Connecting to a dask.distributed scheduler (the ``cluster`` extra), with errors in one line that name it."""

from __future__ import annotations

from learnloop.errors import LearnloopError

CONNECT_TIMEOUT = 10.0          # seconds to reach a scheduler before saying it cannot be reached


def connect(address: str):
    """A ``dask.distributed.Client`` of the scheduler at ``address`` (``tcp://HOST:8786``), set as the default.

    Raises:
        LearnloopError: dask.distributed is not installed, or the scheduler cannot be reached.
    """
    try:
        from distributed import Client
    except ImportError:
        raise LearnloopError(f"--scheduler {address}: running on a cluster needs dask.distributed: pip install "
                             f"'learnloop[cluster]'.") from None
    try:
        return Client(address, timeout=CONNECT_TIMEOUT, set_as_default=True)
    except (OSError, TimeoutError, ValueError, TypeError) as err:
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise LearnloopError(f"cannot reach the dask scheduler at {address}: {reason[:160]}") from None


def worker_threads(client) -> int:
    """Threads the cluster's workers offer together (at least 1)."""
    try:
        return max(1, sum(client.nthreads().values()))
    except Exception:               # a scheduler that went away: the work submitted next says so
        return 1
