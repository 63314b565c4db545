# SPDX-License-Identifier: Apache-2.0
"""Deviations from a customer's own history and peers, churn early warning, explanations.

``history_deviations`` compares each customer's current period with their own rolling baseline
(spend per period, returns, basket value, purchase gap); ``peer_deviations`` compares a feature
table with each customer's segment; ``churn_alerts`` flags customers whose current purchase gap
is far beyond their usual one or whose P(alive) has dropped, ranked by the value at risk;
``explain`` says which features drive an alert, with the customer's value and the reference; and
``precision_at_k``, ``recall_at_k`` and ``evaluate_alerts`` judge alerts against known labels.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
import pandas as pd

from .. import _core
from ..clv import _day_number
from ..transactions import TransactionLog, as_log
from ..value import _n_jobs

__all__ = ["history_deviations", "peer_deviations", "churn_alerts", "explain", "precision_at_k", "recall_at_k",
           "evaluate_alerts", "deviations_section", "HISTORY_FEATURES"]

_NS_PER_DAY = 86_400_000_000_000

#: The history measures: name -> (what it is, which departures count). "both": a rise or a drop
#: is a deviation; "up": only a rise (more returns, a longer silence).
HISTORY_FEATURES: dict[str, tuple[str, str]] = {
    "spend": ("purchases per period", "both"),
    "basket": ("spend per purchase occasion", "both"),
    "returns": ("returned amount per period", "up"),
    "gap": ("days between purchases", "up"),
}
# The gap explains alerts but does not score them: a silence is churn_alerts' business, which
# can tell a fresh silence from a customer lost a year ago.
_SCORED = ("spend", "basket", "returns")


# --------------------------------------------------------------------------- argument checks

def _int(value: Any, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (numbers.Integral, np.integer)):
        raise TypeError(f"{name}: must be an int, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name}: must be >= {minimum}, got {value}")
    return int(value)


def _real(value: Any, name: str, low: float, high: float = np.inf, *, open_low: bool = True,
          open_high: bool = True) -> float:
    if isinstance(value, bool) or not isinstance(value, (numbers.Real, np.floating, np.integer)):
        raise TypeError(f"{name}: must be a number, got {type(value).__name__}")
    v = float(value)
    above = v > low if open_low else v >= low
    below = v < high if open_high else v <= high
    if not (np.isfinite(v) and above and below):
        lo, hi = "(" if open_low else "[", ")" if open_high else "]"
        raise ValueError(f"{name}: must lie in {lo}{low}, {high}{hi}, got {value!r}")
    return v


def _period_days(period: Any) -> int:
    """A period as whole days: an int, or a Timedelta-like string such as '30D' or '4W'."""
    if isinstance(period, (numbers.Integral, np.integer)) and not isinstance(period, bool):
        return _int(period, "period", 1)
    try:
        delta = pd.Timedelta(period)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"period: must be a number of days or a duration such as '30D' or '4W', got {period!r}") from exc
    if pd.isna(delta) or delta.value % _NS_PER_DAY or delta.value <= 0:
        raise ValueError(f"period: must be a positive whole number of days, got {period!r}")
    return int(delta.value // _NS_PER_DAY)


def _log_of(data: Any, columns: dict[str, Any]) -> TransactionLog:
    if isinstance(data, TransactionLog):
        return as_log(data, **{k: v for k, v in columns.items() if k != "missing_customer"})
    return as_log(data, **columns)


def _day_to_timestamp(days: np.ndarray) -> np.ndarray:
    return (np.asarray(days, dtype=np.int64) * _NS_PER_DAY).astype("datetime64[ns]")


# --------------------------------------------------------------------------- history baselines

def _history_core(log: TransactionLog, *, period: Any, window: Any, as_of: Any, prior_weight: Any, prior_cv: Any,
                  n_jobs: Any) -> tuple[Any, pd.DataFrame]:
    options = _core.HistoryOptions()
    options.period_days = _period_days(period)
    options.window = _int(window, "window", 1)
    options.prior_weight = _real(prior_weight, "prior_weight", 0.0, open_low=False)
    options.prior_cv = _real(prior_cv, "prior_cv", 0.0)
    options.n_jobs = _n_jobs(n_jobs)
    day = _day_number(as_of, "as_of")
    if day is not None:
        if not -(2**31) < day < 2**31:
            raise ValueError(f"as_of: {as_of!r} is out of range")
        options.as_of_day = day
    core = _core.history_baselines(log.customer, log.time, log.ticks_per_day, log.amount, options)
    cols = core.columns()
    index = log.customer_index(np.asarray(cols.pop("customer")))
    first = cols.pop("first_day")
    last = cols.pop("last_day")
    frame = pd.DataFrame({"first_purchase": _day_to_timestamp(first), "last_purchase": _day_to_timestamp(last),
                          **{k: np.asarray(v) for k, v in cols.items()}}, index=index)
    return core, frame


def _history_components(frame: pd.DataFrame, names: Any = tuple(HISTORY_FEATURES)) -> pd.DataFrame:
    """Each history measure's departure as it counts: |z|, or z above 0 for one-sided ones."""
    parts = {}
    for name in names:
        side = HISTORY_FEATURES[name][1]
        z = frame[f"{name}_z"].to_numpy(dtype=np.float64)
        parts[name] = np.abs(z) if side == "both" else np.maximum(z, 0.0)
    return pd.DataFrame(parts, index=frame.index)


def history_deviations(data: Any, *, period: Any = 30, window: int = 12, as_of: Any = None,
                       prior_weight: float = 2.0, prior_cv: float = 1.0, customer: str | None = None,
                       time: str | None = None, amount: str | None = None, quantity: str | None = None,
                       price: str | None = None, time_unit: str | None = None, missing_customer: str = "drop",
                       n_jobs: int | None = None) -> pd.DataFrame:
    """Each customer's current period against their own rolling baseline, most deviant first.

    Periods are counted back from ``as_of``: the current period is the ``period`` days before it,
    the baseline the ``window`` periods before that (from the customer's first purchase on). For
    spend per period, returned amount per period and basket value (spend per purchase day) the
    result holds the baseline ``<m>_mean``, its ``<m>_spread``, the ``<m>_current`` value and the
    departure ``<m>_z``; for the purchase gap the usual gap over the customer's whole history
    (``gap_mean``, ``gap_spread``, ``gap_n`` gaps), the days since the last purchase
    (``gap_current``), ``gap_ratio`` and ``gap_z``. Spreads are shrunk towards ``prior_cv`` times
    the customer's mean with ``prior_weight`` pseudo-observations, so a short or very regular
    history does not make every change look infinitely surprising. ``return_rate_baseline`` and
    ``return_rate_current`` give returns as a share of purchases.

    ``deviation_score`` is the largest of |spend_z|, |basket_z| and the positive part of
    returns_z (more returns are the deviation that matters), and ``driver`` names the measure
    that gave it. Rows are sorted by ``deviation_score``, highest first; customers without any
    baseline score 0. The gap is reported but does not score: long silences are the business of
    :func:`churn_alerts`, which tells a fresh silence from a customer lost a year ago.

    Parameters
    ----------
    data : TransactionLog, DataFrame or mapping of columns
        The transaction log; negative amounts are returns.
    period : int or str, default 30
        Length of a period in days, or a duration such as '4W'.
    window : int, default 12
        Baseline periods before the current one.
    as_of : date-like or int, optional
        First day not observed (day number for integer-day logs). Default: the day after the last row.
    prior_weight : float, default 2.0
        Pseudo-observations of the prior spread, >= 0.
    prior_cv : float, default 1.0
        Coefficient of variation of the prior spread, > 0.
    customer, time, amount, quantity, price, time_unit, missing_customer
        Column names and options for DataFrame input, as in :class:`crmine.TransactionLog`.
    n_jobs : int, optional
        Threads (None or -1 = all cores); results do not depend on it.
    """
    log = _log_of(data, dict(customer=customer, time=time, amount=amount, quantity=quantity, price=price,
                             time_unit=time_unit, missing_customer=missing_customer))
    core, frame = _history_core(log, period=period, window=window, as_of=as_of, prior_weight=prior_weight,
                                prior_cv=prior_cv, n_jobs=n_jobs)
    parts = _history_components(frame, _SCORED)
    filled = parts.fillna(-1.0).to_numpy()
    best = filled.argmax(axis=1)
    score = filled[np.arange(len(filled)), best]
    frame["deviation_score"] = np.maximum(score, 0.0)
    frame["driver"] = np.where(score > 0, np.array(_SCORED, dtype=object)[best], None)
    frame = frame.sort_values("deviation_score", ascending=False, kind="stable")
    frame.attrs.update(as_of=pd.Timestamp(core.as_of_day * _NS_PER_DAY), period_days=core.period_days,
                       window=core.window, rows_used=core.rows_used, rows_after=core.rows_after)
    return frame


# --------------------------------------------------------------------------- peer groups

_Q3 = 0.6744897501960817  # the standard normal's upper quartile: MAD / _Q3 estimates sigma


def _robust_scale(values: pd.DataFrame, groups: Any = None, *, min_peers: int = 2) -> tuple[pd.DataFrame, ...]:
    """Median and robust spread per column (per group when given), each row getting its group's:
    1.4826 MAD, else IQR / 1.349, else 1.2533 x mean absolute deviation (each a consistent estimate
    of sigma for normal data); NaN when all of them are 0 (a constant column). Computed by the
    compiled ``peer_deviations``, which also returns the z matrix (NaN for groups smaller than
    ``min_peers``), the largest |z| of each row and its column index (-1 when none)."""
    codes = np.zeros(len(values), dtype=np.int32) if groups is None else pd.factorize(groups)[0].astype(np.int32)
    arr = np.ascontiguousarray(values.to_numpy(dtype=np.float64))
    med, scale, z, score, driver = _core.peer_deviations(arr, codes, min_peers)
    frame = lambda m: pd.DataFrame(m, index=values.index, columns=values.columns)  # noqa: E731
    return frame(med), frame(scale), frame(z), score, driver


def _numeric_table(table: Any, columns: Any, caller: str) -> pd.DataFrame:
    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"{caller}: table must be a pandas DataFrame, got {type(table).__name__}")
    if columns is None:
        columns = [c for c in table.columns if pd.api.types.is_numeric_dtype(table[c])
                   and not pd.api.types.is_bool_dtype(table[c])]
    else:
        columns = list(columns)
        missing = [c for c in columns if c not in table.columns]
        if missing:
            raise ValueError(f"{caller}: columns {missing} are not in the table")
    if not columns:
        raise ValueError(f"{caller}: table has no numeric feature column")
    values = table[columns]
    bad = [c for c in columns if not pd.api.types.is_numeric_dtype(values[c])]
    if bad:
        raise TypeError(f"{caller}: columns {bad} are not numeric")
    arr = values.to_numpy(dtype=np.float64)
    if np.isinf(arr).any():
        r, c = np.argwhere(np.isinf(arr))[0]
        raise ValueError(f"{caller}: column {columns[c]!r} is infinite at row {table.index[r]!r}")
    return values.astype(np.float64)


def peer_deviations(table: pd.DataFrame, segment: Any, *, columns: Any = None, min_peers: int = 5) -> pd.DataFrame:
    """Each customer's features against the median of their segment, in robust standard deviations.

    ``z_<feature>`` = (value - segment median) / segment spread, where the spread is 1.4826 x the
    median absolute deviation (falling back to IQR / 1.349 and then to the mean absolute deviation
    when half a segment shares one value). ``deviation_score`` is the largest |z| and ``driver``
    its feature. Segments with fewer than ``min_peers`` customers get NaN: too few peers to say
    what is usual. NaN features stay NaN and are ignored by the score.

    Parameters
    ----------
    table : DataFrame
        One row per customer.
    segment : str or array-like
        A column of ``table``, or one label per row (a Series is aligned on the index).
    columns : list, optional
        Features to compare (default: every numeric column except ``segment``).
    min_peers : int, default 5
        Smallest segment that gets scores.
    """
    caller = "peer_deviations"
    if isinstance(table, pd.DataFrame) and isinstance(segment, str) and segment in table.columns:
        labels = table[segment]
        if columns is None:
            table = table.drop(columns=[segment])
    elif isinstance(segment, str):
        raise ValueError(f"{caller}: segment column {segment!r} is not in the table")
    elif isinstance(segment, pd.Series):
        if not isinstance(table, pd.DataFrame):
            raise TypeError(f"{caller}: table must be a pandas DataFrame, got {type(table).__name__}")
        missing = table.index.difference(segment.index)
        if len(missing):
            raise ValueError(f"{caller}: segment has no label for {len(missing)} rows, e.g. {missing[0]!r}")
        labels = segment.reindex(table.index)
    else:
        labels = pd.Series(np.asarray(segment), index=getattr(table, "index", None))
        if isinstance(table, pd.DataFrame) and len(labels) != len(table):
            raise ValueError(f"{caller}: segment has {len(labels)} labels, table has {len(table)} rows")
    min_peers = _int(min_peers, "min_peers", 2)
    values = _numeric_table(table, columns, caller)
    if labels.isna().any():
        raise ValueError(f"{caller}: segment is missing for row {labels.index[labels.isna().to_numpy()][0]!r}")
    med, scale, z, score, driver = _robust_scale(values, labels.to_numpy(), min_peers=min_peers)
    out = z.add_prefix("z_")
    out.insert(0, "segment", labels.to_numpy())
    out["deviation_score"] = score
    out["driver"] = np.where(driver >= 0, np.asarray(values.columns, dtype=object)[np.maximum(driver, 0)], None)
    out.attrs["median"] = med
    out.attrs["scale"] = scale
    return out


# --------------------------------------------------------------------------- churn early warning

def _p_alive(log: TransactionLog, model: Any, as_of_day: int) -> pd.Series | None:
    """P(alive) per customer from a BG/NBD-family model fitted (or given fitted) on the log up to as_of."""
    if model is None:
        return None
    from .. import clv

    data = clv.summary(log, freq="W", returns="drop", calibration_end=as_of_day - 1)
    if isinstance(model, str):
        classes = {"bgnbd": clv.BetaGeo, "pareto": clv.ParetoNBD, "mbgnbd": clv.ModifiedBetaGeo}
        if model not in classes:
            raise ValueError(f"model: must be one of {sorted(classes)}, None or a fitted model, got {model!r}")
        fit_on = data[data["T"] > 0]
        if len(fit_on) < 20:
            raise ValueError(f"model: {len(fit_on)} customers with history before as_of; the P(alive) model needs "
                             "at least 20 (pass model=None to flag by purchase gap only)")
        model = classes[model]().fit(fit_on["frequency"], fit_on["recency"], fit_on["T"])
    elif not hasattr(model, "conditional_probability_alive"):
        raise TypeError(f"model: expected 'bgnbd', 'pareto', 'mbgnbd', None or a fitted crmine.clv model, "
                        f"got {type(model).__name__}")
    p = model.conditional_probability_alive(data["frequency"], data["recency"], data["T"])
    return pd.Series(np.asarray(p, dtype=np.float64), index=data.index)


def churn_alerts(data: Any, *, as_of: Any = None, gap_ratio: float = 3.0, min_gaps: int = 2,
                 p_alive_threshold: float = 0.3, horizon_days: int = 365, within_days: int = 90,
                 model: Any = "bgnbd", period: Any = 30,
                 window: int = 12, customer: str | None = None, time: str | None = None, amount: str | None = None,
                 quantity: str | None = None, price: str | None = None, time_unit: str | None = None,
                 missing_customer: str = "drop", n_jobs: int | None = None) -> pd.DataFrame:
    """Customers who have probably stopped buying, ranked by the value at risk.

    A customer is flagged when the days since their last purchase are ``gap_ratio`` or more times
    their usual gap between purchases (resting on at least ``min_gaps`` gaps) and crossed that
    line at most ``within_days`` ago, or when P(alive) from a BG/NBD-family model (fitted on the
    log up to ``as_of``, weekly) is below ``p_alive_threshold`` for a customer who bought within
    the history window (``window`` + 1 periods). An early warning is about customers slipping
    now; those lost long ago are a win-back list (raise ``within_days``). ``usual_value`` is what the customer would spend over ``horizon_days``
    at their usual rate (total spend over last - first purchase plus one usual gap); the
    ``value_at_risk`` is that times 1 - P(alive), the spend expected to be lost.

    Columns: value_at_risk, usual_value, p_alive, days_since_purchase, usual_gap_days, gap_ratio,
    gap_n, last_purchase, total_spend, flagged_by ('gap', 'p_alive' or 'gap+p_alive') and
    ``explanation``, a sentence a person can act on.

    Parameters
    ----------
    data : TransactionLog, DataFrame or mapping of columns
        The transaction log.
    as_of : date-like or int, optional
        First day not observed; default the day after the last row.
    gap_ratio : float, default 3.0
        Flag gaps at least this many usual gaps long; > 1.
    min_gaps : int, default 2
        Gaps the usual gap must rest on; >= 1.
    p_alive_threshold : float, default 0.3
        Flag P(alive) below this; in (0, 1).
    horizon_days : int, default 365
        Days of usual spend counted as the value at risk.
    within_days : int, default 90
        A gap flags only if it crossed ``gap_ratio`` usual gaps at most this many days ago.
    model : {'bgnbd', 'pareto', 'mbgnbd'}, fitted crmine.clv model, or None
        Source of P(alive); None flags by the purchase gap only.
    period, window : as in :func:`history_deviations`.
    """
    log = _log_of(data, dict(customer=customer, time=time, amount=amount, quantity=quantity, price=price,
                             time_unit=time_unit, missing_customer=missing_customer))
    options = _core.ChurnOptions()
    options.gap_ratio = _real(gap_ratio, "gap_ratio", 1.0)
    options.min_gaps = _int(min_gaps, "min_gaps", 1)
    options.p_alive_threshold = _real(p_alive_threshold, "p_alive_threshold", 0.0, 1.0)
    options.horizon_days = _int(horizon_days, "horizon_days", 1)
    options.within_days = _int(within_days, "within_days", 0)
    core, frame = _history_core(log, period=period, window=window, as_of=as_of, prior_weight=2.0, prior_cv=1.0,
                                n_jobs=n_jobs)
    p_alive = _p_alive(log, model, core.as_of_day)
    p = None if p_alive is None else np.ascontiguousarray(p_alive.reindex(frame.index).to_numpy(np.float64))
    a = _core.churn_alerts(core, p, options)
    rows = np.asarray(a["row"])
    picked = frame.iloc[rows]
    by_gap = np.asarray(a["by_gap"]).astype(bool)
    by_p = np.asarray(a["by_p_alive"]).astype(bool)
    out = pd.DataFrame({
        "value_at_risk": np.asarray(a["value_at_risk"]),
        "usual_value": np.asarray(a["usual_value"]),
        "p_alive": np.full(rows.size, np.nan) if p is None else p[rows],
        "days_since_purchase": picked["gap_current"].to_numpy(),
        "usual_gap_days": picked["gap_mean"].to_numpy(),
        "gap_ratio": picked["gap_ratio"].to_numpy(),
        "gap_n": picked["gap_n"].to_numpy(),
        "gap_z": picked["gap_z"].to_numpy(),
        "last_purchase": picked["last_purchase"].to_numpy(),
        "total_spend": picked["total_spend"].to_numpy(),
        "flagged_by": np.where(by_gap & by_p, "gap+p_alive", np.where(by_gap, "gap", "p_alive")).astype(object),
    }, index=picked.index)
    out["explanation"] = _churn_sentences(out)
    out.attrs.update(as_of=pd.Timestamp(core.as_of_day * _NS_PER_DAY), horizon_days=options.horizon_days,
                     gap_ratio=options.gap_ratio, p_alive_threshold=options.p_alive_threshold)
    return out


def _churn_sentences(out: pd.DataFrame) -> list[str]:
    sentences = []
    for days, usual, n, p, flag in zip(out["days_since_purchase"], out["usual_gap_days"], out["gap_n"],
                                       out["p_alive"], out["flagged_by"]):
        parts = []
        if np.isfinite(usual):
            parts.append(f"{days:.0f} days since the last purchase, usually {usual:.0f} ({days / usual:.1f}x, "
                         f"over {int(n)} gaps)")
        else:
            parts.append(f"{days:.0f} days since the only purchase")
        if np.isfinite(p):
            parts.append(f"P(alive) {p:.0%}")
        sentences.append("; ".join(parts))
    return sentences


# --------------------------------------------------------------------------- explanations

def _as_frame(X: Any, names: Any = None) -> pd.DataFrame:
    if isinstance(X, pd.DataFrame):
        return X
    arr = np.asarray(X, dtype=np.float64)
    if arr.ndim != 2:
        raise ValueError(f"explain: X must be 2-d (customers x features), got shape {arr.shape}")
    cols = list(names) if names is not None else [f"x{j}" for j in range(arr.shape[1])]
    return pd.DataFrame(arr, columns=cols)


def _reference_rows(values: pd.DataFrame, reference: Any, train: pd.DataFrame | None) -> tuple[np.ndarray, str]:
    """The reference of the cells of ``values`` (one shared row, or one row per row) and a word for what it is."""
    if isinstance(reference, str):
        if reference != "median":
            raise ValueError(f"explain: reference must be 'median', 'baseline', a Series or a DataFrame, got {reference!r}")
        base = values if train is None else train
        return base.median().to_numpy(dtype=np.float64)[None, :], "median"
    if isinstance(reference, pd.Series):
        missing = [c for c in values.columns if c not in reference.index]
        if missing:
            raise ValueError(f"explain: reference has no value for features {missing}")
        return reference[list(values.columns)].to_numpy(dtype=np.float64)[None, :], "reference"
    if isinstance(reference, pd.DataFrame):
        missing = [c for c in values.columns if c not in reference.columns]
        if missing:
            raise ValueError(f"explain: reference has no column for features {missing}")
        absent = values.index.difference(reference.index)
        if len(absent):
            raise ValueError(f"explain: reference has no row for {len(absent)} rows of X, e.g. {absent[0]!r}")
        return reference.loc[values.index, list(values.columns)].to_numpy(dtype=np.float64), "reference"
    raise TypeError(f"explain: reference must be 'median', 'baseline', a Series or a DataFrame, "
                    f"got {type(reference).__name__}")


def _scale_rows(values: pd.DataFrame, scale: Any, train: pd.DataFrame | None) -> np.ndarray:
    """The robust spread of the cells of ``values``: one shared row, or one row per row."""
    if scale is None:
        return _robust_scale(values if train is None else train)[1].iloc[:1].to_numpy(dtype=np.float64)
    if isinstance(scale, pd.Series):
        return scale.reindex(values.columns).to_numpy(dtype=np.float64)[None, :]
    if isinstance(scale, pd.DataFrame):
        return scale.reindex(index=values.index, columns=values.columns).to_numpy(dtype=np.float64)
    raise TypeError(f"explain: scale must be None, a Series or a DataFrame, got {type(scale).__name__}")


def _detector_contributions(detector: Any, values: pd.DataFrame, x: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """How much more normal each row scores when one feature is set to its reference value.

    Uses only ``score_samples`` (lower = more abnormal), so it works for any fitted detector: for
    Mahalanobis-like scores it is the drop in distance from removing that feature's departure,
    for tree ensembles the shortening of the isolation path. The compiled ``detector_contributions``
    scores each row and its n_features variants in bounded blocks, through the compiled model of a
    crmine detector (no Python per block) or through ``score_samples`` of any other.
    """
    if not hasattr(detector, "score_samples") or not hasattr(detector, "n_features_in_"):
        raise TypeError(f"explain: detector must be a fitted crmine.deviation detector, got {type(detector).__name__}")
    d = values.shape[1]
    if detector.n_features_in_ != d:
        raise ValueError(f"explain: X has {d} features, the detector was fitted with {detector.n_features_in_}")
    names = getattr(detector, "feature_names_in_", None)
    if names is not None and list(names) != list(values.columns):
        raise ValueError(f"explain: X has columns {list(values.columns)}, the detector was fitted with {list(names)}")
    if np.isnan(x).any() or np.isnan(ref).any():
        raise ValueError("explain: X and the reference must not hold NaN when explaining a detector")
    model = getattr(detector, "_model", None)
    if model is None:
        def model(block: np.ndarray) -> np.ndarray:
            frame = block if names is None else pd.DataFrame(block, columns=list(names))
            return np.asarray(detector.score_samples(frame), dtype=np.float64)
    return _core.detector_contributions(model, x, ref)


def explain(X: Any, *, reference: Any = "median", detector: Any = None, train: Any = None, scale: Any = None,
            top: int = 3) -> pd.DataFrame:
    """The features behind each row's alert, with the row's value and the reference value.

    Without a detector, a feature's contribution is its robust z = (value - reference) / scale,
    ranked by |z|. The reference is ``'median'`` (the medians of ``train``, default X itself),
    ``'baseline'`` (X is a :func:`history_deviations` frame: each measure's current value against
    the customer's own mean and spread), a Series (one reference row, e.g. a segment's medians) or
    a DataFrame indexed like X (per-row references, e.g. ``peer_deviations(...).attrs['median']``
    or a customer's own baseline). ``scale`` defaults to the robust spread (1.4826 MAD) of
    ``train``; pass a Series or a per-row DataFrame to use another.

    With a fitted ``detector`` from :mod:`crmine.deviation`, a feature's contribution is how much
    more normal the detector scores the row when that feature alone is set to its reference
    value (``score_samples`` after minus before; positive = the feature makes the row abnormal).
    This relies only on ``score_samples``, ``n_features_in_`` and ``feature_names_in_``.

    Returns one row per (alert row, feature) for the ``top`` features of each row: the row's
    index, ``rank`` (1 = strongest), ``feature``, ``value``, ``reference``, ``contribution``,
    ``direction`` ('above' / 'below' the reference) and ``reason``, a readable sentence.
    """
    top = _int(top, "top", 1)
    if isinstance(reference, str) and reference == "baseline":
        if detector is not None:
            raise ValueError("explain: reference='baseline' explains history_deviations frames, not a detector")
        return _explain_baseline(X, top)
    frame = _as_frame(X, getattr(detector, "feature_names_in_", None))
    train_frame = None if train is None else _numeric_table(_as_frame(train, frame.columns), list(frame.columns),
                                                            "explain")
    values = _numeric_table(frame, None, "explain")
    if len(values) == 0:
        raise ValueError("explain: X has no rows")
    x = np.ascontiguousarray(values.to_numpy(dtype=np.float64))
    ref, word = _reference_rows(values, reference, train_frame)
    if detector is not None:
        contribution = _detector_contributions(detector, values, x, ref)
        return _long_explanation(values, x, ref, contribution, contribution, top, word, "score")
    contribution = _core.robust_contributions(x, ref, _scale_rows(values, scale, train_frame))
    return _long_explanation(values, x, ref, contribution, np.abs(contribution), top, word, "sd")


def _explain_baseline(X: Any, top: int) -> pd.DataFrame:
    if not isinstance(X, pd.DataFrame):
        raise TypeError("explain: reference='baseline' needs a history_deviations frame")
    names = list(HISTORY_FEATURES)
    needed = [f"{m}_{part}" for m in names for part in ("current", "mean", "z")]
    missing = [c for c in needed if c not in X.columns]
    if missing:
        raise ValueError(f"explain: reference='baseline' needs the history_deviations columns; missing {missing}")
    values = pd.DataFrame({m: X[f"{m}_current"].to_numpy(np.float64) for m in names}, index=X.index)
    ref = np.column_stack([X[f"{m}_mean"].to_numpy(np.float64) for m in names])
    z = np.column_stack([X[f"{m}_z"].to_numpy(np.float64) for m in names])
    rank_by = _history_components(X).to_numpy(dtype=np.float64)
    return _long_explanation(values, values.to_numpy(), ref, z, rank_by, top, "usual", "sd")


_UNITS = {"spend": "", "basket": "", "returns": "", "gap": " days"}


def _number(x: float) -> str:
    """Money-like figures whole with thousands separators, small ones with 4 significant digits."""
    return f"{x:,.0f}" if abs(x) >= 1000 else f"{x:,.4g}"


def _long_explanation(values: pd.DataFrame, x: np.ndarray, ref: np.ndarray, contribution: np.ndarray,
                      rank_by: np.ndarray, top: int, word: str, unit: str) -> pd.DataFrame:
    """The ``top`` features of every row by ``rank_by`` (compiled ``top_contributions``), with readable reasons."""
    e = _core.top_contributions(x, ref, contribution, rank_by, top)
    rows, cols = e["row"], e["feature"]
    feature = np.asarray(values.columns, dtype=object)[cols]
    v, r, c = e["value"], e["reference"], e["contribution"]
    index_name = values.index.name or "row"
    out = pd.DataFrame({index_name: values.index.to_numpy()[rows], "rank": e["rank"].astype(np.int64),
                        "feature": feature, "value": v, "reference": r, "contribution": c,
                        "direction": _DIRECTIONS[e["direction"] + 1]})
    out["reason"] = [f"{f} {_number(a)}{_UNITS.get(f, '')} vs {word} {_number(b)} ({z:+.1f} {unit})"
                     for f, a, b, z in zip(feature, v, r, c)]
    return out


_DIRECTIONS = np.array(["below", "at", "above"], dtype=object)


# --------------------------------------------------------------------------- evaluation

def _labels_and_scores(y_true: Any, score: Any, caller: str) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(y_true, pd.Series) and isinstance(score, pd.Series):
        missing = score.index.difference(y_true.index)
        if len(missing):
            raise ValueError(f"{caller}: y_true has no label for {len(missing)} scored rows, e.g. {missing[0]!r}")
        y_true = y_true.reindex(score.index)
    y = np.asarray(y_true)
    s = np.ascontiguousarray(score, dtype=np.float64)
    if y.ndim != 1 or s.ndim != 1:
        raise ValueError(f"{caller}: y_true and score must be 1-d")
    if len(y) != len(s):
        raise ValueError(f"{caller}: y_true has {len(y)} labels, score has {len(s)} entries")
    if y.dtype == bool:
        y = y.astype(np.int32)
    elif len(y) and not set(np.unique(y).tolist()) <= {0, 1}:
        raise ValueError(f"{caller}: y_true must be 0/1 or boolean")
    if np.isinf(s).any():
        raise ValueError(f"{caller}: score is infinite at row {int(np.flatnonzero(np.isinf(s))[0])}")
    return np.ascontiguousarray(y, dtype=np.int32), s


def precision_at_k(y_true: Any, score: Any, k: int) -> float:
    """Share of the k highest-scored rows that are true positives (ties keep input order).

    Two pandas Series are aligned on the index of ``score``.
    """
    y, s = _labels_and_scores(y_true, score, "precision_at_k")
    return float(_core.precision_at_k(y, s, _int(k, "k", 1)))


def recall_at_k(y_true: Any, score: Any, k: int) -> float:
    """Share of the true positives among the k highest-scored rows (NaN when there is none)."""
    y, s = _labels_and_scores(y_true, score, "recall_at_k")
    return float(_core.recall_at_k(y, s, _int(k, "k", 1)))


def evaluate_alerts(y_true: Any, score: Any, *, k: Any = (10, 50)) -> dict[str, float]:
    """ROC AUC, and precision and recall at each k, of a score against known labels."""
    y, s = _labels_and_scores(y_true, score, "evaluate_alerts")
    ks = [k] if isinstance(k, (numbers.Integral, np.integer)) else list(k)
    out = {"roc_auc": float(_core.roc_auc(y, s, np.empty(0)))}
    for kk in ks:
        kk = _int(kk, "k", 1)
        out[f"precision@{kk}"] = float(_core.precision_at_k(y, s, kk))
        out[f"recall@{kk}"] = float(_core.recall_at_k(y, s, kk))
    return out


# --------------------------------------------------------------------------- report section

def deviations_section(report: Any, ctx: dict) -> None:
    """The ``crmine report`` section: the most deviant customers against their own history, each
    with the measures behind it, and the churn early-warning list ranked by value at risk."""
    log: TransactionLog = ctx["log"]
    # A quarter against the four before it: long enough that a spike or a burst of returns falls
    # inside the current period, and the usual business view of "this quarter vs last year".
    history = history_deviations(log, period=90, window=4, as_of=ctx.get("as_of"))
    ctx["history_deviations"] = history
    period, window = history.attrs["period_days"], history.attrs["window"]
    sec = report.section("Deviations", (
        f"Each customer's last {period} days against their own previous {window} periods of {period} days: spend per "
        "period, spend per purchase day (basket) and returned amount. z is the departure in the customer's own "
        "standard deviations (shrunk towards a Poisson-like spread for short histories). The churn early warning "
        "flags customers whose silence passed 3 usual gaps in the last 90 days, or who bought within the last "
        "15 months and have P(alive) below 30% (BG/NBD), ranked by the spend expected to be lost over a year."))
    scored = history[history["deviation_score"] > 0]
    if len(scored) == 0:
        sec.note("No customer has a baseline period before the last one; the log is too short.", kind="warning")
        return
    top = scored.head(20)
    why = explain(top, reference="baseline", top=2)
    key = why.columns[0]
    reasons = why.groupby(key, sort=False)["reason"].agg("; ".join)
    shown = pd.DataFrame({"score": top["deviation_score"], "driver": top["driver"],
                          "last_purchase": top["last_purchase"], "explanation": reasons.reindex(top.index)})
    strong = int((history["deviation_score"] >= 4).sum())
    by_driver = history.loc[history["deviation_score"] >= 4, "driver"].value_counts()
    sec.metrics({"Customers with a baseline": f"{int((history['n_periods'] > 0).sum()):,}",
                 "Departures of 4 sd or more": f"{strong:,}",
                 **{f"... led by {name}": f"{int(count):,}" for name, count in by_driver.items()}})
    sec.table(shown, caption="The 20 customers departing most from their own history", float_format="{:,.1f}")
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            churn = churn_alerts(log, as_of=ctx.get("as_of"))
        except ValueError as exc:  # too few customers for the P(alive) model
            sec.note(f"P(alive) not used: {exc}", kind="warning")
            churn = churn_alerts(log, as_of=ctx.get("as_of"), model=None)
    for w in caught:
        sec.note(f"{w.category.__name__}: {w.message}", kind="warning")
    ctx["churn_alerts"] = churn
    if len(churn) == 0:
        sec.note("No customer is flagged as churning.")
        return
    sec.metrics({"Flagged as churning": f"{len(churn):,}",
                 "By purchase gap": f"{int(churn['flagged_by'].str.contains('gap').sum()):,}",
                 "Value at risk (12 months)": f"{churn['value_at_risk'].sum():,.0f}",
                 "Top 20 hold": f"{churn['value_at_risk'].head(20).sum() / churn['value_at_risk'].sum():.0%}"})
    sec.table(churn[["value_at_risk", "p_alive", "days_since_purchase", "usual_gap_days", "last_purchase",
                     "explanation"]].head(20),
              caption="Churn early warning: the 20 customers with the most value at risk",
              percent_columns=("p_alive",), float_format="{:,.0f}")
