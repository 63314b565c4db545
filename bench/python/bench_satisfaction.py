# SPDX-License-Identifier: Apache-2.0
"""Side-by-side satisfaction benchmark: crmine vs its peers on the same data, in one run.

* Key drivers (exact Shapley / general dominance): crmine vs a brute force over all 2^p subsets
  with scikit-learn LinearRegression R^2 (what dominance-analysis packages do), and vs a numpy
  brute force that solves each subset's normal equations from the correlation matrix.
* Relative weights: crmine vs the relativeImp package (PyPI).
* NPS with Wald intervals per segment: crmine vs a pandas groupby with the same formula.
* 7P spend trend (least-squares slope of monthly spend per customer): crmine vs pandas (groupby
  per customer and month, then the slope from the same sums).

Every pair is checked to agree before its times are printed.

    python bench/python/bench_satisfaction.py
    python bench/python/bench_satisfaction.py --rows 5000 --attributes 8 10 12 --nps-rows 10000000
"""

from __future__ import annotations

import argparse
import itertools
import math
import os
import time

import numpy as np
import pandas as pd


def timed(fn, repeat: int = 1):
    best, out = math.inf, None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return best, out


def survey(rows: int, p: int, seed: int) -> pd.DataFrame:
    """Ratings 1..5 of p halo-correlated attributes and a 1..10 overall score with planted weights
    (make_survey's model, without its 12-attribute cap)."""
    rng = np.random.default_rng(seed)
    latent = np.sqrt(0.4) * rng.standard_normal((rows, 1)) + np.sqrt(0.6) * rng.standard_normal((rows, p))
    overall = latent @ (0.05 + 0.4 * (p - np.arange(p)) / p) + 0.8 * rng.standard_normal(rows)
    frame = pd.DataFrame(1 + np.searchsorted(np.linspace(-1.9, 1.1, 4), latent),
                         columns=[f"attr_{j:02d}" for j in range(p)])
    frame["overall"] = np.clip(np.rint(7.2 + 1.7 * (overall - overall.mean()) / overall.std()), 1, 10)
    return frame


def shapley_from_r2(r2: dict, p: int) -> np.ndarray:
    phi = np.zeros(p)
    for j in range(p):
        for mask, value in r2.items():
            if not mask >> j & 1:
                k = bin(mask).count("1")
                phi[j] += math.factorial(k) * math.factorial(p - k - 1) / math.factorial(p) * (r2[mask | 1 << j] - value)
    return phi


def sklearn_shapley(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    from sklearn.linear_model import LinearRegression

    p = X.shape[1]
    r2 = {0: 0.0}
    for mask in range(1, 1 << p):
        cols = [j for j in range(p) if mask >> j & 1]
        r2[mask] = LinearRegression().fit(X[:, cols], y).score(X[:, cols], y)
    return shapley_from_r2(r2, p)


def numpy_shapley(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    corr = np.corrcoef(np.column_stack([X, y]), rowvar=False)
    R, r = corr[:-1, :-1], corr[:-1, -1]
    p = X.shape[1]
    r2 = {0: 0.0}
    for mask in range(1, 1 << p):
        cols = [j for j in range(p) if mask >> j & 1]
        r2[mask] = float(r[cols] @ np.linalg.solve(R[np.ix_(cols, cols)], r[cols]))
    return shapley_from_r2(r2, p)


def bench_key_drivers(rows: int, sizes: list[int], sklearn_max: int) -> list[dict]:
    import crmine as cm

    out = []
    for p in sizes:
        frame = survey(rows, p, seed=p)
        attrs = [c for c in frame.columns if c.startswith("attr_")]
        X, y = frame[attrs].to_numpy(float), frame["overall"].to_numpy(float)
        t_ours, ours = timed(lambda: cm.satisfaction.key_drivers(frame, target="overall", attributes=attrs), 3)
        got = ours.table["importance"].reindex(attrs).to_numpy()
        t_np, phi_np = timed(lambda: numpy_shapley(X, y))
        np.testing.assert_allclose(got, phi_np, rtol=1e-7, atol=1e-12)
        out.append({"benchmark": f"Shapley R^2, {rows:,} rows, p={p} ({2 ** p:,} subsets)", "peer": "numpy subsets",
                    "crmine s": t_ours, "peer s": t_np, "peer / crmine": t_np / t_ours,
                    "max |diff|": float(np.abs(got - phi_np).max())})
        if p <= sklearn_max:
            t_sk, phi_sk = timed(lambda: sklearn_shapley(X, y))
            np.testing.assert_allclose(got, phi_sk, rtol=1e-7, atol=1e-12)
            out.append({"benchmark": f"Shapley R^2, {rows:,} rows, p={p} ({2 ** p:,} subsets)",
                        "peer": "sklearn LinearRegression subsets", "crmine s": t_ours, "peer s": t_sk,
                        "peer / crmine": t_sk / t_ours, "max |diff|": float(np.abs(got - phi_sk).max())})
        print(f"  key drivers p={p}: crmine {t_ours * 1e3:.1f} ms", flush=True)
    return out


def bench_relative_weights(rows: int, p: int) -> list[dict]:
    import crmine as cm
    from relativeImp import relativeImp

    frame = survey(rows, p, seed=99)
    attrs = [c for c in frame.columns if c.startswith("attr_")]
    t_ours, ours = timed(lambda: cm.satisfaction.key_drivers(frame, target="overall", attributes=attrs,
                                                             method="relative_weights"), 3)
    t_ri, theirs = timed(lambda: relativeImp(frame, outcomeName="overall", driverNames=list(attrs)), 3)
    diff = np.abs(ours.table["relative_weight"].reindex(attrs).to_numpy() -
                  theirs.set_index("driver")["rawRelaImpt"].reindex(attrs).to_numpy()).max()
    assert diff < 1e-8, diff
    return [{"benchmark": f"relative weights, {rows:,} rows, p={p}", "peer": "relativeImp 0.0.2",
             "crmine s": t_ours, "peer s": t_ri, "peer / crmine": t_ri / t_ours, "max |diff|": float(diff)}]


def bench_nps(rows: int, groups: int) -> list[dict]:
    import crmine as cm

    rng = np.random.default_rng(0)
    scores = rng.integers(0, 11, size=rows)
    segment = rng.integers(0, groups, size=rows)

    def pandas_nps():
        frame = pd.DataFrame({"s": scores, "g": segment})
        counts = frame.assign(pro=frame["s"] >= 9, det=frame["s"] <= 6).groupby("g").agg(
            n=("s", "size"), pro=("pro", "sum"), det=("det", "sum"))
        p, d = counts["pro"] / counts["n"], counts["det"] / counts["n"]
        se = np.sqrt((p + d - (p - d) ** 2) / counts["n"])
        return pd.DataFrame({"nps": 100 * (p - d), "lower": 100 * (p - d - 1.959963984540054 * se),
                             "upper": 100 * (p - d + 1.959963984540054 * se)})

    t_ours, ours = timed(lambda: cm.satisfaction.nps(scores, by=segment, interval="wald"), 3)
    t_pd, theirs = timed(pandas_nps, 3)
    diff = float(np.abs(ours[["nps", "lower", "upper"]].to_numpy() - theirs.to_numpy()).max())
    assert diff < 1e-9, diff
    return [{"benchmark": f"NPS + Wald CI, {rows:,} responses, {groups} segments", "peer": "pandas groupby",
             "crmine s": t_ours, "peer s": t_pd, "peer / crmine": t_pd / t_ours, "max |diff|": diff}]


def bench_spend_trend(rows: int) -> list[dict]:
    import crmine as cm

    rng = np.random.default_rng(1)
    customers = max(1, rows // 20)
    log = pd.DataFrame({"customer_id": rng.integers(0, customers, rows),
                        "date": pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 730, rows), unit="D"),
                        "amount": rng.gamma(2.0, 30.0, rows)})

    def pandas_trend():
        month = log["date"].dt.year * 12 + log["date"].dt.month - 1
        spend = log.assign(month=month).groupby(["customer_id", "month"])["amount"].sum().reset_index()
        first = spend.groupby("customer_id")["month"].transform("min")
        u = spend["month"] - first
        sums = spend.assign(us=u * spend["amount"]).groupby("customer_id").agg(
            s=("amount", "sum"), us=("us", "sum"), first=("month", "min"))
        m = (month.max() - sums["first"] + 1).astype(float)
        return (sums["us"] - (m - 1) / 2 * sums["s"]) / (m * (m * m - 1) / 12)

    t_ours, ours = timed(lambda: cm.profile.spend_trend(log), 3)
    t_pd, theirs = timed(pandas_trend, 3)
    a, b = ours["slope"].to_numpy(), theirs.reindex(ours.index).to_numpy()
    diff = float(np.nanmax(np.abs(a - b)))
    assert diff < 1e-6, diff
    return [{"benchmark": f"spend trend, {rows:,} rows, {customers:,} customers", "peer": "pandas groupby",
             "crmine s": t_ours, "peer s": t_pd, "peer / crmine": t_pd / t_ours, "max |diff|": diff}]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=5000, help="survey responses for key drivers")
    parser.add_argument("--attributes", type=int, nargs="+", default=[6, 8, 10, 12, 14, 16])
    parser.add_argument("--sklearn-max", type=int, default=10, help="largest p for the sklearn brute force")
    parser.add_argument("--rw-rows", type=int, default=100_000)
    parser.add_argument("--nps-rows", type=float, default=1e6)
    parser.add_argument("--trend-rows", type=float, default=1e6)
    args = parser.parse_args()
    print(f"load average {os.getloadavg()}, {os.cpu_count()} cores", flush=True)
    rows = bench_key_drivers(args.rows, args.attributes, args.sklearn_max)
    rows += bench_relative_weights(args.rw_rows, 12)
    rows += bench_nps(int(args.nps_rows), 20)
    rows += bench_spend_trend(int(args.trend_rows))
    table = pd.DataFrame(rows)
    with pd.option_context("display.width", 200, "display.max_columns", 10):
        print(table.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    print(f"load average {os.getloadavg()}", flush=True)


if __name__ == "__main__":
    main()
