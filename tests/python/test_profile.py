# SPDX-License-Identifier: Apache-2.0
"""The 7P profile and the spend trend, checked against pandas/numpy and the models they gather."""

import numpy as np
import pandas as pd
import pytest

import crmine as cm


@pytest.fixture(scope="module")
def sample():
    return cm.datasets.make_transactions(600, seed=5)


def brute_force_trend(tx, period="M", customers=120):
    """numpy.polyfit slope of the net spend per period of the first `customers` customers, from
    their first purchase to the end of the log."""
    periods = tx["date"].dt.to_period(period)
    last = periods.max()
    out = {}
    chosen = tx["customer_id"].isin(np.sort(tx["customer_id"].unique())[:customers])
    for cust, rows in tx.assign(period=periods)[chosen].groupby("customer_id"):
        first = rows.loc[rows["amount"] >= 0, "period"].min()
        if pd.isna(first):  # returns only: no purchase, no trend
            continue
        span = pd.period_range(first, last, freq=period)
        spend = rows.assign(period=rows["period"].where(rows["period"] >= first, first)).groupby("period")[
            "amount"].sum().reindex(span, fill_value=0.0)
        out[cust] = np.polyfit(np.arange(len(span)), spend.to_numpy(), 1)[0] if len(span) > 1 else np.nan
    return pd.Series(out)


def test_spend_trend_is_the_least_squares_slope(sample):
    tx = sample.transactions
    trend = cm.profile.spend_trend(tx, customer="customer_id", time="date", amount="amount")
    expected = brute_force_trend(tx)
    assert len(expected) == 120
    np.testing.assert_allclose(trend["slope"].reindex(expected.index).to_numpy(), expected.to_numpy(), rtol=1e-9,
                               atol=1e-9)
    assert trend["periods"].min() >= 1
    ok = trend["mean_spend"] > 0
    np.testing.assert_allclose(trend.loc[ok, "relative_slope"], trend.loc[ok, "slope"] / trend.loc[ok, "mean_spend"])
    # Quarterly periods give the quarterly fit.
    quarterly = cm.profile.spend_trend(tx, period="Q")
    expected = brute_force_trend(tx, "Q")
    np.testing.assert_allclose(quarterly["slope"].reindex(expected.index).to_numpy(), expected.to_numpy(), rtol=1e-9,
                               atol=1e-9)


def test_seven_p_gathers_every_group_from_the_log(sample):
    tx = sample.transactions
    table = cm.profile.seven_p(tx, order="order_id", cost="cost", category="category",
                               attributes=sample.customers[["region", "age"]])
    assert list(table.columns.get_level_values("group").unique()) == [
        "profile", "persistency", "profitability", "performance", "product"]
    assert table.index.is_unique and table.index.name == "customer_id"
    rfm = cm.value.rfm(tx, order="order_id", cost="cost")
    pd.testing.assert_index_equal(table.index, rfm.index)
    np.testing.assert_array_equal(table[("persistency", "recency_days")], rfm["recency"])
    np.testing.assert_array_equal(table[("profile", "region")], sample.customers["region"].reindex(table.index))
    assert (table[("profile", "segment")].astype(str) == rfm["segment"].astype(str)).all()
    summary = cm.value.summarize(tx, order="order_id", cost="cost").reindex(table.index)
    np.testing.assert_allclose(table[("profitability", "profit")], summary["profit"])
    shares = table["product"].filter(like="share_")
    np.testing.assert_allclose(shares.sum(axis=1), 1.0)
    bought = tx[tx["amount"] > 0]
    mix = bought.groupby(["customer_id", "category"])["amount"].sum().unstack(fill_value=0)
    one = table.index[0]
    top = mix.loc[one].idxmax()
    assert table.loc[one, ("product", "top_category")] == top
    assert table.loc[one, ("product", "n_categories")] == (mix.loc[one] > 0).sum()
    omitted = table.attrs["omitted"]
    assert "needs clv_model" in omitted["persistency.p_alive"]
    assert "promotion.response_score" in omitted and "product.cross_sell_score" in omitted
    flat = cm.profile.seven_p(tx, flat=True)
    assert "performance__spend_trend" in flat.columns and "profitability__profit" not in flat.columns
    assert flat.attrs["omitted"]["profitability.profit"] == "the log has no cost column"


def test_seven_p_takes_fitted_models_and_scores(sample):
    tx = sample.transactions
    data = cm.clv.summary(tx, order="order_id", freq="W")  # occasions = orders, as seven_p will count them
    bgf = cm.clv.BetaGeo().fit(data["frequency"], data["recency"], data["T"])
    repeat = data[(data["frequency"] > 0) & (data["monetary_value"] > 0)]
    ggf = cm.clv.GammaGamma().fit(repeat["frequency"], repeat["monetary_value"])
    customers = data.index
    response = pd.Series(np.linspace(0, 1, len(customers)), index=customers[::-1])
    features = pd.DataFrame({"x": np.arange(len(customers), dtype=float)}, index=customers)

    class Scorer:  # any fitted model with predict() works for uplift
        def predict(self, X):
            return X["x"].to_numpy() / 10

    table = cm.profile.seven_p(tx, order="order_id", clv_model=bgf, spend_model=ggf, response=response,
                               uplift=(Scorer(), features))
    idx = table.index
    d = data.reindex(idx)
    np.testing.assert_allclose(table[("persistency", "p_alive")],
                               bgf.conditional_probability_alive(d["frequency"], d["recency"], d["T"]))
    np.testing.assert_allclose(table[("prospects", "expected_purchases")],
                               bgf.conditional_expected_number_of_purchases_up_to_time(
                                   12 * 4.345, d["frequency"], d["recency"], d["T"]))
    ok = (d["frequency"] == 0) | (d["monetary_value"] > 0)
    assert (~ok).any() and table.loc[~ok, ("profitability", "clv")].isna().all()
    np.testing.assert_allclose(table.loc[ok, ("profitability", "clv")], ggf.customer_lifetime_value(
        bgf, d["frequency"][ok], d["recency"][ok], d["T"][ok], d["monetary_value"][ok], time=12, freq="W"))
    np.testing.assert_allclose(table[("promotion", "response_score")], response.reindex(idx))
    np.testing.assert_allclose(table[("promotion", "uplift_score")], features["x"].reindex(idx) / 10)
    assert "persistency.p_alive" not in table.attrs["omitted"]


def test_seven_p_cross_sell_uses_the_recommender(sample):
    tx = sample.transactions
    rec = cm.rules.Recommender(min_support=0.01, min_threshold=0.05).fit(tx, order="order_id", item="category")
    table = cm.profile.seven_p(tx, item="category", recommender=rec)
    for cust in table.index[:20]:
        basket = tx.loc[tx["customer_id"] == cust, "category"].unique()
        expected = rec.recommend(basket, k=1)
        got = table.loc[cust, ("product", "cross_sell_item")]
        if len(expected):
            assert got == expected["item"].iloc[0]
            assert table.loc[cust, ("product", "cross_sell_score")] == pytest.approx(expected["score"].iloc[0])
        else:
            assert got is None and np.isnan(table.loc[cust, ("product", "cross_sell_score")])


def test_seven_p_bad_input_names_the_argument(sample):
    tx = sample.transactions
    with pytest.raises(ValueError, match="response: no customer id in common"):
        cm.profile.seven_p(tx, response=pd.Series([0.5], index=["nobody"]))
    with pytest.raises(ValueError, match="response: an array must have one value per customer"):
        cm.profile.seven_p(tx, response=np.zeros(3))
    with pytest.raises(ValueError, match="category: column 'nope'"):
        cm.profile.seven_p(tx, category="nope")
    with pytest.raises(ValueError, match="item"):
        cm.profile.seven_p(tx, recommender=object())
    with pytest.raises(ValueError, match="period"):
        cm.profile.spend_trend(tx, period="H")
    with pytest.raises(ValueError, match="as_of_day"):
        cm.profile.spend_trend(tx, as_of="2020-01-01")
    with pytest.raises(ValueError, match="attributes: customer ids in the index must be unique"):
        cm.profile.seven_p(tx, attributes=pd.DataFrame({"a": [1, 2]}, index=["C000001", "C000001"]))


def test_seven_p_can_fit_the_clv_models_itself(sample):
    tx = sample.transactions
    table = cm.profile.seven_p(tx, order="order_id", fit_clv=True)
    for column in [("persistency", "p_alive"), ("prospects", "expected_purchases"), ("profitability", "clv")]:
        assert column in table.columns
    p_alive = table[("persistency", "p_alive")]
    assert p_alive.between(0, 1).all()
    # Recent buyers are more likely alive than customers silent for a year.
    recency = table[("persistency", "recency_days")]
    assert p_alive[recency < 60].mean() > p_alive[recency > 365].mean()
    assert not any(key.startswith(("persistency.", "prospects.")) for key in table.attrs["omitted"])


# ----------------------------------------------------------------------------- report section

def test_sample_report_has_a_7p_section_from_the_models_it_fitted(tmp_path):
    from crmine import cli

    out = tmp_path / "r.html"
    assert cli.main(["report", "--sample", "--sample-customers", "300", "-o", str(out), "-q"]) == 0
    html = out.read_text(encoding="utf-8")
    assert "7P customer profile" in html and "Average profile by RFM segment" in html
    # p_alive and CLV come from the lifetime-value section's models, uplift from the campaign section's.
    for field in ("persistency: p_alive", "profitability: clv", "promotion: uplift_score", "product: top_category"):
        assert field in html


def test_report_without_models_lists_what_the_profile_left_out(tmp_path):
    from crmine import cli

    sample = cm.datasets.make_transactions(40, seed=4)
    path, out = tmp_path / "log.csv", tmp_path / "r.html"
    sample.transactions[["customer_id", "date", "amount"]].to_csv(path, index=False)
    assert cli.main(["report", str(path), "-o", str(out), "-q"]) == 0
    html = out.read_text(encoding="utf-8")
    assert "7P customer profile" in html and "Left out:" in html and "promotion.uplift_score" in html
