# SPDX-License-Identifier: Apache-2.0
"""Side-by-side clustering benchmark: crmine vs scikit-learn (KMeans lloyd/elkan, GaussianMixture)
and vs the kmodes package (KPrototypes), on the same synthetic data in one run.

Each pair runs on identical arrays with the same k, n_init and thread count; the script prints
wall and CPU times (CPU = all threads of this process, the steadier figure on a shared machine),
the ratios (peer / crmine), the objective each reached, so speed is only read next to quality,
and the load average before and after.

    python bench/python/bench_cluster.py                       # the sizes of issue 5
    python bench/python/bench_cluster.py --kmeans-rows 200000 --kprototypes-rows 20000 --gmm-rows 200000
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np
import pandas as pd


def blobs(n: int, d: int, k: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.uniform(-5, 5, size=(k, d))
    return np.ascontiguousarray(centres[rng.integers(0, k, n)] + rng.standard_normal((n, d)))


def blobs_in_place(n: int, d: int, k: int, seed: int, chunk: int = 1 << 20) -> np.ndarray:
    """blobs' distribution written chunk by chunk into one array, so 20M x 20 needs 3.2 GB, not
    three temporaries of that size."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform(-5, 5, size=(k, d))
    X = np.empty((n, d))
    for b in range(0, n, chunk):
        e = min(n, b + chunk)
        X[b:e] = centres[rng.integers(0, k, e - b)]
        X[b:e] += rng.standard_normal((e - b, d))
    return X


def peak_rss_gb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB on Linux


class Timing(float):
    """Wall seconds (the float value) with the process CPU seconds (all threads) alongside: on a
    shared machine the CPU ratio is the steadier figure."""

    cpu: float

    def __new__(cls, wall: float, cpu: float) -> "Timing":
        self = super().__new__(cls, wall)
        self.cpu = cpu
        return self


def timed(fn):
    start, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return Timing(time.perf_counter() - start, time.process_time() - cpu), out


def load() -> str:
    return "load average %.1f %.1f %.1f" % os.getloadavg()


def row(name: str, ours: Timing, theirs: Timing, ours_obj: float, theirs_obj: float, peer: str, obj: str) -> dict:
    return {"benchmark": name, "crmine s": round(ours, 2), f"{peer} s": round(theirs, 2),
            "ratio (peer / crmine)": round(theirs / ours, 2), "crmine cpu s": round(ours.cpu, 2),
            "peer cpu s": round(theirs.cpu, 2), "cpu ratio": round(theirs.cpu / max(ours.cpu, 1e-9), 2),
            f"crmine {obj}": ours_obj, f"{peer} {obj}": theirs_obj,
            "objective diff %": round(100 * (ours_obj - theirs_obj) / abs(theirs_obj), 3)}


def bench_kmeans(rows: int, ks: list[int], n_init: int, threads: int) -> list[dict]:
    from sklearn.cluster import KMeans as SkKMeans
    import crmine.cluster as cc

    X = blobs(rows, 20, 32, seed=1)
    out = []
    for k in ks:
        t_ours, ours = timed(lambda: cc.KMeans(k, n_init=n_init, random_state=0, n_threads=threads).fit(X))
        for algorithm in ("lloyd", "elkan"):
            t_sk, sk = timed(lambda: SkKMeans(k, n_init=n_init, algorithm=algorithm, random_state=0).fit(X))
            out.append(row(f"KMeans {rows:,} x 20, k={k} vs sklearn {algorithm}", t_ours, t_sk, ours.inertia_,
                           sk.inertia_, "peer", "inertia"))
        print(f"  KMeans k={k}: crmine {t_ours:.2f}s, {ours.n_iter_} iterations", flush=True)
    return out


def bench_minibatch(rows: int, threads: int, batch_size: int) -> list[dict]:
    """One pass (rows / batch_size steps) for both, same batch size, 3 seedings each, early
    stopping off; both report inertia_ over all rows."""
    from sklearn.cluster import MiniBatchKMeans as SkMiniBatchKMeans
    import crmine.cluster as cc

    X = blobs_in_place(rows, 20, 8, seed=2)
    base = peak_rss_gb()
    print(f"  MiniBatchKMeans: data {X.nbytes / 2**30:.2f} GiB, process peak so far {base:.2f} GiB", flush=True)
    t_ours, ours = timed(lambda: cc.MiniBatchKMeans(8, batch_size=batch_size, max_iter=1, max_no_improvement=0,
                                                    n_init=3, random_state=0, n_threads=threads).fit(X))
    print(f"  MiniBatchKMeans: crmine {t_ours:.2f}s, {ours.n_iter_} steps, peak {peak_rss_gb():.2f} GiB", flush=True)
    t_sk, sk = timed(lambda: SkMiniBatchKMeans(8, batch_size=batch_size, max_iter=1, max_no_improvement=None,
                                               n_init=3, random_state=0).fit(X))
    print(f"  MiniBatchKMeans: sklearn {t_sk:.2f}s, {sk.n_steps_} steps, peak {peak_rss_gb():.2f} GiB "
          "(process-wide peak: crmine ran first)", flush=True)
    return [row(f"MiniBatchKMeans {rows:,} x 20, k=8, batch {batch_size}, one pass vs sklearn", t_ours, t_sk,
                ours.inertia_, sk.inertia_, "peer", "inertia")]


def bench_kprototypes(rows: int, threads: int, n_init: int) -> list[dict]:
    """Same k, n_init and gamma rule (0.5 x mean numeric standard deviation, both estimate it);
    kmodes with its default Cao seeding, its restarts in parallel (n_jobs = threads)."""
    from kmodes.kprototypes import KPrototypes as KmKPrototypes
    import crmine.cluster as cc

    rng = np.random.default_rng(3)
    num = blobs(rows, 4, 6, seed=3)
    frame = pd.DataFrame(num, columns=[f"x{i}" for i in range(4)])
    for j in range(4):
        frame[f"c{j}"] = pd.Categorical(rng.choice(list("abcde"), rows))
    t_ours, ours = timed(lambda: cc.KPrototypes(6, n_init=n_init, random_state=0, n_threads=threads).fit(frame))
    print(f"  KPrototypes: crmine {t_ours:.2f}s, cost {ours.cost_:.6g}, gamma {ours.gamma_:.6g}", flush=True)
    data = frame.to_numpy(dtype=object)
    t_km, km = timed(lambda: KmKPrototypes(n_clusters=6, init="Cao", n_init=n_init, random_state=0,
                                           n_jobs=threads).fit(data, categorical=[4, 5, 6, 7]))
    print(f"  KPrototypes: kmodes {t_km:.2f}s, cost {km.cost_:.6g}, gamma {km.gamma:.6g}", flush=True)
    return [row(f"KPrototypes {rows:,} rows (4 numeric + 4 categorical), k=6, n_init={n_init} vs kmodes", t_ours,
                t_km, ours.cost_, km.cost_, "peer", "cost")]


def bench_gmm(rows: int, threads: int) -> list[dict]:
    from sklearn.mixture import GaussianMixture as SkGaussianMixture
    import crmine.cluster as cc

    X = blobs(rows, 10, 8, seed=4)
    out = []
    for cov in ("full", "diag"):
        t_ours, ours = timed(lambda: cc.GaussianMixture(8, covariance_type=cov, random_state=0,
                                                        n_threads=threads).fit(X))
        t_sk, sk = timed(lambda: SkGaussianMixture(8, covariance_type=cov, random_state=0).fit(X))
        out.append(row(f"GaussianMixture {rows:,} x 10, k=8, {cov} vs sklearn", t_ours, t_sk, ours.score(X),
                       sk.score(X), "peer", "mean log-lik"))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kmeans-rows", type=float, default=1e6)
    parser.add_argument("--ks", type=int, nargs="+", default=[8, 64])
    parser.add_argument("--n-init", type=int, default=1)
    parser.add_argument("--minibatch-rows", type=float, default=2e7)
    parser.add_argument("--batch-size", type=int, default=1024)
    parser.add_argument("--kprototypes-rows", type=float, default=1e5)
    parser.add_argument("--kprototypes-n-init", type=int, default=2)
    parser.add_argument("--gmm-rows", type=float, default=1e6)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--skip", nargs="*", default=[], choices=["kmeans", "minibatch", "kprototypes", "gmm"])
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, threads {args.threads}, {load()}", flush=True)
    rows: list[dict] = []
    if "kmeans" not in args.skip:
        rows += bench_kmeans(int(args.kmeans_rows), args.ks, args.n_init, args.threads)
    if "minibatch" not in args.skip:
        rows += bench_minibatch(int(args.minibatch_rows), args.threads, args.batch_size)
    if "kprototypes" not in args.skip:
        rows += bench_kprototypes(int(args.kprototypes_rows), args.threads, args.kprototypes_n_init)
    if "gmm" not in args.skip:
        rows += bench_gmm(int(args.gmm_rows), args.threads)
    table = pd.DataFrame(rows)
    with pd.option_context("display.width", 250, "display.max_columns", 20, "display.max_colwidth", 80):
        print(table.to_string(index=False))
    print(f"end: {load()}")


if __name__ == "__main__":
    main()
