# SPDX-License-Identifier: Apache-2.0
"""Side-by-side benchmark of the per-customer history baselines: crmine vs a pandas groupby computation.

Both compute, for every customer, spend and returns per period over the last ``window`` periods
(mean, shrunk spread, current value), spend per purchase day (basket) and the usual gap between
purchase days against the days since the last one: the definitions of
``crmine.deviation.history_deviations``. They run one after the other in the same process on the
same columns; the results are checked to agree before any time is printed.

    python bench/python/bench_deviation_history.py --rows 1e6 1e7
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np
import pandas as pd

PERIOD, WINDOW, WEIGHT, CV = 30, 12, 2.0, 1.0


def make_log(rows: int, seed: int) -> dict[str, np.ndarray]:
    """Rows in time order over two years; customers (5% of rows) in random order; 3% returns."""
    rng = np.random.default_rng(seed)
    customers = max(1, rows // 20)
    amount = np.round(rng.gamma(2.0, 25.0, rows), 2)
    amount[rng.random(rows) < 0.03] *= -1.0
    return {"customer": rng.integers(0, customers, rows, dtype=np.int64),
            "day": 19000 + (np.arange(rows, dtype=np.int64) * 730) // rows, "amount": amount}


def shrunk(n, var, mean, population):
    """The spread shrunk towards CV x the mean, itself shrunk towards the population mean."""
    prior = CV * (n * mean + WEIGHT * population) / (n + WEIGHT)
    return np.sqrt(((n - 1) * var + WEIGHT * prior ** 2) / (n - 1 + WEIGHT))


def run_pandas(customer: np.ndarray, day: np.ndarray, amount: np.ndarray) -> pd.DataFrame:
    as_of = int(day.max()) + 1
    frame = pd.DataFrame({"c": customer, "d": day, "a": amount, "k": (as_of - 1 - day) // PERIOD}, copy=False)
    buy = frame[frame["a"] >= 0]
    n = buy.groupby("c")["k"].max().clip(upper=WINDOW)
    recent = frame[frame["k"] <= WINDOW]
    spent = recent["a"].clip(lower=0.0)
    returned = (-recent["a"]).clip(lower=0.0)
    per = pd.DataFrame({"c": recent["c"], "k": recent["k"], "s": spent, "r": returned}).groupby(["c", "k"]).sum()
    base = per[per.index.get_level_values("k") >= 1].reset_index()
    base = base[base["k"] <= n.reindex(base["c"]).to_numpy()]
    g = base.groupby("c")
    nn = n.to_numpy()
    s_sum, s_sq = g["s"].sum().reindex(n.index, fill_value=0.0), (base["s"] ** 2).groupby(base["c"]).sum().reindex(n.index, fill_value=0.0)
    out = pd.DataFrame(index=n.index)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["spend_mean"] = np.where(nn > 0, s_sum / nn, np.nan)
        var = np.where(nn > 1, (s_sq - s_sum ** 2 / nn) / (nn - 1), 0.0)
        out["spend_spread"] = np.where(nn > 0, shrunk(nn, np.maximum(var, 0.0), out["spend_mean"], s_sum.sum() / nn.sum()), np.nan)
        out["returns_mean"] = np.where(nn > 0, g["r"].sum().reindex(n.index, fill_value=0.0) / nn, np.nan)
    current = per.xs(0, level="k") if 0 in per.index.get_level_values("k") else per.iloc[:0]
    out["spend_current"] = current["s"].reindex(n.index, fill_value=0.0)
    # Purchase occasions are days with purchases; gaps over the whole history.
    occ = buy.groupby(["c", "d"], sort=True)["a"].sum().reset_index()
    occ["k"] = (as_of - 1 - occ["d"]) // PERIOD
    gap = occ.groupby("c")["d"].diff()
    gg = gap.groupby(occ["c"])
    out["gap_mean"] = gg.mean()
    out["gap_spread"] = shrunk(gg.count(), gg.var(ddof=1).fillna(0.0), out["gap_mean"], gap.mean())
    out["gap_current"] = as_of - occ.groupby("c")["d"].max()
    b = occ[(occ["k"] >= 1) & (occ["k"] <= WINDOW)].groupby("c")["a"]
    out["basket_mean"] = b.mean()
    out["basket_spread"] = shrunk(b.count(), b.var(ddof=1).fillna(0.0), out["basket_mean"], b.sum().sum() / b.count().sum())
    out["basket_current"] = occ[occ["k"] == 0].groupby("c")["a"].mean()
    return out


def run_crmine(customer: np.ndarray, day: np.ndarray, amount: np.ndarray) -> pd.DataFrame:
    import crmine as cm

    log = cm.TransactionLog(customer, day, amount, time_unit="D")
    return cm.deviation.history_deviations(log, period=PERIOD, window=WINDOW, prior_weight=WEIGHT, prior_cv=CV)


def check_agree(ours: pd.DataFrame, ref: pd.DataFrame) -> None:
    ours = ours.reindex(ref.index)
    if len(ours) != len(ref) or ours.index.hasnans:
        raise SystemExit("pandas and crmine disagree on the customers")
    for col in ref.columns:
        if not np.allclose(ours[col].to_numpy(float), ref[col].to_numpy(float), rtol=1e-7, atol=1e-7, equal_nan=True):
            raise SystemExit(f"pandas and crmine disagree on {col}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=float, nargs="+", default=[1e6])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--pandas-max-rows", type=float, default=2e7,
                        help="run pandas only up to this many rows (its memory grows far faster than crmine's)")
    args = parser.parse_args()
    import crmine  # noqa: F401  (imports are not timed)
    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")
    print(f"{'rows':>12} {'customers':>10} {'pandas s':>9} {'crmine s':>9} {'ratio':>7}")
    for rows in (int(r) for r in args.rows):
        data = make_log(rows, args.seed)
        if rows > args.pandas_max_rows:
            t1 = time.perf_counter()
            ours = run_crmine(data["customer"], data["day"], data["amount"])
            t2 = time.perf_counter()
            print(f"{rows:>12,} {len(ours):>10,} {'skipped':>9} {t2 - t1:>9.2f} {'':>7}", flush=True)
            continue
        t0 = time.perf_counter()
        ref = run_pandas(data["customer"], data["day"], data["amount"])
        t1 = time.perf_counter()
        ours = run_crmine(data["customer"], data["day"], data["amount"])
        t2 = time.perf_counter()
        check_agree(ours, ref)
        print(f"{rows:>12,} {len(ref):>10,} {t1 - t0:>9.2f} {t2 - t1:>9.2f} {(t1 - t0) / (t2 - t1):>6.1f}x", flush=True)


if __name__ == "__main__":
    main()
