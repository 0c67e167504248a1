"""Weight penalties added to the loss that ``fit`` reports and to the gradients.

Keras's L2 penalty is ``l2 * sum(w**2)``; the course writes ``lambda / (2m) * sum(w**2)`` on top of a loss that is
a mean over m examples. The two agree when ``l2 = lambda / (2m)``: the course's lambda = 1 on m = 100 examples is
``L2(0.005)`` here, and ``L2(0.1)`` on m examples is the course's lambda = 0.2 m.
"""

from __future__ import annotations

import numpy as np

from learnloop._registry import lookup
from learnloop.errors import LearnloopError


def _check(name: str, value) -> float:
    value = float(value)
    if not np.isfinite(value) or value < 0:
        raise LearnloopError(f"Regularization factor {name} must be a finite number >= 0; got {value!r}.")
    return value


class Regularizer:
    """``penalty(w) -> float`` and ``gradient(w) -> dpenalty/dw``."""

    def __call__(self, w: np.ndarray) -> float:
        return self.penalty(w)

    def penalty(self, w: np.ndarray) -> float:
        raise NotImplementedError

    def gradient(self, w: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def add_gradient(self, w: np.ndarray, grad: np.ndarray) -> None:
        """``grad += dpenalty/dw`` in place (the training loop's path)."""
        grad += self.gradient(w)

    def get_config(self) -> dict:
        return dict(vars(self))

    @classmethod
    def from_config(cls, config: dict) -> Regularizer:
        return cls(**config)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={v}' for k, v in self.get_config().items())})"


class L1L2(Regularizer):
    """``l1 * sum(|w|) + l2 * sum(w**2)``."""

    def __init__(self, l1: float = 0.0, l2: float = 0.0):
        self.l1, self.l2 = _check("l1", l1), _check("l2", l2)

    def penalty(self, w):
        total = 0.0
        if self.l1:
            total += self.l1 * float(np.abs(w).sum())
        if self.l2:
            total += self.l2 * float(np.vdot(w, w))
        return total

    def gradient(self, w):
        g = np.zeros_like(w)
        self.add_gradient(w, g)
        return g

    def add_gradient(self, w, grad):
        if self.l2:
            grad += (2 * self.l2) * w                   # d/dw l2 w^2 = 2 l2 w
        if self.l1:
            grad += self.l1 * np.sign(w)                # subgradient 0 at w = 0


class L1(L1L2):
    """``l1 * sum(|w|)``."""

    def __init__(self, l1: float = 0.01):
        super().__init__(l1=l1)

    def get_config(self):
        return {"l1": self.l1}


class L2(L1L2):
    """``l2 * sum(w**2)`` (course: ``l2 = lambda / (2m)``)."""

    def __init__(self, l2: float = 0.01):
        super().__init__(l2=l2)

    def get_config(self):
        return {"l2": self.l2}


l1 = L1
l2 = L2


def l1_l2(l1: float = 0.01, l2: float = 0.01) -> L1L2:
    """Keras's shortcut for ``L1L2(l1, l2)``."""
    return L1L2(l1=l1, l2=l2)


_ALL = {"l1": L1, "l2": L2, "l1_l2": L1L2, "l1l2": L1L2}
_BY_CLASS = {"L1": L1, "L2": L2, "L1L2": L1L2}


def get(identifier) -> Regularizer | None:
    if identifier is None or isinstance(identifier, Regularizer):
        return identifier
    if isinstance(identifier, str):
        return lookup("regularizer", _ALL, identifier)()
    if isinstance(identifier, dict):
        cls = lookup("regularizer", {k.lower(): v for k, v in _BY_CLASS.items()}, identifier["class_name"])
        return cls.from_config(identifier.get("config", {}))
    raise LearnloopError(f"Expected a regularizer name or instance; got {identifier!r}.")


def serialize(reg: Regularizer | None) -> dict | None:
    return None if reg is None else {"class_name": type(reg).__name__, "config": reg.get_config()}
