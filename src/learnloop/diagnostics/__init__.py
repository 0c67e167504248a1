"""The machine-learning development loop: J measures with 95% intervals, bias/variance verdicts from evidence,
learning and validation curves, model selection, coded findings and advice on what to try next."""

from learnloop.diagnostics.advisor import Advice, advise
from learnloop.diagnostics.baseline import estimate_baseline
from learnloop.diagnostics.bias_variance import BiasVariance
from learnloop.diagnostics.curves import LearningCurve, ValidationCurve, learning_curve, validation_curve
from learnloop.diagnostics.loop import diagnose
from learnloop.diagnostics.measures import JMeasures, classification_error, j_measures, mse_cost
from learnloop.diagnostics.recipe import Step, Trail, grow_and_regularize
from learnloop.diagnostics.selection import ModelSelection, select_model

__all__ = [
    "Advice", "BiasVariance", "JMeasures", "LearningCurve", "ModelSelection", "Step", "Trail", "ValidationCurve",
    "advise", "classification_error", "diagnose", "estimate_baseline", "grow_and_regularize", "j_measures",
    "learning_curve", "mse_cost", "select_model", "validation_curve",
]

from learnloop.diagnostics.error_analysis import ErrorAnalysis  # noqa: E402

__all__ += ["ErrorAnalysis"]

from learnloop.diagnostics.fairness import FairnessReport, audit  # noqa: E402

__all__ += ["FairnessReport", "audit"]

from learnloop.diagnostics.findings import Finding  # noqa: E402
from learnloop.diagnostics.intervals import Interval  # noqa: E402

__all__ += ["Finding", "Interval"]
