# SPDX-License-Identifier: Apache-2.0
"""Native categorical splits in gradient boosting, side by side in one run on the same data:
crmine native (categorical_features="auto"), crmine one-hot (categorical_features=None), LightGBM with
categorical_feature, scikit-learn's HistGradientBoostingClassifier(categorical_features="from_dtype").

Data: Telco churn (15 text columns of 2-4 levels) and a synthetic table with three high-cardinality
columns (30, 100 and 250 levels, each with a hidden set of responsive levels) and 10 numeric columns.
Prints fit wall and CPU seconds, test AUC and the peer / crmine ratio.

    python bench/python/bench_categorical.py --rows 200000 --threads 2
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd

import crmine.classify as cc
from crmine.metrics import roc_auc_score

PARAMS = dict(n_estimators=200, learning_rate=0.05, num_leaves=31, min_child_samples=20)
CAT = dict(max_cat_to_onehot=4, max_cat_threshold=32, cat_smooth=10.0, cat_l2=10.0, min_data_per_group=100)
DATA = Path(os.environ.get("CRMINE_SHARED_DATA", Path(__file__).resolve().parents[3] / "shared" / "data"))


def telco() -> tuple[pd.DataFrame, np.ndarray] | None:
    path = DATA / "telco_churn" / "Telco-Customer-Churn.csv"
    if not path.exists():
        return None
    frame = pd.read_csv(path)
    frame["TotalCharges"] = pd.to_numeric(frame["TotalCharges"], errors="coerce")
    y = (frame.pop("Churn") == "Yes").to_numpy().astype(int)
    frame = frame.drop(columns=["customerID"])
    for c in frame.columns:
        if not pd.api.types.is_numeric_dtype(frame[c]):
            frame[c] = frame[c].astype("category")
    return frame, y


def synthetic(n: int, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    cols, logit = {}, np.zeros(n)
    for k, levels in enumerate((30, 100, 250)):
        codes = rng.integers(0, levels, n)
        effect = rng.normal(0, 1.0, levels)
        logit += effect[codes]
        cols[f"cat{k}"] = pd.Categorical.from_codes(codes, [f"L{v}" for v in range(levels)])
    for k in range(10):
        x = rng.normal(size=n)
        cols[f"num{k}"] = x
        logit += 0.3 * x if k < 5 else 0.0
    y = (rng.random(n) < 1 / (1 + np.exp(-(logit - 1.0)))).astype(int)
    return pd.DataFrame(cols), y


def timed(fit):
    w0, c0 = time.perf_counter(), time.process_time()
    model = fit()
    return model, time.perf_counter() - w0, time.process_time() - c0


def run(name: str, X: pd.DataFrame, y: np.ndarray, threads: int) -> None:
    import lightgbm
    from sklearn.ensemble import HistGradientBoostingClassifier

    test = np.random.default_rng(20241122).random(len(y)) < 0.3
    tr, te = X[~test], X[test]
    cats = [c for c in X.columns if isinstance(X[c].dtype, pd.CategoricalDtype)]
    codes = X.copy()
    for c in cats:
        codes[c] = codes[c].cat.codes.astype(float).replace(-1.0, np.nan)
    rows = []
    m, wall, cpu = timed(lambda: cc.GradientBoostingClassifier(**PARAMS, **CAT, n_threads=threads).fit(tr, y[~test]))
    rows.append(("crmine native", wall, cpu, roc_auc_score(y[test], m.predict_proba(te)[:, 1])))
    m, wall, cpu = timed(lambda: cc.GradientBoostingClassifier(**PARAMS, categorical_features=None, n_threads=threads).fit(tr, y[~test]))
    rows.append(("crmine one-hot", wall, cpu, roc_auc_score(y[test], m.predict_proba(te)[:, 1])))
    lgb = lightgbm.LGBMClassifier(**PARAMS, **CAT, reg_lambda=0.0, max_bin=255, verbose=-1, random_state=0, n_jobs=threads)
    idx = [X.columns.get_loc(c) for c in cats]
    m, wall, cpu = timed(lambda: lgb.fit(codes[~test], y[~test], categorical_feature=idx))
    rows.append(("LightGBM categorical", wall, cpu, roc_auc_score(y[test], m.predict_proba(codes[test])[:, 1])))
    hgb = HistGradientBoostingClassifier(max_iter=200, learning_rate=0.05, max_leaf_nodes=31, min_samples_leaf=20,
                                         categorical_features="from_dtype", early_stopping=False, random_state=0)
    m, wall, cpu = timed(lambda: hgb.fit(tr, y[~test]))
    rows.append(("HistGradientBoosting categorical", wall, cpu, roc_auc_score(y[test], m.predict_proba(te)[:, 1])))
    base = rows[0]
    print(f"\n{name}: {len(y)} rows, {len(cats)} categorical of {X.shape[1]} columns")
    print(f"{'model':34s} {'wall s':>8s} {'CPU s':>8s} {'AUC':>7s} {'wall / native':>14s}")
    for label, wall, cpu, auc in rows:
        print(f"{label:34s} {wall:8.3f} {cpu:8.3f} {auc:7.4f} {wall / base[1]:14.2f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=200000, help="rows of the synthetic table")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    print("load:", os.getloadavg())
    data = telco()
    if data is not None:
        run("Telco churn", *data, args.threads)
    run("synthetic", *synthetic(args.rows), args.threads)


if __name__ == "__main__":
    main()
