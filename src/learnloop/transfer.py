"""Transfer learning: reuse a network trained on a large related task for a task with few labelled examples.

The notes' recipe: take a network trained on lots of data (supervised pretraining), replace its output layer by a
new one with as many units as the new task needs, then either

* **option 1**: train only the new output layer (the copied layers are frozen), best with very few examples; or
* **option 2**: train all the layers, starting from the copied weights (fine-tuning), usually with a smaller
  learning rate so the useful features are adjusted rather than overwritten.

``replace_head`` **copies** the layers it keeps (same configs, same weights, new arrays), so the pretrained model
is left untouched and can seed several experiments (option 1 and option 2 from the same start). Sharing the layer
objects would not work here: a learnloop model moves the weights it trains into one flat buffer and rebinds its
layers' arrays to views of it, so two models training the same layers would not see each other's updates.

    pretrained.fit(x_big, y_big, ...)
    model = replace_head(pretrained, units=10, name="digits_head")
    fine_tune(model, x_small, y_small, option=1, loss=SparseCategoricalCrossentropy(from_logits=True))
    model.summary()    # trainable vs non-trainable parameter counts
"""

from __future__ import annotations

import numpy as np

from learnloop.callbacks import History
from learnloop.errors import LearnloopError, NotFittedError
from learnloop.layers import Dense, Input, Layer
from learnloop.models import Sequential
from learnloop.saving import layer_from_config, layer_to_config

# Option 2 starts from good weights: a learning rate 10x below Adam's default adjusts them without wiping them.
FINE_TUNE_LEARNING_RATE = 1e-4
HEAD_LEARNING_RATE = 1e-3


def clone_layer(layer: Layer) -> Layer:
    """A new layer with the same class and config (same name), unbuilt; copy weights after building it."""
    return layer_from_config(layer_to_config(layer))


def _require_built(model: Sequential, where: str) -> None:
    if not isinstance(model, Sequential):
        raise LearnloopError(f"{where} expects a learnloop Sequential model; got {type(model).__name__}.")
    if not model.built or not model.layers:
        raise NotFittedError(f"{where}: model '{model.name}' is not built; train it (or build it) first.")


def replace_head(model: Sequential, units: int, activation=None, name: str | None = None, *,
                 keep: int | None = None) -> Sequential:
    """A new model: copies of ``model``'s layers without its output layer, then a new ``Dense(units, activation)``.

    Args:
        model: a built (usually trained) Sequential model; it is not modified.
        units: output units of the new head (e.g. the new task's number of classes).
        activation: the head's activation (``None``: linear, for a loss with ``from_logits=True``).
        name: the head's name (default: Keras's automatic ``dense_N``).
        keep: how many of the layers to keep (default: all but the last); e.g. ``len(model.layers) - 2`` also
            drops the last hidden layer.

    Returns:
        A built, uncompiled Sequential whose kept layers hold copies of the trained weights (trainable flags
        copied too); the new head is randomly initialised.
    """
    _require_built(model, "replace_head()")
    n = len(model.layers)
    keep = n - 1 if keep is None else int(keep)
    if not 0 <= keep < n:
        raise LearnloopError(f"replace_head() keep must be in [0, {n - 1}] for a model with {n} layers; got {keep}.")
    new = Sequential([Input(tuple(model.input_shape)[1:], dtype=model.dtype)], name=f"{model.name}_transfer")
    for layer in model.layers[:keep]:
        copy = clone_layer(layer)
        new.add(copy)
        if layer.weight_specs():
            copy.set_weights(layer.get_weights())
    new.add(Dense(units, activation=activation, name=name, dtype=model.dtype))
    return new


def _index(model: Sequential, up_to) -> int:
    if isinstance(up_to, str):
        names = [layer.name for layer in model.layers]
        if up_to not in names:
            raise LearnloopError(f"freeze(): no layer named '{up_to}'; the layers are {names}.")
        return names.index(up_to)
    n = len(model.layers)
    if not -n <= int(up_to) < n:
        raise LearnloopError(f"freeze(): up_to={up_to} is out of range for a model with {n} layers.")
    return int(up_to) % n


def freeze(model: Sequential, up_to: int | str | None = None) -> Sequential:
    """Make layers non-trainable: all but the last (``up_to=None``), or layers 0..``up_to`` inclusive (an index
    into ``model.layers``, negative allowed, or a layer name). Compile (again) before training. Returns ``model``.
    """
    _require_built(model, "freeze()")
    last = len(model.layers) - 2 if up_to is None else _index(model, up_to)
    for i, layer in enumerate(model.layers):
        layer.trainable = i > last
    return model


def unfreeze(model: Sequential) -> Sequential:
    """Make every layer trainable again (option 2). Compile (again) before training. Returns ``model``."""
    model.trainable = True
    return model


def trainable_counts(model: Sequential) -> tuple[int, int]:
    """(trainable, non-trainable) parameter counts, as ``model.summary()`` prints them."""
    trainable = sum(int(np.size(w)) for w in model.trainable_weights)
    return trainable, model.count_params() - trainable


def fine_tune(model: Sequential, x, y, *, option: int = 1, loss=None, learning_rate: float | None = None,
              head_epochs: int | None = None, optimizer="adam", metrics=None, epochs: int = 100,
              batch_size: int | None = None, verbose=0, **fit_kwargs) -> History:
    """Train a transferred model by option 1 (the head only) or option 2 (every layer); returns the last History.

    Option 2 runs in two stages, the usual recipe: first the new head alone for ``head_epochs`` (as option 1),
    because a random head's large early gradients would otherwise wreck the copied features; then every layer for
    ``epochs`` at the smaller ``learning_rate``.

    Args:
        model: usually the result of :func:`replace_head`.
        x, y: the new task's (few) labelled examples.
        option: 1 freezes all layers but the last; 2 trains the head, then unfreezes all.
        loss: the new task's loss (required; e.g. ``SparseCategoricalCrossentropy(from_logits=True)``).
        learning_rate: default 1e-3 for option 1 (and option 2's head stage) and 1e-4 for option 2.
        head_epochs: option 2's head stage (default: ``epochs``; 0 skips it).
        optimizer: a name ("adam", "sgd", ...), created with that learning rate, or an optimizer object (whose
            learning rate is kept unless ``learning_rate`` is given).
        metrics, epochs, batch_size, verbose: passed to ``compile`` / ``fit``.
        **fit_kwargs: passed to ``fit``.
    """
    from learnloop import optimizers

    if option not in (1, 2):
        raise LearnloopError(f"fine_tune() option must be 1 (train the head only) or 2 (train all layers); "
                             f"got {option!r}.")
    if loss is None:
        raise LearnloopError("fine_tune() needs the new task's loss, e.g. loss=SparseCategoricalCrossentropy("
                             "from_logits=True).")
    def stage(n_epochs: int, rate: float | None, default_rate: float) -> History:
        opt = optimizers.get(optimizer) if isinstance(optimizer, str) else optimizer
        if isinstance(optimizer, str) or rate is not None:
            opt.learning_rate = rate if rate is not None else default_rate
        model.compile(optimizer=opt, loss=loss, metrics=metrics)
        return model.fit(x, y, epochs=n_epochs, batch_size=batch_size, verbose=verbose, **fit_kwargs)

    freeze(model)
    if option == 1:
        return stage(epochs, learning_rate, HEAD_LEARNING_RATE)
    head_epochs = epochs if head_epochs is None else int(head_epochs)
    if head_epochs > 0:
        stage(head_epochs, None, HEAD_LEARNING_RATE)
    unfreeze(model)
    return stage(epochs, learning_rate, FINE_TUNE_LEARNING_RATE)
