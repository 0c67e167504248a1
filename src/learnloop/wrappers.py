"""scikit-learn estimators around learnloop models, with Keras 3's names (``keras.wrappers.SKLearnClassifier``...).

A wrapped model goes wherever scikit-learn estimators go: ``cross_val_score``, ``GridSearchCV``, ``Pipeline``,
``clone``. Each wrapper takes ``model``: a compiled :class:`~learnloop.Sequential`, cloned before every fit unless
``warm_start`` (fresh weights, the same compile settings, ``adapt()`` statistics kept), or a callable returning one.
The callable is given ``X=`` and ``y=`` (the training arrays, so it can size the input and output layers; a
classifier's labels arrive encoded as 0..k-1) when its signature accepts them, plus ``model_kwargs``, which a grid
search can tune.

Beyond Keras's wrappers: ``partial_fit`` (one epoch over each batch given, the model kept between calls, so
dask-ml's ``Incremental`` and ``HyperbandSearchCV`` drive learnloop models over data larger than memory);
``random_state`` (as in scikit-learn) makes fits reproducible; every classifier has
``predict_proba`` and scikit-learn's ``decision_function`` convention, whatever its output (softmax, sigmoid or
logits); the labels are fitted to the model (integers for ``sparse_categorical_crossentropy``, one-hot rows for an
n-unit output with another loss, 0/1 for a one-unit output); and fitting prints nothing unless ``verbose`` is
passed, as scikit-learn estimators do.
"""

from __future__ import annotations

import copy
import inspect
import warnings

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, TransformerMixin
from sklearn.exceptions import DataConversionWarning
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import check_array, check_is_fitted, check_X_y

from learnloop import activations, losses
from learnloop import optimizers as optimizers_mod
from learnloop.errors import LearnloopError
from learnloop.models import Sequential, clone_model
from learnloop.utils import seeded

Array = np.ndarray


def clone_compiled(model: Sequential) -> Sequential:
    """A fresh copy of ``model``: same architecture, new weights, the same compile settings, a new optimizer.

    Statistics a layer learned with ``adapt()`` (``Normalization``) are preprocessing the user chose, so they are
    copied over rather than reset.
    """
    clone = clone_model(model)
    for ours, theirs in zip(clone.layers, model.layers):
        if hasattr(theirs, "adapt") and theirs.built:
            ours.set_weights(theirs.get_weights())
    clone.compile(optimizer=optimizers_mod.deserialize(optimizers_mod.serialize(model.optimizer)),
                  loss=copy.deepcopy(model.loss), metrics=copy.deepcopy(model._metric_specs))
    return clone


class _SKLearnWrapper(BaseEstimator):
    """Shared body: build or clone the model, validate arrays, fit, predict."""

    def __init__(self, model, warm_start: bool = False, model_kwargs: dict | None = None,
                 fit_kwargs: dict | None = None, random_state=None):
        self.model = model
        self.warm_start = warm_start
        self.model_kwargs = model_kwargs
        self.fit_kwargs = fit_kwargs
        self.random_state = random_state

    # ---- scikit-learn's estimator tags (both the >= 1.6 and the older protocol) ----------------------------
    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = True
        return tags

    def _more_tags(self):
        return {"non_deterministic": True}

    # ---- the model -----------------------------------------------------------------------------------------
    def _new_model(self, X: Array, y: Array) -> Sequential:
        if self.warm_start and hasattr(self, "model_"):
            return self.model_
        if isinstance(self.model, Sequential):
            if not self.model.compiled:
                raise LearnloopError(f"{type(self).__name__}: the model must be compiled (it is cloned with its "
                                     "loss and optimizer before each fit); call model.compile(...) first.")
            model = self.model if self.warm_start else clone_compiled(self.model)
        elif callable(self.model):
            kwargs = dict(self.model_kwargs or {})
            accepts = _accepted_parameters(self.model)
            for name, value in (("X", X), ("y", y)):
                if accepts is None or name in accepts:
                    kwargs.setdefault(name, value)
            model = self.model(**kwargs)
        else:
            raise LearnloopError(f"{type(self).__name__} expects model to be a compiled learnloop Sequential or a "
                                 f"callable returning one; got {type(self.model).__name__}.")
        if not isinstance(model, Sequential) or not model.compiled:
            raise LearnloopError(f"{type(self).__name__}: model() must return a compiled learnloop Sequential; got "
                                 f"{'an uncompiled model' if isinstance(model, Sequential) else type(model).__name__}.")
        return model

    def fit(self, X, y, sample_weight=None, **kwargs):
        """Train on ``X`` (samples, ...) and ``y``; keyword arguments go to ``model.fit`` (over ``fit_kwargs``)."""
        X, y = check_X_y(X, y, allow_nd=True, multi_output=True, y_numeric=not isinstance(self, ClassifierMixin),
                         dtype="numeric")
        self._fit_shape = X.shape[1:]
        if X.ndim == 2:
            self.n_features_in_ = X.shape[1]
        targets = self._encode_targets(y)
        fit_kwargs = {"verbose": 0, **(self.fit_kwargs or {}), **kwargs}
        if sample_weight is not None:
            sample_weight = np.asarray(sample_weight, dtype=float)
            if sample_weight.ndim == 1 and sample_weight.size and not sample_weight.any():
                raise ValueError(f"{type(self).__name__}.fit: sample_weight is zero for every sample; there is "
                                 "nothing to learn from.")
            fit_kwargs["sample_weight"] = sample_weight
        with seeded(_seed(self.random_state)):
            model = self._new_model(X, targets)
            self.history_ = model.fit(X, self._targets_for(model, targets), **fit_kwargs).history
        self.model_ = model
        self.partial_fit_calls_ = 0
        return self

    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """One pass (epoch) over ``X`` and ``y``, continuing from the previous calls: the model is built on the first
        call (from that call's ``X`` and ``y``), its weights and optimizer state are kept between calls, so streams
        of batches (dask-ml's ``Incremental``, ``HyperbandSearchCV``) train it as one long fit.

        Args:
            X: (samples, ...) a batch of inputs; every call must give the same number of features.
            y: (samples,) or (samples, outputs) its targets.
            classes: every label the classifier will see, required on the first call (as scikit-learn's
                ``SGDClassifier`` requires), optional afterwards (then it must not change); ignored by regressors.
            sample_weight: (samples,) optional weights.

        ``fit_kwargs`` apply except ``epochs`` (one pass per call); ``random_state`` seeds the first call's initial
        weights and each call's batch order. :meth:`fit` starts over; ``partial_fit`` after ``fit`` continues it.
        """
        first = not hasattr(self, "model_")
        X, y = check_X_y(X, y, allow_nd=True, multi_output=True, y_numeric=not isinstance(self, ClassifierMixin),
                         dtype="numeric")
        if not first:
            self._check_X(X)
        targets = self._encode_partial(y, classes, first)
        fit_kwargs = {"verbose": 0, **(self.fit_kwargs or {}), "epochs": 1, "initial_epoch": 0}
        if sample_weight is not None:
            fit_kwargs["sample_weight"] = np.asarray(sample_weight, dtype=float)
        calls = getattr(self, "partial_fit_calls_", 0)
        seed = _seed(self.random_state)
        with seeded(None if seed is None else seed + calls):
            model = self._new_model(X, targets) if first else self.model_
            history = model.fit(X, self._targets_for(model, targets), **fit_kwargs).history
        if first:
            self._fit_shape = X.shape[1:]
            if X.ndim == 2:
                self.n_features_in_ = X.shape[1]
            self.model_, self.history_ = model, {}
        for key, values in history.items():
            self.history_.setdefault(key, []).extend(values)
        self.partial_fit_calls_ = calls + 1
        return self

    def _encode_partial(self, y: Array, classes, first: bool) -> Array:
        return self._encode_targets(y)

    def _check_X(self, X) -> Array:
        check_is_fitted(self, "model_")
        X = check_array(X, allow_nd=True, dtype="numeric")
        if X.shape[1:] != self._fit_shape:
            what = (f"{X.shape[1]} features" if X.ndim == 2 else f"samples of shape {X.shape[1:]}")
            expected = (f"{self._fit_shape[0]} features" if len(self._fit_shape) == 1
                        else f"samples of shape {self._fit_shape}")
            raise ValueError(f"X has {what}, but {type(self).__name__} is expecting {expected} as input.")
        return X

    def _encode_targets(self, y: Array) -> Array:
        return y

    def _targets_for(self, model: Sequential, y: Array) -> Array:
        return y

    @property
    def epoch_(self) -> int:
        """How many epochs the last fit ran."""
        return len(next(iter(getattr(self, "history_", {}).values()), []))


def _seed(random_state) -> int | None:
    """An int seed from scikit-learn's ``random_state`` (None, an int, or a NumPy generator to draw one from)."""
    if random_state is None or isinstance(random_state, (int, np.integer)) and not isinstance(random_state, bool):
        return None if random_state is None else int(random_state)
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(2**63))
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(2**31))
    raise ValueError(f"random_state must be None, an int or a NumPy generator; got {random_state!r}.")


def _accepted_parameters(fn) -> set | None:
    """Names ``fn`` takes as keywords; ``None`` when it takes ``**kwargs`` (or its signature is unknown)."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return None
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
        return None
    return {p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}


class SKLearnClassifier(ClassifierMixin, _SKLearnWrapper):
    """A learnloop classifier as a scikit-learn estimator: ``fit``, ``predict``, ``predict_proba``, ``score``.

    Args:
        model: a compiled :class:`~learnloop.Sequential`, or a callable returning one (see the module docstring).
        warm_start: reuse the model of the previous fit (and, on the first fit, ``model`` itself, not a clone).
        model_kwargs: keyword arguments for a callable ``model``.
        fit_kwargs: keyword arguments for ``model.fit`` (``epochs``, ``batch_size``...); arguments given to
            :meth:`fit` win.
        random_state: an int makes every fit draw its initial weights and batches from that seed, so two fits
            give the same model (learnloop's global generator is left as it was); ``None`` uses the global one.

    Attributes:
        model_: the fitted model.
        classes_: the labels (sorted).
        history_: ``model.fit``'s history dict.
    """

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.poor_score = True
        return tags

    def _more_tags(self):
        return {**super()._more_tags(), "poor_score": True}

    def _encode_targets(self, y: Array) -> Array:
        if y.ndim == 2 and y.shape[1] == 1:
            warnings.warn("A column-vector y was passed when a 1d array was expected; it is raveled to (samples,).",
                          DataConversionWarning, stacklevel=3)
            y = y.ravel()
        kind = type_of_target(y)
        if kind not in ("binary", "multiclass"):
            unknown = "Unknown label type: " if kind == "unknown" else ""
            raise ValueError(f"{unknown}{type(self).__name__} supports binary and multiclass targets; got {kind} "
                             f"targets of shape {np.shape(y)} and dtype {np.asarray(y).dtype}.")
        self.classes_, encoded = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(f"{type(self).__name__} needs at least 2 classes to train; y has 1 class: "
                             f"{self.classes_.tolist()}.")
        return encoded.reshape(-1)

    def _encode_partial(self, y: Array, classes, first: bool) -> Array:
        """Labels as indices into ``classes_``, which the first call of partial_fit fixes from ``classes``."""
        if y.ndim == 2 and y.shape[1] == 1:
            warnings.warn("A column-vector y was passed when a 1d array was expected; it is raveled to (samples,).",
                          DataConversionWarning, stacklevel=3)
            y = y.ravel()
        if first and classes is None:
            raise ValueError(f"{type(self).__name__}.partial_fit: classes must be passed on the first call to "
                             f"partial_fit (every label the model will see, e.g. classes=np.unique(y_all)).")
        if classes is not None:
            classes = np.unique(classes)
            if first:
                if len(classes) < 2:
                    raise ValueError(f"{type(self).__name__} needs at least 2 classes to train; classes= has 1: "
                                     f"{classes.tolist()}.")
                self.classes_ = classes
            elif not np.array_equal(classes, self.classes_):
                raise ValueError(f"`classes={classes.tolist()}` is not the same as on the first call to partial_fit, "
                                 f"was: {self.classes_.tolist()}.")
        kind = type_of_target(y)
        if kind not in ("binary", "multiclass"):
            raise ValueError(f"{type(self).__name__} supports binary and multiclass targets; got {kind} targets of "
                             f"shape {np.shape(y)} and dtype {np.asarray(y).dtype}.")
        unknown = np.setdiff1d(np.unique(y), self.classes_)
        if len(unknown):
            raise ValueError(f"{type(self).__name__}.partial_fit: y holds labels {unknown.tolist()[:10]} that are not "
                             f"in classes {self.classes_.tolist()[:10]}.")
        return np.searchsorted(self.classes_, y).reshape(-1)

    def _targets_for(self, model: Sequential, labels: Array) -> Array:
        n_out, k = _output_units(model), len(self.classes_)
        if n_out == 1 and k == 2:
            return labels.astype(model.dtype).reshape(-1, 1)
        if n_out != k:
            raise LearnloopError(
                f"{type(self).__name__}: the model's output layer has {n_out} unit(s) but y has {k} classes "
                f"{self.classes_.tolist()[:10]}; use {k} units (softmax), or 1 unit (sigmoid) for 2 classes.")
        if isinstance(model.loss, losses.SparseCategoricalCrossentropy):
            return labels
        return np.eye(k, dtype=model.dtype)[labels]

    def decision_function(self, X) -> Array:
        """Scores as scikit-learn reads them: for 2 classes (samples,), > 0 meaning ``classes_[1]`` (the logit,
        computed from probabilities when the model outputs those); else (samples, classes), the model's outputs."""
        X = self._check_X(X)
        out = self.model_.predict(X, verbose=0).astype(np.float64)
        if len(self.classes_) > 2:
            return out
        logits = getattr(self.model_.loss, "from_logits", False)
        if out.shape[1] == 1:
            return out[:, 0] if logits else _log_odds(out[:, 0], 1 - out[:, 0])
        return out[:, 1] - out[:, 0] if logits else _log_odds(out[:, 1], out[:, 0])

    def predict_proba(self, X) -> Array:
        """Class probabilities (samples, classes), in the order of ``classes_``."""
        X = self._check_X(X)
        out = self.model_.predict(X, verbose=0).astype(np.float64)
        logits = getattr(self.model_.loss, "from_logits", False)
        if out.shape[1] == 1:
            p = activations.sigmoid(out[:, 0]) if logits else np.clip(out[:, 0], 0.0, 1.0)
            return np.column_stack([1 - p, p])
        if logits:
            return activations.softmax(out)
        return out / np.maximum(out.sum(axis=1, keepdims=True), np.finfo(np.float64).tiny)

    def predict(self, X) -> Array:
        """The most probable class of each sample, as a label from ``classes_``."""
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]


def _log_odds(p: Array, q: Array) -> Array:
    tiny = np.finfo(np.float64).tiny
    return np.log(np.maximum(p, tiny)) - np.log(np.maximum(q, tiny))


def _output_units(model: Sequential) -> int:
    shape = model.output.shape if model.output is not None else None
    if shape is None or len(shape) != 2:
        raise LearnloopError(f"SKLearnClassifier needs a model with outputs (samples, units); the model's output "
                             f"shape is {None if shape is None else tuple(shape)}.")
    return int(shape[-1])


class SKLearnRegressor(RegressorMixin, _SKLearnWrapper):
    """A learnloop regressor as a scikit-learn estimator: ``fit``, ``predict`` and ``score`` (R^2).

    Arguments as :class:`SKLearnClassifier`. A 1-D ``y`` trains a one-unit output, and ``predict`` returns 1-D;
    a 2-D ``y`` (samples, outputs) trains a multi-output model.
    """

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.regressor_tags.poor_score = True
        tags.target_tags.multi_output = True
        return tags

    def _more_tags(self):
        return {**super()._more_tags(), "poor_score": True, "multioutput": True}

    def _encode_targets(self, y: Array) -> Array:
        self._y_ndim = np.ndim(y)
        return np.asarray(y, dtype=float).reshape(len(y), -1)

    def predict(self, X) -> Array:
        X = self._check_X(X)
        out = self.model_.predict(X, verbose=0).astype(np.float64)          # scikit-learn's regressors give float64
        return out[:, 0] if self._y_ndim == 1 and out.ndim == 2 and out.shape[1] == 1 else out


class SKLearnTransformer(TransformerMixin, _SKLearnWrapper):
    """A learnloop model as a scikit-learn transformer: ``fit`` trains it on (X, y), ``transform`` is ``predict``.

    Typical use: a trained feature extractor (e.g. a network cut before its output layer) as a pipeline step.
    Arguments as :class:`SKLearnClassifier`.
    """

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = []
        return tags

    def _encode_targets(self, y: Array) -> Array:
        return np.asarray(y, dtype=float).reshape(len(y), -1)

    def transform(self, X) -> Array:
        """The model's outputs for ``X``: (samples, units)."""
        X = self._check_X(X)
        return self.model_.predict(X, verbose=0)
