"""Models: ``Sequential``, ``load_model`` and ``clone_model``."""

from learnloop.models.sequential import Sequential


def load_model(filepath, compile: bool = True) -> Sequential:
    """Load a model written by ``model.save(path)``; never runs code from the file."""
    from learnloop.saving import load_model as _load

    return _load(filepath, compile=compile)


def clone_model(model: Sequential) -> Sequential:
    """A new, uncompiled model with ``model``'s architecture and freshly initialized weights (Keras's
    ``clone_model``): nothing is shared with ``model``."""
    return Sequential.from_config(model.get_config())


__all__ = ["Sequential", "clone_model", "load_model"]
