"""Fixtures for the diagnostics tests. Builders are partials of learnloop's own ``network``, so they pickle by
reference to an installed module and work on process backends (loky, dask)."""

from __future__ import annotations

from functools import partial

import numpy as np
import pytest

from learnloop.data import train_cv_test_split
from learnloop.diagnostics.loop import network


@pytest.fixture
def blobs3(rng):
    """Three overlapping 2-D blobs, 300 points, split 60/20/20 (stratified)."""
    centers = np.array([[0.0, 0.0], [2.0, 0.0], [1.0, 1.7]])
    y = np.repeat(np.arange(3), 100)
    x = centers[y] + rng.normal(scale=0.8, size=(300, 2))
    return train_cv_test_split(x, y, stratify=True, seed=0)


@pytest.fixture
def blobs3_net(blobs3):
    """``net(units, lam)``: a ReLU network for blobs3 with the course's L2 penalty lam / 2m."""
    x = blobs3.train.x
    return partial(network, n_outputs=3, kind="classification", mean=x.mean(axis=0), variance=x.var(axis=0),
                   m=blobs3.train.m, flatten=False)
