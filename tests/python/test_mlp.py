# SPDX-License-Identifier: Apache-2.0
"""MLPClassifier / MLPRegressor against scikit-learn: the same Adam steps from the same weights,
the same test AUC on bank marketing and Telco churn, the estimator contract, bad input, threads."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pytest

import crmine.classify as cc
import crmine.metrics as cmm
from crmine.base import ConvergenceWarning
from crmine.exceptions import ModelFormatError, NotFittedError

sklearn = pytest.importorskip("sklearn")
from sklearn.neural_network import MLPClassifier as SkMLPClassifier  # noqa: E402
from sklearn.neural_network import MLPRegressor as SkMLPRegressor  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402  (a scikit-learn dependency)


# ----------------------------------------------------------------------------- data

# The real data sets, the fixed seeded split and the independent one-hot encoding of the other
# classifier tests.
from test_classify import bank, one_hot, split, telco  # noqa: E402,F401


def synthetic(n: int, p: int, seed: int, classes: int = 2) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p))
    scores = X @ rng.normal(size=(p, classes)) + np.sin(X[:, :1]) * 2
    return X, scores.argmax(axis=1)


def quiet_fit(model, X, y, sample_weight=None):
    """Fits with scikit-learn's and crmine's 'maximum iterations reached' warning silenced
    (the short fits below stop at max_iter on purpose)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(X, y) if sample_weight is None else model.fit(X, y, sample_weight=sample_weight)


def continue_from_the_same_weights(ours, ref, X, y, epochs, sample_weight=None):
    """One epoch of ours, its weights copied into scikit-learn's network, then `epochs` more
    epochs of both (warm_start keeps the weights; each side starts a fresh Adam state)."""
    quiet_fit(ours.set_params(max_iter=1), X, y)
    quiet_fit(ref.set_params(max_iter=1), X, y)
    ref.coefs_ = [c.copy() for c in ours.coefs_]
    ref.intercepts_ = [b.copy() for b in ours.intercepts_]
    quiet_fit(ours.set_params(max_iter=epochs), X, y, sample_weight)
    quiet_fit(ref.set_params(max_iter=epochs), X, y, sample_weight)
    return ours, ref


# ----------------------------------------------------------------------------- step for step

@pytest.mark.parametrize("classes, activation, hidden", [(2, "relu", (7,)), (3, "tanh", (6, 5)), (4, "logistic", (5,))])
def test_classifier_takes_the_same_adam_steps_as_sklearn(classes, activation, hidden):
    """From the same weights, without shuffling or standardisation, both libraries compute the
    same losses and weights epoch after epoch (up to the order of floating-point sums)."""
    X, y = synthetic(450, 6, seed=classes, classes=classes)
    settings = dict(hidden_layer_sizes=hidden, activation=activation, alpha=1e-3, batch_size=64,
                    learning_rate_init=0.01, shuffle=False, tol=0.0, n_iter_no_change=1000, warm_start=True,
                    random_state=0)
    ours, ref = continue_from_the_same_weights(cc.MLPClassifier(standardize=False, **settings),
                                               SkMLPClassifier(**settings), X, y, epochs=6)
    np.testing.assert_allclose(ours.loss_curve_, ref.loss_curve_[-6:], rtol=1e-9)
    for a, b in zip(ours.coefs_ + ours.intercepts_, ref.coefs_ + ref.intercepts_):
        np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-11)
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), rtol=1e-8, atol=1e-12)
    assert ours.out_activation_ == ref.out_activation_


def test_regressor_takes_the_same_adam_steps_as_sklearn():
    rng = np.random.default_rng(4)
    X = rng.normal(size=(300, 4))
    y = X[:, 0] * X[:, 1] + np.cos(X[:, 2]) + 0.1 * rng.normal(size=300)
    w = rng.uniform(0.5, 2.0, size=300)
    settings = dict(hidden_layer_sizes=(9,), alpha=1e-2, batch_size=50, learning_rate_init=0.01, shuffle=False, tol=0.0,
                    n_iter_no_change=1000, warm_start=True, random_state=0)
    ours, ref = continue_from_the_same_weights(cc.MLPRegressor(standardize=False, **settings),
                                               SkMLPRegressor(**settings), X, y, epochs=5, sample_weight=w)
    np.testing.assert_allclose(ours.loss_curve_, ref.loss_curve_[-5:], rtol=1e-9)
    np.testing.assert_allclose(ours.predict(X), ref.predict(X), rtol=1e-8, atol=1e-10)


# ----------------------------------------------------------------------------- real data

AUC_SETTINGS = dict(hidden_layer_sizes=(50,), early_stopping=True, random_state=0)
RESULTS: dict = {}


@pytest.mark.parametrize("name", ["bank", "telco"])
def test_auc_matches_sklearn_on_real_data(name, request):
    """Same settings, same split: crmine's MLP (standardising inside) against scikit-learn's
    MLPClassifier behind a StandardScaler, on the same one-hot columns."""
    X, y = request.getfixturevalue(name)
    (Xtr, ytr), (Xte, yte) = split(X, y)
    ours = cc.MLPClassifier(**AUC_SETTINGS).fit(Xtr, ytr)
    p = ours.predict_proba(Xte)[:, 1]
    levels = {c: ours._encoder.categories[c] for c in ours._encoder.categories}
    with threadpool_limits(1):  # small matrices: threaded BLAS only adds waiting on a shared machine
        ref = make_pipeline(StandardScaler(), SkMLPClassifier(**AUC_SETTINGS)).fit(one_hot(Xtr, levels), ytr)
    q = ref.predict_proba(one_hot(Xte, levels))[:, 1]
    ours_auc, ref_auc = cmm.roc_auc_score(yte, p), cmm.roc_auc_score(yte, q)
    RESULTS[name] = (ours_auc, ref_auc, cmm.top_decile_lift(yte, p), ours.n_iter_, ref[-1].n_iter_)
    assert ours_auc > (0.77 if name == "bank" else 0.82)
    assert abs(ours_auc - ref_auc) < 0.01, (ours_auc, ref_auc)


def test_record_results():
    """Prints the AUC table for docs/user/classify.md (run with -s)."""
    for name, (ours, ref, lift, n_ours, n_ref) in sorted(RESULTS.items()):
        print(f"| {name} | {ours:.4f} | {ref:.4f} | {lift:.2f} | {n_ours} / {n_ref} |")


# ----------------------------------------------------------------------------- behaviour

def test_multiclass_labels_and_probabilities():
    X, y = synthetic(600, 4, seed=3, classes=3)
    labels = np.array(["bronze", "gold", "silver"])[y]
    model = cc.MLPClassifier(hidden_layer_sizes=(16,), learning_rate_init=0.01, max_iter=2000, random_state=1).fit(X, labels)
    assert list(model.classes_) == ["bronze", "gold", "silver"]
    proba = model.predict_proba(X)
    assert proba.shape == (600, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert (model.predict(X) == labels).mean() > 0.9
    assert model.out_activation_ == "softmax" and model.n_outputs_ == 3 and model.n_layers_ == 3


def test_same_model_at_one_and_two_threads(bank):
    X, y = bank
    X, y = X.iloc[:6000], y.iloc[:6000]
    a = quiet_fit(cc.MLPClassifier(hidden_layer_sizes=(40, 20), batch_size=1000, max_iter=5, random_state=3, n_threads=1), X, y)
    b = quiet_fit(cc.MLPClassifier(hidden_layer_sizes=(40, 20), batch_size=1000, max_iter=5, random_state=3, n_threads=2), X, y)
    assert a.to_bytes() == b.to_bytes()
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    c = quiet_fit(cc.MLPClassifier(hidden_layer_sizes=(40, 20), batch_size=1000, max_iter=5, random_state=4, n_threads=1), X, y)
    assert c.to_bytes() != a.to_bytes()


def test_early_stopping_history_and_convergence_warning(telco):
    X, y = telco
    model = cc.MLPClassifier(hidden_layer_sizes=(20,), early_stopping=True, random_state=0).fit(X, y)
    assert len(model.validation_scores_) == model.n_iter_ == len(model.loss_curve_)
    assert model.best_validation_score_ == max(model.validation_scores_)
    assert model.best_loss_ is None
    with pytest.warns(ConvergenceWarning, match="Maximum iterations"):
        cc.MLPClassifier(hidden_layer_sizes=(5,), max_iter=2, random_state=0).fit(X, y)


def test_pipeline_gridsearch_pickle_and_files(telco, tmp_path):
    from sklearn.model_selection import GridSearchCV

    X, y = telco
    grid = GridSearchCV(cc.MLPClassifier(hidden_layer_sizes=(10,), early_stopping=True, random_state=0),
                        {"alpha": [1e-4, 1e-2]}, cv=3, scoring="roc_auc").fit(X, y)
    assert grid.best_score_ > 0.8
    model = cc.MLPClassifier(hidden_layer_sizes=(10,), early_stopping=True, random_state=0).fit(X, y)
    clone = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(clone.predict_proba(X), model.predict_proba(X))
    assert clone.get_params() == model.get_params()
    compiled = cc.load_model(cc.save_model(model, tmp_path / "mlp.crm"))
    encoded, _ = model._encoder.transform(X, "test")
    np.testing.assert_array_equal(compiled.predict_proba(encoded), model.predict_proba(X))
    with pytest.raises(ModelFormatError):
        type(compiled).from_bytes(model.to_bytes()[:-5])
    usage, total = X[["tenure", "MonthlyCharges"]], X["TotalCharges"]  # total ~ tenure x monthly: not linear
    reg = cc.MLPRegressor(hidden_layer_sizes=(20,), learning_rate_init=0.01, early_stopping=True, tol=1e-3,
                          random_state=0).fit(usage, total)
    assert reg.score(usage, total) > 0.95
    assert len(reg.validation_scores_) == reg.n_iter_
    back = pickle.loads(pickle.dumps(reg))
    np.testing.assert_array_equal(back.predict(usage), reg.predict(usage))


def test_bad_input_names_the_problem(telco):
    X, y = telco
    model = cc.MLPClassifier(hidden_layer_sizes=(5,), max_iter=3)
    with pytest.raises(NotFittedError):
        model.predict(X)
    bad = X.copy()
    bad.loc[5, "MonthlyCharges"] = np.nan
    with pytest.raises(ValueError, match="NaN or infinity in column 'MonthlyCharges'"):
        model.fit(bad, y)
    for params, message in [({"hidden_layer_sizes": ()}, "hidden_layer_sizes"), ({"hidden_layer_sizes": (10, 0)}, "hidden_layer_sizes"),
                            ({"activation": "softplus"}, "activation"), ({"batch_size": 0}, "batch_size"),
                            ({"learning_rate_init": 0}, "learning_rate_init"), ({"beta_1": 1.0}, "beta_1"),
                            ({"early_stopping": True, "validation_fraction": 0.0}, "validation_fraction")]:
        with pytest.raises(ValueError, match=message):
            cc.MLPClassifier(**params).fit(X, y)
    with pytest.raises(ValueError, match="only one class"):
        model.fit(X, np.zeros(len(y)))
    with pytest.raises(ValueError, match="continuous"):
        model.fit(X, np.linspace(0, 1, len(y)))
    fitted = quiet_fit(cc.MLPClassifier(hidden_layer_sizes=(5,), max_iter=2), X.select_dtypes("number").to_numpy(), y)
    with pytest.raises(ValueError, match="features"):
        fitted.predict(np.zeros((3, 7)))
    with pytest.raises(ValueError, match="NaN or infinity in column 'x1'"):
        fitted.predict(np.array([[0.0, np.inf, 2.0, 3.0]]))
    with pytest.raises(ValueError, match="early stopping needs"):
        cc.MLPClassifier(early_stopping=True, validation_fraction=0.01).fit(X.iloc[:60], y.iloc[:60])


def test_unseen_category_scores_like_an_all_zero_indicator(telco):
    X, y = telco
    model = quiet_fit(cc.MLPClassifier(hidden_layer_sizes=(8,), max_iter=3, random_state=0), X, y)
    row = X.iloc[[0]].copy()
    row["PaymentMethod"] = "Bitcoin"
    p = model.predict_proba(row)
    assert p.shape == (1, 2) and np.isfinite(p).all()


KNOWN_FAILURES = {
    "check_supervised_y_2d": "a column-vector y is flattened with a DataConversionWarning the check does not see "
                             "(as for crmine's other classifiers)",
    "check_sample_weight_equivalence_on_dense_data": "the mini-batches cut the rows at fixed positions, so a row of "
                                                     "weight 2 and a duplicated row fall into different batches (true "
                                                     "of scikit-learn's MLP too)",
}


@pytest.mark.filterwarnings("ignore:Estimator MLP.* does not inherit:UserWarning")
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.SkipTestWarning")
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("estimator", [cc.MLPClassifier(hidden_layer_sizes=(16,), learning_rate_init=0.01, random_state=0),
                                       cc.MLPRegressor(hidden_layer_sizes=(16,), learning_rate_init=0.01, random_state=0)],
                         ids=["classifier", "regressor"])
def test_sklearn_check_estimator(estimator):
    from sklearn.utils.estimator_checks import check_estimator

    results = check_estimator(estimator, on_fail=None, expected_failed_checks=KNOWN_FAILURES)
    failed = {r["check_name"]: str(r["exception"])[:300] for r in results if r["status"] == "failed"}
    assert not failed, failed
    assert len(results) > 40
    xfailed = {r["check_name"] for r in results if r["status"] == "xfail"}
    assert xfailed == set(KNOWN_FAILURES), xfailed  # an expected failure that passes is news
