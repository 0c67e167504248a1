""""Differs from Keras" under each name of the API reference that the Keras parity table has a note for."""

from __future__ import annotations

import sys

from learnloop_docs import DOCS

NOTES: dict[int, tuple[str, str]] = {}


def load() -> None:
    sys.path.insert(0, str(DOCS / "keras"))
    try:
        import parity
    finally:
        sys.path.pop(0)
    NOTES.clear()
    NOTES.update(parity.learnloop_notes())


def add_note(app, what, name, obj, options, lines) -> None:
    found = NOTES.get(id(obj)) or NOTES.get(id(getattr(obj, "__func__", None)))
    if found is None:
        return
    keras_name, note = found
    lines += ["", ".. admonition:: Differs from Keras", "   :class: differs-from-keras", "",
              f"   ``{keras_name}``: {note}.", ""]
