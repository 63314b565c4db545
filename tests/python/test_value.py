# SPDX-License-Identifier: Apache-2.0
"""Specification of crmine.value: RFM, contribution and cohorts, checked against plain pandas."""

import numpy as np
import pandas as pd
import pytest

import crmine as cm

COLUMNS = dict(customer="customer_id", time="date", amount="amount")


# --- plain pandas versions of the documented definitions: the reference -----------------------

def pandas_scores(values: pd.Series, q: int, higher_is_better: bool) -> pd.Series:
    oriented = values if higher_is_better else -values
    worse = oriented.rank(method="min") - 1  # customers with a strictly worse value
    return (1 + np.floor(q * worse / len(values))).astype(int)


def pandas_rfm(log: pd.DataFrame, q: int = 5) -> pd.DataFrame:
    purchases = log[log["amount"] >= 0]
    day = log["date"].dt.normalize()
    as_of = day.max() + pd.Timedelta(days=1)
    per = purchases.assign(day=purchases["date"].dt.normalize()).groupby("customer_id")
    out = pd.DataFrame({
        "recency": (as_of - per["day"].max()).dt.days,
        "frequency": per["day"].nunique(),
    })
    out["revenue"] = log.groupby("customer_id")["amount"].sum().reindex(out.index)
    out["monetary"] = out["revenue"] / out["frequency"]
    out["r_score"] = pandas_scores(out["recency"], q, higher_is_better=False)
    out["f_score"] = pandas_scores(out["frequency"], q, higher_is_better=True)
    out["m_score"] = pandas_scores(out["monetary"], q, higher_is_better=True)
    return out


# --- RFM ---------------------------------------------------------------------------------------

def test_rfm_equals_plain_pandas_on_cdnow(cdnow_master):
    ours = cm.value.rfm(cdnow_master, **COLUMNS)
    ref = pandas_rfm(cdnow_master)
    assert len(ours) == 23_570
    ours = ours.loc[ref.index]
    np.testing.assert_array_equal(ours["recency"], ref["recency"])
    np.testing.assert_array_equal(ours["frequency"], ref["frequency"])
    np.testing.assert_allclose(ours["monetary"], ref["monetary"], rtol=1e-12)
    for score in ("r_score", "f_score", "m_score"):
        np.testing.assert_array_equal(ours[score], ref[score], err_msg=score)


def test_rfm_segments_follow_the_default_map(cdnow_master):
    table = cm.value.rfm(cdnow_master, **COLUMNS)
    grid = cm.value.default_segment_map()
    for (r, f), segment in table.groupby(["r_score", "f_score"])["segment"].first().items():
        matches = [name for name, rule in grid.items() if rule["r"][0] <= r <= rule["r"][1]
                   and rule["f"][0] <= f <= rule["f"][1]]
        assert matches[0] == segment
    assert list(table["segment"].cat.categories) == list(grid)
    summary = cm.value.rfm_segments(table)
    assert summary["customers"].sum() == len(table)
    assert summary["customer_share"].sum() == pytest.approx(1.0)
    assert summary["revenue_share"].sum() == pytest.approx(1.0)
    assert summary.loc["Champions", "mean_frequency"] > summary.loc["Lost", "mean_frequency"]


def test_rfm_ties_never_split_and_order_does_not_matter(cdnow_master, rng):
    table = cm.value.rfm(cdnow_master, **COLUMNS)
    assert table.groupby("frequency")["f_score"].nunique().max() == 1
    shuffled = cdnow_master.sample(frac=1.0, random_state=3)
    again = cm.value.rfm(shuffled, **COLUMNS)
    pd.testing.assert_frame_equal(table[["recency", "frequency", "r_score", "f_score", "m_score"]],
                                  again[["recency", "frequency", "r_score", "f_score", "m_score"]])
    np.testing.assert_allclose(table["monetary"], again["monetary"], rtol=1e-12)


def test_rfm_as_of_orders_q_and_custom_map(small_log):
    table = cm.value.rfm(small_log, **COLUMNS, order="order_id", as_of="2024-01-20", q=2,
                         segment_map={"Best": {"r": (2, 2), "f": (2, 2)}})
    assert list(table.index) == ["a", "b"]  # 'c' only returned: no purchase to score
    assert table.attrs["excluded_without_purchase"] == 1
    assert table.loc["b", "recency"] == 8 and table.loc["a", "recency"] == 9
    assert table.loc["b", "frequency"] == 2  # orders 100 and 102; 103 is a return
    assert table.loc["b", "monetary"] == pytest.approx((5 + 7 + 10 - 4) / 2)
    assert list(table["segment"]) == ["Other", "Best"]
    total = cm.value.rfm(small_log, **COLUMNS, monetary="total", segment_map=None)
    assert total.loc["b", "monetary"] == pytest.approx(18.0)
    assert "segment" not in total.columns


def test_rfm_integer_ids_numpy_columns_and_mapping_input():
    log = {"customer_id": np.array([3, 1, 3]), "date": np.array([19000, 19001, 19005]),
           "amount": np.array([1.0, 2.0, 3.0])}
    table = cm.value.rfm(cm.TransactionLog(log["customer_id"], log["date"], log["amount"], time_unit="D"),
                         segment_map=None)
    assert list(table.index) == [1, 3]
    assert list(table["recency"]) == [5, 1]


def test_transaction_log_does_not_copy_numpy_columns():
    customer = np.arange(1000, dtype=np.int64) % 37
    time = np.arange(1000, dtype=np.int64)
    amount = np.ones(1000)
    log = cm.TransactionLog(customer, time, amount, time_unit="D")
    assert np.shares_memory(log.customer, customer)
    assert np.shares_memory(log.time, time)
    assert np.shares_memory(log.amount, amount)


def test_same_result_at_any_thread_count(cdnow_master):
    one = cm.value.rfm(cdnow_master, **COLUMNS, n_jobs=1)
    two = cm.value.rfm(cdnow_master, **COLUMNS, n_jobs=2)
    pd.testing.assert_frame_equal(one, two)


# --- returns, missing customers and bad input ----------------------------------------------------

def test_return_policies(small_log):
    net = cm.value.summarize(small_log, **COLUMNS)
    assert net.loc["b", "revenue"] == pytest.approx(18.0)
    assert net.loc["b", "returned"] == pytest.approx(4.0)
    drop = cm.value.summarize(small_log, **COLUMNS, returns="drop")
    assert drop.loc["b", "revenue"] == pytest.approx(22.0)
    with pytest.raises(ValueError, match=r"amount: row 4 is negative"):
        cm.value.summarize(small_log, **COLUMNS, returns="error")
    with pytest.raises(ValueError, match="returns: must be one of"):
        cm.value.summarize(small_log, **COLUMNS, returns="ignore")


def test_missing_customer_ids_warn_with_count_or_raise(small_log):
    log = small_log.astype({"customer_id": object})
    log.loc[1, "customer_id"] = None
    with pytest.warns(UserWarning, match="dropped 1 of 6 rows without a customer id"):
        table = cm.value.summarize(log, **COLUMNS)
    assert "a" not in table.index
    with pytest.raises(ValueError, match="customer_id: row 1 has no customer id"):
        cm.value.summarize(log, **COLUMNS, missing_customer="error")


@pytest.mark.parametrize("mutate, message", [
    (lambda f: f.assign(amount=[1.0, np.nan, 1, 1, 1, 1]), r"amount: row 1 is not finite"),
    (lambda f: f.assign(amount=[1.0, np.inf, 1, 1, 1, 1]), r"amount: row 1 is not finite"),
    (lambda f: f.assign(date=["2024-01-01", "not a date", "2024-01-02", "2024-01-03", "2024-01-04",
                              "2024-01-05"]), r"date: cannot parse row 1 \('not a date'\)"),
    (lambda f: f.assign(date=pd.to_datetime(["2024-01-01", None, "2024-01-02", "2024-01-03", "2024-01-04",
                                             "2024-01-05"])), r"date: row 1 is missing \(NaT\)"),
    (lambda f: f.assign(date=np.arange(6)), r"date: integer times need time_unit"),
    (lambda f: f.iloc[:0], r"customer_id: the transaction log is empty"),
    (lambda f: f.assign(amount=["1", "x", "1", "1", "1", "1"]), r"amount: must be numeric"),
])
def test_bad_input_names_the_column(small_log, mutate, message):
    with pytest.raises((ValueError, TypeError), match=message):
        cm.value.rfm(mutate(small_log), **COLUMNS)


def test_bad_arguments(small_log):
    with pytest.raises(ValueError, match="column 'nope' is not in the frame"):
        cm.value.rfm(small_log, customer="nope")
    with pytest.raises(ValueError, match="q: must be in 2..20"):
        cm.value.rfm(small_log, **COLUMNS, q=1)
    with pytest.raises(ValueError, match="default segment map is defined on 5 score levels"):
        cm.value.rfm(small_log, **COLUMNS, q=4)
    with pytest.raises(ValueError, match="as_of: day .* is before the last purchase"):
        cm.value.rfm(small_log, **COLUMNS, as_of="2024-01-05")
    with pytest.raises(ValueError, match="monetary: must be 'mean' or 'total'"):
        cm.value.rfm(small_log, **COLUMNS, monetary="median")
    with pytest.raises(ValueError, match="has 2 rows but"):
        cm.TransactionLog(np.array([1, 2, 3]), np.array([1, 2], dtype=np.int64), np.ones(3), time_unit="D")
    with pytest.raises(TypeError, match="data: expected a TransactionLog"):
        cm.value.rfm([1, 2, 3])


# --- contribution --------------------------------------------------------------------------------

def test_contribution_equals_plain_pandas_on_cdnow(cdnow_master):
    ours = cm.value.contribution(cdnow_master, **COLUMNS)
    value = cdnow_master.groupby("customer_id")["amount"].sum()
    np.testing.assert_allclose(ours.table["value"], value.loc[ours.table.index], rtol=1e-12)
    # Rank on our sums: pandas' compensated sums can differ in the last bit and reorder ties.
    value = ours.table["value"].rename("amount").rename_axis("customer_id")
    ranked = value.reset_index().sort_values(["amount", "customer_id"], ascending=[False, True])
    total = ranked["amount"].sum()
    cumulative = ranked["amount"].cumsum() / total
    before = cumulative.shift(fill_value=0.0)
    abc = np.where(before < 0.80, "A", np.where(before < 0.95, "B", "C"))
    ref = pd.DataFrame({"rank": np.arange(1, len(ranked) + 1), "cumulative_share": cumulative.to_numpy(),
                        "abc": abc}, index=ranked["customer_id"]).loc[ours.table.index]
    np.testing.assert_array_equal(ours.table["rank"], ref["rank"])
    np.testing.assert_allclose(ours.table["cumulative_share"], ref["cumulative_share"], rtol=1e-10)
    np.testing.assert_array_equal(ours.table["abc"].astype(str), ref["abc"])
    x = np.sort(value.to_numpy())
    n = len(x)
    gini = np.sum((2 * np.arange(1, n + 1) - n - 1) * x) / (n * x.sum())
    assert ours.gini == pytest.approx(gini, rel=1e-10)
    assert ours.total == pytest.approx(2_500_315.63, rel=1e-12)  # the data set's documented sum
    top20 = ranked["amount"].iloc[: int(np.ceil(0.2 * n))].sum() / total
    assert ours.top_shares.loc[0.2] == pytest.approx(top20, rel=1e-12)
    assert ours.share_of_top(0.2) == pytest.approx(top20, rel=1e-12)
    assert ours.curve["value_share"].iloc[0] == 0 and ours.curve["value_share"].iloc[-1] == pytest.approx(1)
    assert np.all(np.diff(ours.curve["value_share"]) >= -1e-12)


def test_contribution_profit_flags_unprofitable_customers(small_log):
    result = cm.value.contribution(small_log, **COLUMNS, cost="cost")
    assert result.value_name == "profit"
    assert list(result.unprofitable.index) == ["c"]  # returned 1.0 at cost 0.5: profit -0.5
    series = pd.Series([5.0, 3.0, 2.0], index=["x", "y", "z"], name="clv")
    r = cm.value.contribution(series, a_share=0.5, b_share=0.3)
    assert list(r.table["abc"].astype(str)) == ["A", "B", "C"]
    with pytest.raises(ValueError, match="total is"):
        cm.value.contribution(pd.Series([-1.0, 0.5]))
    with pytest.raises(ValueError, match="a_share"):
        cm.value.contribution(series, a_share=1.5)


# --- cohorts -------------------------------------------------------------------------------------

def test_cohort_retention_equals_plain_pandas_on_cdnow(cdnow_master):
    ours = cm.value.cohort_retention(cdnow_master, **COLUMNS, period="M")
    month = cdnow_master["date"].dt.to_period("M")
    first = month.groupby(cdnow_master["customer_id"]).transform("min")
    offset = (month - first).apply(lambda d: d.n)
    ref_active = cdnow_master.groupby([first.astype(str), offset])["customer_id"].nunique().unstack()
    ref_revenue = cdnow_master.groupby([first.astype(str), offset])["amount"].sum().unstack()
    assert list(ours.sizes.index) == ["1997-01", "1997-02", "1997-03"]
    assert ours.sizes.sum() == 23_570
    got = ours.customers.loc[ref_active.index, ref_active.columns]
    np.testing.assert_array_equal(got.fillna(0).to_numpy(), ref_active.fillna(0).to_numpy())
    np.testing.assert_allclose(ours.revenue.loc[ref_revenue.index, ref_revenue.columns].fillna(0).to_numpy(),
                               ref_revenue.fillna(0).to_numpy(), rtol=1e-9)
    assert (ours.retention[0] == 1.0).all()
    # The March cohort cannot be observed for the last two months of the January cohort.
    assert np.isnan(ours.customers.loc["1997-03"].iloc[-1])


def test_cohort_weeks_start_on_monday(small_log):
    table = cm.value.cohort_retention(small_log, **COLUMNS, period="W")
    assert list(table.sizes.index) == ["2024-01-08"]  # 2024-01-10 is a Wednesday
    with pytest.raises(ValueError, match="period: must be one of"):
        cm.value.cohort_retention(small_log, **COLUMNS, period="fortnight")


# --- scale-out -----------------------------------------------------------------------------------

def test_partitioned_summaries_merge_to_the_single_machine_result(cdnow_master):
    dd = pytest.importorskip("dask.dataframe")
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, distributed.Client(cluster):
        ddf = dd.from_pandas(cdnow_master, npartitions=4)  # rows split without regard to customer
        on_cluster = cm.value.rfm(ddf, **COLUMNS)
    single = cm.value.rfm(cdnow_master, **COLUMNS)
    pd.testing.assert_frame_equal(on_cluster.drop(columns="revenue"), single.drop(columns="revenue"),
                                  check_index_type=False, check_exact=False, rtol=1e-12)
