# SPDX-License-Identifier: Apache-2.0
"""Scoring 1M x 50 rows with every crmine classifier (issue 4: "prediction of 1M rows under 1 s for
every model"), with scikit-learn's same family beside it where it has one. Models are fitted on the
first 50,000 rows of a seeded synthetic linear problem; best of 3 predict_proba calls.

    python bench/python/bench_predict_1m.py
"""
import time, numpy as np, os
import crmine as cm
from crmine import classify
rng = np.random.default_rng(0)
X = rng.normal(size=(1_000_000, 50)); w = rng.normal(size=50)
y = (X @ w + rng.normal(size=len(X)) > 0).astype(int)
Xtr, ytr = X[:50_000], y[:50_000]
print("load", os.getloadavg())
from sklearn.neural_network import MLPClassifier as SkMLP
from sklearn.linear_model import LogisticRegression as SkLR
models = {
  "MLPClassifier": (classify.MLPClassifier(hidden_layer_sizes=(100,), max_iter=5, random_state=0), SkMLP(hidden_layer_sizes=(100,), max_iter=5, random_state=0)),
  "GradientBoosting": (classify.GradientBoostingClassifier(n_estimators=200, random_state=0) if hasattr(classify, "GradientBoostingClassifier") else None, None),
  "LogisticRegression": (classify.LogisticRegression(), SkLR(max_iter=200)),
  "DecisionTree": (classify.DecisionTreeClassifier(max_depth=8) if hasattr(classify,"DecisionTreeClassifier") else None, None),
  "NaiveBayes": (classify.NaiveBayes() if hasattr(classify,"NaiveBayes") else None, None),
}
import warnings; warnings.simplefilter("ignore")
for name,(ours,peer) in models.items():
    if ours is None: print(name, "n/a"); continue
    ours.fit(Xtr, ytr)
    best = min((lambda t0: (ours.predict_proba(X), time.perf_counter()-t0)[1])(time.perf_counter()) for _ in range(3))
    line = f"{name}: crmine predict_proba 1M x 50: {best:.3f} s"
    if peer is not None:
        peer.fit(Xtr, ytr)
        pb = min((lambda t0: (peer.predict_proba(X), time.perf_counter()-t0)[1])(time.perf_counter()) for _ in range(3))
        line += f"; scikit-learn {pb:.3f} s"
    print(line, flush=True)
print("load", os.getloadavg())
