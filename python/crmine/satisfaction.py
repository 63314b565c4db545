# SPDX-License-Identifier: Apache-2.0
"""Satisfaction: CSAT, NPS with confidence intervals, key-driver analysis.

Start from survey responses::

    import crmine as cm
    survey = cm.datasets.make_survey(2000, seed=0)
    cm.satisfaction.nps(survey, score="recommend", by="channel")
    drivers = cm.satisfaction.key_drivers(survey, target="overall",
                                          attributes=["product_quality", "value_for_money", "delivery"])
    drivers.table                     # importance (Shapley), relative weights, performance
    svg = drivers.quadrant_chart()    # importance vs performance, the marketer's quadrant

NPS and CSAT are computed in C++ per group; key drivers decompose R^2 exactly over all 2^p
attribute subsets (Shapley value = general dominance) and by Johnson's relative weights.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import pandas as pd

from . import _core
from . import plot as _plot

__all__ = ["nps", "csat", "key_drivers", "key_drivers_by", "KeyDrivers", "quadrant_chart", "satisfaction_section"]

_NPS_INTERVALS = ("adjusted_wald", "wald", "bootstrap")
_CSAT_INTERVALS = ("wilson", "wald")
_FREQS = {"D": "D", "W": "W-MON", "M": "M", "Q": "Q", "Y": "Y"}


def _n_jobs(n_jobs: int | None) -> int:
    if n_jobs is None or n_jobs == -1:
        return 0
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, (int, np.integer)) or n_jobs < 1:
        raise ValueError(f"n_jobs: must be a positive int, -1 or None, got {n_jobs!r}")
    return int(n_jobs)


def _column(data: Any, key: Any, name: str) -> pd.Series:
    """A column given by name (with a DataFrame) or as array-like, as a Series."""
    if isinstance(key, str):
        if not isinstance(data, pd.DataFrame):
            raise TypeError(f"{name}: a column name ({key!r}) needs a DataFrame as data")
        if key not in data.columns:
            raise ValueError(f"{name}: column {key!r} is not in the frame (columns: {list(data.columns)})")
        return data[key]
    if isinstance(key, pd.Series):
        return key
    arr = np.asarray(key)
    if arr.ndim != 1:
        raise ValueError(f"{name}: expected a 1-d column, got shape {arr.shape}")
    index = data.index if isinstance(data, (pd.DataFrame, pd.Series)) and len(data) == arr.size else None
    return pd.Series(arr, index=index, name=name)


def _responses(data: Any, key: Any, name: str) -> pd.Series:
    """The rated column: ``key`` of a DataFrame, or ``data`` itself when it is the column."""
    if key is not None:
        return _column(data, key, name)
    if isinstance(data, pd.DataFrame):
        raise ValueError(f"{name}: name the column of the DataFrame that holds the ratings")
    return _column(data, data, name)


def _values(series: pd.Series, name: str) -> np.ndarray:
    if series.dtype.kind not in "iufb":
        if isinstance(series.dtype, pd.CategoricalDtype) or series.dtype == object:
            raise TypeError(f"{name}: ratings must be numeric, got dtype {series.dtype}")
    try:
        arr = series.to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name}: ratings must be numeric, got dtype {series.dtype}") from exc
    return np.ascontiguousarray(arr)


def _groups(data: Any, values: pd.Series, by: Any, time: Any, freq: str | None,
            name: str) -> tuple[np.ndarray | None, int, pd.Index | None]:
    """Group codes (int32), group count and the index of the groups (None: one group)."""
    keys = []
    if by is not None:
        group = _column(data, by, "by")
        if len(group) != len(values):
            raise ValueError(f"by: has {len(group)} entries but {name} has {len(values)}")
        if group.isna().any():
            raise ValueError(f"by: row {int(np.flatnonzero(group.isna().to_numpy())[0])} has no group")
        keys.append(group.rename(by if isinstance(by, str) else (group.name or "group")).reset_index(drop=True))
    if time is not None:
        if freq not in _FREQS:
            raise ValueError(f"freq: must be one of {sorted(_FREQS)} when time is given, got {freq!r}")
        stamps = pd.to_datetime(_column(data, time, "time").reset_index(drop=True), errors="coerce")
        if getattr(stamps.dt, "tz", None) is not None:
            stamps = stamps.dt.tz_localize(None)  # periods are local calendar periods
        if len(stamps) != len(values):
            raise ValueError(f"time: has {len(stamps)} entries but {name} has {len(values)}")
        if stamps.isna().any():
            raise ValueError(f"time: row {int(np.flatnonzero(stamps.isna().to_numpy())[0])} is not a date")
        keys.append(stamps.dt.to_period(_FREQS[freq]).rename("period"))
    elif freq is not None:
        raise ValueError("freq: needs time= (the response dates)")
    if not keys:
        return None, 1, None
    # Only observed combinations become groups: a period or segment without responses has no score.
    if len(keys) == 1:
        codes, uniques = pd.factorize(keys[0], sort=True)
        index = pd.Index(uniques, name=keys[0].name)
    else:
        codes, uniques = pd.MultiIndex.from_arrays(keys).factorize(sort=True)
        index = pd.MultiIndex.from_tuples(list(uniques), names=[k.name for k in keys])
    return np.ascontiguousarray(codes, dtype=np.int32), len(index), index


def _result(table: dict, columns: Sequence[str], index: pd.Index | None) -> pd.Series | pd.DataFrame:
    frame = pd.DataFrame({c: np.asarray(table[c]) for c in columns})
    if index is None:
        return frame.iloc[0].rename(None)
    frame.index = index
    return frame


def nps(data: Any, *, score: Any = None, by: Any = None, time: Any = None, freq: str | None = None,
        interval: str = "adjusted_wald", confidence: float = 0.95, n_boot: int = 2000,
        random_state: int = 0, n_jobs: int | None = None) -> pd.Series | pd.DataFrame:
    """Net Promoter Score with a confidence interval, overall or per segment and/or period.

    Respondents rating 9-10 are promoters, 7-8 passives and 0-6 detractors; NPS = % promoters -
    % detractors, on -100..100.

    Parameters
    ----------
    data : DataFrame, Series or array-like
        The responses; with a DataFrame, ``score`` (and ``by``/``time``) name its columns.
    score : str or array-like, optional
        The 0..10 likelihood-to-recommend answers (default: ``data`` itself). Every value must
        be a whole number in 0..10; NaN (a skipped question) is an error: drop those rows first.
    by : str or array-like, optional
        Segment of each response; one row per observed segment.
    time, freq : str or array-like, and 'D', 'W', 'M', 'Q' or 'Y'
        Response dates and the period to group them by ("over time"). With ``by``, the result
        has one row per (segment, period) with responses.
    interval : {'adjusted_wald', 'wald', 'bootstrap'}, default 'adjusted_wald'
        'wald': NPS +- z * SE with the trinomial variance (p+ + p- - (p+ - p-)^2) / n;
        'adjusted_wald': the same after adding 3/4 promoter, 3/4 detractor and 3/2 passive
        pseudo-responses (Rocks 2016), which covers better for small n and extreme scores;
        'bootstrap': percentile interval of ``n_boot`` resamples (seeded by ``random_state``).
    confidence : float, default 0.95

    Returns
    -------
    Series (no grouping) or DataFrame (one row per group) with ``n``, ``promoters``,
    ``passives``, ``detractors``, ``nps``, ``se``, ``lower``, ``upper``.
    """
    if interval not in _NPS_INTERVALS:
        raise ValueError(f"interval: must be one of {_NPS_INTERVALS}, got {interval!r}")
    if isinstance(random_state, bool) or not isinstance(random_state, (int, np.integer)) or random_state < 0:
        raise ValueError(f"random_state: must be a non-negative int, got {random_state!r}")
    values = _responses(data, score, "score")
    arr = _values(values, "score")
    codes, n_groups, index = _groups(data, values, by, time, freq, "score")
    table = _core.nps(arr, codes, n_groups, interval, float(confidence), int(n_boot), int(random_state),
                      _n_jobs(n_jobs))
    return _result(table, ("n", "promoters", "passives", "detractors", "nps", "se", "lower", "upper"), index)


def csat(data: Any, *, rating: Any = None, by: Any = None, time: Any = None, freq: str | None = None,
         scale: tuple[float, float] = (1, 5), threshold: float | None = None, interval: str = "wilson",
         confidence: float = 0.95) -> pd.Series | pd.DataFrame:
    """Customer satisfaction (CSAT): the percentage of satisfied responses, with intervals.

    A response is satisfied when its rating is >= ``threshold`` (default: the top two levels of
    the scale, e.g. 4 and 5 on 1..5). Groups work as in :func:`nps`.

    Parameters
    ----------
    data, rating, by, time, freq
        As ``data``, ``score``, ``by``, ``time``, ``freq`` of :func:`nps`.
    scale : (min, max), default (1, 5)
        The rating scale; a rating outside it (or NaN) is an error naming the row.
    threshold : float, optional
        Lowest satisfied rating; default ``max - 1`` (top-2-box).
    interval : {'wilson', 'wald'}, default 'wilson'
        Interval of the share: Wilson's score interval (stays in 0..100, good for small n) or
        the Wald (normal) interval.

    Returns
    -------
    Series or DataFrame with ``n``, ``satisfied``, ``csat``, ``lower``, ``upper`` (percent) and
    ``mean_rating`` with its normal-theory interval ``mean_lower``, ``mean_upper``.
    """
    if interval not in _CSAT_INTERVALS:
        raise ValueError(f"interval: must be one of {_CSAT_INTERVALS}, got {interval!r}")
    try:
        lo, hi = (float(v) for v in scale)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"scale: must be a (min, max) pair of numbers, got {scale!r}") from exc
    threshold = hi - 1 if threshold is None else float(threshold)
    values = _responses(data, rating, "rating")
    arr = _values(values, "rating")
    codes, n_groups, index = _groups(data, values, by, time, freq, "rating")
    table = _core.csat(arr, codes, n_groups, lo, hi, threshold, interval, float(confidence))
    return _result(table, ("n", "satisfied", "csat", "lower", "upper", "mean_rating", "mean_lower", "mean_upper"),
                   index)


@dataclass(frozen=True)
class KeyDrivers:
    """The result of :func:`key_drivers`.

    ``table`` has one row per attribute, sorted by importance (highest first): ``importance``
    (Shapley value = general dominance weight, a share of R^2; NaN when not computed),
    ``importance_share`` (importance / R^2), ``relative_weight`` (Johnson), ``relative_weight_share``,
    ``beta`` (standardised coefficient), ``correlation`` with the target and ``performance`` (the
    attribute's mean rating, or its top-box share with ``performance='top_box'``).
    """

    table: pd.DataFrame
    r2: float                               #: R^2 of the regression on all attributes
    n: int                                  #: responses used
    conditional_dominance: pd.DataFrame     #: attribute x subset size: mean R^2 increment
    target: str
    performance: str

    def quadrant_chart(self, **kwargs: Any) -> str:
        """The importance-performance quadrant chart as SVG (see :func:`quadrant_chart`)."""
        return quadrant_chart(self, **kwargs)


def key_drivers(data: pd.DataFrame, *, target: str, attributes: Sequence[str] | None = None,
                scale: tuple[float, float] | None = None, missing: str = "error", method: str = "all",
                performance: str = "mean", max_attributes: int = 20, n_jobs: int | None = None) -> KeyDrivers:
    """Key-driver analysis: how much each attribute rating matters for overall satisfaction.

    The target is regressed on the attributes (with intercept). Importance is the attribute's
    Shapley value of R^2 (the general dominance weight of dominance analysis): its increment in
    R^2 averaged over all subsets of the other attributes, computed exactly over the 2^p subsets
    from the correlation matrix. Johnson's relative weights give a fast approximation with the
    same total. Both sum to R^2 and, unlike regression coefficients, are not distorted by the
    correlation between attributes (the "halo" of surveys).

    Parameters
    ----------
    data : DataFrame
        One row per response.
    target : str
        The overall satisfaction (or recommendation) column.
    attributes : list of str, optional
        Attribute rating columns; default: every other numeric column.
    scale : (min, max), optional
        When given, a rating outside it is an error naming the column and row.
    missing : {'error', 'drop'}, default 'error'
        Rows with a missing rating: rejected (naming column and row), or dropped (listwise);
        the number dropped is in ``result.table.attrs['dropped']``.
    method : {'all', 'relative_weights'}, default 'all'
        'relative_weights' skips the exact Shapley decomposition (for more than
        ``max_attributes`` attributes).
    performance : {'mean', 'top_box'}, default 'mean'
        What the quadrant chart's performance axis shows: the mean rating, or the share of
        ratings in the top two levels of ``scale`` (needs ``scale``).
    max_attributes : int, default 20
        The exact Shapley decomposition visits 2^p subsets; more attributes raise ValueError.
    n_jobs : int, optional
        Threads (None or -1 = all). Results do not depend on it.
    """
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"data: expected a pandas DataFrame, got {type(data).__name__}")
    if target not in data.columns:
        raise ValueError(f"target: column {target!r} is not in the frame (columns: {list(data.columns)})")
    if missing not in ("error", "drop"):
        raise ValueError(f"missing: must be 'error' or 'drop', got {missing!r}")
    if method not in ("all", "relative_weights"):
        raise ValueError(f"method: must be 'all' or 'relative_weights', got {method!r}")
    if performance not in ("mean", "top_box"):
        raise ValueError(f"performance: must be 'mean' or 'top_box', got {performance!r}")
    if performance == "top_box" and scale is None:
        raise ValueError("performance: 'top_box' needs scale=(min, max)")
    if attributes is None:
        attributes = [c for c in data.columns if c != target and data[c].dtype.kind in "iuf"]
    attributes = list(attributes)
    if not attributes:
        raise ValueError("attributes: no attribute columns (give attributes= or numeric columns besides the target)")
    unknown = [a for a in attributes if a not in data.columns]
    if unknown:
        raise ValueError(f"attributes: columns {unknown} are not in the frame")
    if target in attributes:
        raise ValueError(f"attributes: the target {target!r} cannot also be an attribute")
    if len(set(attributes)) != len(attributes):
        raise ValueError("attributes: names must be unique")
    columns = attributes + [target]
    # Column by column into X and y: selecting a list of columns copies the frame through pandas'
    # indexers, and C++ reads X in place.
    X = np.empty((len(data), len(attributes)))
    y = np.empty(len(data))
    for j, c in enumerate(columns):
        col = data[c]
        if col.dtype.kind not in "iufb":
            raise TypeError(f"{'target' if c == target else 'attributes'}: column {c!r} must be numeric ratings, "
                            f"got dtype {col.dtype}")
        (y if c == target else X[:, j])[:] = col.to_numpy(dtype=np.float64, na_value=np.nan)
    dropped = 0
    if not (np.isfinite(X).all() and np.isfinite(y).all()):
        bad = ~np.isfinite(np.column_stack([X, y]))
        if missing == "error":
            row, col = np.argwhere(bad)[0]
            raise ValueError(f"{'target' if col == len(attributes) else 'attributes'}: column "
                             f"{columns[col]!r}, row {data.index[row]!r} is missing or not finite; "
                             "pass missing='drop' to drop incomplete responses")
        keep = ~bad.any(axis=1)
        dropped = int((~keep).sum())
        X, y = np.ascontiguousarray(X[keep]), y[keep]
    if scale is not None:
        lo, hi = (float(v) for v in scale)
        outside = (X < lo) | (X > hi)
        if outside.any():
            row, col = np.argwhere(outside)[0]
            raise ValueError(f"attributes: column {attributes[col]!r} has {X[row, col]:g} in row {row}, "
                             f"outside the scale {lo:g}..{hi:g}")
    try:
        out = _core.key_drivers(X, y, method == "all", int(max_attributes), _n_jobs(n_jobs))
    except ValueError as exc:  # name the column, not its position
        message = str(exc)
        for j in range(len(attributes) - 1, -1, -1):
            message = message.replace(f"column {j} ", f"column {attributes[j]!r} ").replace(
                f"attribute {j} ", f"attribute {attributes[j]!r} ")
        raise ValueError(message) from None
    r2 = float(out["r2"])
    shapley = np.asarray(out["shapley"]) if method == "all" else np.full(len(attributes), np.nan)
    if performance == "mean":
        perf = np.asarray(out["mean"])
    else:
        perf = (X >= hi - 1).mean(axis=0)
    table = pd.DataFrame({
        "importance": shapley,
        "importance_share": shapley / r2,
        "relative_weight": np.asarray(out["relative_weights"]),
        "relative_weight_share": np.asarray(out["relative_weights"]) / r2,
        "beta": np.asarray(out["beta"]),
        "correlation": np.asarray(out["correlation"]),
        "performance": perf,
    }, index=pd.Index(attributes, name="attribute"))
    key = "importance" if method == "all" else "relative_weight"
    table = table.sort_values(key, ascending=False, kind="stable")
    table.attrs["dropped"] = dropped
    dominance = np.asarray(out["conditional_dominance"]) if method == "all" else np.empty((len(attributes), 0))
    cond = pd.DataFrame(dominance, index=pd.Index(attributes, name="attribute"),
                        columns=pd.RangeIndex(dominance.shape[1], name="subset_size"))
    return KeyDrivers(table=table, r2=r2, n=int(out["n"]), conditional_dominance=cond, target=target,
                      performance=performance)


def key_drivers_by(data: pd.DataFrame, by: str, *, target: str, attributes: Sequence[str] | None = None,
                   min_responses: int = 30, **options: Any) -> pd.DataFrame:
    """Key drivers per segment: :func:`key_drivers` on each group of ``by``, stacked.

    Returns one row per (segment, attribute) with the columns of ``KeyDrivers.table`` plus the
    segment's ``r2`` and ``n``. Segments with fewer than ``min_responses`` responses are an error
    naming them (importance from a handful of responses is noise); ``options`` go to
    :func:`key_drivers`.
    """
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"data: expected a pandas DataFrame, got {type(data).__name__}")
    if by not in data.columns:
        raise ValueError(f"by: column {by!r} is not in the frame (columns: {list(data.columns)})")
    if data[by].isna().any():
        raise ValueError(f"by: row {data.index[int(np.flatnonzero(data[by].isna().to_numpy())[0])]!r} has no segment")
    if attributes is None:
        attributes = [c for c in data.columns if c not in (target, by) and data[c].dtype.kind in "iuf"]
    sizes = data.groupby(by, observed=True).size()
    small = sizes[sizes < min_responses]
    if len(small):
        raise ValueError(f"by: segments {list(small.index)} have fewer than min_responses={min_responses} responses "
                         f"({list(small.to_numpy())})")
    parts = {}
    for segment, group in data.groupby(by, observed=True, sort=True):
        result = key_drivers(group, target=target, attributes=attributes, **options)
        parts[segment] = result.table.assign(r2=result.r2, n=result.n)
    table = pd.concat(parts, names=[by, "attribute"])
    return table


def quadrant_chart(drivers: KeyDrivers, *, title: str | None = None, width: float = 640,
                   height: float = 440) -> str:
    """Importance vs performance of each attribute as an SVG quadrant chart.

    x = performance, y = importance share (Shapley, or relative weights when Shapley was not
    computed). Lines at the mean importance and mean performance split the chart into the four
    quadrants marketers read: "Fix first" (important, low performance), "Keep up" (important,
    high), "Secondary" (unimportant, low) and "Possible overkill" (unimportant, high).
    """
    if not isinstance(drivers, KeyDrivers):
        raise TypeError(f"drivers: expected the result of key_drivers, got {type(drivers).__name__}")
    t = drivers.table
    share = t["importance_share"] if t["importance_share"].notna().all() else t["relative_weight_share"]
    x = t["performance"].to_numpy(dtype=float)
    y = share.to_numpy(dtype=float)
    title = _plot._check_title(title or f"Key drivers of {drivers.target}: importance vs performance")
    width, height = _plot._check_size(width, "width"), _plot._check_size(height, "height")
    parts, top = _plot._header(title, f"R\u00b2 = {drivers.r2:.3f}, n = {drivers.n:,}; lines at the means", width)
    pad_x = max(1e-9, 0.08 * (x.max() - x.min()))
    pad_y = max(1e-9, 0.08 * (y.max() - y.min()))
    frame_parts, frame = _plot._cartesian(
        top=top + 6, width=width, height=height,
        x_ticks=_plot.nice_ticks(float(x.min() - pad_x), float(x.max() + pad_x)),
        y_ticks=_plot.nice_ticks(max(0.0, float(y.min() - pad_y)), float(y.max() + pad_y)),
        x_percent=drivers.performance == "top_box", y_percent=True,
        x_label="Performance (" + ("top-box share" if drivers.performance == "top_box" else "mean rating") + ")",
        y_label="Importance (share of R\u00b2)")
    parts += frame_parts
    mx, my = float(frame.sx(x.mean())), float(frame.sy(y.mean()))
    parts.append(_plot._el("g", _plot._el("line", x1=mx, y1=frame.top, x2=mx, y2=frame.bottom) +
                           _plot._el("line", x1=frame.left, y1=my, x2=frame.right, y2=my),
                           stroke=_plot._DIAGONAL, stroke_width=1, stroke_dasharray="5 4", class_="quadrant-lines"))
    corners = (("Fix first", frame.left + 6, frame.top + 14, "start"),
               ("Keep up", frame.right - 6, frame.top + 14, "end"),
               ("Secondary", frame.left + 6, frame.bottom - 8, "start"),
               ("Possible overkill", frame.right - 6, frame.bottom - 8, "end"))
    parts.append(_plot._el("g", "".join(_plot._text(cx, cy, label, text_anchor=anchor, font_size=11,
                                                    fill=_plot._MUTED) for label, cx, cy, anchor in corners),
                           class_="quadrant-labels"))
    px, py = frame.sx(x), frame.sy(y)
    dots = []
    for k, name in enumerate(t.index):
        important, good = y[k] >= y.mean(), x[k] >= x.mean()
        color = {(True, False): "#D55E00", (True, True): "#009E73", (False, False): "#999999",
                 (False, True): "#0072B2"}[(bool(important), bool(good))]
        dots.append(_plot._el("circle", cx=float(px[k]), cy=float(py[k]), r=5, fill=color, class_="point") +
                    _plot._text(float(px[k]) + 8, float(py[k]), _plot._truncate(str(name), 11, 160), dy="0.35em",
                                font_size=11))
    parts.append(_plot._el("g", "".join(dots), class_="points"))
    return _plot._svg(width, height, title, parts)


# ----------------------------------------------------------------------------- report section

def satisfaction_section(report: Any, ctx: dict) -> None:
    """``crmine report`` section: NPS and CSAT with confidence intervals, by segment and month, and
    key drivers with the importance-performance chart. Runs when the CLI was given ``--survey``
    (or ``--sample``, which generates a survey of the sample's customers with planted drivers)."""
    survey = ctx.get("survey")
    if survey is None:
        return
    cols = dict(ctx.get("survey_columns") or {})
    score, rating, time, by = cols.get("score"), cols.get("rating"), cols.get("time"), cols.get("by")
    attributes = list(cols.get("attributes") or [])
    for role, col in (("--nps-column", score), ("--rating-column", rating), ("--survey-time", time),
                      ("--survey-segment", by), *(("--drivers", a) for a in attributes)):
        if col is not None and col not in survey.columns:
            raise ValueError(f"survey: column {col!r} ({role}) is not in the survey table; it has "
                             f"{list(survey.columns)[:12]}")
    if score is None and rating is None:
        raise ValueError("survey: name the likelihood-to-recommend column (--nps-column) or the rating column "
                         "(--rating-column)")
    scale = tuple(cols.get("scale") or (1, 5))
    sec = report.section("Customer satisfaction", (
        "How satisfied are customers, and what drives it? Net Promoter Score (promoters 9-10 minus detractors 0-6 on "
        "the 0-10 recommendation question) and CSAT (share of the top two levels of the rating scale), each with a "
        "95% confidence interval, overall, by segment and by month; then the key drivers: each attribute's share of "
        "the explained variance of the overall rating (Shapley value of R\u00b2 = dominance analysis) against how "
        "well it is rated."))
    figures: dict[str, str] = {"Responses": f"{len(survey):,}"}
    frames = []
    if score is not None:
        overall = nps(survey, score=score)
        figures["NPS (95% CI)"] = f"{overall['nps']:+.1f} ({overall['lower']:+.1f} to {overall['upper']:+.1f})"
    if rating is not None:
        sat = csat(survey, rating=rating, scale=scale)
        figures["CSAT (95% CI)"] = f"{sat['csat']:.1f}% ({sat['lower']:.1f}% to {sat['upper']:.1f}%)"
        figures[f"Mean rating ({scale[0]:g}-{scale[1]:g})"] = f"{sat['mean_rating']:.2f}"
    sec.metrics(figures)
    if by is not None:
        if score is not None:
            frames.append(nps(survey, score=score, by=by)[["n", "nps", "lower", "upper"]]
                          .rename(columns={"lower": "nps_lower", "upper": "nps_upper"}))
        if rating is not None:
            frames.append(csat(survey, rating=rating, by=by, scale=scale)[["csat", "lower", "upper"]]
                          .rename(columns={"lower": "csat_lower", "upper": "csat_upper"}))
        sec.table(pd.concat(frames, axis=1), caption=f"By {by}", float_format="{:,.1f}")
    if time is not None:
        lines, index = {}, None
        if score is not None:
            monthly = nps(survey, score=score, time=time, freq="M")
            lines["NPS"] = monthly["nps"].to_numpy()
            index = monthly.index
        if rating is not None:
            monthly_csat = csat(survey, rating=rating, time=time, freq="M", scale=scale)
            lines["CSAT (%)"] = monthly_csat["csat"].reindex(index).to_numpy() if index is not None \
                else monthly_csat["csat"].to_numpy()
            index = monthly_csat.index if index is None else index
        if index is not None and len(index) >= 2:
            sec.figure(_plot.line_chart(np.arange(len(index)), lines, title="Satisfaction by month",
                                        x_label=f"Month ({index[0]} to {index[-1]})", y_label="Score"),
                       caption="Monthly NPS and CSAT; single months move within their confidence intervals.")
    target = rating if rating is not None else score
    if attributes:
        drivers = key_drivers(survey, target=target, attributes=attributes, missing="drop")
        sec.table(drivers.table[["importance", "importance_share", "relative_weight_share", "beta", "correlation",
                                 "performance"]],
                  caption=f"Key drivers of {target} (R\u00b2 = {drivers.r2:.3f}, n = {drivers.n:,})",
                  float_format="{:,.3f}", percent_columns=("importance_share", "relative_weight_share"))
        sec.figure(drivers.quadrant_chart(),
                   caption="Top left: important but poorly rated, fix first; top right: important and well rated, "
                           "keep up.")
        truth = survey.attrs.get("importance_share")
        if truth:
            planted = pd.Series(truth).reindex(drivers.table.index)
            corr = float(np.corrcoef(planted.to_numpy(), drivers.table["importance_share"].to_numpy())[0, 1])
            sec.note(f"Sample data: the planted driver shares are known; their correlation with the estimated "
                     f"shares is {corr:.2f}.")
