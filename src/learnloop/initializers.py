"""Weight initializers with Keras's names, formulas and fan computation."""

from __future__ import annotations

import math

import numpy as np

from learnloop._registry import lookup
from learnloop.config import standardize_dtype
from learnloop.errors import LearnloopError
from learnloop.utils import make_rng

_MODES = ("fan_in", "fan_out", "fan_avg")
_DISTRIBUTIONS = ("truncated_normal", "untruncated_normal", "normal", "uniform")


def _number(owner: str, arg: str, value, minimum: float | None = None) -> float:
    """``value`` as a float if it is a finite real number (not a boolean) at least ``minimum``; else an error."""
    ok = not isinstance(value, (bool, np.bool_)) and isinstance(value, (int, float, np.integer, np.floating))
    if not ok or not math.isfinite(value) or (minimum is not None and value < minimum):
        bound = "" if minimum is None else f" >= {minimum}"
        raise LearnloopError(f"{owner} expects {arg} to be a finite number{bound}; got {value!r:.60}.")
    return float(value)


def _seed(owner: str, value):
    if value is not None and (isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer))):
        raise LearnloopError(f"{owner} expects seed to be an integer or None; got {value!r:.60}.")
    return value


def compute_fans(shape: tuple[int, ...]) -> tuple[int, int]:
    """(fan_in, fan_out) as Keras computes them: a conv kernel (..., c_in, c_out) counts its receptive field."""
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive = math.prod(shape[:-2])
    return shape[-2] * receptive, shape[-1] * receptive


class Initializer:
    """Callable ``init(shape, dtype=None) -> array``."""

    def __call__(self, shape, dtype=None) -> np.ndarray:
        dtype = standardize_dtype(dtype)
        return np.asarray(self.sample(tuple(int(s) for s in shape)), dtype=dtype)

    def sample(self, shape: tuple[int, ...]) -> np.ndarray:
        raise NotImplementedError

    def get_config(self) -> dict:
        return {k: v for k, v in vars(self).items() if not k.startswith("_")}

    @classmethod
    def from_config(cls, config: dict) -> Initializer:
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class Zeros(Initializer):
    def sample(self, shape):
        return np.zeros(shape)


class Ones(Initializer):
    def sample(self, shape):
        return np.ones(shape)


class Constant(Initializer):
    def __init__(self, value: float = 0.0):
        self.value = _number("Constant", "value", value)

    def sample(self, shape):
        return np.full(shape, self.value)


class _Seeded(Initializer):
    def __init__(self, seed: int | None = None):
        self.seed = _seed(type(self).__name__, seed)

    def rng(self) -> np.random.Generator:
        return make_rng(self.seed)


class RandomNormal(_Seeded):
    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: int | None = None):
        super().__init__(seed)
        self.mean, self.stddev = _number("RandomNormal", "mean", mean), _number("RandomNormal", "stddev", stddev, 0.0)

    def sample(self, shape):
        return self.rng().normal(self.mean, self.stddev, size=shape)


class RandomUniform(_Seeded):
    def __init__(self, minval: float = -0.05, maxval: float = 0.05, seed: int | None = None):
        super().__init__(seed)
        self.minval = _number("RandomUniform", "minval", minval)
        self.maxval = _number("RandomUniform", "maxval", maxval)

    def sample(self, shape):
        return self.rng().uniform(self.minval, self.maxval, size=shape)


class TruncatedNormal(_Seeded):
    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: int | None = None):
        super().__init__(seed)
        self.mean = _number("TruncatedNormal", "mean", mean)
        self.stddev = _number("TruncatedNormal", "stddev", stddev, 0.0)

    def sample(self, shape):
        return self.mean + self.stddev * _truncated_standard_normal(self.rng(), shape)


def _truncated_standard_normal(rng: np.random.Generator, shape) -> np.ndarray:
    out = rng.standard_normal(size=shape)
    bad = np.abs(out) > 2
    while bad.any():                         # redraw the tails, as TensorFlow's truncated normal does
        out[bad] = rng.standard_normal(size=int(bad.sum()))
        bad = np.abs(out) > 2
    return out


class VarianceScaling(_Seeded):
    """Keras's family: variance ``scale / n`` with n the fan in, fan out or their average."""

    def __init__(self, scale: float = 1.0, mode: str = "fan_in", distribution: str = "truncated_normal",
                 seed: int | None = None):
        super().__init__(seed)
        if mode not in _MODES or distribution not in _DISTRIBUTIONS:
            raise LearnloopError(f"VarianceScaling expects mode in {list(_MODES)} and distribution in "
                                 f"{list(_DISTRIBUTIONS)}; got {mode!r:.40} and {distribution!r:.40}.")
        self.scale, self.mode, self.distribution = _number("VarianceScaling", "scale", scale, 0.0), mode, distribution

    def sample(self, shape):
        fan_in, fan_out = compute_fans(shape)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[self.mode]
        variance = self.scale / max(1.0, n)
        rng = self.rng()
        if self.distribution == "uniform":
            limit = math.sqrt(3 * variance)
            return rng.uniform(-limit, limit, size=shape)
        if self.distribution == "untruncated_normal":
            return rng.normal(0, math.sqrt(variance), size=shape)
        # 0.879... is the stddev of a standard normal truncated at +-2
        return math.sqrt(variance) / 0.87962566103423978 * _truncated_standard_normal(rng, shape)


def _family(name: str, scale: float, mode: str, distribution: str):
    def __init__(self, seed: int | None = None):
        VarianceScaling.__init__(self, scale, mode, distribution, seed)

    def get_config(self):
        return {"seed": self.seed}

    return type(name, (VarianceScaling,), {"__init__": __init__, "get_config": get_config,
                                            "__doc__": f"VarianceScaling({scale}, {mode!r}, {distribution!r})."})


GlorotUniform = _family("GlorotUniform", 1.0, "fan_avg", "uniform")
GlorotNormal = _family("GlorotNormal", 1.0, "fan_avg", "truncated_normal")
HeUniform = _family("HeUniform", 2.0, "fan_in", "uniform")
HeNormal = _family("HeNormal", 2.0, "fan_in", "truncated_normal")
LecunUniform = _family("LecunUniform", 1.0, "fan_in", "uniform")
LecunNormal = _family("LecunNormal", 1.0, "fan_in", "truncated_normal")

_ALL = {
    "zeros": Zeros, "ones": Ones, "constant": Constant,
    "random_normal": RandomNormal, "random_uniform": RandomUniform, "truncated_normal": TruncatedNormal,
    "variance_scaling": VarianceScaling,
    "glorot_uniform": GlorotUniform, "glorot_normal": GlorotNormal,
    "he_uniform": HeUniform, "he_normal": HeNormal,
    "lecun_uniform": LecunUniform, "lecun_normal": LecunNormal,
}
_BY_CLASS = {cls.__name__: cls for cls in _ALL.values()}
for _cls in list(_BY_CLASS.values()):
    _ALL.setdefault(_cls.__name__.lower(), _cls)


def get(identifier) -> Initializer:
    """An initializer from a name (``"he_normal"``, ``"HeNormal"``), a config dict or an instance."""
    if isinstance(identifier, Initializer):
        return identifier
    if isinstance(identifier, str):
        return lookup("initializer", _ALL, identifier)()
    if isinstance(identifier, dict):
        cls = lookup("initializer", {k.lower(): v for k, v in _BY_CLASS.items()}, identifier["class_name"])
        return cls.from_config(identifier.get("config", {}))
    raise LearnloopError(f"Expected an initializer name or instance; got {identifier!r}.")


def serialize(init: Initializer) -> dict:
    return {"class_name": type(init).__name__, "config": init.get_config()}
