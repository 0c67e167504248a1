"""Turn what :func:`learnloop.diagnostics.loop.diagnose` found into plots, tables and the report page.

``LoopReport`` collects the parts as the loop runs (plots, error analysis, fairness audit), then writes
``report.html`` and ``report.json`` and prints a five-line summary.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from learnloop.diagnostics.findings import with_fairness
from learnloop.report.html import Figure, Report, Table, write_report


def _fmt(value) -> str:
    if isinstance(value, (list, tuple)):
        return "-".join(str(v) for v in value) or "linear"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _labels(model, x) -> np.ndarray:
    out = model.predict(x)
    return np.argmax(out, axis=1) if out.shape[1] > 1 else (out[:, 0] >= 0).astype(np.int64)


class LoopReport:
    """The parts of the report for one run of the loop.

    Args:
        found: the dict :func:`~learnloop.diagnostics.loop.diagnose` returns.
        data: the :class:`~learnloop.data.datasets.Dataset` the loop ran on.
        out: the folder for the PNGs and the report.
    """

    def __init__(self, found: dict, data, out: Path):
        self.found, self.data, self.out = found, data, Path(out)
        self.results = found["results"]
        self.figures: list[Figure] = []
        self.tables: list[Table] = []
        self.extra: dict = {}
        self.measure = "fraction misclassified" if data.task == "classification" else "squared error / 2"

    # ---- parts ---------------------------------------------------------------------------------------------
    def add_curves(self) -> None:
        curves = self.found["curves"]
        arch, lam, lc = curves["architecture"], curves["lambda"], curves["learning"]
        for curve, name, title, caption in (
                (arch, "architecture.png", "Network size",
                 "J_train and J_cv for each architecture of the ladder, J_cv's 95% interval shaded; the smallest "
                 "network within one standard error of the lowest J_cv is kept."),
                (lam, "lambda.png", "Regularization",
                 "J_cv against lambda (the course's lambda/2m penalty): too little overfits, too much underfits; the "
                 "largest lambda within one standard error of the lowest J_cv is kept."),
                (lc, "learning_curve.png", "Learning curve",
                 "J_train and J_cv as the training set grows, with 95% intervals; the dashed line is the inverse "
                 "power law fitted to J_cv, extended to twice the data: a curve still falling means more data helps.")):
            curve.plot(self.out / name)
            self.figures.append(Figure(title, self.out / name, caption))
        self.tables += [
            Table("Architecture ladder", ["hidden units", "J_train", "J_cv", "J_cv 95% interval"],
                  [[_fmt(v), a, b, _bounds(ci)] for v, a, b, ci in
                   zip(arch.values, arch.j_train, arch.j_cv, arch.j_cv_intervals or [None] * len(arch.values))],
                  _chosen_note(arch, _fmt(arch.chosen_value), "the smallest network")),
            Table("Lambda sweep", ["lambda", "J_train", "J_cv", "J_cv 95% interval"],
                  [[_fmt(float(v)), a, b, _bounds(ci)] for v, a, b, ci in
                   zip(lam.values, lam.j_train, lam.j_cv, lam.j_cv_intervals or [None] * len(lam.values))],
                  _chosen_note(lam, f"lambda = {_fmt(float(lam.chosen_value))}", "the largest lambda")),
            Table("Learning curve", ["m (training examples)", "J_train", "J_cv", "J_cv 95% interval"],
                  [[int(m), a, b, _bounds(ci)] for m, a, b, ci in
                   zip(lc.sizes, lc.j_train, lc.j_cv, lc.j_cv_intervals or [None] * len(lc.sizes))],
                  _data_note(lc)),
        ]

    def add_stages(self, stages: list, notes: list[str] = ()) -> None:
        """Which stage ran on how many rows, how long, and why on those rows (``stage.as_dict()`` each)."""
        self.extra["stages"] = [s.as_dict() for s in stages]
        self.stage_notes = list(notes)
        self.tables.insert(0, Table("Stages", ["stage", "rows", "seconds", "why"],
                                    [[s.stage, f"{s.rows:,}", round(s.seconds, 1), s.why] for s in stages],
                                    "; ".join(self.stage_notes)))

    def add_columns(self) -> None:
        """How each column of a table was used (numbers, one-hot, hashed, dropped), one row per column."""
        if not getattr(self.data, "decisions", None):
            return
        rows = [[d.name, d.kind, d.distinct, d.missing, d.reason] for d in self.data.decisions]
        used = sum(d.kind != "dropped" for d in self.data.decisions)
        self.tables.append(Table("Columns", ["column", "used as", "distinct values", "missing", "why"], rows,
                                 f"{used} of {len(rows)} columns are features; the model file carries this pipeline, "
                                 f"so it takes the raw columns"))
        self.extra["columns"] = [d.as_dict() for d in self.data.decisions]

    def add_error_analysis(self) -> None:
        """The cv set's errors: by class; for a table, the wrong rows with their raw values and the error rate by
        column value; for pictures, a grid of the misclassified ones."""
        from learnloop.diagnostics.error_analysis import ErrorAnalysis

        model, cv = self.found["model"], self.found["splits"].cv
        classification = self.data.task == "classification"
        names = self._class_names() if classification else None
        images = None if self.data.images is None else self.data.images[cv.indices]
        rows = kinds = None
        if self.data.columns is not None:
            rows = {k: v[cv.indices] for k, v in self.data.columns.items() if k != self.data.target_name}
            kinds = {d.name: "skip" if d.kind == "dropped" else "numeric" if d.kind == "numeric" else "categorical"
                     for d in self.data.decisions}
        pred = _labels(model, cv.x) if classification else model.predict(cv.x)[:, 0]
        analysis = ErrorAnalysis(cv.y, pred, x=cv.x, images=images, rows=rows, column_kinds=kinds,
                                 ids=np.asarray(cv.indices).tolist(), seed=0, task=self.data.task, class_names=names)
        if classification:
            per_class = [[names[int(r.label)], r.n, r.errors, r.rate] for r in analysis.per_class_error()]
            self.tables.append(Table("Errors by class (cv set)", ["class", "examples", "wrong", "error rate"],
                                     per_class, f"{len(analysis.errors)} of {analysis.n} cv examples misclassified"))
            if len(analysis.errors) and analysis.has_images:
                path = analysis.plot_misclassified(self.out / "misclassified.png", n=20)
                self.figures.append(Figure("Misclassified cv examples", path,
                                           "A sample of the errors with their true and predicted labels: look "
                                           "for what they share before deciding what data to add."))
        if rows is not None:
            self._add_error_tables(analysis)
        self.extra["error_analysis"] = analysis.to_dict()

    def _add_error_tables(self, analysis, n_rows: int = 20, n_slices: int = 15) -> None:
        classification = analysis.task == "classification"
        wrong = analysis.error_rows(n_rows)
        if wrong:
            keys = list(wrong[0])
            title = "Misclassified cv rows" if classification else "cv rows with the largest errors"
            self.tables.append(Table(title, ["row" if k == "id" else k for k in keys],
                                     [[_cell(r[k]) for k in keys] for r in wrong],
                                     f"{len(wrong)} of {len(analysis.errors)} "
                                     + ("misclassified rows (a seeded sample)" if classification else
                                        f"rows in the worst {len(analysis.errors) / analysis.n:.0%} by |error|, "
                                        "largest first")
                                     + " with their raw values; row = position among the rows the loop used"))
        slices = analysis.slices()
        measure = "error rate" if classification else "mean |error|"
        rows = [[s.column, s.value, s.n, s.rate, s.gap, _pair(s.interval), "yes" if s.beyond_noise else "no"]
                for s in slices[:n_slices]]
        overall = analysis.error_rate if classification else \
            float(np.mean(np.abs(analysis.y_pred.astype(float) - analysis.y_true.astype(float))))
        self.tables.append(Table(f"{measure.capitalize()} by column value (cv set)",
                                 ["column", "value", "rows", measure, "gap", "gap interval (95% simultaneous)",
                                  "beyond noise"], rows,
                                 f"each category value, or quantile bin of a numeric column, against the whole cv "
                                 f"set ({measure} {overall:.4g}); largest gaps first"
                                 + (f"; {len(slices)} slices in report.json" if len(slices) > n_slices else "")
                                 if rows else "no column value has enough cv rows to compare"))

    def _class_names(self) -> list:
        return list(self.data.classes if self.data.classes is not None else self.results["classes"])

    def add_fairness(self, group_columns: list[str]) -> None:
        """Metrics by group on the test set, in the original labels: rates for a classifier (the positive class of
        a binary one is its second class), MAE, MSE and the mean prediction for a regression."""
        from learnloop.diagnostics.fairness_metrics import REGRESSION_METRICS
        from learnloop.fairness import audit

        model, test = self.found["model"], self.found["splits"].test
        groups = {g: self.data.groups[g][test.indices] for g in group_columns}
        pos_label = None
        if self.data.task == "classification":
            names = np.asarray(self._class_names())
            y_true, y_pred = names[test.y], names[_labels(model, test.x)]
            binary = len(names) == 2
            metrics = ("accuracy", "selection_rate", "tpr", "fpr") if binary else ("accuracy", "error_rate")
            pos_label = names[1].item() if binary else None
        else:
            y_true, y_pred, metrics = test.y, model.predict(test.x)[:, 0], REGRESSION_METRICS
        report = audit(y_true, y_pred, groups, metrics=metrics, pos_label=pos_label)
        rows = [[" / ".join(map(str, g)) if isinstance(g, tuple) else g, report.counts[g],
                 *[report.by_group[g][m] for m in metrics]] for g in report.by_group]
        diff = report.difference()
        self.tables.append(Table(f"Fairness by {', '.join(group_columns)} (test set)",
                                 ["group", "n", *metrics], rows,
                                 ("" if pos_label is None else f"positive class {pos_label!r}; ")
                                 + "largest gaps between groups: " + ", ".join(f"{m} {_fmt(v)}"
                                                                               for m, v in diff.items())))
        self.extra["fairness"] = report.to_dict()

    # ---- output --------------------------------------------------------------------------------------------
    def data_dict(self, model_path: Path, seconds: float) -> dict:
        r, d = self.results, self.results["diagnosis"]
        chosen = r["chosen"]
        return {
            "dataset": self.data.name, "task": self.data.task, "measure": self.measure,
            "split_sizes": r["split_sizes"], "baseline_error": r["baseline"]["value"],
            "baseline_source": r["baseline"]["source"],
            "selected": {"architecture": chosen["architecture"], "lambda": chosen["lambda"]},
            "j_train": chosen["j_train"], "j_cv": chosen["j_cv"], "j_test": chosen["j_test"],
            "verdict": d["verdict"], "diagnosis": d,
            "findings": with_fairness(r.get("findings", []), self.extra.get("fairness")),
            "intervals": {k: r["intervals"][k] for k in INTERVAL_KEYS if k in r.get("intervals", {})},
            "interval_methods": r.get("interval_methods", {}), "methods_note": METHODS_NOTE,
            "advice": [f"{a['action']}: {a['reason']}" for a in r["advice"]],
            "learning_curve": r["learning_curve"], "validation_curve": r["lambda_curve"],
            "architecture_curve": r["architecture_curve"], "classes": r["classes"],
            "model_path": str(model_path), "seconds": round(seconds, 2), "stage_seconds": r["seconds"],
            "notes": list(self.data.notes) + list(getattr(self, "stage_notes", [])),
            **{k: r[k] for k in ("diagnosis_sample", "sample_diagnosis", "final_training") if k in r}, **self.extra,
        }

    def write(self, model_path: Path, seconds: float) -> Path:
        self._written = self.data_dict(model_path, seconds)
        report = Report(f"learnloop report: {self.data.name}", self._written, self.figures, self.tables)
        return write_report(self.out, report)

    def summary_lines(self) -> list[str]:
        d = self._written
        arch = _fmt(d["selected"]["architecture"])
        ints = d.get("intervals", {})

        def number(name: str, value: float, key: str) -> str:
            low, high = ints.get(key, (value, value))
            return f"{name} {value:.4f}" + (f" [{low:.4f}, {high:.4f}]" if low != high else "")

        source = f" from {d['baseline_source']}" if ints else ""
        return [
            f"verdict: {d['verdict']} ({number('baseline', d['baseline_error'], 'baseline')}{source}; "
            f"{number('J_train', d['j_train'], 'j_train')}, {number('J_cv', d['j_cv'], 'j_cv')})",
            f"chosen: hidden units {arch}, lambda {_fmt(float(d['selected']['lambda']))}"
            + (" (each the simplest within one standard error of the lowest J_cv)" if ints else ""),
            f"J_test of the chosen model: {number('', d['j_test'], 'j_test').strip()} ({d['measure']})",
            *(f"finding {f['code']}: {f['title']}" for f in d.get("findings", [])),
            "try next: " + (d["advice"][0] if d["advice"] else "nothing stands out"),
            *_stage_lines(d.get("stages", []), getattr(self, "stage_notes", [])),
            f"model: {d['model_path']}  ({d['seconds']:.1f} s)",
        ]


INTERVAL_KEYS = ("j_train", "j_cv", "j_test", "baseline", "bias_gap", "variance_gap")
METHODS_NOTE = ("95% intervals from the predictions the loop already made (nothing is refitted): Wilson for error "
                "rates, a percentile bootstrap over examples for other costs; the bias gap J_train - baseline is "
                "paired over the training examples when the baseline is a simple model's held-out predictions "
                "(Bonett-Price, or a paired bootstrap), the variance gap J_cv - J_train compares different examples "
                "(Newcombe, or independent bootstraps). A gap is large when its whole interval lies above its "
                "threshold. Network size and lambda are the simplest within one standard error of the lowest J_cv.")


def _stage_lines(stages: list[dict], notes: list[str]) -> list[str]:
    """The stages in one line (rows and seconds each), then what the verdict was measured on."""
    if not stages:
        return []
    line = "stages: " + "; ".join(f"{s['stage']} {s['rows']:,} rows {s['seconds']:.1f} s" for s in stages)
    return [line, *(f"measured: {n}" for n in notes)]


def _bounds(interval) -> str:
    return "" if interval is None else f"[{interval.low:.4g}, {interval.high:.4g}]"


def _chosen_note(curve, chosen: str, simplest: str) -> str:
    if curve.effect is None:
        return f"chosen: {chosen}"
    effect = ("no measurable effect" if not curve.effect.measurable else "a measurable effect")
    return (f"chosen: {chosen}, {simplest} whose J_cv is within one standard error "
            f"({curve.effect.standard_error:.3g}) of the lowest (the one-standard-error rule); {effect}")


def _data_note(lc) -> str:
    if lc.more_data is None:
        return "J_cv still falling at the largest m: more data should help" if lc.cv_still_falling else ""
    m = int(lc.sizes[-1])
    at2, at10 = lc.law.at(2 * m), lc.law.at(10 * m)
    return (f"inverse power law fit: J_cv {at2.estimate:.4g} [{at2.low:.4g}, {at2.high:.4g}] expected at 2x the data, "
            f"{at10.estimate:.4g} [{at10.low:.4g}, {at10.high:.4g}] at 10x; more data: {lc.more_data}")


def _cell(value):
    if value is None:
        return "(missing)"
    return _fmt(value) if isinstance(value, float) else value


def _pair(interval) -> str:
    return "" if interval is None else f"[{interval[0]:.4g}, {interval[1]:.4g}]"
