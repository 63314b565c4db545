# SPDX-License-Identifier: Apache-2.0
"""Classifiers against scikit-learn on real data (bank marketing, Telco churn), metrics against
direct computations, campaign selection, bad input, pickling and the C++ round trip."""

from __future__ import annotations

import lzma
import os
import pickle
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import crmine as cm
import crmine.campaign as camp
import crmine.classify as cc
import crmine.metrics as cmm
from crmine.exceptions import ModelFormatError, NotFittedError

from conftest import shared_path

sklearn = pytest.importorskip("sklearn")
from sklearn.linear_model import LogisticRegression as SkLogistic  # noqa: E402
from sklearn.metrics import average_precision_score, roc_auc_score  # noqa: E402
from sklearn.naive_bayes import CategoricalNB, GaussianNB  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.tree import DecisionTreeClassifier as SkTree  # noqa: E402

REPO = Path(__file__).resolve().parents[2]


# ----------------------------------------------------------------------------- data

@pytest.fixture(scope="session")
def bank() -> tuple[pd.DataFrame, pd.Series]:
    """bank-additional-full without `duration` (only known after the call); y = subscribed."""
    path = shared_path("bank_marketing/bank-additional-full.csv")
    opener = open(path) if path.exists() else lzma.open(path.with_suffix(".csv.xz"), "rt")
    with opener as f:
        frame = pd.read_csv(f, sep=";")
    y = (frame.pop("y") == "yes").astype(int)
    return frame.drop(columns=["duration"]), y


@pytest.fixture(scope="session")
def telco() -> tuple[pd.DataFrame, pd.Series]:
    """Telco churn; TotalCharges is blank for 11 new customers (tenure 0): filled with 0."""
    frame = pd.read_csv(shared_path("telco_churn/Telco-Customer-Churn.csv"))
    frame["TotalCharges"] = pd.to_numeric(frame["TotalCharges"], errors="coerce").fillna(0.0)
    y = (frame.pop("Churn") == "Yes").astype(int)
    return frame.drop(columns=["customerID"]), y


def split(X: pd.DataFrame, y: pd.Series, seed: int = 20241122):
    train, test = cc.train_test_split(X.assign(_y=y), stratify="_y", test_size=0.3, random_state=seed)
    return (train.drop(columns="_y"), train["_y"]), (test.drop(columns="_y"), test["_y"])


def one_hot(X: pd.DataFrame, levels: dict) -> pd.DataFrame:
    """Indicator columns written out independently of crmine's encoder, for scikit-learn."""
    cols = {}
    for c in X.columns:
        if c in levels:
            for level in levels[c]:
                cols[f"{c}={level}"] = (X[c] == level).astype(float)
        else:
            cols[c] = X[c].astype(float)
    return pd.DataFrame(cols, index=X.index)


def levels_of(X: pd.DataFrame) -> dict:
    return {c: sorted(X[c].dropna().unique(), key=str) for c in X.columns if not pd.api.types.is_numeric_dtype(X[c])}


DATASETS = ["bank", "telco"]


@pytest.fixture(params=DATASETS)
def data(request):
    X, y = request.getfixturevalue(request.param)
    (Xtr, ytr), (Xte, yte) = split(X, y)
    lv = levels_of(Xtr)
    return request.param, Xtr, ytr, Xte, yte, one_hot(Xtr, lv), one_hot(Xte, lv)


RESULTS: dict = {}


# ----------------------------------------------------------------------------- logistic regression

@pytest.mark.parametrize("C", [1.0, 0.05])
def test_logistic_l2_equals_sklearn(data, C):
    name, Xtr, ytr, Xte, yte, Htr, Hte = data
    ours = cc.LogisticRegression(C=C).fit(Xtr, ytr)
    assert ours.feature_names_out_ == list(Htr.columns)
    ref = make_pipeline(StandardScaler(), SkLogistic(C=C, tol=1e-12, max_iter=20000)).fit(Htr, ytr)
    scale = ref[0].scale_
    np.testing.assert_allclose(ours.coef_[0] * scale, ref[-1].coef_[0], atol=1e-4, rtol=0)
    p_ours, p_ref = ours.predict_proba(Xte)[:, 1], ref.predict_proba(Hte)[:, 1]
    np.testing.assert_allclose(p_ours, p_ref, atol=1e-5)
    auc_ours, auc_ref = roc_auc_score(yte, p_ours), roc_auc_score(yte, p_ref)
    assert abs(auc_ours - auc_ref) < 0.01
    RESULTS[(name, f"LogisticRegression C={C}")] = (auc_ours, auc_ref, cmm.top_decile_lift(yte, p_ours))


@pytest.mark.parametrize("l1_ratio", [1.0, 0.5])
def test_logistic_l1_and_elastic_net_equal_sklearn(telco, l1_ratio):
    X, y = telco
    (Xtr, ytr), _ = split(X, y)
    # With L1 the optimum is unique only without collinear columns: drop one level per category
    # and the indicator columns that duplicate others ("No internet service" repeats six times).
    H = one_hot(Xtr, levels_of(Xtr))
    first = [f"{c}={levels[0]}" for c, levels in levels_of(Xtr).items()]
    H = H.drop(columns=first)
    r = np.corrcoef(H.to_numpy(), rowvar=False)
    redundant = [j for j in range(H.shape[1]) if any(abs(r[i, j]) > 1 - 1e-9 for i in range(j))]
    Z = StandardScaler().fit_transform(H.drop(columns=H.columns[redundant]))
    C = 0.05
    ours = cc.LogisticRegression(C=C, l1_ratio=l1_ratio, standardize=False).fit(Z, ytr)
    ref = SkLogistic(C=C, l1_ratio=l1_ratio, solver="saga", tol=1e-10, max_iter=200000).fit(Z, ytr)
    np.testing.assert_allclose(ours.coef_[0], ref.coef_[0], atol=1e-4, rtol=0)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=1e-4)
    if l1_ratio == 1.0:
        assert (ours.coef_[0] == 0).sum() >= 3
        assert ((ours.coef_[0] == 0) == (np.abs(ref.coef_[0]) < 1e-6)).all()


def test_logistic_raw_scale_and_weights_equal_sklearn(telco):
    X, y = telco
    num = X[["tenure", "MonthlyCharges", "SeniorCitizen"]].to_numpy(dtype=float)
    w = np.where(y.to_numpy() == 1, 2.0, 1.0) * (1 + (np.arange(len(y)) % 3))
    ours = cc.LogisticRegression(C=0.5, standardize=False, class_weight={1: 1.5}).fit(num, y, sample_weight=w)
    ref = SkLogistic(C=0.5, tol=1e-12, max_iter=50000, class_weight={1: 1.5}).fit(num, y, sample_weight=w)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-4)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=1e-4)


# ----------------------------------------------------------------------------- trees, naive Bayes

@pytest.mark.parametrize("criterion", ["gini", "entropy"])
def test_tree_auc_matches_sklearn(data, criterion):
    name, Xtr, ytr, Xte, yte, Htr, Hte = data
    params = dict(criterion=criterion, max_depth=7, min_samples_leaf=30)
    ours = cc.DecisionTreeClassifier(**params).fit(Xtr, ytr)
    ref = SkTree(random_state=0, **params).fit(Htr, ytr)
    p_ours, p_ref = ours.predict_proba(Xte)[:, 1], ref.predict_proba(Hte)[:, 1]
    auc_ours, auc_ref = roc_auc_score(yte, p_ours), roc_auc_score(yte, p_ref)
    assert abs(auc_ours - auc_ref) < 0.01, (auc_ours, auc_ref)
    assert abs(ours.get_n_leaves() - ref.get_n_leaves()) <= max(2, 0.05 * ref.get_n_leaves())
    assert ours.feature_importances_.shape == (Xtr.shape[1],)
    assert ours.feature_importances_.sum() == pytest.approx(1.0)
    RESULTS[(name, f"DecisionTree {criterion}")] = (auc_ours, auc_ref, cmm.top_decile_lift(yte, p_ours))


def test_tree_pruning_matches_sklearn_leaf_count(telco):
    X, y = telco
    (Xtr, ytr), _ = split(X, y)
    Htr = one_hot(Xtr, levels_of(Xtr))
    for alpha in [0.001, 0.003]:
        ours = cc.DecisionTreeClassifier(min_samples_leaf=5, ccp_alpha=alpha).fit(Xtr, ytr)
        ref = SkTree(min_samples_leaf=5, ccp_alpha=alpha, random_state=0).fit(Htr, ytr)
        assert abs(ours.get_n_leaves() - ref.get_n_leaves()) <= 2, (alpha, ours.get_n_leaves(), ref.get_n_leaves())


def test_tree_rules_read_like_a_marketer_would(telco):
    X, y = telco
    model = cc.DecisionTreeClassifier(max_depth=2, min_samples_leaf=100).fit(X, y)
    rules = model.export_rules(precision=3).splitlines()
    assert len(rules) == model.get_n_leaves()
    assert rules[0].startswith("IF ") and " THEN P(y=1) = " in rules[0]
    assert any("Contract = Month-to-month" in r or "Contract != Month-to-month" in r for r in rules)
    rates = [float(r.split("P(y=1) = ")[1].split()[0]) for r in rules]
    assert rates == sorted(rates, reverse=True)


def test_tree_handles_missing_values(telco):
    X, y = telco
    X = X.copy()
    X.loc[X.index % 5 == 0, "tenure"] = np.nan
    (Xtr, ytr), (Xte, yte) = split(X, y)
    model = cc.DecisionTreeClassifier(max_depth=5, min_samples_leaf=20).fit(Xtr, ytr)
    assert roc_auc_score(yte, model.predict_proba(Xte)[:, 1]) > 0.75


def test_naive_bayes_equals_gaussian_plus_categorical_sklearn(data):
    name, Xtr, ytr, Xte, yte, _, _ = data
    lv = levels_of(Xtr)
    cats = list(lv)
    nums = [c for c in Xtr.columns if c not in lv]
    ours = cc.NaiveBayes().fit(Xtr, ytr)
    p_ours = ours.predict_proba(Xte)[:, 1]
    # scikit-learn has no mixed model: add the two joint log-likelihoods, counting the prior once.
    g = GaussianNB().fit(Xtr[nums], ytr)

    def codes(frame):
        return np.column_stack([pd.Categorical(frame[c], categories=lv[c]).codes for c in cats])

    c = CategoricalNB(min_categories=[len(lv[k]) for k in cats]).fit(codes(Xtr), ytr)
    te_codes = codes(Xte)
    keep = (te_codes >= 0).all(axis=1)  # sklearn cannot score unseen categories
    jll = (g.predict_joint_log_proba(Xte[nums][keep]) + c.predict_joint_log_proba(te_codes[keep])
           - np.log(g.class_prior_))
    p_ref = np.exp(jll[:, 1] - np.logaddexp(jll[:, 0], jll[:, 1]))
    np.testing.assert_allclose(p_ours[keep], p_ref, atol=1e-6)
    auc_ours, auc_ref = roc_auc_score(yte, p_ours), roc_auc_score(yte[keep], p_ref)
    assert abs(auc_ours - auc_ref) < 0.01
    RESULTS[(name, "NaiveBayes")] = (auc_ours, auc_ref, cmm.top_decile_lift(yte, p_ours))


def test_gradient_boosting_auc_matches_lightgbm(data):
    lightgbm = pytest.importorskip("lightgbm")
    name, Xtr, ytr, Xte, yte, Htr, Hte = data
    params = dict(n_estimators=200, learning_rate=0.05, num_leaves=31, min_child_samples=20, subsample=1.0,
                  colsample_bytree=1.0)
    ours = cc.GradientBoostingClassifier(**params).fit(Xtr, ytr)
    ref = lightgbm.LGBMClassifier(**params, reg_lambda=0.0, max_bin=255, verbose=-1, random_state=0, n_jobs=2)
    ref.fit(Htr.to_numpy(), ytr)
    p_ours, p_ref = ours.predict_proba(Xte)[:, 1], ref.predict_proba(Hte.to_numpy())[:, 1]
    auc_ours, auc_ref = roc_auc_score(yte, p_ours), roc_auc_score(yte, p_ref)
    assert abs(auc_ours - auc_ref) < 0.005, (auc_ours, auc_ref)
    RESULTS[(name, "GradientBoosting")] = (auc_ours, auc_ref, cmm.top_decile_lift(yte, p_ours))


def test_gradient_boosting_early_stopping_subsampling_threads(bank):
    X, y = bank
    (Xtr, ytr), (Xte, yte) = split(X, y)
    kw = dict(n_estimators=500, learning_rate=0.2, subsample=0.8, colsample_bytree=0.7, validation_fraction=0.15,
              n_iter_no_change=5, random_state=7)
    a = cc.GradientBoostingClassifier(**kw, n_threads=1).fit(Xtr, ytr)
    b = cc.GradientBoostingClassifier(**kw, n_threads=2).fit(Xtr, ytr)
    assert a.n_estimators_ < 500
    assert a.n_estimators_ == b.n_estimators_
    np.testing.assert_array_equal(a.predict_proba(Xte), b.predict_proba(Xte))
    assert roc_auc_score(yte, a.predict_proba(Xte)[:, 1]) > 0.78
    assert a.feature_importances_.shape == (X.shape[1],)


def test_linear_regression_equals_least_squares(rng):
    X = rng.normal(size=(300, 4))
    X[:, 3] = X[:, 0] + X[:, 1]  # rank deficient: the minimum-norm solution
    y = X @ [1.0, -2.0, 0.5, 0.0] + 3 + rng.normal(scale=0.1, size=300)
    ours = cc.LinearRegression().fit(X, y)
    Xc, yc = X - X.mean(0), y - y.mean()
    np.testing.assert_allclose(ours.coef_, np.linalg.lstsq(Xc, yc, rcond=None)[0], atol=1e-9)
    assert ours.rank_ == 3
    from sklearn.linear_model import Ridge

    r = cc.LinearRegression(alpha=5.0).fit(X, y)
    ref = Ridge(alpha=5.0).fit(X, y)
    np.testing.assert_allclose(r.coef_, ref.coef_, atol=1e-9)
    assert r.intercept_ == pytest.approx(ref.intercept_, abs=1e-9)
    tree = cc.DecisionTreeRegressor(max_depth=3).fit(X, y)
    assert tree.score(X, y) > 0.6


# ----------------------------------------------------------------------------- metrics, campaign

def test_metrics_match_direct_computation(rng):
    y = rng.integers(0, 2, 2000)
    s = np.round(rng.random(2000) + 0.3 * y, 2)  # ties on purpose
    assert cmm.roc_auc_score(y, s) == pytest.approx(roc_auc_score(y, s), abs=1e-12)
    assert cmm.average_precision_score(y, s) == pytest.approx(average_precision_score(y, s), abs=1e-12)
    p = np.clip(s / 1.3, 0, 1)
    assert cmm.log_loss(y, p) == pytest.approx(-np.mean(y * np.log(np.clip(p, 2.2e-16, 1)) +
                                                        (1 - y) * np.log(np.clip(1 - p, 2.2e-16, 1))), rel=1e-9)
    assert cmm.brier_score(y, p) == pytest.approx(np.mean((p - y) ** 2), rel=1e-12)
    t = cmm.lift_table(y, s)
    assert len(t) == 10 and t["n"].sum() == 2000 and t["responders"].sum() == y.sum()
    order = np.argsort(-s, kind="stable")
    assert t["response_rate"].iloc[0] == pytest.approx(y[order[:200]].mean())
    assert t["lift"].iloc[0] == pytest.approx(y[order[:200]].mean() / y.mean())
    assert t["cumulative_gain"].iloc[-1] == pytest.approx(1.0)
    cal = cmm.calibration_table(y, p)
    assert cal["n"].sum() == 2000
    cmat = cmm.confusion_matrix(y, p, 0.5)
    assert cmat.to_numpy().sum() == 2000 and cmat.loc[1, 1] == ((p >= 0.5) & (y == 1)).sum()


def test_stratified_kfold_is_seeded_and_balanced(bank):
    _, y = bank
    folds = cc.stratified_kfold(y, 5, random_state=3)
    assert folds[0][1].tolist() == cc.stratified_kfold(y, 5, random_state=3)[0][1].tolist()
    seen = np.concatenate([test for _, test in folds])
    assert sorted(seen.tolist()) == list(range(len(y)))
    for train, test in folds:
        assert abs(y.iloc[test].mean() - y.mean()) < 0.002


def test_campaign_select_top_n_budget_and_profit(telco):
    X, y = telco
    frame = X.assign(customer_id=np.arange(len(X)) + 1000)
    model = cc.LogisticRegression().fit(X, y)
    top = camp.select(frame, model=model, id="customer_id", n=50)
    assert len(top) == 50 and top["score"].is_monotonic_decreasing
    p = model.predict_proba(X)[:, 1]
    assert set(top["customer_id"]) == set(frame["customer_id"].to_numpy()[np.argsort(-p, kind="stable")[:50]])
    assert len(camp.select(frame, model=model, id="customer_id", budget=100.0, cost_per_contact=3.0)) == 33
    best = camp.select(frame, model=model, id="customer_id", value_per_response=50.0, cost_per_contact=10.0)
    assert (best["score"] * 50 - 10 > 0).all()
    assert len(best) == int((p * 50 - 10 > 0).sum())


# ----------------------------------------------------------------------------- protocol, bad input

def test_pipeline_gridsearch_pickle(telco):
    from sklearn.model_selection import GridSearchCV

    X, y = telco
    num = X.select_dtypes("number")
    grid = GridSearchCV(make_pipeline(StandardScaler(), cc.LogisticRegression()), {"logisticregression__C": [0.1, 1.0]},
                        cv=3, scoring="roc_auc").fit(num, y)
    assert grid.best_score_ > 0.8
    for model in (cc.LogisticRegression(C=0.3), cc.DecisionTreeClassifier(max_depth=4), cc.NaiveBayes(),
                  cc.GradientBoostingClassifier(n_estimators=20)):
        model.fit(X, y)
        clone = pickle.loads(pickle.dumps(model))
        np.testing.assert_array_equal(clone.predict_proba(X), model.predict_proba(X))
        assert model.get_params() == clone.get_params()
    assert cc.DecisionTreeClassifier().set_params(max_depth=3).max_depth == 3


def test_labels_and_classes(telco):
    X, y = telco
    labels = np.where(y == 1, "churn", "stay")
    model = cc.DecisionTreeClassifier(max_depth=3).fit(X, labels)
    assert list(model.classes_) == ["churn", "stay"]
    assert set(model.predict(X)) <= {"churn", "stay"}


def test_bad_input_errors(telco):
    X, y = telco
    num = X.select_dtypes("number").to_numpy()
    with pytest.raises(NotFittedError):
        cc.LogisticRegression().predict_proba(num)
    with pytest.raises(ValueError, match="only one class"):
        cc.LogisticRegression().fit(num, np.ones(len(num)))
    with pytest.raises(ValueError, match="binary"):
        cc.DecisionTreeClassifier().fit(num, np.arange(len(num)) % 3)
    bad = num.copy()
    bad[5, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        cc.LogisticRegression().fit(bad, y)
    cc.DecisionTreeClassifier(max_depth=3).fit(bad, y)  # trees take NaN
    model = cc.LogisticRegression().fit(num, y)
    with pytest.raises(ValueError, match="features"):
        model.predict_proba(num[:, :2])
    with pytest.raises(ValueError, match="C must be"):
        cc.LogisticRegression(C=-1).fit(num, y)
    with pytest.raises(ValueError, match="max_depth"):
        cc.DecisionTreeClassifier(max_depth=-3).fit(num, y)
    with pytest.raises(ValueError, match="lacks the column"):
        cc.LogisticRegression().fit(X, y).predict_proba(X.drop(columns=["tenure"]))
    data = bytearray(model.to_bytes())
    data[len(data) // 2] ^= 0xFF
    with pytest.raises(ModelFormatError):
        cm._core.LogisticRegression.from_bytes(bytes(data))
    with pytest.raises(ModelFormatError):
        cm._core.LogisticRegression.from_bytes(model.to_bytes()[:-5])


def test_unseen_category_is_treated_as_missing(telco):
    X, y = telco
    model = cc.LogisticRegression().fit(X, y)
    row = X.iloc[:1].copy()
    row["Contract"] = "Ten year"
    p = model.predict_proba(row)
    assert p.shape == (1, 2) and np.isfinite(p).all()
    nb = cc.NaiveBayes().fit(X, y)
    assert np.isfinite(nb.predict_proba(row)).all()


def test_same_model_at_one_and_two_threads(bank):
    X, y = bank
    a = cc.LogisticRegression(l1_ratio=0.5, C=0.1, n_threads=1).fit(X, y)
    b = cc.LogisticRegression(l1_ratio=0.5, C=0.1, n_threads=2).fit(X, y)
    np.testing.assert_array_equal(a.coef_, b.coef_)
    t1 = cc.DecisionTreeClassifier(min_samples_leaf=5, n_threads=1).fit(X, y)
    t2 = cc.DecisionTreeClassifier(min_samples_leaf=5, n_threads=2).fit(X, y)
    np.testing.assert_array_equal(t1.predict_proba(X), t2.predict_proba(X))
    assert t1.export_rules() == t2.export_rules()


# ----------------------------------------------------------------------------- C++ round trip

def _example_binary() -> Path | None:
    for candidate in [os.environ.get("CRMINE_CLASSIFY_EXAMPLE"), REPO / "build" / "example" / "classify_example"]:
        if candidate and Path(candidate).exists():
            return Path(candidate)
    return None


def test_model_saved_in_python_scores_in_cpp(telco, tmp_path):
    binary = _example_binary()
    if binary is None:
        pytest.skip("examples/cpp classify_example is not built (scripts/test.sh builds it)")
    X, y = telco
    (Xtr, ytr), (Xte, _) = split(X, y)
    for model in (cc.LogisticRegression(C=0.5), cc.DecisionTreeClassifier(max_depth=5), cc.NaiveBayes(),
                  cc.GradientBoostingClassifier(n_estimators=30),
                  cc.MLPClassifier(hidden_layer_sizes=(10,), early_stopping=True, random_state=0)):
        model.fit(Xtr.select_dtypes("number") if isinstance(model, cc.NaiveBayes) else Xtr, ytr)
        features = Xte.select_dtypes("number") if isinstance(model, cc.NaiveBayes) else Xte
        encoded, _ = model._encoder.transform(features, "test")
        table = pd.DataFrame(encoded, columns=model.feature_names_out_)
        table.insert(0, "id", np.arange(len(table)) + 1)
        table = table[["id"] + model.feature_names_out_[::-1]]  # the scorer matches columns by name
        cc.save_model(model, tmp_path / "model.crm")
        table.to_csv(tmp_path / "customers.csv", index=False, float_format="%.17g")
        out = subprocess.run([str(binary), str(tmp_path / "model.crm"), str(tmp_path / "customers.csv"), "0"],
                             capture_output=True, text=True, check=True).stdout
        scored = pd.read_csv(pd.io.common.StringIO(out)).sort_values("id")
        np.testing.assert_allclose(scored["score"].to_numpy(), model.predict_proba(features)[:, 1], rtol=1e-12, atol=1e-15)


def test_record_results():
    """Prints the AUC / top-decile-lift table for docs/user/classify.md (run with -s)."""
    for (data_name, model), (ours, ref, lift) in sorted(RESULTS.items()):
        print(f"| {data_name} | {model} | {ours:.4f} | {ref:.4f} | {lift:.2f} |")


def test_report_gets_a_response_model_section_with_label(tmp_path):
    from crmine import cli

    frame = cm.datasets.make_transactions(1500, seed=1).transactions
    occasions = frame.groupby("customer_id")["order_id"].nunique()
    rng = np.random.default_rng(0)
    responded = pd.Series(rng.random(len(occasions)) < 1 / (1 + np.exp(-(occasions - occasions.median()) / 3)),
                          index=occasions.index).map({True: "yes", False: "no"})
    frame["responded"] = frame["customer_id"].map(responded)
    frame.to_csv(tmp_path / "tx.csv", index=False)
    out = tmp_path / "report.html"
    assert cli.main(["report", str(tmp_path / "tx.csv"), "--label", "responded", "-o", str(out), "-q"]) == 0
    html = out.read_text()
    assert "Response model" in html and "Lift by decile" in html and "IF " in html
    assert cli.main(["report", str(tmp_path / "tx.csv"), "-o", str(tmp_path / "plain.html"), "-q"]) == 0
    assert "Response model" not in (tmp_path / "plain.html").read_text()
