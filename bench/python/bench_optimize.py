# SPDX-License-Identifier: Apache-2.0
"""Campaign optimisation side by side: crmine's dual-price greedy vs the exact integer program
solved by HiGHS (scipy.optimize.milp) on the same problems; look-alike kNN scoring vs
scikit-learn's KNeighborsClassifier.

    PYTHONPATH=<site> python bench/python/bench_optimize.py [--customers 1000000] [--exact 100000]

Problems: customers x 5 offers x 3 channels (email, sms, phone), responses drawn per customer and
offer and lifted per channel; value per offer, cost per channel; a budget for about 8% of the
customers by phone-equivalent cost and capacities that bind on sms and phone.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

import crmine as cm


def make_problem(n: int, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    base = rng.beta(1.1, 25.0, size=(n, 5, 1)).astype(np.float64)
    channel_lift = np.array([1.0, 1.6, 3.0]).reshape(1, 1, 3)
    noise = rng.uniform(0.8, 1.2, size=(n, 5, 3))
    response = np.clip(base * channel_lift * noise, 0.0, 1.0)
    return {"response": response, "value": np.array([25.0, 40.0, 60.0, 90.0, 140.0]),
            "cost": np.array([0.05, 0.4, 4.0]), "budget": 0.08 * n * 1.5,
            "capacity": [np.inf, 0.10 * n, 0.02 * n], "channels": ["email", "sms", "phone"]}


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--exact", type=int, default=100_000)
    ap.add_argument("--knn", type=int, default=50_000)
    ap.add_argument("--time-limit", type=float, default=1800.0, help="seconds allowed to HiGHS")
    args = ap.parse_args()
    print(f"load: {os.getloadavg()}")

    big = make_problem(args.customers, seed=1)
    plan, secs = timed(lambda: cm.campaign.optimize(**big))
    print(f"greedy {args.customers:>9,} customers: {secs:7.2f} s  profit {plan.expected_profit:,.1f}  "
          f"LP bound {plan.upper_bound:,.1f}  proven gap {plan.gap:.2e}  rounds {plan.prices['rounds']}  "
          f"candidates {plan.n_candidates:,}  contacts {dict(plan.channel_contacts)}")

    small = make_problem(args.exact, seed=2)
    g, g_secs = timed(lambda: cm.campaign.optimize(**small))
    e, e_secs = timed(lambda: cm.campaign.optimize(**small, method="exact", time_limit=args.time_limit))
    print(f"greedy {args.exact:>9,} customers: {g_secs:7.2f} s  profit {g.expected_profit:,.2f}  proven gap {g.gap:.2e}")
    print(f"HiGHS  {args.exact:>9,} customers: {e_secs:7.2f} s  profit {e.expected_profit:,.2f}  "
          f"MIP bound {e.upper_bound:,.2f}")
    print(f"greedy vs exact: {(e.expected_profit - g.expected_profit) / e.expected_profit:.2e} below the exact "
          f"optimum; time ratio exact/greedy {e_secs / g_secs:.1f}x")

    try:
        from sklearn.neighbors import KNeighborsClassifier
        from sklearn.preprocessing import StandardScaler
    except ImportError:
        return
    rng = np.random.default_rng(3)
    X = rng.normal(size=(args.knn, 10))
    best = (X[:, 0] + 0.5 * X[:, 1] + rng.normal(size=args.knn) > 1.5).astype(np.int32)
    P = rng.normal(size=(args.knn // 5, 10))
    la, la_secs = timed(lambda: cm.prospect.LookAlike(n_neighbors=20).fit(X, best).predict_proba(P))

    def sk():
        scaler = StandardScaler().fit(X)
        return KNeighborsClassifier(n_neighbors=20, algorithm="brute").fit(scaler.transform(X), best) \
            .predict_proba(scaler.transform(P))

    skp, sk_secs = timed(sk)
    print(f"look-alike kNN {args.knn:,} customers x {len(P):,} prospects: crmine {la_secs:.2f} s, "
          f"scikit-learn {sk_secs:.2f} s, ratio {sk_secs / la_secs:.1f}x, "
          f"max |p diff| {np.max(np.abs(la[:, 1] - skp[:, 1])):.3g}")


if __name__ == "__main__":
    main()
