"""HTTP errors the server answers with: a status, a message, the request field at fault and what was expected."""

from __future__ import annotations

import json

from learnloop.errors import LearnloopError


def quoted(value, limit: int = 60) -> str:
    """``value`` as JSON text, cut to about ``limit`` characters: how a message echoes what a client sent."""
    text = value if isinstance(value, str) else str(value)
    cut = text[:limit]
    return json.dumps(cut) + ("..." if len(text) > limit else "")


class APIError(LearnloopError):
    """An error a client caused (4xx) or a temporary refusal (503), rendered as JSON by the app.

    The body is ``{"detail": message, "field": field, "expected": expected}`` (``field``/``expected`` omitted when
    None); ``field`` names the part of the request at fault, e.g. ``instances[2][5]`` or ``body``.
    """

    def __init__(self, status: int, message: str, *, field: str | None = None, expected: str | None = None,
                 headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = int(status)
        self.message = message
        self.field = field
        self.expected = expected
        self.headers = headers or {}

    def body(self) -> dict:
        out: dict = {"detail": self.message}
        if self.field is not None:
            out["field"] = self.field
        if self.expected is not None:
            out["expected"] = self.expected
        return out
