"""The rows of a block as the model takes them, for ``learnloop predict``: a table model's pipeline or an array
model's named columns, with the rows it cannot take found and given a reason each."""

from __future__ import annotations

import math

import numpy as np

from learnloop.errors import LearnloopError


class RowReader:
    """Turns a block of raw columns into the network's input, finding the rows it cannot take."""

    def __init__(self, model, stream):
        self.model, self.stream = model, stream
        self.space = model.feature_space
        meta = getattr(model, "metadata", None) or {}
        if self.space is not None:
            self.columns = list(self.space.column_names)
            # numbers read value by value; a number feature that parses text ("$1,234") reads the text itself
            self.numeric = [c for c in self.columns if self.space.features[c].dtype != "string" and
                            getattr(self.space.features[c], "parse", None) is None]
        else:
            if not model.built:
                raise LearnloopError(f"The model has no input shape yet; it cannot predict for {stream.path}.")
            width = math.prod(int(d) for d in tuple(model.input_shape)[1:])
            names = [str(n) for n in meta.get("feature_names") or []]
            if not names:
                names = [c for c in stream.names if c != meta.get("target")]
            if len(names) != width:
                raise LearnloopError(f"The model takes {width} numbers per row; {stream.path} has {len(names)} "
                                     f"columns to give it ({names[:8]}{' ...' if len(names) > 8 else ''}). Save the "
                                     f"model with metadata['feature_names'] naming its input columns.")
            self.columns = self.numeric = names
        # the raw column behind each encoded value, to name the column of one that is not finite
        self.owner = self.columns if self.space is None else \
            [c for c in self.columns for _ in range(self.space.features[c].width)] + \
            [x.name for x in sorted(self.space.crosses, key=lambda x: x.name)
             for _ in range(x.crossing_dim if x.output_mode == "one_hot" else 1)]
        missing = [c for c in self.columns if c not in stream.names]
        if missing:
            raise LearnloopError(f"{stream.path} has no column {missing[0]!r}, which the model reads; its columns are "
                                 f"{stream.names}; the model reads {self.columns}.")
        self.dtype = np.dtype(model.dtype)

    def encode(self, block) -> tuple[np.ndarray, np.ndarray | None, dict[int, str]]:
        """(input rows of the good rows, bad-row mask or None, reason per bad row)."""
        n = block.n
        bad = np.zeros(n, dtype=bool)
        why: dict[int, str] = {}
        for name, invalid in block.invalid.items():
            for i in np.flatnonzero(invalid & ~bad)[:_REASONS]:
                why[int(i)] = f"column {name!r} holds numbers; this row has {_quote(block.text[name][i])}"
            bad |= invalid
        if self.space is not None:
            x = self._preprocess(block, bad)
            if x is None:                       # some feature refused a value: find every such row, then again
                for name in self.columns:
                    self._feature_errors(name, block.columns[name], bad, why)
                x = self._preprocess(block, bad)
        else:
            keep = None if not bad.any() else ~bad
            columns = block.columns if keep is None else {c: block.columns[c][keep] for c in self.columns}
            x = np.column_stack([columns[c] for c in self.columns]) if len(self.columns) > 1 else \
                columns[self.columns[0]].reshape(-1, 1)
            x = x.reshape((len(x),) + tuple(int(d) for d in tuple(self.model.input_shape)[1:]))
        x = x.astype(self.dtype, copy=False)
        flat = x.reshape(len(x), math.prod(x.shape[1:]))
        finite = np.isfinite(flat).all(axis=1)
        if not finite.all():
            rows = np.flatnonzero(~bad)
            for k in np.flatnonzero(~finite)[:_REASONS]:
                j = int(np.argmax(~np.isfinite(flat[k])))
                column = repr(self.owner[j]) if flat.shape[1] == len(self.owner) else "?"
                why[int(rows[k])] = (f"column {column} is missing or not finite" if self.space is None else
                                     f"column {column} is not finite once encoded (normalized by the training "
                                     f"statistics in {self.dtype.name}: far outside the training range)")
            bad[rows[~finite]] = True
            x = x[finite]
        return x, (bad if bad.any() else None), why

    def _preprocess(self, block, bad: np.ndarray) -> np.ndarray | None:
        """The preprocessing layers' output for the rows not ``bad``; None when a feature refuses a value."""
        from learnloop.layers._features import FeatureValueError

        if bad.all():
            return np.empty((0,) + tuple(self.model.preprocessing_layers[-1].output.shape)[1:], dtype=self.dtype)
        columns = block.columns if not bad.any() else {c: block.columns[c][~bad] for c in self.columns}
        try:
            with np.errstate(over="ignore", invalid="ignore"):     # an overflow is found (and named) just after
                return np.asarray(self.model._preprocess(columns, "predict"))
        except FeatureValueError:
            return None

    def _feature_errors(self, name: str, values: np.ndarray, bad: np.ndarray, why: dict) -> None:
        """Mark the rows whose ``name`` value the feature refuses (found by halving: a few vectorized reads)."""
        from learnloop.layers._features import FeatureValueError

        feature = self.space.features[name]
        rows = np.flatnonzero(~bad)

        def refuses(idx: np.ndarray) -> FeatureValueError | None:
            try:
                feature.read(values[idx], name)
            except FeatureValueError as err:
                return err
            return None

        stack = [rows] if len(rows) else []
        while stack:
            idx = stack.pop()
            err = refuses(idx)
            if err is None:
                continue
            if len(idx) == 1:
                i = int(idx[0])
                bad[i] = True
                value = values[i]
                missing = value is None or (isinstance(value, float) and value != value)
                why.setdefault(i, f"column {name!r} is missing, and the model's feature for it does not impute"
                               if missing else f"column {name!r} expects {err.expected or 'another value'}; "
                               f"this row has {_quote(value)}")
                continue
            half = len(idx) // 2
            stack += [idx[half:], idx[:half]]


_REASONS = 1000         # bad rows of one kind per block whose reason is written


def _quote(value) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
