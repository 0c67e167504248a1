"""Serving learnloop models over HTTP: prediction API, durable prediction log, drift monitoring.

``create_app`` needs the ``serve`` extra (FastAPI, uvicorn, prometheus-client, orjson) and is imported on first
use; :func:`learnloop.serving.monitor.reference_statistics` needs only NumPy.
"""

from __future__ import annotations

__all__ = ["create_app", "reference_statistics"]


def __getattr__(name: str):
    if name == "create_app":
        from learnloop.serving.app import create_app

        return create_app
    if name == "reference_statistics":
        from learnloop.serving.monitor import reference_statistics

        return reference_statistics
    raise AttributeError(f"module 'learnloop.serving' has no attribute {name!r}")
