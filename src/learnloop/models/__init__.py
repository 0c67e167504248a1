"""Models: ``Sequential`` and ``load_model``."""

from learnloop.models.sequential import Sequential


def load_model(filepath, compile: bool = True) -> Sequential:
    """Load a model written by ``model.save(path)``; never runs code from the file."""
    from learnloop.saving import load_model as _load

    return _load(filepath, compile=compile)


__all__ = ["Sequential", "load_model"]
