"""Export a trained model for other runtimes: ``to_onnx(model, "model.onnx")`` (needs ``learnloop[onnx]``)."""

from __future__ import annotations


def to_onnx(model, path=None, opset: int = 17):
    """Export ``model`` to ONNX (see :func:`learnloop.export.onnx.to_onnx`); returns the ``onnx.ModelProto``."""
    try:
        from learnloop.export.onnx import to_onnx as _to_onnx
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.split(".")[0] == "onnx":
            from learnloop.errors import LearnloopError

            raise LearnloopError("ONNX export needs the onnx package: pip install 'learnloop[onnx]'.") from None
        raise
    return _to_onnx(model, path, opset)


__all__ = ["to_onnx"]
