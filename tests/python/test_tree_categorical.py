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


def test_encoders_code_every_kind_of_text_column_as_a_cell_by_cell_lookup_would():
    # Category (with an unused level), object with None, pandas string, bool and integer-coded
    # categorical columns; the frame scored later holds a level unseen in training.
    rng = np.random.default_rng(4)
    n = 500
    fit_frame = pd.DataFrame({
        "region": pd.Categorical(rng.choice(LEVELS[:5], n), categories=LEVELS),
        "plan": pd.Series(rng.choice(["basic", "plus", None], n), dtype=object),
        "channel": pd.Series(rng.choice(["web", "shop", "phone"], n), dtype="string"),
        "member": rng.random(n) < 0.4,
        "tier": pd.Categorical(rng.integers(1, 4, n)),
        "visits": rng.poisson(3, n).astype(float),
    })
    later = fit_frame.copy()
    later["plan"] = later["plan"].where(np.arange(n) % 9 != 0, "premium")  # unseen at fit
    for mode in ("onehot", "native"):
        from crmine.classify import _Encoder

        encoder = _Encoder(mode, "auto").fit(fit_frame, "test")
        got, _ = encoder.transform(later, "test")
        expected = []
        for col in encoder.columns:
            values = later[col].tolist()
            if col not in encoder.categories:
                expected.append(np.asarray(values, dtype=float)[:, None])
                continue
            cats = encoder.categories[col]
            position = [cats.index(v) if not pd.isna(v) and v in cats else -1 for v in values]
            if mode == "onehot":
                block = np.zeros((n, len(cats)))
                for i, k in enumerate(position):
                    if k >= 0:
                        block[i, k] = 1.0
                expected.append(block)
            else:
                codes = [np.nan if pd.isna(v) else (k if k >= 0 else len(cats)) for v, k in zip(values, position)]
                expected.append(np.asarray(codes, dtype=float)[:, None])
        np.testing.assert_array_equal(got, np.hstack(expected))
        assert got.flags["C_CONTIGUOUS"]
