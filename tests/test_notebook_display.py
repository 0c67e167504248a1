"""What a notebook shows: HTML tables for results (from their as_dict/to_dict) and figures inline."""

import sys
import types
from dataclasses import dataclass

import pytest

from learnloop import _html, _notebook


@dataclass
class Diagnosis:
    train: float
    cv: float

    @property
    def verdict(self) -> str:
        return "high variance"

    def as_dict(self) -> dict:
        return {"train": self.train, "cv": self.cv, "sizes": [10, 20, 40],
                "rows": [{"name": "<b>", "error": 0.25}, {"name": "x", "error": 0.5}], "nested": {"a": 1}}


def test_render_shows_the_dict_as_a_table_with_the_verdict():
    html = _html.render(Diagnosis(0.1081, 0.148))
    assert "<caption>Diagnosis: high variance</caption>" in html
    assert "<th>train</th><td>0.1081</td>" in html and "[10, 20, 40]" in html
    assert "<th>name</th><th>error</th>" in html and "<td>0.25</td>" in html
    assert "<td>&lt;b&gt;</td>" in html and "<td><b></td>" not in html              # values are escaped


def test_long_lists_and_tables_are_cut():
    html = _html.render(types.SimpleNamespace(to_dict=lambda: {"values": list(range(100)),
                                                               "rows": [{"i": i} for i in range(80)]}))
    assert "... 30 more rows" in html and "(100 items)" in html


@pytest.fixture
def fake_kernel(monkeypatch):
    shown = []
    shell = type("ZMQInteractiveShell", (), {})()
    ipython = types.ModuleType("IPython")
    ipython.get_ipython = lambda: shell
    ipython.version_info = (8, 30, 0)
    display = types.ModuleType("IPython.display")
    display.Image = lambda data, format: ("image", format, data)
    display.display = shown.append
    monkeypatch.setitem(sys.modules, "IPython", ipython)
    monkeypatch.setitem(sys.modules, "IPython.display", display)
    return shown


def test_figures_show_inline_in_a_kernel(fake_kernel):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure()
    FigureCanvasAgg(fig)
    fig.add_subplot().plot([0, 1], [1, 0])
    assert _notebook.in_notebook() and _notebook.show_figure(fig)
    kind, fmt, data = fake_kernel[0]
    assert kind == "image" and fmt == "png" and data.startswith(b"\x89PNG")


def test_nothing_is_shown_outside_a_kernel(monkeypatch):
    monkeypatch.delitem(sys.modules, "IPython", raising=False)
    assert not _notebook.in_notebook() and not _notebook.show_figure(object())


def test_diagnoses_and_curves_show_as_tables_in_notebooks():
    import numpy as np

    from learnloop.diagnostics import BiasVariance, LearningCurve, ValidationCurve

    diagnosis = BiasVariance(baseline=0.106, train=0.108, cv=0.148)
    assert diagnosis._repr_html_() == _html.render(diagnosis, diagnosis.as_dict())
    assert "<caption>BiasVariance: high variance</caption>" in diagnosis._repr_html_()
    curve = LearningCurve(sizes=np.array([10, 20, 40]), j_train=np.array([0.0, 0.05, 0.1]),
                          j_cv=np.array([0.4, 0.3, 0.2]))
    assert "<th>sizes</th><td>[10, 20, 40]</td>" in curve._repr_html_()
    sweep = ValidationCurve(name="lambda", values=np.array([0.0, 0.1]), j_train=np.array([0.01, 0.1]),
                            j_cv=np.array([0.3, 0.2]), best_index=1)
    assert "<th>name</th><td>lambda</td>" in sweep._repr_html_()


def test_error_analysis_and_fairness_audit_show_as_tables():
    from learnloop.diagnostics.error_analysis import ErrorAnalysis
    from learnloop.diagnostics.fairness import FairnessReport

    assert ErrorAnalysis._repr_html_ is _html.render and FairnessReport._repr_html_ is _html.render


def test_plots_drawn_without_a_path_show_inline_in_a_kernel(fake_kernel):
    import numpy as np

    from learnloop.diagnostics import LearningCurve

    curve = LearningCurve(sizes=np.array([10, 20, 40]), j_train=np.array([0.0, 0.05, 0.1]),
                          j_cv=np.array([0.4, 0.3, 0.2]))
    curve.plot()
    assert len(fake_kernel) == 1 and fake_kernel[0][2].startswith(b"\x89PNG")
