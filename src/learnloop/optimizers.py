"""Optimizers: each subclass writes only its update math; the base class walks (param, grad) pairs.

Parameters are updated in place. A model hands its optimizer one flat parameter buffer and one flat gradient buffer,
so a step is a handful of vectorized operations whatever the number of layers.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from learnloop._registry import lookup
from learnloop.errors import LearnloopError

Array = np.ndarray


class Variable:
    """A mutable scalar that reads like a float and like a TensorFlow variable (``.numpy()``, ``.assign()``)."""

    __slots__ = ("_value", "name")

    def __init__(self, value: float, name: str = "variable"):
        self._value = float(value)
        self.name = name

    def numpy(self) -> np.float32:
        return np.float32(self._value)

    def assign(self, value) -> Variable:
        self._value = float(value)
        return self

    @property
    def value(self) -> float:
        return self._value

    def __float__(self) -> float:
        return self._value

    def __array__(self, dtype=None, copy=None):
        return np.asarray(self._value, dtype=dtype)

    def __repr__(self) -> str:
        return f"<Variable {self.name}={self._value:g}>"

    def __format__(self, spec: str) -> str:
        return format(self._value, spec)

    def __eq__(self, other):
        try:
            return self._value == float(other)
        except (TypeError, ValueError):
            return NotImplemented                   # let the other side decide (e.g. pytest.approx)

    def __hash__(self):
        return hash(self._value)

    def __lt__(self, other):
        return self._value < float(other)

    def __le__(self, other):
        return self._value <= float(other)

    def __gt__(self, other):
        return self._value > float(other)

    def __ge__(self, other):
        return self._value >= float(other)

    def __mul__(self, other):
        return self._value * float(other)

    __rmul__ = __mul__

    def __truediv__(self, other):
        return self._value / float(other)

    def __rtruediv__(self, other):
        return float(other) / self._value

    def __add__(self, other):
        return self._value + float(other)

    __radd__ = __add__

    def __sub__(self, other):
        return self._value - float(other)

    def __rsub__(self, other):
        return float(other) - self._value


def _check_rate(name: str, value, low: float = 0.0, high: float | None = None, closed_high: bool = False) -> float:
    value = float(value)
    ok = np.isfinite(value) and value >= low and (high is None or (value <= high if closed_high else value < high))
    if not ok:
        bound = "" if high is None else f" and {'<=' if closed_high else '<'} {high}"
        raise LearnloopError(f"{name} must be >= {low}{bound}; got {value!r}.")
    return value


class Optimizer:
    """Base class: learning rate, iteration count, optional clipping and per-parameter state ("slots")."""

    slot_names: tuple[str, ...] = ()

    def __init__(self, learning_rate: float = 0.001, weight_decay: float | None = None,
                 clipnorm: float | None = None, clipvalue: float | None = None,
                 global_clipnorm: float | None = None, name: str | None = None, **kwargs):
        if "lr" in kwargs:
            warnings.warn("The `lr` argument is deprecated; use `learning_rate` instead.", DeprecationWarning,
                          stacklevel=3)
            learning_rate = kwargs.pop("lr")
        if kwargs:
            raise TypeError(f"{type(self).__name__} got unexpected arguments {sorted(kwargs)}.")
        self._learning_rate = Variable(_check_rate("learning_rate", learning_rate), "learning_rate")
        self.weight_decay = None if weight_decay is None else _check_rate("weight_decay", weight_decay)
        self.clipnorm = None if clipnorm is None else _check_rate("clipnorm", clipnorm)
        self.clipvalue = None if clipvalue is None else _check_rate("clipvalue", clipvalue)
        self.global_clipnorm = None if global_clipnorm is None else _check_rate("global_clipnorm", global_clipnorm)
        self.name = name or type(self).__name__.lower()
        self.iterations = 0
        self._state: dict[int, tuple[Array, list[Array]]] = {}

    @property
    def learning_rate(self) -> Variable:
        return self._learning_rate

    @learning_rate.setter
    def learning_rate(self, value) -> None:
        self._learning_rate.assign(_check_rate("learning_rate", value))

    lr = learning_rate

    # ---- the walk over parameters --------------------------------------------------------------------------
    def apply(self, grads_and_vars, trainable_variables=None) -> None:
        """One step. ``apply([(param, grad), ...])`` or Keras's ``apply(grads, variables)``; updates in place."""
        pairs = list(zip(trainable_variables, grads_and_vars)) if trainable_variables is not None \
            else [(p, g) for p, g in grads_and_vars]
        self.iterations += 1
        if self.global_clipnorm is not None:
            norm = math.sqrt(sum(float(np.vdot(g, g)) for _, g in pairs))
            if norm > self.global_clipnorm:
                pairs = [(p, g * (self.global_clipnorm / norm)) for p, g in pairs]
        for param, grad in pairs:
            if self.clipvalue is not None:
                grad = np.clip(grad, -self.clipvalue, self.clipvalue)
            if self.clipnorm is not None:
                norm = float(np.sqrt(np.vdot(grad, grad)))
                if norm > self.clipnorm:
                    grad = grad * (self.clipnorm / norm)
            self._step(param, grad, self._slots(param), self.iterations)

    def _step(self, param: Array, grad: Array, slots, t: int) -> None:
        if self.weight_decay:
            param -= (self._learning_rate.value * self.weight_decay) * param
        self.update(param, grad, *slots, t=t)

    def apply_gradients(self, grads_and_vars) -> None:
        """Keras's ``apply_gradients(zip(grads, vars))``."""
        self.apply([(v, g) for g, v in grads_and_vars])

    def _slots(self, param: Array) -> list[Array]:
        entry = self._state.get(id(param))
        if entry is None or entry[0] is not param:
            entry = (param, [np.zeros_like(param) for _ in self.slot_names] + [np.empty_like(param)])
            self._state[id(param)] = entry
        return entry[1]

    def reset(self) -> None:
        """Forget all moments and the iteration count (used when a model's trainable set changes)."""
        self._state.clear()
        self.iterations = 0

    def state_arrays(self, params: list[Array]) -> list[Array] | None:
        """Copies of the slots of ``params``, slot by slot for each param in order; ``None`` before any step."""
        if not self.slot_names:
            return []
        entries = [self._state.get(id(p)) for p in params]
        if any(entry is None or entry[0] is not p for entry, p in zip(entries, params)):
            return None
        return [slot.copy() for entry in entries for slot in entry[1][:len(self.slot_names)]]

    def load_state(self, params: list[Array], arrays: list[Array], iterations: int) -> None:
        """Restore what :meth:`state_arrays` returned (and the step count), so training resumes where it was."""
        n = len(self.slot_names)
        if len(arrays) != n * len(params):
            raise LearnloopError(f"{type(self).__name__} keeps {n} slot(s) ({', '.join(self.slot_names) or 'none'}) "
                                 f"for each of {len(params)} parameter buffer(s): {n * len(params)} arrays; got "
                                 f"{len(arrays)}.")
        for i, (param, array) in enumerate(zip([p for p in params for _ in range(n)], arrays)):
            if array.shape != param.shape:
                raise LearnloopError(f"optimizer slot {i} has shape {array.shape}; its parameters have shape "
                                     f"{param.shape}.")
        self._state.clear()
        for k, param in enumerate(params):
            slots = [np.array(a, dtype=param.dtype) for a in arrays[k * n:(k + 1) * n]]
            self._state[id(param)] = (param, slots + [np.empty_like(param)])
        self.iterations = int(iterations)

    def update(self, param: Array, grad: Array, *slots: Array, t: int) -> None:
        """Update ``param`` in place from ``grad``; ``slots`` are this optimizer's state plus one scratch array."""
        raise NotImplementedError

    # ---- config --------------------------------------------------------------------------------------------
    def get_config(self) -> dict:
        config = {"name": self.name, "learning_rate": self._learning_rate.value}
        for key in ("weight_decay", "clipnorm", "clipvalue", "global_clipnorm"):
            if getattr(self, key) is not None:
                config[key] = getattr(self, key)
        return config

    @classmethod
    def from_config(cls, config: dict) -> Optimizer:
        return cls(**config)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self.get_config().items())})"


class SGD(Optimizer):
    """Gradient descent w -= lr * g; with ``momentum``, Keras's velocity form (optionally Nesterov)."""

    def __init__(self, learning_rate: float = 0.01, momentum: float = 0.0, nesterov: bool = False, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.momentum = _check_rate("momentum", momentum, 0.0, 1.0, closed_high=True)
        self.nesterov = bool(nesterov)
        self.slot_names = ("velocity",) if self.momentum else ()

    def update(self, param, grad, *slots, t):
        lr = self._learning_rate.value
        if not self.momentum:
            param -= lr * grad
            return
        velocity, _ = slots
        velocity *= self.momentum
        velocity -= lr * grad                                   # v = momentum v - lr g
        if self.nesterov:
            param += self.momentum * velocity - lr * grad
        else:
            param += velocity

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}


class Adam(Optimizer):
    """Adam (Kingma & Ba) in Keras's form: w -= lr * sqrt(1-b2^t)/(1-b1^t) * m / (sqrt(v) + eps)."""

    def __init__(self, learning_rate: float = 0.001, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: float = 1e-7, amsgrad: bool = False, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.beta_1 = _check_rate("beta_1", beta_1, 0.0, 1.0)
        self.beta_2 = _check_rate("beta_2", beta_2, 0.0, 1.0)
        self.epsilon = _check_rate("epsilon", epsilon)
        self.amsgrad = bool(amsgrad)
        self.slot_names = ("m", "v", "v_hat") if self.amsgrad else ("m", "v")

    def update(self, param, grad, *slots, t):
        # The moments are kept scaled, mu = m / (1 - b1) and nu = v / (1 - b2), so each update is one multiply
        # and one add; the scales go into the step size: 10 passes over the parameters instead of 12.
        mu, nu, tmp = slots[0], slots[1], slots[-1]
        mu *= self.beta_1
        mu += grad                                              # m = b1 m + (1 - b1) g
        np.multiply(grad, grad, out=tmp)
        nu *= self.beta_2
        nu += tmp                                               # v = b2 v + (1 - b2) g^2
        if self.amsgrad:
            np.maximum(slots[2], nu, out=slots[2])
            nu = slots[2]
        root = math.sqrt(1 - self.beta_2)
        lr = self._learning_rate.value * math.sqrt(1 - self.beta_2**t) / (1 - self.beta_1**t)
        np.sqrt(nu, out=tmp)
        tmp += self.epsilon / root
        np.divide(mu, tmp, out=tmp)
        tmp *= lr * (1 - self.beta_1) / root
        param -= tmp                                            # w -= lr_t m / (sqrt(v) + eps)

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon,
                "amsgrad": self.amsgrad}


class AdamW(Adam):
    """Adam with decoupled weight decay (w -= lr * weight_decay * w before each step); Keras's default 0.004."""

    def __init__(self, learning_rate: float = 0.001, weight_decay: float = 0.004, beta_1: float = 0.9,
                 beta_2: float = 0.999, epsilon: float = 1e-7, amsgrad: bool = False, **kwargs):
        super().__init__(learning_rate, beta_1, beta_2, epsilon, amsgrad, weight_decay=weight_decay, **kwargs)


class RMSprop(Optimizer):
    """v = rho v + (1-rho) g^2; w -= lr g / sqrt(v + eps) (Keras's form, optionally centered and with momentum)."""

    def __init__(self, learning_rate: float = 0.001, rho: float = 0.9, momentum: float = 0.0,
                 epsilon: float = 1e-7, centered: bool = False, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.rho = _check_rate("rho", rho, 0.0, 1.0)
        self.momentum = _check_rate("momentum", momentum, 0.0, 1.0)
        self.epsilon = _check_rate("epsilon", epsilon)
        self.centered = bool(centered)
        self.slot_names = ("velocity", "average_gradient", "momentum")

    def update(self, param, grad, *slots, t):
        velocity, average, moment, tmp = slots
        velocity *= self.rho
        velocity += (1 - self.rho) * grad * grad
        np.add(velocity, self.epsilon, out=tmp)
        if self.centered:
            average *= self.rho
            average += (1 - self.rho) * grad
            tmp -= average * average
        np.sqrt(tmp, out=tmp)
        np.divide(grad, tmp, out=tmp)
        tmp *= self._learning_rate.value
        if self.momentum:
            moment *= self.momentum
            moment += tmp
            param -= moment
        else:
            param -= tmp

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "momentum": self.momentum, "epsilon": self.epsilon,
                "centered": self.centered}


_ALL = {"sgd": SGD, "adam": Adam, "adamw": AdamW, "rmsprop": RMSprop}
CLASSES = {cls.__name__: cls for cls in _ALL.values()}


def get(identifier) -> Optimizer:
    """An optimizer from a name (``"adam"``), a config dict or an instance."""
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, str):
        return lookup("optimizer", _ALL, identifier)()
    if isinstance(identifier, dict):
        return deserialize(identifier)
    raise LearnloopError(f"Expected an optimizer name or object; got {identifier!r}. Valid names: {sorted(_ALL)}.")


def serialize(opt: Optimizer) -> dict:
    return {"class_name": type(opt).__name__, "config": opt.get_config()}


def deserialize(config: dict) -> Optimizer:
    cls = lookup("optimizer class", {k.lower(): v for k, v in CLASSES.items()}, config["class_name"])
    return cls.from_config(config.get("config", {}))
