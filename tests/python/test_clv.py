# SPDX-License-Identifier: Apache-2.0
"""crmine.clv: published CDNOW/donations fits, agreement with lifetimes, summary, bad input."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import crmine as cm

DATA = Path(os.environ.get("CRMINE_SHARED_DATA", Path(__file__).resolve().parents[2].parent / "shared" / "data"))
CDNOW = DATA / "cdnow"
pytestmark = pytest.mark.skipif(not CDNOW.exists(), reason="shared CDNOW data not available")


@pytest.fixture(scope="module")
def cdnow() -> pd.DataFrame:
    return pd.read_csv(CDNOW / "cdnow_customers_summary.csv", index_col="ID")


@pytest.fixture(scope="module")
def cdnow_spend() -> pd.DataFrame:
    frame = pd.read_csv(CDNOW / "cdnow_customers_summary_with_transactions.csv", index_col="ID")
    return frame[frame["x"] > 0]


def assert_3_digits(params: dict, expected: dict) -> None:
    for name, value in expected.items():
        assert params[name] == pytest.approx(value, rel=1.5e-3), name


def test_beta_geo_matches_published_fit(cdnow):
    m = cm.clv.BetaGeo().fit(cdnow["frequency"], cdnow["recency"], cdnow["T"])
    assert_3_digits(m.params_, {"r": 0.2426, "alpha": 4.4135, "a": 0.7929, "b": 2.4258})
    assert m.log_likelihood_ == pytest.approx(-9582.43, abs=0.01)
    assert m.converged_
    assert all(se > 0 for se in m.standard_errors_.values())


def test_pareto_nbd_matches_published_fit(cdnow):
    m = cm.clv.ParetoNBD().fit(cdnow["frequency"], cdnow["recency"], cdnow["T"])
    assert_3_digits(m.params_, {"r": 0.5533, "alpha": 10.5776, "s": 0.6062, "beta": 11.6678})
    assert m.log_likelihood_ == pytest.approx(-9594.97, abs=0.01)


def test_modified_beta_geo_matches_btydplus_fit(cdnow):
    m = cm.clv.ModifiedBetaGeo().fit(cdnow["frequency"], cdnow["recency"], cdnow["T"])
    assert_3_digits(m.params_, {"r": 0.525, "alpha": 6.183, "a": 0.891, "b": 1.614})


def test_gamma_gamma_matches_published_fit(cdnow_spend):
    m = cm.clv.GammaGamma().fit(cdnow_spend["x"], cdnow_spend["zbar"])
    assert_3_digits(m.params_, {"p": 6.2488, "q": 3.7446, "gamma": 15.4478})
    assert m.log_likelihood_ == pytest.approx(-4055.92, abs=0.01)


def test_bg_bb_matches_published_fit():
    d = pd.read_csv(CDNOW / "donations.csv")
    m = cm.clv.BetaGeoBetaBinom().fit(d["frequency"], d["recency"], d["periods"], weights=d["weights"])
    assert_3_digits(m.params_, {"alpha": 1.2035, "beta": 0.7497, "gamma": 0.6567, "delta": 2.7834})
    assert m.log_likelihood_ == pytest.approx(-33225.58, abs=0.01)


def test_summary_of_cdnow_sample_reproduces_published_summary(cdnow):
    raw = pd.read_csv(CDNOW / "CDNOW_sample.txt", sep=r"\s+", header=None,
                      names=["master", "customer_id", "date", "cds", "amount"])
    raw["date"] = pd.to_datetime(raw["date"].astype(str), format="%Y%m%d")
    s = cm.clv.summary(raw, customer="customer_id", time="date", amount="amount", freq="W",
                       calibration_end="1997-09-30", observation_end="1998-06-30")
    s = s.reindex(cdnow.index)
    np.testing.assert_array_equal(s["frequency"].to_numpy(), cdnow["frequency"].to_numpy())
    np.testing.assert_allclose(s["recency"].to_numpy(), cdnow["recency"].to_numpy(), atol=0.006)
    np.testing.assert_allclose(s["T"].to_numpy(), cdnow["T"].to_numpy(), atol=0.006)
    assert {"frequency_holdout", "monetary_value_holdout", "duration_holdout"} <= set(s.columns)
    assert s["duration_holdout"].iloc[0] == pytest.approx(273 / 7)
    m = cm.clv.BetaGeo().fit(s["frequency"], s["recency"], s["T"])
    table = cm.clv.calibration_holdout_table(m, s)
    assert list(table.columns) == ["n_customers", "actual", "predicted"]
    assert table["n_customers"].sum() == len(s)
    # The BG/NBD paper's figure 4: conditional expectations track the holdout within ~0.3/customer.
    assert np.all(np.abs(table["actual"] - table["predicted"]) < 0.6)


# --- agreement with lifetimes at identical parameters -------------------------------------------

@pytest.fixture(scope="module")
def lifetimes():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pytest.importorskip("lifetimes")


def _lt(fitter_class, params):
    f = fitter_class()
    f.params_ = pd.Series(params)
    return f


@pytest.mark.parametrize("ours, theirs", [("BetaGeo", "BetaGeoFitter"), ("ModifiedBetaGeo", "ModifiedBetaGeoFitter"),
                                          ("ParetoNBD", "ParetoNBDFitter")])
def test_predictions_equal_lifetimes(cdnow, lifetimes, ours, theirs):
    m = getattr(cm.clv, ours)().fit(cdnow["frequency"], cdnow["recency"], cdnow["T"])
    ref = _lt(getattr(lifetimes, theirs), m.params_)
    x, tx, T = cdnow["frequency"], cdnow["recency"], cdnow["T"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        alive_ref = np.asarray(ref.conditional_probability_alive(x, tx, T), dtype=float)
        cond_ref = np.asarray(ref.conditional_expected_number_of_purchases_up_to_time(39, x, tx, T), dtype=float)
        new_ref = np.asarray(ref.expected_number_of_purchases_up_to_time(np.array([1.0, 39.0, 78.0])), dtype=float)
    np.testing.assert_allclose(m.conditional_probability_alive(x, tx, T), alive_ref, rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(m.conditional_expected_number_of_purchases_up_to_time(39, x, tx, T), cond_ref,
                               rtol=1e-7, atol=1e-12)
    np.testing.assert_allclose(m.expected_number_of_purchases_up_to_time(np.array([1.0, 39.0, 78.0])), new_ref,
                               rtol=1e-8)


def test_gamma_gamma_and_clv_equal_lifetimes(cdnow, cdnow_spend, lifetimes):
    gg = cm.clv.GammaGamma().fit(cdnow_spend["x"], cdnow_spend["zbar"])
    bg = cm.clv.BetaGeo().fit(cdnow["frequency"], cdnow["recency"], cdnow["T"])
    # lifetimes calls the scale parameter gamma "v".
    ref_gg = _lt(lifetimes.GammaGammaFitter, {"p": gg.params_["p"], "q": gg.params_["q"], "v": gg.params_["gamma"]})
    ref_bg = _lt(lifetimes.BetaGeoFitter, bg.params_)
    ref_bg.predict = ref_bg.conditional_expected_number_of_purchases_up_to_time  # lifetimes sets it in fit
    x, m = cdnow_spend["x"], cdnow_spend["zbar"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        np.testing.assert_allclose(gg.conditional_expected_average_profit(x, m),
                                   ref_gg.conditional_expected_average_profit(x, m), rtol=1e-10)
        sub = cdnow.loc[cdnow_spend.index]
        clv_ref = ref_gg.customer_lifetime_value(ref_bg, sub["frequency"], sub["recency"], sub["T"], m, time=12,
                                                 discount_rate=0.01, freq="W")
    clv = gg.customer_lifetime_value(bg, sub["frequency"], sub["recency"], sub["T"], m, time=12, discount_rate=0.01,
                                     freq="W")
    np.testing.assert_allclose(np.asarray(clv), np.asarray(clv_ref, dtype=float), rtol=1e-7)


def test_bg_bb_predictions_equal_lifetimes(lifetimes):
    d = pd.read_csv(CDNOW / "donations.csv")
    m = cm.clv.BetaGeoBetaBinom().fit(d["frequency"], d["recency"], d["periods"], weights=d["weights"])
    ref = _lt(lifetimes.BetaGeoBetaBinomFitter, m.params_)
    ref.data = d  # lifetimes reads the observed x values (0..6, all present) from the fitted data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        alive_ref = np.asarray(ref.conditional_probability_alive(1, d["frequency"], d["recency"], d["periods"]))
        cond_ref = np.asarray(ref.conditional_expected_number_of_purchases_up_to_time(
            5, d["frequency"], d["recency"], d["periods"]))
        new_ref = float(ref.expected_number_of_transactions_in_first_n_periods(6).pipe(
            lambda t: (t.index * t["model"]).sum() / t["model"].sum()))
    np.testing.assert_allclose(m.conditional_probability_alive(d["frequency"], d["recency"], d["periods"]),
                               alive_ref, rtol=1e-8)
    np.testing.assert_allclose(
        m.conditional_expected_number_of_purchases_up_to_time(5, d["frequency"], d["recency"], d["periods"]),
        cond_ref, rtol=1e-8)
    assert m.expected_number_of_purchases_up_to_time(6) == pytest.approx(new_ref, rel=1e-8)


@pytest.mark.parametrize("ours, theirs", [("BetaGeo", "BetaGeoFitter"), ("ModifiedBetaGeo", "ModifiedBetaGeoFitter")])
def test_probability_of_n_purchases_equals_lifetimes(cdnow, lifetimes, ours, theirs):
    m = getattr(cm.clv, ours)().fit(cdnow["frequency"], cdnow["recency"], cdnow["T"])
    ref = _lt(getattr(lifetimes, theirs), m.params_)
    for t, n in [(1.0, 0), (39.0, 0), (39.0, 1), (39.0, 5), (78.0, 12), (520.0, 40)]:
        assert m.probability_of_n_purchases_up_to_time(t, n) == pytest.approx(
            float(ref.probability_of_n_purchases_up_to_time(t, n)), rel=1e-9, abs=1e-15)
    grid = m.probability_of_n_purchases_up_to_time(39.0, np.arange(4))
    assert grid.shape == (4,) and grid[0] == m.probability_of_n_purchases_up_to_time(39.0, 0)


def test_pareto_nbd_conditional_probability_of_n_purchases_equals_lifetimes(cdnow, lifetimes):
    m = cm.clv.ParetoNBD().fit(cdnow["frequency"], cdnow["recency"], cdnow["T"])
    ref = _lt(lifetimes.ParetoNBDFitter, m.params_)
    sub = cdnow.iloc[::10]  # 236 customers keep lifetimes' scalar hypergeometric loop fast
    x, tx, T = sub["frequency"], sub["recency"], sub["T"]
    for n in (0, 1, 4):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            expected = np.asarray(ref.conditional_probability_of_n_purchases_up_to_time(
                n, 39.0, x.to_numpy(), tx.to_numpy(), T.to_numpy()), dtype=float)
        np.testing.assert_allclose(m.conditional_probability_of_n_purchases_up_to_time(n, 39.0, x, tx, T), expected,
                                   rtol=1e-7, atol=1e-13)


def test_pareto_nbd_probability_of_n_purchases_equals_numerical_integral(cdnow):
    integrate = pytest.importorskip("scipy.integrate")
    from scipy.special import gammaln
    m = cm.clv.ParetoNBD().fit(cdnow["frequency"], cdnow["recency"], cdnow["T"])
    r, alpha, s, beta = (m.params_[k] for k in ("r", "alpha", "s", "beta"))

    def nbd(n, tau):
        return np.exp(gammaln(r + n) - gammaln(r) - gammaln(n + 1) + r * np.log(alpha / (alpha + tau))
                      + n * np.log(tau / (alpha + tau)))

    for t, n in [(13.0, 0), (39.0, 2), (104.0, 9)]:
        dead, _ = integrate.quad(lambda tau: nbd(n, tau) * s * beta**s * (beta + tau) ** (-(s + 1)), 0, t,
                                 epsabs=1e-14, epsrel=1e-12, limit=200)
        expected = nbd(n, t) * (beta / (beta + t)) ** s + dead
        assert m.probability_of_n_purchases_up_to_time(t, n) == pytest.approx(expected, rel=1e-9)


def test_conditional_probability_of_n_purchases_sums_to_one_with_the_conditional_mean(cdnow):
    x, tx, T = cdnow["frequency"].iloc[:50], cdnow["recency"].iloc[:50], cdnow["T"].iloc[:50]
    for cls in (cm.clv.BetaGeo, cm.clv.ModifiedBetaGeo, cm.clv.ParetoNBD):
        m = cls().fit(cdnow["frequency"], cdnow["recency"], cdnow["T"])
        probs = np.array([m.conditional_probability_of_n_purchases_up_to_time(n, 26.0, x, tx, T) for n in range(80)])
        np.testing.assert_allclose(probs.sum(axis=0), 1.0, atol=1e-9)
        np.testing.assert_allclose((np.arange(80)[:, None] * probs).sum(axis=0),
                                   m.conditional_expected_number_of_purchases_up_to_time(26.0, x, tx, T), atol=1e-7)
    with pytest.raises(ValueError, match="n"):
        m.probability_of_n_purchases_up_to_time(1.0, 1.5)
    with pytest.raises(ValueError, match="n"):
        m.conditional_probability_of_n_purchases_up_to_time(-1, 1.0, x, tx, T)


@pytest.fixture(scope="module")
def cdnow_log() -> pd.DataFrame:
    raw = pd.read_csv(CDNOW / "CDNOW_sample.txt", sep=r"\s+", header=None,
                      names=["master", "customer_id", "date", "cds", "amount"])
    raw["date"] = pd.to_datetime(raw["date"].astype(str), format="%Y%m%d")
    return raw


PUBLISHED_BG = {"r": 0.242594150135163, "alpha": 4.41359212062015, "a": 0.792919156875463, "b": 2.4258950494563}


def test_tracking_equals_lifetimes_expected_cumulative_transactions(cdnow_log, lifetimes):
    from lifetimes.utils import expected_cumulative_transactions
    m = cm.clv.BetaGeo.from_params(PUBLISHED_BG)
    ours = cm.clv.expected_cumulative_transactions(m, cdnow_log, customer="customer_id", time="date",
                                                   amount="amount", freq="W", period="W")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = expected_cumulative_transactions(_lt(lifetimes.BetaGeoFitter, PUBLISHED_BG), cdnow_log, "date",
                                               "customer_id", 546, freq="D", freq_multiplier=7)
    assert len(ours) == len(ref) == 78
    np.testing.assert_array_equal(ours["actual"].to_numpy(), ref["actual"].to_numpy())
    np.testing.assert_allclose(ours["predicted"].to_numpy(), ref["predicted"].to_numpy(), rtol=1e-9)
    assert ours["date"].iloc[0] == pd.Timestamp("1997-01-07")
    svg = cm.clv.plot_tracking(ours, calibration_end="1997-09-30")
    assert svg.startswith("<svg") and "1997-09-30" in svg and svg.count("<polyline") == 2


def test_calibration_holdout_table_equals_lifetimes_plot_data(cdnow_log, lifetimes):
    s = cm.clv.summary(cdnow_log, customer="customer_id", time="date", amount="amount", freq="W",
                       calibration_end="1997-09-30", observation_end="1998-06-30")
    m = cm.clv.BetaGeo.from_params(PUBLISHED_BG)
    table = cm.clv.calibration_holdout_table(m, s, max_frequency=7)
    # What lifetimes' plot_calibration_purchases_vs_holdout_purchases draws (it does not censor).
    ref = _lt(lifetimes.BetaGeoFitter, PUBLISHED_BG)
    pred = ref.conditional_expected_number_of_purchases_up_to_time(s["duration_holdout"].iloc[0], s["frequency"],
                                                                   s["recency"], s["T"])
    grouped = pd.DataFrame({"f": s["frequency"], "h": s["frequency_holdout"], "p": pred}).groupby("f").mean()
    np.testing.assert_allclose(table["actual"].iloc[:7].to_numpy(), grouped["h"].iloc[:7].to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(table["predicted"].iloc[:7].to_numpy(), grouped["p"].iloc[:7].to_numpy(), rtol=1e-9)
    assert table["n_customers"].sum() == len(s) == 2357
    assert table.loc[7, "n_customers"] == (s["frequency"] >= 7).sum()
    svg = cm.clv.plot_calibration_holdout(table)
    assert svg.startswith("<svg") and svg.count("<polyline") == 2
    with pytest.raises(ValueError, match="max_frequency"):
        cm.clv.calibration_holdout_table(m, s, max_frequency=0)
    with pytest.raises(ValueError, match="period"):
        cm.clv.expected_cumulative_transactions(m, cdnow_log, customer="customer_id", time="date", period="Q")


def test_models_pickle_through_versioned_bytes(cdnow, cdnow_spend):
    import pickle
    x, tx, T = cdnow["frequency"], cdnow["recency"], cdnow["T"]
    for cls in (cm.clv.BetaGeo, cm.clv.ModifiedBetaGeo, cm.clv.ParetoNBD):
        m = cls(penalizer_coef=0.001).fit(x, tx, T)
        back = pickle.loads(pickle.dumps(m))
        assert back.params_ == m.params_ and back.log_likelihood_ == m.log_likelihood_
        assert back.penalizer_coef == 0.001 and back.converged_ == m.converged_
        np.testing.assert_array_equal(back.conditional_probability_alive(x, tx, T), m.conditional_probability_alive(x, tx, T))
        again = cls.from_bytes(m.to_bytes())
        assert again.params_ == m.params_ and again.to_bytes() == m.to_bytes()
    gg = cm.clv.GammaGamma().fit(cdnow_spend["x"], cdnow_spend["zbar"])
    assert pickle.loads(pickle.dumps(gg)).params_ == gg.params_
    with pytest.raises(cm.ModelFormatError):
        cm.clv.ParetoNBD.from_bytes(m.to_bytes()[:-3] + b"xyz")
    with pytest.raises(cm.ModelFormatError):
        cm.clv.ParetoNBD.from_bytes(cm.clv.BetaGeo.from_params(PUBLISHED_BG).to_bytes())
    with pytest.raises(cm.NotFittedError):
        cm.clv.BetaGeo().to_bytes()


def test_pareto_nbd_covariates_reduce_to_plain_and_find_a_planted_effect(cdnow):
    x, tx, T = cdnow["frequency"], cdnow["recency"], cdnow["T"]
    plain = cm.clv.ParetoNBD().fit(x, tx, T)
    none = cm.clv.ParetoNBDCovariates().fit(x, tx, T)
    for k, v in plain.params_.items():
        assert none.params_[k] == pytest.approx(v, rel=1e-6)
    # A planted effect: a random half of the customers lives on a clock running e^0.7 times
    # faster, so both their purchase and dropout rates scale by e^0.7: alpha_i = alpha exp(-0.7 z),
    # beta_i = beta exp(-0.7 z).
    rng = np.random.default_rng(0)
    z = (rng.random(len(x)) < 0.5).astype(float)
    scale = np.exp(-0.7 * z)
    group = pd.DataFrame({"group": z}, index=cdnow.index)
    m = cm.clv.ParetoNBDCovariates().fit(x, tx * scale, T * scale, z_trans=group, z_life=group)
    assert set(m.params_) == {"r", "alpha", "s", "beta", "trans_group", "life_group"}
    for name in ("trans_group", "life_group"):
        assert abs(m.params_[name] - 0.7) < 4 * m.standard_errors_[name], (name, m.params_[name])
    alive = m.conditional_probability_alive(x, tx * scale, T * scale, z_trans=z, z_life=z)
    assert np.all((alive >= 0) & (alive <= 1))
    with pytest.raises(ValueError, match="z_trans"):
        m.conditional_probability_alive(x, tx, T)
    import pickle
    back = pickle.loads(pickle.dumps(m))
    assert back.params_ == m.params_
    np.testing.assert_array_equal(back.conditional_probability_alive(x, tx * scale, T * scale, z_trans=z, z_life=z),
                                  alive)
    assert set(cm.clv.ParetoNBDCovariates.from_bytes(m.to_bytes()).params_) == {
        "r", "alpha", "s", "beta", "trans_0", "life_0"}


def test_beta_geo_covariates_reduce_to_plain_and_find_a_planted_purchase_effect(cdnow, cdnow_spend):
    x, tx, T = cdnow["frequency"], cdnow["recency"], cdnow["T"]
    plain = cm.clv.BetaGeo().fit(x, tx, T)
    none = cm.clv.BetaGeoCovariates().fit(x, tx, T)
    for k, v in plain.params_.items():
        assert none.params_[k] == pytest.approx(v, rel=1e-6)
    # CLV through the covariate model without covariates is the plain model's CLV.
    gg = cm.clv.GammaGamma().fit(cdnow_spend["x"], cdnow_spend["zbar"])
    sub = cdnow.loc[cdnow_spend.index]
    args = (sub["frequency"], sub["recency"], sub["T"], cdnow_spend["zbar"])
    np.testing.assert_allclose(gg.customer_lifetime_value(none, *args, time=12, freq="W"),
                               gg.customer_lifetime_value(plain, *args, time=12, freq="W"), rtol=1e-5)
    # Planted: a random half of the customers buys on a clock running e^0.7 times faster, which
    # is alpha_i = alpha exp(-0.7 z); BG/NBD's dropout happens at purchases, so life is untouched.
    rng = np.random.default_rng(1)
    z = (rng.random(len(x)) < 0.5).astype(float)
    scale = np.exp(-0.7 * z)
    group = pd.DataFrame({"group": z}, index=cdnow.index)
    m = cm.clv.BetaGeoCovariates().fit(x, tx * scale, T * scale, z_trans=group, z_life=group)
    assert m.converged_
    assert set(m.params_) == {"r", "alpha", "a", "b", "trans_group", "life_group"}
    assert abs(m.params_["trans_group"] - 0.7) < 4 * m.standard_errors_["trans_group"]
    assert abs(m.params_["life_group"]) < 4 * m.standard_errors_["life_group"]
    alive = m.conditional_probability_alive(x, tx * scale, T * scale, z_trans=z, z_life=z)
    assert isinstance(alive, pd.Series) and np.all((alive >= 0) & (alive <= 1))
    new = m.expected_number_of_purchases_up_to_time(0.01, z_trans=[[0.0], [1.0]], z_life=[[0.0], [0.0]])
    assert new[1] / new[0] == pytest.approx(np.exp(m.params_["trans_group"]), rel=1e-3)
    clv = gg.customer_lifetime_value(m, x, tx * scale, T * scale, np.full(len(x), 30.0), time=12, freq="W",
                                     z_trans=z, z_life=z)
    assert np.all(np.isfinite(clv)) and np.all(clv >= 0)
    with pytest.raises(ValueError, match="z_trans"):
        gg.customer_lifetime_value(plain, x, tx, T, np.full(len(x), 30.0), z_trans=z)
    import pickle
    back = pickle.loads(pickle.dumps(m))
    assert back.params_ == m.params_
    assert set(cm.clv.BetaGeoCovariates.from_bytes(m.to_bytes()).params_) == {
        "r", "alpha", "a", "b", "trans_0", "life_0"}
    with pytest.raises(cm.ModelFormatError):
        cm.clv.ParetoNBDCovariates.from_bytes(m.to_bytes())


def test_tracking_counts_orders_as_occasions_like_summary():
    log = pd.DataFrame({"customer_id": [1, 1, 1, 1, 1, 2, 2],
                        "date": pd.to_datetime(["2024-01-01"] * 3 + ["2024-01-08", "2024-01-09", "2024-01-04",
                                                                     "2024-01-04"]),
                        "order_id": [10, 10, 11, 12, 12, 20, 21],
                        "amount": [5.0, 6.0, 7.0, 8.0, 9.0, 10.0, -4.0]})
    m = cm.clv.BetaGeo.from_params(PUBLISHED_BG)
    by_order = cm.clv.expected_cumulative_transactions(m, log, customer="customer_id", time="date", amount="amount",
                                                       order="order_id", freq="D", period="D")
    s = cm.clv.summary(log, customer="customer_id", time="date", amount="amount", order="order_id", freq="D")
    assert by_order["actual"].iloc[-1] == s["frequency"].sum() == 2
    assert list(by_order["actual"]) == [1, 1, 1, 1, 1, 1, 1, 2, 2]  # order 11 on day 0, order 12 on day 7
    by_day = cm.clv.expected_cumulative_transactions(m, log, customer="customer_id", time="date", amount="amount",
                                                     freq="D", period="D")
    assert list(by_day["actual"]) == [0, 0, 0, 0, 0, 0, 0, 1, 2]


# --- robustness and bad input ---------------------------------------------------------------------

def test_no_nan_for_huge_frequency_and_long_age():
    x = np.array([300.0, 1000.0, 5000.0, 0.0])
    tx = np.array([250.0, 1999.0, 9999.0, 0.0])
    T = np.array([500.0, 2000.0, 1e5, 1e6])
    for model in (cm.clv.BetaGeo.from_params({"r": 0.2426, "alpha": 4.4135, "a": 0.7929, "b": 2.4258}),
                  cm.clv.ParetoNBD.from_params({"r": 0.5533, "alpha": 10.5776, "s": 0.6062, "beta": 11.6678})):
        alive = model.conditional_probability_alive(x, tx, T)
        assert np.all(np.isfinite(alive)) and np.all((alive >= 0) & (alive <= 1))
        assert np.all(np.isfinite(model.conditional_expected_number_of_purchases_up_to_time(52, x, tx, T)))


@pytest.mark.parametrize("x, tx, T, name", [
    ([-1, 1], [0, 1], [2, 2], "frequency"),
    ([1.5, 1], [1, 1], [2, 2], "frequency"),
    ([1, 1], [3, 1], [2, 2], "recency"),
    ([1, 1], [1, 1], [0, 2], "T"),
    ([], [], [], "frequency"),
    ([0, 0], [0, 0], [2, 2], "frequency"),
    ([1, np.nan], [1, 1], [2, 2], "frequency"),
    ([1, 1], [1, 1], [2, np.nan], "T"),
])
def test_bad_input_raises_value_error_naming_argument(x, tx, T, name):
    for cls in (cm.clv.BetaGeo, cm.clv.ParetoNBD, cm.clv.ModifiedBetaGeo):
        with pytest.raises(ValueError, match=name):
            cls().fit(np.array(x, dtype=float), np.array(tx, dtype=float), np.array(T, dtype=float))


def test_gamma_gamma_bad_input_and_not_fitted():
    with pytest.raises(ValueError, match="frequency"):
        cm.clv.GammaGamma().fit([0, 1], [0.0, 3.0])
    with pytest.raises(ValueError, match="monetary_value"):
        cm.clv.GammaGamma().fit([1, 1], [np.nan, 3.0])
    with pytest.raises(cm.NotFittedError):
        cm.clv.BetaGeo().conditional_probability_alive([1], [1], [2])
    with pytest.raises(ValueError, match="freq"):
        cm.clv.summary(pd.DataFrame({"customer_id": [1], "date": ["2020-01-01"], "amount": [1.0]}), freq="Q")
