"""The one error family learnloop raises for anything a user can cause."""

from __future__ import annotations


class LearnloopError(ValueError):
    """Bad input, bad configuration or a bad file; the message says where, what was expected and what arrived.

    ``cli`` is the same message in the command line's words (naming ``--flags`` instead of Python arguments), for
    errors whose fix differs between the two; the ``learnloop`` command prints it instead of the message.
    """

    def __init__(self, *args, cli: str | None = None):
        super().__init__(*args)
        self.cli = cli


class ModelFileError(LearnloopError):
    """A model file that is missing, truncated, corrupted or hostile."""


class NotFittedError(LearnloopError, AttributeError):
    """A model or layer used before it was built, compiled or fitted."""
