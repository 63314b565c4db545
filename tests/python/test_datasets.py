# SPDX-License-Identifier: Apache-2.0
"""Specification tests for crmine.datasets: schema, determinism and the planted structure."""

import math

import numpy as np
import pandas as pd
import pytest

from crmine import datasets

TX_DTYPES = {
    "customer_id": "object", "order_id": "int64", "date": "datetime64[ns]", "item": "object",
    "category": "object", "quantity": "int64", "unit_price": "float64", "amount": "float64",
    "cost": "float64", "channel": "object",
}
CUSTOMER_DTYPES = {
    "region": "object", "channel": "object", "signup_date": "datetime64[ns]", "segment": "object",
    "purchase_rate": "float64", "dropout_prob": "float64", "alive": "bool",
    "mean_spend": "float64", "age": "int64", "is_anomalous": "bool",
}


@pytest.fixture(scope="module")
def sample():
    return datasets.load_sample()


@pytest.fixture(scope="module")
def purchases(sample):
    tx = sample.transactions
    return tx[tx["quantity"] > 0]


@pytest.fixture(scope="module")
def large():
    # Large and anomaly-free, so segment statistics can be compared with the model's formulas.
    return datasets.make_transactions(20_000, anomaly_rate=0.0, seed=0)


# ----------------------------------------------------------------------------- schema

def test_transaction_columns_and_dtypes(sample):
    tx = sample.transactions
    assert list(tx.columns) == list(TX_DTYPES)
    assert {c: str(t) for c, t in tx.dtypes.items()} == TX_DTYPES
    assert isinstance(tx.index, pd.RangeIndex)
    assert tx["customer_id"].str.fullmatch(r"C\d{6}").all()
    assert tx["item"].str.fullmatch(r"P\d{3}").all()
    assert set(tx["channel"]) == {"web", "store", "app"}


def test_customer_and_product_tables(sample):
    c, p = sample.customers, sample.products
    assert c.index.name == "customer_id" and c.index.is_unique and len(c) == 5000
    assert list(c.columns) == list(CUSTOMER_DTYPES)
    assert {k: str(t) for k, t in c.dtypes.items()} == CUSTOMER_DTYPES
    assert c["age"].between(18, 85).all()
    assert set(c["segment"]) == set(sample.truth["segments"])
    assert set(c["channel"]) <= {"web", "store", "app"}
    assert (c["purchase_rate"] > 0).all() and c["dropout_prob"].between(0, 1).all()
    assert (c["mean_spend"] > 0).all()

    assert p.index.name == "item" and p.index.is_unique and len(p) == 80
    assert p["cost_ratio"].between(0.4, 0.8).all()
    assert (p["base_price"] > 0).all()
    assert math.isclose(p["popularity"].sum(), 1.0)
    assert set(sample.transactions["item"]) <= set(p.index)
    cats = sample.transactions.drop_duplicates("item").set_index("item")["category"]
    assert (cats == p.loc[cats.index, "category"]).all()


def test_truth_contents(sample):
    truth = sample.truth
    for key in ("segments", "bundles", "sequences", "anomalies", "anomaly_window", "params"):
        assert key in truth
    shares = 0.0
    for params in truth["segments"].values():
        assert {"share", "r", "alpha", "a", "b", "p", "q", "gamma"} <= set(params)
        shares += params["share"]
    assert math.isclose(shares, 1.0)
    assert len(truth["bundles"]) == 4 and all(2 <= len(b) <= 3 for b in truth["bundles"])
    assert len(truth["sequences"]) == 3
    planted = [i for b in truth["bundles"] for i in b] + [i for s in truth["sequences"] for i in s]
    assert len(set(planted)) == len(planted)
    assert set(planted) <= set(sample.products.index)


def test_default_sample_size(sample, purchases):
    assert 40_000 <= len(sample.transactions) <= 120_000
    order_value = purchases.groupby("order_id")["amount"].sum()
    assert 2 <= order_value.median() <= 300
    assert order_value.quantile(0.99) < 2000


# ----------------------------------------------------------------------------- determinism

def test_same_seed_gives_identical_frames():
    a = datasets.make_transactions(800, seed=7)
    b = datasets.make_transactions(800, seed=7)
    pd.testing.assert_frame_equal(a.transactions, b.transactions)
    pd.testing.assert_frame_equal(a.customers, b.customers)
    pd.testing.assert_frame_equal(a.products, b.products)
    pd.testing.assert_frame_equal(a.truth["anomalies"], b.truth["anomalies"])
    assert a.truth["bundles"] == b.truth["bundles"]
    assert a.truth["sequences"] == b.truth["sequences"]


def test_different_seeds_differ():
    a = datasets.make_transactions(800, seed=1)
    b = datasets.make_transactions(800, seed=2)
    assert len(a.transactions) != len(b.transactions) or not a.transactions.equals(b.transactions)
    assert not a.customers["purchase_rate"].equals(b.customers["purchase_rate"])


def test_load_sample_is_make_transactions_defaults():
    a = datasets.load_sample(seed=3)
    b = datasets.make_transactions(seed=3)
    pd.testing.assert_frame_equal(a.transactions, b.transactions)


# ----------------------------------------------------------------------------- invariants

def test_every_customer_buys_and_first_order_is_signup(sample, purchases):
    assert set(purchases["customer_id"]) == set(sample.customers.index)
    first = purchases.groupby("customer_id")["date"].min()
    assert (first == sample.customers.loc[first.index, "signup_date"]).all()


def test_dates_in_range_and_sorted(sample):
    tx = sample.transactions
    start, end = sample.truth["params"]["start"], sample.truth["params"]["end"]
    assert tx["date"].min() >= start and tx["date"].max() <= end
    assert (tx["date"] == tx["date"].dt.normalize()).all()
    assert tx["date"].is_monotonic_increasing
    assert tx["order_id"].is_monotonic_increasing
    per_order = tx.groupby("order_id")[["date", "customer_id", "channel"]].nunique()
    assert (per_order == 1).all().all()
    signup = sample.customers["signup_date"]
    assert signup.min() >= start
    assert signup.max() <= start + 0.75 * (end - start)


def test_amount_is_quantity_times_price(sample):
    tx = sample.transactions
    assert (tx["quantity"] != 0).all()
    assert (tx["unit_price"] > 0).all()
    np.testing.assert_allclose(tx["amount"], tx["quantity"] * tx["unit_price"], rtol=0, atol=1e-9)
    assert (np.sign(tx["cost"]) == np.sign(tx["amount"])).all()
    assert not tx.duplicated(["order_id", "item"]).any()


def test_unit_price_comes_from_product_table(sample, purchases):
    base = sample.products.loc[purchases["item"], "base_price"].to_numpy()
    price = purchases["unit_price"].to_numpy()
    assert (price <= base + 1e-9).all()
    assert (price >= 0.45 * base).all()  # promotions take at most 50% off
    assert (price == base).mean() > 0.7


def test_returns_are_own_orders_and_never_exceed_purchases(sample):
    tx = sample.transactions
    returns = tx[tx["quantity"] < 0]
    assert len(returns) > 0
    assert (returns["amount"] < 0).all() and (returns["cost"] < 0).all()
    assert not returns["order_id"].isin(tx.loc[tx["quantity"] > 0, "order_id"]).any()
    assert returns["order_id"].is_unique
    running = tx.groupby(["customer_id", "item"])["quantity"].cumsum()
    assert (running >= 0).all()

    # Every return follows a purchase of the same item by the same customer within 30 days.
    buys = tx.loc[tx["quantity"] > 0, ["customer_id", "item", "date"]].rename(
        columns={"date": "bought"})
    matched = pd.merge_asof(returns[["customer_id", "item", "date"]].sort_values("date"),
                            buys.sort_values("bought"), left_on="date", right_on="bought",
                            by=["customer_id", "item"], allow_exact_matches=False,
                            tolerance=pd.Timedelta(days=30))
    assert matched["bought"].notna().all()


def test_return_rate_is_respected():
    s = datasets.make_transactions(3000, return_rate=0.1, anomaly_rate=0.0, seed=4)
    tx = s.transactions
    share = (tx["quantity"] < 0).sum() / (tx["quantity"] > 0).sum()
    assert 0.08 < share < 0.12
    none = datasets.make_transactions(1000, return_rate=0.0, anomaly_rate=0.0, seed=4)
    assert (none.transactions["quantity"] > 0).all()


def test_orders_mostly_use_the_preferred_channel(sample, purchases):
    preferred = sample.customers.loc[purchases["customer_id"], "channel"].to_numpy()
    share = (purchases["channel"].to_numpy() == preferred).mean()
    assert 0.8 < share < 0.93


def test_some_customers_are_unprofitable(sample):
    tx = sample.transactions
    profit = (tx["amount"] - tx["cost"]).groupby(tx["customer_id"]).sum()
    assert 0 < (profit < 0).sum() < 0.2 * len(profit)
    bargain = sample.customers["segment"] == "bargain hunter"
    assert (profit[bargain] < 0).mean() > (profit[~bargain] < 0).mean()


# ----------------------------------------------------------------------------- planted structure

def test_product_popularity_is_skewed(purchases):
    counts = purchases["item"].value_counts()
    assert counts.iloc[: len(counts) // 10].sum() > 0.3 * counts.sum()
    assert counts.iloc[0] > 5 * counts.median()


def test_bundles_have_high_lift(sample, purchases):
    n_orders = purchases["order_id"].nunique()
    for bundle in sample.truth["bundles"]:
        rows = purchases[purchases["item"].isin(bundle)]
        basket = pd.crosstab(rows["order_id"], rows["item"]) > 0
        for i, a in enumerate(bundle):
            for b in bundle[i + 1:]:
                both = (basket[a] & basket[b]).sum()
                lift = n_orders * both / (basket[a].sum() * basket[b].sum())
                assert lift > 3, (a, b, lift)


def test_sequences_follow_within_30_days(sample, purchases):
    n_customers = len(sample.customers)
    for a, b in sample.truth["sequences"]:
        buys_a = purchases.loc[purchases["item"] == a, ["customer_id", "date"]]
        buys_b = purchases.loc[purchases["item"] == b, ["customer_id", "date"]]
        pairs = buys_a.merge(buys_b, on="customer_id", suffixes=("_a", "_b"))
        gap = (pairs["date_b"] - pairs["date_a"]).dt.days
        followed = pairs.loc[gap.between(1, 30), "customer_id"].nunique()
        confidence = followed / buys_a["customer_id"].nunique()
        baseline = buys_b["customer_id"].nunique() / n_customers
        assert buys_a["customer_id"].nunique() >= 50
        assert confidence > 0.5 and confidence > 3 * baseline, (a, b, confidence, baseline)


def _beta_grid(a, b, n=4000):
    x = (np.arange(n) + 0.5) / n
    log_pdf = (a - 1) * np.log(x) + (b - 1) * np.log1p(-x)
    w = np.exp(log_pdf - log_pdf.max())
    return x, w / w.sum()


def test_alive_share_and_repeats_match_bgnbd(large):
    """Compare with E[alive] = E[(alpha/(alpha+pT))^r] and E[X(T)] = E[(1-that)/p] over p~Beta."""
    tx, customers = large.transactions, large.customers
    end = large.truth["params"]["end"]
    weeks = (((end - customers["signup_date"]).dt.days + 1) / 7.0).to_numpy()
    orders = tx[tx["quantity"] > 0].groupby("customer_id")["order_id"].nunique()
    repeats = (orders - 1).reindex(customers.index).to_numpy()
    for name, prm in large.truth["segments"].items():
        mask = (customers["segment"] == name).to_numpy()
        n = mask.sum()
        assert abs(n / len(customers) - prm["share"]) < 0.02
        x, w = _beta_grid(prm["a"], prm["b"])
        t, count = np.unique(weeks[mask], return_counts=True)
        survive = (prm["alpha"] / (prm["alpha"] + np.outer(x, t))) ** prm["r"]
        expected_alive = (w @ survive) @ count / n
        expected_repeats = (w @ ((1.0 - survive) / x[:, None])) @ count / n

        alive = customers.loc[mask, "alive"].mean()
        se_alive = math.sqrt(expected_alive * (1 - expected_alive) / n)
        assert abs(alive - expected_alive) < 4.5 * se_alive + 0.005, (name, alive, expected_alive)
        rep = repeats[mask]
        se_rep = rep.std() / math.sqrt(n)
        assert abs(rep.mean() - expected_repeats) < 4.5 * se_rep + 0.02, (
            name, rep.mean(), expected_repeats)

        lam = customers.loc[mask, "purchase_rate"]
        assert abs(lam.mean() / (prm["r"] / prm["alpha"]) - 1) < 0.1, name
        drop = customers.loc[mask, "dropout_prob"]
        assert abs(drop.mean() / (prm["a"] / (prm["a"] + prm["b"])) - 1) < 0.1, name


def test_segments_are_behaviourally_distinct(large):
    tx, customers = large.transactions, large.customers
    orders = tx[tx["quantity"] > 0].groupby("customer_id")["order_id"].nunique()
    by_segment = orders.groupby(customers["segment"]).mean()
    assert by_segment.idxmax() == "loyal high-value"
    assert by_segment.idxmin() == "one-off"


def test_order_values_follow_gamma_gamma(large):
    tx, customers = large.transactions, large.customers
    order_value = tx[tx["quantity"] > 0].groupby(["customer_id", "order_id"])["amount"].sum()
    realised = order_value.groupby("customer_id").mean()
    planted = customers.loc[realised.index, "mean_spend"]
    assert np.corrcoef(np.log(realised), np.log(planted))[0, 1] > 0.75
    for name, prm in large.truth["segments"].items():
        mask = customers.loc[realised.index, "segment"] == name
        assert 0.9 < realised[mask].mean() / planted[mask].mean() < 1.25, name
        segment_mean = prm["p"] * prm["gamma"] / (prm["q"] - 1)
        all_planted = customers.loc[customers["segment"] == name, "mean_spend"]
        assert abs(all_planted.mean() / segment_mean - 1) < 0.1, name


def test_anomalies_are_planted_and_visible(sample, purchases):
    tx, customers, truth = sample.transactions, sample.customers, sample.truth
    anomalies = truth["anomalies"]
    assert list(anomalies.columns) == ["kind", "onset"]
    assert set(anomalies["kind"]) == {"spend_spike", "return_burst", "silence"}
    assert 0.5 * 0.005 * 5000 <= len(anomalies) <= 2 * 0.005 * 5000
    assert set(anomalies.index) == set(customers.index[customers["is_anomalous"]])
    window_start, window_end = truth["anomaly_window"]
    assert window_end == truth["params"]["end"]
    assert (anomalies["onset"] >= window_start).all()
    assert (anomalies["onset"] <= window_end).all()

    value = purchases.groupby(["customer_id", "order_id", "date"])["amount"].sum().reset_index()
    returns = tx[tx["quantity"] < 0]
    for cid, row in anomalies.iterrows():
        mine = value[value["customer_id"] == cid]
        before, after = mine[mine["date"] < window_start], mine[mine["date"] >= window_start]
        if row["kind"] == "spend_spike":
            assert len(after) >= 1
            assert len(before) >= 3
            assert after["amount"].mean() > 2 * before["amount"].mean()
            assert after["amount"].min() > 4 * customers.loc[cid, "mean_spend"]
        elif row["kind"] == "return_burst":
            burst = returns[(returns["customer_id"] == cid) & (returns["date"] >= window_start)]
            assert len(burst) >= 2
            assert burst["date"].min() == row["onset"]
        else:
            assert len(after) == 0 and mine["date"].max() < row["onset"]
            gaps = mine["date"].sort_values().diff().dt.days.dropna()
            assert len(gaps) >= 3 and gaps.between(5, 16).all()
            assert not customers.loc[cid, "alive"]


def test_at_least_one_anomaly_from_200_customers():
    s = datasets.make_transactions(200, anomaly_rate=0.001, seed=11)
    assert len(s.truth["anomalies"]) == 1
    assert s.customers["is_anomalous"].sum() == 1
    none = datasets.make_transactions(500, anomaly_rate=0.0, seed=11)
    assert len(none.truth["anomalies"]) == 0 and not none.customers["is_anomalous"].any()


@pytest.mark.parametrize("kwargs", [
    dict(n_customers=1), dict(n_customers=3, end="2023-01-02"),
    dict(n_customers=300, start="2024-02-01", end="2024-02-20"), dict(n_products=10),
])
def test_edge_sizes_keep_invariants(kwargs):
    kwargs.setdefault("n_customers", 500)
    s = datasets.make_transactions(**kwargs, seed=5)
    tx = s.transactions
    assert set(tx["customer_id"]) == set(s.customers.index)
    assert tx["order_id"].is_monotonic_increasing and tx["date"].is_monotonic_increasing
    assert tx["date"].max() <= s.truth["params"]["end"]
    assert (tx.groupby(["customer_id", "item"])["quantity"].cumsum() >= 0).all()
    assert s.truth["bundles"] and s.truth["sequences"]


# ----------------------------------------------------------------------------- arguments

@pytest.mark.parametrize("kwargs, name", [
    (dict(n_customers=0), "n_customers"),
    (dict(n_customers=-5), "n_customers"),
    (dict(start="2024-01-01", end="2024-01-01"), "end"),
    (dict(start="2024-01-01", end="2023-06-01"), "end"),
    (dict(start="not a date"), "start"),
    (dict(return_rate=-0.01), "return_rate"),
    (dict(return_rate=0.51), "return_rate"),
    (dict(return_rate=float("nan")), "return_rate"),
    (dict(anomaly_rate=0.6), "anomaly_rate"),
    (dict(n_products=9), "n_products"),
    (dict(seed=-1), "seed"),
])
def test_bad_values_raise_value_error(kwargs, name):
    with pytest.raises(ValueError, match=name):
        datasets.make_transactions(**kwargs)


@pytest.mark.parametrize("kwargs, name", [
    (dict(seed=1.5), "seed"), (dict(seed="1"), "seed"), (dict(seed=None), "seed"),
    (dict(seed=True), "seed"), (dict(n_customers=100.0), "n_customers"),
    (dict(n_products="80"), "n_products"), (dict(return_rate="0.1"), "return_rate"),
])
def test_bad_types_raise_type_error(kwargs, name):
    with pytest.raises(TypeError, match=name):
        datasets.make_transactions(**kwargs)


def test_numpy_integer_seed_is_accepted():
    a = datasets.make_transactions(300, seed=np.int64(9))
    b = datasets.make_transactions(300, seed=9)
    pd.testing.assert_frame_equal(a.transactions, b.transactions)
