# SPDX-License-Identifier: Apache-2.0
"""DecisionTree's native categorical splits: the best of all subsets in one split, rules that name
the levels, unseen levels, and the one-hot default kept for scikit-learn parity."""

from __future__ import annotations

import itertools
import pickle

import numpy as np
import pandas as pd
import pytest

import crmine.classify as cc

pytest.importorskip("sklearn")
from sklearn.metrics import roc_auc_score  # noqa: E402

LEVELS = ["North", "South", "East", "West", "Centre", "Coast", "Alps", "Lakes"]


def shop(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    rate = dict(zip(LEVELS, [0.1, 0.6, 0.25, 0.8, 0.3, 0.55, 0.05, 0.7]))
    region = rng.choice(LEVELS, n)
    y = (rng.random(n) < np.array([rate[r] for r in region])).astype(int)
    return pd.DataFrame({"region": pd.Categorical(region, categories=LEVELS), "visits": rng.poisson(4, n).astype(float)}), y


def gini_gain(y: np.ndarray, left: np.ndarray) -> float:
    def mass(v):
        return 0.0 if len(v) == 0 else len(v) * 2 * v.mean() * (1 - v.mean())
    return mass(y) - mass(y[left]) - mass(y[~left])


def test_one_split_is_the_best_subset_and_the_rule_names_it():
    X, y = shop(5000, 1)
    tree = cc.DecisionTreeClassifier(max_depth=1, categorical_features="auto").fit(X, y)
    root = tree._model.nodes[0]
    assert root.feature == 0 and tree.is_categorical_.tolist() == [True, False]
    chosen = [LEVELS[c] for c in range(len(LEVELS)) if root.categories[0] >> c & 1]
    best = max(gini_gain(y, X["region"].isin(subset).to_numpy())
               for k in range(1, len(LEVELS)) for subset in itertools.combinations(LEVELS, k))
    assert gini_gain(y, X["region"].isin(chosen).to_numpy()) == pytest.approx(best, rel=1e-12)
    rules = tree.export_rules()
    assert f"region in {{{', '.join(chosen)}}}" in rules and f"region not in {{{', '.join(chosen)}}}" in rules
    # One-hot (the default, as scikit-learn's trees) needs several splits for the same partition.
    onehot = cc.DecisionTreeClassifier(max_depth=1).fit(X, y)
    assert roc_auc_score(y, onehot.predict_proba(X)[:, 1]) < roc_auc_score(y, tree.predict_proba(X)[:, 1]) - 0.05


def test_unseen_levels_go_right_and_models_pickle():
    X, y = shop(4000, 2)
    X.loc[::7, "region"] = None
    tree = cc.DecisionTreeClassifier(max_depth=1, categorical_features=["region"]).fit(X, y)
    root = tree._model.nodes[0]
    inside = [LEVELS[c] for c in range(len(LEVELS)) if root.categories[0] >> c & 1]
    outside = [v for v in LEVELS if v not in inside]
    probe = pd.DataFrame({"region": ["Islands", outside[0], inside[0], None], "visits": 4.0})
    leaf = tree.apply(probe)
    assert leaf[0] == leaf[1] == root.right and leaf[2] == root.left
    assert leaf[3] == (root.left if root.missing_left else root.right)
    again = pickle.loads(pickle.dumps(tree))
    np.testing.assert_array_equal(again.predict_proba(probe), tree.predict_proba(probe))
    assert again.export_rules() == tree.export_rules()
    reg = cc.DecisionTreeRegressor(max_depth=2, categorical_features="auto").fit(X, y.astype(float))
    assert reg.is_categorical_.tolist() == [True, False] and "region in {" in reg.export_rules()
