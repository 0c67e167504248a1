"""The notes' diagnostic pictures, drawn with matplotlib (imported lazily).

Each function takes a result object from :mod:`learnloop.diagnostics`, draws on ``ax`` (or a new 640x480 figure)
and writes a PNG when given ``path``. It returns the axes. New figures are plain :class:`matplotlib.figure.Figure`
objects rendered by the Agg canvas, so nothing here touches pyplot's global state or needs a display.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from learnloop._notebook import show_figure

FIGSIZE = (6.4, 4.8)
DPI = 100
TRAIN_STYLE = {"color": "tab:blue", "marker": "o", "label": "J_train"}
CV_STYLE = {"color": "tab:orange", "marker": "o", "label": "J_cv"}


def _axes(ax):
    if ax is not None:
        return ax, None
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=FIGSIZE, dpi=DPI)
    FigureCanvasAgg(fig)
    return fig.add_subplot(), fig


def _finish(ax, fig, path) -> object:
    ax.grid(True, alpha=0.3)
    ax.legend(loc="best")
    if fig is not None:
        fig.tight_layout()                  # keep rotated tick labels and axis titles inside the picture
    if path is not None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        (fig or ax.figure).savefig(path, format="png")
    elif fig is not None:                   # a figure drawn here is not pyplot's: a notebook shows it only if asked
        show_figure(fig)
    return ax


def _error_label(kind: str) -> str:
    return "fraction misclassified" if kind == "classification" else "squared error / 2m"


def _baseline(ax, baseline) -> None:
    if baseline is not None:
        ax.axhline(baseline, color="gray", linestyle="--", label=f"baseline {baseline:.3g}")


def _band(ax, x, intervals, color: str) -> None:
    """A shaded 95% interval around a curve, when the curve has intervals."""
    if intervals:
        ax.fill_between(x, [ci.low for ci in intervals], [ci.high for ci in intervals], color=color, alpha=0.15,
                        linewidth=0)


def _law(ax, curve) -> None:
    """The inverse power law fitted to J_cv(m), extended to twice the data, with its interval."""
    law = getattr(curve, "law", None)
    if law is None:
        return
    m = np.geomspace(float(curve.sizes[0]), 2.0 * float(curve.sizes[-1]), 40)
    ax.plot(m, [law.predict(v) for v in m], color=CV_STYLE["color"], linestyle="--", linewidth=1,
            label=f"J_cv = {law.a:.3g} + {law.b:.3g} m^-{law.c:.2g}")
    bands = [law.at(v) for v in m[m > curve.sizes[-1]]]
    if bands:
        ax.fill_between(m[m > curve.sizes[-1]], [b.low for b in bands], [b.high for b in bands],
                        color=CV_STYLE["color"], alpha=0.08, linewidth=0)
    at10 = law.at(10 * float(curve.sizes[-1]))
    ax.plot([], [], " ", label=f"10x the data: J_cv {at10.estimate:.3g} [{at10.low:.3g}, {at10.high:.3g}]")


def plot_learning_curve(curve, path=None, ax=None, baseline: float | None = None):
    """J_train and J_cv against the training-set size m (baseline as a dashed line when known); with per-example
    losses, J_cv's 95% intervals as a band and the fitted power law extrapolated to twice the data."""
    ax, fig = _axes(ax)
    ax.plot(curve.sizes, curve.j_train, **TRAIN_STYLE)
    ax.plot(curve.sizes, curve.j_cv, **CV_STYLE)
    _band(ax, curve.sizes, getattr(curve, "j_cv_intervals", None), CV_STYLE["color"])
    _law(ax, curve)
    _baseline(ax, baseline if baseline is not None else curve.baseline)
    ax.set_xlabel("m (training set size)")
    ax.set_ylabel(f"error ({_error_label(curve.kind)})")
    ax.set_title("Learning curve")
    return _finish(ax, fig, path)


def plot_validation_curve(curve, path=None, ax=None, baseline: float | None = None):
    """J_train and J_cv against the swept setting; the chosen value is circled.

    Lambda-like values spanning two decades or more get a log axis (symmetric-log when 0 is among them).
    Non-numeric values (architectures) are placed at 0..k-1 and labelled. With per-example losses, J_cv's 95%
    intervals are shaded and the one-standard-error line (lowest J_cv + one standard error) is drawn: the chosen
    value is the simplest under it.
    """
    ax, fig = _axes(ax)
    values = curve.values
    numeric = values.dtype.kind in "iuf"
    x = values.astype(float) if numeric else np.arange(len(values), dtype=float)
    ax.plot(x, curve.j_train, **TRAIN_STYLE)
    ax.plot(x, curve.j_cv, **CV_STYLE)
    _band(ax, x, getattr(curve, "j_cv_intervals", None), CV_STYLE["color"])
    effect = getattr(curve, "effect", None)
    chosen = getattr(curve, "chosen_index", curve.best_index)
    rule = ""
    if effect is not None:
        ax.axhline(curve.best_j_cv + effect.standard_error, color=CV_STYLE["color"], linestyle=":", linewidth=1,
                   label="lowest J_cv + 1 standard error" + ("" if effect.measurable else " (no measurable effect)"))
        rule = " (one-SE rule)"
    ax.scatter([x[chosen]], [curve.j_cv[chosen]], s=200, facecolors="none", edgecolors="red", linewidths=2,
               zorder=3, label=f"chosen {curve.name} = {_fmt(values[chosen])}{rule}")
    _baseline(ax, baseline)
    if numeric and curve.log_scale:
        positive = x[x > 0]
        if np.any(x <= 0):
            ax.set_xscale("symlog", linthresh=float(positive.min()))
        else:
            ax.set_xscale("log")
    if not numeric:
        ax.set_xticks(x)
        ax.set_xticklabels([_fmt(v) for v in values], rotation=30, ha="right")
    ax.set_xlabel(curve.name)
    ax.set_ylabel(f"error ({_error_label(curve.kind)})")
    ax.set_title(f"J_train and J_cv vs {curve.name}")
    return _finish(ax, fig, path)


def plot_model_selection(selection, path=None, ax=None):
    """J_train and J_cv per candidate; the chosen one is circled and its J_test noted."""
    ax, fig = _axes(ax)
    x = np.arange(len(selection.names), dtype=float)
    ax.plot(x, selection.j_train, **TRAIN_STYLE)
    ax.plot(x, selection.j_cv, **CV_STYLE)
    _band(ax, x, getattr(selection, "j_cv_intervals", None), CV_STYLE["color"])
    chosen = getattr(selection, "chosen_index", None)
    chosen = selection.best_index if chosen is None else chosen
    ax.scatter([x[chosen]], [selection.j_cv[chosen]], s=200, facecolors="none", edgecolors="red", linewidths=2,
               zorder=3, label=f"chosen {selection.names[chosen]} (J_test {selection.j_test:.3g})")
    ax.set_xticks(x)
    ax.set_xticklabels([str(n) for n in selection.names], rotation=30, ha="right")
    ax.set_xlabel("candidate")
    ax.set_ylabel(f"error ({_error_label(selection.kind)})")
    ax.set_title("Model selection by J_cv")
    return _finish(ax, fig, path)


def plot_trail(trail, path=None, ax=None, baseline: float | None = None):
    """J_train and J_cv along the steps of the grow-then-regularize recipe."""
    ax, fig = _axes(ax)
    steps = trail.steps
    x = np.arange(len(steps), dtype=float)
    ax.plot(x, [s.j_train for s in steps], **TRAIN_STYLE)
    ax.plot(x, [s.j_cv for s in steps], **CV_STYLE)
    chosen = trail.chosen_index
    ax.scatter([x[chosen]], [steps[chosen].j_cv], s=200, facecolors="none", edgecolors="red", linewidths=2,
               zorder=3, label="chosen")
    _baseline(ax, baseline if baseline is not None else trail.baseline)
    ax.set_xticks(x)
    ax.set_xticklabels([f"{_fmt(s.size)}\nλ={s.lam:g}" for s in steps], fontsize=8)
    ax.set_xlabel("network size, lambda")
    ax.set_ylabel("error")
    ax.set_title("Grow the network, then regularize")
    return _finish(ax, fig, path)


def _fmt(value) -> str:
    if isinstance(value, (float, np.floating)):
        return f"{float(value):g}"
    if isinstance(value, (tuple, list)):
        return "-".join(str(v) for v in value)
    return str(value)
