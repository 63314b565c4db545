# SPDX-License-Identifier: Apache-2.0
"""crmine.prospect: kNN and look-alike scores against scikit-learn on the bank marketing data,
classifier-based look-alikes' held-out AUC against scikit-learn's, cross-sell look-alikes on the
groceries baskets, persistence, determinism and bad input."""

from __future__ import annotations

import lzma
import pickle

import numpy as np
import pandas as pd
import pytest
from conftest import shared_path

import crmine as cm

neighbors = pytest.importorskip("sklearn.neighbors")
sk_linear = pytest.importorskip("sklearn.linear_model")
sk_metrics = pytest.importorskip("sklearn.metrics")
sk_pre = pytest.importorskip("sklearn.preprocessing")

NUMERIC = ["age", "duration", "campaign", "pdays", "previous", "emp.var.rate", "cons.price.idx", "cons.conf.idx",
           "euribor3m", "nr.employed"]


def read_bank(full: bool) -> tuple[np.ndarray, np.ndarray]:
    """Numeric features and the subscribed label (the 'best' customers) of the bank marketing data."""
    if full:
        with lzma.open(shared_path("bank_marketing/bank-additional-full.csv").with_suffix(".csv.xz"), "rt") as f:
            frame = pd.read_csv(f, sep=";")
    else:
        frame = pd.read_csv(shared_path("bank_marketing/bank-additional.csv"), sep=";")
    return frame[NUMERIC].to_numpy(dtype=np.float64), (frame["y"] == "yes").to_numpy().astype(np.int32)


def split(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    order = np.random.default_rng(seed).permutation(n)
    cut = int(0.75 * n)
    return np.sort(order[:cut]), np.sort(order[cut:])


def test_nearest_neighbours_match_scikit_learn_on_bank_marketing() -> None:
    X, _ = read_bank(full=False)
    Z = sk_pre.StandardScaler().fit_transform(X)
    train, test = split(len(Z))
    ref = neighbors.NearestNeighbors(n_neighbors=11, algorithm="brute").fit(Z[train])
    d_sk, i_sk = ref.kneighbors(Z[test])  # one extra neighbour, to see ties across the 10th
    indices, distances = cm._core.nearest_neighbors(np.ascontiguousarray(Z[train]), np.ascontiguousarray(Z[test]), 10)
    np.testing.assert_allclose(distances, d_sk[:, :10], rtol=1e-7, atol=1e-7)
    # Identical indices wherever the distance is not tied with a neighbour's (ties may order differently).
    # (|q|^2 + |r|^2 - 2 q.r loses ~1e-8 to cancellation in both libraries, so near-ties count as ties).
    untied = np.ones_like(d_sk, dtype=bool)
    untied[:, 1:] &= np.abs(np.diff(d_sk, axis=1)) > 1e-6
    untied[:, :-1] &= np.abs(np.diff(d_sk, axis=1)) > 1e-6
    untied, i_sk = untied[:, :10], i_sk[:, :10]
    assert untied.mean() > 0.5
    assert (np.asarray(indices)[untied] == i_sk[untied]).all()


def test_knn_look_alike_scores_match_a_scikit_learn_knn_classifier() -> None:
    X, best = read_bank(full=False)
    train, test = split(len(X), seed=1)
    la = cm.prospect.LookAlike(n_neighbors=15).fit(X[train], best[train])
    scaler = sk_pre.StandardScaler().fit(X[train])
    sk = neighbors.KNeighborsClassifier(n_neighbors=15, algorithm="brute").fit(scaler.transform(X[train]), best[train])
    p = la.predict_proba(X[test])[:, 1]
    p_sk = sk.predict_proba(scaler.transform(X[test]))[:, 1]
    assert np.mean(np.abs(p - p_sk)) < 0.005  # only tied neighbours may differ
    auc, auc_sk = sk_metrics.roc_auc_score(best[test], p), sk_metrics.roc_auc_score(best[test], p_sk)
    assert abs(auc - auc_sk) < 0.005
    assert auc > 0.8


def test_classifier_look_alike_auc_matches_scikit_learn_on_held_out_customers() -> None:
    X, best = read_bank(full=True)
    train, test = split(len(X), seed=2)
    la = cm.prospect.LookAlike(method="classifier").fit(X[train], best[train])
    scaler = sk_pre.StandardScaler().fit(X[train])
    sk = sk_linear.LogisticRegression(max_iter=1000).fit(scaler.transform(X[train]), best[train])
    auc = sk_metrics.roc_auc_score(best[test], la.predict_proba(X[test])[:, 1])
    auc_sk = sk_metrics.roc_auc_score(best[test], sk.predict_proba(scaler.transform(X[test]))[:, 1])
    assert abs(auc - auc_sk) < 0.005
    assert auc > 0.9


def test_expected_value_is_p_best_times_the_value_of_the_nearest_best_customers() -> None:
    X, _ = read_bank(full=False)
    value = np.round(1 + 100 * np.random.default_rng(3).gamma(2.0, size=len(X)), 2)
    train, test = split(len(X), seed=3)
    frame = pd.DataFrame(X, columns=NUMERIC)
    la = cm.prospect.LookAlike(n_neighbors=8, best_quantile=0.8).fit(frame.iloc[train], value=value[train])
    best = value[train] >= np.quantile(value[train], 0.8)
    assert la.n_best_ == best.sum() and la.best_threshold_ == pytest.approx(np.quantile(value[train], 0.8))
    scaler = sk_pre.StandardScaler().fit(X[train])
    nn = neighbors.NearestNeighbors(n_neighbors=8, algorithm="brute").fit(scaler.transform(X[train][best]))
    d, i = nn.kneighbors(scaler.transform(X[test]))
    untied = np.abs(d[:, -1] - d[:, -2]) > 1e-6  # the 8th neighbour is unambiguous
    similar = value[train][best][i].mean(axis=1)
    ev = la.expected_value(frame.iloc[test])
    p = la.predict_proba(frame.iloc[test])[:, 1]
    np.testing.assert_allclose(ev[untied], (p * similar)[untied], rtol=1e-12)
    ranked = la.rank(frame.iloc[test].assign(cid=test), id="cid", top=50)
    assert list(ranked.columns) == ["cid", "p_best", "similar_value", "expected_value", "rank"]
    assert ranked["expected_value"].is_monotonic_decreasing and len(ranked) == 50


def test_pickle_round_trip_and_corrupt_bytes() -> None:
    X, best = read_bank(full=False)
    for method in ("knn", "classifier"):
        la = cm.prospect.LookAlike(method=method, n_neighbors=5).fit(X[:2000], best[:2000])
        back = pickle.loads(pickle.dumps(la))
        np.testing.assert_array_equal(back.expected_value(X[2000:2100]), la.expected_value(X[2000:2100]))
    data = bytearray(la.to_bytes())
    data[len(data) // 2] ^= 0xFF
    with pytest.raises(ValueError):
        cm._core.LookAlike.from_bytes(bytes(data))


def test_same_scores_at_any_thread_count() -> None:
    X, best = read_bank(full=False)
    a = cm.prospect.LookAlike(n_jobs=1).fit(X[:3000], best[:3000]).expected_value(X[3000:])
    b = cm.prospect.LookAlike(n_jobs=2).fit(X[:3000], best[:3000]).expected_value(X[3000:])
    np.testing.assert_array_equal(a, b)


def test_bad_input_is_rejected_with_the_argument_named() -> None:
    rng = np.random.default_rng(4)
    X, y = rng.normal(size=(50, 3)), (np.arange(50) < 10).astype(int)
    la = cm.prospect.LookAlike(n_neighbors=5)
    with pytest.raises(cm.NotFittedError):
        la.predict_proba(X)
    bad = X.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        la.fit(bad, y)
    with pytest.raises(ValueError, match="y"):
        la.fit(X, y[:10])
    with pytest.raises(ValueError, match="y"):
        la.fit(X, y * 2)
    with pytest.raises(ValueError, match="best"):
        la.fit(X, np.ones(50, dtype=int))
    with pytest.raises(ValueError, match="value"):
        la.fit(X)
    with pytest.raises(ValueError, match="n_neighbors"):
        cm.prospect.LookAlike(n_neighbors=51).fit(X, y)
    with pytest.raises(ValueError, match="method"):
        cm.prospect.LookAlike(method="svm").fit(X, y)
    la.fit(X, y)
    with pytest.raises(ValueError, match="features"):
        la.predict_proba(X[:, :2])


def groceries() -> pd.DataFrame:
    """The groceries baskets as a long table: each basket is a customer."""
    with open(shared_path("groceries/groceries.csv")) as f:
        rows = [(b, item.strip()) for b, line in enumerate(f) for item in line.strip().split(",") if item.strip()]
    return pd.DataFrame(rows, columns=["basket", "item"])


def test_cross_sell_scores_count_the_neighbours_items_on_groceries() -> None:
    tx = groceries()
    k = 10
    out = cm.prospect.cross_sell_prospects(tx, customer="basket", item="item", n_neighbors=k, min_score=0.0,
                                           top_n=1000, max_profile_items=60)
    # Recompute for 200 baskets with pandas from the same neighbours (on the same profile).
    codes, labels = pd.factorize(tx["basket"], sort=True)
    item_codes, items = pd.factorize(tx["item"], sort=True)
    pairs = pd.DataFrame({"c": codes, "i": item_codes}).drop_duplicates()
    buyers = pairs.groupby("i").size().reindex(range(len(items)), fill_value=0).to_numpy()
    top = np.lexsort((np.arange(len(items)), -buyers))[:60]
    P = np.zeros((len(labels), 60))
    col = {it: j for j, it in enumerate(top)}
    for c, i in pairs.itertuples(index=False):
        if i in col:
            P[c, col[i]] = 1.0
    norm = np.sqrt(P.sum(axis=1, keepdims=True))
    P = np.divide(P, norm, out=np.zeros_like(P), where=norm > 0)
    nb, _ = cm._core.nearest_neighbors(P, P, k, True)
    owned = pairs.groupby("c")["i"].apply(set)
    for c in range(0, len(labels), len(labels) // 200):
        counts = pd.Series([i for m in nb[c] for i in owned[m] if i not in owned[c]]).value_counts()
        got = out[out["basket"] == labels[c]].set_index("item")["score"]
        want = (counts / k).rename(index=lambda i: items[i])
        assert dict(got) == pytest.approx(dict(want), abs=1e-15)
    assert ((out["score"] >= 0) & (out["score"] <= 1)).all() and (out["lift"] > 0).all()


def test_cross_sell_finds_narrow_buyers_who_look_like_buyers_of_others() -> None:
    tx = groceries()
    out = cm.prospect.cross_sell_prospects(tx, customer="basket", item="item", n_neighbors=20, min_score=0.5,
                                           top_n=2, max_owned=3)
    assert len(out) > 0
    assert (out["n_owned"] <= 3).all() and (out["score"] >= 0.5).all()
    assert out.groupby("basket").size().max() <= 2
    owned = tx.groupby("basket")["item"].apply(set)
    assert not any(it in owned[b] for b, it in zip(out["basket"], out["item"]))
    with pytest.raises(ValueError, match="product"):
        cm.prospect.cross_sell_prospects(tx, customer="basket", item="product")
    with pytest.raises(ValueError, match="min_score"):
        cm.prospect.cross_sell_prospects(tx, customer="basket", item="item", min_score=1.5)


def test_cross_sell_on_customer_features() -> None:
    rng = np.random.default_rng(5)
    n = 300
    group = np.arange(n) % 2
    feats = pd.DataFrame({"x": group * 5.0 + rng.normal(size=n), "y": rng.normal(size=n)}, index=np.arange(n))
    # Group 1 buys A and B; group 0 buys C; customers 1 and 3 (group 1) bought only A.
    rows = [(c, "A") for c in range(n) if group[c] == 1] + [(c, "B") for c in range(5, n) if group[c] == 1]
    rows += [(c, "C") for c in range(n) if group[c] == 0]
    tx = pd.DataFrame(rows, columns=["cid", "item"])
    out = cm.prospect.cross_sell_prospects(tx, customer="cid", item="item", features=feats, n_neighbors=10,
                                           min_score=0.6)
    assert set(out.loc[out["cid"].isin([1, 3]), "item"]) == {"B"}
    with pytest.raises(ValueError, match="features"):
        cm.prospect.cross_sell_prospects(tx, customer="cid", item="item", features=feats.iloc[:10])
