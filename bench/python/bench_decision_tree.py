# SPDX-License-Identifier: Apache-2.0
"""DecisionTree on CRM tables with text columns, side by side in one run on the same split: crmine
with the one-hot default (categorical_features=None), crmine with native categorical splits
(categorical_features="auto", Breiman's ordering of a node's categories) and scikit-learn's
DecisionTreeClassifier, both on the one-hot matrix bench_classify.py uses (encoding not timed) and as a
pipeline of OneHotEncoder and the tree on the table (encoding timed, as crmine's rows are: they fit
the table itself).

Data: bank marketing (bank-additional-full, `duration` dropped; 10 text columns) and Telco churn
(15 text columns; TotalCharges blank for 11 customers, kept as missing). The split and the settings
are bench_classify.py's: test = default_rng(1).random(n) < 0.3, depth 8, leaves of at least 20 rows.
Prints test AUC and top-decile lift, and the fit time (best of --repeat fits, wall and process CPU)
with the ratio of the last row's (scikit-learn on the matrix) time to each row's.

    python bench/python/bench_decision_tree.py [--threads 2] [--repeat 5]
"""

from __future__ import annotations

import argparse
import lzma
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd

import crmine.classify as cc
import crmine.metrics as cmm

DATA = Path(os.environ.get("CRMINE_SHARED_DATA", Path(__file__).resolve().parents[3] / "shared" / "data"))
SETTINGS = dict(max_depth=8, min_samples_leaf=20)


def bank() -> tuple[pd.DataFrame, np.ndarray] | None:
    path = DATA / "bank_marketing" / "bank-additional-full.csv.xz"
    if not path.exists():
        return None
    with lzma.open(path, "rt") as f:
        frame = pd.read_csv(f, sep=";").drop(columns=["duration"])
    y = (frame.pop("y") == "yes").to_numpy(dtype=int)
    return frame, y


def telco() -> tuple[pd.DataFrame, np.ndarray] | None:
    path = DATA / "telco_churn" / "Telco-Customer-Churn.csv"
    if not path.exists():
        return None
    frame = pd.read_csv(path).drop(columns=["customerID"])
    frame["TotalCharges"] = pd.to_numeric(frame["TotalCharges"], errors="coerce")
    y = (frame.pop("Churn") == "Yes").to_numpy(dtype=int)
    return frame, y


def best_fit(model, X, y, repeat: int) -> tuple[float, float]:
    wall = cpu = np.inf
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        model.fit(X, y)
        wall, cpu = min(wall, time.perf_counter() - t), min(cpu, time.process_time() - c)
    return wall, cpu


def run(name: str, frame: pd.DataFrame, y: np.ndarray, threads: int, repeat: int) -> list[dict]:
    from sklearn.compose import make_column_transformer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder
    from sklearn.tree import DecisionTreeClassifier

    test = np.random.default_rng(1).random(len(y)) < 0.3
    train_frame, test_frame = frame[~test], frame[test]
    text = [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]
    onehot = pd.get_dummies(frame, dtype=float)  # scikit-learn's input: the same indicators as bench_classify.py
    Xtr, Xte = onehot[~test].to_numpy(), np.ascontiguousarray(onehot[test].to_numpy())
    candidates = [
        ("crmine, one-hot (default)", cc.DecisionTreeClassifier(n_threads=threads, **SETTINGS), train_frame, test_frame),
        ("crmine, native categories ('auto')",
         cc.DecisionTreeClassifier(n_threads=threads, categorical_features="auto", **SETTINGS), train_frame, test_frame),
        ("scikit-learn, OneHotEncoder pipeline on the table",
         make_pipeline(make_column_transformer((OneHotEncoder(handle_unknown="ignore"), text), remainder="passthrough"),
                       DecisionTreeClassifier(random_state=0, **SETTINGS)), train_frame, test_frame),
        ("scikit-learn, one-hot matrix (encoding not timed)", DecisionTreeClassifier(random_state=0, **SETTINGS), Xtr, Xte),
    ]
    rows = []
    for label, model, train, held_out in candidates:
        wall, cpu = best_fit(model, train, y[~test], repeat)
        p = model.predict_proba(held_out)[:, 1]
        leaves = (model[-1] if hasattr(model, "steps") else model).get_n_leaves()
        rows.append(dict(data=name, model=label, auc=cmm.roc_auc_score(y[test], p), lift=cmm.top_decile_lift(y[test], p),
                         leaves=leaves, wall=wall, cpu=cpu))
    peer = rows[-1]
    for r in rows:
        r["ratio"], r["cpu_ratio"] = peer["wall"] / r["wall"], peer["cpu"] / r["cpu"]
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=5, help="fits per model; the fastest counts")
    args = parser.parse_args()
    load_before = os.getloadavg()
    rows = []
    for name, loader in (("bank marketing", bank), ("Telco churn", telco)):
        data = loader()
        if data is None:
            print(f"{name}: data not found under {DATA}, skipped")
            continue
        rows += run(name, *data, args.threads, args.repeat)
    print(f"threads = {args.threads}; fit = best of {args.repeat}; ratio = scikit-learn time / this model's time; "
          "split and settings of bench_classify.py (depth 8, leaves >= 20 rows)\n")
    print("| data | model | test AUC | top-decile lift | leaves | fit s | fit CPU s | fit ratio | fit CPU ratio |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['data']} | {r['model']} | {r['auc']:.4f} | {r['lift']:.2f} | {r['leaves']} | {r['wall']:.4f} | "
              f"{r['cpu']:.4f} | {r['ratio']:.2f} | {r['cpu_ratio']:.2f} |")
    print(f"\nload average before / after: {load_before} / {os.getloadavg()}")


if __name__ == "__main__":
    main()
