"""Train k networks of one architecture at once: one batched matmul per layer instead of k small ones.

A lambda sweep fits k copies of the same network that differ only in their regularization factors. Stacked, the
kernels of layer l form one (k, n_in, n_out) array; the batch goes through all k networks in one ``np.matmul`` per
layer, so the Python overhead of a training step is paid once for the k networks. Each network starts from the
weights the engine would give it and sees the same mini-batches, so the result matches separate ``fit`` calls up
to float rounding; the trained weights are written back into the k learnloop models.

Supported (else the sweep falls back to separate fits): Sequential models whose trainable layers are all Dense
(linear/relu/sigmoid/tanh) after deterministic preprocessing layers without trainable weights; losses
MeanSquaredError or Sparse/Categorical/Binary crossentropy with ``from_logits=True``; optimizers Adam or SGD
without clipping or weight decay; ``fit`` options limited to ``batch_size`` and ``shuffle``.
"""

from __future__ import annotations

import math

import numpy as np

from learnloop import activations as act
from learnloop import losses
from learnloop import optimizers as opt
from learnloop import regularizers as reg
from learnloop.diagnostics import progress

_PREPROCESSING = ("Flatten", "Normalization", "Reshape", "InputLayer")
_ACTIVATIONS = (act.linear, act.relu, act.sigmoid, act.tanh)
_LOSSES = (losses.MeanSquaredError, losses.SparseCategoricalCrossentropy, losses.CategoricalCrossentropy,
           losses.BinaryCrossentropy)
_FIT_KEYS = ("batch_size", "shuffle")


def _dense_signature(layer) -> tuple | None:
    if type(layer).__name__ != "Dense" or layer.activation not in _ACTIVATIONS or not layer.trainable:
        return None
    for r in (layer.kernel_regularizer, layer.bias_regularizer):
        if r is not None and type(r) not in (reg.L1, reg.L2, reg.L1L2):
            return None
    return layer.units, layer.activation, layer.use_bias, layer.dtype


def _optimizer_signature(o) -> tuple | None:
    if o is None or o.clipnorm or o.clipvalue or o.global_clipnorm or o.weight_decay:
        return None
    if type(o) is opt.Adam and not o.amsgrad:
        return "adam", o.learning_rate.value, o.beta_1, o.beta_2, o.epsilon
    if type(o) is opt.SGD and not o.nesterov:
        return "sgd", o.learning_rate.value, o.momentum
    return None


def _loss_signature(loss) -> tuple | None:
    if type(loss) not in _LOSSES or loss.reduction != "sum_over_batch_size":
        return None
    if type(loss) is not losses.MeanSquaredError:
        if not loss.from_logits or loss.label_smoothing or getattr(loss, "ignore_class", None) is not None:
            return None
    return (type(loss).__name__,)


def _prefix_signature(layer) -> tuple:
    config = {key: value for key, value in layer.get_config().items() if key != "name"}
    weights = tuple((w.shape, w.tobytes()) for w in layer.get_weights())
    return type(layer).__name__, repr(sorted(config.items())), weights


def architecture(model) -> tuple | None:
    """What must agree for built models to train stacked; ``None`` when this model cannot be stacked at all."""
    layers = getattr(model, "layers", None)
    if layers is None or type(model).__name__ != "Sequential" or not getattr(model, "built", False) or \
            not getattr(model, "compiled", False):
        return None
    prefix, dense = [], []
    for layer in layers:
        if not dense and type(layer).__name__ in _PREPROCESSING and not layer.trainable_weights:
            prefix.append(_prefix_signature(layer))
            continue
        sig = _dense_signature(layer)
        if sig is None:
            return None
        dense.append(sig)
    optimizer, loss = _optimizer_signature(model.optimizer), _loss_signature(model.loss)
    if not dense or optimizer is None or loss is None:
        return None
    return tuple(prefix), tuple(dense), optimizer, loss


def can_stack(models, fit_kwargs: dict) -> bool:
    """True when every model has one stackable architecture and ``fit_kwargs`` asks for nothing else."""
    if len(models) < 2 or set(fit_kwargs) - set(_FIT_KEYS):
        return False
    first = architecture(models[0])
    return first is not None and all(architecture(m) == first for m in models[1:])


def n_prefix(model) -> int:
    """Number of leading preprocessing layers (no trainable weights) before the Dense stack."""
    count = 0
    for layer in model.layers:
        if layer.trainable_weights:
            break
        count += 1
    return count


class StackedDense:
    """k Dense networks as one: weights and gradients in flat (k-major) buffers, layer by layer."""

    def __init__(self, models):
        self.models = models
        k = len(models)
        first = models[0]
        self.n_prefix = n_prefix(first)
        self.columns = [[m.layers[j] for m in models] for j in range(self.n_prefix, len(first.layers))]
        self.dtype = np.dtype(self.columns[0][0].kernel.dtype)
        shapes = []
        for col in self.columns:
            shapes.append(("kernel", col, (k,) + col[0].kernel.shape))
            if col[0].use_bias:
                shapes.append(("bias", col, (k, 1, col[0].units)))
        total = sum(math.prod(s) for _, _, s in shapes)
        self.params = np.empty(total, dtype=self.dtype)
        self.grads = np.zeros(total, dtype=self.dtype)
        decay, l1 = np.zeros(total, dtype=self.dtype), np.zeros(total, dtype=self.dtype)
        self.layers: list[dict] = []
        offset = 0
        for attr, col, shape in shapes:
            n = math.prod(shape)
            p, g = self.params[offset:offset + n].reshape(shape), self.grads[offset:offset + n].reshape(shape)
            p[...] = np.stack([getattr(layer, attr).reshape(shape[1:]) for layer in col])
            for i, layer in enumerate(col):
                r = getattr(layer, f"{attr}_regularizer")
                if r is not None:                      # d/dw (l1 |w| + l2 w^2) = l1 sign(w) + 2 l2 w
                    decay[offset:offset + n].reshape(shape)[i] = 2 * r.l2
                    l1[offset:offset + n].reshape(shape)[i] = r.l1
            offset += n
            if attr == "kernel":
                self.layers.append({"activation": col[0].activation, "kernel": p, "dkernel": g, "bias": None,
                                    "kernel_t": np.swapaxes(p, -1, -2)})          # a view: follows updates
            else:
                self.layers[-1].update(bias=p, dbias=g)
        self.decay = decay if decay.any() else None
        self.l1 = l1 if l1.any() else None
        self._scratch = np.empty_like(self.params)
        self._ones = np.ones((1, 1), dtype=self.dtype)

    def reserve(self, batch_size: int) -> None:
        """Room for batches of up to ``batch_size`` rows."""
        self._ones = np.ones((1, batch_size), dtype=self.dtype)

    def forward(self, x: np.ndarray) -> list[np.ndarray]:
        """Activations of every layer, (k, batch, units) each; ``x`` is the shared (batch, n_in) input."""
        outs, a = [], x
        for layer in self.layers:
            z = np.matmul(a, layer["kernel"])
            if layer["bias"] is not None:
                z += layer["bias"]
            a = act.apply_inplace(layer["activation"], z)
            outs.append(a)
        return outs

    def backward(self, x: np.ndarray, outs: list[np.ndarray], grad: np.ndarray) -> None:
        """Fill the gradient buffer from dL/d(output) of shape (k, batch, n_out), regularization included."""
        for j in range(len(self.layers) - 1, -1, -1):
            layer, a = self.layers[j], outs[j]
            fn = layer["activation"]
            if fn is act.relu:
                grad *= a > 0
            elif fn is act.sigmoid:
                grad *= a * (1 - a)
            elif fn is act.tanh:
                grad *= 1 - a * a
            below = x if j == 0 else outs[j - 1]
            np.matmul(below.T if j == 0 else np.swapaxes(below, -1, -2), grad, out=layer["dkernel"])  # a^T dz
            if layer["bias"] is not None:                                            # dL/db = 1^T dz: a matmul
                np.matmul(self._ones[:, :grad.shape[1]], grad, out=layer["dbias"])   # beats a middle-axis sum
            if j:
                grad = np.matmul(grad, layer["kernel_t"])                            # dL/da below = dz W^T
        if self.decay is not None:
            np.multiply(self.decay, self.params, out=self._scratch)
            self.grads += self._scratch
        if self.l1 is not None:
            np.sign(self.params, out=self._scratch)
            self._scratch *= self.l1
            self.grads += self._scratch

    def write_back(self) -> None:
        for col, layer in zip(self.columns, self.layers):
            for i, dense in enumerate(col):
                dense.kernel[...] = layer["kernel"][i]
                if layer["bias"] is not None:
                    dense.bias[...] = layer["bias"][i, 0]


def _loss_gradient(loss, out: np.ndarray, y: np.ndarray) -> np.ndarray:
    """dL/d(output) for a batch, averaged over it as the engine's losses do; ``out`` is (k, batch, n_out)."""
    n = out.shape[1]
    if isinstance(loss, losses.MeanSquaredError):
        return (out - y) * out.dtype.type(2.0 / (n * out.shape[-1]))
    if isinstance(loss, losses.BinaryCrossentropy):
        p = act.sigmoid(out)
        return (p - y) * out.dtype.type(1.0 / (n * out.shape[-1]))
    # softmax(z) = e^(z - c) for any c; one c per network and batch is a cheap reduction and never overflows, and a
    # row can only underflow to all zeros when its logits lie ~80 below the batch's largest. Each network's numbers
    # depend on its own outputs only, so a sweep gives the same weights however its values are split into stacks
    # (one stack here, one per worker on a cluster).
    e = np.exp(out - out.max(axis=(1, 2), keepdims=True))
    total = np.matmul(e, np.ones((e.shape[-1], 1), dtype=e.dtype))
    low = total.min(axis=(1, 2)) < 1e-30
    if low.any():
        e[low] = np.exp(out[low] - out[low].max(axis=-1, keepdims=True))
        total[low] = e[low].sum(axis=-1, keepdims=True)
    e /= total
    if isinstance(loss, losses.SparseCategoricalCrossentropy):
        e[:, np.arange(n), y] -= 1
    else:
        e -= y
    e *= out.dtype.type(1.0 / n)
    return e


def _targets(loss, y, m: int, dtype) -> np.ndarray:
    y = np.asarray(y)
    if isinstance(loss, losses.SparseCategoricalCrossentropy):
        return y.reshape(m).astype(np.intp)
    return y.reshape(m, -1).astype(dtype)


class _Optimizer:
    """The engine's Adam / SGD update over one flat buffer."""

    def __init__(self, optimizer, params: np.ndarray):
        self.o = optimizer
        self.adam = isinstance(optimizer, opt.Adam)
        self.m = np.zeros_like(params)
        self.v = np.zeros_like(params) if self.adam else None
        self.tmp = np.empty_like(params)
        self.t = 0

    def step(self, param: np.ndarray, grad: np.ndarray) -> None:
        self.t += 1
        o, tmp = self.o, self.tmp
        lr = o.learning_rate.value
        if not self.adam:
            if o.momentum:
                self.m *= o.momentum
                self.m -= lr * grad
                param += self.m
            else:
                param -= lr * grad
            return
        np.multiply(grad, 1 - o.beta_1, out=tmp)
        self.m *= o.beta_1
        self.m += tmp
        np.multiply(grad, grad, out=tmp)
        tmp *= 1 - o.beta_2
        self.v *= o.beta_2
        self.v += tmp
        rate = lr * math.sqrt(1 - o.beta_2 ** self.t) / (1 - o.beta_1 ** self.t)
        np.sqrt(self.v, out=tmp)
        tmp += o.epsilon
        np.divide(self.m, tmp, out=tmp)
        tmp *= rate
        param -= tmp


def fit_stacked(models, x, y, epochs: int, rng: np.random.Generator, batch_size: int | None = None,
                shuffle: bool = True) -> None:
    """Train built, compiled, stackable ``models`` together on (x, y); their weights are updated in place."""
    first = models[0]
    x = np.asarray(x, dtype=first.layers[-1].kernel.dtype)
    for layer in first.layers[:n_prefix(first)]:
        x = layer.forward(x, training=False)
    m = x.shape[0]
    y = _targets(first.loss, y, m, x.dtype)
    stack = StackedDense(models)
    stack.reserve(min(m, 32 if batch_size is None else int(batch_size)))
    optimizer = _Optimizer(first.optimizer, stack.params)
    batch_size = 32 if batch_size is None else int(batch_size)
    steps = -(-m // batch_size)
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):      # k small matmuls: BLAS threads only add overhead
        _train(stack, optimizer, first.loss, x, y, int(epochs), batch_size, steps, rng, shuffle)
    stack.write_back()


def _train(stack, optimizer, loss, x, y, epochs, batch_size, steps, rng, shuffle) -> None:
    m = x.shape[0]
    for _ in range(epochs):
        order = rng.permutation(m) if shuffle else None
        xs, ys = (x[order], y[order]) if shuffle else (x, y)
        for step in range(steps):
            start = (step * batch_size) % m
            xb, yb = xs[start:start + batch_size], ys[start:start + batch_size]
            outs = stack.forward(xb)
            stack.backward(xb, outs, _loss_gradient(loss, outs[-1], yb))
            optimizer.step(stack.params, stack.grads)
        progress.tick(m * len(stack.models))


def probe(build, values, x_shape: tuple, fit_kwargs: dict) -> bool:
    """Build (without training) the model for every value and tell whether they can train stacked."""
    models = []
    for value in values:
        model = build(value)
        if type(model).__name__ != "Sequential":
            return False
        model.build((None,) + tuple(x_shape[1:]))
        models.append(model)
    return can_stack(models, fit_kwargs)


def fit_and_measure_stacked(build, values: list, splits, options, keep_model: bool = True) -> list:
    """Build ``build(value)`` for each value as the engine would, train them stacked, measure J_train and J_cv.

    Returns:
        One :class:`~learnloop.diagnostics.fitting.Measured` per value, as ``fit_and_measure`` gives for one.
    """
    from learnloop.diagnostics.fitting import measure
    from learnloop.utils import make_rng, set_seed

    shape = (None,) + splits.train.x.shape[1:]
    models = []
    for value in values:
        if options.seed is not None:
            set_seed(options.seed)
        model = build(value)
        model.build(shape)
        models.append(model)
    fit_stacked(models, splits.train.x, splits.train.y, options.epochs, make_rng(None), **options.fit_kwargs)
    return [measure(model, splits.train.x, splits.train.y, splits, options, keep_model) for model in models]
