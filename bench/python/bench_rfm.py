# SPDX-License-Identifier: Apache-2.0
"""Side-by-side RFM benchmark: crmine vs pandas vs polars on the same synthetic log.

Each tool runs in its own process on the same columns (loaded from .npy files), so peak memory
is measured cleanly (ru_maxrss minus the resident size after loading the input). Results are
checked to agree before any time is printed.

    python bench/python/bench_rfm.py --rows 1e6 1e7 1e8
    python bench/python/bench_rfm.py --rows 1e7 --sparse-ids
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

Q = 5


def make_log(rows: int, seed: int, directory: Path, sparse_ids: bool = False) -> None:
    """Rows in time order over two years; customers (5% of rows) in random order.

    With ``sparse_ids`` the customer numbers are spread a million apart (as keys drawn from a wide
    range are), which rules out a direct table and takes crmine's hashed path."""
    rng = np.random.default_rng(seed)
    customers = max(1, rows // 20)
    ids = rng.integers(0, customers, rows, dtype=np.int64)
    if sparse_ids:
        ids = ids * 1_000_003 + 7
    np.save(directory / "customer.npy", ids)
    np.save(directory / "day.npy", 19000 + (np.arange(rows, dtype=np.int64) * 730) // rows)
    np.save(directory / "amount.npy", np.round(rng.gamma(2.0, 25.0, rows), 2))


def scores(values: np.ndarray, higher_is_better: bool) -> np.ndarray:
    """1 + floor(q w / n), w = strictly worse values (the documented crmine definition)."""
    oriented = values if higher_is_better else -values
    s = np.sort(oriented)
    worse = np.searchsorted(s, oriented, side="left")
    return 1 + (Q * worse) // len(values)


def run_pandas(customer, day, amount):
    import pandas as pd

    frame = pd.DataFrame({"customer": customer, "day": day, "amount": amount}, copy=False)
    g = frame.groupby("customer", sort=True)
    out = pd.DataFrame({"last": g["day"].max(), "frequency": g["day"].nunique(), "revenue": g["amount"].sum()})
    as_of = int(day.max()) + 1
    recency = as_of - out["last"].to_numpy()
    monetary = out["revenue"].to_numpy() / out["frequency"].to_numpy()
    r = (1 + np.floor(Q * (pd.Series(-recency).rank(method="min") - 1) / len(out))).to_numpy()
    f = (1 + np.floor(Q * (out["frequency"].rank(method="min") - 1) / len(out))).to_numpy()
    m = (1 + np.floor(Q * (pd.Series(monetary).rank(method="min") - 1) / len(out))).to_numpy()
    return out.index.to_numpy(), recency, out["frequency"].to_numpy(), monetary, r, f, m


def run_polars(customer, day, amount):
    import polars as pl

    frame = pl.DataFrame({"customer": customer, "day": day, "amount": amount})
    as_of = int(day.max()) + 1
    out = (frame.group_by("customer")
           .agg(pl.col("day").max().alias("last"), pl.col("day").n_unique().alias("frequency"),
                pl.col("amount").sum().alias("revenue"))
           .sort("customer")
           .with_columns((as_of - pl.col("last")).alias("recency"),
                         (pl.col("revenue") / pl.col("frequency")).alias("monetary")))
    n = out.height
    out = out.with_columns(
        (1 + (Q * ((-pl.col("recency")).rank("min") - 1) / n).floor()).alias("r"),
        (1 + (Q * (pl.col("frequency").rank("min") - 1) / n).floor()).alias("f"),
        (1 + (Q * (pl.col("monetary").rank("min") - 1) / n).floor()).alias("m"))
    return tuple(out[c].to_numpy() for c in ("customer", "recency", "frequency", "monetary", "r", "f", "m"))


def run_crmine(customer, day, amount):
    import crmine as cm

    table = cm.value.rfm(cm.TransactionLog(customer, day, amount, time_unit="D"), segment_map=None)
    return (table.index.to_numpy(), table["recency"].to_numpy(), table["frequency"].to_numpy(),
            table["monetary"].to_numpy(), table["r_score"].to_numpy(), table["f_score"].to_numpy(),
            table["m_score"].to_numpy())


def child(tool: str, directory: Path, result: Path) -> None:
    customer = np.load(directory / "customer.npy")
    day = np.load(directory / "day.npy")
    amount = np.load(directory / "amount.npy")
    __import__({"pandas": "pandas", "polars": "polars", "crmine": "crmine"}[tool])  # imports are not timed
    base_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    fn = {"pandas": run_pandas, "polars": run_polars, "crmine": run_crmine}[tool]
    start = time.perf_counter()
    out = fn(customer, day, amount)
    seconds = time.perf_counter() - start
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    np.savez(result, *[np.asarray(a) for a in out])
    input_bytes = customer.nbytes + day.nbytes + amount.nbytes
    json.dump({"seconds": seconds, "extra_peak_bytes": (peak_kib - base_kib) * 1024, "input_bytes": input_bytes},
              open(str(result) + ".json", "w"))


def compare(reference: Path, other: Path, tool: str) -> None:
    a, b = np.load(reference), np.load(other)
    names = ["customer", "recency", "frequency", "monetary", "r", "f", "m"]
    for i, name in enumerate(names):
        x, y = a[f"arr_{i}"], b[f"arr_{i}"]
        if name == "monetary":
            ok = np.allclose(x, y, rtol=1e-9)
        elif name == "m":
            # Monetary sums may differ in the last bit between tools (pandas and polars use
            # compensated or pairwise sums), which can move a tie across a score boundary.
            ok = np.mean(x.astype(int) != y.astype(int)) < 1e-4
        else:
            ok = np.array_equal(x.astype(np.int64), y.astype(np.int64))
        if not ok:
            raise SystemExit(f"{tool} disagrees with crmine on {name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=float, nargs="+", default=[1e6, 1e7])
    parser.add_argument("--tools", nargs="+", default=["crmine", "polars", "pandas"])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--sparse-ids", action="store_true", help="customer ids spread a million apart")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]), Path(args.child[2]))
        return
    print(f"# machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"python {platform.python_version()}")
    print(f"{'rows':>12} {'tool':>8} {'seconds':>9} {'vs crmine':>10} {'extra peak MiB':>15} {'peak/input':>10}")
    for rows in (int(r) for r in args.rows):
        with tempfile.TemporaryDirectory(dir=os.environ.get("CRMINE_BENCH_TMP")) as tmp:
            d = Path(tmp)
            make_log(rows, args.seed, d, args.sparse_ids)
            timings = {}
            for tool in args.tools:
                result = d / f"{tool}.npz"
                subprocess.run([sys.executable, __file__, "--child", tool, str(d), str(result)], check=True)
                timings[tool] = json.load(open(str(result) + ".json"))
                if tool != "crmine" and "crmine" in args.tools:
                    compare(d / "crmine.npz", result, tool)
            base = timings.get("crmine", {}).get("seconds")
            for tool, t in timings.items():
                ratio = f"{t['seconds'] / base:9.1f}x" if base else ""
                print(f"{rows:>12,} {tool:>8} {t['seconds']:9.3f} {ratio:>10} {t['extra_peak_bytes'] / 2**20:15.0f} "
                      f"{(t['input_bytes'] + t['extra_peak_bytes']) / t['input_bytes']:10.2f}", flush=True)


if __name__ == "__main__":
    main()
