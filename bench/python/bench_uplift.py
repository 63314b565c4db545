# SPDX-License-Identifier: Apache-2.0
"""Side-by-side uplift benchmark: crmine.uplift against scikit-uplift on one synthetic campaign.

The campaign has a known effect (treatment adds 1.5 x0 - 0.4 to the control log-odds), ten
features and a 50/50 randomised split; 70% of the rows train, 30% are scored. Pairs use the
same model family and comparable base learners:

* metrics: qini_auc_score, uplift_auc_score, qini_curve on the same scores (difference printed);
* TwoModel with logistic regression on both sides (crmine's, standardised inside, vs
  scikit-learn's lbfgs behind a StandardScaler);
* ClassTransformation with the same logistic regressions;
* TwoModel with histogram gradient boosting (crmine's vs scikit-learn's HistGradientBoosting),
  100 rounds of 31 leaves each side.

crmine's UpliftForest has no scikit-uplift counterpart; its time is printed for reference.

Each pair is timed as the best of several runs on both sides (metrics 3, models ``--repeat``,
default 3), after a 0.3 s pause so that neither side shares the cores with the other's
spin-waiting threads: single runs of the same two-model fit varied from 0.15 to 0.40 s.

crmine fits the two boosting models at the same time, one per thread at 2 threads (scikit-uplift
fits one after the other, each on all threads). ``--boosting-detail`` adds single fits of one group
(the treated training rows) at 1 and at 2 threads on both sides, crmine's and HistGradientBoosting's:
the per-model ratios that bound what the two-model ratio can reach.

    python bench/python/bench_uplift.py [--rows 1000000] [--threads 2] [--boosting-detail]
"""

from __future__ import annotations

import argparse
import os
import warnings

import numpy as np

from _timing import best_of


def campaign(n: int, p: int = 10, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p))
    base = -1.2 + 0.4 * X[:, 1] - 0.3 * X[:, 2]
    lift = 1.5 * X[:, 0] - 0.4
    p0, p1 = 1 / (1 + np.exp(-base)), 1 / (1 + np.exp(-(base + lift)))
    t = (rng.random(n) < 0.5).astype(np.int32)
    y = (rng.random(n) < np.where(t == 1, p1, p0)).astype(np.int32)
    return np.ascontiguousarray(X), y, t, p1 - p0


def timed(fn, repeat: int = 1):
    """(best wall seconds, CPU seconds of the process in that call, all threads included, result),
    after a 0.3 s pause for the previous library's idle threads."""
    return best_of(fn, repeat, settle=0.3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3,
                        help="fit+predict runs per model and side, the fastest counts (single runs varied 0.15-0.40 s)")
    parser.add_argument("--boosting-detail", action="store_true",
                        help="also time one group's boosting fit at 1 and at --threads threads on both sides")
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    warnings.filterwarnings("ignore")

    import crmine.classify as cc
    import crmine.uplift as cu
    import sklift.metrics as sm
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklift.models import ClassTransformation, TwoModels

    X, y, t, tau = campaign(args.rows)
    cut = int(0.7 * args.rows)
    Xtr, ytr, ttr, Xte, yte, tte, tau_te = X[:cut], y[:cut], t[:cut], X[cut:], y[cut:], t[cut:], tau[cut:]
    print(f"uplift benchmark: {args.rows:,} rows x {X.shape[1]} features, {args.threads} threads, "
          f"load {os.getloadavg()[0]:.1f}")
    rows = []

    # Metrics on the same scores (the true effect plus noise, rounded to 3 decimals so there are ties,
    # as with binned or tree scores), all rows; then on the continuous true effect (1M distinct scores).
    score = np.round(tau + np.random.default_rng(1).normal(0, 0.05, len(tau)), 3)
    for name, ours, theirs in (
            ("qini_auc_score", lambda: cu.qini_auc_score(y, score, t), lambda: sm.qini_auc_score(y, score, t)),
            ("uplift_auc_score", lambda: cu.uplift_auc_score(y, score, t), lambda: sm.uplift_auc_score(y, score, t)),
            ("qini_curve", lambda: cu.qini_curve(y, score, t), lambda: sm.qini_curve(y, score, t)),
            ("qini_auc_score, all scores distinct", lambda: cu.qini_auc_score(y, tau, t),
             lambda: sm.qini_auc_score(y, tau, t))):
        t_ours, c_ours, v_ours = timed(ours, 3)
        t_theirs, c_theirs, v_theirs = timed(theirs, 3)
        diff = (abs(v_ours - v_theirs) if np.isscalar(v_ours)
                else float(np.max(np.abs(v_ours[1] - v_theirs[1]))))
        rows.append((f"metric {name}", t_ours, t_theirs, c_ours, c_theirs, f"|diff| {diff:.1e}"))

    def logistic():
        return make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))

    models = [
        ("TwoModel, logistic regression",
         lambda: cu.TwoModel(estimator_trmnt=cc.LogisticRegression(n_threads=args.threads)),
         lambda: TwoModels(estimator_trmnt=logistic(), estimator_ctrl=logistic(), method="vanilla")),
        ("ClassTransformation, logistic regression",
         lambda: cu.ClassTransformation(estimator=cc.LogisticRegression(n_threads=args.threads)),
         lambda: ClassTransformation(logistic())),
        ("TwoModel, gradient boosting 100 x 31 leaves",
         lambda: cu.TwoModel(estimator_trmnt=cc.GradientBoostingClassifier(n_estimators=100, num_leaves=31,
                                                                          n_threads=args.threads)),
         lambda: TwoModels(estimator_trmnt=HistGradientBoostingClassifier(max_iter=100, max_leaf_nodes=31,
                                                                          early_stopping=False, random_state=0),
                           estimator_ctrl=HistGradientBoostingClassifier(max_iter=100, max_leaf_nodes=31,
                                                                         early_stopping=False, random_state=0),
                           method="vanilla")),
    ]
    for name, ours, theirs in models:
        t_ours, c_ours, u_ours = timed(lambda: ours().fit(Xtr, ytr, ttr).predict(Xte), args.repeat)
        t_theirs, c_theirs, u_theirs = timed(lambda: theirs().fit(Xtr, ytr, ttr).predict(Xte), args.repeat)
        q_ours, q_theirs = cu.qini_auc_score(yte, u_ours, tte), sm.qini_auc_score(yte, u_theirs, tte)
        rows.append((f"{name} fit+predict", t_ours, t_theirs, c_ours, c_theirs,
                     f"Qini {q_ours:.4f} vs {q_theirs:.4f}, corr(true) {np.corrcoef(u_ours, tau_te)[0, 1]:.3f} vs "
                     f"{np.corrcoef(u_theirs, tau_te)[0, 1]:.3f}"))

    t_forest, c_forest, u_forest = timed(lambda: cu.UpliftForest(n_estimators=50, max_depth=6, max_samples=0.5,
                                                       n_jobs=args.threads).fit(Xtr, ytr, ttr).predict(Xte))
    rows.append(("UpliftForest 50 trees, depth 6 (no peer)", t_forest, np.nan, c_forest, np.nan,
                 f"Qini {cu.qini_auc_score(yte, u_forest, tte):.4f}, corr(true) "
                 f"{np.corrcoef(u_forest, tau_te)[0, 1]:.3f}"))

    if args.boosting_detail:
        from threadpoolctl import threadpool_limits

        group = ttr == 1
        Xg, yg = np.ascontiguousarray(Xtr[group]), ytr[group]
        for k in sorted({1, args.threads}):
            t_ours, c_ours, _ = timed(lambda: cc.GradientBoostingClassifier(n_estimators=100, num_leaves=31,
                                                                          n_threads=k).fit(Xg, yg))
            with threadpool_limits(k):
                t_theirs, c_theirs, _ = timed(lambda: HistGradientBoostingClassifier(
                    max_iter=100, max_leaf_nodes=31, early_stopping=False, random_state=0).fit(Xg, yg))
            rows.append((f"one group's boosting fit ({len(yg):,} rows), {k} thread(s)", t_ours, t_theirs, c_ours,
                         c_theirs, "HistGradientBoosting in the sklift column"))

    # Wall times suffer on a shared machine; process CPU time (all threads) is the fairer figure there.
    print(f"{'task':<56} {'crmine s':>9} {'sklift s':>9} {'ratio':>6} {'crmine CPU':>10} {'sklift CPU':>10} "
          f"{'CPU ratio':>9}  check")
    for name, a, b, ca, cb, note in rows:
        print(f"{name:<56} {a:9.3f} {b:9.3f} {b / a:6.1f} {ca:10.3f} {cb:10.3f} {cb / ca:9.1f}  {note}")
    print(f"load after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
