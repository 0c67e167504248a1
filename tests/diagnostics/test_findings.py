"""Coded findings: the table of codes and its documentation page agree; the loop's findings come in order, carry
their evidence and never repeat an action."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from known_cases import diagnosis, errors, lambda_sweep, learning

from learnloop.diagnostics import BiasVariance
from learnloop.diagnostics import advisor as A
from learnloop.diagnostics import findings as F
from learnloop.fairness import audit

DOCS = Path(__file__).resolve().parents[2] / "docs" / "findings.md"


def test_the_documentation_page_is_generated_from_the_table():
    assert DOCS.read_text() == F.markdown(), "regenerate docs/findings.md from findings.markdown()"
    for code in F.CODES:
        assert f"`{code}`" in DOCS.read_text()
    assert all(c.severity in F.SEVERITIES and c.code.startswith("LL-") for c in F.CODES.values())


def test_every_finding_the_loop_reports_has_a_documented_code():
    rng = np.random.default_rng(0)
    seen = set()
    for d in (diagnosis(rng, 0.05, 0.15, 0.16, 600, 200), diagnosis(rng, 0.05, 0.02, 0.15, 600, 200),
              diagnosis(rng, 0.02, 0.15, 0.30, 600, 200), diagnosis(rng, 0.10, 0.10, 0.10, 300, 100),
              BiasVariance.from_losses(errors(rng, 0.05, 600), errors(rng, 0.2, 300),
                                       baseline_losses=errors(rng, 0.1, 600))):
        for lc in (learning(rng, [0.5] * 5, shared=0.0), learning(rng, 0.03 + 2.0 * np.array(
                [200, 400, 800, 1400, 2000]) ** -0.5, n_cv=700)):
            for vc in (lambda_sweep(rng, [0.1] * 7), lambda_sweep(rng, [0.3, 0.3, 0.28, 0.25, 0.2, 0.15, 0.1]),
                       lambda_sweep(rng, [0.2, 0.15, 0.1, 0.1, 0.15, 0.25, 0.35])):
                found = F.find(d, lambda_curve=vc, learning_curve=lc, n_features=10)
                json.dumps([f.as_dict() for f in found], allow_nan=False)
                assert found[0].code in F.CODES
                seen |= {f.code for f in found}
    assert {"LL-BIAS", "LL-VARIANCE", "LL-BIAS-VARIANCE", "LL-CANT-TELL", "LL-BASELINE-BETTER", "LL-DATA-HELPS",
            "LL-DATA-FLAT", "LL-LAMBDA-NO-EFFECT", "LL-LAMBDA-EDGE", "LL-LAMBDA-CHOSEN"} <= seen


def test_baseline_first_then_the_verdict_with_its_evidence():
    rng = np.random.default_rng(1)
    d = BiasVariance.from_losses(errors(rng, 0.02, 900), errors(rng, 0.25, 300), baseline_losses=errors(rng, 0.1, 900))
    found = F.find(d, lambda_curve=lambda_sweep(rng, [0.1] * 7))
    assert [f.code for f in found][:2] == ["LL-BASELINE-BETTER", "LL-VARIANCE"]
    evidence = found[1].as_dict()["evidence"]
    assert evidence["baseline"]["source"] == "simple model" and len(evidence["variance_gap"]["interval"]) == 2
    assert evidence["variance_gap"]["reads"] == "large"
    lam = next(f for f in found if f.code == "LL-LAMBDA-NO-EFFECT")
    assert lam.actions == () and "one-standard-error rule" in lam.summary
    advice = F.actions(found)
    assert advice[0].action == A.SIMPLE_MODEL and len({a.action for a in advice}) == len(advice)
    assert [a.priority for a in advice] == list(range(1, len(advice) + 1))


def test_fairness_gaps_beyond_and_within_noise():
    rng = np.random.default_rng(0)
    n = 3000
    group = rng.choice(["a", "b"], n)
    y = (rng.random(n) < 0.4).astype(int)
    fair = np.where(rng.random(n) < 0.85, y, 1 - y)                        # same error rate in both groups
    unfair = np.where((group == "b") & (rng.random(n) < 0.3), 1, fair)     # group b gets extra positives
    noise = F.fairness_findings(audit(y, fair, group).gaps())
    assert [f.code for f in noise] == ["LL-FAIRNESS-NOISE"]
    gaps = F.fairness_findings(audit(y, unfair, group).gaps())
    assert "LL-FAIRNESS-GAP" in [f.code for f in gaps]
    assert any(f.evidence["metric"] == "selection_rate" for f in gaps)
    merged = F.with_fairness([{"code": "LL-VARIANCE", "severity": "problem"}, {"code": "LL-DATA-FLAT",
                                                                               "severity": "info"}],
                             audit(y, unfair, group).to_dict())
    assert merged[0]["code"] == "LL-VARIANCE" and merged[1]["code"] == "LL-FAIRNESS-GAP"
