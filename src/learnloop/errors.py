"""The one error family learnloop raises for anything a user can cause."""

from __future__ import annotations


class LearnloopError(ValueError):
    """Bad input, bad configuration or a bad file; the message says where, what was expected and what arrived."""


class ModelFileError(LearnloopError):
    """A model file that is missing, truncated, corrupted or hostile."""


class NotFittedError(LearnloopError, AttributeError):
    """A model or layer used before it was built, compiled or fitted."""
