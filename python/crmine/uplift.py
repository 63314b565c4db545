# SPDX-License-Identifier: Apache-2.0
"""Uplift modelling: incremental response from randomised campaigns, Qini and uplift curves.

A randomised campaign treats some customers (``treatment = 1``) and holds others back as a
control group (``treatment = 0``); the *uplift* of a customer is how much treatment raises the
chance that they respond, ``P(y=1 | x, treated) - P(y=1 | x, control)``. This module estimates it
and evaluates the ranking:

* ``TwoModel`` -- one classifier per group (T-learner); any classifier with ``fit`` and
  ``predict_proba`` works, crmine's ``LogisticRegression`` by default;
* ``ClassTransformation`` -- one classifier on ``z = (y == treatment)``, uplift ``2 P(z) - 1``;
* ``UpliftTree`` and ``UpliftForest`` (alias ``UpliftRandomForest``) -- trees that split on
  the divergence between treated and control response rates (KL, Euclidean, chi-squared or
  delta-delta-p), compiled and multithreaded;
* ``qini_curve``, ``uplift_curve``, ``qini_auc_score`` (the Qini coefficient),
  ``uplift_auc_score`` (AUUC) and ``uplift_at_k`` with scikit-uplift's definitions;
* ``choose_treatment`` -- whom to treat: the top N, or everyone whose expected incremental
  value exceeds the contact cost, with the expected incremental responses and profit.

Example::

    import crmine.uplift as cu
    model = cu.TwoModel().fit(X_train, y_train, treatment_train)
    u = model.predict(X_test)
    print(cu.qini_auc_score(y_test, u, treatment_test))
    plan = cu.choose_treatment(u, value_per_response=40.0, cost_per_contact=2.0)
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from . import _core
from .base import Estimator, check_array, check_feature_names, check_is_fitted, check_n_features, seed_from

__all__ = ["TwoModel", "ClassTransformation", "UpliftTree", "UpliftForest", "UpliftRandomForest",
           "qini_curve", "uplift_curve", "perfect_qini_curve", "perfect_uplift_curve", "qini_auc_score",
           "uplift_auc_score", "uplift_at_k", "choose_treatment", "TreatmentPlan", "campaign_section"]


# ----------------------------------------------------------------------------- input checks

def _flags(values: Any, name: str, caller: str, n: int | None = None, *, both: bool = False) -> np.ndarray:
    """A 0/1 vector (bool, integer or float 0.0/1.0 input) as C-contiguous int32."""
    if values is None:
        raise ValueError(f"{caller}: {name} is required")
    arr = values.to_numpy() if isinstance(values, (pd.Series, pd.Index)) else np.asarray(values)
    if arr.ndim != 1:
        arr = arr.ravel() if arr.ndim == 2 and 1 in arr.shape else arr
        if arr.ndim != 1:
            raise ValueError(f"{caller}: {name} must be 1-d, got shape {np.shape(values)}")
    if n is not None and len(arr) != n:
        raise ValueError(f"{caller}: {name} has {len(arr)} entries, expected {n} (one per row of X / y)")
    if len(arr) == 0:
        raise ValueError(f"{caller}: {name} is empty")
    if arr.dtype == bool:
        out = arr.astype(np.int32)
    else:
        if arr.dtype.kind not in "iuf":
            if pd.isna(arr).any():
                raise ValueError(f"{caller}: {name} contains NaN or missing values; it must hold only 0 and 1")
            try:
                arr = arr.astype(np.float64)
            except (TypeError, ValueError):
                raise ValueError(f"{caller}: {name} must hold only 0 and 1, got values such as {arr[:3].tolist()}") \
                    from None
        if arr.dtype.kind == "f" and np.isnan(arr).any():
            raise ValueError(f"{caller}: {name} contains NaN or missing values; it must hold only 0 and 1")
        # Integers in [0, 1] are 0/1; floats also need to be whole (one extra pass only for floats).
        if arr.min() < 0 or arr.max() > 1 or (arr.dtype.kind == "f" and (arr != np.floor(arr)).any()):
            bad = ~np.isin(arr, (0, 1))
            raise ValueError(f"{caller}: {name} must hold only 0 and 1, got {np.unique(arr[bad])[:5].tolist()}")
        out = arr if arr.dtype == np.int32 else arr.astype(np.int32)
    if both and name == "treatment":
        treated = int(out.sum())
        if treated == 0:
            raise ValueError(f"{caller}: treatment has no treated rows (all 0); uplift needs a treated and a control "
                             "group")
        if treated == len(out):
            raise ValueError(f"{caller}: treatment has no control rows (all 1); uplift needs a treated and a control "
                             "group")
    return np.ascontiguousarray(out)


def _scores(values: Any, caller: str, n: int) -> np.ndarray:
    arr = np.ascontiguousarray(np.asarray(values, dtype=np.float64).ravel())
    if len(arr) != n:
        raise ValueError(f"{caller}: uplift has {len(arr)} entries, y_true has {n}")
    if not np.isfinite(arr).all():
        raise ValueError(f"{caller}: uplift contains NaN or infinity")
    return arr


def _metric_input(caller: str, y_true: Any, uplift: Any, treatment: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    y = _flags(y_true, "y_true", caller)
    t = _flags(treatment, "treatment", caller, len(y), both=True)
    return y, _scores(uplift, caller, len(y)), t


# ----------------------------------------------------------------------------- metrics

def qini_curve(y_true: Any, uplift: Any, treatment: Any) -> tuple[np.ndarray, np.ndarray]:
    """Qini curve: (customers targeted, incremental responders) at each distinct score, best first.

    The value at the top k rows is ``y_treated - y_control * n_treated / n_control`` (Radcliffe
    2007), exactly as ``sklift.metrics.qini_curve``; ties form one point; the curve starts at (0, 0).
    """
    y, u, t = _metric_input("qini_curve", y_true, uplift, treatment)
    return _core.qini_curve(y, u, t)


def uplift_curve(y_true: Any, uplift: Any, treatment: Any) -> tuple[np.ndarray, np.ndarray]:
    """Uplift curve: (customers targeted, (treated rate - control rate) x customers targeted)."""
    y, u, t = _metric_input("uplift_curve", y_true, uplift, treatment)
    return _core.uplift_curve(y, u, t)


def perfect_qini_curve(y_true: Any, treatment: Any, negative_effect: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """The Qini curve of an oracle ranking (treated responders first, control responders last)."""
    caller = "perfect_qini_curve"
    y = _flags(y_true, "y_true", caller)
    return _core.perfect_qini_curve(y, _flags(treatment, "treatment", caller, len(y), both=True),
                                    _bool(negative_effect, "negative_effect", caller))


def perfect_uplift_curve(y_true: Any, treatment: Any) -> tuple[np.ndarray, np.ndarray]:
    """The uplift curve of an oracle ranking."""
    y = _flags(y_true, "y_true", "perfect_uplift_curve")
    return _core.perfect_uplift_curve(y, _flags(treatment, "treatment", "perfect_uplift_curve", len(y), both=True))


def qini_auc_score(y_true: Any, uplift: Any, treatment: Any, negative_effect: bool = True) -> float:
    """Qini coefficient: the area between the Qini curve and the random line over that of the
    perfect curve (1 = oracle ranking, 0 = random, < 0 = worse than random)."""
    y, u, t = _metric_input("qini_auc_score", y_true, uplift, treatment)
    return _core.qini_auc_score(y, u, t, _bool(negative_effect, "negative_effect", "qini_auc_score"))


def uplift_auc_score(y_true: Any, uplift: Any, treatment: Any) -> float:
    """Normalised area under the uplift curve (AUUC), scikit-uplift's ``uplift_auc_score``."""
    y, u, t = _metric_input("uplift_auc_score", y_true, uplift, treatment)
    return _core.uplift_auc_score(y, u, t)


def uplift_at_k(y_true: Any, uplift: Any, treatment: Any, k: float = 0.3) -> float:
    """Treated minus control response rate among the best-scored share ``k`` of all rows
    (scikit-uplift's ``uplift_at_k`` with ``strategy="overall"``)."""
    y, u, t = _metric_input("uplift_at_k", y_true, uplift, treatment)
    if isinstance(k, bool) or not isinstance(k, numbers.Real) or not 0 < k <= 1:
        raise ValueError(f"uplift_at_k: k must be a share in (0, 1], got {k!r}")
    return _core.uplift_at_k(y, u, t, float(k))


def _bool(value: Any, name: str, caller: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{caller}: {name} must be a bool, got {value!r}")
    return bool(value)


# ----------------------------------------------------------------------------- whom to treat

@dataclass(frozen=True)
class TreatmentPlan:
    """Whom to treat and what it is expected to bring.

    Attributes
    ----------
    selected : pandas.DataFrame
        The chosen customers, highest uplift first, indexed by id (the uplift Series' index, or
        row position): ``uplift``, ``expected_profit`` (uplift x value - cost) and
        ``cumulative_profit``.
    expected_incremental_responses : float
        Sum of the chosen customers' uplift: responses caused by the campaign.
    expected_profit : float
        Sum of their expected profit.
    profit_curve : numpy.ndarray
        Expected profit of treating the best k customers, k = 0..n (entry 0 is 0).
    best_n : int
        The k with the largest expected profit.
    """

    selected: pd.DataFrame
    expected_incremental_responses: float
    expected_profit: float
    profit_curve: np.ndarray
    best_n: int


def choose_treatment(uplift: Any, *, n: int | None = None, value_per_response: float = 1.0,
                     cost_per_contact: float = 0.0, profitable_only: bool = True) -> TreatmentPlan:
    """Rank customers by predicted uplift and pick whom to treat.

    Takes the best ``n`` (all when None); with ``profitable_only`` stops before the first
    customer whose expected profit ``uplift * value_per_response - cost_per_contact`` is not
    positive, so negative-uplift customers ("sleeping dogs") are never contacted. ``uplift`` may
    be a pandas Series: its index gives the customer ids of ``selected``.
    """
    caller = "choose_treatment"
    index = uplift.index if isinstance(uplift, pd.Series) else None
    u = np.ascontiguousarray(np.asarray(uplift, dtype=np.float64).ravel())
    if not np.isfinite(u).all():
        raise ValueError(f"{caller}: uplift contains NaN or infinity")
    options = _core.TreatmentChoiceOptions()
    if n is not None and (isinstance(n, bool) or not isinstance(n, (numbers.Integral, np.integer)) or n < 0):
        raise ValueError(f"{caller}: n must be None or an int >= 0, got {n!r}")
    options.n = -1 if n is None else int(n)
    for name, value in (("value_per_response", value_per_response), ("cost_per_contact", cost_per_contact)):
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value) or value < 0:
            raise ValueError(f"{caller}: {name} must be a finite number >= 0, got {value!r}")
        setattr(options, name, float(value))
    options.profitable_only = _bool(profitable_only, "profitable_only", caller)
    rows, curve, incremental, profit, best_n = _core.choose_treatment(u, options)
    chosen = u[rows]
    gain = chosen * options.value_per_response - options.cost_per_contact
    ids = index[rows] if index is not None else pd.RangeIndex(len(u))[rows]
    selected = pd.DataFrame({"uplift": chosen, "expected_profit": gain, "cumulative_profit": np.cumsum(gain)},
                            index=ids)
    return TreatmentPlan(selected, float(incremental), float(profit), curve, int(best_n))


# ----------------------------------------------------------------------------- meta-learners

def _take(X: Any, rows: np.ndarray) -> Any:
    """Rows of X by position (np.take on row indices copies several times faster than a boolean mask)."""
    if hasattr(X, "iloc"):
        return X.iloc[rows]
    return np.take(np.asarray(X), rows, axis=0)


def _n_rows(X: Any, caller: str) -> int:
    if hasattr(X, "shape") and len(X.shape) == 2:
        return int(X.shape[0])
    arr = np.asarray(X)
    if arr.ndim != 2:
        raise ValueError(f"{caller}: X must be 2-d (rows x features), got shape {arr.shape}")
    return int(arr.shape[0])


def _clone(estimator: Any) -> Any:
    try:
        from sklearn.base import clone
        return clone(estimator)
    except ImportError:  # pragma: no cover - without scikit-learn
        return type(estimator)(**estimator.get_params(deep=False))


def _default_classifier() -> Any:
    from .classify import LogisticRegression
    return LogisticRegression()


def _fit_input(caller: str, X: Any, y: Any, treatment: Any) -> tuple[int, np.ndarray, np.ndarray]:
    n = _n_rows(X, caller)
    return n, _flags(y, "y", caller, n), _flags(treatment, "treatment", caller, n, both=True)


def _positive_proba(model: Any, X: Any) -> np.ndarray:
    p = np.asarray(model.predict_proba(X))
    return p[:, 1]


# crmine's own LogisticRegression is fitted and applied by the compiled meta-learners: each group is
# read where it lies in X (no copy of the treated and control rows), X is checked once (inside the
# fit's first pass), and uplift comes from one multithreaded pass. The models are bit for bit those
# LogisticRegression.fit gives on the groups' rows; other classifiers take the generic path. Two of
# crmine's GradientBoostingClassifiers are fitted by one compiled call too, both at the same time
# when there are threads for both (again bit for bit the models fitted on each group).

def _plain(kind: str, *estimators: Any) -> bool:
    """Whether every estimator is exactly crmine.classify's ``kind`` (a subclass may change fit)."""
    from . import classify
    return all(type(e) is getattr(classify, kind) for e in estimators)


def _plain_logistic(*estimators: Any) -> bool:
    return _plain("LogisticRegression", *estimators)


def _prepare_compiled(est: Any, X: Any, labels: Any) -> tuple[Any, Any] | None:
    """(encoder, unfitted compiled model) set up as ``est.fit`` would for numeric X, or None when X
    has categorical columns (whose levels a group's rows would decide). ``labels`` gives the
    group's 0/1 labels, needed only for class weights."""
    from .classify import _class_weight

    caller = f"{type(est).__name__}.fit"
    encoder = est._make_encoder(caller).fit(X, caller)
    if encoder.categories:
        return None
    options = est._options(caller)
    est._configure(options, encoder, caller)
    if getattr(est, "class_weight", None) is not None:
        options.class_weight = _class_weight(est.class_weight, np.arange(2, dtype=np.int32), labels(), caller)
    return encoder, est._new_model(options)


def _adopt_compiled(est: Any, encoder: Any, model: Any) -> Any:
    """``est`` as its own ``fit`` leaves it, for a model fitted by a compiled meta-learner on the
    encoded X (tests/python/test_uplift.py compares both paths)."""
    return est._adopt(model, encoder, np.arange(2, dtype=np.int32))


def _logistic_input(caller: str, X: Any, *estimators: Any) -> np.ndarray | None:
    """X encoded for fitted LogisticRegressions that share numeric columns, or None (generic path)."""
    if not _plain_logistic(*estimators):
        return None
    encoders = [e._encoder for e in estimators]
    first = encoders[0]
    if any(enc.categories or enc.frame != first.frame or enc.names_out != first.names_out for enc in encoders):
        return None
    return first.transform(X, caller)[0]


class TwoModel(Estimator):
    """Two-model uplift (T-learner): a classifier for the treated and one for the control group.

    ``predict`` returns ``P(y=1 | x, treated) - P(y=1 | x, control)``, the same model family as
    ``sklift.models.TwoModels(method="vanilla")``.

    Parameters
    ----------
    estimator_trmnt : classifier, default crmine.classify.LogisticRegression()
        Fitted (a clone of it) on the treated rows.
    estimator_ctrl : classifier, default a clone of ``estimator_trmnt``
        Fitted on the control rows.
    """

    def __init__(self, *, estimator_trmnt: Any = None, estimator_ctrl: Any = None) -> None:
        self.estimator_trmnt = estimator_trmnt
        self.estimator_ctrl = estimator_ctrl

    def fit(self, X: Any, y: Any, treatment: Any) -> TwoModel:
        """Fits one classifier on the treated rows and one on the control rows."""
        _, y01, t = _fit_input("TwoModel.fit", X, y, treatment)
        cells = np.bincount(2 * t + y01, minlength=4)  # control 0/1, treated 0/1
        for group, name in ((1, "treated"), (0, "control")):
            if cells[2 * group] == 0 or cells[2 * group + 1] == 0:
                raise ValueError(f"TwoModel.fit: y: every {name} row has response {int(cells[2 * group + 1] > 0)}; each "
                                 "group needs both responders and non-responders")
        base = self.estimator_trmnt if self.estimator_trmnt is not None else _default_classifier()
        ctrl = self.estimator_ctrl if self.estimator_ctrl is not None else base
        treated, control = _clone(base), _clone(ctrl)
        compiled = (_core.fit_two_model_logistic if _plain_logistic(treated, control)
                    else _core.fit_two_model_boosting if _plain("GradientBoostingClassifier", treated, control) else None)
        if compiled is not None:
            prepared = [_prepare_compiled(est, X, lambda g=group: y01[t == g]) for est, group in ((treated, 1), (control, 0))]
            if prepared[0] is not None and prepared[1] is not None:
                Xn = prepared[0][0].transform(X, "TwoModel.fit")[0]
                compiled(prepared[0][1], prepared[1][1], Xn, y01, t)
                self.estimator_trmnt_ = _adopt_compiled(treated, *prepared[0])
                self.estimator_ctrl_ = _adopt_compiled(control, *prepared[1])
                self.n_features_in_ = treated.n_features_in_
                return self
        rows = {group: np.flatnonzero(t == group) for group in (0, 1)}
        self.estimator_trmnt_ = treated.fit(_take(X, rows[1]), y01[rows[1]])
        self.estimator_ctrl_ = control.fit(_take(X, rows[0]), y01[rows[0]])
        self.n_features_in_ = getattr(self.estimator_trmnt_, "n_features_in_", None)
        return self

    def predict_components(self, X: Any) -> tuple[np.ndarray, np.ndarray]:
        """(P(y=1 | x, treated), P(y=1 | x, control)) per row."""
        check_is_fitted(self, "estimator_trmnt_")
        return _positive_proba(self.estimator_trmnt_, X), _positive_proba(self.estimator_ctrl_, X)

    def predict(self, X: Any) -> np.ndarray:
        """Predicted uplift per row."""
        check_is_fitted(self, "estimator_trmnt_")
        Xn = _logistic_input("TwoModel.predict", X, self.estimator_trmnt_, self.estimator_ctrl_)
        if Xn is not None:
            return _core.two_model_logistic_uplift(self.estimator_trmnt_._model, self.estimator_ctrl_._model, Xn)
        treated, control = self.predict_components(X)
        return treated - control


class ClassTransformation(Estimator):
    """Class-transformation uplift (Jaskowski & Jaroszewicz 2012).

    One classifier learns ``z = 1`` for treated responders and control non-responders; with
    equal-sized groups ``uplift = 2 P(z=1 | x) - 1``. Like ``sklift.models.ClassTransformation``
    no correction is made when the groups differ in size (then prefer ``TwoModel``).

    Parameters
    ----------
    estimator : classifier, default crmine.classify.LogisticRegression()
    """

    def __init__(self, *, estimator: Any = None) -> None:
        self.estimator = estimator

    def fit(self, X: Any, y: Any, treatment: Any) -> ClassTransformation:
        """Fits the classifier on the transformed class."""
        _, y01, t = _fit_input("ClassTransformation.fit", X, y, treatment)
        n_z = int(np.count_nonzero(y01 == t))
        if n_z == 0 or n_z == len(t):
            raise ValueError("ClassTransformation.fit: y: the transformed class z = (y == treatment) has one value only")
        est = _clone(self.estimator if self.estimator is not None else _default_classifier())
        prepared = _plain_logistic(est) and _prepare_compiled(est, X, lambda: (y01 == t).astype(np.int32))
        if prepared:
            _core.fit_class_transformation_logistic(prepared[1], prepared[0].transform(X, "ClassTransformation.fit")[0],
                                                    y01, t)
            self.estimator_ = _adopt_compiled(est, *prepared)
        else:
            self.estimator_ = est.fit(X, (y01 == t).astype(np.int32))
        self.n_features_in_ = getattr(self.estimator_, "n_features_in_", None)
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Predicted uplift per row, ``2 P(z=1 | x) - 1``."""
        check_is_fitted(self, "estimator_")
        Xn = _logistic_input("ClassTransformation.predict", X, self.estimator_)
        if Xn is not None:
            return _core.class_transformation_logistic_uplift(self.estimator_._model, Xn)
        return 2.0 * _positive_proba(self.estimator_, X) - 1.0


# ----------------------------------------------------------------------------- uplift trees

_CRITERIA = ("kl", "ed", "chi", "ddp")


def _check_number(value: Any, name: str, caller: str, lo: float, hi: float = np.inf, *, lo_open: bool = False,
                  integer: bool = False) -> Any:
    kinds = (numbers.Integral, np.integer) if integer else (numbers.Real, np.floating, np.integer)
    ok = isinstance(value, kinds) and not isinstance(value, bool) and np.isfinite(value)
    ok = ok and (value > lo if lo_open else value >= lo) and value <= hi
    if not ok:
        kind = "an int" if integer else "a number"
        low = f"> {lo}" if lo_open else f">= {lo}"
        high = "" if hi == np.inf else f" and <= {hi}"
        raise ValueError(f"{caller}: {name} must be {kind} {low}{high}, got {value!r}")
    return int(value) if integer else float(value)


class _UpliftTreeBase(Estimator):
    _estimator_type = "regressor"

    def _fill_options(self, options: Any, caller: str) -> Any:
        if self.criterion not in _CRITERIA:
            raise ValueError(f"{caller}: criterion must be one of {list(_CRITERIA)}, got {self.criterion!r}")
        options.criterion = getattr(_core.UpliftCriterion, self.criterion)
        options.max_depth = _check_number(self.max_depth, "max_depth", caller, 1, integer=True)
        options.min_samples_leaf = _check_number(self.min_samples_leaf, "min_samples_leaf", caller, 1, integer=True)
        options.min_samples_treatment = _check_number(self.min_samples_treatment, "min_samples_treatment", caller, 1,
                                                      integer=True)
        options.n_reg = _check_number(self.n_reg, "n_reg", caller, 0)
        options.min_gain = _check_number(self.min_gain, "min_gain", caller, 0)
        options.max_bins = _check_number(self.max_bins, "max_bins", caller, 2, 255, integer=True)
        options.max_features = _check_number(self.max_features, "max_features", caller, 0, 1, lo_open=True)
        options.seed = seed_from(self.random_state)
        options.n_threads = 0 if self.n_jobs is None or self.n_jobs < 0 else int(self.n_jobs)
        return options

    def fit(self, X: Any, y: Any, treatment: Any) -> Any:
        """Grows the model on features X, 0/1 responses y and 0/1 treatment flags."""
        caller = f"{type(self).__name__}.fit"
        Xa = check_array(X, caller=caller)
        _, y01, t = _fit_input(caller, Xa, y, treatment)
        model = self._model_class()(self._options(caller))
        model.fit(Xa, y01, t)
        self._model = model
        check_feature_names(self, X, reset=True)
        self.n_features_in_ = Xa.shape[1]
        self.feature_importances_ = np.asarray(model.feature_importances)
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Predicted uplift per row."""
        check_is_fitted(self, "n_features_in_")
        caller = f"{type(self).__name__}.predict"
        check_feature_names(self, X, reset=False)
        Xa = check_array(X, caller=caller)
        check_n_features(self, Xa)
        return self._model.predict(Xa)

    def to_bytes(self) -> bytes:
        """The fitted model in crmine's versioned format."""
        check_is_fitted(self, "n_features_in_")
        return self._model.to_bytes()


class UpliftTree(_UpliftTreeBase):
    """Uplift decision tree (Rzepakowski & Jaroszewicz 2012).

    Splits maximise the gain in divergence between the treated and control response rates of
    the children over the parent; each child's rates are shrunk towards its parent's by
    ``n_reg`` pseudo-rows. Leaves predict ``p_treated - p_control``.

    Parameters
    ----------
    criterion : {"kl", "ed", "chi", "ddp"}, default "kl"
        Kullback-Leibler, squared Euclidean, chi-squared divergence, or delta-delta-p.
    max_depth : int, default 5
    min_samples_leaf : int, default 100
        Rows every leaf keeps.
    min_samples_treatment : int, default 10
        Rows of each group every leaf keeps.
    n_reg : float, default 100
        Shrinkage pseudo-rows.
    min_gain : float, default 0
    max_bins : int, default 255
        Quantile bins per feature.
    max_features : float, default 1.0
        Share of features tried at every node.
    random_state : int, Generator or None, default 0
    n_jobs : int or None, default None (all cores)
    """

    def __init__(self, *, criterion: str = "kl", max_depth: int = 5, min_samples_leaf: int = 100,
                 min_samples_treatment: int = 10, n_reg: float = 100.0, min_gain: float = 0.0, max_bins: int = 255,
                 max_features: float = 1.0, random_state: Any = 0, n_jobs: int | None = None) -> None:
        self.criterion = criterion
        self.max_depth = max_depth
        self.min_samples_leaf = min_samples_leaf
        self.min_samples_treatment = min_samples_treatment
        self.n_reg = n_reg
        self.min_gain = min_gain
        self.max_bins = max_bins
        self.max_features = max_features
        self.random_state = random_state
        self.n_jobs = n_jobs

    @classmethod
    def _model_class(cls) -> Any:
        return _core.UpliftTree

    def _options(self, caller: str) -> Any:
        return self._fill_options(_core.UpliftTreeOptions(), caller)

    def apply(self, X: Any) -> np.ndarray:
        """Index of the leaf each row lands in."""
        check_is_fitted(self, "n_features_in_")
        Xa = check_array(X, caller="UpliftTree.apply")
        check_n_features(self, Xa)
        return self._model.apply(Xa)

    @property
    def nodes_(self) -> pd.DataFrame:
        """The tree, one row per node (feature -1 = leaf; rows with x <= threshold go left)."""
        check_is_fitted(self, "n_features_in_")
        fields = ("feature", "threshold", "left", "right", "uplift", "p_treated", "p_control", "n_treated",
                  "n_control", "gain")
        return pd.DataFrame([{f: getattr(node, f) for f in fields} for node in self._model.nodes])


class UpliftForest(_UpliftTreeBase):
    """Uplift random forest (Guelman, Guillen & Perez-Marin 2015): uplift trees grown on
    bootstrap samples with a random share of features per node, averaged.

    Parameters are those of ``UpliftTree`` plus ``n_estimators`` (default 100), ``max_samples``
    (share of rows drawn per tree, default 1.0) and ``bootstrap`` (draw with replacement,
    default True); ``max_features`` defaults to 0.5. The forest is the same for a given
    ``random_state`` whatever ``n_jobs`` is.
    """

    def __init__(self, *, n_estimators: int = 100, criterion: str = "kl", max_depth: int = 5,
                 min_samples_leaf: int = 100, min_samples_treatment: int = 10, n_reg: float = 100.0,
                 min_gain: float = 0.0, max_bins: int = 255, max_features: float = 0.5, max_samples: float = 1.0,
                 bootstrap: bool = True, random_state: Any = 0, n_jobs: int | None = None) -> None:
        self.n_estimators = n_estimators
        self.criterion = criterion
        self.max_depth = max_depth
        self.min_samples_leaf = min_samples_leaf
        self.min_samples_treatment = min_samples_treatment
        self.n_reg = n_reg
        self.min_gain = min_gain
        self.max_bins = max_bins
        self.max_features = max_features
        self.max_samples = max_samples
        self.bootstrap = bootstrap
        self.random_state = random_state
        self.n_jobs = n_jobs

    @classmethod
    def _model_class(cls) -> Any:
        return _core.UpliftForest

    def _options(self, caller: str) -> Any:
        options = self._fill_options(_core.UpliftForestOptions(), caller)
        options.n_estimators = _check_number(self.n_estimators, "n_estimators", caller, 1, integer=True)
        options.max_samples = _check_number(self.max_samples, "max_samples", caller, 0, 1, lo_open=True)
        options.bootstrap = _bool(self.bootstrap, "bootstrap", caller)
        return options


#: scikit-uplift / causalml style name of ``UpliftForest``.
UpliftRandomForest = UpliftForest


# ----------------------------------------------------------------------------- report section

def _customer_features(summary: pd.DataFrame) -> pd.DataFrame:
    """Per-customer features from the log's summary, as of its last purchase."""
    as_of = summary["last_purchase"].max()
    return pd.DataFrame({
        "recency_days": (as_of - summary["last_purchase"]).dt.days,
        "tenure_days": (as_of - summary["first_purchase"]).dt.days,
        "occasions": summary["occasions"], "revenue": summary["revenue"], "returned": summary["returned"],
    }, index=summary.index).astype(float)


def _qini_on_grid(y: np.ndarray, u: np.ndarray, t: np.ndarray, grid: np.ndarray) -> np.ndarray:
    x, q = qini_curve(y, u, t)
    return np.interp(grid * x[-1], x, q)


def campaign_section(report: Any, ctx: dict) -> None:
    """``crmine report`` section: uplift models on a randomised campaign joined to the customers'
    purchase-history features, the Qini curve, and whom to treat. Runs when the CLI was given
    ``--campaign`` (or ``--sample``, which generates a campaign with a planted effect)."""
    campaign = ctx.get("campaign")
    if campaign is None:
        return
    from . import classify, plot

    cols = ctx.get("campaign_columns") or {"treatment": "treatment", "response": "response"}
    tcol, ycol = cols["treatment"], cols["response"]
    for role, col in (("--treatment", tcol), ("--response", ycol)):
        if col not in campaign.columns:
            raise ValueError(f"campaign: column {col!r} ({role}) is not in the campaign table; it has "
                             f"{list(campaign.columns)[:10]}")
    if campaign.index.has_duplicates:
        raise ValueError("campaign: a customer appears more than once in the campaign table")
    caller = "campaign"
    t_all = _flags(campaign[tcol], f"treatment column {tcol!r}", caller, both=False)
    y_all = _flags(campaign[ycol], f"response column {ycol!r}", caller, len(t_all))
    features = _customer_features(ctx["summary"])
    joined = features.join(pd.DataFrame({"_t": t_all, "_y": y_all}, index=campaign.index), how="inner")
    sec = report.section("Campaign uplift", (
        f"Whom does the campaign change? Treated and control customers ('{tcol}') and their response ('{ycol}') are "
        "joined to their purchase history; uplift models estimate each customer's incremental response (treated "
        "minus control response probability). Models are fitted on 70% of the customers and compared on the other "
        "30% with the Qini coefficient (1 = perfect ranking, 0 = random) and the normalised area under the uplift "
        "curve (AUUC)."))
    lost = len(campaign) - len(joined)
    if lost:
        sec.note(f"{lost:,} campaign customers have no purchases in the log and were left out.", kind="warning")
    t, y = joined.pop("_t").to_numpy(np.int32), joined.pop("_y").to_numpy(np.int32)
    cells = pd.crosstab(t, y).reindex(index=[0, 1], columns=[0, 1], fill_value=0)
    if (cells.to_numpy() < 10).any():
        sec.note("The campaign needs at least 10 responders and 10 non-responders in both the treated and the control "
                 "group; the uplift models were skipped.", kind="warning")
        return
    rate_t, rate_c = y[t == 1].mean(), y[t == 0].mean()
    se = np.sqrt(rate_t * (1 - rate_t) / (t == 1).sum() + rate_c * (1 - rate_c) / (t == 0).sum())
    sec.metrics({"Customers": f"{len(t):,}", "Treated": f"{t.mean():.1%}",
                 "Response, treated": f"{rate_t:.2%}", "Response, control": f"{rate_c:.2%}",
                 "Average uplift (95% CI)": f"{rate_t - rate_c:+.2%} ({rate_t - rate_c - 1.96 * se:+.2%} to "
                                            f"{rate_t - rate_c + 1.96 * se:+.2%})"})
    # Test rows: 30% of each (treatment, response) cell, seeded, so both splits keep the design.
    rng = np.random.default_rng(0)
    is_test = np.zeros(len(t), dtype=bool)
    for cell in range(4):
        members = rng.permutation(np.flatnonzero(2 * t + y == cell))
        is_test[members[:int(round(0.3 * len(members)))]] = True
    train, test = joined[~is_test], joined[is_test]
    ttr, ytr, tte, yte = t[~is_test], y[~is_test], t[is_test], y[is_test]
    leaf = max(20, len(train) // 100)
    models = {
        "Two-model, logistic": lambda: TwoModel(),
        "Two-model, gradient boosting": lambda: TwoModel(estimator_trmnt=classify.GradientBoostingClassifier(
            n_estimators=100, learning_rate=0.05, num_leaves=8, min_child_samples=leaf)),
        "Class transformation, logistic": lambda: ClassTransformation(),
        "Uplift forest": lambda: UpliftForest(n_estimators=100, max_depth=4, min_samples_leaf=leaf,
                                              min_samples_treatment=leaf // 4, max_features=0.6, random_state=0),
    }
    rows, test_scores = [], {}
    for name, make in models.items():
        u = make().fit(train, ytr, ttr).predict(test)
        test_scores[name] = u
        rows.append({"model": name, "Qini coefficient": qini_auc_score(yte, u, tte),
                     "AUUC": uplift_auc_score(yte, u, tte), "uplift in top 30%": uplift_at_k(yte, u, tte, 0.3)})
    table = pd.DataFrame(rows).set_index("model")
    best = str(table["Qini coefficient"].idxmax())
    sec.table(table, caption="Uplift models on the held-out 30%", float_format="{:,.3f}",
              percent_columns=("uplift in top 30%",))
    grid = np.linspace(0.0, 1.0, 101)
    lines = {name: _qini_on_grid(yte, u, tte, grid) for name, u in test_scores.items()}
    lines["Random targeting"] = grid * next(iter(lines.values()))[-1]
    sec.figure(plot.line_chart(grid, lines, title="Qini curves (held-out customers)",
                               x_label="Share of customers targeted, highest predicted uplift first",
                               y_label="Incremental responders", x_percent=True),
               caption="Above the straight line the model finds the customers the campaign moves; the peak is the "
                       "best share to treat.")
    # Whom to treat: the best model refitted on every customer, scored on every customer.
    uplift = pd.Series(models[best]().fit(joined, y, t).predict(joined), index=joined.index, name="uplift")
    ctx["uplift_scores"] = uplift  # for the 7P profile
    value = ctx.get("response_value")
    if value is None:
        summary = ctx["summary"]
        value = float(summary["revenue"].sum() / max(summary["occasions"].sum(), 1))
    cost = float(ctx.get("contact_cost", 1.0))
    plan = choose_treatment(uplift, value_per_response=value, cost_per_contact=cost)
    everyone = float((uplift * value - cost).sum())
    sec.metrics({"Model used": best, "Customers to treat": f"{len(plan.selected):,} of {len(uplift):,}",
                 "Expected incremental responses": f"{plan.expected_incremental_responses:,.1f}",
                 "Expected profit": f"{plan.expected_profit:,.0f}", "Profit if everyone is treated": f"{everyone:,.0f}",
                 "Predicted to react negatively": f"{(uplift < 0).mean():.1%}"})
    sec.paragraph(f"Value of one incremental response: {value:,.2f} (average order value unless --response-value "
                  f"is given); cost per contact: {cost:,.2f} (--contact-cost). A customer is worth treating when "
                  "uplift x value exceeds the cost.")
    share = np.arange(len(plan.profit_curve)) / max(len(uplift), 1)
    sec.figure(plot.line_chart(share, {"Expected profit": plan.profit_curve}, title="Expected profit by number treated",
                               x_label="Share of customers treated, highest predicted uplift first",
                               y_label="Expected profit", x_percent=True))
    top = plan.selected.head(20).join(joined)
    sec.table(top, caption="The 20 customers with the highest predicted uplift", float_format="{:,.3f}", max_rows=20)
    truth = ctx.get("campaign_truth")
    if truth is not None:
        aligned = truth.reindex(uplift.index)
        corr = float(np.corrcoef(uplift.to_numpy(), aligned.to_numpy())[0, 1])
        sec.note(f"Sample data: the planted true uplift is known; its correlation with the predicted uplift is "
                 f"{corr:.2f}.")
