# SPDX-License-Identifier: Apache-2.0
"""NPS, CSAT and key drivers checked against published formulas, scipy, scikit-learn and relativeImp."""

import itertools
import math
import re
import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd
import pytest

import crmine as cm

from conftest import shared_path

Z95 = 1.959963984540054


def trinomial_interval(scores, pseudo=0.0):
    """NPS and its Wald interval from the variance of a difference of trinomial proportions:
    var(p+ - p-) = (p+ + p- - (p+ - p-)^2) / n; 'adjusted' adds `pseudo` promoters and detractors
    and 2 * pseudo passives (Rocks 2016 uses pseudo = 3/4)."""
    s = np.asarray(scores)
    n = s.size + 4 * pseudo
    pro = ((s >= 9).sum() + pseudo) / n
    det = ((s <= 6).sum() + pseudo) / n
    se = math.sqrt((pro + det - (pro - det) ** 2) / n)
    return 100 * (pro - det - Z95 * se), 100 * (pro - det + Z95 * se), 100 * se


@pytest.fixture(scope="module")
def survey():
    return cm.datasets.make_survey(3000, seed=11)


def test_nps_wald_and_adjusted_wald_follow_the_trinomial_formula(rng):
    scores = rng.integers(0, 11, size=737)
    wald = cm.satisfaction.nps(scores, interval="wald")
    lo, hi, se = trinomial_interval(scores)
    assert wald["nps"] == pytest.approx(100 * ((scores >= 9).mean() - (scores <= 6).mean()))
    assert (wald["lower"], wald["upper"], wald["se"]) == pytest.approx((lo, hi, se), abs=1e-9)
    assert wald["promoters"] + wald["passives"] + wald["detractors"] == wald["n"] == 737
    adjusted = cm.satisfaction.nps(scores)
    lo, hi, _ = trinomial_interval(scores, pseudo=0.75)
    assert (adjusted["lower"], adjusted["upper"]) == pytest.approx((lo, hi), abs=1e-9)


def test_nps_bootstrap_is_seeded_and_agrees_with_wald(rng):
    scores = pd.Series(rng.integers(0, 11, size=2000))
    a = cm.satisfaction.nps(scores, interval="bootstrap", random_state=3, n_boot=1000, n_jobs=1)
    b = cm.satisfaction.nps(scores, interval="bootstrap", random_state=3, n_boot=1000, n_jobs=2)
    pd.testing.assert_series_equal(a, b)
    lo, hi, se = trinomial_interval(scores)
    assert a["se"] == pytest.approx(se, rel=0.1)
    assert a["lower"] == pytest.approx(lo, abs=1.0) and a["upper"] == pytest.approx(hi, abs=1.0)


def test_nps_by_segment_and_over_time_matches_pandas(survey):
    table = cm.satisfaction.nps(survey, score="recommend", by="channel", time="date", freq="Q", interval="wald")
    assert table.index.names == ["channel", "period"]
    groups = survey.assign(period=survey["date"].dt.to_period("Q")).groupby(["channel", "period"], observed=True)
    assert len(table) == groups.ngroups == 12
    for key, group in groups:
        s = group["recommend"]
        lo, hi, _ = trinomial_interval(s)
        row = table.loc[key]
        assert row["n"] == len(s)
        assert row["nps"] == pytest.approx(100 * ((s >= 9).mean() - (s <= 6).mean()), abs=1e-12)
        assert (row["lower"], row["upper"]) == pytest.approx((lo, hi), abs=1e-9)
    # The planted channel effects show: store above web above app.
    by_channel = cm.satisfaction.nps(survey, score="recommend", by="channel")
    assert by_channel.loc["store", "nps"] > by_channel.loc["web", "nps"] > by_channel.loc["app", "nps"]
    # ...and so does the planted upward trend.
    by_quarter = cm.satisfaction.nps(survey, score="recommend", time="date", freq="Q")
    assert len(by_quarter) == 4 and by_quarter["nps"].iloc[-1] > by_quarter["nps"].iloc[0]
    # Time-zone-aware dates group by their local calendar periods.
    aware = cm.satisfaction.nps(survey.assign(date=survey["date"].dt.tz_localize("Europe/Berlin")),
                                score="recommend", time="date", freq="Q")
    pd.testing.assert_frame_equal(aware, by_quarter)


def test_csat_wilson_interval_matches_scipy(survey):
    from scipy.stats import binomtest

    table = cm.satisfaction.csat(survey, rating="delivery", by="channel", scale=(1, 5))
    for channel, row in table.iterrows():
        ratings = survey.loc[survey["channel"] == channel, "delivery"]
        k = int((ratings >= 4).sum())
        ci = binomtest(k, len(ratings)).proportion_ci(confidence_level=0.95, method="wilson")
        assert row["satisfied"] == k
        assert row["lower"] == pytest.approx(100 * ci.low, abs=1e-9)
        assert row["upper"] == pytest.approx(100 * ci.high, abs=1e-9)
        assert row["mean_rating"] == pytest.approx(ratings.mean())
    wald = cm.satisfaction.csat(survey["overall"], scale=(1, 10), threshold=9, interval="wald")
    p = (survey["overall"] >= 9).mean()
    assert wald["lower"] == pytest.approx(100 * (p - Z95 * math.sqrt(p * (1 - p) / len(survey))), abs=1e-9)


def test_satisfaction_bad_input_names_the_argument(survey):
    with pytest.raises(ValueError, match="scores: row 2 is 11; likelihood to recommend must be a whole"):
        cm.satisfaction.nps([3, 9, 11])
    with pytest.raises(ValueError, match="scores: row 1 is nan"):
        cm.satisfaction.nps(pd.Series([3.0, np.nan]))
    with pytest.raises(ValueError, match="no responses"):
        cm.satisfaction.nps(np.array([], dtype=float))
    with pytest.raises(ValueError, match="by: row 1 has no group"):
        cm.satisfaction.nps([3, 9], by=["a", None])
    with pytest.raises(ValueError, match="score: name the column"):
        cm.satisfaction.nps(survey)
    with pytest.raises(ValueError, match="interval"):
        cm.satisfaction.nps([3, 9], interval="exact")
    with pytest.raises(ValueError, match="ratings: row 0 is 7, outside the scale 1..5"):
        cm.satisfaction.csat([7, 3])
    with pytest.raises(ValueError, match="freq"):
        cm.satisfaction.csat(survey, rating="delivery", time="date", freq="H")


def bank_attributes():
    path = shared_path("bank_marketing/bank-additional.csv")
    frame = pd.read_csv(path, sep=";")
    columns = ["age", "campaign", "previous", "emp.var.rate", "cons.price.idx", "cons.conf.idx", "euribor3m",
               "nr.employed"]
    frame["subscribed"] = (frame["y"] == "yes").astype(float)
    return frame, columns


def test_shapley_equals_brute_force_sklearn_subsets_on_bank_marketing():
    from sklearn.linear_model import LinearRegression

    frame, columns = bank_attributes()
    X, y = frame[columns].to_numpy(float), frame["subscribed"].to_numpy()
    p = len(columns)
    r2 = {(): 0.0}
    for k in range(1, p + 1):
        for subset in itertools.combinations(range(p), k):
            r2[subset] = LinearRegression().fit(X[:, subset], y).score(X[:, subset], y)
    shapley = np.zeros(p)
    for j in range(p):
        others = [i for i in range(p) if i != j]
        for k in range(p):
            weight = math.factorial(k) * math.factorial(p - k - 1) / math.factorial(p)
            for subset in itertools.combinations(others, k):
                shapley[j] += weight * (r2[tuple(sorted(subset + (j,)))] - r2[subset])
    result = cm.satisfaction.key_drivers(frame, target="subscribed", attributes=columns)
    got = result.table["importance"].reindex(columns).to_numpy()
    np.testing.assert_allclose(got, shapley, rtol=1e-7, atol=1e-10)
    assert result.r2 == pytest.approx(r2[tuple(range(p))], abs=1e-10)
    assert result.table["importance"].sum() == pytest.approx(result.r2, abs=1e-12)
    assert result.n == len(frame)
    # Conditional dominance for subsets of size 0 is each attribute's own R^2.
    for j, c in enumerate(columns):
        assert result.conditional_dominance.loc[c, 0] == pytest.approx(r2[(j,)], abs=1e-10)


def test_relative_weights_match_the_relativeImp_package():
    relative_imp = pytest.importorskip("relativeImp")
    frame, columns = bank_attributes()
    ours = cm.satisfaction.key_drivers(frame, target="subscribed", attributes=columns, method="relative_weights")
    theirs = relative_imp.relativeImp(frame, outcomeName="subscribed", driverNames=list(columns)).set_index("driver")
    np.testing.assert_allclose(ours.table["relative_weight"].reindex(columns), theirs["rawRelaImpt"].reindex(columns),
                               rtol=1e-8)
    assert ours.table["relative_weight"].sum() == pytest.approx(ours.r2, abs=1e-12)
    assert ours.table["importance"].isna().all()


def test_key_drivers_recover_the_planted_importance(survey):
    drivers = list(survey.attrs["driver_weights"])
    result = cm.satisfaction.key_drivers(survey, target="overall", attributes=drivers, scale=(1, 5))
    truth = pd.Series(survey.attrs["importance_share"])
    share = result.table["importance_share"]
    assert list(share.index) == list(truth.sort_values(ascending=False).index)
    np.testing.assert_allclose(share.reindex(truth.index), truth, atol=0.03)
    np.testing.assert_allclose(result.table["relative_weight_share"].reindex(truth.index), truth, atol=0.03)
    # Regression weights, by contrast, are distorted by the halo: the non-driver gets about nothing.
    assert result.table.loc["packaging", "beta"] < 0.05


def test_key_drivers_by_segment_equal_separate_runs(survey):
    drivers = list(survey.attrs["driver_weights"])
    table = cm.satisfaction.key_drivers_by(survey, "channel", target="overall", attributes=drivers)
    assert table.index.names == ["channel", "attribute"]
    assert sorted(table.index.get_level_values("channel").unique()) == ["app", "store", "web"]
    store = cm.satisfaction.key_drivers(survey[survey["channel"] == "store"], target="overall", attributes=drivers)
    pd.testing.assert_frame_equal(table.loc["store"].drop(columns=["r2", "n"]), store.table, check_names=False)
    assert (table.loc["store", "r2"] == store.r2).all()
    with pytest.raises(ValueError, match="fewer than min_responses=5000"):
        cm.satisfaction.key_drivers_by(survey, "channel", target="overall", attributes=drivers, min_responses=5000)


def test_key_drivers_do_not_depend_on_threads(survey):
    drivers = list(survey.attrs["driver_weights"])
    a = cm.satisfaction.key_drivers(survey, target="overall", attributes=drivers, n_jobs=1)
    b = cm.satisfaction.key_drivers(survey, target="overall", attributes=drivers, n_jobs=2)
    pd.testing.assert_frame_equal(a.table, b.table, check_exact=True)


def test_key_drivers_bad_input_names_the_column(survey, rng):
    drivers = list(survey.attrs["driver_weights"])
    holes = survey.copy()
    holes.loc[5, "delivery"] = np.nan
    with pytest.raises(ValueError, match="'delivery', row 5 is missing"):
        cm.satisfaction.key_drivers(holes, target="overall", attributes=drivers)
    dropped = cm.satisfaction.key_drivers(holes, target="overall", attributes=drivers, missing="drop")
    assert dropped.n == len(survey) - 1 and dropped.table.attrs["dropped"] == 1
    with pytest.raises(ValueError, match="'website' has 9 in row 3, outside the scale 1..5"):
        bad = survey.copy()
        bad.loc[3, "website"] = 9
        cm.satisfaction.key_drivers(bad, target="overall", attributes=drivers, scale=(1, 5))
    with pytest.raises(ValueError, match="'packaging' is constant"):
        cm.satisfaction.key_drivers(survey.assign(packaging=3), target="overall", attributes=drivers)
    with pytest.raises(ValueError, match="collinear"):
        cm.satisfaction.key_drivers(survey.assign(packaging=survey["delivery"] + survey["website"]),
                                    target="overall", attributes=drivers)
    with pytest.raises(ValueError, match="target"):
        cm.satisfaction.key_drivers(survey, target="nope", attributes=drivers)
    with pytest.raises(TypeError, match="'channel' must be numeric"):
        cm.satisfaction.key_drivers(survey, target="overall", attributes=drivers + ["channel"])
    wide = pd.DataFrame(rng.normal(size=(200, 22)), columns=[f"a{j}" for j in range(22)])
    wide["y"] = wide.sum(axis=1) + rng.normal(size=200)
    with pytest.raises(ValueError, match="22 attributes exceed max_attributes=20"):
        cm.satisfaction.key_drivers(wide, target="y")
    rw = cm.satisfaction.key_drivers(wide, target="y", method="relative_weights")
    assert rw.table["relative_weight"].sum() == pytest.approx(rw.r2)


def test_quadrant_chart_is_an_svg_with_every_attribute(survey):
    drivers = list(survey.attrs["driver_weights"])
    result = cm.satisfaction.key_drivers(survey, target="overall", attributes=drivers, scale=(1, 5),
                                         performance="top_box")
    svg = result.quadrant_chart()
    root = ET.fromstring(svg)
    assert root.tag.endswith("svg")
    text = "".join(root.itertext())
    for name in drivers + ["Fix first", "Keep up", "Secondary", "Possible overkill"]:
        assert name in text
    assert len(root.findall(".//{http://www.w3.org/2000/svg}circle")) == len(drivers)
    with pytest.raises(TypeError, match="drivers"):
        cm.satisfaction.quadrant_chart(result.table)


# ----------------------------------------------------------------------------- report section

def test_sample_report_has_a_satisfaction_section_that_finds_the_planted_drivers(tmp_path):
    from crmine import cli

    out = tmp_path / "r.html"
    assert cli.main(["report", "--sample", "--sample-customers", "300", "-o", str(out), "-q"]) == 0
    html = out.read_text(encoding="utf-8")
    assert "Customer satisfaction" in html and "NPS (95% CI)" in html and "Key drivers of overall" in html
    corr = float(re.search(r"correlation with the estimated shares is (-?[0-9]+\.[0-9]+)", html).group(1))
    assert corr > 0.9  # the planted importance shares are recovered


def test_report_satisfaction_section_from_a_survey_file(tmp_path):
    from crmine import cli

    sample = cm.datasets.make_transactions(300, seed=2)
    log_path, survey_path, out = tmp_path / "log.csv", tmp_path / "survey.csv", tmp_path / "r.html"
    sample.transactions.to_csv(log_path, index=False)
    survey = cm.datasets.make_survey(500, scale=5, n_customers=300, seed=3)
    survey.rename(columns={"recommend": "ltr", "delivery": "shipping"}).to_csv(survey_path, index=False)
    args = ["report", str(log_path), "--survey", str(survey_path), "--nps-column", "ltr", "--rating-column",
            "product_quality", "--drivers", "value_for_money,shipping,website", "--survey-segment", "channel",
            "--survey-time", "date", "-o", str(out), "-q"]
    assert cli.main(args) == 0
    html = out.read_text(encoding="utf-8")
    assert "Customer satisfaction" in html and "By channel" in html and "Satisfaction by month" in html
    assert "CSAT (95% CI)" in html and "shipping" in html
    bad = args[:-3] + ["--drivers", "nope", "-o", str(out), "-q"]
    assert cli.main(bad) == 2  # an unknown driver column is a clear error
