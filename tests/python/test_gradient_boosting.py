# SPDX-License-Identifier: Apache-2.0
"""GradientBoostingRegressor against LightGBM and HistGradientBoostingRegressor on a real target
(Telco's MonthlyCharges), depth-wise growth, thread invariance, saving and bad input."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest

import crmine.classify as cc
from crmine.exceptions import ModelFormatError, NotFittedError

from conftest import shared_path

pytest.importorskip("sklearn")


@pytest.fixture(scope="module")
def charges() -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Telco customers described by their services, contract and churn; target MonthlyCharges
    (TotalCharges, about MonthlyCharges x tenure, is dropped). Returns (one-hot frame, y, test mask)."""
    frame = pd.read_csv(shared_path("telco_churn/Telco-Customer-Churn.csv"))
    y = frame.pop("MonthlyCharges").to_numpy(dtype=np.float64)
    frame = frame.drop(columns=["customerID", "TotalCharges"])
    X = pd.get_dummies(frame, dtype=float)
    test = np.random.default_rng(20241122).random(len(y)) < 0.3
    return X, y, test


def r2(y: np.ndarray, p: np.ndarray) -> float:
    return 1 - np.sum((y - p) ** 2) / np.sum((y - y.mean()) ** 2)


def test_regressor_matches_lightgbm_and_histgradientboosting_on_monthly_charges(charges):
    lightgbm = pytest.importorskip("lightgbm")
    from sklearn.ensemble import HistGradientBoostingRegressor

    X, y, test = charges
    A = np.ascontiguousarray(X.to_numpy())
    params = dict(n_estimators=200, learning_rate=0.05, num_leaves=31, min_child_samples=20)
    ours = cc.GradientBoostingRegressor(**params).fit(A[~test], y[~test])
    lgb = lightgbm.LGBMRegressor(**params, reg_lambda=0.0, max_bin=255, verbose=-1, random_state=0, n_jobs=2)
    lgb.fit(A[~test], y[~test])
    hgb = HistGradientBoostingRegressor(max_iter=200, learning_rate=0.05, max_leaf_nodes=31, min_samples_leaf=20,
                                        l2_regularization=0.0, early_stopping=False, random_state=0)
    hgb.fit(A[~test], y[~test])
    r_ours, r_lgb, r_hgb = (r2(y[test], m.predict(A[test])) for m in (ours, lgb, hgb))
    assert r_ours > 0.99  # the services a customer takes set the monthly charge
    assert abs(r_ours - r_lgb) < 0.002, (r_ours, r_lgb)
    assert abs(r_ours - r_hgb) < 0.002, (r_ours, r_hgb)
    # The fitted function, not just its score, is LightGBM's: predictions agree to a fraction of a dollar.
    assert np.sqrt(np.mean((ours.predict(A[test]) - lgb.predict(A[test])) ** 2)) < 0.5
    assert ours.score(A[test], y[test]) == pytest.approx(r_ours)


def test_regressor_takes_a_frame_with_categories_and_round_trips(charges, tmp_path):
    frame = pd.read_csv(shared_path("telco_churn/Telco-Customer-Churn.csv"))
    y = frame.pop("MonthlyCharges").to_numpy()
    frame = frame.drop(columns=["customerID", "TotalCharges"])
    m = cc.GradientBoostingRegressor(n_estimators=50, validation_fraction=0.2, n_iter_no_change=5, random_state=3)
    m.fit(frame, y)
    assert m.feature_importances_.shape == (frame.shape[1],)
    assert np.isclose(m.feature_importances_.sum(), 1.0)
    assert m.validation_loss_[-1] < m.validation_loss_[0]
    p = m.predict(frame)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(m)).predict(frame), p)
    path = cc.save_model(m, tmp_path / "gbr.crm")
    loaded = cc.load_model(path)
    assert type(loaded).__name__ == "GradientBoostingRegressor"
    np.testing.assert_array_equal(loaded.predict(m._encoder.transform(frame, "t")[0]), p)
    raw = bytearray(m.to_bytes())
    raw[60] ^= 0xFF
    with pytest.raises(ModelFormatError, match="checksum|GBMR"):
        type(m._model).from_bytes(bytes(raw))


def test_regressor_same_model_at_one_and_two_threads(charges):
    X, y, test = charges
    kw = dict(n_estimators=40, subsample=0.8, colsample_bytree=0.8, growth="depthwise", max_depth=4, num_leaves=16)
    a = cc.GradientBoostingRegressor(**kw, n_threads=1).fit(X, y)
    b = cc.GradientBoostingRegressor(**kw, n_threads=2).fit(X, y)
    np.testing.assert_array_equal(a.predict(X), b.predict(X))


def test_depthwise_growth_builds_level_by_level_and_scores_like_leafwise(charges):
    X, y, test = charges
    deep = cc.GradientBoostingRegressor(n_estimators=100, growth="depthwise", max_depth=5, num_leaves=32)
    deep.fit(X[~test], y[~test])
    leafwise = cc.GradientBoostingRegressor(n_estimators=100, num_leaves=32).fit(X[~test], y[~test])
    assert r2(y[test], deep.predict(X[test])) > 0.99
    assert abs(r2(y[test], deep.predict(X[test])) - r2(y[test], leafwise.predict(X[test]))) < 0.005
    assert deep.get_params()["growth"] == "depthwise"


def test_regressor_bad_input(charges):
    X, y, _ = charges
    with pytest.raises(ValueError, match="growth must be 'leafwise' or 'depthwise'"):
        cc.GradientBoostingRegressor(growth="levelwise").fit(X, y)
    with pytest.raises(ValueError, match="NaN or infinity"):
        cc.GradientBoostingRegressor().fit(X, np.where(np.arange(len(y)) == 5, np.nan, y))
    with pytest.raises(ValueError, match="shape"):
        cc.GradientBoostingRegressor().fit(X, y[:10])
    with pytest.raises(NotFittedError):
        cc.GradientBoostingRegressor().predict(X)
    m = cc.GradientBoostingRegressor(n_estimators=3).fit(X.to_numpy(), y)
    with pytest.raises(ValueError, match="X has 5 features, but GradientBoostingRegressor is expecting 45"):
        m.predict(X.to_numpy()[:, :5])


def test_classifier_depthwise_on_a_pipeline_grid():
    from sklearn.model_selection import GridSearchCV

    rng = np.random.default_rng(0)
    X = rng.normal(size=(600, 4))
    y = (X[:, 0] + X[:, 1] ** 2 + rng.normal(scale=0.5, size=600) > 1).astype(int)
    grid = GridSearchCV(cc.GradientBoostingClassifier(n_estimators=30), {"growth": ["leafwise", "depthwise"]}, cv=3)
    grid.fit(X, y)
    assert grid.best_score_ > 0.8
