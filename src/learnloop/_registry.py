"""Name lookup shared by every kind of string alias (activations, losses, optimizers, ...)."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

from learnloop.errors import LearnloopError


def lookup(kind: str, table: Mapping[str, Any], name: str) -> Any:
    """Return ``table[name]`` (case-insensitive); an unknown name lists the valid ones and suggests the closest.

    Args:
        kind: what is being looked up, for the message ("activation", "loss", ...).
        table: flat dict from lower-case name to object.
        name: the name the user gave.
    """
    if not isinstance(name, str):
        raise LearnloopError(f"Expected a {kind} name (str) or object; got {type(name).__name__} {name!r}.")
    key = name.lower()
    if key in table:
        return table[key]
    valid = sorted(table)
    close = difflib.get_close_matches(key, valid, n=1, cutoff=0.5)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise LearnloopError(f"Unknown {kind} {name!r}; expected one of {valid}.{hint}")
