# SPDX-License-Identifier: Apache-2.0
"""Cross-sell mining: frequent itemsets, association rules, recommendations, sequential
patterns and the product affinity graph.

The results are shaped like mlxtend's (``support``/``itemsets`` and ``antecedents``/
``consequents`` plus metric columns, item sets as frozensets of item labels) so code written for
mlxtend keeps working; the mining itself runs in C++ on a sparse basket representation, so no
dense one-hot table is ever built::

    import crmine as cm
    baskets = [["milk", "bread"], ["milk", "butter"], ["bread", "butter", "milk"]]
    itemsets = cm.rules.frequent_itemsets(baskets, min_support=0.5)
    rules = cm.rules.association_rules(itemsets, metric="confidence", min_threshold=0.6)
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd

from . import _core
from .transactions import TransactionLog

__all__ = ["Baskets", "baskets", "frequent_itemsets", "ItemsetArrays", "association_rules", "mine_rules", "Recommender",
           "sequential_patterns", "affinity_graph", "AffinityGraph"]

_ALGORITHMS = ("fpgrowth", "eclat", "apriori")
_FORMS = ("frozenset", "tuple", "codes")
_KINDS = ("all", "closed", "maximal")
_METRICS = ("support", "confidence", "lift", "leverage", "conviction", "zhangs_metric", "jaccard",
            "antecedent support", "consequent support")
_RULE_COLUMNS = ["antecedents", "consequents", "antecedent support", "consequent support", "support", "confidence",
                 "lift", "leverage", "conviction", "zhangs_metric", "jaccard"]


@dataclass(frozen=True)
class Baskets:
    """Baskets in CSR form: basket ``b`` holds item codes ``indices[indptr[b]:indptr[b+1]]``;
    ``labels[code]`` is the item's label. ``keys`` names each basket (order or customer id)."""

    indptr: np.ndarray
    indices: np.ndarray
    labels: np.ndarray
    keys: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.indptr.size - 1)

    @property
    def n_items(self) -> int:
        return int(self.labels.size)


def _check_int(name: str, value: Any, minimum: int, allow_none: bool = True) -> int:
    if value is None and allow_none:
        return 0
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name}: must be an integer >= {minimum}{' or None' if allow_none else ''}, got {value!r}")
    return int(value)


def _n_jobs(n_jobs: int | None) -> int:
    return _check_int("n_jobs", n_jobs, 0)


def _factorize(values: Sequence[Any] | np.ndarray, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Dense codes and labels; labels sorted when they are mutually comparable."""
    try:
        codes, labels = pd.factorize(pd.Series(values, dtype=object if not isinstance(values, np.ndarray) else None),
                                     sort=True, use_na_sentinel=True)
    except TypeError:
        codes, labels = pd.factorize(pd.Series(values, dtype=object), sort=False, use_na_sentinel=True)
    if (codes < 0).any():
        raise ValueError(f"{name}: position {int(np.flatnonzero(codes < 0)[0])} is missing (None/NaN)")
    return codes.astype(np.int32, copy=False), np.asarray(labels, dtype=object)


def _from_frame_long(frame: pd.DataFrame, order: str | None, item: str, customer: str | None, time: str | None,
                     by: str, time_unit: str | None) -> Baskets:
    used = (("item", item), ("order", order)) if by == "order" else \
        (("item", item), ("customer", customer), ("time", time if by == "customer_day" else None))
    for key, column in used:
        if column is not None and column not in frame.columns:
            raise ValueError(f"{key}: column {column!r} is not in the frame (columns: {list(frame.columns)})")
    n = len(frame)
    items, labels = _factorize(frame[item].to_numpy(), item)
    if by == "order":
        if order is None:
            raise ValueError("order: by='order' needs an order column (order=...)")
        keys_codes, keys = _factorize(frame[order].to_numpy(), order)
        cust, t, tpd = keys_codes.astype(np.int64), np.zeros(n, dtype=np.int64), 1
        ords = cust
    else:
        if customer is None or (by == "customer_day" and time is None):
            raise ValueError(f"customer/time: by={by!r} needs customer= (and time= for 'customer_day') columns")
        keys_codes, keys = _factorize(frame[customer].to_numpy(), customer)
        cust, ords = keys_codes.astype(np.int64), None
        if time is not None:
            stamps = frame[time]
            if stamps.dtype.kind in "iu":
                if time_unit not in (None, "D"):
                    raise ValueError("time_unit: integer times here must be day numbers ('D')")
                t, tpd = np.ascontiguousarray(stamps.to_numpy(), dtype=np.int64), 1
            else:
                t = pd.to_datetime(stamps, format=time_unit).to_numpy().astype("datetime64[ns]").view(np.int64)
                tpd = 86_400_000_000_000
        else:
            t, tpd = np.zeros(n, dtype=np.int64), 1
    indptr, indices, item_ids, bkeys, _ = _core.rules_make_baskets(cust, np.ascontiguousarray(t), tpd, ords,
                                                                   items.astype(np.int64), by)
    return Baskets(indptr, indices, labels[item_ids], keys[bkeys])


def baskets(data: Any, *, order: str | None = "order_id", item: str = "item", customer: str | None = "customer_id",
            time: str | None = "date", by: str = "order", n_items: int | None = None,
            time_unit: str | None = None) -> Baskets:
    """Turns any supported basket input into :class:`Baskets`.

    Accepted: a list of baskets (each an iterable of hashable item labels); a scipy sparse matrix
    or an ``(indptr, indices)`` pair (item codes; ``n_items`` defaults to max + 1); a one-hot
    DataFrame of bools, dense or sparse (mlxtend's input; column names are the labels); a long DataFrame with
    ``item`` and ``order`` columns (or ``customer`` and ``time`` with ``by='customer_day'``); a
    :class:`~crmine.TransactionLog` with an item column. A repeated item in a basket counts once.
    """
    if by not in ("order", "customer_day", "customer"):
        raise ValueError(f"by: must be 'order', 'customer_day' or 'customer', got {by!r}")
    if isinstance(data, Baskets):
        return data
    if isinstance(data, TransactionLog):
        if data.item is None:
            raise ValueError("item: the TransactionLog has no item column; pass item= when building it")
        if by == "order" and data.order is None:
            raise ValueError("order: the TransactionLog has no order column; pass order= or use by='customer_day'")
        indptr, indices, item_ids, keys, _ = _core.rules_make_baskets(data.customer, data.time, data.ticks_per_day,
                                                                      data.order if by == "order" else None, data.item, by)
        labels = item_ids if data.item_labels is None else data.item_labels[item_ids]
        return Baskets(indptr, indices, np.asarray(labels, dtype=object), keys)
    if isinstance(data, pd.DataFrame):
        dtypes = data.dtypes
        if data.shape[1] > 0 and all(dt == bool for dt in dtypes):
            # The values in place (pandas keeps a bool frame as one column-major block), read in C.
            indptr, indices = _core.rules_baskets_from_indicators(data.to_numpy())
            return Baskets(indptr, indices, np.asarray(data.columns, dtype=object))
        if data.shape[1] > 0 and all(isinstance(dt, pd.SparseDtype) and dt.subtype == bool for dt in dtypes):
            # A sparse one-hot frame (mlxtend takes these too): its CSR form, never a dense table.
            return _sparse_baskets(data.sparse.to_coo(), np.asarray(data.columns, dtype=object))
        if item in data.columns:
            return _from_frame_long(data, order if by == "order" else None, item, customer, time, by, time_unit)
        raise ValueError(f"data: a DataFrame must be one-hot (all bool columns, dense or sparse) or have an {item!r} column "
                         "(and an order column); non-bool one-hot frames: use df.astype(bool)")
    if hasattr(data, "tocsr") and hasattr(data, "shape"):
        labels = np.arange(data.shape[1] if n_items is None else n_items, dtype=np.int64).astype(object)
        return _sparse_baskets(data, labels)
    if isinstance(data, tuple) and len(data) == 2:
        indptr = np.ascontiguousarray(data[0], dtype=np.int64)
        raw = np.asarray(data[1])
        if raw.size and raw.dtype.kind not in "iu":
            raise ValueError(f"indices: must be integer item codes, got dtype {raw.dtype}")
        if raw.size and raw.min() < 0:
            raise ValueError(f"indices: item code {int(raw.min())} is negative")
        top = int(raw.max()) + 1 if raw.size else 0
        if n_items is not None and top > n_items:
            raise ValueError(f"indices: item code {top - 1} is not below n_items={n_items}")
        if raw.size and raw.max() > np.iinfo(np.int32).max:
            raise ValueError("indices: item codes must fit in 32 bits")
        count = top if n_items is None else n_items
        return Baskets(indptr, np.ascontiguousarray(raw, dtype=np.int32), np.arange(count, dtype=np.int64).astype(object))
    if isinstance(data, (str, bytes)) or not isinstance(data, Iterable):
        raise TypeError(f"baskets: expected a list of baskets, a sparse matrix, (indptr, indices), a DataFrame or a "
                        f"TransactionLog, got {type(data).__name__}")
    # Labels are coded in order of first appearance, in C: on lists of lists this conversion
    # otherwise costs more than the mining.
    indptr, codes, labels = _core.rules_encode_baskets(data)
    out = np.empty(len(labels), dtype=object)
    out[:] = labels
    return Baskets(indptr, codes, out)


def _sparse_baskets(matrix: Any, labels: np.ndarray) -> Baskets:
    """Baskets of a scipy sparse matrix's rows. A stored zero (an explicit False, a zero quantity)
    is not an item, and duplicates are summed; the caller's matrix is left as it was (tocsr()
    returns a CSR matrix itself, so it is copied before either is changed)."""
    csr = matrix.tocsr()
    if not csr.has_canonical_format or not csr.data.all():
        csr = csr.copy()
        csr.sum_duplicates()
        csr.eliminate_zeros()
    return Baskets(np.ascontiguousarray(csr.indptr, dtype=np.int64), np.ascontiguousarray(csr.indices, dtype=np.int32),
                   labels)


_to_baskets = baskets  # for functions whose `baskets` argument shadows the function


def _check_min_support(min_support: Any) -> float:
    if isinstance(min_support, bool) or not isinstance(min_support, (int, float, np.floating, np.integer)):
        raise ValueError(f"min_support: must be a number, got {min_support!r}")
    if isinstance(min_support, (int, np.integer)) and min_support >= 1 and not isinstance(min_support, bool):
        return float(min_support)  # a count
    if not 0.0 < float(min_support) <= 1.0:
        raise ValueError(f"min_support: must be a fraction in (0, 1] or an integer count >= 1, got {min_support!r}")
    return float(min_support)


def _support_args(b: Baskets, min_support: Any, max_len: int | None) -> tuple[float, int, int]:
    """(min_support, min_count, max_len) as the compiled functions take them, validated."""
    if len(b) == 0:
        raise ValueError("baskets: there are no baskets")
    if b.indices.size == 0:
        raise ValueError(f"baskets: all {len(b)} baskets are empty")
    support = _check_min_support(min_support)
    # An integer >= 1 is a basket count (an int 1 would be ambiguous: it means 100 % as in mlxtend).
    is_count = isinstance(min_support, (int, np.integer)) and min_support > 1
    if is_count and min_support > len(b):
        raise ValueError(f"min_support: count {min_support} is above the number of baskets ({len(b)})")
    if max_len is not None and (isinstance(max_len, bool) or not isinstance(max_len, (int, np.integer)) or max_len < 1):
        raise ValueError(f"max_len: must be an integer >= 1 or None, got {max_len!r}")
    return 1.0 if is_count else support, int(min_support) if is_count else 0, int(max_len or 0)


def _mine(b: Baskets, min_support: Any, max_len: int | None, algorithm: str, kind: str, max_itemsets: int | None,
          max_memory: int | None, n_jobs: int | None, contains: list[int] | None = None) -> tuple:
    if algorithm not in _ALGORITHMS:
        raise ValueError(f"algorithm: must be one of {_ALGORITHMS}, got {algorithm!r}")
    if kind not in _KINDS:
        raise ValueError(f"kind: must be one of {_KINDS}, got {kind!r}")
    support, count, length = _support_args(b, min_support, max_len)
    return _core.rules_frequent_itemsets(
        b.indptr, b.indices, b.n_items, support, count, length, algorithm, kind,
        _check_int("max_itemsets", max_itemsets, 1), _check_int("max_memory", max_memory, 1), _n_jobs(n_jobs),
        contains or [])


def _basket_codes(b: Baskets, wanted: Any, name: str) -> list[int]:
    """Codes of the wanted labels among the baskets' items (a single label or an iterable)."""
    if wanted is None:
        return []
    if isinstance(wanted, (str, bytes)) or not isinstance(wanted, Iterable):
        wanted = [wanted]
    index = {label: code for code, label in enumerate(b.labels.tolist())}
    out = []
    for w in wanted:
        if w not in index:
            raise ValueError(f"{name}: item {w!r} is in no basket")
        out.append(index[w])
    if not out:
        raise ValueError(f"{name}: is empty; pass None for no constraint")
    return out


def _sets(indptr: np.ndarray, items: np.ndarray, labels: np.ndarray | None, tuples: bool = False) -> np.ndarray:
    """An object array of frozensets (tuples) of labels (codes when labels is None), built in C."""
    return _core.rules_itemset_column(np.ascontiguousarray(indptr, dtype=np.int64),
                                      np.ascontiguousarray(items, dtype=np.int32), labels, tuples)


_ITEMSET_COLUMNS = pd.Index(["support", "itemsets", "count"])


def _frame_of(columns: list[np.ndarray], names: pd.Index) -> pd.DataFrame:
    """A DataFrame of new 1-d arrays. Large ones are wrapped without a copy (copy=False; pandas
    would otherwise copy each column, the object one included, while both are alive). Small ones
    go through pandas' constructor from arrays (as DataFrame.from_records uses it), which skips
    inferring the column names and checking the arrays, a third of building a small result frame
    (0.05 vs 0.17 ms at 333 rows), but stacks each column into a block of its own: a copy, which
    at 790,072 itemsets would add 18 MiB to the peak."""
    from_arrays = getattr(pd.DataFrame, "_from_arrays", None)
    if from_arrays is not None and len(columns[0]) <= _SMALL_FRAME:
        try:
            return from_arrays(columns, columns=names.copy(), index=pd.RangeIndex(len(columns[0])),
                               verify_integrity=False)
        except TypeError:  # a pandas whose private signature differs
            pass
    return pd.DataFrame(dict(zip(names, columns)), copy=False)


_SMALL_FRAME = 20_000


@dataclass(frozen=True)
class ItemsetArrays:
    """Frequent itemsets as arrays, the compact result form (``itemsets='codes'``): itemset ``s``
    holds the item codes ``items[indptr[s]:indptr[s+1]]`` (ascending), ``labels[code]`` is an
    item's label. No Python object per itemset is built, so this takes a fraction of the memory
    of a DataFrame of frozensets; :func:`association_rules` takes it directly."""

    indptr: np.ndarray
    items: np.ndarray
    count: np.ndarray
    labels: np.ndarray
    n_baskets: int
    min_count: int
    peak_memory: int

    def __len__(self) -> int:
        return int(self.count.size)

    @property
    def support(self) -> np.ndarray:
        return self.count / self.n_baskets

    def itemset(self, s: int) -> tuple:
        """The labels of itemset ``s``."""
        return tuple(self.labels[self.items[self.indptr[s]:self.indptr[s + 1]]])

    def to_frame(self, itemsets: str = "frozenset") -> pd.DataFrame:
        """The mlxtend-shaped DataFrame (``itemsets`` as 'frozenset' or 'tuple')."""
        if itemsets not in _FORMS[:2]:
            raise ValueError(f"itemsets: must be 'frozenset' or 'tuple', got {itemsets!r}")
        return self._frame(itemsets, self.count.copy())

    def _frame(self, itemsets: str, count: np.ndarray) -> pd.DataFrame:
        # The columns are new arrays (count is the caller's to give away), wrapped without a copy.
        frame = _frame_of([self.support, _sets(self.indptr, self.items, self.labels, itemsets == "tuple"), count],
                          _ITEMSET_COLUMNS)
        frame.attrs.update(n_baskets=self.n_baskets, min_count=self.min_count, peak_memory=self.peak_memory)
        return frame


def frequent_itemsets(baskets: Any, min_support: float = 0.5, *, max_len: int | None = None,
                      algorithm: str = "fpgrowth", kind: str = "all", use_colnames: bool = True,
                      contains: Any = None, itemsets: str = "frozenset", max_itemsets: int | None = None,
                      max_memory: int | None = None, n_jobs: int | None = None,
                      **basket_columns: Any) -> pd.DataFrame | ItemsetArrays:
    """Frequent itemsets as an mlxtend-shaped DataFrame with columns ``support`` and ``itemsets``.

    Parameters
    ----------
    baskets : list of lists, scipy sparse, (indptr, indices), DataFrame or TransactionLog
        See :func:`baskets`; extra keyword arguments (``order=``, ``item=``, ``by=`` ...) go there.
    min_support : float or int
        A fraction in (0, 1] (frequent means count >= ceil(min_support * n_baskets)) or an integer
        basket count > 1.
    max_len : int, optional
        Longest itemset returned.
    algorithm : {'fpgrowth', 'eclat', 'apriori'}
        All give the same result; FP-Growth is usually fastest.
    kind : {'all', 'closed', 'maximal'}
    use_colnames : bool
        Item labels in ``itemsets`` (True) or item codes (False; column positions for one-hot input).
    contains : label or iterable of labels, optional
        Only the itemsets holding at least one of these items ("who buys what with product P").
        Pushed into mining: only the baskets holding them are mined, so this is much faster than
        filtering a full result, and gives the same itemsets and supports (relative to all
        baskets).
    itemsets : {'frozenset', 'tuple', 'codes'}
        The form of the result: mlxtend's frozensets (default), tuples of labels in item-code
        order (as pyfim returns them; about a fifth of the memory), or ``'codes'``: an
        :class:`ItemsetArrays` of CSR arrays plus labels with no object per itemset.
    max_itemsets, max_memory : int, optional
        Stop with :class:`crmine.LimitExceededError` beyond this many itemsets / bytes.
    n_jobs : int, optional
        Threads; the result does not depend on it.

    The frame's ``attrs`` hold ``n_baskets``, ``min_count`` and ``peak_memory`` (bytes); its
    ``count`` column gives basket counts.
    """
    if itemsets not in _FORMS:
        raise ValueError(f"itemsets: must be one of {_FORMS}, got {itemsets!r}")
    b = _to_baskets(baskets, **basket_columns)
    indptr, items, count, n_baskets, min_count, peak = _mine(b, min_support, max_len, algorithm, kind, max_itemsets,
                                                             max_memory, n_jobs, _basket_codes(b, contains, "contains"))
    labels = b.labels if use_colnames else np.arange(b.n_items, dtype=np.int64).astype(object)
    result = ItemsetArrays(indptr, items, count, labels, int(n_baskets), int(min_count), int(peak))
    # The arrays are not handed out in the frame forms, so the frame takes the counts as they are.
    return result if itemsets == "codes" else result._frame(itemsets, result.count)


def _encode_itemsets(itemsets: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """CSR of sorted item codes for a Series of item collections, and the code labels."""
    lengths = np.fromiter((len(s) for s in itemsets), dtype=np.int64, count=len(itemsets))
    flat = list(itertools.chain.from_iterable(itemsets))
    codes, labels = _factorize(flat, "itemsets") if flat else (np.zeros(0, np.int32), np.zeros(0, object))
    owner = np.repeat(np.arange(len(itemsets)), lengths)
    order = np.lexsort((codes, owner))
    indptr = np.zeros(len(itemsets) + 1, dtype=np.int64)
    np.cumsum(lengths, out=indptr[1:])
    return indptr, np.ascontiguousarray(codes[order], dtype=np.int32), labels


def _codes_of(labels: np.ndarray, wanted: Iterable[Any] | None, name: str) -> list[int]:
    if wanted is None:
        return []
    if isinstance(wanted, (str, bytes)) or not isinstance(wanted, Iterable):
        wanted = [wanted]
    index = {label: code for code, label in enumerate(labels.tolist())}
    out = []
    for w in wanted:
        if w not in index:
            raise ValueError(f"{name}: item {w!r} is not in any frequent itemset")
        out.append(index[w])
    return out


def association_rules(itemsets: pd.DataFrame | ItemsetArrays, metric: str = "confidence", min_threshold: float = 0.8, *,
                      top_k: int | None = None, consequent_items: Iterable[Any] | None = None,
                      antecedent_items: Iterable[Any] | None = None, max_antecedent_len: int | None = None,
                      max_consequent_len: int | None = None, max_rules: int | None = None, n_jobs: int | None = None,
                      num_itemsets: int | None = None) -> pd.DataFrame:
    """Association rules from a ``frequent_itemsets`` frame (or mlxtend's, or an
    :class:`ItemsetArrays`), shaped like mlxtend's.

    Columns: antecedents, consequents, antecedent support, consequent support, support,
    confidence, lift, leverage, conviction, zhangs_metric, jaccard.

    Parameters
    ----------
    metric, min_threshold
        Keep rules with ``metric >= min_threshold`` (ties by counts are kept despite rounding).
    top_k : int, optional
        Only the k best rules by ``metric``, best first, without materialising the others.
    consequent_items, antecedent_items : iterable of labels, optional
        The consequent (antecedent) must contain at least one of these items.
    max_antecedent_len, max_consequent_len : int, optional
        ``max_consequent_len=1`` gives arules-style rules.
    max_rules : int, optional
        Stop with :class:`crmine.LimitExceededError` beyond this many rules.
    num_itemsets : ignored
        Accepted for call compatibility with mlxtend >= 0.23.
    """
    del num_itemsets
    if isinstance(itemsets, ItemsetArrays):
        indptr, codes, labels, support = itemsets.indptr, itemsets.items, itemsets.labels, itemsets.support
    elif isinstance(itemsets, pd.DataFrame) and {"support", "itemsets"} <= set(itemsets.columns):
        indptr, codes, labels = _encode_itemsets(itemsets["itemsets"])
        support = np.ascontiguousarray(itemsets["support"].to_numpy(), dtype=np.float64)
    else:
        raise ValueError("itemsets: expected a DataFrame with 'support' and 'itemsets' columns or an ItemsetArrays "
                         "(from frequent_itemsets)")
    _check_metric(metric, min_threshold)
    r = _core.rules_association_rules(
        indptr, codes, support, metric, float(min_threshold), _check_int("top_k", top_k, 1),
        _codes_of(labels, consequent_items, "consequent_items"), _codes_of(labels, antecedent_items, "antecedent_items"),
        _check_int("max_antecedent_len", max_antecedent_len, 1), _check_int("max_consequent_len", max_consequent_len, 1),
        _check_int("max_rules", max_rules, 1), _n_jobs(n_jobs))
    return _rules_frame(r, labels)


def _check_metric(metric: str, min_threshold: Any) -> None:
    if metric not in _METRICS:
        raise ValueError(f"metric: must be one of {_METRICS}, got {metric!r}")
    if isinstance(min_threshold, bool) or not isinstance(min_threshold, (int, float, np.integer, np.floating)) \
            or np.isnan(min_threshold):
        raise ValueError(f"min_threshold: must be a number, got {min_threshold!r}")


def mine_rules(baskets: Any, min_support: float = 0.5, metric: str = "confidence", min_threshold: float = 0.8, *,
               consequent_items: Any = None, antecedent_items: Any = None, max_len: int | None = None,
               top_k: int | None = None, max_antecedent_len: int | None = None, max_consequent_len: int | None = None,
               algorithm: str = "fpgrowth", max_itemsets: int | None = None, max_memory: int | None = None,
               max_rules: int | None = None, n_jobs: int | None = None, **basket_columns: Any) -> pd.DataFrame:
    """Association rules straight from baskets, with item constraints pushed into mining.

    "Who buys what with product P": ``consequent_items=[P]`` keeps the rules whose consequent
    holds P (or one of several items), ``antecedent_items`` those whose antecedent holds one.
    Only the itemsets holding a constraint item are mined (from the baskets that hold it), and
    the supports of the rule sides without one are counted in one pass, so this is much faster
    than mining everything. The rules equal
    ``association_rules(frequent_itemsets(baskets, min_support, max_len=max_len), metric,
    min_threshold, consequent_items=..., antecedent_items=...)`` (possibly in another row order;
    with ``top_k`` best first, ties broken by item code). Without constraints it is that call.

    Parameters are those of :func:`frequent_itemsets` and :func:`association_rules`; the result
    is the same mlxtend-shaped DataFrame.
    """
    if algorithm not in _ALGORITHMS:
        raise ValueError(f"algorithm: must be one of {_ALGORITHMS}, got {algorithm!r}")
    _check_metric(metric, min_threshold)
    b = _to_baskets(baskets, **basket_columns)
    support, count, length = _support_args(b, min_support, max_len)
    r = _core.rules_mine_rules(
        b.indptr, b.indices, b.n_items, support, count, length, algorithm, _check_int("max_itemsets", max_itemsets, 1),
        _check_int("max_memory", max_memory, 1), metric, float(min_threshold), _check_int("top_k", top_k, 1),
        _basket_codes(b, consequent_items, "consequent_items"), _basket_codes(b, antecedent_items, "antecedent_items"),
        _check_int("max_antecedent_len", max_antecedent_len, 1), _check_int("max_consequent_len", max_consequent_len, 1),
        _check_int("max_rules", max_rules, 1), _n_jobs(n_jobs))
    return _rules_frame(r, b.labels)


def _rules_frame(r: Any, labels: np.ndarray) -> pd.DataFrame:
    data = {"antecedents": _sets(np.asarray(r.antecedent_indptr), np.asarray(r.antecedent_items), labels),
            "consequents": _sets(np.asarray(r.consequent_indptr), np.asarray(r.consequent_items), labels)}
    for column in _RULE_COLUMNS[2:]:
        data[column] = np.array(getattr(r, column.replace(" ", "_")))
    return pd.DataFrame(data, columns=_RULE_COLUMNS)


class Recommender:
    """Recommends products for a basket from association rules with one-item consequents.

    Each recommended item comes with the rule that justifies it: the rule with the best
    ``metric`` whose antecedent the basket holds. Items already in the basket are never
    recommended.

    Parameters
    ----------
    min_support : float or int
        Minimum support of the mined itemsets (fraction or basket count).
    metric : str
        Rule metric that ranks recommendations (``confidence``, ``lift``, ...).
    min_threshold : float
        Minimum value of ``metric`` for a rule to be used.
    max_len : int, optional
        Longest itemset mined (antecedents have up to max_len - 1 items).
    algorithm : {'fpgrowth', 'eclat', 'apriori'}
    n_jobs : int, optional
    """

    def __init__(self, *, min_support: float = 0.01, metric: str = "confidence", min_threshold: float = 0.1,
                 max_len: int | None = 4, algorithm: str = "fpgrowth", n_jobs: int | None = None) -> None:
        self.min_support = min_support
        self.metric = metric
        self.min_threshold = min_threshold
        self.max_len = max_len
        self.algorithm = algorithm
        self.n_jobs = n_jobs

    def get_params(self, deep: bool = True) -> dict:
        return {k: getattr(self, k) for k in ("min_support", "metric", "min_threshold", "max_len", "algorithm", "n_jobs")}

    def set_params(self, **params: Any) -> "Recommender":
        for key, value in params.items():
            if key not in self.get_params():
                raise ValueError(f"set_params: unknown parameter {key!r}")
            setattr(self, key, value)
        return self

    def fit(self, baskets: Any, **basket_columns: Any) -> "Recommender":
        """Mines itemsets and one-consequent rules from the baskets (any :func:`baskets` input)."""
        if self.metric not in _METRICS:
            raise ValueError(f"metric: must be one of {_METRICS}, got {self.metric!r}")
        b = _to_baskets(baskets, **basket_columns)
        indptr, items, count, n_baskets, _, _ = _mine(b, self.min_support, self.max_len, self.algorithm, "all", None,
                                                      None, self.n_jobs)
        support = count / n_baskets
        self._rules = _core.rules_association_rules(indptr, items, support, self.metric, float(self.min_threshold), 0,
                                                    [], [], 0, 1, 0, _n_jobs(self.n_jobs))
        self._core = _core.Recommender(self._rules, b.n_items, self.metric)
        self.labels_ = b.labels
        self._index = {label: code for code, label in enumerate(b.labels.tolist())}
        self.rules_ = _rules_frame(self._rules, b.labels)
        self.n_baskets_ = int(n_baskets)
        return self

    def to_bytes(self) -> bytes:
        """The fitted rules, item count and metric in crmine's versioned binary format (tag RREC),
        loadable in C++ with ``Recommender::load``; item labels are not part of it (pickle keeps them)."""
        self._check_fitted()
        return self._core.to_bytes()

    # Pickling: the compiled recommender travels as its versioned bytes; corrupt bytes raise
    # crmine.ModelFormatError on unpickling.
    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        core = state.pop("_core", None)
        state.pop("_rules", None)
        if core is not None:
            state["_model_bytes"] = core.to_bytes()
        return state

    def __setstate__(self, state: dict) -> None:
        state = dict(state)
        data = state.pop("_model_bytes", None)
        self.__dict__.update(state)
        if data is not None:
            self._core = _core.Recommender.from_bytes(bytes(data))
            self._rules = self._core.rules
            if self._core.n_items != len(self.labels_):
                from .exceptions import ModelFormatError
                raise ModelFormatError(f"Recommender: the model has {self._core.n_items} items but "
                                       f"{len(self.labels_)} labels")

    def _check_fitted(self) -> None:
        if not hasattr(self, "_core"):
            from .exceptions import NotFittedError
            raise NotFittedError("Recommender: call fit before recommend")

    def _encode(self, queries: Sequence[Iterable[Any]], unknown: str) -> tuple[np.ndarray, np.ndarray]:
        if unknown not in ("error", "ignore"):
            raise ValueError(f"unknown: must be 'error' or 'ignore', got {unknown!r}")
        indptr, codes = [0], []
        for q in queries:
            for label in q:
                code = self._index.get(label)
                if code is None:
                    if unknown == "error":
                        raise ValueError(f"basket: item {label!r} was not seen in fit; pass unknown='ignore' to skip it")
                    continue
                codes.append(code)
            indptr.append(len(codes))
        return np.asarray(indptr, dtype=np.int64), np.asarray(codes, dtype=np.int32)

    def recommend_many(self, queries: Sequence[Iterable[Any]], k: int = 5, *, unknown: str = "error") -> list[list]:
        """Top-k item labels for each basket in ``queries`` (fewer when fewer rules fire)."""
        self._check_fitted()
        k = _check_int("k", k, 1, allow_none=False)
        indptr, codes = self._encode(queries, unknown)
        items, _, _ = self._core.recommend(indptr, codes, k, _n_jobs(self.n_jobs))
        items = np.asarray(items).reshape(-1, k)
        return [[self.labels_[i] for i in row if i >= 0] for row in items]

    def recommend(self, basket: Iterable[Any], k: int = 5, *, unknown: str = "error") -> pd.DataFrame:
        """The top-k items for one basket with the justifying rule: columns item, score,
        antecedents, consequents, confidence, lift."""
        self._check_fitted()
        k = _check_int("k", k, 1, allow_none=False)
        if isinstance(basket, (str, bytes)):
            basket = [basket]
        indptr, codes = self._encode([list(basket)], unknown)
        items, scores, rules = self._core.recommend(indptr, codes, k, _n_jobs(self.n_jobs))
        keep = np.asarray(items) >= 0
        rule_rows = self.rules_.iloc[np.asarray(rules)[keep]].reset_index(drop=True)
        return pd.DataFrame({"item": [self.labels_[i] for i in np.asarray(items)[keep]], "score": np.asarray(scores)[keep],
                             "antecedents": rule_rows["antecedents"], "consequents": rule_rows["consequents"],
                             "confidence": rule_rows["confidence"], "lift": rule_rows["lift"]})

    def evaluate(self, data: Any, *, k: int = 10, customer: str = "customer_id", order: str = "order_id",
                 time: str = "date", item: str = "item") -> dict:
        """Hit rate@k on each customer's held-out last basket.

        For every customer with at least two orders, the last order (by time, then order id) is
        held out; the recommender is fitted on all other orders, queried with the union of the
        customer's earlier items, and scores a hit when one of its k items is in the held-out
        order. Returns ``{'hit_rate', 'hits', 'customers', 'k'}``; the fitted state is that of
        the training split.
        """
        k = _check_int("k", k, 1, allow_none=False)
        if isinstance(data, TransactionLog):
            if data.item is None or data.order is None:
                raise ValueError("data: the TransactionLog needs order and item columns")
            items = data.item if data.item_labels is None else data.item_labels[data.item]
            frame = pd.DataFrame({"c": data.customer, "o": data.order, "t": data.time, "i": items})
        elif isinstance(data, pd.DataFrame):
            for column in (customer, order, time, item):
                if column not in data.columns:
                    raise ValueError(f"data: column {column!r} is missing (columns: {list(data.columns)})")
            frame = pd.DataFrame({"c": data[customer].to_numpy(), "o": data[order].to_numpy(),
                                  "t": data[time].to_numpy(), "i": data[item].to_numpy()})
        else:
            raise TypeError(f"data: expected a DataFrame or TransactionLog, got {type(data).__name__}")
        last = frame.groupby(["c", "o"], sort=False)["t"].max().reset_index().sort_values(["c", "t", "o"])
        n_orders = last.groupby("c")["o"].transform("size")
        held = last[n_orders >= 2].groupby("c").tail(1)
        if held.empty:
            raise ValueError("data: no customer has two or more orders to hold one out")
        is_test = frame.set_index(["c", "o"]).index.isin(pd.MultiIndex.from_frame(held[["c", "o"]]))
        train, test = frame[~is_test], frame[is_test]
        self.fit(train, order="o", item="i")
        history = train[train["c"].isin(held["c"])].groupby("c")["i"].agg(lambda s: list(dict.fromkeys(s)))
        truth = test.groupby("c")["i"].agg(set)
        customers = truth.index.intersection(history.index)
        recs = self.recommend_many([history[c] for c in customers], k, unknown="ignore")
        hits = sum(bool(set(r) & truth[c]) for r, c in zip(recs, customers))
        return {"hit_rate": hits / len(customers) if len(customers) else 0.0, "hits": int(hits),
                "customers": int(len(customers)), "k": k}


def sequential_patterns(data: Any, *, min_support: float = 0.01, max_len: int | None = 3, max_gap: Any = None,
                        customer: str = "customer_id", time: str = "date", item: str = "item",
                        time_unit: str | None = None, max_patterns: int | None = None,
                        n_jobs: int | None = None) -> pd.DataFrame:
    """Sequential patterns "A, then B, then ..." over each customer's time-ordered purchases.

    Each customer's purchases on one day form an event; a pattern's elements lie in strictly
    later events, at most ``max_gap`` days apart (consecutive elements). Support is the share of
    customers whose history holds the pattern (PrefixSpan).

    Returns a DataFrame with ``sequence`` (tuple of item labels), ``support`` and ``count``.
    """
    if isinstance(data, TransactionLog):
        if data.item is None:
            raise ValueError("item: the TransactionLog has no item column")
        cust, t, tpd, items, labels = data.customer, data.time, data.ticks_per_day, data.item, data.item_labels
    elif isinstance(data, pd.DataFrame):
        for key, column in (("customer", customer), ("time", time), ("item", item)):
            if column not in data.columns:
                raise ValueError(f"{key}: column {column!r} is not in the frame (columns: {list(data.columns)})")
        c_codes, _ = _factorize(data[customer].to_numpy(), customer)
        i_codes, labels = _factorize(data[item].to_numpy(), item)
        cust, items = c_codes.astype(np.int64), i_codes.astype(np.int64)
        stamps = data[time]
        if stamps.dtype.kind in "iu":
            t, tpd = np.ascontiguousarray(stamps.to_numpy(), dtype=np.int64), 1
        else:
            t = pd.to_datetime(stamps, format=time_unit).to_numpy().astype("datetime64[ns]").view(np.int64)
            tpd = 86_400_000_000_000
    else:
        raise TypeError(f"data: expected a DataFrame or TransactionLog, got {type(data).__name__}")
    if isinstance(max_gap, pd.Timedelta):
        max_gap = max_gap.days
    gap = _check_int("max_gap", max_gap, 1)
    support = _check_min_support(min_support)
    is_count = isinstance(min_support, (int, np.integer)) and min_support > 1
    length = _check_int("max_len", max_len, 1)
    indptr, codes, count, n_seq, item_ids = _core.rules_sequential_patterns(
        np.ascontiguousarray(cust), np.ascontiguousarray(t), tpd, np.ascontiguousarray(items),
        1.0 if is_count else support, int(min_support) if is_count else 0, length, gap,
        _check_int("max_patterns", max_patterns, 1), _n_jobs(n_jobs))
    lab = np.asarray(item_ids) if labels is None else np.asarray(labels, dtype=object)[item_ids]
    flat = lab[codes].tolist()
    ptr = indptr.tolist()
    seqs = [tuple(flat[ptr[i]:ptr[i + 1]]) for i in range(len(ptr) - 1)]
    frame = pd.DataFrame({"sequence": seqs, "support": count / n_seq, "count": count})
    frame.attrs["n_customers"] = int(n_seq)
    return frame


class AffinityGraph:
    """The product affinity graph: items as vertices, item pairs with lift >= min_lift as edges.

    Attributes
    ----------
    nodes : DataFrame
        One row per item: ``item``, ``component`` (bundle id), ``pagerank`` (lift-weighted),
        ``betweenness`` (normalised) and ``degree``; sorted by pagerank, highest first.
    edges : DataFrame
        ``source``, ``target``, ``lift``, ``support``.
    bundles : list of frozenset
        Connected components (candidate bundles), largest first.
    """

    def __init__(self, graph: Any, labels: np.ndarray) -> None:
        self._graph = graph
        vertex_labels = labels[np.asarray(graph.vertex_item)]
        self._labels = [str(x) for x in vertex_labels]
        src, dst = np.asarray(graph.source), np.asarray(graph.target)
        degree = np.bincount(np.concatenate([src, dst]), minlength=len(vertex_labels))
        self.nodes = pd.DataFrame({"item": vertex_labels, "component": np.asarray(graph.component),
                                   "pagerank": np.asarray(graph.pagerank), "betweenness": np.asarray(graph.betweenness),
                                   "degree": degree}).sort_values(["pagerank", "item"], ascending=[False, True],
                                                                  ignore_index=True)
        self.edges = pd.DataFrame({"source": vertex_labels[src], "target": vertex_labels[dst],
                                   "lift": np.asarray(graph.lift), "support": np.asarray(graph.support)})
        groups = [frozenset(g["item"]) for _, g in self.nodes.groupby("component")]
        self.bundles = sorted(groups, key=lambda g: (-len(g), sorted(map(str, g))))

    def _write(self, text: str, path: str | Path | None) -> str | None:
        if path is None:
            return text
        Path(path).write_text(text)
        return None

    def to_edge_list(self, path: str | Path | None = None) -> str | None:
        """Tab-separated ``source target lift support`` lines; returned, or written to ``path``."""
        return self._write(self._graph.edge_list([str(x) for x in self._labels_by_item()]), path)

    def to_graphml(self, path: str | Path | None = None) -> str | None:
        """GraphML (vertex label/component/pagerank/betweenness, edge lift/support)."""
        return self._write(self._graph.graphml([str(x) for x in self._labels_by_item()]), path)

    def _labels_by_item(self) -> list[str]:
        out = [""] * (int(np.max(np.asarray(self._graph.vertex_item), initial=-1)) + 1)
        for v, it in enumerate(np.asarray(self._graph.vertex_item)):
            out[it] = self._labels[v]
        return out

    def __repr__(self) -> str:
        return f"AffinityGraph({len(self.nodes)} items, {len(self.edges)} edges, {len(self.bundles)} bundles)"


def affinity_graph(itemsets: pd.DataFrame, *, min_lift: float = 1.0, damping: float = 0.85, max_iter: int = 200,
                   tol: float = 1e-12) -> AffinityGraph:
    """The affinity graph of the item pairs in a ``frequent_itemsets`` frame (which must also
    hold the single items): lift = s(ab) / (s(a) s(b)) as edge weight, pairs with lift >=
    ``min_lift`` as edges."""
    if not isinstance(itemsets, pd.DataFrame) or not {"support", "itemsets"} <= set(itemsets.columns):
        raise ValueError("itemsets: expected a DataFrame with 'support' and 'itemsets' columns (from frequent_itemsets)")
    if isinstance(min_lift, bool) or not isinstance(min_lift, (int, float)) or not min_lift > 0:
        raise ValueError(f"min_lift: must be a number > 0, got {min_lift!r}")
    sizes = itemsets["itemsets"].map(len).to_numpy()
    singles = itemsets[sizes == 1]
    pairs = itemsets[sizes == 2]
    single = {next(iter(s)): v for s, v in zip(singles["itemsets"], singles["support"])}
    indptr, codes, labels = _encode_itemsets(pairs["itemsets"])
    a, b = codes[0::2].copy(), codes[1::2].copy()
    try:
        sa = np.array([single[x] for x in labels[a]], dtype=np.float64)
        sb = np.array([single[x] for x in labels[b]], dtype=np.float64)
    except KeyError as exc:
        raise ValueError(f"itemsets: the single item {exc.args[0]!r} is missing; pass all frequent itemsets") from None
    support = np.ascontiguousarray(pairs["support"].to_numpy(), dtype=np.float64)
    lift = support / (sa * sb)
    graph = _core.rules_affinity_graph(a, b, np.ascontiguousarray(lift), support, float(min_lift), float(damping),
                                       int(max_iter), float(tol))
    return AffinityGraph(graph, labels)


def _fmt(items: frozenset) -> str:
    return ", ".join(sorted(map(str, items)))


def cross_sell_section(report: Any, ctx: dict) -> None:
    """The report's cross-sell section: top rules by lift and the bundles of the affinity graph.

    Returns without a section when the log has no item column. Return rows (negative amounts)
    are left out of the baskets.
    """
    log: TransactionLog = ctx["log"]
    if log.item is None:
        return
    keep = log.amount > 0
    if not keep.any():
        return
    by = "order" if log.order is not None else "customer_day"
    indptr, indices, item_ids, keys, _ = _core.rules_make_baskets(
        np.ascontiguousarray(log.customer[keep]), np.ascontiguousarray(log.time[keep]), log.ticks_per_day,
        None if log.order is None else np.ascontiguousarray(log.order[keep]), np.ascontiguousarray(log.item[keep]), by)
    labels = item_ids if log.item_labels is None else log.item_labels[item_ids]
    b = Baskets(indptr, indices, np.asarray(labels, dtype=object), keys)
    multi = int((np.diff(b.indptr) >= 2).sum())
    sec = report.section("Cross-sell", (
        "Products bought together in the same " + ("order" if by == "order" else "customer-day") + ": the strongest "
        "association rules (A -> B: baskets with A also hold B) and bundles of products with high lift between them."))
    if multi < 20:
        sec.note("Too few baskets with two or more products for cross-sell analysis.", kind="warning")
        return
    # The lowest support (down to 20 baskets) that keeps the result small enough to read.
    min_count = max(20, int(0.001 * len(b)))
    itemsets = frequent_itemsets(b, min_support=min_count if min_count > 1 else 2, max_len=3, max_itemsets=2_000_000)
    top = association_rules(itemsets, "lift", 1.0, top_k=15, max_consequent_len=1)
    top = top[top["confidence"] >= 0.05]
    sec.metrics({"Baskets": f"{len(b):,}", "Baskets with 2+ products": f"{multi:,}", "Products": f"{b.n_items:,}",
                 "Frequent itemsets": f"{len(itemsets):,}", "Min. support": f"{itemsets.attrs['min_count']:,} baskets"})
    if top.empty:
        sec.note("No rule with lift above 1 reaches the minimum support.")
        return
    table = pd.DataFrame({"if bought": top["antecedents"].map(_fmt), "then also": top["consequents"].map(_fmt),
                          "support": top["support"], "confidence": top["confidence"], "lift": top["lift"].round(2)})
    sec.table(table, caption="Top rules by lift", percent_columns=("support", "confidence"))
    graph = affinity_graph(itemsets, min_lift=2.0)
    bundles = [bnd for bnd in graph.bundles if len(bnd) >= 2][:10]
    if bundles:
        sec.table(pd.DataFrame({"bundle": [_fmt(bnd) for bnd in bundles], "products": [len(bnd) for bnd in bundles]}),
                  caption="Candidate bundles (connected products with lift >= 2)")
        hubs = graph.nodes.head(10)[["item", "pagerank", "degree"]]
        sec.table(hubs.assign(pagerank=hubs["pagerank"].round(4)), caption="Products that drive cross-sell (PageRank)")
