# SPDX-License-Identifier: Apache-2.0
"""Side-by-side frequent-itemset mining: crmine vs pyfim (Borgelt's C FP-Growth), mlxtend and
efficient-apriori on FIMI retail.dat and Groceries at several min supports.

Each (library, data set, min support) runs in a fresh subprocess so that peak memory (ru_maxrss
of the child, minus the same child's memory after loading the data) is attributable. Every run
returns Python objects (itemsets with supports), as users get them. Run:

    python bench/python/bench_rules.py [--repeat 3] [--quick]
"""

from __future__ import annotations

import argparse
import json
import lzma
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
TIMEOUT = 150
MLXTEND_MAX_CELLS = 2e8  # dense one-hot beyond this is skipped (retail: 88,162 x 16,470 = 1.45e9 cells)


def load(name: str) -> list[list]:
    if name == "retail":
        path = DATA / "retail_fimi" / "retail.dat"
        opener = open(path) if path.exists() else lzma.open(path.with_suffix(".dat.xz"), "rt")
        with opener as f:
            return [[int(x) for x in line.split()] for line in f]
    with open(DATA / "groceries" / "groceries.csv") as f:
        return [line.rstrip("\n").split(",") for line in f]


def run_one(library: str, dataset: str, min_support: float, repeat: int) -> dict:
    baskets = load(dataset)
    # Imports are not timed or counted: only the mining call and its result.
    if library == "crmine":
        import crmine as cm
    elif library == "pyfim":
        import fim
    elif library == "mlxtend":
        import pandas as pd
        from mlxtend.frequent_patterns import fpgrowth
        from mlxtend.preprocessing import TransactionEncoder
    else:
        from efficient_apriori import apriori
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    n = len(baskets)
    times = []
    count = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        if library == "crmine":
            result = cm.rules.frequent_itemsets(baskets, min_support=min_support)
            count = len(result)
        elif library == "pyfim":
            result = fim.fpgrowth(baskets, supp=-int(-(-min_support * n // 1)), zmin=1, report="a")
            count = len(result)
        elif library == "mlxtend":
            enc = TransactionEncoder()
            n_items = len({i for b in baskets for i in b})
            if n * n_items > MLXTEND_MAX_CELLS:
                return {"skipped": f"dense one-hot of {n:,} x {n_items:,} cells"}
            onehot = pd.DataFrame(enc.fit(baskets).transform(baskets), columns=enc.columns_)
            result = fpgrowth(onehot, min_support=min_support, use_colnames=True)
            count = len(result)
        elif library == "efficient-apriori":
            itemsets, _ = apriori([tuple(b) for b in baskets], min_support=min_support, min_confidence=1.0)
            count = sum(len(v) for v in itemsets.values())
        times.append(time.perf_counter() - t0)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"seconds": min(times), "itemsets": count, "peak_mib": max(peak - base, 0) / 1024}


def child(library: str, dataset: str, min_support: float, repeat: int) -> dict:
    cmd = [sys.executable, __file__, "--child", library, dataset, str(min_support), str(repeat)]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        return {"skipped": f"over {TIMEOUT} s"}
    if out.returncode != 0:
        return {"skipped": (out.stderr.strip().splitlines() or ["failed"])[-1][:80]}
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", nargs=4)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.child:
        library, dataset, min_support, repeat = args.child
        print(json.dumps(run_one(library, dataset, float(min_support), int(repeat))))
        return
    plan = {"groceries": [0.01, 0.005, 0.002, 0.001, 0.0005], "retail": [0.01, 0.005, 0.001, 0.0005, 0.0002]}
    if args.quick:
        plan = {"groceries": [0.005], "retail": [0.005]}
    libraries = ["crmine", "pyfim", "mlxtend", "efficient-apriori"]
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "?")
    print(f"# {platform.python_version()}, {os.cpu_count()} cores, {cpu}; best of {args.repeat}\n")
    print("| data | min support | itemsets | crmine s | pyfim s | mlxtend s | efficient-apriori s "
          "| pyfim / crmine | mlxtend / crmine | crmine MiB | pyfim MiB |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for dataset, supports in plan.items():
        for s in supports:
            r = {lib: child(lib, dataset, s, args.repeat) for lib in libraries}
            counts = {r[lib]["itemsets"] for lib in libraries if "itemsets" in r[lib]}
            assert len(counts) == 1, (dataset, s, r)  # every library finds the same number
            sec = lambda lib: f"{r[lib]['seconds']:.3f}" if "seconds" in r[lib] else r[lib]["skipped"]  # noqa: E731
            ratio = lambda lib: (f"{r[lib]['seconds'] / r['crmine']['seconds']:.2f}x"  # noqa: E731
                                 if "seconds" in r[lib] else "-")
            mem = lambda lib: f"{r[lib]['peak_mib']:.1f}" if "peak_mib" in r[lib] else "-"  # noqa: E731
            print(f"| {dataset} | {s} | {counts.pop():,} | {sec('crmine')} | {sec('pyfim')} | {sec('mlxtend')} | "
                  f"{sec('efficient-apriori')} | {ratio('pyfim')} | {ratio('mlxtend')} | {mem('crmine')} | "
                  f"{mem('pyfim')} |", flush=True)


if __name__ == "__main__":
    main()
