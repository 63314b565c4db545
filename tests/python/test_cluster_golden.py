# SPDX-License-Identifier: Apache-2.0
"""Golden model files: cluster models saved by an earlier build (tests/data/cluster, written by
make_models.py there) must still load with today's code and predict the labels recorded then."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from crmine import _core

DATA = Path(__file__).resolve().parents[1] / "data" / "cluster"
GOLDEN = json.loads((DATA / "golden.json").read_text())
X = np.ascontiguousarray(GOLDEN["X"], dtype=np.float64)
X_CAT = np.ascontiguousarray(GOLDEN["X_cat"], dtype=np.int32)


def load(name: str, cls):
    return cls.from_bytes((DATA / f"{name}.crm").read_bytes())


@pytest.mark.parametrize("name, cls, predict", [
    ("kmeans", _core.KMeans, lambda m: m.predict(X)),
    ("kprototypes", _core.KPrototypes, lambda m: m.predict(X, X_CAT)),
    ("kmodes", _core.KModes, lambda m: m.predict(X_CAT)),
    ("gaussian_mixture", _core.GaussianMixture, lambda m: m.predict(X)),
])
def test_saved_model_still_loads_and_predicts_the_recorded_labels(name, cls, predict):
    model = load(name, cls)
    assert predict(model).tolist() == GOLDEN["labels"][name]


def test_saved_gaussian_mixture_gives_the_recorded_log_likelihood():
    model = load("gaussian_mixture", _core.GaussianMixture)
    assert model.score(X) == pytest.approx(GOLDEN["gaussian_mixture_score"], rel=1e-12)


def test_a_golden_file_loaded_as_another_model_is_rejected():
    with pytest.raises(ValueError):
        load("kmeans", _core.GaussianMixture)
