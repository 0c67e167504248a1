"""Fairness audit by subgroup: ``learnloop.fairness.audit(y_true, y_pred, groups)`` (see diagnostics/fairness.py)."""

from learnloop.diagnostics.fairness import (
    DEFAULT_METRICS,
    METRICS,
    FairnessReport,
    accuracy,
    audit,
    demographic_parity_difference,
    equalized_odds_difference,
    error_rate,
    false_negative_rate,
    false_positive_rate,
    selection_rate,
    true_negative_rate,
    true_positive_rate,
)

__all__ = ["DEFAULT_METRICS", "METRICS", "FairnessReport", "accuracy", "audit", "demographic_parity_difference",
           "equalized_odds_difference", "error_rate", "false_negative_rate", "false_positive_rate",
           "selection_rate", "true_negative_rate", "true_positive_rate"]
