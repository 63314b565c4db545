# SPDX-License-Identifier: Apache-2.0
"""The cross-sell benchmark's own logic: the synthetic generator's planted structure, warm-up
inputs in both basket forms, and cells reported as not run without being run."""

import argparse
import importlib.util
import time
from pathlib import Path

import numpy as np
import pytest

from crmine import rules

BENCH = Path(__file__).resolve().parents[2] / "bench" / "python" / "bench_rules.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_rules", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _args(**overrides) -> argparse.Namespace:
    values = {"skip_known_slow": True, "timeout": 150, "synthetic_timeout": 1800}
    return argparse.Namespace(**{**values, **overrides})


def test_synthetic_baskets_are_sorted_distinct_and_hold_the_bundle(bench):
    indptr, indices = bench.synthetic(20_000)
    assert indptr[0] == 0 and indptr[-1] == indices.size and np.all(np.diff(indptr) >= 0)
    owner = np.repeat(np.arange(indptr.size - 1), np.diff(indptr))
    same_basket = owner[1:] == owner[:-1]
    assert np.all(indices[1:][same_basket] > indices[:-1][same_basket])  # ascending, no repeats
    # The 24-item bundle is in about 2 % of the baskets: its pair of first items has support
    # near 0.02 * 0.75^2, far above what Zipf popularity alone gives such items.
    pairs = rules.frequent_itemsets((indptr, indices), min_support=0.005, max_len=2, itemsets="codes")
    found = {pairs.itemset(s) for s in range(len(pairs)) if len(pairs.itemset(s)) == 2}
    assert (5000, 5097) in found


def test_head_keeps_the_input_form(bench):
    lists = [["a"], ["b", "c"], ["c"]]
    assert bench._head(lists, 2) == [["a"], ["b", "c"]]
    indptr, indices = np.array([0, 1, 3, 4]), np.array([5, 6, 7, 8], dtype=np.int32)
    head_ptr, head_items = bench._head((indptr, indices), 2)
    assert head_ptr.tolist() == [0, 1, 3] and head_items.tolist() == [5, 6, 7]


def test_known_slow_cells_are_reported_not_run(bench, monkeypatch):
    def no_subprocess(*args, **kwargs):
        raise AssertionError("a skipped cell must not start a child")

    monkeypatch.setattr(bench.subprocess, "run", no_subprocess)
    for (dataset, library), support in bench.KNOWN_OVER_LIMIT.items():
        result = bench.child(library, dataset, support, 3, _args())
        assert result == {"skipped": "not run (over 150 s in earlier runs)"}
        assert bench.child(library, dataset, support / 2, 3, _args(timeout=60))["skipped"].startswith("not run")
    with pytest.raises(AssertionError, match="must not start"):  # without the flag the cell runs
        bench.child("mlxtend", "groceries", 0.0002, 3, _args(skip_known_slow=False))


def test_short_calls_are_repeated_until_the_minimum_time(bench):
    calls = []

    def call():
        calls.append(1)
        time.sleep(0.002)
        return object(), 7

    timed = bench.timed_calls(call, repeat=3, min_time=0.05)
    assert timed["itemsets"] == 7 and timed["calls"] == len(calls) == len(timed["walls"])
    assert len(calls) >= 3 and sum(timed["walls"]) >= 0.05 and len(calls) <= bench.MAX_CALLS
    assert timed["seconds"] == min(timed["walls"]) <= timed["median"]
    # A slow call is still made the minimum number of times, and no more.
    assert bench.timed_calls(lambda: (None, 1), repeat=2, min_time=0.0)["calls"] == 2


def test_summary_gives_best_median_and_lowest_cpu(bench):
    assert bench.summary([3.0, 1.0, 2.0, 4.0], [0.5, 0.2, 0.9, 0.1]) == {
        "seconds": 1.0, "median": 2.5, "cpu": 0.1, "calls": 4}


def test_pyfim_frame_holds_what_crmine_frame_holds(bench):
    """The "pyfim frame" column converts pyfim's list into mlxtend's frame; it must be the same
    frame as crmine's (itemset -> fractional support and count), or the ratio compares different work."""
    pytest.importorskip("fim")
    if not (bench.DATA / "groceries" / "groceries.csv").exists():
        pytest.skip("Groceries is not in ../shared/data")
    baskets = bench.load("groceries")
    theirs, n_theirs = bench._call("pyfim-frame", False)(baskets, 0.005)
    ours, n_ours = bench._call("crmine", False)(baskets, 0.005)
    assert n_theirs == n_ours == 1001 and list(theirs.columns) == list(ours.columns) == ["support", "itemsets", "count"]
    expected = dict(zip(ours["itemsets"], ours["support"]))
    got = dict(zip(theirs["itemsets"], theirs["support"]))
    assert got.keys() == expected.keys()
    assert max(abs(got[k] - expected[k]) for k in expected) < 1e-12
    assert dict(zip(theirs["itemsets"], theirs["count"])) == dict(zip(ours["itemsets"], ours["count"]))
