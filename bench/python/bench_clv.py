# SPDX-License-Identifier: Apache-2.0
"""crmine.clv vs lifetimes, side by side: fits and scoring on CDNOW and on synthetic BG/NBD data.

Run:  python bench/python/bench_clv.py [--n 1000000] [--repeat 3] [--skip-lifetimes-large]
Prints a markdown table with times and the lifetimes/crmine ratio. The synthetic customers are
drawn from a BG/NBD with known parameters (r=0.25, alpha=4, a=0.8, b=2.5) in weekly units with
day-resolution times, and the recovered parameters are printed next to the truth.
"""

from __future__ import annotations

import argparse
import os
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import crmine as cm

DATA = Path(os.environ.get("CRMINE_SHARED_DATA", Path(__file__).resolve().parents[2].parent / "shared" / "data"))
TRUTH = {"r": 0.25, "alpha": 4.0, "a": 0.8, "b": 2.5}


def simulate(n: int, seed: int = 2024) -> pd.DataFrame:
    """n customers from BG/NBD: x = min(Poisson(lambda T), Geometric(p)); t_x is the x-th of the
    Poisson arrivals, an order statistic of uniforms; times rounded to days, expressed in weeks."""
    rng = np.random.default_rng(seed)
    lam = rng.gamma(TRUTH["r"], 1.0 / TRUTH["alpha"], n)
    p = rng.beta(TRUTH["a"], TRUTH["b"], n)
    T_days = rng.integers(140, 281, n)
    T = T_days / 7.0
    arrivals = rng.poisson(lam * T)
    dies_after = rng.geometric(p)
    x = np.minimum(arrivals, dies_after)
    pos = x > 0
    frac = np.zeros(n)
    frac[pos] = rng.beta(x[pos], arrivals[pos] - x[pos] + 1)
    tx_days = np.where(pos, np.maximum(1, np.floor(frac * T_days)), 0)
    return pd.DataFrame({"frequency": x.astype(float), "recency": tx_days / 7.0, "T": T})


def timed(fn, repeat: int) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return best, out


def row(task: str, ours: float, theirs: float | None) -> str:
    if theirs is None:
        return f"| {task} | {ours * 1e3:,.1f} | n/a | n/a |"
    return f"| {task} | {ours * 1e3:,.1f} | {theirs * 1e3:,.1f} | {theirs / ours:,.0f}x |"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--skip-lifetimes-large", action="store_true")
    args = ap.parse_args()

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import lifetimes
    except ImportError:  # pragma: no cover
        lifetimes = None

    cd = pd.read_csv(DATA / "cdnow" / "cdnow_customers_summary.csv")
    sp = pd.read_csv(DATA / "cdnow" / "cdnow_customers_summary_with_transactions.csv")
    sp = sp[sp["x"] > 0]
    x, tx, T = cd["frequency"], cd["recency"], cd["T"]
    lines = ["| task | crmine (ms) | lifetimes (ms) | ratio |", "|---|---:|---:|---:|"]

    def lt_time(fn, repeat=args.repeat):
        if lifetimes is None:
            return None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return timed(fn, repeat)[0]

    for name, ours_cls, theirs_name in [("BG/NBD", cm.clv.BetaGeo, "BetaGeoFitter"),
                                        ("MBG/NBD", cm.clv.ModifiedBetaGeo, "ModifiedBetaGeoFitter"),
                                        ("Pareto/NBD", cm.clv.ParetoNBD, "ParetoNBDFitter")]:
        t_ours, model = timed(lambda: ours_cls().fit(x, tx, T), args.repeat)
        t_theirs = lt_time(lambda: getattr(lifetimes, theirs_name)().fit(x, tx, T), 1)
        lines.append(row(f"CDNOW {name} fit (n=2,357)", t_ours, t_theirs))
        print(name, {k: round(v, 4) for k, v in model.params_.items()}, "LL", round(model.log_likelihood_, 2))
    t_ours, gg = timed(lambda: cm.clv.GammaGamma().fit(sp["x"], sp["zbar"]), args.repeat)
    t_theirs = lt_time(lambda: lifetimes.GammaGammaFitter().fit(sp["x"], sp["zbar"]), 1)
    lines.append(row("CDNOW Gamma-Gamma fit (n=946)", t_ours, t_theirs))

    bg = cm.clv.BetaGeo().fit(x, tx, T)
    ref = None
    if lifetimes is not None:
        ref = lifetimes.BetaGeoFitter()
        ref.params_ = pd.Series(bg.params_)
    t_ours = timed(lambda: bg.conditional_probability_alive(x, tx, T), args.repeat)[0]
    t_theirs = lt_time(lambda: ref.conditional_probability_alive(x, tx, T))
    lines.append(row("CDNOW BG/NBD P(alive)", t_ours, t_theirs))
    t_ours = timed(lambda: bg.conditional_expected_number_of_purchases_up_to_time(52, x, tx, T), args.repeat)[0]
    t_theirs = lt_time(lambda: ref.conditional_expected_number_of_purchases_up_to_time(52, x, tx, T))
    lines.append(row("CDNOW BG/NBD expected purchases (52 weeks)", t_ours, t_theirs))

    big = simulate(args.n)
    bx, btx, bT = big["frequency"].to_numpy(), big["recency"].to_numpy(), big["T"].to_numpy()
    t_ours, big_model = timed(lambda: cm.clv.BetaGeo().fit(bx, btx, bT), args.repeat)
    print(f"synthetic n={args.n:,}: truth {TRUTH}")
    print("  crmine  ", {k: round(v, 4) for k, v in big_model.params_.items()},
          "se", {k: round(v, 4) for k, v in big_model.standard_errors_.items()},
          "rows after collapsing", big_model.fit_report_.n_rows)
    t_theirs = None
    if lifetimes is not None and not args.skip_lifetimes_large:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t_theirs, lt_model = timed(lambda: lifetimes.BetaGeoFitter().fit(bx, btx, bT), 1)
        print("  lifetimes", {k: round(float(v), 4) for k, v in lt_model.params_.items()})
    lines.append(row(f"synthetic BG/NBD fit (n={args.n:,})", t_ours, t_theirs))

    gg_spend = np.full(args.n, 35.0)

    def score_ours():
        a = big_model.conditional_probability_alive(bx, btx, bT)
        e = big_model.conditional_expected_number_of_purchases_up_to_time(52, bx, btx, bT)
        v = gg.customer_lifetime_value(big_model, bx, btx, bT, np.where(bx > 0, gg_spend, 0.0), time=12, freq="W")
        return a, e, v

    t_ours = timed(score_ours, args.repeat)[0]
    t_theirs = None
    if lifetimes is not None and not args.skip_lifetimes_large:
        ref_big = lifetimes.BetaGeoFitter()
        ref_big.params_ = pd.Series(big_model.params_)
        ref_big.predict = ref_big.conditional_expected_number_of_purchases_up_to_time
        ref_gg = lifetimes.GammaGammaFitter()
        ref_gg.params_ = pd.Series({"p": gg.params_["p"], "q": gg.params_["q"], "v": gg.params_["gamma"]})

        def score_theirs():
            a = ref_big.conditional_probability_alive(bx, btx, bT)
            e = ref_big.conditional_expected_number_of_purchases_up_to_time(52, bx, btx, bT)
            v = ref_gg.customer_lifetime_value(ref_big, pd.Series(bx), pd.Series(btx), pd.Series(bT),
                                               pd.Series(np.where(bx > 0, gg_spend, 0.0)), time=12, freq="W")
            return a, e, v

        t_theirs = lt_time(score_theirs, 1)
    lines.append(row(f"synthetic scoring: P(alive) + expected purchases + 12-month CLV (n={args.n:,})",
                     t_ours, t_theirs))
    print()
    print("\n".join(lines))


if __name__ == "__main__":
    main()
