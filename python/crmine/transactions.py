# SPDX-License-Identifier: Apache-2.0
"""The transaction log: numpy columns checked and converted once for every analysis."""

from __future__ import annotations

import warnings
from typing import Any, Mapping

import numpy as np
import pandas as pd

from . import _core

__all__ = ["TransactionLog", "as_log"]

_NS_PER_DAY = 86_400_000_000_000
_TICKS_PER_DAY = {"D": 1, "s": 86_400, "ms": 86_400_000, "us": 86_400_000_000, "ns": _NS_PER_DAY}
_MISSING_POLICIES = ("drop", "error")


def _as_array(values: Any, name: str) -> np.ndarray:
    if isinstance(values, (pd.Series, pd.Index)):
        return values.to_numpy()
    if values is None:
        raise TypeError(f"{name}: a column is required, got None")
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ValueError(f"{name}: expected a 1-d column, got shape {arr.shape}")
    return arr


def _encode_ids(values: Any, name: str) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """Integer ids as int64 (labels None), or dense codes plus sorted labels for anything else.

    Returns (ids, labels, missing mask); the mask is None when no id can be missing (integer ids),
    which spares a pass over 100M-row columns.
    """
    if isinstance(values, pd.Series) and isinstance(values.dtype, pd.CategoricalDtype):
        values = values.astype(object)
    arr = _as_array(values, name)
    if arr.dtype.kind in "iu":
        if arr.dtype.kind == "u" and arr.size and arr.max() > np.iinfo(np.int64).max:
            raise ValueError(f"{name}: unsigned ids above 2**63-1 are not supported")
        return np.ascontiguousarray(arr, dtype=np.int64), None, None
    if arr.dtype.kind == "f":
        missing = np.isnan(arr)
        finite = arr[~missing]
        if np.any(~np.isfinite(finite)) or np.any(finite != np.round(finite)):
            raise TypeError(f"{name}: float ids must be whole numbers (NaN marks a missing id)")
        ids = np.zeros(arr.size, dtype=np.int64)
        ids[~missing] = finite.astype(np.int64)
        return ids, None, missing
    if arr.dtype.kind in "OUS" or isinstance(getattr(values, "dtype", None), pd.StringDtype):
        codes, labels = pd.factorize(pd.Series(arr, copy=False), sort=True, use_na_sentinel=True)
        missing = codes < 0
        return codes.astype(np.int64, copy=False), np.asarray(labels, dtype=object), missing
    raise TypeError(f"{name}: ids must be integers or strings, got dtype {arr.dtype}")


def _encode_time(values: Any, name: str, time_unit: str | None) -> tuple[np.ndarray, int]:
    arr = _as_array(values, name)
    if arr.dtype.kind == "M":
        if isinstance(values, pd.Series) and isinstance(values.dtype, pd.DatetimeTZDtype):
            values = values.dt.tz_localize(None)  # calendar days are local days
            arr = values.to_numpy()
        ns = arr.astype("datetime64[ns]")
        if np.isnat(ns).any():
            row = int(np.flatnonzero(np.isnat(ns))[0])
            raise ValueError(f"{name}: row {row} is missing (NaT)")
        return ns.view(np.int64), _NS_PER_DAY
    if arr.dtype.kind in "iu":
        if time_unit is None:
            raise ValueError(
                f"{name}: integer times need time_unit= one of {sorted(_TICKS_PER_DAY)} "
                "(e.g. 'D' for day numbers, 's' for Unix seconds)")
        if time_unit not in _TICKS_PER_DAY:
            raise ValueError(f"time_unit: must be one of {sorted(_TICKS_PER_DAY)}, got {time_unit!r}")
        return np.ascontiguousarray(arr, dtype=np.int64), _TICKS_PER_DAY[time_unit]
    if arr.dtype.kind in "OUS":
        series = pd.Series(arr, copy=False)
        if series.isna().any():
            row = int(np.flatnonzero(series.isna().to_numpy())[0])
            raise ValueError(f"{name}: row {row} is missing")
        try:
            parsed = pd.to_datetime(series, errors="raise", format="mixed" if time_unit is None else time_unit)
        except (ValueError, TypeError, OverflowError) as exc:
            bad = pd.to_datetime(series, errors="coerce", format="mixed")
            row = int(np.flatnonzero(bad.isna().to_numpy())[0]) if bad.isna().any() else -1
            where = f"row {row} ({series.iloc[row]!r})" if row >= 0 else "a value"
            raise ValueError(f"{name}: cannot parse {where} as a date") from exc
        return _encode_time(parsed, name, None)
    raise TypeError(f"{name}: times must be datetime64, integers with time_unit, or date strings; got {arr.dtype}")


def _as_float(values: Any, name: str) -> np.ndarray:
    arr = _as_array(values, name)
    if arr.dtype.kind not in "iufb":
        try:
            arr = arr.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"{name}: must be numeric, got dtype {arr.dtype}") from exc
    arr = np.ascontiguousarray(arr, dtype=np.float64)
    row = _core.first_non_finite(arr)
    if row >= 0:
        raise ValueError(f"{name}: row {row} is not finite ({arr[row]})")
    return arr


class TransactionLog:
    """A checked transaction log: one entry per row (order line or payment) in parallel columns.

    Customer ids may be integers (kept as they are) or strings (mapped once to dense codes;
    results come back keyed by the original labels). Times are datetime64, date strings, or
    integers with ``time_unit``. Money is ``amount``, or ``quantity * price``.

    Parameters
    ----------
    customer, time : array-like
        Customer id and timestamp per row. Rows need not be sorted.
    amount : array-like, optional
        Money per row; negative values are returns (see ``returns`` of the analyses).
    quantity, price : array-like, optional
        Used when ``amount`` is not given: amount = quantity * price.
    order, item : array-like, optional
        Order/invoice id (purchase occasions = distinct orders) and product id per row.
    cost : array-like, optional
        Cost of the row, same sign as amount; gives profit.
    time_unit : {'D', 's', 'ms', 'us', 'ns'}, optional
        Unit of integer times; or a strftime format for string dates.
    missing_customer : {'drop', 'error'}, default 'drop'
        Rows without a customer id are dropped with a warning giving their count, or rejected.
    names : mapping, optional
        Column names to use in messages and results (from ``from_frame``).
    """

    def __init__(self, customer: Any, time: Any, amount: Any = None, *, quantity: Any = None, price: Any = None,
                 order: Any = None, item: Any = None, cost: Any = None, time_unit: str | None = None,
                 missing_customer: str = "drop", names: Mapping[str, str] | None = None) -> None:
        names = dict(names or {})
        name = lambda key: names.get(key, key)  # noqa: E731
        if missing_customer not in _MISSING_POLICIES:
            raise ValueError(f"missing_customer: must be one of {_MISSING_POLICIES}, got {missing_customer!r}")
        ids, labels, missing = _encode_ids(customer, name("customer"))
        n = ids.size
        if n == 0:
            raise ValueError(f"{name('customer')}: the transaction log is empty")

        def check_length(arr: np.ndarray, key: str) -> np.ndarray:
            if arr.size != n:
                raise ValueError(f"{name(key)}: has {arr.size} rows but {name('customer')} has {n}")
            return arr

        times, ticks = _encode_time(time, name("time"), time_unit)
        check_length(times, "time")
        if amount is not None:
            money = check_length(_as_float(amount, name("amount")), "amount")
        elif quantity is not None and price is not None:
            q = check_length(_as_float(quantity, name("quantity")), "quantity")
            p = check_length(_as_float(price, name("price")), "price")
            if (p < 0).any():
                row = int(np.flatnonzero(p < 0)[0])
                raise ValueError(f"{name('price')}: row {row} is negative ({p[row]}); returns carry a negative quantity")
            money = q * p
        else:
            raise ValueError("amount: give amount=, or both quantity= and price=")
        self.order_labels = self.item_labels = None
        orders = items = costs = None
        if order is not None:
            orders, self.order_labels, order_missing = _encode_ids(order, name("order"))
            check_length(orders, "order")
            if order_missing is not None and order_missing.any():
                raise ValueError(f"{name('order')}: row {int(np.flatnonzero(order_missing)[0])} has no order id")
        if item is not None:
            items, self.item_labels, item_missing = _encode_ids(item, name("item"))
            check_length(items, "item")
            if item_missing is not None and item_missing.any():
                raise ValueError(f"{name('item')}: row {int(np.flatnonzero(item_missing)[0])} has no item id")
        if cost is not None:
            costs = check_length(_as_float(cost, name("cost")), "cost")

        self.rows_missing_customer = 0 if missing is None else int(missing.sum())
        if self.rows_missing_customer:
            if missing_customer == "error":
                row = int(np.flatnonzero(missing)[0])
                raise ValueError(f"{name('customer')}: row {row} has no customer id "
                                 f"({self.rows_missing_customer} rows in all); pass missing_customer='drop' to skip them")
            warnings.warn(f"{name('customer')}: dropped {self.rows_missing_customer} of {n} rows without a customer id",
                          UserWarning, stacklevel=3)
            keep = ~missing
            ids, times, money = ids[keep], times[keep], money[keep]
            orders = None if orders is None else orders[keep]
            items = None if items is None else items[keep]
            costs = None if costs is None else costs[keep]
            if ids.size == 0:
                raise ValueError(f"{name('customer')}: no row has a customer id")

        self.customer = ids
        self.customer_labels = labels
        self.time = times
        self.ticks_per_day = ticks
        self.amount = money
        self.order = orders
        self.item = items
        self.cost = costs
        self.names = {key: name(key) for key in ("customer", "time", "amount", "order", "item", "cost")}

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, *, customer: str = "customer_id", time: str = "date",
                   amount: str | None = "amount", quantity: str | None = None, price: str | None = None,
                   order: str | None = None, item: str | None = None, cost: str | None = None,
                   time_unit: str | None = None, missing_customer: str = "drop") -> "TransactionLog":
        """Builds a log from DataFrame columns named by the caller (pandas or anything with ``[]``)."""
        if not hasattr(frame, "columns"):
            raise TypeError(f"frame: expected a pandas DataFrame, got {type(frame).__name__}")
        if quantity is not None and price is not None and amount == "amount" and "amount" not in frame.columns:
            amount = None
        chosen = {"customer": customer, "time": time, "amount": amount, "quantity": quantity, "price": price,
                  "order": order, "item": item, "cost": cost}
        for key, column in chosen.items():
            if column is not None and column not in frame.columns:
                raise ValueError(f"{key}: column {column!r} is not in the frame (columns: {list(frame.columns)})")
        col = lambda key: None if chosen[key] is None else frame[chosen[key]]  # noqa: E731
        return cls(col("customer"), col("time"), col("amount"), quantity=col("quantity"), price=col("price"),
                   order=col("order"), item=col("item"), cost=col("cost"), time_unit=time_unit,
                   missing_customer=missing_customer,
                   names={k: v for k, v in chosen.items() if v is not None})

    def __len__(self) -> int:
        return int(self.customer.size)

    @property
    def has_cost(self) -> bool:
        return self.cost is not None

    def customer_index(self, ids: np.ndarray) -> pd.Index:
        """The index of per-customer results: original labels for string ids."""
        values = ids if self.customer_labels is None else self.customer_labels[ids]
        return pd.Index(values, name=self.names["customer"])

    def day_to_timestamp(self, days: np.ndarray) -> np.ndarray:
        """Day numbers as datetime64[ns]."""
        return (np.asarray(days, dtype=np.int64) * _NS_PER_DAY).astype("datetime64[ns]")

    def __repr__(self) -> str:
        return (f"TransactionLog({len(self)} rows, columns={list(k for k, v in self.names.items())}, "
                f"string_ids={self.customer_labels is not None})")


def log_of(data: Any, **columns: Any) -> TransactionLog:
    """A TransactionLog as it is (its column names and policies were fixed when it was built), or one
    built by :func:`as_log` from a DataFrame or mapping and the analysis's column arguments."""
    return data if isinstance(data, TransactionLog) else as_log(data, **columns)


def as_log(data: Any, **columns: Any) -> TransactionLog:
    """A TransactionLog from a log, a DataFrame plus column names, or a mapping of arrays."""
    if isinstance(data, TransactionLog):
        given = {k: v for k, v in columns.items() if v is not None}
        if given:
            raise TypeError(f"column names ({', '.join(given)}) are only for DataFrame input, not a TransactionLog")
        return data
    if isinstance(data, pd.DataFrame):
        return TransactionLog.from_frame(data, **{k: v for k, v in columns.items() if v is not None})
    if isinstance(data, Mapping):
        return TransactionLog.from_frame(pd.DataFrame(dict(data)), **{k: v for k, v in columns.items() if v is not None})
    raise TypeError(f"data: expected a TransactionLog, a pandas DataFrame or a mapping of columns, got {type(data).__name__}")
