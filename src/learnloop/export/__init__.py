"""Export a trained model for other runtimes: ``to_onnx(model, "model.onnx")`` (needs ``learnloop[onnx]``).

A model that starts with a FeatureSpace exports with its feature pipeline (the graph takes the raw columns), or as
its numeric core with ``numeric_core=True`` plus the encoding as JSON (:func:`describe_encoding`, no onnx needed).
"""

from __future__ import annotations


def to_onnx(model, path=None, opset: int = 17, numeric_core: bool = False):
    """Export ``model`` to ONNX (see :func:`learnloop.export.onnx.to_onnx`); returns the ``onnx.ModelProto``."""
    try:
        from learnloop.export.onnx import to_onnx as _to_onnx
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.split(".")[0] == "onnx":
            from learnloop.errors import LearnloopError

            raise LearnloopError("ONNX export needs the onnx package: pip install 'learnloop[onnx]'.") from None
        raise
    return _to_onnx(model, path, opset, numeric_core)


def describe_encoding(space) -> dict:
    """How a FeatureSpace encodes raw columns, as JSON-ready data (see :mod:`learnloop.export.encoding`)."""
    from learnloop.export.encoding import describe_encoding as _describe

    return _describe(space)


__all__ = ["describe_encoding", "to_onnx"]
