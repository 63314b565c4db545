# SPDX-License-Identifier: Apache-2.0
"""Gradient boosting's native categorical splits: Telco churn against LightGBM's categorical_feature,
set splits a threshold cannot make, unseen and missing categories, how columns are declared, bad input."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest

import crmine.classify as cc

from conftest import shared_path

pytest.importorskip("sklearn")
from sklearn.metrics import roc_auc_score  # noqa: E402

#: The settings every model on Telco shares (LightGBM's names; its categorical defaults spelled out).
PARAMS = dict(n_estimators=200, learning_rate=0.05, num_leaves=31, min_child_samples=20)
CAT = dict(max_cat_to_onehot=4, max_cat_threshold=32, cat_smooth=10.0, cat_l2=10.0, min_data_per_group=100)


@pytest.fixture(scope="module")
def telco():
    """Telco churn with its 15 text columns as pandas categoricals (TotalCharges blank for 11 new
    customers: NaN); a fixed seeded 70/30 split."""
    frame = pd.read_csv(shared_path("telco_churn/Telco-Customer-Churn.csv"))
    frame["TotalCharges"] = pd.to_numeric(frame["TotalCharges"], errors="coerce")
    y = (frame.pop("Churn") == "Yes").to_numpy().astype(int)
    frame = frame.drop(columns=["customerID"])
    for c in frame.columns:
        if not pd.api.types.is_numeric_dtype(frame[c]):
            frame[c] = frame[c].astype("category")
    test = np.random.default_rng(20241122).random(len(y)) < 0.3
    return frame, y, test


def test_native_categories_match_lightgbm_categorical_feature_on_telco(telco):
    lightgbm = pytest.importorskip("lightgbm")
    X, y, test = telco
    tr, te = X[~test], X[test]
    native = cc.GradientBoostingClassifier(**PARAMS, **CAT).fit(tr, y[~test])
    cats = [c for c in X.columns if isinstance(X[c].dtype, pd.CategoricalDtype)]
    assert native.is_categorical_.sum() == len(cats) == 15
    assert native.feature_names_out_ == list(X.columns)
    auc_native = roc_auc_score(y[test], native.predict_proba(te)[:, 1])
    codes = X.copy()
    for c in cats:
        codes[c] = codes[c].cat.codes.astype(float).replace(-1.0, np.nan)
    lgb = lightgbm.LGBMClassifier(**PARAMS, **CAT, reg_lambda=0.0, max_bin=255, verbose=-1, random_state=0, n_jobs=2)
    lgb.fit(codes[~test], y[~test], categorical_feature=[X.columns.get_loc(c) for c in cats])
    auc_lgb = roc_auc_score(y[test], lgb.predict_proba(codes[test])[:, 1])
    onehot = cc.GradientBoostingClassifier(**PARAMS, categorical_features=None).fit(tr, y[~test])
    auc_onehot = roc_auc_score(y[test], onehot.predict_proba(te)[:, 1])
    print(f"Telco churn test AUC: native {auc_native:.4f}, one-hot {auc_onehot:.4f}, LightGBM categorical {auc_lgb:.4f}")
    assert abs(auc_native - auc_lgb) < 0.005, (auc_native, auc_lgb)
    assert auc_native > 0.82
    # The same columns given by name, by position or as a mask make the same model.
    names = cc.GradientBoostingClassifier(**PARAMS, **CAT, categorical_features=cats).fit(tr, y[~test])
    mask = cc.GradientBoostingClassifier(**PARAMS, **CAT, categorical_features=native.is_categorical_).fit(tr, y[~test])
    p = native.predict_proba(te)
    np.testing.assert_array_equal(names.predict_proba(te), p)
    np.testing.assert_array_equal(mask.predict_proba(te), p)


def planted(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """A 12-level region whose levels {b, e, h, j, k} respond 80% of the time and the rest 20%, plus noise."""
    rng = np.random.default_rng(seed)
    levels = np.array(list("abcdefghijkl"))
    region = levels[rng.integers(0, 12, n)]
    hot = np.isin(region, list("behjk"))
    y = (rng.random(n) < np.where(hot, 0.8, 0.2)).astype(int)
    return pd.DataFrame({"region": region, "noise": rng.random(n)}), y


def test_one_split_finds_a_set_of_levels_that_no_threshold_on_codes_can():
    X, y = planted(6000, 1)
    stump = dict(n_estimators=1, learning_rate=1.0, num_leaves=2)
    native = cc.GradientBoostingClassifier(**stump).fit(X, y)
    root = native._model.trees[0][0]
    assert root.feature == 0 and root.categories == [sum(1 << k for k in (1, 4, 7, 9, 10))]
    codes = X.assign(region=pd.Categorical(X["region"]).codes.astype(float))
    numeric = cc.GradientBoostingClassifier(**stump).fit(codes, y)
    auc_native = roc_auc_score(y, native.predict_proba(X)[:, 1])
    assert auc_native > 0.79
    assert roc_auc_score(y, numeric.predict_proba(codes)[:, 1]) < auc_native - 0.1


def test_unseen_levels_go_right_and_missing_follows_its_side():
    X, y = planted(6000, 2)
    X.loc[::10, "region"] = None
    y[::10] = (np.random.default_rng(3).random(len(y[::10])) < 0.8).astype(int)  # missing behaves like the hot set
    m = cc.GradientBoostingClassifier(n_estimators=1, learning_rate=1.0, num_leaves=2).fit(X, y)
    root = m._model.trees[0][0]
    assert root.missing_left
    probe = pd.DataFrame({"region": ["b", None, "a", "zz", "new"], "noise": 0.5})
    z = m.decision_function(probe)
    assert z[1] == z[0]  # missing: left with the hot set
    assert z[3] == z[2] and z[4] == z[2]  # unseen: right
    assert z[2] != z[0]
    again = pickle.loads(pickle.dumps(m))
    np.testing.assert_array_equal(again.decision_function(probe), z)


def test_numpy_columns_of_codes_and_the_regressor():
    X, y = planted(4000, 4)
    A = np.column_stack([pd.Categorical(X["region"]).codes.astype(float), X["noise"]])
    target = np.where(np.isin(X["region"], list("behjk")), 3.0, -1.0) + X["noise"].to_numpy()
    reg = cc.GradientBoostingRegressor(n_estimators=1, learning_rate=1.0, num_leaves=2, categorical_features=[0]).fit(A, target)
    assert reg.is_categorical_.tolist() == [True, False]
    assert reg._model.trees[0][0].categories == [sum(1 << k for k in (1, 4, 7, 9, 10))]
    by_mask = cc.GradientBoostingRegressor(n_estimators=1, learning_rate=1.0, num_leaves=2,
                                           categorical_features=np.array([True, False])).fit(A, target)
    np.testing.assert_array_equal(by_mask.predict(A), reg.predict(A))
    bad = A.copy()
    bad[0, 0] = 1.5
    with pytest.raises(ValueError, match="not an integer category code"):
        reg.predict(bad)


def test_one_hot_on_request_and_clear_errors():
    X, y = planted(1000, 5)
    onehot = cc.GradientBoostingClassifier(n_estimators=5, categorical_features=None).fit(X, y)
    assert "region=a" in onehot.feature_names_out_ and not onehot.is_categorical_.any()
    bad = {"size": "categorical_features is a boolean mask of length 3", "region2": "names 'region2'",
           "twice": "twice", "text": "must be 'auto', None", "unlisted": "not in categorical_features"}
    specs = {"size": [True, False, True], "region2": ["region2"], "twice": ["region", 0], "text": "all",
             "unlisted": ["noise"]}
    for key, spec in specs.items():
        with pytest.raises(ValueError, match=bad[key]):
            cc.GradientBoostingClassifier(n_estimators=2, categorical_features=spec).fit(X, y)
    many = pd.DataFrame({"id": [f"c{i}" for i in range(300)], "x": np.arange(300.0)})
    with pytest.raises(ValueError, match="300 categories"):
        cc.GradientBoostingClassifier(n_estimators=2).fit(many, np.arange(300) % 2)
    with pytest.raises(ValueError, match="cat_smooth"):
        cc.GradientBoostingClassifier(n_estimators=2, cat_smooth=-1.0).fit(X, y)
