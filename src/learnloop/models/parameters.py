"""One flat buffer for a model's trainable weights and one for their gradients.

Each layer's weight attributes and gradient arrays become views into the buffers, so an optimizer step is a few
vectorized operations over all parameters at once, whatever the number of layers.
"""

from __future__ import annotations

import numpy as np

Array = np.ndarray


class FlatParameters:
    """Flat (params, grads) buffers per dtype for the trainable weights of ``layers``."""

    def __init__(self, layers):
        self.signature = signature(layers)
        groups: dict[str, list] = {}
        for layer in layers:
            if not layer.trainable:
                continue
            for spec in layer.weight_specs():
                if spec.trainable:
                    groups.setdefault(getattr(layer, spec.attr).dtype.name, []).append((layer, spec))
        self.pairs: list[tuple[Array, Array]] = []
        for dtype, entries in groups.items():
            total = sum(int(np.prod(spec.shape)) for _, spec in entries)
            params, grads = np.empty(total, dtype=dtype), np.zeros(total, dtype=dtype)
            offset = 0
            for layer, spec in entries:
                n = int(np.prod(spec.shape))
                view = params[offset:offset + n].reshape(spec.shape)
                view[...] = getattr(layer, spec.attr)
                setattr(layer, spec.attr, view)
                layer.grads[spec.attr] = grads[offset:offset + n].reshape(spec.shape)
                offset += n
            self.pairs.append((params, grads))

    @property
    def size(self) -> int:
        return sum(p.size for p, _ in self.pairs)


def signature(layers) -> tuple:
    """What the flat layout depends on: which weights of which layers are trainable."""
    return tuple((id(layer), layer.trainable, tuple((w.attr, w.trainable) for w in layer.weight_specs()))
                 for layer in layers)
