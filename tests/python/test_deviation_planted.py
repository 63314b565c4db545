# SPDX-License-Identifier: Apache-2.0
"""Planted anomalies of every kind the issue names (spend spikes, stopped buyers, impossible amounts,
unusual product mixes, plus return bursts): the generator plants them without disturbing the sample,
and every detector's ROC AUC is reported per kind; the planted customers lead the alerts.

``pytest tests/python/test_deviation_planted.py -s`` prints the table quoted in docs/benchmarks.md."""

import numpy as np
import pandas as pd
import pytest

import crmine as cm
import crmine.deviation as cd

KINDS = ("spend_spike", "return_burst", "silence", "impossible_amount", "unusual_mix")


def roc_auc(y, score):
    from sklearn.metrics import roc_auc_score

    return roc_auc_score(y, score)


@pytest.fixture(scope="module")
def base():
    return cm.datasets.make_transactions(n_customers=3000, anomaly_rate=0.01, seed=3)


@pytest.fixture(scope="module")
def sample(base):
    return cm.datasets.add_anomalies(base, rate=0.005, seed=1)


def window_features(sample) -> pd.DataFrame:
    """One row per customer: the anomaly window against the customer's own past (spend, orders,
    returns), the largest unit price paid in the window against the item's median price, and the
    share of the window's spend in categories the customer never bought before."""
    tx = sample.transactions
    start, end = sample.truth["anomaly_window"]
    recent = (tx["date"] >= start).to_numpy()
    days_before, days_recent = (start - tx["date"].min()).days, (end - start).days + 1
    buy = (tx["amount"] > 0).to_numpy()
    lines = pd.DataFrame({"customer_id": tx["customer_id"], "recent": recent, "sales": tx["amount"].clip(lower=0),
                          "returns": (-tx["amount"]).clip(lower=0), "order": tx["order_id"].where(buy)})
    by = lines.groupby(["customer_id", "recent"]).agg(sales=("sales", "sum"), returns=("returns", "sum"),
                                                      orders=("order", "nunique")).unstack(fill_value=0)
    before = np.log1p(by[["sales", "orders"]].xs(False, axis=1, level=1) * days_recent / days_before)
    after = np.log1p(by[["sales", "orders", "returns"]].xs(True, axis=1, level=1))
    customers = by.index

    price_ratio = np.log(tx["unit_price"] / tx.groupby("item")["unit_price"].transform("median"))
    top_price = price_ratio[recent & buy].groupby(tx["customer_id"][recent & buy]).max()

    old = tx.loc[~recent & buy, ["customer_id", "category"]].drop_duplicates()
    seen = pd.MultiIndex.from_frame(old)
    now = tx.loc[recent & buy, ["customer_id", "category", "amount"]]
    is_new = ~pd.MultiIndex.from_frame(now[["customer_id", "category"]]).isin(seen)
    new_share = (now["amount"] * is_new).groupby(now["customer_id"]).sum() / now.groupby("customer_id")["amount"].sum()
    return pd.DataFrame({
        "spend_change": after["sales"] - before["sales"],
        "order_change": after["orders"] - before["orders"],
        "returns_recent": after["returns"],
        "orders_before": before["orders"],
        "price_ratio_max": top_price.reindex(customers, fill_value=0.0).clip(lower=0.0),
        "new_category_share": new_share.reindex(customers, fill_value=0.0),
    })


def test_added_kinds_leave_the_original_sample_untouched(base, sample):
    n_old = len(base.transactions)
    old_ids = sample.transactions["order_id"] <= base.transactions["order_id"].max()
    pd.testing.assert_frame_equal(sample.transactions[old_ids].reset_index(drop=True), base.transactions)
    assert len(sample.transactions) > n_old
    assert sample.transactions["date"].is_monotonic_increasing
    original = base.truth["anomalies"]
    pd.testing.assert_frame_equal(sample.truth["anomalies"].loc[original.index], original)
    # The base sample object itself is not modified.
    assert base.customers["is_anomalous"].sum() == len(original)


def test_added_kinds_are_planted_as_documented(base, sample):
    anomalies = sample.truth["anomalies"]
    added = anomalies[anomalies["kind"].isin(["impossible_amount", "unusual_mix"])]
    assert added["kind"].value_counts().to_dict() == {"impossible_amount": 15, "unusual_mix": 15}
    assert not added.index.isin(base.truth["anomalies"].index).any()
    assert set(anomalies.index) == set(sample.customers.index[sample.customers["is_anomalous"]])
    start, end = sample.truth["anomaly_window"]
    assert ((added["onset"] >= start) & (added["onset"] <= end)).all()
    tx = sample.transactions
    new_lines = tx[tx["order_id"] > base.transactions["order_id"].max()]
    assert set(new_lines["customer_id"]) == set(added.index)
    np.testing.assert_allclose(new_lines["amount"], new_lines["unit_price"] * new_lines["quantity"])
    shelf = sample.products["base_price"].reindex(new_lines["item"]).to_numpy()
    slipped = new_lines["customer_id"].isin(added.index[added["kind"] == "impossible_amount"]).to_numpy()
    ratio = new_lines["unit_price"].to_numpy()[slipped] / shelf[slipped]
    assert np.all((np.abs(ratio - 100) < 0.01) | (np.abs(ratio - 1000) < 0.1))
    # An unusual mix buys only categories the customer never bought before the window.
    before = tx[(tx["date"] < start) & (tx["quantity"] > 0)]
    for cid in added.index[added["kind"] == "unusual_mix"]:
        old = set(before.loc[before["customer_id"] == cid, "category"])
        assert not old & set(new_lines.loc[new_lines["customer_id"] == cid, "category"])


def test_same_seed_same_additions_other_seed_other_customers(base, sample):
    again = cm.datasets.add_anomalies(base, rate=0.005, seed=1)
    pd.testing.assert_frame_equal(again.transactions, sample.transactions)
    other = cm.datasets.add_anomalies(base, rate=0.005, seed=2)
    assert set(other.truth["anomalies"].index) != set(sample.truth["anomalies"].index)


@pytest.mark.parametrize("kwargs, match", [
    ({"rate": 0.7}, "rate"), ({"kinds": ("typo",)}, "kinds"), ({"seed": -1}, "seed")])
def test_add_anomalies_rejects_bad_arguments_naming_them(base, kwargs, match):
    with pytest.raises(ValueError, match=match):
        cm.datasets.add_anomalies(base, **kwargs)


def test_every_detector_auc_per_planted_kind(sample):
    X = window_features(sample)
    kind = sample.truth["anomalies"]["kind"].reindex(X.index)
    normal = kind.isna().to_numpy()
    scores = {
        "IsolationForest": cd.IsolationForest(random_state=0).fit(X).deviation_score(X),
        "LocalOutlierFactor": -cd.LocalOutlierFactor().fit(X).negative_outlier_factor_,
        "RobustZ": cd.RobustZ().fit(X).deviation_score(X),
        "HBOS": cd.HBOS().fit(X).deviation_score(X),
    }
    table = {}
    for name, s in scores.items():
        row = {}
        for k in KINDS:
            rows = normal | (kind == k).to_numpy()
            row[k] = roc_auc((kind[rows] == k).astype(int), s[rows])
        row["all"] = roc_auc((~normal).astype(int), s)
        table[name] = row
    frame = pd.DataFrame(table).T.round(3)
    print("\nROC AUC per planted kind (planted customers of that kind against the normal ones)\n",
          frame.to_string())
    # Every kind is found by the robust default and by at least one other detector.
    assert frame.loc["IsolationForest"].min() > 0.85
    for k in KINDS:
        assert (frame[k] > 0.9).sum() >= 2, k
    # The planted customers appear in the top alerts of IsolationForest: at least half of them, and
    # nearly all of the two kinds the added features describe directly.
    top = X.index[np.argsort(-scores["IsolationForest"])[: len(X) // 20]]
    found = kind.reindex(top).value_counts()
    counts = kind.value_counts()
    print("in the top 5% of IsolationForest alerts:", {k: f"{found.get(k, 0)}/{counts[k]}" for k in KINDS})
    assert found.sum() >= 0.5 * counts.sum()
    for k in ("impossible_amount", "unusual_mix"):
        assert found.get(k, 0) >= 0.8 * counts[k], k
