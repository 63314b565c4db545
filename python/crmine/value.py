# SPDX-License-Identifier: Apache-2.0
"""Customer value: RFM segmentation, value per customer, contribution (Pareto, Gini, ABC), cohorts."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from . import _core
from .transactions import TransactionLog, log_of

__all__ = ["summarize", "rfm", "rfm_segments", "default_segment_map", "customer_value", "contribution",
           "Contribution", "cohort_retention", "CohortTable"]

_RETURNS = ("net", "drop", "error")


def _n_jobs(n_jobs: int | None) -> int:
    if n_jobs is None:
        return 0
    if not isinstance(n_jobs, (int, np.integer)) or isinstance(n_jobs, bool):
        raise TypeError(f"n_jobs: must be an int or None, got {type(n_jobs).__name__}")
    if n_jobs == 0 or n_jobs < -1:
        raise ValueError(f"n_jobs: must be a positive count, -1 or None (all cores), got {n_jobs}")
    return 0 if n_jobs == -1 else int(n_jobs)


def _check_returns(returns: str) -> str:
    if returns not in _RETURNS:
        raise ValueError(f"returns: must be one of {_RETURNS}, got {returns!r}")
    return returns


def _is_dask(data: Any) -> bool:
    return type(data).__module__.split(".")[0] in ("dask", "dask_expr")


@dataclass(frozen=True)
class _Summary:
    """A C++ CustomerSummary plus what is needed to label its rows."""

    core: Any
    index: pd.Index
    day_to_timestamp: Any


def _summary_frame(core: Any, index: pd.Index) -> pd.DataFrame:
    no_day = _core.CustomerSummary.NO_DAY
    first = np.asarray(core.first_day, dtype=np.int64)
    last = np.asarray(core.last_day, dtype=np.int64)
    to_ts = lambda d: np.where(d == no_day, np.datetime64("NaT"), (d * 86_400_000_000_000).astype("datetime64[ns]"))  # noqa: E731
    frame = pd.DataFrame({
        "first_purchase": to_ts(first),
        "last_purchase": to_ts(last),
        "occasions": np.asarray(core.occasions),
        "rows": np.asarray(core.rows),
        "revenue": np.asarray(core.revenue),
        "returned": np.asarray(core.returned),
    }, index=index)
    if core.has_cost:
        frame["cost"] = np.asarray(core.cost)
        frame["profit"] = frame["revenue"] - frame["cost"]
    frame["first_occasion_revenue"] = np.asarray(core.first_occasion_revenue)
    return frame


def _summarize_log(log: TransactionLog, returns: str, n_jobs: int | None) -> _Summary:
    core = _core.summarize(log.customer, log.time, log.ticks_per_day, log.amount, log.order, log.cost,
                           _check_returns(returns), _n_jobs(n_jobs))
    return _Summary(core, log.customer_index(np.asarray(core.customer)), log.day_to_timestamp)


def _summarize_dask(ddf: Any, columns: Mapping[str, Any], returns: str, n_jobs: int | None,
                    partitioned_by_customer: bool) -> _Summary:
    """Summarises each partition where it lives, then merges the per-customer states.

    Partitions must not share customers for the merge to be exact, so the frame is shuffled by
    customer first unless the caller says it already is partitioned that way.
    """
    import dask

    customer = columns.get("customer") or "customer_id"
    if not partitioned_by_customer:
        ddf = ddf.shuffle(on=customer)
    opts = {k: v for k, v in columns.items() if v is not None}

    def part_summary(frame: pd.DataFrame) -> pd.DataFrame:
        if len(frame) == 0:
            return pd.DataFrame()
        with_customer_column = frame
        log = TransactionLog.from_frame(with_customer_column, **opts)
        s = _summarize_log(log, returns, n_jobs)
        out = pd.DataFrame({
            "first_day": np.asarray(s.core.first_day), "last_day": np.asarray(s.core.last_day),
            "occasions": np.asarray(s.core.occasions), "rows": np.asarray(s.core.rows),
            "revenue": np.asarray(s.core.revenue), "returned": np.asarray(s.core.returned),
            "cost": np.asarray(s.core.cost), "first_occasion_revenue": np.asarray(s.core.first_occasion_revenue),
        }, index=s.index)
        out.attrs = {"min_day": s.core.min_day, "max_day": s.core.max_day, "has_cost": s.core.has_cost,
                     "orders": s.core.occasions_are_orders, "rows_used": s.core.rows_used,
                     "rows_dropped": s.core.rows_dropped}
        return out

    parts = dask.compute(*[dask.delayed(part_summary)(p) for p in ddf.to_delayed()])
    parts = [p for p in parts if len(p)]
    if not parts:
        raise ValueError(f"{customer}: the transaction log is empty")
    frame = pd.concat(parts)
    if frame.index.has_duplicates:
        dup = frame.index[frame.index.duplicated()][0]
        raise ValueError(f"{customer}: customer {dup!r} appears in several partitions; "
                         "pass partitioned_by_customer=False to shuffle by customer first")
    frame = frame.sort_index()
    no_day = _core.CustomerSummary.NO_DAY
    mins = [p.attrs["min_day"] for p in parts if p.attrs["min_day"] != no_day]
    maxs = [p.attrs["max_day"] for p in parts if p.attrs["max_day"] != no_day]
    core = _core.summary_from_arrays(
        np.arange(len(frame), dtype=np.int64), frame["first_day"].to_numpy(np.int32),
        frame["last_day"].to_numpy(np.int32), frame["occasions"].to_numpy(np.int64),
        frame["rows"].to_numpy(np.int64), frame["revenue"].to_numpy(np.float64),
        frame["returned"].to_numpy(np.float64), frame["cost"].to_numpy(np.float64),
        frame["first_occasion_revenue"].to_numpy(np.float64), bool(parts[0].attrs["has_cost"]),
        bool(parts[0].attrs["orders"]), min(mins) if mins else no_day, max(maxs) if maxs else no_day,
        sum(p.attrs["rows_used"] for p in parts), sum(p.attrs["rows_dropped"] for p in parts))
    index = pd.Index(frame.index, name=customer)
    return _Summary(core, index, None)


def _summary_of(data: Any, *, customer: str | None, time: str | None, amount: str | None, order: str | None,
                cost: str | None, quantity: str | None, price: str | None, time_unit: str | None,
                missing_customer: str, returns: str, n_jobs: int | None,
                partitioned_by_customer: bool = False) -> _Summary:
    columns = dict(customer=customer, time=time, amount=amount, order=order, cost=cost, quantity=quantity,
                   price=price, time_unit=time_unit, missing_customer=missing_customer)
    if _is_dask(data):
        return _summarize_dask(data, columns, returns, n_jobs, partitioned_by_customer)
    return _summarize_log(log_of(data, **columns), returns, n_jobs)


_COLUMN_DOC = """
    data : DataFrame, TransactionLog, mapping of arrays, or dask DataFrame
        The transaction log. A dask DataFrame is summarised partition by partition on its cluster
        (shuffled by customer first unless ``partitioned_by_customer``) and merged exactly.
    customer, time, amount, order, cost, quantity, price : str, optional
        Column names for DataFrame input (defaults: 'customer_id', 'date', 'amount').
    time_unit : str, optional
        Unit of integer times ('D', 's', 'ms', 'us', 'ns').
    missing_customer : {'drop', 'error'}, default 'drop'
        Rows without a customer id: dropped with a warning, or rejected.
    returns : {'net', 'drop', 'error'}, default 'net'
        Negative amounts (returns, cancellations): netted against the customer's revenue without
        counting as purchase occasions, ignored, or rejected.
    n_jobs : int, optional
        Threads (None or -1 = all cores). Results do not depend on it."""


def summarize(data: Any, *, customer: str | None = None, time: str | None = None, amount: str | None = None,
              order: str | None = None, cost: str | None = None, quantity: str | None = None,
              price: str | None = None, time_unit: str | None = None, missing_customer: str = "drop",
              returns: str = "net", n_jobs: int | None = None, partitioned_by_customer: bool = False) -> pd.DataFrame:
    """Per-customer aggregates of a transaction log, indexed by customer id.

    Columns: first_purchase, last_purchase (NaT for customers with returns only), occasions
    (distinct orders, or distinct days without orders), rows, revenue (net of returns), returned,
    cost and profit (when cost is given), first_occasion_revenue.
    """
    s = _summary_of(data, customer=customer, time=time, amount=amount, order=order, cost=cost, quantity=quantity,
                    price=price, time_unit=time_unit, missing_customer=missing_customer, returns=returns,
                    n_jobs=n_jobs, partitioned_by_customer=partitioned_by_customer)
    return _summary_frame(s.core, s.index)


summarize.__doc__ += "\n    Parameters\n    ----------" + _COLUMN_DOC + "\n"


def default_segment_map() -> dict[str, dict[str, tuple[int, int]]]:
    """The 11-segment RFM map on 5-level R and F scores, as {name: {'r': (lo, hi), 'f': (lo, hi)}}."""
    return {rule.name: {"r": (rule.r_min, rule.r_max), "f": (rule.f_min, rule.f_max)}
            for rule in _core.default_segment_map()}


def _segment_rules(segment_map: Any, q: int) -> list:
    if segment_map is None:
        return []
    if isinstance(segment_map, str):
        if segment_map != "default":
            raise ValueError(f"segment_map: must be 'default', None or a mapping, got {segment_map!r}")
        return list(_core.default_segment_map())
    if not isinstance(segment_map, Mapping) or not segment_map:
        raise TypeError("segment_map: expected a non-empty mapping {name: {'r': (lo, hi), 'f': (lo, hi), 'm': (lo, hi)}}")
    rules = []
    for name, ranges in segment_map.items():
        if not isinstance(ranges, Mapping) or not set(ranges) <= {"r", "f", "m"}:
            raise ValueError(f"segment_map: entry {name!r} must map some of 'r', 'f', 'm' to (lo, hi) score ranges")
        bounds = []
        for dim in ("r", "f", "m"):
            lo, hi = ranges.get(dim, (1, q))
            bounds += [int(lo), int(hi)]
        rules.append(_core.SegmentRule(str(name), *bounds))
    return rules


def rfm(data: Any, *, customer: str | None = None, time: str | None = None, amount: str | None = None,
        order: str | None = None, cost: str | None = None, quantity: str | None = None, price: str | None = None,
        time_unit: str | None = None, missing_customer: str = "drop", returns: str = "net",
        as_of: Any = None, q: int = 5, monetary: str = "mean", segment_map: Any = "default",
        n_jobs: int | None = None, partitioned_by_customer: bool = False) -> pd.DataFrame:
    """RFM values, scores and segments per customer, indexed by customer id.

    Recency is the number of days from the last purchase to ``as_of`` (default: the day after
    the last row of the log); frequency the number of purchase occasions (distinct orders when
    ``order`` is given, else distinct days); monetary the net revenue per occasion
    (``monetary='mean'``) or in total. Each is scored 1..q as 1 + floor(q * w / n), where w counts
    the customers with a strictly worse value: equal values always share a score, whatever the
    row order. ``segment`` names each customer's cell in the segment map (default: the usual
    11-segment map on R and F; a mapping {name: {'r': (lo, hi), 'f': (lo, hi), 'm': (lo, hi)}}
    replaces it, first match wins, unmatched customers get 'Other'; None skips segments).
    Customers with returns only have no purchase to score and are left out
    (``result.attrs['excluded_without_purchase']``).

    Parameters
    ----------""" + _COLUMN_DOC + """
    as_of : date-like, optional
        The reference date.
    q : int, default 5
        Score levels (2..20).
    monetary : {'mean', 'total'}, default 'mean'
    segment_map : 'default', mapping or None

    Returns
    -------
    DataFrame with recency, frequency, monetary, r_score, f_score, m_score, rfm_code, segment.
    """
    if not isinstance(q, (int, np.integer)) or isinstance(q, bool):
        raise TypeError(f"q: must be an int, got {type(q).__name__}")
    options = _core.RfmOptions()
    options.q = int(q)
    options.monetary = monetary
    options.n_jobs = _n_jobs(n_jobs)
    options.segment_map = _segment_rules(segment_map, int(q))
    if as_of is not None:
        try:
            stamp = pd.Timestamp(as_of)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"as_of: cannot parse {as_of!r} as a date") from exc
        if stamp is pd.NaT:
            raise ValueError("as_of: is missing (NaT)")
        options.as_of_day = int(stamp.normalize().value // 86_400_000_000_000)
    if _is_dask(data):
        s = _summary_of(data, customer=customer, time=time, amount=amount, order=order, cost=cost,
                        quantity=quantity, price=price, time_unit=time_unit, missing_customer=missing_customer,
                        returns=returns, n_jobs=n_jobs, partitioned_by_customer=partitioned_by_customer)
        t = _core.rfm(s.core, options)
        # rfm keeps exactly the customers with a purchase, in summary order.
        index = s.index
        if t["excluded_without_purchase"]:
            index = index[np.flatnonzero(np.asarray(s.core.occasions) > 0)]
    else:
        log = log_of(data, customer=customer, time=time, amount=amount, order=order, cost=cost, quantity=quantity,
                      price=price, time_unit=time_unit, missing_customer=missing_customer)
        # Straight from the log: C++ folds it into RFM states without a summary when it can.
        t = _core.rfm_log(log.customer, log.time, log.ticks_per_day, log.amount, log.order, log.cost,
                          _check_returns(returns), options)
        index = log.customer_index(t["customer"])
    # The columns are fresh arrays owned by this frame: no copy, and no consolidation into blocks
    # (which would copy every column once more: a third of the time for millions of customers).
    frame = pd.DataFrame({
        "recency": t["recency"].astype(np.int64),
        "frequency": t["frequency"],
        "monetary": t["monetary"],
        "r_score": t["r_score"].astype(np.int8),
        "f_score": t["f_score"].astype(np.int8),
        "m_score": t["m_score"].astype(np.int8),
    }, index=index, copy=False)
    frame["rfm_code"] = _rfm_codes(t["r_score"], t["f_score"], t["m_score"], int(q))
    if t["segment_names"]:
        frame["segment"] = pd.Categorical.from_codes(t["segment"].astype(np.int64), categories=t["segment_names"])
    frame["revenue"] = t["revenue"]
    frame.attrs.update(as_of=pd.Timestamp(t["as_of_day"] * 86_400_000_000_000), q=int(q), monetary=monetary,
                       excluded_without_purchase=int(t["excluded_without_purchase"]))
    return frame


def _rfm_codes(r: np.ndarray, f: np.ndarray, m: np.ndarray, q: int) -> pd.Categorical:
    """'545'-style codes ('5-4-5' when q > 9) as a categorical over all q**3 cells: formatting
    q**3 labels once instead of a string per customer keeps millions of customers cheap."""
    sep = "" if q <= 9 else "-"
    levels = np.arange(1, q + 1)
    labels = [f"{a}{sep}{b}{sep}{c}" for a in levels for b in levels for c in levels]
    # int16 holds every cell (q <= 20: at most 8000) at a quarter of int64's memory traffic.
    codes = np.asarray(r, np.int16) * (q * q) + np.asarray(f, np.int16) * q + np.asarray(m, np.int16)
    codes -= q * q + q + 1
    return pd.Categorical.from_codes(codes, categories=labels)


def rfm_segments(table: pd.DataFrame) -> pd.DataFrame:
    """Segment summary of an :func:`rfm` table: customers, share, revenue share, mean R/F/M.

    Every segment of the map is listed, in map order, including empty ones.
    """
    if not isinstance(table, pd.DataFrame) or "segment" not in table.columns:
        raise ValueError("table: expected the result of crmine.value.rfm with segments (segment_map not None)")
    groups = table.groupby("segment", observed=False)
    out = pd.DataFrame({
        "customers": groups.size(),
        "revenue": groups["revenue"].sum(),
        "mean_recency": groups["recency"].mean(),
        "mean_frequency": groups["frequency"].mean(),
        "mean_monetary": groups["monetary"].mean(),
    })
    out.insert(1, "customer_share", out["customers"] / len(table))
    total = table["revenue"].sum()
    out.insert(3, "revenue_share", out["revenue"] / total if total != 0 else np.nan)
    out.index.name = "segment"
    return out


def customer_value(data: Any, *, customer: str | None = None, time: str | None = None, amount: str | None = None,
                   order: str | None = None, cost: str | None = None, quantity: str | None = None,
                   price: str | None = None, time_unit: str | None = None, missing_customer: str = "drop",
                   returns: str = "net", n_jobs: int | None = None) -> pd.DataFrame:
    """Value per customer: revenue (net of returns), returned, cost and profit when cost is given,
    occasions, first and last purchase. Same as :func:`summarize`, sorted by value, highest first."""
    frame = summarize(data, customer=customer, time=time, amount=amount, order=order, cost=cost,
                      quantity=quantity, price=price, time_unit=time_unit, missing_customer=missing_customer,
                      returns=returns, n_jobs=n_jobs)
    key = "profit" if "profit" in frame.columns else "revenue"
    return frame.sort_values(key, ascending=False, kind="stable")


@dataclass(frozen=True)
class Contribution:
    """How value concentrates across customers (see :func:`contribution`)."""

    table: pd.DataFrame            #: per customer: value, rank, cumulative_share, abc
    total: float                   #: total value
    gini: float                    #: Gini coefficient (0 = every customer worth the same)
    top_shares: pd.Series          #: share of value held by the top fraction of customers
    curve: pd.DataFrame            #: Pareto curve: customer_share -> value_share, top customers first
    classes: pd.DataFrame          #: per ABC class: customers, customer share, value, value share
    unprofitable: pd.DataFrame     #: customers with negative value (cost above revenue when value is profit)
    value_name: str = "value"

    def share_of_top(self, fraction: float) -> float:
        """Share of value held by the top ``fraction`` of customers (by value)."""
        if not 0 < fraction <= 1:
            raise ValueError(f"fraction: must be in (0, 1], got {fraction}")
        n = len(self.table)
        m = int(np.ceil(fraction * n - 1e-9))
        ranked = self.table.sort_values("rank")
        return float(ranked["value"].iloc[:m].sum() / self.total)


def contribution(data: Any, *, value: str | None = None, customer: str | None = None, time: str | None = None,
                 amount: str | None = None, order: str | None = None, cost: str | None = None,
                 quantity: str | None = None, price: str | None = None, time_unit: str | None = None,
                 missing_customer: str = "drop", returns: str = "net", a_share: float = 0.80,
                 b_share: float = 0.15, top_fractions: Sequence[float] = (0.01, 0.05, 0.10, 0.20, 0.50),
                 curve_points: int = 101, n_jobs: int | None = None) -> Contribution:
    """Contribution analysis: Pareto curve, share of the top customers, Gini, ABC classes,
    unprofitable customers.

    ``data`` is a transaction log (as for :func:`rfm`; value = profit when cost is given, else
    revenue, unless ``value`` names 'revenue' or 'profit'), or a Series of value per customer.
    Customers are ranked by value, highest first (ties by id); a customer is in class A while the
    customers ranked before it hold less than ``a_share`` of the total, in B while they hold less
    than ``a_share + b_share``, otherwise in C. Gini = sum_i (2i - n - 1) x_(i) / (n sum x) over
    values in ascending order.
    """
    if isinstance(data, pd.Series):
        if value is not None:
            raise TypeError("value: only for transaction-log input; a Series is already the value")
        values = data.astype(np.float64)
        value_name = str(data.name) if data.name is not None else "value"
    else:
        frame = summarize(data, customer=customer, time=time, amount=amount, order=order, cost=cost,
                          quantity=quantity, price=price, time_unit=time_unit, missing_customer=missing_customer,
                          returns=returns, n_jobs=n_jobs)
        value_name = value or ("profit" if "profit" in frame.columns else "revenue")
        if value_name not in ("revenue", "profit"):
            raise ValueError(f"value: must be 'revenue' or 'profit', got {value_name!r}")
        if value_name not in frame.columns:
            raise ValueError("value: 'profit' needs a cost column")
        values = frame[value_name]
    if len(values) == 0:
        raise ValueError("value: no customers")
    if values.index.has_duplicates:
        raise ValueError("value: customer ids must be unique")
    # C++ ranks ties by id; positions stand in for ids so any label type works.
    positions = np.argsort(np.argsort(values.index.to_numpy(), kind="stable"), kind="stable").astype(np.int64) \
        if values.index.is_monotonic_increasing is False else np.arange(len(values), dtype=np.int64)
    c = _core.contribution(positions, np.ascontiguousarray(values.to_numpy(), dtype=np.float64), float(a_share),
                           float(b_share), [float(f) for f in top_fractions], int(curve_points))
    table = pd.DataFrame({
        "value": values.to_numpy(),
        "rank": c["rank"],
        "cumulative_share": c["cumulative_share"],
        "abc": pd.Categorical(np.asarray(c["abc"]).view("S1").astype(str), categories=["A", "B", "C"]),
    }, index=values.index)
    counts = table.groupby("abc", observed=False)["value"].agg(["size", "sum"])
    classes = pd.DataFrame({
        "customers": counts["size"], "customer_share": counts["size"] / len(table),
        "value": counts["sum"], "value_share": counts["sum"] / c["total"],
    })
    classes.index.name = "class"
    unprofitable = table.loc[table["value"] < 0, ["value", "rank"]].sort_values("value")
    return Contribution(
        table=table, total=float(c["total"]), gini=float(c["gini"]),
        top_shares=pd.Series(c["top_shares"], index=pd.Index(c["top_fractions"], name="top_fraction"),
                             name="value_share"),
        curve=pd.DataFrame({"customer_share": c["curve_customer_share"], "value_share": c["curve_value_share"]}),
        classes=classes, unprofitable=unprofitable, value_name=value_name)


@dataclass(frozen=True)
class CohortTable:
    """Cohort x periods-since-acquisition matrices (see :func:`cohort_retention`)."""

    customers: pd.DataFrame   #: customers with a purchase k periods after acquisition
    revenue: pd.DataFrame     #: their net revenue in that period
    sizes: pd.Series          #: customers acquired per cohort
    period: str
    customers_without_purchase: int = 0
    retention: pd.DataFrame = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "retention", self.customers.div(self.sizes.replace(0, np.nan), axis=0))


def cohort_retention(data: Any, *, period: str = "M", customer: str | None = None, time: str | None = None,
                     amount: str | None = None, cost: str | None = None, quantity: str | None = None,
                     price: str | None = None, time_unit: str | None = None, missing_customer: str = "drop",
                     returns: str = "net", n_jobs: int | None = None) -> CohortTable:
    """Acquisition cohorts (period of first purchase) by periods since acquisition.

    ``period`` is 'W' (weeks starting Monday), 'M', 'Q' or 'Y' (or 'D'). Cells beyond the end of
    the log are NaN. ``retention`` = customers / cohort size; column 0 is 1 by construction.
    """
    log = log_of(data, customer=customer, time=time, amount=amount, cost=cost, quantity=quantity, price=price,
                  time_unit=time_unit, missing_customer=missing_customer)
    t = _core.cohort_retention(log.customer, log.time, log.ticks_per_day, log.amount, log.cost, period,
                               _check_returns(returns), _n_jobs(n_jobs))
    n_cohorts, n_offsets = len(t["cohort"]), int(t["n_offsets"])
    labels = _period_labels(t["cohort_start_day"], period)
    offsets = pd.RangeIndex(n_offsets, name="periods_since")
    active = t["active"].reshape(n_cohorts, n_offsets).astype(np.float64)
    revenue = t["revenue"].reshape(n_cohorts, n_offsets).copy()
    # Cells after the log ends were never observable: NaN, not zero.
    observable = (n_offsets - 1 - np.arange(n_cohorts))[:, None] >= np.arange(n_offsets)[None, :]
    active[~observable] = np.nan
    revenue[~observable] = np.nan
    return CohortTable(
        customers=pd.DataFrame(active, index=labels, columns=offsets),
        revenue=pd.DataFrame(revenue, index=labels, columns=offsets),
        sizes=pd.Series(t["size"], index=labels, name="customers"),
        period=period, customers_without_purchase=int(t["customers_without_purchase"]))


def _period_labels(start_days: np.ndarray, period: str) -> pd.Index:
    starts = pd.DatetimeIndex((np.asarray(start_days, dtype=np.int64) * 86_400_000_000_000).astype("datetime64[ns]"))
    freq = {"D": "D", "day": "D", "W": "W-MON", "week": "W-MON", "M": "M", "month": "M", "Q": "Q", "quarter": "Q",
            "Y": "Y", "year": "Y"}.get(period, "D")
    if freq == "W-MON":
        return pd.Index(starts.strftime("%Y-%m-%d"), name="cohort")
    return pd.Index(starts.to_period(freq).astype(str), name="cohort")


def _env_threads() -> int | None:  # pragma: no cover - helper for the CLI
    value = os.environ.get("CRMINE_N_JOBS")
    return int(value) if value else None
