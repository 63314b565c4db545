# SPDX-License-Identifier: Apache-2.0
"""Writes the golden classification and regression model files next to this script: small fitted
models of every family in crmine's versioned binary format (what ``crmine.classify.save_model``
writes and a C++ program loads), and golden.json with the rows they were asked to score and the
scores they gave.

tests/python/test_classify_golden.py loads the committed files with today's code and checks the
scores, so a change that stops old files from loading (or changes what they predict) fails. When
a format's schema is raised, the old files must still load: run this again only on purpose, to add
files of the new schema, never to hide a broken reader:

    PYTHONPATH=<installed crmine> python tests/data/classify/make_models.py
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

import crmine.classify as cc

HERE = Path(__file__).resolve().parent


def data(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Four numeric columns; the label and the target depend on the first two, the rest is noise."""
    X = rng.standard_normal((n, 4))
    logit = 1.5 * X[:, 0] - 1.0 * X[:, 1] + 0.3 * X[:, 0] * X[:, 1]
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-logit))).astype(np.int64)
    target = 3.0 + 2.0 * X[:, 0] - X[:, 1] ** 2 + 0.1 * rng.standard_normal(n)
    return np.ascontiguousarray(X), y, target


def models() -> dict[str, tuple[object, bool]]:
    """name -> (unfitted estimator, is a classifier). Small sizes keep the files a few KiB."""
    return {
        "logistic_regression": (cc.LogisticRegression(C=0.5), True),
        "decision_tree_classifier": (cc.DecisionTreeClassifier(max_depth=4), True),
        "gradient_boosting_classifier": (cc.GradientBoostingClassifier(n_estimators=12, num_leaves=7, random_state=3), True),
        "naive_bayes": (cc.NaiveBayes(), True),
        "mlp_classifier": (cc.MLPClassifier(hidden_layer_sizes=(6,), max_iter=30, random_state=3), True),
        "linear_regression": (cc.LinearRegression(alpha=0.1), False),
        "decision_tree_regressor": (cc.DecisionTreeRegressor(max_depth=4), False),
        "gradient_boosting_regressor": (cc.GradientBoostingRegressor(n_estimators=12, num_leaves=7, random_state=3), False),
        "mlp_regressor": (cc.MLPRegressor(hidden_layer_sizes=(6,), max_iter=30, random_state=3), False),
    }


def main() -> None:
    rng = np.random.default_rng(2026)
    X, y, target = data(rng, 400)
    Xq, _, _ = data(rng, 16)
    scores: dict[str, list] = {}
    for name, (model, is_classifier) in models().items():
        model.fit(X, y if is_classifier else target)
        cc.save_model(model, HERE / f"{name}.crm")
        scores[name] = (model.predict_proba(Xq)[:, 1] if is_classifier else model.predict(Xq)).tolist()
    (HERE / "golden.json").write_text(json.dumps({"X": Xq.tolist(), "scores": scores}) + "\n")


if __name__ == "__main__":
    main()
