# SPDX-License-Identifier: Apache-2.0
"""The 7P customer profile: one row per customer gathering every fitted model's view.

::

    import crmine as cm
    sample = cm.datasets.load_sample()
    table = cm.profile.seven_p(sample.transactions, category="category", attributes=sample.customers[["region", "age"]])
    table["profitability"]            # one P as a sub-frame
    table[("performance", "spend_trend")]

The seven groups (the first level of the columns) are profile, persistency, profitability,
performance, prospects, product and promotion; see :func:`seven_p` for every column.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from . import _core
from . import clv as _clv
from . import value as _value
from .transactions import TransactionLog, log_of

__all__ = ["seven_p", "spend_trend", "GROUPS", "profile_section"]

#: The seven Ps, in column order.
GROUPS = ("profile", "persistency", "profitability", "performance", "prospects", "product", "promotion")

_PERIOD_CODES = {"D": 0, "W": 1, "M": 2, "Q": 3, "Y": 4}
_NS_PER_DAY = 86_400_000_000_000


def _n_jobs(n_jobs: int | None) -> int:
    if n_jobs is None or n_jobs == -1:
        return 0
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, (int, np.integer)) or n_jobs < 1:
        raise ValueError(f"n_jobs: must be a positive int, -1 or None, got {n_jobs!r}")
    return int(n_jobs)


def _day(value: Any, name: str) -> int | None:
    if value is None:
        return None
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name}: cannot parse {value!r} as a date") from exc
    if stamp is pd.NaT:
        raise ValueError(f"{name}: is missing (NaT)")
    if stamp.tzinfo is not None:
        stamp = stamp.tz_localize(None)
    return int(stamp.normalize().value // _NS_PER_DAY)


def spend_trend(data: Any, *, period: str = "M", as_of: Any = None, customer: str | None = None,
                time: str | None = None, amount: str | None = None, quantity: str | None = None,
                price: str | None = None, time_unit: str | None = None, missing_customer: str = "drop",
                returns: str = "net", n_jobs: int | None = None) -> pd.DataFrame:
    """The trend of each customer's net spend per calendar period, indexed by customer.

    Each customer's series runs from the period of their first purchase to the period of ``as_of``
    (default: the last day of the log), periods without purchases counting as 0; ``slope`` is its
    least-squares slope (money per period, per period), ``relative_slope`` the slope divided by the
    mean spend per period (e.g. -0.1 = spend falling by 10% of the usual amount each period).
    Both are NaN for customers observed for one period only. Customers with returns only are
    left out.

    Columns: ``periods``, ``mean_spend``, ``slope``, ``relative_slope``, ``last_period_spend``.
    ``period`` is 'D', 'W' (ISO weeks), 'M', 'Q' or 'Y'.
    """
    if period not in _PERIOD_CODES:
        raise ValueError(f"period: must be one of {sorted(_PERIOD_CODES)}, got {period!r}")
    log = log_of(
        data, customer=customer, time=time, amount=amount, quantity=quantity, price=price, time_unit=time_unit,
        missing_customer=missing_customer)
    t = _core.spend_trend(log.customer, log.time, log.ticks_per_day, log.amount, _PERIOD_CODES[period],
                          _value._check_returns(returns), _day(as_of, "as_of"), _n_jobs(n_jobs))
    frame = pd.DataFrame({k: t[k] for k in ("periods", "mean_spend", "slope", "relative_slope", "last_period_spend")},
                         index=log.customer_index(t["customer"]))
    frame.attrs.update(as_of=pd.Timestamp(int(t["as_of_day"]) * _NS_PER_DAY), period=period,
                       excluded_without_purchase=int(t["excluded_without_purchase"]))
    return frame


def _keyed(values: Any, index: pd.Index, name: str) -> pd.Series:
    """A per-customer Series aligned to the profile's customers (NaN where a customer is absent)."""
    if isinstance(values, tuple):
        if len(values) != 2 or not isinstance(values[1], pd.DataFrame):
            raise TypeError(f"{name}: expected a Series keyed by customer, or (fitted model, features DataFrame "
                            "indexed by customer)")
        model, X = values
        if hasattr(model, "predict_proba"):
            proba = np.asarray(model.predict_proba(X))
            scores = proba[:, -1] if proba.ndim == 2 else proba
        elif hasattr(model, "predict"):
            scores = np.asarray(model.predict(X), dtype=np.float64)
        else:
            raise TypeError(f"{name}: the model has neither predict_proba nor predict")
        values = pd.Series(np.asarray(scores, dtype=np.float64).reshape(-1), index=X.index)
    if isinstance(values, pd.DataFrame):
        if values.shape[1] != 1:
            raise ValueError(f"{name}: a DataFrame must have one column, got {values.shape[1]}")
        values = values.iloc[:, 0]
    if not isinstance(values, pd.Series):
        arr = np.asarray(values)
        if arr.ndim != 1 or arr.size != len(index):
            raise ValueError(f"{name}: an array must have one value per customer of the profile ({len(index)}, in "
                             f"profile order), got shape {arr.shape}; pass a Series keyed by customer instead")
        return pd.Series(arr, index=index)
    if values.index.has_duplicates:
        raise ValueError(f"{name}: customer ids in the index must be unique")
    common = values.index.intersection(index)
    if len(common) == 0:
        raise ValueError(f"{name}: no customer id in common with the transaction log "
                         f"(e.g. {values.index[0]!r} vs {index[0]!r})")
    return values.reindex(index)


def _category_mix(frame: pd.DataFrame, customer: str, category: str, amount_of: np.ndarray, index: pd.Index,
                  top: int) -> pd.DataFrame:
    """Spend share per category for each customer (top categories by total spend, the rest as 'other')."""
    cats = frame[category]
    if cats.isna().all():
        raise ValueError(f"category: column {category!r} has no value")
    buys = pd.DataFrame({"customer": frame[customer].to_numpy(), "category": cats.astype(str).where(cats.notna()),
                         "amount": amount_of})
    buys = buys[(buys["amount"] > 0) & buys["customer"].notna() & buys["category"].notna()]
    spend = buys.groupby(["customer", "category"], sort=False)["amount"].sum().unstack(fill_value=0.0)
    totals = spend.sum(axis=0).sort_values(ascending=False, kind="stable")
    keep = list(totals.index[:top])
    mix = spend[keep].copy()
    if len(totals) > top:
        mix["other"] = spend.drop(columns=keep).sum(axis=1)
    shares = mix.div(mix.sum(axis=1), axis=0)
    out = pd.DataFrame(index=index)
    out["n_categories"] = (spend > 0).sum(axis=1).reindex(index).fillna(0).astype(np.int64)
    out["top_category"] = spend.idxmax(axis=1).reindex(index)
    for c in shares.columns:
        out[f"share_{c}"] = shares[c].reindex(index).fillna(0.0)
    return out


def _cross_sell(recommender: Any, frame: pd.DataFrame, customer: str, item: str, index: pd.Index,
                n_jobs: int) -> pd.DataFrame:
    """Best next product per customer from a fitted rules.Recommender, with its rule score."""
    if not hasattr(recommender, "_core") or not hasattr(recommender, "labels_"):
        raise ValueError("recommender: fit the crmine.rules.Recommender before profiling")
    codes = pd.Index(recommender.labels_).get_indexer(frame[item])
    owners = index.get_indexer(frame[customer])
    keep = (codes >= 0) & (owners >= 0)
    pairs = np.unique(np.stack([owners[keep], codes[keep]]).astype(np.int64), axis=1)
    indptr = np.searchsorted(pairs[0], np.arange(len(index) + 1)).astype(np.int64)
    items, scores, _ = recommender._core.recommend(indptr, np.ascontiguousarray(pairs[1], dtype=np.int32), 1, n_jobs)
    items = np.asarray(items).reshape(-1)
    labels = np.asarray(recommender.labels_, dtype=object)
    return pd.DataFrame({
        "cross_sell_item": np.where(items >= 0, labels[np.maximum(items, 0)], None),
        "cross_sell_score": np.where(items >= 0, np.asarray(scores, dtype=np.float64).reshape(-1), np.nan),
    }, index=index)


def seven_p(data: Any, *, customer: str | None = None, time: str | None = None, amount: str | None = None,
            order: str | None = None, cost: str | None = None, quantity: str | None = None,
            price: str | None = None, item: str | None = None, category: str | None = None,
            time_unit: str | None = None, attributes: pd.DataFrame | None = None, segments: Any = None,
            clv_model: Any = None, spend_model: Any = None, fit_clv: bool = False, freq: str = "W",
            horizon_months: int = 12, discount_rate: float = 0.01, response: Any = None, uplift: Any = None,
            recommender: Any = None, cross_sell: Any = None, period: str = "M", as_of: Any = None,
            top_categories: int = 8, flat: bool = False, missing_customer: str = "drop", returns: str = "net",
            n_jobs: int | None = None) -> pd.DataFrame:
    """One row per customer (with at least one purchase) and one column group per P.

    Columns are a two-level MultiIndex ``(group, field)`` so that ``table["profitability"]`` is
    that P's sub-frame; ``flat=True`` joins them into ``"group__field"`` names for export.
    Everything that can be derived from the log is; what needs a fitted model or external scores
    appears only when given, and ``table.attrs["omitted"]`` maps each left-out field to the reason.

    =============  ==========================================================================
    group          fields
    =============  ==========================================================================
    profile        the ``attributes`` columns; ``segment`` (``segments`` if given, else the
                   RFM segment); ``first_purchase``; ``tenure_days`` (first purchase to as-of)
    persistency    ``recency_days``, ``frequency`` (purchase occasions), ``p_alive`` (needs a
                   CLV model)
    profitability  ``revenue`` (net of returns), ``profit`` (with cost), ``monetary`` (net
                   revenue per occasion), ``value_class`` (ABC: A = top customers holding 80%
                   of value), ``clv`` (needs a CLV model and a Gamma-Gamma spend model)
    performance    ``spend_trend`` (slope of net spend per ``period``), ``spend_trend_relative``
                   (slope / mean spend per period), ``mean_period_spend``, ``last_period_spend``
    prospects      ``expected_purchases`` in the next ``horizon_months`` (needs a CLV model)
    product        ``n_categories``, ``top_category``, ``share_<category>`` of spend (needs
                   ``category``); ``cross_sell_item``, ``cross_sell_score`` (needs a fitted
                   ``recommender`` and ``item``, or ``cross_sell`` scores)
    promotion      ``response_score`` and ``uplift_score`` (need ``response`` / ``uplift``)
    =============  ==========================================================================

    Parameters
    ----------
    data : DataFrame or TransactionLog
        The transaction log (``category``, ``item`` and the recommender need a DataFrame).
    customer, time, amount, order, cost, quantity, price, item, time_unit
        Columns, as for :func:`crmine.value.rfm`.
    category : str, optional
        Product category column, for the category mix.
    attributes : DataFrame, optional
        Profile attributes indexed by customer id (age, region, ...).
    segments : Series, optional
        Segment label per customer id; replaces the RFM segment.
    clv_model : fitted crmine.clv transaction model (BetaGeo, ParetoNBD, ...), optional
        Gives ``p_alive`` and ``expected_purchases``. It must have been fitted on
        :func:`crmine.clv.summary` of this log with the same columns (with ``order`` the
        occasions are orders, without it days) in units of ``freq``.
    spend_model : fitted crmine.clv.GammaGamma, optional
        With ``clv_model``, gives ``clv`` over ``horizon_months`` at ``discount_rate`` per month.
    fit_clv : bool, default False
        Fit BG/NBD (and Gamma-Gamma on repeat customers) on this log when no model is given.
    freq : {'W', 'D'}, default 'W'
        Time unit of the CLV models.
    response, uplift : Series keyed by customer, or (fitted model, features indexed by customer)
        Response propensity (``predict_proba``'s last column) and uplift scores (``predict``).
    recommender : fitted crmine.rules.Recommender, optional
        Scores every customer's purchased items (``item`` column) for the best next product.
    cross_sell : Series keyed by customer, optional
        Cross-sell propensity from elsewhere (used when no recommender is given).
    period : {'D', 'W', 'M', 'Q', 'Y'}, default 'M'
        Period of the spend trend.
    as_of : date-like, optional
        Reference date for recency, tenure and the trend (default: the end of the log).
    top_categories : int, default 8
        Category shares kept; the others are summed in ``share_other``.
    flat : bool, default False
        Single-level ``group__field`` column names instead of the MultiIndex.
    """
    if not isinstance(fit_clv, bool):
        raise TypeError(f"fit_clv: must be a bool, got {type(fit_clv).__name__}")
    if isinstance(top_categories, bool) or not isinstance(top_categories, (int, np.integer)) or top_categories < 1:
        raise ValueError(f"top_categories: must be a positive int, got {top_categories!r}")
    if isinstance(horizon_months, bool) or not isinstance(horizon_months, (int, np.integer)) or horizon_months < 1:
        raise ValueError(f"horizon_months: must be a whole number of months >= 1, got {horizon_months!r}")
    if freq not in ("W", "D"):
        raise ValueError(f"freq: must be 'W' or 'D', got {freq!r}")
    if (category is not None or recommender is not None) and not isinstance(data, pd.DataFrame):
        raise TypeError("data: category= and recommender= read columns of a DataFrame log; pass the DataFrame")
    if recommender is not None and item is None:
        raise ValueError("item: the recommender scores each customer's items; name the item column")
    jobs = _n_jobs(n_jobs)
    log = log_of(
        data, customer=customer, time=time, amount=amount, order=order, cost=cost, quantity=quantity, price=price,
        item=item, time_unit=time_unit, missing_customer=missing_customer)
    omitted: dict[str, str] = {}
    groups: dict[str, pd.DataFrame] = {}

    rfm = _value.rfm(log, returns=returns, as_of=as_of, n_jobs=n_jobs)
    index = rfm.index
    summary = _value.summarize(log, returns=returns, n_jobs=n_jobs).reindex(index)
    as_of_stamp = rfm.attrs["as_of"]

    profile = pd.DataFrame(index=index)
    if attributes is not None:
        if not isinstance(attributes, pd.DataFrame):
            raise TypeError(f"attributes: expected a DataFrame indexed by customer id, got {type(attributes).__name__}")
        if attributes.index.has_duplicates:
            raise ValueError("attributes: customer ids in the index must be unique")
        if len(attributes.index.intersection(index)) == 0:
            raise ValueError("attributes: no customer id in common with the transaction log")
        profile = attributes.reindex(index)
    if segments is not None:
        profile["segment"] = _keyed(segments, index, "segments")
    elif "segment" in rfm.columns:
        profile["segment"] = rfm["segment"]
    profile["first_purchase"] = summary["first_purchase"]
    profile["tenure_days"] = (as_of_stamp - summary["first_purchase"]).dt.days
    groups["profile"] = profile

    persistency = pd.DataFrame({"recency_days": rfm["recency"], "frequency": rfm["frequency"]}, index=index)
    profitability = pd.DataFrame({"revenue": summary["revenue"]}, index=index)
    if "profit" in summary.columns:
        profitability["profit"] = summary["profit"]
    else:
        omitted["profitability.profit"] = "the log has no cost column"
    profitability["monetary"] = rfm["monetary"]
    value = profitability["profit"] if "profit" in profitability.columns else profitability["revenue"]
    profitability["value_class"] = _value.contribution(value.rename("value")).table["abc"].reindex(index)

    prospects = pd.DataFrame(index=index)
    model, spend = clv_model, spend_model
    if model is None and fit_clv:
        data_clv = _clv.summary(log, freq=freq, returns=returns, n_jobs=n_jobs)
        model = _clv.BetaGeo(n_jobs=n_jobs).fit(data_clv["frequency"], data_clv["recency"], data_clv["T"])
        repeat = data_clv[(data_clv["frequency"] > 0) & (data_clv["monetary_value"] > 0)]
        if spend is None and len(repeat) >= 10:
            spend = _clv.GammaGamma(n_jobs=n_jobs).fit(repeat["frequency"], repeat["monetary_value"])
    if model is not None:
        data_clv = _clv.summary(log, freq=freq, observation_end=None, returns=returns, n_jobs=n_jobs)
        data_clv = data_clv.reindex(index)
        f, r, T = data_clv["frequency"], data_clv["recency"], data_clv["T"]
        persistency["p_alive"] = model.conditional_probability_alive(f, r, T)
        periods = horizon_months * (4.345 if freq == "W" else 30.0)
        prospects["expected_purchases"] = model.conditional_expected_number_of_purchases_up_to_time(periods, f, r, T)
        if spend is not None:
            # Gamma-Gamma scores positive repeat spend only; returns can push a customer's net
            # repeat spend to zero or below, and such customers get no CLV rather than an error.
            m = data_clv["monetary_value"]
            ok = (f == 0) | (m > 0)
            clv = pd.Series(np.nan, index=index)
            if ok.any():
                clv[ok] = np.asarray(spend.customer_lifetime_value(model, f[ok], r[ok], T[ok], m[ok],
                                                                   time=int(horizon_months),
                                                                   discount_rate=discount_rate, freq=freq))
            profitability["clv"] = clv
        else:
            omitted["profitability.clv"] = "needs spend_model= (a fitted crmine.clv.GammaGamma) besides clv_model"
    else:
        reason = "needs clv_model= (a fitted crmine.clv model) or fit_clv=True"
        omitted.update({"persistency.p_alive": reason, "prospects.expected_purchases": reason,
                        "profitability.clv": reason})
    groups["persistency"] = persistency
    groups["profitability"] = profitability

    trend = spend_trend(log, period=period, as_of=None if as_of is None else as_of, returns=returns,
                        n_jobs=n_jobs).reindex(index)
    groups["performance"] = pd.DataFrame({
        "spend_trend": trend["slope"], "spend_trend_relative": trend["relative_slope"],
        "mean_period_spend": trend["mean_spend"], "last_period_spend": trend["last_period_spend"]}, index=index)
    groups["prospects"] = prospects

    product = pd.DataFrame(index=index)
    if category is not None:
        if category not in data.columns:
            raise ValueError(f"category: column {category!r} is not in the frame (columns: {list(data.columns)})")
        cust_col = log.names["customer"]
        product = _category_mix(_rows_kept(data, log, cust_col), cust_col, category, log.amount, index, top_categories)
    else:
        omitted["product.category_mix"] = "needs category= (the product category column)"
    if recommender is not None:
        cust_col = log.names["customer"]
        product = product.join(_cross_sell(recommender, _rows_kept(data, log, cust_col), cust_col, item, index, jobs))
    elif cross_sell is not None:
        product["cross_sell_score"] = _keyed(cross_sell, index, "cross_sell")
    else:
        omitted["product.cross_sell_score"] = "needs recommender= (a fitted crmine.rules.Recommender) or cross_sell="
    groups["product"] = product

    promotion = pd.DataFrame(index=index)
    for name, given, column in (("response", response, "response_score"), ("uplift", uplift, "uplift_score")):
        if given is not None:
            promotion[column] = _keyed(given, index, name)
        else:
            omitted[f"promotion.{column}"] = f"needs {name}= (scores keyed by customer, or (model, features))"
    groups["promotion"] = promotion

    table = pd.concat({g: groups[g] for g in GROUPS}, axis=1)
    table.columns = table.columns.set_names(["group", "field"])
    if flat:
        table.columns = [f"{g}__{f}" for g, f in table.columns]
    table.attrs.update(as_of=as_of_stamp, period=period, omitted=omitted,
                       excluded_without_purchase=int(rfm.attrs["excluded_without_purchase"]))
    return table


def _rows_kept(frame: pd.DataFrame, log: TransactionLog, customer: str) -> pd.DataFrame:
    """The frame's rows that the log kept (rows without a customer id are dropped from both)."""
    if log.rows_missing_customer:
        return frame[frame[customer].notna()]
    return frame


# ----------------------------------------------------------------------------- report section

def profile_section(report: Any, ctx: dict) -> None:
    """``crmine report`` section: the 7P profile from what the report has already fitted (the
    lifetime-value models of its CLV section, the uplift of its campaign section), summarised by
    RFM segment, with the most valuable customers' rows."""
    frame = ctx.get("frame")
    category = "category" if isinstance(frame, pd.DataFrame) and "category" in frame.columns else None
    table = seven_p(frame if category is not None else ctx["log"], category=category, as_of=ctx.get("as_of"),
                    clv_model=ctx.get("clv_model"), spend_model=ctx.get("spend_model"),
                    uplift=ctx.get("uplift_scores"), customer=ctx["columns"]["customer"] if category else None,
                    time=ctx["columns"]["time"] if category else None, **_amount_columns(ctx, category))
    sec = report.section("7P customer profile", (
        "One row per customer gathering every model's view: profile (segment, tenure), persistency (recency, "
        "frequency, probability of being active), profitability (revenue, profit, value class, lifetime value), "
        "performance (trend of spend per month), prospects (expected purchases in 12 months), product (category "
        "mix) and promotion (predicted uplift of the campaign). Fields come from the models fitted in the sections "
        "above; those that need a model the report did not fit are listed at the end."))
    flat = table.copy()
    flat.columns = [f"{g}: {f}" for g, f in table.columns]
    sec.metrics({"Customers profiled": f"{len(table):,}", "Fields": f"{table.shape[1]}",
                 "Groups filled": ", ".join(g for g in GROUPS if g in table.columns.get_level_values(0))})
    numeric = flat.select_dtypes("number")
    segment = table[("profile", "segment")] if ("profile", "segment") in table.columns else None
    if segment is not None:
        keep = [c for c in numeric.columns if not c.startswith("product: share_")]
        by = numeric[keep].groupby(segment.astype(str).to_numpy()).mean()
        by.insert(0, "customers", segment.astype(str).value_counts().reindex(by.index).to_numpy())
        sec.table(by.sort_values("customers", ascending=False), caption="Average profile by RFM segment",
                  float_format="{:,.2f}", max_rows=20)
    value = ("profitability", "clv") if ("profitability", "clv") in table.columns else ("profitability", "revenue")
    top = flat.loc[table[value].sort_values(ascending=False, kind="stable").index[:20]]
    sec.table(top, caption=f"The 20 customers with the highest {value[1]}", float_format="{:,.2f}", max_rows=20)
    omitted = table.attrs.get("omitted") or {}
    if omitted:
        sec.note("Left out: " + "; ".join(f"{k} ({v})" for k, v in omitted.items()) + ".")


def _amount_columns(ctx: dict, category: str | None) -> dict:
    """The amount / cost / order columns of the report's log, when the profile reads its frame."""
    if category is None:
        return {}
    cols = ctx["columns"]
    return {k: cols.get(k) for k in ("amount", "cost", "order", "quantity", "price") if cols.get(k)}
