# SPDX-License-Identifier: Apache-2.0
"""Golden model files: classification and regression models saved by an earlier build
(tests/data/classify, written by make_models.py there) must still load with today's code, through
the same ``load_model`` a user calls, and score the recorded rows as they did then."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import crmine.classify as cc

DATA = Path(__file__).resolve().parents[1] / "data" / "classify"
GOLDEN = json.loads((DATA / "golden.json").read_text())
X = np.ascontiguousarray(GOLDEN["X"], dtype=np.float64)
NO_CODES = np.empty((len(X), 0), dtype=np.int32)

CLASSIFIERS = ["logistic_regression", "decision_tree_classifier", "gradient_boosting_classifier", "naive_bayes",
               "mlp_classifier"]
REGRESSORS = ["linear_regression", "decision_tree_regressor", "gradient_boosting_regressor", "mlp_regressor"]


def test_every_model_family_has_a_golden_file():
    assert sorted(GOLDEN["scores"]) == sorted(CLASSIFIERS + REGRESSORS)


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_saved_classifier_still_loads_and_gives_the_recorded_probabilities(name):
    model = cc.load_model(DATA / f"{name}.crm")
    proba = model.predict_proba(X, NO_CODES) if name == "naive_bayes" else model.predict_proba(X)
    # Not bitwise: the files must survive compilers and instruction sets, not only this build.
    np.testing.assert_allclose(np.asarray(proba)[:, 1], GOLDEN["scores"][name], rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", REGRESSORS)
def test_saved_regressor_still_loads_and_gives_the_recorded_predictions(name):
    model = cc.load_model(DATA / f"{name}.crm")
    np.testing.assert_allclose(model.predict(X), GOLDEN["scores"][name], rtol=1e-9, atol=1e-12)


def test_a_golden_file_with_one_flipped_byte_is_rejected():
    data = bytearray((DATA / "gradient_boosting_classifier.crm").read_bytes())
    data[len(data) // 2] ^= 0xFF
    with pytest.raises(ValueError):
        type(cc.load_model(DATA / "gradient_boosting_classifier.crm")).from_bytes(bytes(data))
