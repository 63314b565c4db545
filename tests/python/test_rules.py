# SPDX-License-Identifier: Apache-2.0
"""Cross-sell mining: itemsets and rules equal mlxtend's (and pyfim's) on Groceries, published
counts on FIMI retail.dat, every basket input form, recommendations, sequences, the graph."""

import lzma

import sys

import numpy as np
import pandas as pd
import pytest

import crmine as cm
from crmine import rules

from conftest import shared_path


@pytest.fixture(scope="module")
def groceries() -> list[list[str]]:
    path = shared_path("groceries/groceries.csv")
    with open(path) as f:
        return [line.rstrip("\n").split(",") for line in f]


@pytest.fixture(scope="module")
def retail() -> list[list[int]]:
    path = shared_path("retail_fimi/retail.dat")
    opener = open(path) if path.exists() else lzma.open(path.with_suffix(".dat.xz"), "rt")
    with opener as f:
        return [[int(x) for x in line.split()] for line in f]


def _by_size(frame: pd.DataFrame) -> dict[int, int]:
    return frame["itemsets"].map(len).value_counts().sort_index().to_dict()


def _as_dict(frame: pd.DataFrame) -> dict[frozenset, float]:
    return dict(zip(frame["itemsets"], frame["support"]))


@pytest.mark.parametrize("algorithm", ["fpgrowth", "eclat", "apriori"])
def test_groceries_reference_counts(groceries, algorithm):
    found = rules.frequent_itemsets(groceries, min_support=0.01, algorithm=algorithm)
    assert len(found) == 333
    assert _by_size(found) == {1: 88, 2: 213, 3: 32}
    assert found.attrs["n_baskets"] == 9835 and found.attrs["min_count"] == 99
    whole_milk = found[found["itemsets"] == frozenset({"whole milk"})]
    assert whole_milk["count"].item() == 2513


def test_retail_reference_counts(retail):
    found = rules.frequent_itemsets(retail, min_support=0.01)
    assert len(found) == 159 and _by_size(found) == {1: 70, 2: 58, 3: 25, 4: 6}
    counts = dict(zip(found["itemsets"], found["count"]))
    assert counts[frozenset({39})] == 50_675 and counts[frozenset({39, 48})] == 29_142
    found = rules.frequent_itemsets(retail, min_support=0.005, algorithm="eclat")
    assert len(found) == 580 and _by_size(found) == {1: 221, 2: 237, 3: 102, 4: 19, 5: 1}


@pytest.mark.parametrize("min_support", [0.02, 0.01, 0.005])
def test_itemsets_equal_mlxtend_on_groceries(groceries, min_support):
    mlxtend = pytest.importorskip("mlxtend.frequent_patterns")
    from mlxtend.preprocessing import TransactionEncoder
    encoder = TransactionEncoder()
    onehot = pd.DataFrame(encoder.fit(groceries).transform(groceries), columns=encoder.columns_)
    theirs = mlxtend.fpgrowth(onehot, min_support=min_support, use_colnames=True)
    ours = rules.frequent_itemsets(groceries, min_support=min_support)
    assert _as_dict(ours) == _as_dict(theirs)  # supports bit-for-bit equal
    # The one-hot frame mlxtend takes gives the same result.
    assert _as_dict(rules.frequent_itemsets(onehot, min_support=min_support)) == _as_dict(theirs)


def test_groceries_itemsets_do_not_depend_on_the_thread_count(groceries):
    # At 0.0005 the automatic thread count mines on every core (first-level work over 2^16).
    one = rules.frequent_itemsets(groceries, min_support=0.0005, itemsets="codes", n_jobs=1)
    for n_jobs in (None, 2, 3):
        other = rules.frequent_itemsets(groceries, min_support=0.0005, itemsets="codes", n_jobs=n_jobs)
        for name in ("indptr", "items", "count"):
            np.testing.assert_array_equal(getattr(other, name), getattr(one, name))
    assert len(one) == 49_580


def test_itemsets_equal_pyfim_on_groceries(groceries):
    fim = pytest.importorskip("fim")
    theirs = {frozenset(s): c for s, c in fim.fpgrowth(groceries, supp=-50, zmin=1, report="a")}
    ours = rules.frequent_itemsets(groceries, min_support=50)
    assert dict(zip(ours["itemsets"], ours["count"])) == theirs


@pytest.mark.parametrize("metric,threshold", [("support", 0.0), ("lift", 1.5), ("zhangs_metric", 0.3)])
def test_rule_metrics_equal_mlxtend(groceries, metric, threshold):
    mlxtend = pytest.importorskip("mlxtend.frequent_patterns")
    itemsets = rules.frequent_itemsets(groceries, min_support=0.005)
    theirs = mlxtend.association_rules(itemsets[["support", "itemsets"]], num_itemsets=9835, metric=metric,
                                       min_threshold=threshold)
    ours = rules.association_rules(itemsets, metric=metric, min_threshold=threshold)
    assert len(ours) == len(theirs) > 100
    columns = ["antecedent support", "consequent support", "support", "confidence", "lift", "leverage", "conviction",
               "zhangs_metric", "jaccard"]
    a = ours.set_index(["antecedents", "consequents"])[columns]
    b = theirs.set_index(["antecedents", "consequents"])[columns]
    assert set(a.index) == set(b.index) and a.index.is_unique
    b = b.loc[a.index]
    finite = np.isfinite(b.to_numpy())
    assert np.array_equal(finite, np.isfinite(a.to_numpy()))
    np.testing.assert_allclose(a.to_numpy()[finite], b.to_numpy()[finite], rtol=0, atol=1e-9)


def test_arules_published_rule_counts(groceries):
    itemsets = rules.frequent_itemsets(groceries, min_support=0.001, max_len=10)
    one = dict(max_consequent_len=1)
    assert len(rules.association_rules(itemsets, "confidence", 0.5, **one)) == 5668
    assert len(rules.association_rules(itemsets, "confidence", 0.8, **one)) == 410
    itemsets = rules.frequent_itemsets(groceries, min_support=0.005, max_len=10)
    assert len(rules.association_rules(itemsets, "confidence", 0.5, **one)) == 120


def test_top_k_and_consequent_constraint(groceries):
    itemsets = rules.frequent_itemsets(groceries, min_support=0.005)
    every = rules.association_rules(itemsets, "lift", 0.0)
    top = rules.association_rules(itemsets, "lift", 0.0, top_k=15)
    assert list(top["lift"]) == sorted(every["lift"], reverse=True)[:15]
    milk = rules.association_rules(itemsets, "confidence", 0.3, consequent_items=["whole milk"])
    assert len(milk) > 10 and all("whole milk" in c for c in milk["consequents"])
    with pytest.raises(ValueError, match="consequent_items"):
        rules.association_rules(itemsets, consequent_items=["caviar"])


def test_every_basket_form_gives_the_same_itemsets(rng):
    scipy_sparse = pytest.importorskip("scipy.sparse")
    n_baskets, n_items = 400, 15
    dense = rng.random((n_baskets, n_items)) < np.linspace(0.05, 0.5, n_items)
    dense[~dense.any(axis=1), 0] = True  # the long forms cannot express empty baskets
    lists = [list(np.flatnonzero(row)) for row in dense]
    expected = _as_dict(rules.frequent_itemsets(lists, min_support=0.05))
    assert len(expected) > 30
    csr = scipy_sparse.csr_matrix(dense)
    assert _as_dict(rules.frequent_itemsets(csr, min_support=0.05, use_colnames=False)) == expected
    assert _as_dict(rules.frequent_itemsets((csr.indptr, csr.indices), min_support=0.05)) == expected
    onehot = pd.DataFrame(dense, columns=range(n_items))
    assert _as_dict(rules.frequent_itemsets(onehot, min_support=0.05)) == expected
    # Whatever the table's memory order (pandas hands out a column-major block; a frame built
    # column by column, or from a row-major copy, differs), and sparse one-hot frames as mlxtend
    # takes them.
    for frame in (pd.DataFrame(np.ascontiguousarray(dense), columns=range(n_items)),
                  pd.DataFrame({j: dense[:, j] for j in range(n_items)}),
                  pd.DataFrame(dense[:, ::-1], columns=range(n_items)[::-1]),
                  pd.DataFrame.sparse.from_spmatrix(csr, columns=range(n_items)).astype(pd.SparseDtype(bool, False))):
        assert _as_dict(rules.frequent_itemsets(frame, min_support=0.05)) == expected
    rows, cols = np.nonzero(dense)
    long = pd.DataFrame({"order_id": rows * 7 + 1000, "item": cols})
    long = pd.concat([long, long.iloc[:50]])  # repeated lines in an order count once
    assert _as_dict(rules.frequent_itemsets(long, min_support=0.05)) == expected
    log = cm.TransactionLog(customer=rows % 13, time=np.zeros(rows.size, dtype=np.int64), amount=np.ones(rows.size),
                            order=rows, item=cols, time_unit="D")
    assert _as_dict(rules.frequent_itemsets(log, min_support=0.05)) == expected
    for algorithm in ("eclat", "apriori"):
        assert _as_dict(rules.frequent_itemsets(lists, min_support=0.05, algorithm=algorithm)) == expected


def test_closed_maximal_and_limits():
    baskets = [["a", "b", "c"]] * 3 + [["a", "b"], ["d"], ["d", "d"]]
    closed = rules.frequent_itemsets(baskets, min_support=2, kind="closed")
    assert _as_dict(closed) == {frozenset("d"): 2 / 6, frozenset("ab"): 4 / 6, frozenset("abc"): 3 / 6}
    maximal = rules.frequent_itemsets(baskets, min_support=2, kind="maximal")
    assert set(maximal["itemsets"]) == {frozenset("d"), frozenset("abc")}
    with pytest.raises(cm.LimitExceededError, match="max_itemsets"):
        rules.frequent_itemsets(baskets, min_support=2, max_itemsets=3)


@pytest.mark.parametrize("kwargs,match", [
    ({"min_support": 0.0}, "min_support"),
    ({"min_support": 1.5}, "min_support"),
    ({"min_support": 100}, "above the number of baskets"),
    ({"max_len": 0}, "max_len"),
    ({"algorithm": "magic"}, "algorithm"),
    ({"kind": "open"}, "kind"),
])
def test_bad_options_are_value_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        rules.frequent_itemsets([["a", "b"], ["a"]], **kwargs)


def test_stored_zeros_of_a_sparse_matrix_are_not_items():
    scipy_sparse = pytest.importorskip("scipy.sparse")
    # Basket 0 stores an explicit 0 for item 1: it holds item 0 only.
    matrix = scipy_sparse.csr_matrix((np.array([1, 0, 1, 1]), np.array([0, 1, 0, 1]), np.array([0, 2, 4])), shape=(2, 2))
    found = _as_dict(rules.frequent_itemsets(matrix, min_support=0.5, use_colnames=False))
    assert found == {frozenset({0}): 1.0, frozenset({1}): 0.5, frozenset({0, 1}): 0.5}
    assert matrix.nnz == 4  # the caller's matrix is not changed
    frame = pd.DataFrame.sparse.from_spmatrix(matrix.astype(bool), columns=["a", "b"])
    assert _as_dict(rules.frequent_itemsets(frame, min_support=0.5)) == {
        frozenset({"a"}): 1.0, frozenset({"b"}): 0.5, frozenset({"a", "b"}): 0.5}


def test_bad_baskets_are_value_errors():
    with pytest.raises(ValueError, match="no baskets"):
        rules.frequent_itemsets([], min_support=0.5)
    with pytest.raises(ValueError, match="empty"):
        rules.frequent_itemsets([[], []], min_support=0.5)
    with pytest.raises(ValueError, match="n_items"):
        rules.frequent_itemsets((np.array([0, 2]), np.array([0, 5])), min_support=0.5, n_items=3)
    with pytest.raises(ValueError, match="negative"):
        rules.frequent_itemsets((np.array([0, 2]), np.array([0, -1])), min_support=0.5)
    with pytest.raises(ValueError, match="metric"):
        rules.association_rules(rules.frequent_itemsets([["a", "b"]], min_support=1.0), metric="surprise")
    with pytest.raises(ValueError, match="one-hot"):  # 0/1 integers are not taken as flags silently
        rules.frequent_itemsets(pd.DataFrame({"a": [1, 0], "b": [1, 1]}), min_support=0.5)
    with pytest.raises(ValueError, match="empty"):  # a one-hot table without a single True
        rules.frequent_itemsets(pd.DataFrame({"a": [False, False], "b": [False, False]}), min_support=0.5)
    with pytest.raises(ValueError, match="missing"):
        maximal = rules.frequent_itemsets([["a", "b"], ["a", "b"]], min_support=1.0, kind="maximal")
        rules.association_rules(maximal, min_threshold=0.0)


@pytest.fixture(scope="module")
def sample():
    return cm.datasets.load_sample()


def test_recommender_recovers_planted_bundles(sample):
    tx = sample.transactions[sample.transactions["quantity"] > 0]
    model = rules.Recommender(min_support=0.002, metric="lift", min_threshold=1.5).fit(tx)
    bundle = sample.truth["bundles"][0]
    recs = model.recommend(bundle[:1], k=5)
    assert set(bundle[1:]) & set(recs["item"]), (bundle, recs)
    assert bundle[0] not in set(recs["item"])
    assert all(bundle[0] in a for a in recs["antecedents"])
    with pytest.raises(ValueError, match="not seen"):
        model.recommend(["no such product"])
    result = rules.Recommender(min_support=0.002, metric="confidence", min_threshold=0.05).evaluate(tx, k=10)
    assert result["customers"] > 1000
    popular = tx.groupby("item")["order_id"].nunique().nlargest(10).index
    last = tx.sort_values(["date", "order_id"]).groupby("customer_id").tail(1)
    assert 0.0 < result["hit_rate"] <= 1.0
    assert len(popular) == 10 and not last.empty


def test_recommender_not_fitted():
    with pytest.raises(cm.NotFittedError):
        rules.Recommender().recommend(["a"])


def test_sequential_patterns_by_hand():
    frame = pd.DataFrame({
        "customer_id": [1, 1, 1, 2, 2, 3, 3, 3],
        "date": pd.to_datetime(["2024-01-01", "2024-01-10", "2024-03-01", "2024-01-01", "2024-01-05",
                                "2024-02-01", "2024-02-01", "2024-02-20"]),
        "item": ["A", "B", "C", "A", "B", "A", "B", "C"],
    })
    found = rules.sequential_patterns(frame, min_support=2, max_len=3)
    got = dict(zip(found["sequence"], found["count"]))
    assert got[("A", "B")] == 2  # customer 3 bought A and B on the same day: not a sequence
    assert got[("A", "C")] == 2 and got[("B", "C")] == 2 and ("A", "B", "C") not in got
    within = rules.sequential_patterns(frame, min_support=2, max_gap=30)
    got = dict(zip(within["sequence"], within["count"]))
    assert got[("A", "B")] == 2 and ("A", "C") not in got  # A -> C takes 60 and 19 days; only one fits
    with pytest.raises(ValueError, match="max_gap"):
        rules.sequential_patterns(frame, max_gap=0)


def test_affinity_graph_bundles_and_exports(sample, tmp_path):
    tx = sample.transactions[sample.transactions["quantity"] > 0]
    itemsets = rules.frequent_itemsets(tx, min_support=0.002, max_len=2)
    graph = rules.affinity_graph(itemsets, min_lift=3.0)
    assert len(graph.edges) > 0 and (graph.edges["lift"] >= 3.0).all()
    planted = [frozenset(b) for b in sample.truth["bundles"]]
    assert any(p <= bundle for p in planted for bundle in graph.bundles)
    assert abs(graph.nodes["pagerank"].sum() - 1.0) < 1e-9
    graph.to_graphml(tmp_path / "g.graphml")
    assert "<graphml" in (tmp_path / "g.graphml").read_text()
    assert graph.to_edge_list().count("\n") == len(graph.edges)
    with pytest.raises(ValueError, match="min_lift"):
        rules.affinity_graph(itemsets, min_lift=0)


def test_report_has_a_cross_sell_section(sample):
    from crmine.cli import SECTIONS, build_report
    assert "Cross-sell" in [name for name, _ in SECTIONS]
    log = cm.TransactionLog.from_frame(sample.transactions, order="order_id", item="item")
    html = build_report(log, title="t").to_html()
    assert "Top rules by lift" in html and "Candidate bundles" in html
    planted = sample.truth["bundles"][0]
    assert all(item in html for item in planted)
    no_items = cm.TransactionLog.from_frame(sample.transactions, order="order_id")
    assert "Top rules by lift" not in build_report(no_items, title="t").to_html()


def test_itemsets_hold_the_label_objects_themselves():
    import gc

    class Product:  # a hashable label type that the garbage collector tracks
        def __init__(self, name):
            self.name = name

    milk, bread = Product("milk"), Product("bread")
    objects = rules.frequent_itemsets([[milk, bread], [milk], [bread, milk]], min_support=0.5)
    assert {id(x) for s in objects["itemsets"] for x in s} == {id(milk), id(bread)}
    assert all(gc.is_tracked(s) for s in objects["itemsets"])  # could be part of a cycle
    strings = rules.frequent_itemsets([["milk", "bread"], ["milk"]], min_support=0.5)
    assert sorted(map(sorted, strings["itemsets"])) == [["bread"], ["bread", "milk"], ["milk"]]
    assert not any(gc.is_tracked(s) for s in strings["itemsets"])  # str only: no cycle possible
    codes = rules.frequent_itemsets([["milk", "bread"], ["milk"]], min_support=0.5, use_colnames=False)
    assert sorted(map(sorted, codes["itemsets"])) == [[0], [0, 1], [1]]


def test_int_labels_match_equal_labels_of_other_types():
    # 5 and 5.0 are one dict key in Python, so they are one item here too (array fast path for ints).
    b = rules.baskets([[5, 7], [5.0, 7, 3], [2**40, 5]])
    assert b.n_items == 4 and b.labels.tolist() == [5, 7, 3, 2**40]
    assert b.indices.tolist() == [0, 1, 0, 1, 2, 3, 0]
    found = rules.frequent_itemsets([[5, 7], [5.0, 7, 3], [True, 1]], min_support=2)
    assert dict(zip(map(frozenset, found["itemsets"]), found["count"]))[frozenset({5, 7})] == 2


def test_recommender_pickles_and_rejects_corrupt_bytes():
    import pickle

    baskets = [["milk", "bread"], ["milk", "bread", "eggs"], ["tea", "cake"], ["milk"], ["tea", "cake", "eggs"]] * 8
    model = rules.Recommender(min_support=0.1, metric="lift", min_threshold=1.0).fit(baskets)
    back = pickle.loads(pickle.dumps(model))
    queries = [["milk"], ["tea"], ["eggs", "bread"]]
    assert back.recommend_many(queries, k=3) == model.recommend_many(queries, k=3)
    pd.testing.assert_frame_equal(back.recommend(["tea"]), model.recommend(["tea"]))
    assert back.get_params() == model.get_params()
    data = model.to_bytes()
    assert data[:4] != data[4:8] and back.to_bytes() == data
    state = model.__getstate__()
    for at in (13, len(data) // 2, len(data) - 2):
        bad = bytearray(data)
        bad[at] ^= 0x5A
        with pytest.raises(cm.ModelFormatError):
            rules.Recommender().__setstate__({**state, "_model_bytes": bytes(bad)})
    with pytest.raises(cm.ModelFormatError):
        rules.Recommender().__setstate__({**state, "_model_bytes": data[:-5]})
    with pytest.raises(cm.NotFittedError):
        rules.Recommender().to_bytes()


def _filled_one_by_one(items) -> frozenset:
    """A frozenset as CPython builds one from an iterator: items added one at a time."""
    return frozenset(iter(list(items)))


def _smallest_table_bytes(n: int) -> int:
    """sys.getsizeof of a frozenset of n items whose table has the fewest slots that leave one
    empty: 8 (the object's own small table) up to 7 items, then 16, 32, ..."""
    slots = 8
    while slots <= n:
        slots *= 2
    return sys.getsizeof(frozenset()) + (0 if slots == 8 else 16 * slots)


def test_frozensets_take_the_smallest_table_and_behave_as_any_frozenset():
    labels = np.array([f"p{i:03d}" for i in range(600)], dtype=object)
    lengths = np.array(list(range(1, 201)) + [256, 300, 306, 307, 600])
    indptr = np.concatenate([[0], np.cumsum(lengths)])
    items = np.concatenate([np.arange(n) for n in lengths]).astype(np.int32)
    built = list(rules._sets(indptr, items, labels))
    # ... and from mining: one basket of 8 labels, twice, has all 255 subsets frequent; ints
    # that are multiples of 8 all collide in an 8-slot table.
    built += list(rules.frequent_itemsets([list(labels[:8])] * 2, min_support=1.0)["itemsets"])
    built += list(rules.frequent_itemsets([[8 * k for k in range(7)]] * 2, min_support=1.0)["itemsets"])
    assert [len(s) for s in built[:lengths.size]] == lengths.tolist()
    for s in built:
        python_made = _filled_one_by_one(s)
        assert s == python_made and hash(s) == hash(python_made) and type(s) is frozenset
        assert all(x in s for x in python_made) and "p999" not in s and 9 not in s and frozenset(s) is s
        assert sys.getsizeof(s) == _smallest_table_bytes(len(s))
        assert sys.getsizeof(s) <= min(sys.getsizeof(python_made), sys.getsizeof(frozenset(set(s))))
        # Copies and set algebra go through CPython's own code and give ordinary sets.
        grown = set(s)
        grown.add("p999")
        assert len(grown) == len(s) + 1 and grown > s and (s | {"x"}) - {"x"} == s and s & python_made == s
    seven = next(s for s in built if len(s) == 7)
    assert sys.getsizeof(seven) == sys.getsizeof(frozenset())  # 7 items in the object's own 8 slots


def test_frozensets_of_labels_sharing_a_hash_are_built_by_cpython():
    class Same:  # distinct labels with one hash: the dense table defers to CPython's comparisons
        def __init__(self, name):
            self.name = name

        def __hash__(self):
            return 42

        def __eq__(self, other):
            return isinstance(other, Same) and other.name == self.name

    labels = np.empty(3, dtype=object)
    labels[:] = [Same("a"), Same("b"), Same("c")]
    built = rules._sets(np.array([0, 3, 5]), np.array([0, 1, 2, 0, 2], dtype=np.int32), labels)
    assert [len(s) for s in built] == [3, 2]
    assert all(x in built[0] for x in labels) and Same("b") not in built[1]


def test_frame_columns_are_not_shared_with_the_arrays():
    arrays = rules.frequent_itemsets([["a", "b"], ["a"], ["b", "c"]], min_support=1 / 3, itemsets="codes")
    frame = arrays.to_frame()
    arrays.count[:] = 99
    assert frame["count"].tolist() != [99] * len(frame)
    assert frame["support"].tolist() == (frame["count"] / 3).tolist()


def test_lists_of_labels_are_coded_with_python_equality():
    class Label(str):  # a str subclass equals the str it spells, as in a dict
        pass

    wide = "a" * 100
    baskets = [["milk", "b\u00e9b\u00e9", "\u65e5\u672c"], ("milk", 5), iter([5.0, "milk"]), [], {"\u65e5\u672c"},
               [Label("milk"), wide, "a" * 99 + "b", str(wide)]]
    indptr, codes, labels = cm._core.rules_encode_baskets(baskets)
    assert indptr.tolist() == [0, 3, 5, 7, 7, 8, 12]
    assert codes.tolist() == [0, 1, 2, 0, 3, 3, 0, 2, 0, 4, 5, 4]
    assert labels == ["milk", "b\u00e9b\u00e9", "\u65e5\u672c", 5, wide, "a" * 99 + "b"]
    # The itemsets are those of the same baskets as one-hot rows (mlxtend's input).
    found = _as_dict(rules.frequent_itemsets([["milk", "x"], ("milk", 5), iter([5.0, "milk"])], min_support=2))
    assert found == {frozenset(["milk"]): 1.0, frozenset([5]): 2 / 3, frozenset(["milk", 5]): 2 / 3}


@pytest.mark.parametrize("baskets,error,match", [
    ([["a"], "ab"], TypeError, "basket 1 is a string"),
    ([["a"], None], TypeError, "basket 1 is a NoneType"),
    ([["a"], 7], TypeError, "basket 1 is a int"),
    ([["a", None]], ValueError, "basket 0 has a missing item"),
    ([["a"], ["b", float("nan")]], ValueError, "basket 1 has a missing item"),
    ([["a", ["b"]]], TypeError, "item 1 of basket 0 is not hashable \\(list\\)"),
    ("abc", TypeError, "baskets: expected"),
])
def test_bad_items_in_lists_name_the_basket(baskets, error, match):
    with pytest.raises(error, match=match):
        rules.frequent_itemsets(baskets, min_support=0.5)
