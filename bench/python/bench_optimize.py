# SPDX-License-Identifier: Apache-2.0
"""Campaign optimisation side by side: crmine's dual-price greedy vs the exact integer program
solved by HiGHS (scipy.optimize.milp, after reduced-cost fixing, budget and capacities on integer
counts per (channel, cost) class) on the same problems; look-alike kNN scoring vs scikit-learn's
KNeighborsClassifier.

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
    """(result, wall seconds, CPU seconds of this process: all threads, the solver's included)."""
    start, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - start, time.process_time() - cpu


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--exact", type=int, default=100_000)
    ap.add_argument("--knn", type=int, default=50_000)
    ap.add_argument("--time-limit", type=float, default=1800.0, help="seconds allowed to HiGHS")
    ap.add_argument("--two-offers", action="store_true", help="also run the greedy with 2 offers per customer")
    args = ap.parse_args()
    print(f"load: {os.getloadavg()}")

    big = make_problem(args.customers, seed=1)
    plan, secs, cpu = timed(lambda: cm.campaign.optimize(**big))
    print(f"greedy {args.customers:>9,} customers: {secs:7.2f} s ({cpu:.2f} s CPU)  profit {plan.expected_profit:,.1f}  "
          f"LP bound {plan.upper_bound:,.1f}  proven gap {plan.gap:.2e}  rounds {plan.prices['rounds']}  "
          f"candidates {plan.n_candidates:,}  contacts {dict(plan.channel_contacts)}", flush=True)
    if args.two_offers:
        plan2, secs, cpu = timed(lambda: cm.campaign.optimize(**big, max_offers_per_customer=2))
        print(f"greedy, 2 offers per customer: {secs:7.2f} s ({cpu:.2f} s CPU)  profit {plan2.expected_profit:,.1f}  "
              f"proven gap {plan2.gap:.2e}  contacts {len(plan2.assignment):,}", flush=True)

    small = make_problem(args.exact, seed=2)
    g, g_secs, g_cpu = timed(lambda: cm.campaign.optimize(**small))
    e, e_secs, e_cpu = timed(lambda: cm.campaign.optimize(**small, method="exact", time_limit=args.time_limit))
    print(f"greedy {args.exact:>9,} customers: {g_secs:7.2f} s ({g_cpu:.2f} s CPU)  profit {g.expected_profit:,.4f}  "
          f"proven gap {g.gap:.2e}")
    print(f"exact  {args.exact:>9,} customers: {e_secs:7.2f} s ({e_cpu:.2f} s CPU)  profit {e.expected_profit:,.4f}  "
          f"HiGHS status {e.status!r}, bound {e.upper_bound:,.4f} (proven gap {e.gap:.1e}); "
          f"{e.n_free:,} of {e.n_candidates:,} candidates left free by reduced-cost fixing")
    print(f"greedy vs exact: {(e.expected_profit - g.expected_profit) / e.expected_profit:.2e} below the exact "
          f"optimum; time ratio exact/greedy {e_secs / g_secs:.1f}x", flush=True)

    try:
        from sklearn.neighbors import KNeighborsClassifier
        from sklearn.preprocessing import StandardScaler
    except ImportError:
        return
    rng = np.random.default_rng(3)
    X = rng.normal(size=(args.knn, 10))
    best = (X[:, 0] + 0.5 * X[:, 1] + rng.normal(size=args.knn) > 1.5).astype(np.int32)
    P = rng.normal(size=(args.knn // 5, 10))
    la, la_secs, _ = timed(lambda: cm.prospect.LookAlike(n_neighbors=20).fit(X, best).predict_proba(P))

    def sk():
        scaler = StandardScaler().fit(X)
        return KNeighborsClassifier(n_neighbors=20, algorithm="brute").fit(scaler.transform(X), best) \
            .predict_proba(scaler.transform(P))

    skp, sk_secs, _ = timed(sk)
    print(f"look-alike kNN {args.knn:,} customers x {len(P):,} prospects: crmine {la_secs:.2f} s, "
          f"scikit-learn {sk_secs:.2f} s, ratio {sk_secs / la_secs:.1f}x, "
          f"max |p diff| {np.max(np.abs(la[:, 1] - skp[:, 1])):.3g}")


if __name__ == "__main__":
    main()
