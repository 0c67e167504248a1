"""The pictures of an error analysis: a grid of misclassified examples and the confusion matrix (matplotlib)."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def _save(fig, path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png")
    return path


def misclassified_grid(analysis, images: np.ndarray, path, n: int = 25, cols: int = 5) -> Path:
    """A PNG grid of (up to ``n``) of ``analysis``'s sampled errors, each titled with its id, true and predicted
    label; ``images`` (n_examples, h, w[, c]) holds the pictures."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    chosen = analysis.sample.tolist()[:n]
    rows = max(1, -(-len(chosen) // cols))
    fig = Figure(figsize=(1.6 * cols, 1.8 * rows), dpi=100)
    FigureCanvasAgg(fig)
    for k in range(rows * cols):
        ax = fig.add_subplot(rows, cols, k + 1)
        ax.axis("off")
        if k < len(chosen):
            i = chosen[k]
            img = images[i]
            ax.imshow(img[..., 0] if img.ndim == 3 and img.shape[-1] == 1 else img,
                      cmap="gray_r" if img.ndim == 2 or img.shape[-1] == 1 else None)
            ax.set_title(f"#{analysis._id(i)} true {analysis._name(analysis.y_true[i])}\n"
                         f"pred {analysis._name(analysis.y_pred[i])}", fontsize=8)
    if not chosen:
        fig.text(0.5, 0.5, "no errors", ha="center")
    fig.suptitle(f"{len(chosen)} of {len(analysis.errors)} misclassified examples", fontsize=9)
    fig.tight_layout()
    return _save(fig, path)


def confusion_matrix_plot(analysis, path) -> Path:
    """A PNG of ``analysis.confusion_matrix()`` (rows true, columns predicted), drawn by scikit-learn's display."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from sklearn.metrics import ConfusionMatrixDisplay

    labels = [analysis._name(np.asarray(v)) for v in analysis.labels()]
    side = min(12.0, 3.0 + 0.45 * len(labels))
    fig = Figure(figsize=(side, side), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ConfusionMatrixDisplay(analysis.confusion_matrix(), display_labels=labels).plot(ax=ax, colorbar=False)
    ax.set_title(f"{len(analysis.errors)} of {analysis.n} misclassified")
    fig.tight_layout()
    return _save(fig, path)
