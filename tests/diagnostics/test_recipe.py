"""Grow the network until J_train reaches the baseline, then regularize until J_cv reaches J_train."""

from __future__ import annotations

from learnloop.diagnostics import Trail, grow_and_regularize


def test_grows_then_regularizes_on_overlapping_blobs(blobs3, blobs3_net):
    trail = grow_and_regularize(blobs3_net, blobs3, baseline=0.15, sizes=[(1,), (8,), (128, 128)],
                                lambdas=[0.0, 1.0, 3.0, 10.0, 30.0], epochs=150, n_jobs=1)
    assert isinstance(trail, Trail)
    sizes = [s.size for s in trail.steps]
    lams = [s.lam for s in trail.steps]
    assert sizes[:3] == [(1,), (8,), (128, 128)] and lams[:3] == [0.0, 0.0, 0.0]
    assert "high bias" in trail.steps[0].verdict                     # a one-unit network cannot fit
    assert trail.steps[2].verdict == "high variance"                  # the big one fits, but not the cv set
    assert all(s.size == (128, 128) and s.lam > 0 for s in trail.steps[3:])
    assert trail.chosen.verdict == "good fit" and trail.chosen.lam > 0
    assert trail.chosen_index == len(trail.steps) - 1                 # it stops at the first good fit
    assert trail.chosen.j_cv < trail.steps[2].j_cv
    assert trail.model is not None and "lambda" in trail.note
    assert trail.as_dict()["steps"][2]["size"] == [128, 128]


def test_says_so_when_even_the_largest_network_leaves_high_bias(blobs3, blobs3_net):
    trail = grow_and_regularize(blobs3_net, blobs3, baseline=0.0, sizes=[(1,), (4,)], lambdas=[0.0, 1.0],
                                epochs=20, n_jobs=2)
    assert len(trail.steps) == 2 and all("high bias" in s.verdict for s in trail.steps)
    assert "Even the largest network" in trail.note
    assert trail.chosen.j_train == min(s.j_train for s in trail.steps)
