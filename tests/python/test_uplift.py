# SPDX-License-Identifier: Apache-2.0
"""Specification of crmine.uplift: metrics equal to scikit-uplift's, model families within 0.01
Qini of scikit-uplift's, recovery of a known effect, whom to treat, bad input, the report section."""

import pickle

import numpy as np
import pandas as pd
import pytest

import crmine
import crmine.uplift as cu
from crmine import classify, datasets

sklift_metrics = pytest.importorskip("sklift.metrics")

# scikit-uplift 0.5.1 calls scikit-learn's deprecated stable_cumsum; that is the peer's warning, not ours.
pytestmark = pytest.mark.filterwarnings("ignore:Function stable_cumsum is deprecated:FutureWarning")


def synthetic_campaign(n: int, seed: int, treated_share: float = 0.5):
    """Features uniform on [0, 1]; treatment adds 2 x0 - 0.5 to the control log-odds
    -1 + 0.5 x0 + x1, so x0 carries the effect (positive for x0 > 0.25, negative below)."""
    rng = np.random.default_rng(seed)
    X = rng.random((n, 4))
    base = -1.0 + 0.5 * X[:, 0] + X[:, 1]
    p0, p1 = 1 / (1 + np.exp(-base)), 1 / (1 + np.exp(-(base + 2 * X[:, 0] - 0.5)))
    t = (rng.random(n) < treated_share).astype(int)
    y = (rng.random(n) < np.where(t == 1, p1, p0)).astype(int)
    return X, y, t, p1 - p0


@pytest.fixture(scope="module")
def scored():
    """A held-out split with scores that have many ties (rounded) and negative values."""
    X, y, t, tau = synthetic_campaign(6000, 1)
    rng = np.random.default_rng(2)
    return y, np.round(tau + rng.normal(0, 0.05, len(y)), 2), t


# ----------------------------------------------------------------------------- metrics vs scikit-uplift

@pytest.mark.parametrize("name", ["qini_curve", "uplift_curve"])
def test_curves_equal_scikit_uplift(scored, name):
    y, u, t = scored
    ours = getattr(cu, name)(y, u, t)
    theirs = getattr(sklift_metrics, name)(y, u, t)
    np.testing.assert_array_equal(ours[0], theirs[0])
    np.testing.assert_allclose(ours[1], theirs[1], rtol=0, atol=1e-9)


def test_scores_equal_scikit_uplift_to_1e9(scored):
    y, u, t = scored
    assert abs(cu.qini_auc_score(y, u, t) - sklift_metrics.qini_auc_score(y, u, t)) < 1e-9
    assert abs(cu.qini_auc_score(y, u, t, negative_effect=False)
               - sklift_metrics.qini_auc_score(y, u, t, negative_effect=False)) < 1e-9
    assert abs(cu.uplift_auc_score(y, u, t) - sklift_metrics.uplift_auc_score(y, u, t)) < 1e-9
    assert abs(cu.uplift_at_k(y, u, t, 0.3) - sklift_metrics.uplift_at_k(y, u, t, strategy="overall", k=0.3)) < 1e-9


def test_perfect_curves_equal_scikit_uplift(scored):
    y, _, t = scored
    for ours, theirs in ((cu.perfect_qini_curve(y, t), sklift_metrics.perfect_qini_curve(y, t)),
                         (cu.perfect_uplift_curve(y, t), sklift_metrics.perfect_uplift_curve(y, t))):
        np.testing.assert_allclose(ours[0], theirs[0])
        np.testing.assert_allclose(ours[1], theirs[1], atol=1e-9)


def test_oracle_ranking_scores_one():
    y = np.array([1, 0, 1, 0, 1, 1, 0, 0])
    t = np.array([1, 1, 0, 0, 1, 0, 1, 0])
    oracle = y * t - y * (1 - t)
    assert cu.qini_auc_score(y, oracle, t) == pytest.approx(1.0)
    assert cu.qini_auc_score(y, np.zeros(8), t) == pytest.approx(0.0)


# ----------------------------------------------------------------------------- model families vs scikit-uplift

@pytest.fixture(scope="module")
def campaign_split():
    X, y, t, tau = synthetic_campaign(20000, 3)
    return X[:14000], y[:14000], t[:14000], X[14000:], y[14000:], t[14000:], tau[14000:]


def test_two_model_logistic_matches_scikit_uplift_qini(campaign_split):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklift.models import TwoModels

    Xtr, ytr, ttr, Xte, yte, tte, tau = campaign_split
    ours = cu.TwoModel().fit(Xtr, ytr, ttr).predict(Xte)
    theirs = TwoModels(estimator_trmnt=make_pipeline(StandardScaler(), LogisticRegression()),
                       estimator_ctrl=make_pipeline(StandardScaler(), LogisticRegression()),
                       method="vanilla").fit(Xtr, ytr, ttr).predict(Xte)
    assert abs(cu.qini_auc_score(yte, ours, tte) - sklift_metrics.qini_auc_score(yte, theirs, tte)) < 0.01
    assert np.corrcoef(ours, tau)[0, 1] > 0.95  # the known effect is recovered


def test_class_transformation_matches_scikit_uplift_qini(campaign_split):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklift.models import ClassTransformation

    Xtr, ytr, ttr, Xte, yte, tte, tau = campaign_split
    ours = cu.ClassTransformation().fit(Xtr, ytr, ttr).predict(Xte)
    theirs = ClassTransformation(make_pipeline(StandardScaler(), LogisticRegression())).fit(Xtr, ytr, ttr).predict(Xte)
    assert abs(cu.qini_auc_score(yte, ours, tte) - sklift_metrics.qini_auc_score(yte, theirs, tte)) < 0.01
    assert np.corrcoef(ours, tau)[0, 1] > 0.9


def test_uplift_forest_recovers_known_effect(campaign_split):
    Xtr, ytr, ttr, Xte, yte, tte, tau = campaign_split
    forest = cu.UpliftForest(n_estimators=40, max_depth=4, random_state=0).fit(Xtr, ytr, ttr)
    u = forest.predict(Xte)
    assert np.corrcoef(u, tau)[0, 1] > 0.85
    assert np.argmax(forest.feature_importances_) == 0
    # Ranking nearly as well as the true effect does.
    assert cu.qini_auc_score(yte, u, tte) > 0.8 * cu.qini_auc_score(yte, tau, tte)


def test_uplift_tree_on_dataframe_keeps_feature_names(campaign_split):
    Xtr, ytr, ttr, Xte, *_ = campaign_split
    frame = pd.DataFrame(Xtr, columns=["a", "b", "c", "d"])
    tree = cu.UpliftTree(max_depth=3, criterion="ed").fit(frame, pd.Series(ytr), pd.Series(ttr))
    assert list(tree.feature_names_in_) == ["a", "b", "c", "d"]
    nodes = tree.nodes_
    assert nodes.loc[0, "feature"] == 0 and (nodes["feature"] == -1).sum() == len(np.unique(tree.apply(frame)))
    with pytest.raises(ValueError, match="feature names"):
        tree.predict(pd.DataFrame(Xte, columns=["a", "b", "x", "d"]))


def test_make_campaign_effect_is_recovered():
    sample = datasets.make_transactions(3000, seed=4)
    camp = datasets.make_campaign(sample, seed=4)
    assert camp["treatment"].sum() == 1500
    assert camp.equals(datasets.make_campaign(sample, seed=4))
    X = camp[["recency_days", "orders"]].to_numpy(dtype=float)
    forest = cu.UpliftForest(n_estimators=50, max_depth=3, min_samples_leaf=100, max_features=1.0)
    u = forest.fit(X, camp["response"], camp["treatment"]).predict(X)
    assert np.corrcoef(u, camp["true_uplift"])[0, 1] > 0.6
    observed = camp.groupby("treatment")["response"].mean()
    assert observed[1] - observed[0] == pytest.approx(camp["true_uplift"].mean(), abs=0.03)


# ----------------------------------------------------------------------------- determinism, persistence

def test_forest_is_seeded_and_thread_independent(campaign_split):
    Xtr, ytr, ttr, Xte, *_ = campaign_split
    kw = dict(n_estimators=6, max_depth=3, random_state=7)
    a = cu.UpliftForest(n_jobs=1, **kw).fit(Xtr, ytr, ttr).predict(Xte)
    b = cu.UpliftForest(n_jobs=2, **kw).fit(Xtr, ytr, ttr).predict(Xte)
    np.testing.assert_array_equal(a, b)
    c = cu.UpliftForest(n_jobs=2, **{**kw, "random_state": 8}).fit(Xtr, ytr, ttr).predict(Xte)
    assert not np.array_equal(a, c)


def test_models_pickle_and_reject_corrupt_bytes(campaign_split):
    Xtr, ytr, ttr, Xte, *_ = campaign_split
    for model in (cu.UpliftForest(n_estimators=3), cu.UpliftTree(), cu.TwoModel(), cu.ClassTransformation()):
        model.fit(Xtr, ytr, ttr)
        back = pickle.loads(pickle.dumps(model))
        np.testing.assert_array_equal(back.predict(Xte), model.predict(Xte))
    data = bytearray(cu.UpliftTree().fit(Xtr, ytr, ttr).to_bytes())
    data[40] ^= 0xFF
    with pytest.raises(crmine.ModelFormatError):
        crmine._core.UpliftTree.from_bytes(bytes(data))


def test_two_model_takes_any_classifier(campaign_split):
    Xtr, ytr, ttr, Xte, *_ = campaign_split
    model = cu.TwoModel(estimator_trmnt=classify.GradientBoostingClassifier(n_estimators=20),
                        estimator_ctrl=classify.LogisticRegression()).fit(Xtr, ytr, ttr)
    treated, control = model.predict_components(Xte)
    np.testing.assert_allclose(model.predict(Xte), treated - control)
    assert isinstance(model.estimator_trmnt_, classify.GradientBoostingClassifier)
    assert model.estimator_trmnt is not model.estimator_trmnt_  # the parameter is cloned, not fitted


class _GenericLogistic(classify.LogisticRegression):
    """A subclass is fitted by the meta-learners' generic path: on copied groups, through fit and
    predict_proba, which is the specification of the compiled path for LogisticRegression."""


@pytest.mark.parametrize("frame", [False, True])
def test_logistic_meta_learners_equal_the_generic_path_bit_for_bit(campaign_split, frame):
    Xtr, ytr, ttr, Xte, *_ = campaign_split
    if frame:
        Xtr, Xte = (pd.DataFrame(a, columns=["a", "b", "c", "d"]) for a in (Xtr, Xte))
    for kw in ({}, {"class_weight": "balanced", "C": 0.5}):
        pairs = [(cu.TwoModel(estimator_trmnt=classify.LogisticRegression(**kw)),
                  cu.TwoModel(estimator_trmnt=_GenericLogistic(**kw)), ("estimator_trmnt_", "estimator_ctrl_")),
                 (cu.ClassTransformation(estimator=classify.LogisticRegression(**kw)),
                  cu.ClassTransformation(estimator=_GenericLogistic(**kw)), ("estimator_",))]
        for fast, generic, fitted in pairs:
            fast.fit(Xtr, ytr, ttr)
            generic.fit(Xtr, ytr, ttr)
            np.testing.assert_array_equal(fast.predict(Xte), generic.predict(Xte))
            for name in fitted:
                a, b = getattr(fast, name), getattr(generic, name)
                assert type(a) is classify.LogisticRegression
                assert sorted(vars(a)) == sorted(vars(b))
                for attr in ("coef_", "intercept_", "n_iter_", "classes_"):
                    np.testing.assert_array_equal(getattr(a, attr), getattr(b, attr))
                    assert getattr(a, attr).dtype == getattr(b, attr).dtype
                assert a.feature_names_out_ == b.feature_names_out_
                if frame:
                    assert list(a.feature_names_in_) == ["a", "b", "c", "d"]
                np.testing.assert_array_equal(a.predict_proba(Xte), b.predict_proba(Xte))


def test_logistic_meta_learners_name_bad_features(campaign_split):
    Xtr, ytr, ttr, Xte, *_ = campaign_split
    bad = Xtr.copy()
    bad[7, 2] = np.inf
    for model in (cu.TwoModel(), cu.ClassTransformation()):
        with pytest.raises(ValueError, match="infinite value at row 7, column 2"):
            model.fit(bad, ytr, ttr)
        model.fit(Xtr, ytr, ttr)
        with pytest.raises(ValueError, match="NaN at row 0, column 1"):
            model.predict(np.where(np.arange(4) == 1, np.nan, Xte[:3]))
        with pytest.raises(ValueError, match="3 features"):
            model.predict(Xte[:, :3])


class _GenericBoosting(classify.GradientBoostingClassifier):
    """A subclass takes TwoModel's generic path (copied groups, fit and predict_proba): the
    specification of the compiled two-model boosting fit."""


@pytest.mark.parametrize("n_threads", [1, 2])
def test_two_model_boosting_equals_the_generic_path_bit_for_bit(campaign_split, n_threads):
    # At 2 threads the two models are fitted at the same time, one thread each; at 1 one after the other.
    Xtr, ytr, ttr, Xte, *_ = campaign_split
    X = Xtr.copy()
    X[::17, 3] = np.nan  # missing values take the same side as on the generic path
    kw = dict(n_estimators=15, num_leaves=7, subsample=0.8, random_state=3, n_threads=n_threads)
    fast = cu.TwoModel(estimator_trmnt=classify.GradientBoostingClassifier(**kw)).fit(X, ytr, ttr)
    generic = cu.TwoModel(estimator_trmnt=_GenericBoosting(**kw)).fit(X, ytr, ttr)
    np.testing.assert_array_equal(fast.predict(Xte), generic.predict(Xte))
    for name in ("estimator_trmnt_", "estimator_ctrl_"):
        a, b = getattr(fast, name), getattr(generic, name)
        assert type(a) is classify.GradientBoostingClassifier
        assert sorted(vars(a)) == sorted(vars(b))
        assert a.to_bytes() == b.to_bytes()  # n_threads is saved too: the user's setting is kept
        np.testing.assert_array_equal(a.feature_importances_, b.feature_importances_)
        assert a.n_estimators_ == b.n_estimators_ == 15


def test_two_model_boosting_is_the_same_at_one_and_two_threads(campaign_split):
    Xtr, ytr, ttr, Xte, *_ = campaign_split
    fits = [cu.TwoModel(estimator_trmnt=classify.GradientBoostingClassifier(n_estimators=10, n_threads=k)).fit(Xtr, ytr, ttr)
            for k in (1, 2)]
    np.testing.assert_array_equal(fits[0].predict(Xte), fits[1].predict(Xte))


def test_two_model_boosting_names_bad_input(campaign_split):
    Xtr, ytr, ttr, *_ = campaign_split
    bad = Xtr.copy()
    bad[np.flatnonzero(ttr == 0)[5], 1] = np.inf
    model = cu.TwoModel(estimator_trmnt=classify.GradientBoostingClassifier(n_estimators=5, n_threads=2))
    with pytest.raises(ValueError, match="GradientBoostingClassifier::fit_rows: X: infinite value at row 5, column 1"):
        model.fit(bad, ytr, ttr)
    y = ytr.copy()
    y[ttr == 1] = 1
    with pytest.raises(ValueError, match="treated row has response 1"):
        model.fit(Xtr, y, ttr)


# ----------------------------------------------------------------------------- whom to treat

def test_choose_treatment_picks_profitable_customers_best_first():
    u = pd.Series([0.05, 0.30, -0.10, 0.20, 0.01], index=["a", "b", "c", "d", "e"])
    plan = cu.choose_treatment(u, value_per_response=10.0, cost_per_contact=1.0)
    assert list(plan.selected.index) == ["b", "d"]
    assert plan.expected_incremental_responses == pytest.approx(0.5)
    assert plan.expected_profit == pytest.approx(3.0)
    assert plan.best_n == 2 and len(plan.profit_curve) == 6
    assert list(cu.choose_treatment(u, n=1).selected.index) == ["b"]
    assert len(cu.choose_treatment(u, profitable_only=False).selected) == 5
    assert "c" not in cu.choose_treatment(u).selected.index  # negative uplift is never treated by default


# ----------------------------------------------------------------------------- bad input

@pytest.mark.parametrize("treatment, message", [
    ([0, 1, 2, 1, 0, 1], "treatment must hold only 0 and 1"),
    ([1, 1, 1, 1, 1, 1], "no control rows"),
    ([0, 0, 0, 0, 0, 0], "no treated rows"),
    ([0, 1, np.nan, 1, 0, 1], "treatment contains NaN"),
    ([0, 1, 0], "treatment has 3 entries"),
])
def test_bad_treatment_is_named(treatment, message):
    y, u = np.array([1, 0, 1, 0, 1, 0]), np.linspace(0, 1, 6)
    with pytest.raises(ValueError, match=message):
        cu.qini_auc_score(y, u, treatment)
    with pytest.raises(ValueError, match=message):
        cu.UpliftTree().fit(np.ones((6, 2)), y, treatment)


def test_bad_response_scores_and_features_are_named():
    t = np.array([0, 1, 0, 1, 0, 1])
    with pytest.raises(ValueError, match="y_true must hold only 0 and 1"):
        cu.qini_curve([0, 0.5, 1, 0, 1, 0], np.zeros(6), t)
    with pytest.raises(ValueError, match="uplift contains NaN"):
        cu.uplift_auc_score([0, 1, 1, 0, 1, 0], [0, np.nan, 1, 2, 3, 4], t)
    with pytest.raises(ValueError, match="uplift has 2 entries"):
        cu.qini_curve([0, 1, 1, 0, 1, 0], [0, 1], t)
    X = np.ones((6, 2))
    X[2, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        cu.UpliftForest().fit(X, [0, 1, 1, 0, 1, 0], t)
    with pytest.raises(ValueError, match="y must hold only 0 and 1"):
        cu.TwoModel().fit(np.ones((6, 2)), [0, 1, 2, 0, 1, 0], t)
    with pytest.raises(ValueError, match="criterion"):
        cu.UpliftTree(criterion="gini").fit(np.ones((6, 2)), [0, 1, 1, 0, 1, 0], t)
    with pytest.raises(ValueError, match="max_features"):
        cu.UpliftForest(max_features=0).fit(np.ones((6, 2)), [0, 1, 1, 0, 1, 0], t)
    with pytest.raises(crmine.NotFittedError):
        cu.UpliftForest().predict(np.ones((2, 2)))
    with pytest.raises(ValueError, match="cost_per_contact"):
        cu.choose_treatment([0.1, 0.2], cost_per_contact=-1)
    with pytest.raises(ValueError, match="treated_share"):
        datasets.make_campaign(datasets.make_transactions(50, seed=0), treated_share=1.0)


# ----------------------------------------------------------------------------- report section

def test_report_section_from_a_campaign_file(tmp_path):
    from crmine import cli

    sample = datasets.make_transactions(1500, seed=5)
    log_path, camp_path = tmp_path / "log.csv", tmp_path / "campaign.csv"
    sample.transactions.to_csv(log_path, index=False)
    camp = datasets.make_campaign(sample, seed=5)
    camp[["treatment", "response"]].rename(columns={"treatment": "mailed", "response": "bought"}).to_csv(camp_path)
    out = tmp_path / "r.html"
    args = ["report", str(log_path), "--campaign", str(camp_path), "--treatment", "mailed", "--response", "bought",
            "--contact-cost", "0.5", "-o", str(out), "-q"]
    assert cli.main(args) == 0
    html = out.read_text(encoding="utf-8")
    assert "Campaign uplift" in html and "Qini curves" in html and "Customers to treat" in html
    assert cli.main(args[:-3] + ["--treatment", "nope", "-o", str(out), "-q"]) == 2
