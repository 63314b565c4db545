# SPDX-License-Identifier: Apache-2.0
"""Response, churn and propensity models.

scikit-learn compatible binary classifiers over crmine's compiled core (the GIL is released
while fitting and scoring; C-contiguous float64 input is not copied):

* ``LogisticRegression`` -- L2, L1 or elastic-net penalty (scikit-learn's ``C``/``l1_ratio``),
  solved to a tight optimum by a proximal Newton method, standardisation inside;
* ``DecisionTreeClassifier`` -- CART with gini/entropy, depth/leaf/split limits, cost-complexity
  pruning, missing values, and ``export_rules()`` as readable if-then rules;
* ``NaiveBayes`` -- Gaussian for numeric columns, categorical for pandas categorical columns;
* ``GradientBoostingClassifier`` -- histogram gradient boosting of leaf-wise or depth-wise trees (log-loss),
  shrinkage, row/feature subsampling, early stopping on a held-out share, missing values;
* ``MLPClassifier`` -- a neural network (one or more hidden layers, Adam, early stopping,
  seeded), binary or multiclass, inputs standardised inside;
* ``LinearRegression`` (OLS / ridge), ``DecisionTreeRegressor``, ``GradientBoostingRegressor`` and ``MLPRegressor`` for numeric
  targets;
* ``train_test_split`` and ``stratified_kfold`` (seeded, stratified).

pandas DataFrames may hold categorical, string or boolean columns: the linear models and trees
one-hot encode them (columns named ``"column=level"``), naive Bayes uses their codes, and gradient
boosting (and the trees with ``categorical_features="auto"`` or a list) splits them natively by sets
of categories. A category not seen in training is treated as missing by the one-hot models (all
indicator columns zero) and ignored by naive Bayes; native categorical splits send it right.

Example::

    import crmine.classify as cc, crmine.metrics as cmm
    train, test = cc.train_test_split(frame, stratify="y", test_size=0.3, random_state=0)
    model = cc.LogisticRegression(C=1.0).fit(train.drop(columns="y"), train["y"])
    p = model.predict_proba(test.drop(columns="y"))[:, 1]
    print(cmm.roc_auc_score(test["y"] == "yes", p), cmm.lift_table(test["y"] == "yes", p))
"""

from __future__ import annotations

import numbers
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from . import _core
from .base import ConvergenceWarning, Estimator, check_array, check_is_fitted, check_sample_weight, seed_from

__all__ = ["LogisticRegression", "LinearRegression", "DecisionTreeClassifier", "DecisionTreeRegressor", "NaiveBayes",
           "GradientBoostingClassifier", "GradientBoostingRegressor", "MLPClassifier", "MLPRegressor",
           "train_test_split", "stratified_kfold", "save_model", "load_model"]


# ----------------------------------------------------------------------------- parameter checks

def _number(value: Any, name: str, caller: str, *, minimum: float | None = None, strict: bool = False,
            allow_inf: bool = False) -> float:
    ok = isinstance(value, (numbers.Real, np.floating, np.integer)) and not isinstance(value, bool)
    if ok:
        value = float(value)
        ok = not np.isnan(value) and (allow_inf or np.isfinite(value))
        if ok and minimum is not None:
            ok = value > minimum if strict else value >= minimum
    if not ok:
        bound = "" if minimum is None else f" {'>' if strict else '>='} {minimum}"
        raise ValueError(f"{caller}: {name} must be a number{bound}, got {value!r}")
    return value


def _integer(value: Any, name: str, caller: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (numbers.Integral, np.integer)) or value < minimum:
        raise ValueError(f"{caller}: {name} must be an int >= {minimum}, got {value!r}")
    return int(value)


def _depth(value: Any, caller: str) -> int:
    return -1 if value is None else _integer(value, "max_depth", caller, 0)


# ----------------------------------------------------------------------------- feature encoding

def _is_categorical(series: pd.Series) -> bool:
    dtype = series.dtype
    return isinstance(dtype, pd.CategoricalDtype) or dtype == object or pd.api.types.is_string_dtype(dtype)


class _Encoder:
    """Remembers a table's columns at fit: numeric columns pass through (NaN kept), categorical
    ones become indicators ("onehot"), integer codes ("codes"; -1 = missing or unseen), or float
    codes in place ("native", for the trees' own categorical splits: NaN = missing, len(categories)
    = unseen). In "native" mode ``declared`` is ``categorical_features``: "auto" (categorical,
    string and bool columns) or the columns given by name, position or boolean mask; ``native``
    then lists the positions of the categorical columns of the output."""

    def __init__(self, mode: str, declared: Any = "auto") -> None:
        self.mode = mode
        self.declared = declared
        self.native: list[int] = []

    def fit(self, X: Any, caller: str) -> _Encoder:
        self.frame = hasattr(X, "columns") and hasattr(X, "dtypes")
        if not self.frame:
            shape = np.shape(np.asarray(X)) if not hasattr(X, "tocsr") else (1, 1)
            if len(shape) == 2 and shape[1] == 0:
                raise ValueError(f"{caller}: Found array with 0 feature(s) (shape={shape}) while a minimum of 1 is "
                                 "required.")
            self.n_in = check_array(X, caller=caller, ensure_finite=False).shape[1]
            self.names_out = [f"x{j}" for j in range(self.n_in)]
            self.numeric = list(range(self.n_in))
            self.categories: dict[Any, list] = {}
            if self.mode == "native":
                self.native = self._declared_positions(None, caller)
            return self
        self.columns = list(X.columns)
        self.n_in = len(self.columns)
        if self.n_in == 0:
            raise ValueError(f"{caller}: X has 0 feature(s); at least 1 is required")
        self.categories = {}
        self.numeric = []
        if self.mode == "native":
            return self._fit_native(X, caller)
        for col in self.columns:
            s = X[col]
            if _is_categorical(s):
                cats = list(s.cat.categories) if isinstance(s.dtype, pd.CategoricalDtype) else sorted(s.dropna().unique(), key=str)
                self.categories[col] = cats
            elif pd.api.types.is_bool_dtype(s.dtype) or pd.api.types.is_numeric_dtype(s.dtype):
                self.numeric.append(col)
            else:
                raise TypeError(f"{caller}: column {col!r} has dtype {s.dtype}, which is neither numeric nor categorical")
        names = [str(c) for c in self.numeric]
        if self.mode == "onehot":
            names = []
            for col in self.columns:
                if col in self.categories:
                    names += [f"{col}={level}" for level in self.categories[col]]
                else:
                    names.append(str(col))
        else:
            names += [str(c) for c in self.categories]
        self.names_out = names
        return self

    def _declared_positions(self, columns: list | None, caller: str) -> list[int]:
        """Positions of the columns named by ``declared`` (a list of names or positions, or a boolean
        mask); "auto" names none here (tables resolve it by dtype)."""
        spec = self.declared
        if isinstance(spec, str):
            if spec != "auto":
                raise ValueError(f"{caller}: categorical_features must be 'auto', None, a list of columns or a boolean "
                                 f"mask, got {spec!r}")
            return []
        items = list(np.asarray(spec).tolist()) if isinstance(spec, np.ndarray) else list(spec)
        if items and all(isinstance(v, (bool, np.bool_)) for v in items):
            if len(items) != self.n_in:
                raise ValueError(f"{caller}: categorical_features is a boolean mask of length {len(items)}; X has "
                                 f"{self.n_in} columns")
            return [j for j, v in enumerate(items) if v]
        positions = []
        for v in items:
            if isinstance(v, (numbers.Integral, np.integer)) and not isinstance(v, bool):
                if not 0 <= int(v) < self.n_in:
                    raise ValueError(f"{caller}: categorical_features holds column {v}; X has {self.n_in} columns")
                j = int(v)
            elif columns is not None and v in columns:
                j = columns.index(v)
            else:
                raise ValueError(f"{caller}: categorical_features names {v!r}, which is not a column of X")
            if j in positions:
                raise ValueError(f"{caller}: categorical_features lists column {v!r} twice")
            positions.append(j)
        return sorted(positions)

    def _fit_native(self, X: Any, caller: str) -> _Encoder:
        positions = self._declared_positions(self.columns, caller)  # also rejects strings other than "auto"
        listed = None if isinstance(self.declared, str) else set(positions)
        self.native = []
        for j, col in enumerate(self.columns):
            s = X[col]
            categorical = _is_categorical(s) or pd.api.types.is_bool_dtype(s.dtype)
            if listed is not None and categorical and j not in listed:
                raise ValueError(f"{caller}: column {col!r} holds categories (dtype {s.dtype}) but is not in "
                                 "categorical_features; list it, or pass categorical_features='auto'")
            if categorical:
                cats = list(s.cat.categories) if isinstance(s.dtype, pd.CategoricalDtype) else sorted(s.dropna().unique(), key=str)
                self.categories[col] = cats
            elif pd.api.types.is_numeric_dtype(s.dtype):
                self.numeric.append(col)
            else:
                raise TypeError(f"{caller}: column {col!r} has dtype {s.dtype}, which is neither numeric nor categorical")
            if categorical or (listed is not None and j in listed):
                self.native.append(j)
        self.names_out = [str(c) for c in self.columns]
        return self

    def transform(self, X: Any, caller: str) -> tuple[np.ndarray, np.ndarray | None]:
        """(float64 matrix, int32 codes or None)."""
        if not self.frame:
            if hasattr(X, "columns"):
                X = X.to_numpy()
            if np.asarray(X).ndim == 1:
                raise ValueError(f"{caller}: Expected 2D array, got 1D array instead. Reshape your data either using "
                                 "array.reshape(-1, 1) if your data has a single feature or array.reshape(1, -1) if it "
                                 "contains a single sample.")
            arr = check_array(X, caller=caller, ensure_finite=False)
            if arr.shape[1] != self.n_in:
                raise ValueError(f"X has {arr.shape[1]} features, but {caller.split('.')[0]} is expecting {self.n_in} "
                                 "features as input.")
            return arr, None
        if not hasattr(X, "columns"):
            raise ValueError(f"{caller}: the model was fitted on a DataFrame; pass a DataFrame with columns {self.columns}")
        missing = [c for c in self.columns if c not in X.columns]
        if missing:
            raise ValueError(f"{caller}: X lacks the column(s) {missing} seen in fit")
        n = len(X)
        if self.mode == "native":
            out = np.empty((n, self.n_in), dtype=np.float64)
            for j, col in enumerate(self.columns):
                if col in self.categories:
                    out[:, j] = _native_codes(X[col], self.categories[col])
                else:
                    out[:, j] = pd.to_numeric(X[col], errors="raise").to_numpy(dtype=np.float64, na_value=np.nan)
            return out, None
        if self.mode == "codes":
            num = np.empty((n, len(self.numeric)), dtype=np.float64)
            for j, col in enumerate(self.numeric):
                num[:, j] = pd.to_numeric(X[col], errors="raise").to_numpy(dtype=np.float64, na_value=np.nan)
            codes = np.empty((n, len(self.categories)), dtype=np.int32)
            for j, (col, cats) in enumerate(self.categories.items()):
                codes[:, j] = _codes_of(X[col], cats)
            return num, codes
        # One C-contiguous matrix written in place: no per-column blocks stacked and copied again.
        out = np.zeros((n, len(self.names_out)), dtype=np.float64)
        start = 0
        for col in self.columns:
            if col in self.categories:
                codes = _codes_of(X[col], self.categories[col])
                rows = np.flatnonzero(codes >= 0)
                out[rows, start + codes[rows]] = 1.0
                start += len(self.categories[col])
            else:
                out[:, start] = pd.to_numeric(X[col], errors="raise").to_numpy(dtype=np.float64, na_value=np.nan)
                start += 1
        return out, None


def _warn_column_vector(caller: str) -> None:
    import warnings

    try:
        from sklearn.exceptions import DataConversionWarning as category
    except ImportError:  # pragma: no cover - without scikit-learn
        category = UserWarning
    warnings.warn(f"{caller}: A column-vector y was passed when a 1d array was expected; it was flattened",
                  category, stacklevel=4)


def _native_codes(values: pd.Series, categories: list) -> np.ndarray:
    """Position of each value in ``categories`` as float64: NaN for missing values, len(categories)
    for values not seen in training (the trees send those right, with every category not in a split's set)."""
    codes = _codes_of(values, categories).astype(np.float64)
    missing = pd.isna(values).to_numpy()
    codes[(codes < 0) & ~missing] = len(categories)
    codes[missing] = np.nan
    return codes


def _codes_of(values: pd.Series, categories: list) -> np.ndarray:
    """Position of each value in ``categories``; -1 for missing and unseen values. The column is
    factorised first (pandas hashes it in its own storage: no object copy of every cell), and only
    its distinct values are looked up among the categories."""
    codes, uniques = pd.factorize(values)
    position = pd.Index(categories).get_indexer(pd.Index(uniques).astype(object)).astype(np.int32)
    return np.where(codes >= 0, position[np.maximum(codes, 0)], -1).astype(np.int32)


def _binary_labels(y: Any, caller: str) -> tuple[np.ndarray, np.ndarray]:
    """(classes_, 0/1 int32 labels); the second sorted class is the positive one."""
    return _class_labels(y, caller, binary=True)


def _sorted_distinct(arr: np.ndarray) -> np.ndarray:
    """np.unique(arr); integer labels in a narrow range (0/1 responses) take a bincount instead of
    a hash or sort of every row, which is most of a small model's Python overhead."""
    if arr.dtype.kind in "iu" and arr.size:
        lo, hi = int(arr.min()), int(arr.max())
        if hi - lo < 1 << 16:
            present = np.flatnonzero(np.bincount(arr if lo == 0 else arr.astype(np.int64) - lo))
            return (present + lo).astype(arr.dtype)
    return np.unique(arr)


def _class_labels(y: Any, caller: str, binary: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(classes_, int32 index of each label in classes_); at least two classes, exactly two if ``binary``."""
    if y is None:
        raise ValueError(f"{caller}: requires y to be passed, but the target y is None")
    arr = np.asarray(y)
    if arr.ndim == 2 and arr.shape[1] == 1:
        _warn_column_vector(caller)
        arr = arr.ravel()
    if arr.ndim != 1:
        raise ValueError(f"{caller}: y must be 1-d, got shape {arr.shape}")
    if arr.dtype.kind == "f" and np.isnan(arr).any() or (arr.dtype == object and pd.isna(arr).any()):
        raise ValueError(f"{caller}: y contains NaN or missing labels")
    if arr.dtype.kind == "f" and not np.all(arr == np.round(arr)):
        raise ValueError(f"{caller}: Unknown label type: continuous target; classifiers need class labels")
    classes = _sorted_distinct(arr)
    if len(classes) < 2:
        raise ValueError(f"{caller}: y has only one class ({classes[0]!r}); a classifier needs two")
    if binary and len(classes) > 2:
        raise ValueError(f"{caller}: Only binary classification is supported. y has {len(classes)} classes "
                         f"({list(classes[:5])}...); crmine's classifiers need labels with exactly two values")
    if len(classes) == 2:
        return classes, np.ascontiguousarray(arr == classes[1], dtype=np.int32)
    return classes, np.ascontiguousarray(np.searchsorted(classes, arr), dtype=np.int32)


def _reject_nonfinite(X: np.ndarray, names: Sequence[str], caller: str, model: str, at_fit: bool) -> None:
    """ValueError naming the first column with NaN or infinity (models that cannot take missing values)."""
    if np.isfinite(X).all():
        return
    j = int(np.flatnonzero(~np.isfinite(X).all(axis=0))[0])
    hint = (f"; {model} does not accept missing values (impute them, or use DecisionTreeClassifier, "
            "GradientBoostingClassifier or NaiveBayes)") if at_fit else ""
    raise ValueError(f"{caller}: Input X contains NaN or infinity in column {names[j]!r}{hint}")


def _class_weight(class_weight: Any, classes: np.ndarray, y01: np.ndarray, caller: str) -> list[float]:
    if class_weight is None:
        return [1.0, 1.0]
    if isinstance(class_weight, str):
        if class_weight != "balanced":
            raise ValueError(f"{caller}: class_weight must be None, 'balanced' or a dict, got {class_weight!r}")
        n1 = float(y01.sum())
        n0 = float(len(y01) - n1)
        return [len(y01) / (2.0 * n0), len(y01) / (2.0 * n1)]
    if isinstance(class_weight, dict):
        unknown = [k for k in class_weight if k not in set(classes.tolist())]
        if unknown:
            raise ValueError(f"{caller}: class_weight has labels {unknown} not in y's classes {list(classes)}")
        return [float(class_weight.get(classes[0], 1.0)), float(class_weight.get(classes[1], 1.0))]
    raise ValueError(f"{caller}: class_weight must be None, 'balanced' or a dict, got {class_weight!r}")


# ----------------------------------------------------------------------------- classifiers

class _BinaryClassifier(Estimator):
    _estimator_type = "classifier"
    _encoding = "onehot"
    _allow_nan = False
    _multiclass = False

    def _options(self, caller: str) -> Any:  # pragma: no cover - every subclass overrides
        raise NotImplementedError

    def _fit_core(self, model: Any, X: np.ndarray, codes: np.ndarray | None, y: np.ndarray, w: np.ndarray) -> None:
        model.fit(X, y, w)

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> Any:
        caller = f"{type(self).__name__}.fit"
        encoder = self._make_encoder(caller).fit(X, caller)
        Xn, codes = encoder.transform(X, caller)
        if not self._allow_nan:
            _reject_nonfinite(Xn, encoder.names_out, caller, type(self).__name__, True)
        classes, y01 = _class_labels(y, caller, binary=not self._multiclass)
        if len(y01) != Xn.shape[0]:
            raise ValueError(f"{caller}: X has {Xn.shape[0]} rows but y has {len(y01)} labels")
        w = check_sample_weight(sample_weight, Xn.shape[0], caller=caller)
        options = self._options(caller)
        self._configure(options, encoder, caller)
        if hasattr(options, "class_weight"):
            options.class_weight = _class_weight(getattr(self, "class_weight", None), classes, y01, caller)
        model = self._new_model(options)
        self._fit_core(model, Xn, codes, y01, w)
        return self._adopt(model, encoder, classes)

    def _adopt(self, model: Any, encoder: _Encoder, classes: np.ndarray) -> Any:
        """Sets the fitted attributes for ``model``, fitted on ``encoder``'s columns (also the entry
        for models fitted elsewhere, e.g. by crmine.uplift's compiled meta-learners)."""
        model.feature_names = list(encoder.names_out)
        self._model = model
        self._encoder = encoder
        self.classes_ = classes
        self.n_features_in_ = encoder.n_in
        if encoder.frame and all(isinstance(c, str) for c in encoder.columns):
            self.feature_names_in_ = np.asarray(encoder.columns, dtype=object)
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        self._after_fit()
        return self

    def _new_model(self, options: Any) -> Any:
        return self._model_class()(options)

    def _make_encoder(self, caller: str) -> _Encoder:
        return _Encoder(self._encoding)

    def _configure(self, options: Any, encoder: _Encoder, caller: str) -> None:
        """Options that depend on the encoded columns (none unless overridden)."""

    def _after_fit(self) -> None:
        pass

    def _transform(self, X: Any, caller: str) -> tuple[np.ndarray, np.ndarray | None]:
        check_is_fitted(self, "classes_")
        Xn, codes = self._encoder.transform(X, caller)
        if not self._allow_nan:
            _reject_nonfinite(Xn, self._encoder.names_out, caller, type(self).__name__, False)
        return Xn, codes

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, columns in the order of ``classes_``."""
        Xn, _ = self._transform(X, f"{type(self).__name__}.predict_proba")
        return self._model.predict_proba(Xn)

    def predict(self, X: Any) -> np.ndarray:
        """The most probable class of each row (ties go to the first of ``classes_``)."""
        p = self.predict_proba(X)
        if p.shape[1] == 2:
            return self.classes_[(p[:, 1] > 0.5).astype(int)]
        return self.classes_[np.argmax(p, axis=1)]

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """Accuracy."""
        correct = (self.predict(X) == np.asarray(y)).astype(float)
        return float(np.average(correct, weights=sample_weight))

    @property
    def feature_names_out_(self) -> list[str]:
        """The model's columns after encoding ("column=level" for indicators)."""
        check_is_fitted(self, "classes_")
        return list(self._encoder.names_out)

    def to_bytes(self) -> bytes:
        """The fitted model in crmine's versioned format (loadable from C++ with load_classifier)."""
        check_is_fitted(self, "classes_")
        return self._model.to_bytes()

    def __sklearn_tags__(self) -> Any:
        from sklearn.utils import ClassifierTags

        tags = super().__sklearn_tags__()
        tags.classifier_tags = ClassifierTags(multi_class=self._multiclass)
        tags.target_tags.required = True
        tags.input_tags.allow_nan = self._allow_nan
        return tags


class LogisticRegression(_BinaryClassifier):
    """Binary logistic regression with an L2, L1 or elastic-net penalty.

    Minimises ``C * sum_i s_i logloss_i + l1_ratio * |w|_1 + (1 - l1_ratio)/2 * |w|^2`` over
    standardised features (``standardize=True``, the same optimum as scikit-learn's
    ``make_pipeline(StandardScaler(), LogisticRegression(...))``) or raw ones. ``coef_`` is always
    on the raw scale.

    Parameters
    ----------
    C : float, default 1.0
        Inverse penalty strength; ``np.inf`` fits without a penalty.
    l1_ratio : float, default 0.0
        0 = L2, 1 = L1 (sparse coefficients), in between = elastic net.
    fit_intercept, standardize : bool, default True
    class_weight : None, "balanced" or dict label -> weight
    max_iter : int, default 100
        Newton iterations.
    tol : float, default 1e-8
        Largest coefficient step treated as converged (relative).
    n_threads : int, default 0
        0 = all cores; the model does not depend on it.
    """

    def __init__(self, *, C: float = 1.0, l1_ratio: float = 0.0, fit_intercept: bool = True, standardize: bool = True,
                 class_weight: Any = None, max_iter: int = 100, tol: float = 1e-8, n_threads: int = 0) -> None:
        self.C = C
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.standardize = standardize
        self.class_weight = class_weight
        self.max_iter = max_iter
        self.tol = tol
        self.n_threads = n_threads

    @classmethod
    def _model_class(cls) -> Any:
        return _core.LogisticRegression

    def _options(self, caller: str) -> Any:
        o = _core.LogisticRegressionOptions()
        o.C = _number(self.C, "C", caller, minimum=0.0, strict=True, allow_inf=True)
        o.l1_ratio = _number(self.l1_ratio, "l1_ratio", caller, minimum=0.0)
        if o.l1_ratio > 1:
            raise ValueError(f"{caller}: l1_ratio must be in [0, 1], got {self.l1_ratio!r}")
        o.fit_intercept = bool(self.fit_intercept)
        o.standardize = bool(self.standardize)
        o.max_iter = _integer(self.max_iter, "max_iter", caller, 1)
        o.tol = _number(self.tol, "tol", caller, minimum=0.0, strict=True)
        o.n_threads = _integer(self.n_threads, "n_threads", caller, 0)
        return o

    def _after_fit(self) -> None:
        m = self._model
        self.coef_ = np.asarray(m.coef).reshape(1, -1)
        self.intercept_ = np.array([m.intercept])
        self.n_iter_ = np.array([m.report.n_iter])
        if not m.report.converged:
            import warnings

            warnings.warn(f"LogisticRegression did not converge in {self.max_iter} Newton iterations; "
                          "increase max_iter", ConvergenceWarning, stacklevel=3)

    def decision_function(self, X: Any) -> np.ndarray:
        """The log-odds of ``classes_[1]``."""
        Xn, _ = self._transform(X, "LogisticRegression.decision_function")
        return self._model.decision_function(Xn)


class _NativeCategories:
    """``categorical_features`` of the models that split categories natively (trees, boosting): None
    one-hot encodes categorical columns; anything else is the native encoder's ``declared``."""

    def _make_encoder(self, caller: str) -> _Encoder:
        if self.categorical_features is None:
            return _Encoder("onehot")
        return _Encoder("native", self.categorical_features)

    def _category_limit(self, options: Any) -> tuple[int, str]:
        return 65536, "65536"

    def _configure(self, options: Any, encoder: _Encoder, caller: str) -> None:
        limit, what = self._category_limit(options)
        for col, cats in encoder.categories.items():
            if len(cats) > limit:
                raise ValueError(f"{caller}: column {col!r} has {len(cats)} categories; native categorical splits take at "
                                 f"most {what}; pass categorical_features=None to one-hot encode it")
        options.categorical_features = list(encoder.native)

    def _mark_categorical(self) -> None:
        self.is_categorical_ = np.zeros(self.n_features_in_, dtype=bool)
        if len(self._encoder.names_out) == self.n_features_in_:
            self.is_categorical_[list(self._encoder.native)] = True


class _TreeMixin(_NativeCategories):
    def export_rules(self, precision: int = 4) -> str:
        """The tree as if-then rules, one per leaf, best leaf first; a native categorical split
        reads ``region in {North, West}``."""
        check_is_fitted(self, "n_features_in_")
        enc = self._encoder
        levels = [[str(v) for v in enc.categories.get(c, [])] for c in enc.columns] if enc.frame and enc.mode == "native" else []
        return self._model.export_rules([], precision, levels)

    def apply(self, X: Any) -> np.ndarray:
        """The index of the leaf each row falls into."""
        Xn, _ = self._transform(X, f"{type(self).__name__}.apply")
        return self._model.apply(Xn)

    def get_depth(self) -> int:
        check_is_fitted(self, "n_features_in_")
        return self._model.depth

    def get_n_leaves(self) -> int:
        check_is_fitted(self, "n_features_in_")
        return self._model.n_leaves


class DecisionTreeClassifier(_TreeMixin, _BinaryClassifier):
    """CART classification tree; missing values (NaN) are routed to the better child.

    Parameters
    ----------
    criterion : {"gini", "entropy"}, default "gini"
    max_depth : int or None, default None
    min_samples_split : int, default 2
    min_samples_leaf : int, default 1
    min_impurity_decrease : float, default 0.0
    ccp_alpha : float, default 0.0
        Minimal cost-complexity pruning strength.
    class_weight : None, "balanced" or dict
    n_threads : int, default 0
    categorical_features : None, "auto", list of column names or positions, or boolean mask, default None
        None one-hot encodes categorical columns (scikit-learn's trees see the same columns). "auto"
        (pandas categorical, string and bool columns) or a list/mask splits those columns by sets of
        categories: Breiman's shortcut orders a node's categories by their class-1 share and tries
        every prefix, which finds the best of all subsets. Rules read ``region in {North, West}``.
        Categories not seen in training go right; missing values go to the side learned for them.
    """

    _allow_nan = True

    def __init__(self, *, criterion: str = "gini", max_depth: int | None = None, min_samples_split: int = 2,
                 min_samples_leaf: int = 1, min_impurity_decrease: float = 0.0, ccp_alpha: float = 0.0,
                 class_weight: Any = None, n_threads: int = 0, categorical_features: Any = None) -> None:
        self.criterion = criterion
        self.max_depth = max_depth
        self.min_samples_split = min_samples_split
        self.min_samples_leaf = min_samples_leaf
        self.min_impurity_decrease = min_impurity_decrease
        self.ccp_alpha = ccp_alpha
        self.class_weight = class_weight
        self.n_threads = n_threads
        self.categorical_features = categorical_features

    @classmethod
    def _model_class(cls) -> Any:
        return _core.DecisionTreeClassifier

    def _options(self, caller: str) -> Any:
        o = _core.DecisionTreeOptions()
        criteria = {"gini": _core.TreeCriterion.gini, "entropy": _core.TreeCriterion.entropy}
        if self.criterion not in criteria:
            raise ValueError(f"{caller}: criterion must be 'gini' or 'entropy', got {self.criterion!r}")
        o.criterion = criteria[self.criterion]
        o.max_depth = _depth(self.max_depth, caller)
        o.min_samples_split = _integer(self.min_samples_split, "min_samples_split", caller, 2)
        o.min_samples_leaf = _integer(self.min_samples_leaf, "min_samples_leaf", caller, 1)
        o.min_impurity_decrease = _number(self.min_impurity_decrease, "min_impurity_decrease", caller, minimum=0.0)
        o.ccp_alpha = _number(self.ccp_alpha, "ccp_alpha", caller, minimum=0.0)
        o.n_threads = _integer(self.n_threads, "n_threads", caller, 0)
        return o

    def _after_fit(self) -> None:
        self._mark_categorical()
        self.feature_importances_ = np.asarray(self._model.feature_importances)
        if len(self.feature_importances_) != self.n_features_in_:  # one-hot: sum the indicators per column
            imp = dict.fromkeys(self._encoder.columns, 0.0)
            for name, v in zip(self._encoder.names_out, self.feature_importances_):
                col = next(c for c in self._encoder.columns if name == str(c) or name.startswith(f"{c}="))
                imp[col] += v
            self.feature_importances_ = np.array(list(imp.values()))


class _Boosting(_NativeCategories):
    """Parameters, options and fitted attributes shared by the two gradient boosting estimators."""

    _allow_nan = True

    def __init__(self, *, n_estimators: int = 100, learning_rate: float = 0.1, num_leaves: int = 31,
                 max_depth: int | None = None, growth: str = "leafwise", min_child_samples: int = 20,
                 min_child_weight: float = 1e-3, reg_lambda: float = 0.0, min_split_gain: float = 0.0,
                 subsample: float = 1.0, colsample_bytree: float = 1.0, max_bins: int = 255,
                 validation_fraction: float = 0.0, n_iter_no_change: int = 10, random_state: Any = 0,
                 n_threads: int = 0, categorical_features: Any = "auto", max_cat_to_onehot: int = 4,
                 max_cat_threshold: int = 32, cat_smooth: float = 10.0, cat_l2: float = 10.0,
                 min_data_per_group: int = 100) -> None:
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.max_depth = max_depth
        self.growth = growth
        self.min_child_samples = min_child_samples
        self.min_child_weight = min_child_weight
        self.reg_lambda = reg_lambda
        self.min_split_gain = min_split_gain
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.max_bins = max_bins
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.random_state = random_state
        self.n_threads = n_threads
        self.categorical_features = categorical_features
        self.max_cat_to_onehot = max_cat_to_onehot
        self.max_cat_threshold = max_cat_threshold
        self.cat_smooth = cat_smooth
        self.cat_l2 = cat_l2
        self.min_data_per_group = min_data_per_group

    def _category_limit(self, options: Any) -> tuple[int, str]:
        return options.max_bins, f"max_bins ({options.max_bins})"

    def _options(self, caller: str) -> Any:
        o = _core.GradientBoostingOptions()
        o.n_estimators = _integer(self.n_estimators, "n_estimators", caller, 1)
        o.learning_rate = _number(self.learning_rate, "learning_rate", caller, minimum=0.0, strict=True)
        o.num_leaves = _integer(self.num_leaves, "num_leaves", caller, 2)
        o.max_depth = -1 if self.max_depth is None else _integer(self.max_depth, "max_depth", caller, 1)
        if self.growth not in ("leafwise", "depthwise"):
            raise ValueError(f"{caller}: growth must be 'leafwise' or 'depthwise', got {self.growth!r}")
        o.growth = getattr(_core.GrowthPolicy, self.growth)
        o.min_child_samples = _integer(self.min_child_samples, "min_child_samples", caller, 1)
        o.min_child_weight = _number(self.min_child_weight, "min_child_weight", caller, minimum=0.0)
        o.reg_lambda = _number(self.reg_lambda, "reg_lambda", caller, minimum=0.0)
        o.min_split_gain = _number(self.min_split_gain, "min_split_gain", caller, minimum=0.0)
        o.subsample = _number(self.subsample, "subsample", caller, minimum=0.0, strict=True)
        o.colsample_bytree = _number(self.colsample_bytree, "colsample_bytree", caller, minimum=0.0, strict=True)
        o.max_bins = _integer(self.max_bins, "max_bins", caller, 2)
        o.validation_fraction = _number(self.validation_fraction, "validation_fraction", caller, minimum=0.0)
        o.n_iter_no_change = _integer(self.n_iter_no_change, "n_iter_no_change", caller, 1)
        o.seed = seed_from(self.random_state)
        o.n_threads = _integer(self.n_threads, "n_threads", caller, 0)
        o.max_cat_to_onehot = _integer(self.max_cat_to_onehot, "max_cat_to_onehot", caller, 1)
        o.max_cat_threshold = _integer(self.max_cat_threshold, "max_cat_threshold", caller, 1)
        o.cat_smooth = _number(self.cat_smooth, "cat_smooth", caller, minimum=0.0)
        o.cat_l2 = _number(self.cat_l2, "cat_l2", caller, minimum=0.0)
        o.min_data_per_group = _integer(self.min_data_per_group, "min_data_per_group", caller, 1)
        return o

    def _after_fit(self) -> None:
        self.n_estimators_ = int(self._model.n_trees)
        self._mark_categorical()
        self.validation_loss_ = np.asarray(self._model.validation_loss)
        imp = np.asarray(self._model.feature_importances)
        if len(imp) != self.n_features_in_:
            per_column = dict.fromkeys(self._encoder.columns, 0.0)
            for name, v in zip(self._encoder.names_out, imp):
                col = next(c for c in self._encoder.columns if name == str(c) or name.startswith(f"{c}="))
                per_column[col] += v
            imp = np.array(list(per_column.values()))
        self.feature_importances_ = imp


class GradientBoostingClassifier(_Boosting, _BinaryClassifier):
    """Histogram gradient boosting for binary targets (log-loss).

    Parameters (LightGBM's names where they exist)
    ----------
    n_estimators : int, default 100
    learning_rate : float, default 0.1
    num_leaves : int, default 31
    max_depth : int or None, default None
    growth : {"leafwise", "depthwise"}, default "leafwise"
        Leaf-wise splits the leaf with the largest gain next (LightGBM); depth-wise splits every
        leaf of one depth before the next (XGBoost). ``num_leaves`` and ``max_depth`` bound both.
    min_child_samples : int, default 20
    min_child_weight : float, default 1e-3
        Summed hessian a leaf keeps.
    reg_lambda, min_split_gain : float, default 0.0
    subsample, colsample_bytree : float, default 1.0
        Share of rows per round / features per tree.
    max_bins : int, default 255
    validation_fraction : float, default 0.0
        > 0 holds out a stratified share and stops after ``n_iter_no_change`` rounds without a
        better validation log-loss, keeping the best round.
    n_iter_no_change : int, default 10
    random_state : int, Generator or None, default 0
    n_threads : int, default 0
    categorical_features : "auto", None, list of column names or positions, or boolean mask, default "auto"
        Columns split natively by sets of categories (LightGBM's ``categorical_feature``,
        scikit-learn's ``HistGradientBoostingClassifier(categorical_features=...)``). "auto": the
        pandas categorical, string and bool columns. A list or mask may also name numeric columns
        holding integer codes (NaN or negative = missing). None one-hot encodes categorical columns
        instead. A column may have at most ``max_bins`` categories. Categories not seen in training
        go to the right child of every categorical split; missing values go to the side learned for them.
    max_cat_to_onehot : int, default 4
        A node with at most this many categories present splits one category against the rest;
        with more, categories are ordered by ``sum_gradient / (sum_hessian + cat_smooth)`` and the
        best prefix of that order goes left.
    max_cat_threshold : int, default 32
        Most categories on the prefix side of such a split.
    cat_smooth, cat_l2 : float, default 10.0
        Smoothing of the order, and extra L2 penalty on those splits' children.
    min_data_per_group : int, default 100
        Rows a category needs in a node to take part in the order (rarer ones stay right).

    Attributes
    ----------
    is_categorical_ : ndarray of bool
        Per input column, whether it was split natively as categorical.
    """

    @classmethod
    def _model_class(cls) -> Any:
        return _core.GradientBoostingClassifier

    def decision_function(self, X: Any) -> np.ndarray:
        """Raw log-odds of ``classes_[1]``."""
        Xn, _ = self._transform(X, "GradientBoostingClassifier.decision_function")
        return self._model.decision_function(Xn)


class NaiveBayes(_BinaryClassifier):
    """Naive Bayes over mixed tables: Gaussian for numeric columns, categorical (with additive
    smoothing ``alpha``) for pandas categorical/string/bool-like columns. NaN and unseen
    categories are left out of a row's likelihood.

    Parameters
    ----------
    var_smoothing : float, default 1e-9
    alpha : float, default 1.0
    fit_prior : bool, default True
    """

    _encoding = "codes"
    _allow_nan = True

    def __init__(self, *, var_smoothing: float = 1e-9, alpha: float = 1.0, fit_prior: bool = True) -> None:
        self.var_smoothing = var_smoothing
        self.alpha = alpha
        self.fit_prior = fit_prior

    @classmethod
    def _model_class(cls) -> Any:
        return _core.NaiveBayes

    def _options(self, caller: str) -> Any:
        o = _core.NaiveBayesOptions()
        o.var_smoothing = _number(self.var_smoothing, "var_smoothing", caller, minimum=0.0)
        o.alpha = _number(self.alpha, "alpha", caller, minimum=0.0, strict=True)
        o.fit_prior = bool(self.fit_prior)
        return o

    def _fit_core(self, model: Any, X: np.ndarray, codes: np.ndarray | None, y: np.ndarray, w: np.ndarray) -> None:
        model.fit(X, self._codes(codes, X.shape[0]), y, w)

    @staticmethod
    def _codes(codes: np.ndarray | None, n: int) -> np.ndarray:
        return codes if codes is not None else np.empty((n, 0), dtype=np.int32)

    def predict_proba(self, X: Any) -> np.ndarray:
        Xn, codes = self._transform(X, "NaiveBayes.predict_proba")
        return self._model.predict_proba(Xn, self._codes(codes, Xn.shape[0]))

    def _after_fit(self) -> None:
        self.class_log_prior_ = np.asarray(self._model.class_log_prior)
        self.theta_ = np.asarray(self._model.theta)
        self.var_ = np.asarray(self._model.var)


# ----------------------------------------------------------------------------- neural networks

_ACTIVATIONS = ("identity", "logistic", "tanh", "relu")


class _MLP:
    """Parameters, validation and fitted attributes shared by MLPClassifier and MLPRegressor."""

    _model: Any
    _encoder: _Encoder

    def __init__(self, *, hidden_layer_sizes: Any = (100,), activation: str = "relu", alpha: float = 1e-4,
                 batch_size: Any = "auto", learning_rate_init: float = 1e-3, max_iter: int = 200, tol: float = 1e-4,
                 n_iter_no_change: int = 10, early_stopping: bool = False, validation_fraction: float = 0.1,
                 beta_1: float = 0.9, beta_2: float = 0.999, epsilon: float = 1e-8, shuffle: bool = True,
                 standardize: bool = True, warm_start: bool = False, random_state: Any = None,
                 n_threads: int = 0) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate_init = learning_rate_init
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.shuffle = shuffle
        self.standardize = standardize
        self.warm_start = warm_start
        self.random_state = random_state
        self.n_threads = n_threads

    def _options(self, caller: str) -> Any:
        o = _core.MLPOptions()
        sizes = self.hidden_layer_sizes
        sizes = [sizes] if isinstance(sizes, (numbers.Integral, np.integer)) else list(sizes)
        if not sizes:
            raise ValueError(f"{caller}: hidden_layer_sizes must list at least one hidden layer, got {self.hidden_layer_sizes!r}")
        o.hidden_layer_sizes = [_integer(h, "hidden_layer_sizes", caller, 1) for h in sizes]
        if self.activation not in _ACTIVATIONS:
            raise ValueError(f"{caller}: activation must be one of {_ACTIVATIONS}, got {self.activation!r}")
        o.activation = getattr(_core.MLPActivation, self.activation)
        o.alpha = _number(self.alpha, "alpha", caller, minimum=0.0)
        o.batch_size = 0 if isinstance(self.batch_size, str) and self.batch_size == "auto" else \
            _integer(self.batch_size, "batch_size", caller, 1)
        o.learning_rate_init = _number(self.learning_rate_init, "learning_rate_init", caller, minimum=0.0, strict=True)
        o.max_iter = _integer(self.max_iter, "max_iter", caller, 1)
        o.tol = _number(self.tol, "tol", caller, minimum=0.0)
        o.n_iter_no_change = _integer(self.n_iter_no_change, "n_iter_no_change", caller, 1)
        o.early_stopping = bool(self.early_stopping)
        o.validation_fraction = _number(self.validation_fraction, "validation_fraction", caller, minimum=0.0)
        if o.validation_fraction >= 1 or (o.early_stopping and o.validation_fraction == 0):
            raise ValueError(f"{caller}: validation_fraction must be in (0, 1), got {self.validation_fraction!r}")
        for name in ("beta_1", "beta_2"):
            value = _number(getattr(self, name), name, caller, minimum=0.0)
            if value >= 1:
                raise ValueError(f"{caller}: {name} must be in [0, 1), got {value!r}")
            setattr(o, name, value)
        o.epsilon = _number(self.epsilon, "epsilon", caller, minimum=0.0, strict=True)
        o.shuffle = bool(self.shuffle)
        o.standardize = bool(self.standardize)
        o.warm_start = bool(self.warm_start)
        o.seed = seed_from(self.random_state)
        o.n_threads = _integer(self.n_threads, "n_threads", caller, 0)
        return o

    def _new_model(self, options: Any) -> Any:
        previous = getattr(self, "_model", None)
        if options.warm_start and previous is not None:  # the compiled model starts from its weights
            previous.set_options(options)
            return previous
        return self._model_class()(options)

    def _after_fit(self) -> None:
        net = self._model.network
        report = net.report
        self.coefs_ = [np.asarray(c) for c in net.coefs]
        self.intercepts_ = [np.asarray(b) for b in net.intercepts]
        self.input_mean_ = np.asarray(net.mean)
        self.input_scale_ = np.asarray(net.scale)
        self.n_iter_ = int(report.n_iter)
        self.loss_curve_ = list(net.loss_curve)
        self.loss_ = float(self.loss_curve_[-1])
        if self.early_stopping:
            self.validation_scores_ = list(net.validation_scores)
            self.best_validation_score_ = float(net.best_validation_score)
            self.best_loss_ = None
        else:
            self.validation_scores_ = self.best_validation_score_ = None
            self.best_loss_ = float(net.best_loss)
        self.n_layers_ = len(self.coefs_) + 1
        self.n_outputs_ = self.coefs_[-1].shape[1]
        if not report.converged:
            import warnings

            warnings.warn(f"{type(self).__name__}: Stochastic Optimizer: Maximum iterations ({self.max_iter}) reached "
                          "and the optimization hasn't converged yet.", ConvergenceWarning, stacklevel=3)


class MLPClassifier(_MLP, _BinaryClassifier):
    """Neural network classifier: fully connected hidden layers, a logistic output (two classes)
    or softmax (more), log-loss plus ``alpha/2 * |W|^2``, trained with Adam on shuffled
    mini-batches -- scikit-learn's ``MLPClassifier(solver="adam")`` step for step.

    Inputs are standardised inside (mean 0, sd 1 per encoded column, as a ``StandardScaler`` in
    front; ``standardize=False`` turns it off), so ``coefs_[0]`` acts on standardised columns
    (``input_mean_``, ``input_scale_``). Categorical columns are one-hot encoded; NaN is rejected
    naming the column. The fit is bitwise the same at any ``n_threads`` for a given ``random_state``.

    Parameters (scikit-learn's names and defaults)
    ----------
    hidden_layer_sizes : tuple of int, default (100,)
    activation : {"relu", "tanh", "logistic", "identity"}, default "relu"
    alpha : float, default 1e-4
        L2 penalty on the weights.
    batch_size : int or "auto", default "auto" (= min(200, n_samples))
    learning_rate_init : float, default 1e-3
    max_iter : int, default 200
        Epochs.
    tol : float, default 1e-4
    n_iter_no_change : int, default 10
        Stop after more than this many epochs without a loss drop (or validation-score rise) of tol.
    early_stopping : bool, default False
        Hold out a stratified ``validation_fraction`` and stop on its accuracy, keeping the best epoch.
    validation_fraction : float, default 0.1
    beta_1, beta_2, epsilon : float, default 0.9, 0.999, 1e-8
        Adam's constants.
    shuffle : bool, default True
    standardize : bool, default True
    warm_start : bool, default False
        Refit from the previous weights when the shapes still fit.
    random_state : int, Generator or None, default None
    n_threads : int, default 0
    """

    _multiclass = True

    @classmethod
    def _model_class(cls) -> Any:
        return _core.MLPClassifier

    def _after_fit(self) -> None:
        super()._after_fit()
        self.out_activation_ = "logistic" if len(self.classes_) == 2 else "softmax"

# ----------------------------------------------------------------------------- regressors

class _Regressor(Estimator):
    _estimator_type = "regressor"
    _allow_nan = False

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> Any:
        caller = f"{type(self).__name__}.fit"
        encoder = self._make_encoder(caller).fit(X, caller)
        Xn, _ = encoder.transform(X, caller)
        if not self._allow_nan:
            _reject_nonfinite(Xn, encoder.names_out, caller, type(self).__name__, True)
        if y is None:
            raise ValueError(f"{caller}: requires y to be passed, but the target y is None")
        yv = np.asarray(y)
        if yv.ndim == 2 and yv.shape[1] == 1:
            _warn_column_vector(caller)
            yv = yv.ravel()
        try:
            yv = np.ascontiguousarray(yv, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{caller}: y must be numeric: {exc}") from exc
        if yv.ndim != 1 or len(yv) != Xn.shape[0]:
            raise ValueError(f"{caller}: y has shape {yv.shape}, expected ({Xn.shape[0]},)")
        if not np.isfinite(yv).all():
            raise ValueError(f"{caller}: Input y contains NaN or infinity")
        w = check_sample_weight(sample_weight, Xn.shape[0], caller=caller)
        options = self._options(caller)
        self._configure(options, encoder, caller)
        model = self._new_model(options)
        model.fit(Xn, yv, w)
        model.feature_names = list(encoder.names_out)
        self._model, self._encoder = model, encoder
        self.n_features_in_ = encoder.n_in
        if encoder.frame and all(isinstance(c, str) for c in encoder.columns):
            self.feature_names_in_ = np.asarray(encoder.columns, dtype=object)
        self._after_fit()
        return self

    def _new_model(self, options: Any) -> Any:
        return self._model_class()(options)

    def _make_encoder(self, caller: str) -> _Encoder:
        return _Encoder("onehot")

    def _configure(self, options: Any, encoder: _Encoder, caller: str) -> None:
        """Options that depend on the encoded columns (none unless overridden)."""

    def _after_fit(self) -> None:
        pass

    def _transform(self, X: Any, caller: str) -> tuple[np.ndarray, None]:
        check_is_fitted(self, "n_features_in_")
        Xn, _ = self._encoder.transform(X, caller)
        if not self._allow_nan:
            _reject_nonfinite(Xn, self._encoder.names_out, caller, type(self).__name__, False)
        return Xn, None

    def predict(self, X: Any) -> np.ndarray:
        Xn, _ = self._transform(X, f"{type(self).__name__}.predict")
        return self._model.predict(Xn)

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """Coefficient of determination R^2."""
        y = np.asarray(y, dtype=float)
        pred = self.predict(X)
        w = np.ones_like(y) if sample_weight is None else np.asarray(sample_weight, dtype=float)
        ss_res = np.sum(w * (y - pred) ** 2)
        ss_tot = np.sum(w * (y - np.average(y, weights=w)) ** 2)
        return float(1 - ss_res / ss_tot) if ss_tot > 0 else 0.0

    def to_bytes(self) -> bytes:
        check_is_fitted(self, "n_features_in_")
        return self._model.to_bytes()

    def __sklearn_tags__(self) -> Any:
        from sklearn.utils import RegressorTags

        tags = super().__sklearn_tags__()
        tags.regressor_tags = RegressorTags()
        tags.target_tags.required = True
        tags.input_tags.allow_nan = self._allow_nan
        return tags


class LinearRegression(_Regressor):
    """Least squares: ordinary (``alpha=0``, minimum-norm when rank deficient) or ridge."""

    def __init__(self, *, alpha: float = 0.0, fit_intercept: bool = True) -> None:
        self.alpha = alpha
        self.fit_intercept = fit_intercept

    @classmethod
    def _model_class(cls) -> Any:
        return _core.LinearRegression

    def _options(self, caller: str) -> Any:
        o = _core.LinearRegressionOptions()
        o.alpha = _number(self.alpha, "alpha", caller, minimum=0.0)
        o.fit_intercept = bool(self.fit_intercept)
        return o

    def _after_fit(self) -> None:
        self.coef_ = np.asarray(self._model.coef)
        self.intercept_ = float(self._model.intercept)
        self.rank_ = int(self._model.rank)


class DecisionTreeRegressor(_TreeMixin, _Regressor):
    """CART regression tree (squared error); parameters as in DecisionTreeClassifier (native
    categorical splits order a node's categories by their mean target)."""

    _allow_nan = True

    def __init__(self, *, max_depth: int | None = None, min_samples_split: int = 2, min_samples_leaf: int = 1,
                 min_impurity_decrease: float = 0.0, ccp_alpha: float = 0.0, n_threads: int = 0,
                 categorical_features: Any = None) -> None:
        self.max_depth = max_depth
        self.min_samples_split = min_samples_split
        self.min_samples_leaf = min_samples_leaf
        self.min_impurity_decrease = min_impurity_decrease
        self.ccp_alpha = ccp_alpha
        self.n_threads = n_threads
        self.categorical_features = categorical_features

    @classmethod
    def _model_class(cls) -> Any:
        return _core.DecisionTreeRegressor

    def _options(self, caller: str) -> Any:
        o = _core.DecisionTreeRegressorOptions()
        o.max_depth = _depth(self.max_depth, caller)
        o.min_samples_split = _integer(self.min_samples_split, "min_samples_split", caller, 2)
        o.min_samples_leaf = _integer(self.min_samples_leaf, "min_samples_leaf", caller, 1)
        o.min_impurity_decrease = _number(self.min_impurity_decrease, "min_impurity_decrease", caller, minimum=0.0)
        o.ccp_alpha = _number(self.ccp_alpha, "ccp_alpha", caller, minimum=0.0)
        o.n_threads = _integer(self.n_threads, "n_threads", caller, 0)
        return o

    def _after_fit(self) -> None:
        self._mark_categorical()
        self.feature_importances_ = np.asarray(self._model.feature_importances)



class GradientBoostingRegressor(_Boosting, _Regressor):
    """Histogram gradient boosting for a numeric target (squared error): LightGBM's ``regression``
    objective, scikit-learn's ``HistGradientBoostingRegressor``. Parameters as in
    GradientBoostingClassifier; ``min_child_weight`` is the summed sample weight a leaf keeps, and
    early stopping holds out a random (not stratified) share and watches its mean squared error."""

    @classmethod
    def _model_class(cls) -> Any:
        return _core.GradientBoostingRegressor


class MLPRegressor(_MLP, _Regressor):
    """Neural network regressor: identity output, squared error (halved) plus ``alpha/2 * |W|^2``,
    Adam on mini-batches -- scikit-learn's ``MLPRegressor(solver="adam")``; early stopping uses
    R^2 on the held-out share. Parameters and attributes as in MLPClassifier; the inputs are
    standardised inside, the target is used as given."""

    @classmethod
    def _model_class(cls) -> Any:
        return _core.MLPRegressor

    def _after_fit(self) -> None:
        super()._after_fit()
        self.out_activation_ = "identity"



# ----------------------------------------------------------------------------- model selection, files

def _labels01(y: Any, caller: str) -> np.ndarray:
    return _binary_labels(y, caller)[1]


def stratified_kfold(y: Any, n_splits: int = 5, *, random_state: Any = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """(train_index, test_index) pairs of a seeded stratified k-fold split of binary ``y``."""
    fold = _core.stratified_kfold(_labels01(y, "stratified_kfold"), _integer(n_splits, "n_splits", "stratified_kfold", 2),
                                  seed_from(random_state))
    return [(np.flatnonzero(fold != k), np.flatnonzero(fold == k)) for k in range(n_splits)]


def train_test_split(frame: pd.DataFrame, *, stratify: str | Sequence | np.ndarray, test_size: float = 0.25,
                     random_state: Any = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A seeded split of ``frame`` keeping the share of each class of ``stratify`` (a column name
    or a binary label array) in both parts. Returns (train, test)."""
    labels = frame[stratify] if isinstance(stratify, str) else stratify
    test = np.asarray(_core.stratified_split(_labels01(labels, "train_test_split"),
                                             _number(test_size, "test_size", "train_test_split", minimum=0.0, strict=True),
                                             seed_from(random_state)))
    return frame.iloc[np.flatnonzero(~test)], frame.iloc[np.flatnonzero(test)]


def save_model(model: Any, path: str | Path) -> Path:
    """Writes a fitted model's compiled part (crmine's versioned format, readable from C++ with
    ``crmine::load_classifier``). The C++ side sees the encoded columns (``feature_names_out_``)."""
    path = Path(path)
    path.write_bytes(model.to_bytes())
    return path


def load_model(path: str | Path) -> Any:
    """The compiled model stored at ``path`` (a ``crmine._core`` object with predict_proba)."""
    data = Path(path).read_bytes()
    for cls in (_core.LogisticRegression, _core.DecisionTreeClassifier, _core.NaiveBayes, _core.LinearRegression,
                _core.DecisionTreeRegressor, _core.GradientBoostingClassifier, _core.GradientBoostingRegressor,
                _core.MLPClassifier, _core.MLPRegressor):
        tag = {"LogisticRegression": b"LOGR", "DecisionTreeClassifier": b"DTRC", "NaiveBayes": b"NBAY",
               "GradientBoostingClassifier": b"GBMC", "GradientBoostingRegressor": b"GBMR", "MLPClassifier": b"MLPC", "MLPRegressor": b"MLPR",
               "LinearRegression": b"LINR", "DecisionTreeRegressor": b"DTRR"}[cls.__name__]
        if data[12:16] == tag:
            return cls.from_bytes(data)
    raise ValueError(f"load_model: {path} is not a crmine classification or regression model")


# ----------------------------------------------------------------------------- report section

def response_model_section(report: Any, ctx: dict) -> None:
    """``crmine report`` section: a response/churn model on per-customer features when the CLI
    was given ``--label`` (a 0/1 or two-valued column; a customer is positive if any row is)."""
    label = (ctx.get("columns") or {}).get("label")
    frame = ctx.get("frame")
    if not label or frame is None:
        return
    from . import metrics, plot

    sec = report.section("Response model", (
        f"Who shows '{label}'? Customers are described by their purchase history (recency, occasions, revenue, "
        "returns, tenure); a logistic regression, a decision tree and gradient boosting are fitted on 70% of the "
        "customers and evaluated on the other 30% (seeded, stratified split)."))
    if label not in frame.columns:
        sec.note(f"Label column {label!r} is not in the input; the response model was skipped.", kind="warning")
        return
    customer = ctx["columns"]["customer"]
    raw = frame[[customer, label]].dropna()
    values = raw[label]
    if not pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        levels = sorted(values.unique(), key=str)
        positive = next((v for v in levels if str(v).lower() in ("1", "yes", "true", "y")), levels[-1])
        values = values == positive
    per_customer = values.astype(float).groupby(raw[customer]).max()
    summary = ctx["summary"]
    as_of = summary["last_purchase"].max()
    features = pd.DataFrame({
        "recency_days": (as_of - summary["last_purchase"]).dt.days,
        "tenure_days": (as_of - summary["first_purchase"]).dt.days,
        "occasions": summary["occasions"], "revenue": summary["revenue"], "returned": summary["returned"],
        "first_occasion_revenue": summary["first_occasion_revenue"],
    }, index=summary.index).astype(float)
    y = per_customer.reindex(features.index)
    keep = y.notna().to_numpy()
    features, y = features[keep], y[keep].astype(int)
    if y.nunique() < 2 or min(y.sum(), len(y) - y.sum()) < 10:
        sec.note(f"Column {label!r} needs at least 10 customers of each class; the response model was skipped.",
                 kind="warning")
        return
    train, test = train_test_split(features.assign(_y=y), stratify="_y", test_size=0.3, random_state=0)
    ytr, yte = train.pop("_y"), test.pop("_y")
    models = {"Logistic regression": LogisticRegression(),
              "Decision tree (depth 3)": DecisionTreeClassifier(max_depth=3, min_samples_leaf=20),
              "Gradient boosting": GradientBoostingClassifier(n_estimators=200, learning_rate=0.05)}
    rows, scores = [], {}
    for name, model in models.items():
        p = model.fit(train, ytr).predict_proba(test)[:, 1]
        scores[name] = p
        rows.append({"model": name, "test AUC": metrics.roc_auc_score(yte, p),
                     "top-decile lift": metrics.top_decile_lift(yte, p) if len(yte) >= 10 else np.nan})
    table = pd.DataFrame(rows).set_index("model")
    best = table["test AUC"].idxmax()
    sec.metrics({"Customers": f"{len(y):,}", "Positive rate": f"{y.mean():.1%}", "Best model": best,
                 "Test AUC": f"{table.loc[best, 'test AUC']:.3f}"})
    sec.table(table, caption="Models on the held-out 30%", float_format="{:,.3f}")
    lift = metrics.lift_table(yte, scores[best])
    sec.figure(plot.line_chart(np.r_[0.0, lift["n"].cumsum() / lift["n"].sum()],
                               {best: np.r_[0.0, lift["cumulative_gain"]]},
                               title="Cumulative gains", x_label="Share of customers contacted, best scored first",
                               y_label="Share of positives reached", x_percent=True, y_percent=True, diagonal=True))
    sec.table(lift[["n", "responders", "response_rate", "lift", "cumulative_gain"]], caption=f"Lift by decile ({best})",
              percent_columns=("response_rate", "cumulative_gain"))
    rules = models["Decision tree (depth 3)"].export_rules(precision=3).splitlines()
    sec.table(pd.DataFrame({"rule": rules}), caption="Decision-tree rules, highest rate first", index=False)
