# SPDX-License-Identifier: Apache-2.0
"""Look-alike prospecting: score prospects by their similarity to the best customers, and find
customers who buy a narrow set of products but look like the buyers of others.

Example::

    import crmine as cm
    la = cm.prospect.LookAlike(n_neighbors=25).fit(customer_features, value=customer_value)
    ranked = la.rank(prospect_features)          # p_best, similar_value, expected_value, best first
    offers = cm.prospect.cross_sell_prospects(transactions, customer="customer_id", item="product")
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
import pandas as pd

from . import _core
from .base import Estimator, check_array, check_feature_names, check_is_fitted, check_n_features

__all__ = ["LookAlike", "cross_sell_prospects"]


def _n_threads(n_jobs: Any) -> int:
    return 0 if n_jobs is None or n_jobs < 0 else int(n_jobs)


def _positive_int(value: Any, name: str, caller: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (numbers.Integral, np.integer)) or value < 1:
        raise ValueError(f"{caller}: {name} must be an int >= 1, got {value!r}")
    return int(value)


def _clone(estimator: Any) -> Any:
    """An unfitted copy with the same parameters (scikit-learn's clone, without needing sklearn)."""
    params = estimator.get_params(deep=False)
    return type(estimator)(**params)


class LookAlike(Estimator):
    """Scores prospects by how much they resemble the best existing customers.

    The best customers are given as a 0/1 label ``y`` or, when only ``value`` is given, are those
    whose value is at or above its ``best_quantile`` quantile (the top decile by default).

    ``method="knn"``: P(best-like) is the share of best customers among the prospect's
    ``n_neighbors`` nearest customers (Euclidean distance on features standardised with the
    customers' mean and sd; exact brute force in C++). ``method="classifier"``: P(best-like) is
    ``estimator.predict_proba`` of a classifier of best vs other customers (default
    ``crmine.classify.LogisticRegression()``; any scikit-learn-style classifier works).

    ``expected_value`` = P(best-like) x the mean value of the prospect's ``n_neighbors`` nearest
    best customers (the value of similar customers).

    Attributes after ``fit``: ``n_features_in_``, ``classes_`` ([0, 1]), ``n_best_``,
    ``best_threshold_`` (the value cut-off, when derived from ``value``), ``estimator_`` (with
    ``method="classifier"``).
    """

    _estimator_type = "classifier"

    def __init__(self, *, method: str = "knn", n_neighbors: int = 20, estimator: Any = None,
                 best_quantile: float = 0.9, standardize: bool = True, n_jobs: int | None = None) -> None:
        self.method = method
        self.n_neighbors = n_neighbors
        self.estimator = estimator
        self.best_quantile = best_quantile
        self.standardize = standardize
        self.n_jobs = n_jobs

    @classmethod
    def _model_class(cls) -> Any:
        return _core.LookAlike

    def fit(self, X: Any, y: Any = None, *, value: Any = None) -> LookAlike:
        """Learns from the existing customers: ``X`` their features, ``y`` 1 for a best customer
        (optional when ``value`` is given), ``value`` what each is worth (optional: all 1)."""
        caller = "LookAlike.fit"
        if self.method not in ("knn", "classifier"):
            raise ValueError(f"{caller}: method must be 'knn' or 'classifier', got {self.method!r}")
        k = _positive_int(self.n_neighbors, "n_neighbors", caller)
        check_feature_names(self, X, reset=True)
        Xa = check_array(X, caller=caller)
        n = Xa.shape[0]
        v = np.empty(0, dtype=np.float64)
        if value is not None:
            v = np.ascontiguousarray(value, dtype=np.float64)
            if v.ndim != 1 or len(v) != n:
                raise ValueError(f"{caller}: value has shape {v.shape}, expected ({n},)")
            if not np.isfinite(v).all():
                raise ValueError(f"{caller}: value contains NaN or infinity")
        if y is None:
            if value is None:
                raise ValueError(f"{caller}: give y (1 = best customer) or value (best = top quantile)")
            q = self.best_quantile
            if isinstance(q, bool) or not isinstance(q, numbers.Real) or not 0 < q < 1:
                raise ValueError(f"{caller}: best_quantile must be in (0, 1), got {q!r}")
            self.best_threshold_ = float(np.quantile(v, q))
            best = (v >= self.best_threshold_).astype(np.int32)
        else:
            yy = np.asarray(y)
            if yy.ndim != 1 or len(yy) != n:
                raise ValueError(f"{caller}: y has shape {yy.shape}, expected ({n},)")
            if yy.dtype == bool:
                yy = yy.astype(np.int32)
            if not np.isin(yy, (0, 1)).all():
                raise ValueError(f"{caller}: y must hold 0/1 (or bool) labels of best customers, got values "
                                 f"{np.unique(yy)[:5].tolist()}")
            best = np.ascontiguousarray(yy, dtype=np.int32)
        if k > n:
            raise ValueError(f"{caller}: n_neighbors={k} but only {n} customers were given")
        opts = _core.LookAlikeOptions()
        opts.n_neighbors, opts.standardize, opts.n_threads = k, bool(self.standardize), _n_threads(self.n_jobs)
        model = _core.LookAlike(opts)
        model.fit(Xa, best, v)
        self._model = model
        if self.method == "classifier":
            from .classify import LogisticRegression

            est = _clone(self.estimator) if self.estimator is not None else LogisticRegression()
            est.fit(X, best)
            self.estimator_ = est
        self.n_features_in_ = Xa.shape[1]
        self.n_best_ = int(best.sum())
        self.classes_ = np.array([0, 1])
        return self

    def _check(self, X: Any, caller: str) -> np.ndarray:
        check_is_fitted(self, "_model")
        check_feature_names(self, X, reset=False)
        Xa = check_array(X, caller=caller)
        check_n_features(self, Xa)
        return Xa

    def _p_best(self, X: Any, Xa: np.ndarray) -> np.ndarray:
        if self.method == "classifier":
            return np.asarray(self.estimator_.predict_proba(X))[:, 1]
        return np.asarray(self._model.score(Xa).p_best)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Columns P(other), P(best-like) per prospect."""
        Xa = self._check(X, "LookAlike.predict_proba")
        p = self._p_best(X, Xa)
        return np.column_stack([1.0 - p, p])

    def predict(self, X: Any) -> np.ndarray:
        """1 where P(best-like) > 0.5."""
        return (self.predict_proba(X)[:, 1] > 0.5).astype(np.int64)

    def expected_value(self, X: Any) -> np.ndarray:
        """P(best-like) x the mean value of the prospect's nearest best customers."""
        Xa = self._check(X, "LookAlike.expected_value")
        return self._p_best(X, Xa) * np.asarray(self._model.similar_value(Xa))

    def rank(self, X: Any, *, id: Any = None, top: int | None = None) -> pd.DataFrame:
        """Prospects best first by expected value: ``id`` (a column name of the DataFrame ``X``, an
        array of ids, or None for X's index / row numbers), ``p_best``, ``similar_value``,
        ``expected_value``, ``rank``."""
        ids = None
        if isinstance(id, str) and hasattr(X, "columns"):
            ids, X = X[id].to_numpy(), X.drop(columns=[id])
        elif id is not None:
            ids = np.asarray(id)
        Xa = self._check(X, "LookAlike.rank")
        if ids is None:
            ids = X.index.to_numpy() if hasattr(X, "index") else np.arange(Xa.shape[0])
        if len(ids) != Xa.shape[0]:
            raise ValueError(f"LookAlike.rank: id has {len(ids)} entries for {Xa.shape[0]} prospects")
        p = self._p_best(X, Xa)
        sv = np.asarray(self._model.similar_value(Xa))
        ev = p * sv
        order = np.lexsort((np.arange(len(ev)), -ev))
        if top is not None:
            order = order[: _positive_int(top, "top", "LookAlike.rank")]
        name = id if isinstance(id, str) else "id"
        return pd.DataFrame({name: ids[order], "p_best": p[order], "similar_value": sv[order],
                             "expected_value": ev[order], "rank": np.arange(1, len(order) + 1)})

    def kneighbors(self, X: Any, n_neighbors: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(distances, indices) of the nearest fitted customers, as scikit-learn's ``kneighbors``
        (distances in the standardised space when ``standardize``)."""
        Xa = self._check(X, "LookAlike.kneighbors")
        k = _positive_int(self.n_neighbors if n_neighbors is None else n_neighbors, "n_neighbors", "LookAlike.kneighbors")
        indices, distances = self._model.kneighbors(Xa, k)
        return np.asarray(distances), np.asarray(indices)

    def to_bytes(self) -> bytes:
        """The fitted kNN part in crmine's versioned format (pickling also keeps ``estimator_``)."""
        check_is_fitted(self, "_model")
        return self._model.to_bytes()


def _profile(pairs: pd.DataFrame, n_customers: int, n_items: int, max_items: int) -> np.ndarray:
    """Rows: customers; columns: the ``max_items`` most widely bought items; 1/sqrt(owned) where
    owned, so Euclidean distance ranks neighbours as cosine similarity does."""
    buyers = np.bincount(pairs["item"].to_numpy(), minlength=n_items)
    top = np.lexsort((np.arange(n_items), -buyers))[: min(max_items, n_items)]
    column = np.full(n_items, -1)
    column[top] = np.arange(len(top))
    P = np.zeros((n_customers, len(top)))
    sel = column[pairs["item"].to_numpy()] >= 0
    P[pairs["customer"].to_numpy()[sel], column[pairs["item"].to_numpy()[sel]]] = 1.0
    norm = np.sqrt(P.sum(axis=1, keepdims=True))
    np.divide(P, norm, out=P, where=norm > 0)
    return P


def cross_sell_prospects(transactions: pd.DataFrame, *, customer: str, item: str, features: Any = None,
                         n_neighbors: int = 20, min_score: float = 0.3, top_n: int = 3, max_owned: int | None = None,
                         max_profile_items: int = 500, n_jobs: int | None = None) -> pd.DataFrame:
    """Customers who do not buy an item that many of their look-alikes buy.

    Look-alikes are each customer's ``n_neighbors`` nearest other customers: on ``features`` (a
    DataFrame indexed by customer id, numeric columns, standardised here) when given, else on what
    they buy (cosine similarity of their purchase profiles over the ``max_profile_items`` most
    widely bought items). For every customer, each item it never bought is scored by the share of
    its look-alikes who bought it; items scoring at least ``min_score`` are kept, at most
    ``top_n`` per customer. ``max_owned`` keeps only customers who bought at most that many
    distinct items (those who buy a fixed, narrow set).

    Returns one row per (customer, item): ``score``, ``item_rate`` (share of all customers who
    bought the item), ``lift`` (score / item_rate), ``n_owned``; sorted by customer, best item first.
    """
    caller = "cross_sell_prospects"
    for col in (customer, item):
        if col not in transactions.columns:
            raise ValueError(f"{caller}: no column {col!r} in transactions (columns: {list(transactions.columns)})")
    if len(transactions) == 0:
        raise ValueError(f"{caller}: transactions is empty")
    for col in (customer, item):
        if transactions[col].isna().any():
            raise ValueError(f"{caller}: {col}: missing value at row {int(np.argmax(transactions[col].isna().to_numpy()))}")
    k = _positive_int(n_neighbors, "n_neighbors", caller)
    top_n = _positive_int(top_n, "top_n", caller)
    max_profile_items = _positive_int(max_profile_items, "max_profile_items", caller)
    if isinstance(min_score, bool) or not isinstance(min_score, numbers.Real) or not 0 <= min_score <= 1:
        raise ValueError(f"{caller}: min_score must be in [0, 1], got {min_score!r}")
    cust_codes, cust_labels = pd.factorize(transactions[customer], sort=True)
    item_codes, item_labels = pd.factorize(transactions[item], sort=True)
    n, m = len(cust_labels), len(item_labels)
    if k >= n:
        raise ValueError(f"{caller}: n_neighbors={k} needs more than {k} customers, got {n}")
    pairs = pd.DataFrame({"customer": cust_codes, "item": item_codes}).drop_duplicates()
    pairs = pairs.sort_values(["customer", "item"], kind="stable")
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(pairs["customer"].to_numpy(), minlength=n), out=indptr[1:])
    items = np.ascontiguousarray(pairs["item"].to_numpy(), dtype=np.int64)
    if features is None:
        Z = _profile(pairs, n, m, max_profile_items)
    else:
        if not hasattr(features, "reindex"):
            raise ValueError(f"{caller}: features must be a DataFrame indexed by {customer!r}")
        missing = pd.Index(cust_labels).difference(features.index)
        if len(missing):
            raise ValueError(f"{caller}: features has no row for {len(missing)} customers, e.g. {missing[:3].tolist()}")
        Z = check_array(features.reindex(cust_labels), caller=caller, name="features")
        sd = Z.std(axis=0)
        Z = (Z - Z.mean(axis=0)) / np.where(sd > 0, sd, 1.0)
    neighbors, _ = _core.nearest_neighbors(Z, Z, k, True, _n_threads(n_jobs))
    s = _core.cross_sell_scores(neighbors, indptr, items, m, top_n, float(min_score), _n_threads(n_jobs))
    owned = np.diff(indptr)
    rate = np.bincount(items, minlength=m) / n
    out = pd.DataFrame({customer: cust_labels[s["customer"]], item: item_labels[s["item"]], "score": s["score"],
                        "item_rate": rate[s["item"]], "n_owned": owned[s["customer"]]})
    out["lift"] = out["score"] / out["item_rate"]
    if max_owned is not None:
        out = out[out["n_owned"] <= _positive_int(max_owned, "max_owned", caller)]
    return out[[customer, item, "score", "item_rate", "lift", "n_owned"]].reset_index(drop=True)
