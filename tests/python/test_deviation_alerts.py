# SPDX-License-Identifier: Apache-2.0
"""Specification of crmine.deviation's history baselines, churn alerts, explanations and top-k metrics.

The baselines are checked against a plain pandas groupby computation of the documented
definitions (on CDNOW and on the sample), the robust scales against scipy, AUC against
scikit-learn, and the planted anomalies of the bundled sample against the alerts.
"""

import numpy as np
import pandas as pd
import pytest

import crmine as cm
from crmine import datasets
from crmine.deviation import alerts

COLUMNS = dict(customer="customer_id", time="date", amount="amount")


# --- the documented definitions in plain pandas: the reference ----------------------------------

def shrunk(n, var, mean, population, weight=2.0, cv=1.0):
    prior = cv * (n * mean + weight * population) / (n + weight)
    return np.sqrt(((n - 1) * var + weight * prior ** 2) / (n - 1 + weight))


def pandas_history(log: pd.DataFrame, period: int, window: int, as_of: pd.Timestamp) -> pd.DataFrame:
    day = (log["date"].dt.normalize() - as_of).dt.days  # negative: days before as_of
    rows = log.assign(k=(-1 - day) // period)[day < 0]
    buy, ret = rows[rows["amount"] >= 0], rows[rows["amount"] < 0]
    first_k = buy.groupby("customer_id")["k"].max()
    n = first_k.clip(upper=window)
    spend = buy[buy["k"] <= window].groupby(["customer_id", "k"])["amount"].sum().unstack(fill_value=0.0)
    spend = spend.reindex(index=n.index, columns=range(window + 1), fill_value=0.0)
    back = spend.loc[:, 1:].where(np.arange(1, window + 1)[None, :] <= n.to_numpy()[:, None])
    out = pd.DataFrame({"n_periods": n, "spend_mean": back.mean(axis=1), "spend_current": spend[0]})
    var = back.var(axis=1, ddof=1).fillna(0.0)
    out["spend_spread"] = shrunk(n, var, out["spend_mean"], spend.loc[:, 1:].to_numpy().sum() / n.sum()).where(n > 0)
    ret = ret[(ret["k"] >= 1) & (ret["k"] <= ret["customer_id"].map(n).astype(float))]  # from the first purchase on
    returned = (-ret["amount"]).groupby(ret["customer_id"]).sum().reindex(n.index)
    out["returns_mean"] = (returned.fillna(0.0) / n).where(n > 0)
    occasions = buy.assign(d=buy["date"].dt.normalize()).groupby(["customer_id", "d"]).agg(
        amount=("amount", "sum"), k=("k", "first")).reset_index()
    gaps = occasions.groupby("customer_id")["d"].diff().dt.days
    per = gaps.groupby(occasions["customer_id"])
    out["gap_n"] = per.count().reindex(n.index)
    out["gap_mean"] = per.mean().reindex(n.index)
    out["gap_spread"] = shrunk(out["gap_n"], per.var(ddof=1).reindex(n.index).fillna(0.0), out["gap_mean"],
                               gaps.mean())
    out["gap_current"] = (as_of - occasions.groupby("customer_id")["d"].max()).dt.days.reindex(n.index)
    base = occasions[occasions["k"].between(1, window)].groupby("customer_id")["amount"]
    out["basket_mean"] = base.mean().reindex(n.index)
    out["basket_spread"] = shrunk(base.count().reindex(n.index), base.var(ddof=1).reindex(n.index).fillna(0.0),
                                  out["basket_mean"], base.sum().sum() / base.count().sum())
    out["basket_current"] = occasions[occasions["k"] == 0].groupby("customer_id")["amount"].mean().reindex(n.index)
    return out


def assert_matches_pandas(ours: pd.DataFrame, ref: pd.DataFrame) -> None:
    ours = ours.reindex(ref.index)
    assert ours.index.equals(ref.index)
    np.testing.assert_array_equal(ours["n_periods"], ref["n_periods"])
    np.testing.assert_array_equal(ours["gap_n"], ref["gap_n"])
    for col in ref.columns.drop(["n_periods", "gap_n"]):
        np.testing.assert_allclose(ours[col].to_numpy(float), ref[col].to_numpy(float), rtol=1e-9, atol=1e-9,
                                   err_msg=col)


# --- history baselines ---------------------------------------------------------------------------

def test_history_baselines_equal_plain_pandas_on_cdnow(cdnow_master):
    as_of = pd.Timestamp("1998-01-01")
    ours = cm.deviation.history_deviations(cdnow_master, period="28D", window=6, as_of=as_of, **COLUMNS)
    assert ours.attrs["as_of"] == as_of and ours.attrs["period_days"] == 28
    assert_matches_pandas(ours, pandas_history(cdnow_master, 28, 6, as_of))


@pytest.fixture(scope="module")
def sample():
    return datasets.load_sample(seed=0)


@pytest.fixture(scope="module")
def history(sample):
    # This quarter against the four before: the sample plants its anomalies in its last 73 days.
    return cm.deviation.history_deviations(sample.transactions, period="90D", window=4, **COLUMNS)


def test_history_baselines_equal_plain_pandas_on_the_sample_with_returns(sample, history):
    tx = sample.transactions
    as_of = tx["date"].max().normalize() + pd.Timedelta(days=1)
    assert history.attrs["as_of"] == as_of
    ref = pandas_history(tx, 90, 4, as_of)
    assert_matches_pandas(history, ref)


def test_history_is_the_same_at_any_thread_count(sample):
    one = cm.deviation.history_deviations(sample.transactions, n_jobs=1, **COLUMNS)
    two = cm.deviation.history_deviations(sample.transactions, n_jobs=2, **COLUMNS)
    pd.testing.assert_frame_equal(one, two, check_exact=True)


def test_history_is_sorted_by_deviation_score_with_its_driver(history):
    assert history["deviation_score"].is_monotonic_decreasing
    top = history.iloc[0]
    assert top["deviation_score"] == pytest.approx(abs(top[f"{top['driver']}_z"]))
    no_baseline = history[history["n_periods"] == 0]
    assert (no_baseline["deviation_score"] == 0).all() and no_baseline["driver"].isna().all()


def test_planted_spend_spikes_and_return_bursts_lead_the_history_alerts(sample, history):
    truth = sample.truth["anomalies"]
    top = history.head(25)
    spikes = truth.index[truth["kind"] == "spend_spike"]
    bursts = truth.index[truth["kind"] == "return_burst"]
    assert set(spikes) <= set(top.index)  # all 9 spend spikes among the top 25 of 5,000
    assert len(top.index.intersection(bursts)) >= 4  # and half of the 8 return bursts
    assert set(history.loc[spikes, "driver"]) <= {"spend", "basket"}
    assert set(history.loc[top.index.intersection(bursts), "driver"]) == {"returns"}
    planted = pd.Series(history.index.isin(spikes.union(bursts)), index=history.index)
    scores = cm.deviation.evaluate_alerts(planted, history["deviation_score"], k=10)
    assert scores["roc_auc"] > 0.98 and scores["precision@10"] >= 0.7
    # Against every planted anomaly, silences included (churn_alerts' business), the score alone:
    y = sample.customers["is_anomalous"].reindex(history.index)
    assert cm.deviation.evaluate_alerts(y, history["deviation_score"], k=25)["roc_auc"] > 0.95


def test_churn_alerts_flag_the_planted_silences_and_the_truly_lapsed(sample):
    churn = cm.deviation.churn_alerts(sample.transactions, **COLUMNS)
    assert churn["value_at_risk"].is_monotonic_decreasing
    silent = sample.truth["anomalies"].index[sample.truth["anomalies"]["kind"] == "silence"]
    by_gap = churn[churn["flagged_by"].str.contains("gap")]
    assert set(silent) <= set(by_gap.index)  # every planted stopped buyer, flagged by its own gap
    assert churn.loc[silent, "explanation"].str.contains("days since the last purchase").all()
    # The generator knows who has really dropped out (BG/NBD): 52% of customers.
    lapsed = ~sample.customers["alive"]
    assert lapsed.reindex(churn.index).mean() > 0.85
    assert lapsed.reindex(churn.index[:20]).mean() >= 0.9
    assert 0.0 <= churn["p_alive"].min() and churn["p_alive"].max() <= 1.0


def test_churn_alerts_without_a_model_flag_by_gap_only(small_log):
    log = pd.DataFrame({"customer_id": ["a"] * 6 + ["b"] * 8,
                        "date": pd.to_datetime(["2024-01-01", "2024-01-11", "2024-01-21", "2024-01-31", "2024-02-10",
                                                "2024-02-20"] + [f"2024-{m:02d}-05" for m in range(1, 9)]),
                        "amount": [10.0] * 6 + [3.0] * 8})
    # 168 days = 16.8 usual gaps, but the third usual gap passed 138 days ago: no longer early.
    assert len(cm.deviation.churn_alerts(log, model=None, as_of="2024-08-06", **COLUMNS)) == 0
    churn = cm.deviation.churn_alerts(log, model=None, as_of="2024-08-06", within_days=138, **COLUMNS)
    assert list(churn.index) == ["a"]  # b bought yesterday
    row = churn.loc["a"]
    assert row["flagged_by"] == "gap" and np.isnan(row["p_alive"])
    assert row["days_since_purchase"] == 168 and row["usual_gap_days"] == 10
    assert row["value_at_risk"] == pytest.approx(60.0 / 60.0 * 365)


# --- peers ---------------------------------------------------------------------------------------

def test_peer_deviations_use_the_segment_median_and_scipy_mad(rng):
    stats = pytest.importorskip("scipy.stats")
    table = pd.DataFrame({"spend": rng.lognormal(3, 1, 300), "visits": rng.poisson(5, 300).astype(float),
                          "segment": rng.choice(["a", "b", "c"], 300)})
    out = cm.deviation.peer_deviations(table, "segment")
    for seg, rows in table.groupby("segment"):
        for col in ("spend", "visits"):
            x = rows[col]
            scale = stats.median_abs_deviation(x, scale="normal")
            np.testing.assert_allclose(out.loc[rows.index, f"z_{col}"], (x - x.median()) / scale, rtol=1e-12)
    assert (out["deviation_score"] == out[["z_spend", "z_visits"]].abs().max(axis=1)).all()


def _pandas_robust_scale(values, groups):
    """The pandas computation peer_deviations used before it moved to C++ (the reference)."""
    q3 = 0.6744897501960817
    by = values.groupby(groups, sort=False)
    med = by.transform("median")
    dev = (values - med).abs()
    mad = dev.groupby(groups, sort=False).transform("median") / q3
    iqr = (by.transform(lambda s: s.quantile(0.75)) - by.transform(lambda s: s.quantile(0.25))) / (2 * q3)
    mean_abs = np.sqrt(np.pi / 2) * dev.groupby(groups, sort=False).transform("mean")
    scale = mad.where(mad > 0, iqr)
    scale = scale.where(scale > 0, mean_abs)
    return med, scale.where(scale > 0)


def test_peer_deviations_equal_the_former_pandas_computation(rng):
    # Ties (MAD 0 -> IQR, IQR 0 -> mean absolute deviation), constant columns, NaN features, a
    # segment below min_peers: the compiled statistics equal pandas' groupby ones.
    n = 400
    table = pd.DataFrame({"spend": rng.lognormal(3, 1, n), "visits": rng.poisson(1, n).astype(float),
                          "rare": np.where(rng.random(n) < 0.1, rng.normal(0, 1, n), 0.0),
                          "flat": np.full(n, 2.0)})
    table.loc[rng.choice(n, 30, replace=False), "spend"] = np.nan
    seg = pd.Series(rng.choice(["a", "b", "c", "tiny"], n, p=[0.4, 0.3, 0.29, 0.01]), index=table.index)
    out = cm.deviation.peer_deviations(table, seg, min_peers=6)
    med, scale = _pandas_robust_scale(table, seg.to_numpy())
    np.testing.assert_allclose(out.attrs["median"], med, rtol=1e-13)
    np.testing.assert_allclose(out.attrs["scale"], scale, rtol=1e-12)
    z = (table - med) / scale
    z[seg.groupby(seg).transform("size").to_numpy() < 6] = np.nan
    np.testing.assert_allclose(out[[f"z_{c}" for c in table.columns]].to_numpy(), z.to_numpy(), rtol=1e-12)
    best = z.abs().max(axis=1)
    np.testing.assert_allclose(out["deviation_score"], best, rtol=1e-12)
    has = best.notna()
    assert (out.loc[has, "driver"] == z.abs()[has].idxmax(axis=1)).all()
    assert out.loc[~has, "driver"].isna().all()


def test_peer_deviations_leave_small_segments_unscored():
    table = pd.DataFrame({"x": [1.0, 2, 3, 4, 5, 6, 100], "seg": ["a"] * 6 + ["b"]})
    out = cm.deviation.peer_deviations(table, table["seg"], columns=["x"])
    assert np.isnan(out.loc[6, "z_x"]) and np.isnan(out.loc[6, "deviation_score"])
    with pytest.raises(ValueError, match="segment column 'nope'"):
        cm.deviation.peer_deviations(table, "nope")
    with pytest.raises(ValueError, match="min_peers"):
        cm.deviation.peer_deviations(table, "seg", min_peers=1)


# --- explanations --------------------------------------------------------------------------------

def test_explain_gives_value_reference_and_robust_z(rng):
    stats = pytest.importorskip("scipy.stats")
    X = pd.DataFrame(rng.normal(0, 1, (200, 3)), columns=["a", "b", "c"])
    X.loc[0, "b"] = 9.0
    why = cm.deviation.explain(X.iloc[[0]], train=X, top=2)
    first = why.iloc[0]
    assert first["feature"] == "b" and first["rank"] == 1 and first["direction"] == "above"
    assert first["value"] == 9.0 and first["reference"] == pytest.approx(X["b"].median())
    scale = stats.median_abs_deviation(X["b"], scale="normal")
    assert first["contribution"] == pytest.approx((9.0 - X["b"].median()) / scale)
    assert "vs median" in first["reason"] and len(why) == 2


def test_explain_against_peer_medians_per_row(rng):
    table = pd.DataFrame({"x": rng.normal(10, 1, 60), "y": rng.normal(0, 1, 60), "seg": np.repeat(["a", "b"], 30)})
    table.loc[3, "y"] = -8.0
    peers = cm.deviation.peer_deviations(table, "seg")
    why = cm.deviation.explain(table[["x", "y"]].loc[[3]], reference=peers.attrs["median"],
                               scale=peers.attrs["scale"], top=1)
    assert why.loc[0, "feature"] == "y" and why.loc[0, "direction"] == "below"
    assert why.loc[0, "contribution"] == pytest.approx(peers.loc[3, "z_y"])


def test_explain_history_alerts_against_the_customers_own_baseline(sample, history):
    spikes = sample.truth["anomalies"].index[sample.truth["anomalies"]["kind"] == "spend_spike"]
    why = cm.deviation.explain(history.loc[spikes], reference="baseline", top=1)
    assert set(why["feature"]) <= {"spend", "basket"}
    assert (why["value"] > why["reference"]).all()
    row = why.iloc[0]
    assert row["value"] == history.loc[row["customer_id"], f"{row['feature']}_current"]
    assert row["reason"].startswith(row["feature"]) and "vs usual" in row["reason"]


@pytest.mark.parametrize("make", [
    lambda: cm.deviation.IsolationForest(random_state=0),
    lambda: cm.deviation.LocalOutlierFactor(novelty=True),
    lambda: cm.deviation.RobustZ(),
    lambda: cm.deviation.Mahalanobis(),
    lambda: cm.deviation.HBOS(),
], ids=["IsolationForest", "LocalOutlierFactor", "RobustZ", "Mahalanobis", "HBOS"])
def test_explain_any_fitted_detector_through_its_scores(rng, make):
    X = pd.DataFrame(rng.normal(0, 1, (400, 4)), columns=["spend", "visits", "returns", "tenure"])
    det = make().fit(X)
    odd = X.iloc[:3].copy()
    odd.loc[0, "returns"] = 7.0
    odd.loc[1, "visits"] = -6.0
    odd.loc[2, "spend"] = 6.5
    why = cm.deviation.explain(odd, detector=det, train=X, top=1)
    assert list(why["feature"]) == ["returns", "visits", "spend"]
    assert (why["contribution"] > 0).all()  # resetting the feature makes the row more normal
    with pytest.raises(ValueError, match="features"):
        cm.deviation.explain(odd[["spend", "visits"]], detector=det)


# --- metrics -------------------------------------------------------------------------------------

def test_top_k_metrics_and_auc_agree_with_numpy_and_scikit_learn(rng):
    skm = pytest.importorskip("sklearn.metrics")
    y = rng.random(500) < 0.1
    s = y * 0.5 + rng.random(500)
    order = np.argsort(-s, kind="stable")
    for k in (1, 10, 50, 500):
        assert cm.deviation.precision_at_k(y, s, k) == pytest.approx(y[order[:k]].mean())
        assert cm.deviation.recall_at_k(y, s, k) == pytest.approx(y[order[:k]].sum() / y.sum())
    scores = cm.deviation.evaluate_alerts(y, s, k=10)
    assert scores["roc_auc"] == pytest.approx(skm.roc_auc_score(y, s), abs=1e-12)
    assert set(scores) == {"roc_auc", "precision@10", "recall@10"}


# --- bad input -----------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, match", [
    ({"window": 0}, "window"),
    ({"period": 0}, "period"),
    ({"period": "36h"}, "period"),
    ({"period": "soon"}, "period"),
    ({"prior_cv": 0.0}, "prior_cv"),
    ({"prior_weight": float("nan")}, "prior_weight"),
    ({"as_of": "2000-01-01"}, "as_of"),
    ({"as_of": "not a date"}, "as_of"),
    ({"n_jobs": 0}, "n_jobs"),
])
def test_history_rejects_bad_arguments_naming_them(small_log, kwargs, match):
    with pytest.raises(ValueError, match=match):
        cm.deviation.history_deviations(small_log, **COLUMNS, **kwargs)


@pytest.mark.parametrize("kwargs, match", [
    ({"gap_ratio": 1.0}, "gap_ratio"),
    ({"p_alive_threshold": 1.5}, "p_alive_threshold"),
    ({"p_alive_threshold": 0.0}, "p_alive_threshold"),
    ({"min_gaps": 0}, "min_gaps"),
    ({"horizon_days": 0}, "horizon_days"),
    ({"model": "magic"}, "model"),
    ({"model": "bgnbd"}, "at least 20"),
])
def test_churn_rejects_bad_arguments_naming_them(small_log, kwargs, match):
    with pytest.raises(ValueError, match=match):
        cm.deviation.churn_alerts(small_log, **COLUMNS, **kwargs)


def test_bad_logs_are_rejected_naming_the_column(small_log):
    bad = small_log.assign(amount=[1.0, np.inf, 2.0, 3.0, 4.0, 5.0])
    with pytest.raises(ValueError, match="amount.*row 1"):
        cm.deviation.history_deviations(bad, **COLUMNS)
    dates = small_log.assign(date=["2024-01-10", "yesterday", "2024-01-10", "2024-01-12", "2024-01-13", "2024-01-12"])
    with pytest.raises(ValueError, match="date.*row 1"):
        cm.deviation.history_deviations(dates, **COLUMNS)
    shuffled = small_log.sample(frac=1.0, random_state=1)
    pd.testing.assert_frame_equal(cm.deviation.history_deviations(shuffled, **COLUMNS).sort_index(),
                                  cm.deviation.history_deviations(small_log, **COLUMNS).sort_index())


def test_bad_explain_and_metric_input_is_rejected():
    X = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [1.0, np.inf, 0.0]})
    with pytest.raises(ValueError, match="'b' is infinite"):
        cm.deviation.explain(X)
    with pytest.raises(ValueError, match="top"):
        cm.deviation.explain(X[["a"]], top=0)
    with pytest.raises(ValueError, match="reference has no value"):
        cm.deviation.explain(X[["a"]], reference=pd.Series({"z": 1.0}))
    with pytest.raises(ValueError, match="reference='baseline'"):
        cm.deviation.explain(X[["a"]], reference="baseline")
    with pytest.raises(ValueError, match="k"):
        cm.deviation.precision_at_k([0, 1, 1], [0.1, 0.2, 0.3], k=4)
    with pytest.raises(ValueError, match="score has 2"):
        cm.deviation.recall_at_k([0, 1, 1], [0.1, 0.2], k=1)
    with pytest.raises(ValueError, match="NaN"):
        cm.deviation.precision_at_k([0, 1, 1], [0.1, np.nan, 0.3], k=1)


# --- report --------------------------------------------------------------------------------------

def test_report_has_a_deviations_section_with_explained_alerts(sample):
    import crmine.cli
    from crmine.report import Report
    from crmine.transactions import TransactionLog

    log = TransactionLog.from_frame(sample.transactions, **COLUMNS)
    report = Report("test")
    ctx = {"log": log, "as_of": None}
    alerts.deviations_section(report, ctx)
    html = report.to_html()
    assert "Deviations" in html and "Churn early warning" in html
    top = ctx["history_deviations"].head(20).index
    planted = sample.truth["anomalies"]
    assert len(top.intersection(planted.index[planted["kind"] != "silence"])) >= 10
    assert ("Deviations", alerts.deviations_section) in crmine.cli.SECTIONS
