# SPDX-License-Identifier: Apache-2.0
"""Side-by-side frequent-itemset mining: crmine vs pyfim (Borgelt's C FP-Growth), mlxtend and
efficient-apriori on FIMI retail.dat, Groceries and a synthetic set of 10M baskets at several
min supports.

What is timed, on each side: one call from the same input form as a user holds it, to the
result as Python objects. Groceries and retail.dat are lists of lists of labels (str / int) for
every library: crmine's `frequent_itemsets(lists)` includes coding the labels and building the
DataFrame; pyfim's `fpgrowth(lists)` includes its own recoding and its list of (tuple, count);
mlxtend's time includes `TransactionEncoder` and the one-hot DataFrame its `fpgrowth` needs, then
its DataFrame of frozensets; efficient-apriori gets the lists as tuples (its input). Imports and
the check whether mlxtend's dense table fits are not timed.

Each (library, data set, min support) runs in a fresh subprocess. Peak memory is the child's
peak RSS (VmHWM) growth over its RSS after loading the data and one untimed warm-up call of the
same library on the first 200 baskets (min support 0.1), which every library gets alike: the
one-time costs of a first call (lazy imports, module caches) are not counted on any side; the
peak is reset at that point via /proc/self/clear_refs (the first round's child gives it).

How calls are timed, the same for every library: a child calls the library again and again
until it has made at least --repeat calls (default 3) and spent at least --min-time seconds
(default 0.5) in them, at most 200 calls; each call's wall clock and CPU (process time, all
threads) are kept. A call of 5-40 ms timed only three times swung by 30-50 % between runs on a
quiet machine (pyfim's own best at Groceries 0.002 went from 9 to 13 ms), so short calls are
repeated until their best and median settle. The main table then runs --rounds rounds (default
2): in each round every library's child runs once, one after the other (crmine, crmine tuples,
pyfim, pyfim frame, mlxtend, efficient-apriori), so a change of the machine's load during a run falls on all
of them rather than on whichever library ran then; a library whose calls took over 5 s in the
first round is not run again. A cell reports the best and the median wall time over all calls
of all rounds, the ratios of both, and the lowest CPU time.

The synthetic set (seeded Zipf item popularity over 20,000 items, ~8 items per basket, a planted
group of 4 items in one basket of 4, a bundle of 24 items each taken with probability 0.75 in 2 % of
the baskets, whose subsets make tens of millions of frequent itemsets at low support) is generated
once per run, saved to a temporary folder and loaded by each cell; it is handed to crmine as CSR
arrays and to pyfim as the list of lists it needs; building either is not timed. Its results are
too large for an object per itemset (16.7M frozensets would take ~12 GB), so there crmine returns
``itemsets='codes'`` (CSR arrays, memory bounded by ``max_memory`` = 8 GiB) and pyfim its pattern
spectrum (``report='#'``: counts by size, no patterns, the least work pyfim can do); the itemset
counts are compared.

crmine is timed in two result forms: the default DataFrame of frozensets (mlxtend's shape, the
form comparable to mlxtend's) and ``itemsets='tuple'``, the same frame with tuples of labels, the
form comparable to pyfim's list of ``(tuple, count)``. pyfim is timed in two forms too: its own
list, and that list turned into the same DataFrame of frozensets with fractional support and count ("pyfim
frame": what a user switching from mlxtend to pyfim has to add), so that each crmine form has a
peer doing the same work. A second table times the item constraint
("who buys what with product P"): ``frequent_itemsets(..., contains=[P])`` against crmine's full
mining + filter and pyfim's full mining + filter (pyfim has no "holds one of these items"
constraint), and ``mine_rules(..., consequent_items=[P])`` against ``association_rules(
frequent_itemsets(...), consequent_items=[P])``.

Every cell has a wall-clock limit (--timeout, default 150 s; --synthetic-timeout, default 1800 s
for the synthetic set); a cell over it reads "over N s". --skip-known-slow reports the cells that
were over the limit in every earlier run (KNOWN_OVER_LIMIT) as "not run" without running them.
Run:

    python bench/python/bench_rules.py [--repeat 3] [--min-time 0.5] [--rounds 2] [--quick]
                                       [--synthetic N] [--only DATA] [--supports S ...]
                                       [--no-constrained] [--constrained-only] [--timeout S]
                                       [--synthetic-timeout S] [--skip-known-slow]
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
import tempfile
import time
from pathlib import Path

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
TIMEOUT = 150
SYNTHETIC_TIMEOUT = 1800
SYNTHETIC_FOLDER = "CRMINE_BENCH_SYNTHETIC"  # environment variable: folder of the generated set
MLXTEND_MAX_CELLS = 2e8  # dense one-hot beyond this is skipped (retail: 88,162 x 16,470 = 1.45e9 cells)


def synthetic(n: int, seed: int = 6) -> tuple:
    """CSR (indptr, indices) of n baskets, items ascending and distinct within each basket."""
    import numpy as np

    rng = np.random.default_rng(seed)
    n_items, n_groups = 20_000, 50
    sizes = rng.geometric(1 / 8, n)
    popularity = 1.0 / (np.arange(n_items) + 10.0)
    cdf = np.cumsum(popularity / popularity.sum())
    base = np.minimum(np.searchsorted(cdf, rng.random(int(sizes.sum()))), n_items - 1)
    owner = np.repeat(np.arange(n, dtype=np.int64), sizes)
    planted = np.flatnonzero(rng.random(n) < 0.25)
    group = rng.integers(0, n_groups, planted.size)
    extra = ((group[:, None] * 37 + np.arange(4) * 11) % n_items).ravel()
    # A large bundle (24 items, each taken with probability 0.75) in 2 % of the baskets: its
    # k-subsets have support about 0.02 * 0.75^k, so all of its ~16.7M subsets up to 16 items are
    # frequent at 0.0002 (tens of millions of itemsets), about 4M at 0.001 and a few hundred at 0.01.
    bundle = 5000 + 97 * np.arange(24)
    holders = np.flatnonzero(rng.random(n) < 0.02)
    take = rng.random((holders.size, bundle.size)) < 0.75
    owner = np.concatenate([owner, np.repeat(planted, 4), np.repeat(holders, take.sum(axis=1))])
    key = np.sort(owner * n_items + np.concatenate([base, extra, np.broadcast_to(bundle, take.shape)[take]]))
    key = key[np.concatenate([[True], key[1:] != key[:-1]])]  # duplicates once (np.unique is slow)
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(key // n_items, minlength=n), out=indptr[1:])
    return indptr, (key % n_items).astype(np.int32)


def load(name: str):
    if name.startswith("synthetic"):
        folder = os.environ.get(SYNTHETIC_FOLDER)
        if folder and (Path(folder) / f"{name}.indptr.npy").exists():
            import numpy as np
            return np.load(Path(folder) / f"{name}.indptr.npy"), np.load(Path(folder) / f"{name}.indices.npy")
        return synthetic(int(name[len("synthetic"):]))
    if name == "retail":
        path = DATA / "retail_fimi" / "retail.dat"
        opener = open(path) if path.exists() else lzma.open(path.with_suffix(".dat.xz"), "rt")
        with opener as f:
            return [[int(x) for x in line.split()] for line in f]
    with open(DATA / "groceries" / "groceries.csv") as f:
        return [line.rstrip("\n").split(",") for line in f]


def _status_kib(field: str) -> int | None:
    try:
        with open("/proc/self/status") as f:
            return next(int(line.split()[1]) for line in f if line.startswith(field + ":"))
    except (OSError, StopIteration):
        return None


def _reset_peak_kib() -> int:
    """Resets the peak RSS to the current RSS where Linux allows it (so transient memory of
    building the input, e.g. the synthetic set's sort, is not counted) and returns the baseline."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        rss = _status_kib("VmRSS")
        if rss is not None:
            return rss
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _peak_kib() -> int:
    return _status_kib("VmHWM") or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


# The item P of the constraint table, per data set: the most frequent item (its conditional
# database is the largest, the hardest case) and one of middling frequency.
CONSTRAINT_ITEMS = {"groceries": ["whole milk", "canned beer"], "retail": [39, 41]}
RULE_CONFIDENCE = 0.1


def run_constrained(library: str, baskets: list, n: int, min_support: float, item) -> int:
    """One timed call of the constraint table; returns the number of itemsets or rules found."""
    count = int(-(-min_support * n // 1))  # ceil(min_support * n), the basket count
    if library == "crmine-contains":
        import crmine as cm
        return len(cm.rules.frequent_itemsets(baskets, min_support=min_support, contains=[item]))
    if library == "crmine-filter":
        import crmine as cm
        frame = cm.rules.frequent_itemsets(baskets, min_support=min_support)
        return int(sum(item in s for s in frame["itemsets"]))
    if library == "pyfim-filter":
        import fim
        return sum(item in s for s, _ in fim.fpgrowth(baskets, supp=-count, zmin=1, report="a"))
    if library == "crmine-mine_rules":
        import crmine as cm
        return len(cm.rules.mine_rules(baskets, min_support, "confidence", RULE_CONFIDENCE, consequent_items=[item],
                                       max_consequent_len=1))
    if library == "crmine-rules-filter":
        import crmine as cm
        frame = cm.rules.frequent_itemsets(baskets, min_support=min_support)
        return len(cm.rules.association_rules(frame, "confidence", RULE_CONFIDENCE, consequent_items=[item],
                                              max_consequent_len=1))
    if library == "pyfim-rules-filter":
        import fim
        # pyfim's confidence is in percent; rules with one-item heads, body non-empty (zmin=2);
        # mode "o": rule support is that of body and head (by default pyfim's is the body's).
        found = fim.fpgrowth(baskets, target="r", supp=-count, conf=RULE_CONFIDENCE * 100, zmin=2, report="c", mode="o")
        return sum(head == item for head, _, _ in found)
    raise ValueError(library)


def _head(baskets, k: int = 200):
    """The first k baskets, in the same form (a warm-up input)."""
    if isinstance(baskets, tuple):
        indptr, indices = baskets
        return indptr[:k + 1], indices[:int(indptr[min(k, indptr.size - 1)])]
    return baskets[:k]


def _call(library: str, synthetic_set: bool):
    """The library's mining call as a user makes it from this input form: f(baskets, min_support)
    returns (result, itemset count). Imports happen here, outside every timed region."""
    if library.startswith("crmine"):
        import crmine as cm
        if synthetic_set:
            return lambda b, s: (lambda r: (r, len(r)))(
                cm.rules.frequent_itemsets(b, min_support=s, itemsets="codes", max_memory=8 << 30))
        form = "tuple" if library == "crmine-tuple" else "frozenset"
        return lambda b, s: (lambda r: (r, len(r)))(cm.rules.frequent_itemsets(b, min_support=s, itemsets=form))
    if library.startswith("pyfim"):
        import fim

        def count_of(b, s):  # pyfim's absolute support: the same ceil(s * n) basket count
            n = b[0].size - 1 if isinstance(b, tuple) else len(b)
            return -int(-(-s * n // 1))
        if synthetic_set:
            return lambda b, s: (lambda r: (r, int(sum(r.values()))))(
                fim.fpgrowth(b, supp=count_of(b, s), zmin=1, report="#"))
        if library == "pyfim-frame":
            import pandas as pd

            def pyfim_frame(b, s):  # what a user switching from mlxtend needs: the same frame from pyfim's list
                found, n = fim.fpgrowth(b, supp=count_of(b, s), zmin=1, report="a"), len(b)
                r = pd.DataFrame({"support": [c / n for _, c in found], "itemsets": [frozenset(t) for t, _ in found],
                                  "count": [c for _, c in found]})  # crmine's frame has the count too
                return r, len(r)
            return pyfim_frame
        return lambda b, s: (lambda r: (r, len(r)))(fim.fpgrowth(b, supp=count_of(b, s), zmin=1, report="a"))
    if library == "mlxtend":
        import pandas as pd
        from mlxtend.frequent_patterns import fpgrowth
        from mlxtend.preprocessing import TransactionEncoder

        def mlxtend(b, s):  # everything a user needs from lists: the one-hot frame, then fpgrowth
            enc = TransactionEncoder()
            onehot = pd.DataFrame(enc.fit(b).transform(b), columns=enc.columns_)
            r = fpgrowth(onehot, min_support=s, use_colnames=True)
            return r, len(r)
        return mlxtend
    from efficient_apriori import apriori

    def efficient(b, s):
        r, _ = apriori([tuple(x) for x in b], min_support=s, min_confidence=1.0)
        return r, sum(len(v) for v in r.values())
    return efficient


MAX_CALLS = 200


def timed_calls(call, repeat: int, min_time: float) -> dict:
    """Calls `call()` (returning (result, count)) until at least `repeat` calls and `min_time`
    seconds of them, at most MAX_CALLS; each result is dropped outside the timed region."""
    walls, cpus, count, spent = [], [], None, 0.0
    while len(walls) < max(repeat, 1) or (spent < min_time and len(walls) < MAX_CALLS):
        t0, c0 = time.perf_counter(), time.process_time()
        result, count = call()
        wall = time.perf_counter() - t0
        cpus.append(time.process_time() - c0)
        walls.append(wall)
        spent += wall
        del result
    return {"walls": walls, "cpus": cpus, "itemsets": count, **summary(walls, cpus)}


def summary(walls: list, cpus: list) -> dict:
    """Best and median wall time and the lowest CPU time of a list of calls."""
    ordered = sorted(walls)
    mid = len(ordered) // 2
    median = ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2
    return {"seconds": ordered[0], "median": median, "cpu": min(cpus), "calls": len(walls)}


def run_one(library: str, dataset: str, min_support: float, repeat: int, item=None, min_time: float = 0.0) -> dict:
    baskets = load(dataset)
    if item is not None:
        n = len(baskets)
        # Warm-up (not timed, not counted in memory): one call of the library on the first
        # baskets, so one-time costs of a first call (lazy imports, caches) are left out on
        # every side alike.
        _call("crmine" if library.startswith("crmine") else "pyfim", False)(_head(baskets), 0.1)
        base = _reset_peak_kib()
        timed = timed_calls(lambda: (None, run_constrained(library, baskets, n, min_support, item)), repeat, min_time)
        return {**timed, "peak_mib": max(_peak_kib() - base, 0) / 1024}
    synthetic_set = dataset.startswith("synthetic")
    if synthetic_set and library in ("crmine-tuple", "pyfim-frame"):
        return {"skipped": "codes form only (see crmine)" if library == "crmine-tuple" else "spectrum only (see pyfim)"}
    if synthetic_set and library in ("mlxtend", "efficient-apriori"):
        n, n_items = baskets[0].size - 1, int(baskets[1].max()) + 1
        if library == "mlxtend":
            return {"skipped": f"dense one-hot of {n:,} x {n_items:,} cells"}
        return {"skipped": "pure Python, over 150 s from 1M baskets"}
    if library == "mlxtend":
        n, n_items = len(baskets), len({i for b in baskets for i in b})
        if n * n_items > MLXTEND_MAX_CELLS:  # mlxtend needs the dense one-hot table
            return {"skipped": f"dense one-hot of {n:,} x {n_items:,} cells"}
    if synthetic_set and library != "crmine":
        indptr, indices = baskets
        flat, ptr = indices.tolist(), indptr.tolist()
        baskets = [flat[ptr[i]:ptr[i + 1]] for i in range(len(ptr) - 1)]
        del flat, ptr, indptr, indices
    call = _call(library, synthetic_set)
    call(_head(baskets), 0.1)  # warm-up, as above: not timed, not counted
    base = _reset_peak_kib()
    timed = timed_calls(lambda: call(baskets, min_support), repeat, min_time)
    return {**timed, "peak_mib": max(_peak_kib() - base, 0) / 1024}


# Cells that ran past the 150 s limit in every earlier run (sessions 5-7, all under load; mlxtend
# at Groceries 0.0005 took 3.8-21 s a call, its 790,072 itemsets at 0.0002 far longer): with
# --skip-known-slow they are reported as "not run" instead of waiting out the limit. (data set,
# library) -> the highest min support known to be over it (lower ones are over it too).
KNOWN_OVER_LIMIT = {("groceries", "mlxtend"): 0.0002, ("groceries", "efficient-apriori"): 0.0002,
                    ("retail", "efficient-apriori"): 0.0005}


def child(library: str, dataset: str, min_support: float, repeat: int, args: argparse.Namespace, item=None) -> dict:
    known = KNOWN_OVER_LIMIT.get((dataset, library))
    if args.skip_known_slow and item is None and known is not None and min_support <= known:
        return {"skipped": f"not run (over {args.timeout} s in earlier runs)"}
    # The synthetic set takes its own time to load (and to become lists for the peers).
    timeout = args.synthetic_timeout if dataset.startswith("synthetic") else args.timeout
    cmd = [sys.executable, __file__, "--child", library, dataset, str(min_support), str(repeat),
           "--min-time", str(getattr(args, "min_time", 0.0))]
    if item is not None:
        cmd += ["--item", json.dumps(item)]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return {"skipped": f"over {timeout} s"}
    if out.returncode != 0:
        return {"skipped": (out.stderr.strip().splitlines() or ["failed"])[-1][:80]}
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", nargs=4)
    parser.add_argument("--repeat", type=int, default=3, help="at least this many timed calls per child")
    parser.add_argument("--min-time", type=float, default=0.5,
                        help="a child calls the library until its calls took at least this many seconds")
    parser.add_argument("--rounds", type=int, default=2, help="rounds of the main table's children (interleaved)")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--synthetic", type=int, default=10_000_000, help="baskets of the synthetic set (0 = skip)")
    parser.add_argument("--only", help="run one data set: groceries, retail or synthetic")
    parser.add_argument("--item", help=argparse.SUPPRESS)
    parser.add_argument("--no-constrained", action="store_true", help="skip the constraint table")
    parser.add_argument("--constrained-only", action="store_true", help="run only the constraint table")
    parser.add_argument("--supports", type=float, nargs="+", help="run only these min supports (both tables)")
    parser.add_argument("--timeout", type=int, default=TIMEOUT, help="wall-clock limit of one cell (library, data "
                        "set, support; all repeats), Groceries and retail.dat")
    parser.add_argument("--synthetic-timeout", type=int, default=SYNTHETIC_TIMEOUT,
                        help="the same for the synthetic set")
    parser.add_argument("--skip-known-slow", action="store_true",
                        help="report the cells of KNOWN_OVER_LIMIT as 'not run' instead of running them to the limit")
    args = parser.parse_args()
    if args.child:
        library, dataset, min_support, repeat = args.child
        item = None if args.item is None else json.loads(args.item)
        print(json.dumps(run_one(library, dataset, float(min_support), int(repeat), item, args.min_time)))
        return
    plan = {"groceries": [0.01, 0.005, 0.002, 0.001, 0.0005, 0.0002],
            "retail": [0.01, 0.005, 0.001, 0.0005, 0.0002, 0.0001]}
    if args.synthetic:
        plan[f"synthetic{args.synthetic}"] = [0.01, 0.001, 0.0002]
    if args.quick:
        plan = {"groceries": [0.005], "retail": [0.005]}
    if args.only:
        plan = {k: v for k, v in plan.items() if k.startswith(args.only)}
    if args.supports:
        plan = {k: [s for s in v if s in args.supports] for k, v in plan.items()}
    synthetic_sets = [k for k, v in plan.items() if k.startswith("synthetic") and v]
    if synthetic_sets and not args.constrained_only:
        import numpy as np
        with tempfile.TemporaryDirectory(prefix="bench_rules_") as folder:
            # Generated once and loaded by every cell (a 10M-basket set takes ~10 s to generate).
            t0 = time.perf_counter()
            for name in synthetic_sets:
                indptr, indices = synthetic(int(name[len("synthetic"):]))
                np.save(Path(folder) / f"{name}.indptr.npy", indptr)
                np.save(Path(folder) / f"{name}.indices.npy", indices)
                del indptr, indices
            print(f"# synthetic set(s) generated in {time.perf_counter() - t0:.1f} s")
            os.environ[SYNTHETIC_FOLDER] = folder
            run_tables(plan, args)
        return
    run_tables(plan, args)


def run_tables(plan: dict, args: argparse.Namespace) -> None:
    libraries = ["crmine", "crmine-tuple", "pyfim", "pyfim-frame", "mlxtend", "efficient-apriori"]
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "?")
    print(f"# {platform.python_version()}, {os.cpu_count()} cores, {cpu}; best of {args.repeat}; "
          f"load average {os.getloadavg()}\n")
    if not args.constrained_only:
        main_table(plan, libraries, args)
    if not args.no_constrained:
        constrained = {k: [s for s in v if not args.supports or s in args.supports] for k, v in CONSTRAINED_PLAN.items()}
        constrained_table({k: v for k, v in constrained.items() if k in plan or args.quick}, args)
    print(f"\n# load average at the end {os.getloadavg()}")


CONSTRAINED_PLAN = {"groceries": [0.001, 0.0005, 0.0002], "retail": [0.001, 0.0002, 0.0001]}


def constrained_table(plan: dict, args: argparse.Namespace) -> None:
    print("\nItem constraint: itemsets holding P (crmine `contains=[P]` vs full mining + filter) and rules "
          f"with consequent P (confidence >= {RULE_CONFIDENCE}, one-item consequents; crmine `mine_rules` vs "
          "`association_rules` on all itemsets; pyfim `fpgrowth(target='r')` + filter). CPU s, best of the repeats.\n")
    print("| data | min support | P | itemsets with P | crmine contains CPU s | crmine filter CPU s | pyfim filter CPU s "
          "| filter / contains | pyfim / contains | rules | crmine mine_rules CPU s | crmine rules filter CPU s "
          "| pyfim rules CPU s | filter / mine_rules | pyfim / mine_rules | contains MiB | pyfim filter MiB |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    sets = ["crmine-contains", "crmine-filter", "pyfim-filter"]
    rule_libs = ["crmine-mine_rules", "crmine-rules-filter", "pyfim-rules-filter"]
    for dataset, supports in plan.items():
        if args.quick:
            supports = supports[:1]
        for s in supports:
            for item in CONSTRAINT_ITEMS[dataset]:
                r = {lib: child(lib, dataset, s, args.repeat, args, item) for lib in sets + rule_libs}
                n_sets = {r[lib]["itemsets"] for lib in sets if "itemsets" in r[lib]}
                assert len(n_sets) == 1, (dataset, s, item, r)
                n_rules = {r[lib]["itemsets"] for lib in rule_libs[:2] if "itemsets" in r[lib]}
                assert len(n_rules) == 1, (dataset, s, item, r)
                rules_count = n_rules.pop()
                if r["pyfim-rules-filter"].get("itemsets", rules_count) != rules_count:  # ties of conf in percent
                    rules_count = f"{rules_count:,} (pyfim {r['pyfim-rules-filter']['itemsets']:,})"
                else:
                    rules_count = f"{rules_count:,}"
                cpu_of = lambda lib: f"{r[lib]['cpu']:.4f}" if "cpu" in r[lib] else r[lib]["skipped"]  # noqa: E731
                ratio = lambda a, b: (f"{r[a]['cpu'] / r[b]['cpu']:.2f}x"  # noqa: E731
                                      if "cpu" in r[a] and "cpu" in r[b] else "-")
                mem = lambda lib: f"{r[lib]['peak_mib']:.1f}" if "peak_mib" in r[lib] else "-"  # noqa: E731
                print(f"| {dataset} | {s} | {item} | {n_sets.pop():,} | {cpu_of('crmine-contains')} | "
                      f"{cpu_of('crmine-filter')} | {cpu_of('pyfim-filter')} | {ratio('crmine-filter', 'crmine-contains')} | "
                      f"{ratio('pyfim-filter', 'crmine-contains')} | {rules_count} | {cpu_of('crmine-mine_rules')} | "
                      f"{cpu_of('crmine-rules-filter')} | {cpu_of('pyfim-rules-filter')} | "
                      f"{ratio('crmine-rules-filter', 'crmine-mine_rules')} | "
                      f"{ratio('pyfim-rules-filter', 'crmine-mine_rules')} | {mem('crmine-contains')} | "
                      f"{mem('pyfim-filter')} |", flush=True)


SLOW_CALL = 5.0  # seconds: a library this slow in the first round is not run again


def cell(dataset: str, s: float, libraries: list, args: argparse.Namespace) -> dict:
    """One (data set, support) cell of the main table: --rounds interleaved rounds of children,
    every call of every round pooled per library (peak memory from the first round)."""
    # The synthetic set's calls take seconds to minutes: one round.
    rounds = 1 if dataset.startswith("synthetic") else max(args.rounds, 1)
    r = {lib: child(lib, dataset, s, args.repeat, args) for lib in libraries}
    for _ in range(rounds - 1):
        for lib in libraries:
            if "skipped" in r[lib] or r[lib]["median"] > SLOW_CALL:
                continue
            got = child(lib, dataset, s, args.repeat, args)
            if "skipped" in got:  # e.g. over the time limit this round: the first round's calls stand
                continue
            walls, cpus = r[lib]["walls"] + got["walls"], r[lib]["cpus"] + got["cpus"]
            r[lib] = {**r[lib], "walls": walls, "cpus": cpus, **summary(walls, cpus)}
    return r


def main_table(plan: dict, libraries: list, args: argparse.Namespace) -> None:
    print(f"Wall times: best / median of every call of {max(args.rounds, 1)} interleaved rounds (each child: at least "
          f"{args.repeat} calls and {args.min_time} s); ratios > 1: crmine faster; CPU: the lowest process time.\n")
    print("| data | min support | itemsets | crmine s | crmine tuple s | pyfim s | mlxtend s | efficient-apriori s "
          "| pyfim / crmine | pyfim / crmine tuple | pyfim / crmine CPU | pyfim / crmine tuple CPU "
          "| pyfim frame s | pyfim frame / crmine | mlxtend / crmine | calls crmine / tuple / pyfim "
          "| crmine MiB | crmine tuple MiB | pyfim MiB |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for dataset, supports in plan.items():
        for s in supports:
            r = cell(dataset, s, libraries, args)
            counts = {r[lib]["itemsets"] for lib in libraries if "itemsets" in r[lib]}
            assert len(counts) == 1, (dataset, s, {k: {x: y for x, y in v.items() if x not in ("walls", "cpus")}
                                                  for k, v in r.items()})  # every library finds the same number
            ok = lambda lib: "seconds" in r[lib]  # noqa: E731
            sec = lambda lib: (f"{r[lib]['seconds']:.4f} / {r[lib]['median']:.4f}" if ok(lib)  # noqa: E731
                               else r[lib]["skipped"])
            ratio = lambda a, b: (f"{r[a]['seconds'] / r[b]['seconds']:.2f}x / {r[a]['median'] / r[b]['median']:.2f}x"  # noqa: E731
                                  if ok(a) and ok(b) else "-")
            cpu_ratio = lambda a, b: f"{r[a]['cpu'] / r[b]['cpu']:.2f}x" if ok(a) and ok(b) else "-"  # noqa: E731
            mem = lambda lib: f"{r[lib]['peak_mib']:.1f}" if "peak_mib" in r[lib] else "-"  # noqa: E731
            calls = " / ".join(str(r[lib]["calls"]) if ok(lib) else "-" for lib in ("crmine", "crmine-tuple", "pyfim"))
            print(f"| {dataset} | {s} | {counts.pop():,} | {sec('crmine')} | {sec('crmine-tuple')} | {sec('pyfim')} | "
                  f"{sec('mlxtend')} | {sec('efficient-apriori')} | {ratio('pyfim', 'crmine')} | "
                  f"{ratio('pyfim', 'crmine-tuple')} | {cpu_ratio('pyfim', 'crmine')} | {cpu_ratio('pyfim', 'crmine-tuple')} | "
                  f"{sec('pyfim-frame')} | {ratio('pyfim-frame', 'crmine')} | {ratio('mlxtend', 'crmine')} | {calls} | {mem('crmine')} | {mem('crmine-tuple')} | {mem('pyfim')} |",
                  flush=True)

if __name__ == "__main__":
    main()
