# SPDX-License-Identifier: Apache-2.0
"""Customer segmentation by clustering.

scikit-learn compatible estimators over crmine's compiled core (threads, no copies of
C-contiguous float64 input, the GIL released while fitting):

* ``KMeans`` (k-means++ or k-means|| seeding, Lloyd, Hamerly or Yinyang iterations) and ``MiniBatchKMeans``;
* ``KPrototypes`` for mixed numeric + categorical tables (pandas categorical/object columns) and
  ``KModes`` for purely categorical ones;
* ``GaussianMixture`` (EM, full or diagonal covariances, BIC/AIC);
* ``FeatureScaler`` (log1p for skewed spend, standard or robust scaling) remembered for predict;
* ``silhouette_score``, ``davies_bouldin_score``, ``calinski_harabasz_score``, ``k_sweep`` and
  ``segment_profiles`` to choose k and explain the segments.

Example::

    import crmine.cluster as cc
    X = cc.FeatureScaler(log1p=True).fit_transform(rfm[["recency", "frequency", "monetary"]])
    sweep = cc.k_sweep(X, ks=range(2, 9), random_state=0)
    model = cc.KMeans(n_clusters=sweep.attrs["suggested_k"], n_init=4, random_state=0).fit(X)
    profiles = cc.segment_profiles(rfm[["recency", "frequency", "monetary"]], model.labels_)
"""

from __future__ import annotations

import warnings
from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd

from . import _core
from .base import (ConvergenceWarning, Estimator, check_array, check_feature_names, check_is_fitted,
                   check_n_features, check_sample_weight, seed_from)

__all__ = ["KMeans", "MiniBatchKMeans", "KPrototypes", "KModes", "GaussianMixture", "FeatureScaler",
           "silhouette_score", "silhouette_samples", "davies_bouldin_score", "calinski_harabasz_score",
           "k_sweep", "segment_profiles", "profile_heatmap", "DEFAULT_FEATURE_WORDS"]

_INITS = {"k-means++": _core.KMeansInit.kmeans_plus_plus, "k-means||": _core.KMeansInit.kmeans_parallel}
_ALGORITHMS = {"auto": _core.KMeansAlgorithm.automatic, "lloyd": _core.KMeansAlgorithm.lloyd,
               "hamerly": _core.KMeansAlgorithm.hamerly, "yinyang": _core.KMeansAlgorithm.yinyang}


def _choice(value: Any, choices: dict, name: str, caller: str) -> Any:
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{caller}: {name} must be one of {sorted(choices)}, got {value!r}")
    return choices[value]


def _int_param(value: Any, name: str, caller: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{caller}: {name} must be an int >= {minimum}, got {value!r}")
    return int(value)


def _float_param(value: Any, name: str, caller: str, minimum: float = 0.0) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)) or not np.isfinite(value) \
            or value < minimum:
        raise ValueError(f"{caller}: {name} must be a finite number >= {minimum}, got {value!r}")
    return float(value)


def _check_k(k: int, n: int, caller: str, name: str) -> None:
    if k > n:
        raise ValueError(f"{caller}: {name}={k} must be <= n_samples={n}")


def _warn_if_not_converged(estimator: Estimator, report: Any) -> None:
    if not report.converged:
        warnings.warn(f"{type(estimator).__name__} stopped after max_iter={estimator.max_iter} iterations without "
                      "reaching tol; increase max_iter or tol", ConvergenceWarning, stacklevel=3)


class _CentroidClusterer(Estimator):
    """Shared predict/transform/score of KMeans and MiniBatchKMeans."""

    _estimator_type = "clusterer"

    def _check_predict_input(self, X: Any, caller: str) -> np.ndarray:
        check_is_fitted(self, "cluster_centers_")
        check_feature_names(self, X, reset=False)
        arr = check_array(X, caller=caller)
        check_n_features(self, arr)
        return arr

    def predict(self, X: Any, sample_weight: Any = None) -> np.ndarray:
        """The index of the nearest centre of each row of X."""
        arr = self._check_predict_input(X, f"{type(self).__name__}.predict")
        return self._model.predict(arr).astype(np.int32, copy=False)

    def transform(self, X: Any) -> np.ndarray:
        """Euclidean distance of each row of X to each centre, shape (n_samples, n_clusters)."""
        arr = self._check_predict_input(X, f"{type(self).__name__}.transform")
        return self._model.transform(arr)

    def fit_predict(self, X: Any, y: Any = None, sample_weight: Any = None) -> np.ndarray:
        return self.fit(X, sample_weight=sample_weight).labels_

    def fit_transform(self, X: Any, y: Any = None, sample_weight: Any = None) -> np.ndarray:
        return self.fit(X, sample_weight=sample_weight).transform(X)

    def score(self, X: Any, y: Any = None, sample_weight: Any = None) -> float:
        """Minus the (weighted) inertia of X: higher is better, as scikit-learn's scorers expect."""
        arr = self._check_predict_input(X, f"{type(self).__name__}.score")
        w = check_sample_weight(sample_weight, arr.shape[0], caller=f"{type(self).__name__}.score")
        if hasattr(self._model, "inertia_of"):
            return -float(self._model.inertia_of(arr, w))
        d = self._model.transform(arr).min(axis=1) ** 2  # MiniBatchKMeans: distances to its centres
        return -float(d @ (w if w.size else np.ones_like(d)))

    def _set_fitted(self, model: Any, X: Any, arr: np.ndarray) -> None:
        self._model = model
        self.cluster_centers_ = np.array(model.centroids)
        self.labels_ = np.array(model.labels, dtype=np.int32)
        self.inertia_ = float(model.inertia)
        self.n_iter_ = int(model.report.n_iter)
        self.n_features_in_ = arr.shape[1]
        self._n_features_out = self.cluster_centers_.shape[0]


class KMeans(_CentroidClusterer):
    """k-means clustering (Lloyd 1982) with k-means++ (Arthur & Vassilvitskii 2007) or k-means||
    (Bahmani et al. 2012) seeding and Hamerly's (2010) or Yinyang (Ding et al. 2015) exact bounds
    chosen automatically.

    Parameters
    ----------
    n_clusters : int, default 8
        Number of segments k (1 <= k <= distinct rows).
    init : {'k-means++', 'k-means||'}, default 'k-means++'
        Seeding; 'k-means||' samples in a few parallel rounds and suits very large n.
    n_init : int or 'auto', default 1
        Restarts with different seeds; the lowest inertia wins ('auto' = 1).
    max_iter : int, default 300
        Iterations per restart.
    tol : float, default 1e-4
        Converged when the summed squared centre shift is at most tol x mean feature variance.
    algorithm : {'auto', 'lloyd', 'hamerly', 'yinyang'}, default 'auto'
        Exact iteration; 'auto' uses Yinyang's group bounds for k >= 32, Hamerly's single bound
        for 4 <= k < 32 (both up to 64 features), else Lloyd with blocked matrix products.
    random_state : None, int, numpy Generator or RandomState
        Seed; the same seed gives the same model for any ``n_threads``.
    n_threads : int, default 0
        OpenMP threads; 0 uses all cores.
    """

    def __init__(self, n_clusters: int = 8, *, init: str = "k-means++", n_init: Any = 1, max_iter: int = 300,
                 tol: float = 1e-4, algorithm: str = "auto", random_state: Any = None, n_threads: int = 0) -> None:
        self.n_clusters = n_clusters
        self.init = init
        self.n_init = n_init
        self.max_iter = max_iter
        self.tol = tol
        self.algorithm = algorithm
        self.random_state = random_state
        self.n_threads = n_threads

    @classmethod
    def _model_class(cls) -> Any:
        return _core.KMeans

    def _options(self) -> Any:
        caller = "KMeans"
        o = _core.KMeansOptions()
        o.n_clusters = _int_param(self.n_clusters, "n_clusters", caller, 1)
        o.init = _choice(self.init, _INITS, "init", caller)
        o.n_init = 1 if self.n_init == "auto" else _int_param(self.n_init, "n_init", caller, 1)
        o.max_iter = _int_param(self.max_iter, "max_iter", caller, 1)
        o.tol = _float_param(self.tol, "tol", caller)
        o.algorithm = _choice(self.algorithm, _ALGORITHMS, "algorithm", caller)
        o.seed = seed_from(self.random_state)
        o.n_threads = _int_param(self.n_threads, "n_threads", caller, 0)
        return o

    def fit(self, X: Any, y: Any = None, sample_weight: Any = None) -> KMeans:
        """Learns the centres from X (n_samples, n_features); returns self."""
        options = self._options()
        check_feature_names(self, X, reset=True)
        arr = check_array(X, caller="KMeans.fit")
        _check_k(options.n_clusters, arr.shape[0], "KMeans.fit", "n_clusters")
        w = check_sample_weight(sample_weight, arr.shape[0], caller="KMeans.fit")
        model = _core.KMeans(options)
        model.fit(arr, w)
        self._set_fitted(model, X, arr)
        _warn_if_not_converged(self, model.report)
        return self


class MiniBatchKMeans(_CentroidClusterer):
    """Mini-batch k-means (Sculley 2010) for tens of millions of rows; labels and inertia are
    exact on all rows at the end.

    Parameters
    ----------
    n_clusters : int, default 8
    batch_size : int, default 1024
        Rows per step, drawn with replacement.
    max_iter : int, default 100
        Passes over the data.
    max_no_improvement : int, default 10
        Stop after this many steps without a better smoothed batch inertia (0 = never).
    init_size : int or None, default None
        Rows sampled for seeding (None = max(3 batch_size, 3 k)).
    n_init : int, default 3
        Seedings tried on the init sample.
    random_state, n_threads : as in KMeans.
    """

    def __init__(self, n_clusters: int = 8, *, batch_size: int = 1024, max_iter: int = 100,
                 max_no_improvement: int = 10, init_size: int | None = None, n_init: int = 3,
                 random_state: Any = None, n_threads: int = 0) -> None:
        self.n_clusters = n_clusters
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.max_no_improvement = max_no_improvement
        self.init_size = init_size
        self.n_init = n_init
        self.random_state = random_state
        self.n_threads = n_threads

    @classmethod
    def _model_class(cls) -> Any:
        return _core.MiniBatchKMeans

    def fit(self, X: Any, y: Any = None, sample_weight: Any = None) -> MiniBatchKMeans:
        caller = "MiniBatchKMeans"
        o = _core.MiniBatchKMeansOptions()
        o.n_clusters = _int_param(self.n_clusters, "n_clusters", caller, 1)
        o.batch_size = _int_param(self.batch_size, "batch_size", caller, 1)
        o.max_iter = _int_param(self.max_iter, "max_iter", caller, 1)
        o.max_no_improvement = _int_param(self.max_no_improvement, "max_no_improvement", caller, 0)
        o.init_size = 0 if self.init_size is None else _int_param(self.init_size, "init_size", caller, 1)
        o.n_init = _int_param(self.n_init, "n_init", caller, 1)
        o.seed = seed_from(self.random_state)
        o.n_threads = _int_param(self.n_threads, "n_threads", caller, 0)
        check_feature_names(self, X, reset=True)
        arr = check_array(X, caller="MiniBatchKMeans.fit")
        _check_k(o.n_clusters, arr.shape[0], "MiniBatchKMeans.fit", "n_clusters")
        w = check_sample_weight(sample_weight, arr.shape[0], caller="MiniBatchKMeans.fit")
        model = _core.MiniBatchKMeans(o)
        model.fit(arr, w)
        self._set_fitted(model, X, arr)
        return self


# --- mixed data -----------------------------------------------------------------------------

def _is_categorical_dtype(dtype: Any) -> bool:
    return isinstance(dtype, pd.CategoricalDtype) or dtype == object or pd.api.types.is_string_dtype(dtype) \
        or pd.api.types.is_bool_dtype(dtype)


def _split_columns(X: Any, categorical: Any, caller: str) -> tuple[pd.DataFrame, list, list]:
    """X as a DataFrame plus its numeric and categorical column labels."""
    frame = X if isinstance(X, pd.DataFrame) else pd.DataFrame(np.asarray(X, dtype=object) if categorical is not None
                                                                else np.asarray(X))
    if frame.ndim != 2 or frame.shape[1] == 0:
        raise ValueError(f"{caller}: X must be 2-d with at least one column")
    if categorical is None:
        cat = [c for c in frame.columns if _is_categorical_dtype(frame[c].dtype)]
    else:
        cols = list(frame.columns)
        cat = []
        for c in ([categorical] if isinstance(categorical, (str, int, np.integer)) else list(categorical)):
            if c in cols:
                cat.append(c)
            elif isinstance(c, (int, np.integer)) and 0 <= c < len(cols):
                cat.append(cols[int(c)])
            else:
                raise ValueError(f"{caller}: categorical: unknown column {c!r}")
    num = [c for c in frame.columns if c not in cat]
    return frame, num, cat


def _numeric_block(frame: pd.DataFrame, num: list, caller: str) -> np.ndarray:
    if not num:
        return np.empty((len(frame), 0), dtype=np.float64)
    try:
        arr = np.ascontiguousarray(frame[num].to_numpy(dtype=np.float64))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{caller}: numeric columns {num} must hold numbers: {exc}") from exc
    if not np.isfinite(arr).all():
        raise ValueError(f"{caller}: Input X contains NaN or infinity in numeric columns")
    return arr


def _encode(frame: pd.DataFrame, cat: list, categories: list | None, caller: str) -> tuple[np.ndarray, list]:
    """int32 codes of the categorical columns; fit (categories None) learns the levels, predict maps
    unseen levels to -1 (they mismatch every prototype)."""
    codes = np.empty((len(frame), len(cat)), dtype=np.int32)
    learned = []
    for j, c in enumerate(cat):
        col = frame[c]
        if categories is None:
            if col.isna().any():
                raise ValueError(f"{caller}: categorical column {c!r} has missing values; fill them with a "
                                 "category of their own (e.g. 'unknown') before fitting")
            levels = pd.Index(pd.unique(col.astype(object) if not isinstance(col.dtype, pd.CategoricalDtype)
                                        else col.astype(object)))
            try:
                levels = levels.sort_values()
            except TypeError:  # mixed types: keep first-seen order
                pass
            learned.append(levels)
        else:
            levels = categories[j]
        codes[:, j] = levels.get_indexer(col.astype(object))
    return codes, learned


class KPrototypes(Estimator):
    """k-prototypes (Huang 1998) for mixed numeric and categorical data.

    The cost of a row against a prototype is the squared Euclidean distance of its numeric part
    plus ``gamma`` times the number of categorical mismatches. Categorical columns are those of
    categorical, object, string or bool dtype in a DataFrame, or those named by ``categorical``.
    Scale numeric columns first (e.g. with FeatureScaler) so no single one dominates.

    Parameters
    ----------
    n_clusters : int, default 8
    gamma : float or None, default None
        Weight of one mismatch; None estimates 0.5 x mean numeric standard deviation (Huang).
    categorical : list of column names or indices, or None
        Categorical columns (None: detect from the DataFrame dtypes).
    init : {'k-means++', 'random'}, default 'k-means++'
    n_init : int, default 10
    max_iter : int, default 100
    random_state, n_threads : as in KMeans.
    """

    _estimator_type = "clusterer"

    def __init__(self, n_clusters: int = 8, *, gamma: float | None = None, categorical: Any = None,
                 init: str = "k-means++", n_init: int = 10, max_iter: int = 100, random_state: Any = None,
                 n_threads: int = 0) -> None:
        self.n_clusters = n_clusters
        self.gamma = gamma
        self.categorical = categorical
        self.init = init
        self.n_init = n_init
        self.max_iter = max_iter
        self.random_state = random_state
        self.n_threads = n_threads

    @classmethod
    def _model_class(cls) -> Any:
        return _core.KPrototypes

    def _options(self, caller: str) -> Any:
        o = _core.KPrototypesOptions()
        o.n_clusters = _int_param(self.n_clusters, "n_clusters", caller, 1)
        o.gamma = -1.0 if self.gamma is None else _float_param(self.gamma, "gamma", caller)
        o.init = _choice(self.init, {"k-means++": _core.KPrototypesInit.kmeans_plus_plus,
                                     "random": _core.KPrototypesInit.random}, "init", caller)
        o.n_init = _int_param(self.n_init, "n_init", caller, 1)
        o.max_iter = _int_param(self.max_iter, "max_iter", caller, 1)
        o.seed = seed_from(self.random_state)
        o.n_threads = _int_param(self.n_threads, "n_threads", caller, 0)
        return o

    def fit(self, X: Any, y: Any = None, categorical: Any = None, sample_weight: Any = None) -> KPrototypes:
        """Learns prototypes from a table with numeric and categorical columns; returns self."""
        caller = f"{type(self).__name__}.fit"
        options = self._options(type(self).__name__)
        frame, num, cat = _split_columns(X, categorical if categorical is not None else self.categorical, caller)
        if len(frame) == 0:
            raise ValueError(f"{caller}: Found array with 0 sample(s) while a minimum of 1 is required")
        Xn = _numeric_block(frame, num, caller)
        Xc, levels = _encode(frame, cat, None, caller)
        w = check_sample_weight(sample_weight, len(frame), caller=caller)
        model = _core.KPrototypes(options)
        model.fit(Xn, Xc, w)
        self._model = model
        self.numeric_columns_ = list(num)
        self.categorical_columns_ = list(cat)
        self.categories_ = levels
        self.columns_ = list(frame.columns)
        self.n_features_in_ = frame.shape[1]
        self.labels_ = np.array(model.labels, dtype=np.int32)
        self.cost_ = float(model.cost)
        self.inertia_ = self.cost_
        self.gamma_ = float(model.gamma)
        self.n_iter_ = int(model.report.n_iter)
        self._set_centers()
        _warn_if_not_converged(self, model.report)
        return self

    def _set_centers(self) -> None:
        k = self._model.categorical_centroids.shape[0] if self.categorical_columns_ else \
            self._model.numeric_centroids.shape[0]
        centers = pd.DataFrame(index=pd.RangeIndex(k, name="segment"))
        num = np.array(self._model.numeric_centroids)
        cat = np.array(self._model.categorical_centroids)
        for j, c in enumerate(self.numeric_columns_):
            centers[c] = num[:, j]
        for j, c in enumerate(self.categorical_columns_):
            centers[c] = np.asarray(self.categories_[j], dtype=object)[cat[:, j]]
        centers = centers[self.columns_]
        self.cluster_centers_ = centers.to_numpy(dtype=object)
        self.cluster_centers_frame_ = centers

    def _blocks(self, X: Any, caller: str) -> tuple[np.ndarray, np.ndarray]:
        check_is_fitted(self, "labels_")
        frame = X if isinstance(X, pd.DataFrame) else pd.DataFrame(np.asarray(X, dtype=object), columns=self.columns_)
        missing = [c for c in self.columns_ if c not in frame.columns]
        if missing:
            raise ValueError(f"{caller}: X lacks the columns {missing} seen in fit")
        return _numeric_block(frame, self.numeric_columns_, caller), _encode(frame, self.categorical_columns_,
                                                                            self.categories_, caller)[0]

    def predict(self, X: Any) -> np.ndarray:
        """Nearest prototype of each row; categories unseen in fit mismatch every prototype."""
        Xn, Xc = self._blocks(X, f"{type(self).__name__}.predict")
        return self._model.predict(Xn, Xc).astype(np.int32, copy=False)

    def transform(self, X: Any) -> np.ndarray:
        """Dissimilarity of each row to each prototype."""
        Xn, Xc = self._blocks(X, f"{type(self).__name__}.transform")
        return self._model.transform(Xn, Xc)

    def fit_predict(self, X: Any, y: Any = None, categorical: Any = None, sample_weight: Any = None) -> np.ndarray:
        return self.fit(X, categorical=categorical, sample_weight=sample_weight).labels_


class KModes(KPrototypes):
    """k-modes (Huang 1998) for purely categorical data: every column is categorical and the cost
    is the number of mismatches. Parameters as KPrototypes without ``gamma`` and ``categorical``."""

    def __init__(self, n_clusters: int = 8, *, init: str = "k-means++", n_init: int = 10, max_iter: int = 100,
                 random_state: Any = None, n_threads: int = 0) -> None:
        self.n_clusters = n_clusters
        self.init = init
        self.n_init = n_init
        self.max_iter = max_iter
        self.random_state = random_state
        self.n_threads = n_threads

    gamma = None

    @classmethod
    def _model_class(cls) -> Any:
        return _core.KModes

    def fit(self, X: Any, y: Any = None, categorical: Any = None, sample_weight: Any = None) -> KModes:
        caller = "KModes.fit"
        options = self._options("KModes")
        frame = X.astype(object) if isinstance(X, pd.DataFrame) else pd.DataFrame(np.asarray(X, dtype=object))
        if frame.ndim != 2 or frame.shape[1] == 0 or len(frame) == 0:
            raise ValueError(f"{caller}: X must be 2-d with at least one row and one column")
        cat = list(frame.columns)
        Xc, levels = _encode(frame, cat, None, caller)
        w = check_sample_weight(sample_weight, len(frame), caller=caller)
        model = _core.KModes(options)
        model.fit(Xc, w)
        self._model = model
        self.numeric_columns_, self.categorical_columns_, self.categories_ = [], cat, levels
        self.columns_ = cat
        self.n_features_in_ = len(cat)
        self.labels_ = np.array(model.labels, dtype=np.int32)
        self.cost_ = self.inertia_ = float(model.cost)
        self.n_iter_ = int(model.report.n_iter)
        codes = np.array(model.centroids)
        self.cluster_centers_ = np.column_stack([np.asarray(levels[j], dtype=object)[codes[:, j]]
                                                 for j in range(len(cat))])
        self.cluster_centers_frame_ = pd.DataFrame(self.cluster_centers_, columns=cat)
        _warn_if_not_converged(self, model.report)
        return self

    def _blocks(self, X: Any, caller: str) -> tuple[np.ndarray, np.ndarray]:
        check_is_fitted(self, "labels_")
        frame = X.astype(object) if isinstance(X, pd.DataFrame) else pd.DataFrame(np.asarray(X, dtype=object),
                                                                                  columns=self.columns_)
        return np.empty((0, 0)), _encode(frame, self.categorical_columns_, self.categories_, caller)[0]

    def predict(self, X: Any) -> np.ndarray:
        return self._model.predict(self._blocks(X, "KModes.predict")[1]).astype(np.int32, copy=False)

    def transform(self, X: Any) -> np.ndarray:
        return self._model.transform(self._blocks(X, "KModes.transform")[1])


# --- Gaussian mixtures ----------------------------------------------------------------------

class GaussianMixture(Estimator):
    """Gaussian mixture fitted by EM, with full or diagonal covariances.

    Parameters
    ----------
    n_components : int, default 1
    covariance_type : {'full', 'diag'}, default 'full'
    tol : float, default 1e-3
        Converged when the mean log-likelihood gains less than this.
    reg_covar : float, default 1e-6
        Added to covariance diagonals.
    max_iter : int, default 100
    n_init : int, default 1
    init_params : {'kmeans', 'random'}, default 'kmeans'
    random_state, n_threads : as in KMeans.
    """

    _estimator_type = "density_estimator"

    def __init__(self, n_components: int = 1, *, covariance_type: str = "full", tol: float = 1e-3,
                 reg_covar: float = 1e-6, max_iter: int = 100, n_init: int = 1, init_params: str = "kmeans",
                 random_state: Any = None, n_threads: int = 0) -> None:
        self.n_components = n_components
        self.covariance_type = covariance_type
        self.tol = tol
        self.reg_covar = reg_covar
        self.max_iter = max_iter
        self.n_init = n_init
        self.init_params = init_params
        self.random_state = random_state
        self.n_threads = n_threads

    @classmethod
    def _model_class(cls) -> Any:
        return _core.GaussianMixture

    def fit(self, X: Any, y: Any = None, sample_weight: Any = None) -> GaussianMixture:
        """EM from a k-means (or random) start; a row of weight w counts as w rows."""
        caller = "GaussianMixture"
        o = _core.GaussianMixtureOptions()
        o.n_components = _int_param(self.n_components, "n_components", caller, 1)
        o.covariance_type = _choice(self.covariance_type, {"full": _core.CovarianceType.full,
                                                           "diag": _core.CovarianceType.diag}, "covariance_type", caller)
        o.tol = _float_param(self.tol, "tol", caller)
        o.reg_covar = _float_param(self.reg_covar, "reg_covar", caller)
        o.max_iter = _int_param(self.max_iter, "max_iter", caller, 1)
        o.n_init = _int_param(self.n_init, "n_init", caller, 1)
        o.init = _choice(self.init_params, {"kmeans": _core.MixtureInit.kmeans, "random": _core.MixtureInit.random},
                         "init_params", caller)
        o.seed = seed_from(self.random_state)
        o.n_threads = _int_param(self.n_threads, "n_threads", caller, 0)
        check_feature_names(self, X, reset=True)
        arr = check_array(X, caller="GaussianMixture.fit")
        _check_k(o.n_components, arr.shape[0], "GaussianMixture.fit", "n_components")
        w = check_sample_weight(sample_weight, arr.shape[0], caller="GaussianMixture.fit")
        model = _core.GaussianMixture(o)
        model.fit(arr, w)
        self._model = model
        self.n_features_in_ = arr.shape[1]
        self.weights_ = np.array(model.weights)
        self.means_ = np.array(model.means)
        covs = [np.array(model.covariance(j)) for j in range(o.n_components)]
        self.covariances_ = np.stack(covs) if self.covariance_type == "full" else np.vstack(covs)
        self.converged_ = bool(model.report.converged)
        self.n_iter_ = int(model.report.n_iter)
        self.lower_bound_ = float(model.lower_bound)
        _warn_if_not_converged(self, model.report)
        return self

    def _input(self, X: Any, caller: str) -> np.ndarray:
        check_is_fitted(self, "means_")
        check_feature_names(self, X, reset=False)
        arr = check_array(X, caller=caller)
        check_n_features(self, arr)
        return arr

    def predict(self, X: Any) -> np.ndarray:
        return self._model.predict(self._input(X, "GaussianMixture.predict")).astype(np.int32, copy=False)

    def fit_predict(self, X: Any, y: Any = None, sample_weight: Any = None) -> np.ndarray:
        return self.fit(X, sample_weight=sample_weight).predict(X)

    def predict_proba(self, X: Any) -> np.ndarray:
        return self._model.predict_proba(self._input(X, "GaussianMixture.predict_proba"))

    def score_samples(self, X: Any) -> np.ndarray:
        """log p(x) of each row."""
        return self._model.score_samples(self._input(X, "GaussianMixture.score_samples"))

    def score(self, X: Any, y: Any = None) -> float:
        """Mean log-likelihood of the rows of X."""
        return float(self._model.score(self._input(X, "GaussianMixture.score")))

    def bic(self, X: Any) -> float:
        return float(self._model.bic(self._input(X, "GaussianMixture.bic")))

    def aic(self, X: Any) -> float:
        return float(self._model.aic(self._input(X, "GaussianMixture.aic")))


# --- feature preparation --------------------------------------------------------------------

class FeatureScaler(Estimator):
    """log1p for skewed columns, then standard (mean/sd) or robust (median/IQR) scaling; keeps the
    transform so predictions and profiles use the same one.

    Parameters
    ----------
    method : {'standard', 'robust', 'none'}, default 'standard'
    log1p : bool or list of column names/indices, default False
        Columns to pass through log(1 + x) first (True = all); values must be > -1.
    """

    _estimator_type = "transformer"

    def __init__(self, method: str = "standard", *, log1p: Any = False) -> None:
        self.method = method
        self.log1p = log1p

    @classmethod
    def _model_class(cls) -> Any:
        return _core.FeatureScaler

    def fit(self, X: Any, y: Any = None) -> FeatureScaler:
        o = _core.ScalerOptions()
        o.method = _choice(self.method, {"standard": _core.ScaleMethod.standard, "robust": _core.ScaleMethod.robust,
                                         "none": _core.ScaleMethod.none}, "method", "FeatureScaler")
        check_feature_names(self, X, reset=True)
        arr = check_array(X, caller="FeatureScaler.fit")
        cols = list(getattr(X, "columns", range(arr.shape[1])))
        if self.log1p is True:
            mask = [1] * arr.shape[1]
        elif self.log1p is False or self.log1p is None:
            mask = []
        else:
            chosen = [self.log1p] if isinstance(self.log1p, (str, int)) else list(self.log1p)
            for c in chosen:
                if c not in cols and not (isinstance(c, int) and 0 <= c < len(cols)):
                    raise ValueError(f"FeatureScaler: log1p: unknown column {c!r}")
            mask = [1 if (c in chosen or i in chosen) else 0 for i, c in enumerate(cols)]
        o.log1p = mask
        self._model = _core.FeatureScaler(o).fit(arr)
        self.n_features_in_ = arr.shape[1]
        self.center_ = np.array(self._model.center)
        self.scale_ = np.array(self._model.scale)
        return self

    def transform(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "center_")
        check_feature_names(self, X, reset=False)
        arr = check_array(X, caller="FeatureScaler.transform")
        check_n_features(self, arr)
        return self._model.transform(arr)

    def fit_transform(self, X: Any, y: Any = None) -> np.ndarray:
        return self.fit(X).transform(X)

    def inverse_transform(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "center_")
        return self._model.inverse_transform(check_array(X, caller="FeatureScaler.inverse_transform"))

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        check_is_fitted(self, "center_")
        names = getattr(self, "feature_names_in_", None)
        return np.asarray(names if names is not None else [f"x{i}" for i in range(self.n_features_in_)], dtype=object)


# --- metrics, choosing k, profiles ----------------------------------------------------------

def _labels(labels: Any, n: int, caller: str) -> np.ndarray:
    arr = np.asarray(labels)
    if arr.ndim != 1 or arr.shape[0] != n:
        raise ValueError(f"{caller}: labels must be 1-d with one entry per row of X ({n}), got shape {arr.shape}")
    if arr.dtype.kind not in "iu":
        # Arbitrary hashable labels: encode as 0..k-1.
        _, arr = np.unique(arr, return_inverse=True)
    elif arr.size and arr.min() < 0:
        _, arr = np.unique(arr, return_inverse=True)
    return np.ascontiguousarray(arr, dtype=np.int32)


def silhouette_samples(X: Any, labels: Any, *, n_threads: int = 0) -> np.ndarray:
    """Silhouette width of every row (exact, O(n^2))."""
    arr = check_array(X, caller="silhouette_samples")
    return _core.silhouette_samples(arr, _labels(labels, arr.shape[0], "silhouette_samples"), n_threads)


def silhouette_score(X: Any, labels: Any, *, sample_size: int | None = None, random_state: Any = 0,
                     n_threads: int = 0) -> float:
    """Mean silhouette width (Rousseeuw 1987); ``sample_size`` rows drawn without replacement keep
    large n affordable."""
    arr = check_array(X, caller="silhouette_score")
    if sample_size is not None:
        sample_size = _int_param(sample_size, "sample_size", "silhouette_score", 2)
    return float(_core.silhouette_score(arr, _labels(labels, arr.shape[0], "silhouette_score"), sample_size or 0,
                                        seed_from(random_state), n_threads))


def davies_bouldin_score(X: Any, labels: Any) -> float:
    """Davies-Bouldin index; lower is better."""
    arr = check_array(X, caller="davies_bouldin_score")
    return float(_core.davies_bouldin_score(arr, _labels(labels, arr.shape[0], "davies_bouldin_score")))


def calinski_harabasz_score(X: Any, labels: Any) -> float:
    """Calinski-Harabasz index; higher is better."""
    arr = check_array(X, caller="calinski_harabasz_score")
    return float(_core.calinski_harabasz_score(arr, _labels(labels, arr.shape[0], "calinski_harabasz_score")))


def k_sweep(X: Any, ks: Iterable[int] = range(2, 11), *, method: str = "kmeans", n_init: int = 1,
            silhouette_sample_size: int | None = 10000, random_state: Any = 0, n_threads: int = 0) -> pd.DataFrame:
    """Fits one model per k and scores it: inertia (k-means) or BIC/AIC (mixture), silhouette,
    Davies-Bouldin and Calinski-Harabasz. The suggestion (``.attrs['suggested_k']``) is the k of
    highest silhouette for k-means and of lowest BIC for a mixture; ties go to the smaller k."""
    ks = [_int_param(k, "ks", "k_sweep", 2) for k in ks]
    if not ks:
        raise ValueError("k_sweep: ks is empty")
    arr = check_array(X, caller="k_sweep")
    seed = seed_from(random_state)
    sample = 0 if silhouette_sample_size is None else _int_param(silhouette_sample_size, "silhouette_sample_size",
                                                                 "k_sweep", 2)
    if method == "kmeans":
        o = _core.KSweepOptions()
        o.ks = ks
        km = KMeans(n_init=n_init, random_state=seed, n_threads=n_threads)._options()
        o.kmeans = km
        o.silhouette_sample_size = sample
        result = _core.k_sweep(arr, o)
        table = pd.DataFrame([{"k": r.k, "inertia": r.inertia, "silhouette": r.silhouette,
                               "davies_bouldin": r.davies_bouldin, "calinski_harabasz": r.calinski_harabasz}
                              for r in result.rows]).set_index("k")
        table.attrs["suggested_k"] = int(result.suggested_k)
        table.attrs["criterion"] = "silhouette"
        return table
    if method in ("gmm", "gaussian_mixture"):
        rows = []
        for k in ks:
            gm = GaussianMixture(k, n_init=n_init, random_state=seed, n_threads=n_threads).fit(arr)
            labels = gm.predict(arr)
            distinct = len(np.unique(labels)) >= 2
            rows.append({"k": k, "bic": gm.bic(arr), "aic": gm.aic(arr),
                         "silhouette": silhouette_score(arr, labels, sample_size=sample or None, random_state=seed,
                                                        n_threads=n_threads) if distinct else np.nan,
                         "davies_bouldin": davies_bouldin_score(arr, labels) if distinct else np.nan,
                         "calinski_harabasz": calinski_harabasz_score(arr, labels) if distinct else np.nan})
        table = pd.DataFrame(rows).set_index("k")
        table.attrs["suggested_k"] = int(table["bic"].idxmin())
        table.attrs["criterion"] = "bic"
        return table
    raise ValueError(f"k_sweep: method must be 'kmeans' or 'gmm', got {method!r}")


#: Words for high and low values of common CRM features, used in proposed segment names.
DEFAULT_FEATURE_WORDS: dict[str, tuple[str, str]] = {
    "recency": ("lapsed", "recent"),
    "frequency": ("frequent", "infrequent"),
    "monetary": ("high spend", "low spend"),
    "revenue": ("high revenue", "low revenue"),
    "profit": ("profitable", "low profit"),
    "tenure": ("long-standing", "new"),
    "T": ("long-standing", "new"),
    "clv": ("high value", "low value"),
}


def segment_profiles(X: Any, labels: Any, *, value: Any = None, feature_names: Sequence[str] | None = None,
                     words: dict[str, tuple[str, str]] | None = None, name_features: int = 3,
                     min_effect: float = 0.5) -> pd.DataFrame:
    """One row per segment: proposed name, size, share, value share (if ``value``), the features
    that set it apart (standardised difference to the other rows, in standard deviations), and
    each feature's mean and median in the units of X (pass original, unscaled columns).

    The effects are also in ``.attrs['effects']`` (segments x features) for ``profile_heatmap``.
    """
    names = list(feature_names) if feature_names is not None else \
        [str(c) for c in X.columns] if hasattr(X, "columns") else None
    arr = check_array(X, caller="segment_profiles")
    if names is None:
        names = [f"x{i}" for i in range(arr.shape[1])]
    if len(names) != arr.shape[1]:
        raise ValueError(f"segment_profiles: feature_names has {len(names)} entries, X has {arr.shape[1]} columns")
    lab = _labels(labels, arr.shape[0], "segment_profiles")
    v = np.empty(0) if value is None else np.ascontiguousarray(value, dtype=np.float64)
    if value is not None and (v.ndim != 1 or v.shape[0] != arr.shape[0]):
        raise ValueError(f"segment_profiles: value must have one entry per row ({arr.shape[0]})")
    table = {**DEFAULT_FEATURE_WORDS, **(words or {})}
    o = _core.ProfileOptions()
    o.feature_names = names
    o.high_words = [table.get(n, ("", ""))[0] for n in names]
    o.low_words = [table.get(n, ("", ""))[1] for n in names]
    o.name_features = _int_param(name_features, "name_features", "segment_profiles", 1)
    o.min_effect = _float_param(min_effect, "min_effect", "segment_profiles")
    profiles = _core.segment_profiles(arr, lab, v, o)
    rows = []
    for p in profiles:
        row: dict[str, Any] = {"segment": p.segment, "name": p.name, "size": p.size, "share": p.share}
        if value is not None:
            row["value_share"] = p.value_share
            row["value_mean"] = p.value_mean
        top = [f for f in p.distinguishing if abs(p.effect[f]) > 0][:o.name_features]
        row["distinguishing"] = ", ".join(f"{names[f]} ({p.effect[f]:+.2f} sd)" for f in top)
        for j, n in enumerate(names):
            row[f"mean_{n}"] = p.mean[j]
            row[f"median_{n}"] = p.median[j]
        rows.append(row)
    out = pd.DataFrame(rows).set_index("segment")
    out.attrs["effects"] = pd.DataFrame([np.asarray(p.effect) for p in profiles], columns=names,
                                        index=pd.Index([p.segment for p in profiles], name="segment"))
    return out


def profile_heatmap(profiles: pd.DataFrame, *, title: str = "What sets each segment apart") -> str:
    """SVG heatmap of the standardised differences of ``segment_profiles`` (segments x features)."""
    from . import plot

    effects = profiles.attrs["effects"].copy()
    effects.index = [f"{i}: {profiles.loc[i, 'name']}" for i in effects.index]
    return plot.heatmap(effects, title=title, x_label="Feature (difference to the other customers, in sd)",
                        y_label="Segment", value_format="{:+.2f}", cmap="blues")


def segmentation_section(report: Any, ctx: dict) -> None:
    """The ``crmine report`` section: k-means on log-transformed, standardised RFM features, the
    k sweep that chose k, and the profiles of the segments in original units."""
    from . import plot, value

    rfm = ctx.get("rfm")
    if rfm is None:
        rfm = value.rfm(ctx["log"], as_of=ctx.get("as_of"))
    features = rfm[["recency", "frequency", "monetary"]].astype(float)
    features = features[np.isfinite(features).all(axis=1) & (features > -1).all(axis=1)]
    if len(features) < 20:
        return
    X = FeatureScaler(log1p=True).fit_transform(features)
    ks = [k for k in range(3, 9) if k < len(features)]  # two segments rarely give a marketer anything to do
    sweep = k_sweep(X, ks=ks, n_init=2, silhouette_sample_size=min(5000, len(features)), random_state=0)
    k = sweep.attrs["suggested_k"]
    model = KMeans(k, n_init=4, random_state=0).fit(X)
    revenue = (features["frequency"] * features["monetary"]).to_numpy()
    prof = segment_profiles(features, model.labels_, value=revenue)
    sec = report.section("Segmentation", (
        "Customers clustered by k-means on log(1 + x) of recency, frequency and monetary value, standardised. "
        f"k = {k} has the highest silhouette among k = {ks[0]}..{ks[-1]}. Names come from the features that set "
        "each segment apart (difference to the other customers in standard deviations)."))
    sec.metrics({"Segments": str(k), "Silhouette": f"{sweep.loc[k, 'silhouette']:.3f}",
                 "Customers clustered": f"{len(features):,}"})
    shown = prof[["name", "size", "share", "value_share", "mean_recency", "mean_frequency", "mean_monetary",
                  "median_monetary", "distinguishing"]].rename(columns={"value_share": "revenue_share"})
    sec.table(shown, caption="Segment profiles (means and medians in original units)",
              percent_columns=("share", "revenue_share"))
    sec.figure(profile_heatmap(prof), caption="Standardised difference of each segment to the other customers.")
    sec.figure(plot.line_chart(sweep.index.to_numpy(dtype=float), {"Silhouette": sweep["silhouette"]},
                               title="Choosing k", x_label="k", y_label="Silhouette (sampled)"))
    sec.table(sweep, caption="k sweep")
