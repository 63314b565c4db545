# SPDX-License-Identifier: Apache-2.0
"""Campaign strategy: score a customer table, pick whom to contact, and with which offer on which
channel under a budget and channel capacities.

Example::

    import crmine.campaign as cc
    chosen = cc.select(customers, model=churn_model, id="customer_id", n=500)
    chosen = cc.select(customers, model=model, id="customer_id", value_per_response=120.0,
                       cost_per_contact=4.0, budget=2000.0)   # the profitable N within budget
    plan = cc.optimize(response, value=[40.0, 90.0], cost=[0.2, 3.0], budget=5000.0,
                       capacity={"phone": 800})              # response: customers x offers x channels
    plan.assignment, plan.expected_profit, plan.gap
"""

from __future__ import annotations

import numbers
import time as _time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from . import _core

__all__ = ["score", "select", "profit_curve", "optimize", "CampaignPlan", "contact_windows"]


def score(table: pd.DataFrame, model: Any, *, id: str | None = None, features: list[str] | None = None) -> pd.DataFrame:
    """``table``'s ids (or index) with the model's P(y = positive class), ranked best first."""
    X = table[features] if features is not None else (table.drop(columns=[id]) if id is not None else table)
    if hasattr(model, "feature_names_in_") and features is None:
        X = table[list(model.feature_names_in_)]
    p = np.ascontiguousarray(model.predict_proba(X)[:, 1], dtype=np.float64)
    order = np.asarray(_core.rank_by_score(p))
    ids = table[id].to_numpy() if id is not None else table.index.to_numpy()
    return pd.DataFrame({id or "index": ids[order], "score": p[order], "rank": np.arange(1, len(p) + 1)})


def profit_curve(proba: Any, *, value_per_response: float, cost_per_contact: float) -> pd.DataFrame:
    """Expected profit of contacting the k best-scored customers, k = 0..n, with
    ``attrs["best_n"]`` and ``attrs["best_profit"]``. ``proba`` should be calibrated."""
    p = np.ascontiguousarray(proba, dtype=np.float64)
    c = _core.profit_curve(p, float(value_per_response), float(cost_per_contact))
    out = pd.DataFrame({"contacts": np.arange(len(c.profit)), "expected_profit": c.profit})
    out.attrs.update(best_n=int(c.best_n), best_profit=float(c.best_profit))
    return out


def select(table: pd.DataFrame, *, model: Any = None, score_column: str | None = None, id: str | None = None,
           n: int | None = None, budget: float | None = None, cost_per_contact: float | None = None,
           value_per_response: float | None = None, features: list[str] | None = None) -> pd.DataFrame:
    """The customers to contact, best first, with ``score``, ``rank`` and (when values are given)
    ``expected_profit`` (cumulative).

    Scores come from ``model.predict_proba`` or from ``score_column``. How many: ``n``; or as
    many as ``budget / cost_per_contact`` allows; or, given ``value_per_response`` and
    ``cost_per_contact``, the N with the largest expected profit. With several limits the
    smallest N wins.
    """
    if (model is None) == (score_column is None):
        raise ValueError("select: give exactly one of model or score_column")
    if model is not None:
        ranked = score(table, model, id=id, features=features)
    else:
        p = np.ascontiguousarray(table[score_column], dtype=np.float64)
        order = np.asarray(_core.rank_by_score(p))
        ids = table[id].to_numpy() if id is not None else table.index.to_numpy()
        ranked = pd.DataFrame({id or "index": ids[order], "score": p[order], "rank": np.arange(1, len(p) + 1)})
    limit = len(ranked)
    if n is not None:
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
            raise ValueError(f"select: n must be an int >= 0, got {n!r}")
        limit = min(limit, int(n))
    if budget is not None:
        if cost_per_contact is None or not cost_per_contact > 0:
            raise ValueError("select: budget needs cost_per_contact > 0")
        if not budget >= 0:
            raise ValueError(f"select: budget must be >= 0, got {budget!r}")
        limit = min(limit, int(np.floor(budget / cost_per_contact + 1e-9)))
    if value_per_response is not None:
        if cost_per_contact is None:
            raise ValueError("select: value_per_response needs cost_per_contact")
        curve = profit_curve(ranked["score"].to_numpy(), value_per_response=value_per_response,
                             cost_per_contact=cost_per_contact)
        ranked["expected_profit"] = curve["expected_profit"].to_numpy()[1:]
        if n is None and budget is None:
            limit = min(limit, curve.attrs["best_n"])
        else:
            limit = min(limit, int(np.argmax(curve["expected_profit"].to_numpy()[: limit + 1])))
    return ranked.head(limit).reset_index(drop=True)


# --- Budget-limited assignment ------------------------------------------------------------------

@dataclass
class CampaignPlan:
    """The result of :func:`optimize`.

    ``assignment`` has one row per contacted customer (``customer``, ``offer``, ``channel``,
    ``response``, ``value``, ``cost``, ``expected_profit``, plus the contact-window columns when
    windows were given). ``upper_bound`` is a proven upper bound on the best achievable expected
    profit (the LP dual for ``greedy``, HiGHS's MIP dual bound for ``exact``), so ``gap`` =
    (upper_bound - expected_profit) / upper_bound says how far from optimal the plan can be.
    """

    assignment: pd.DataFrame
    expected_profit: float
    expected_value: float
    cost: float
    channel_contacts: pd.Series
    upper_bound: float
    gap: float
    method: str
    seconds: float
    n_candidates: int
    prices: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        """The headline figures as a flat dict (for logging or a report table)."""
        return {"method": self.method, "contacts": int(len(self.assignment)), "expected_profit": self.expected_profit,
                "expected_value": self.expected_value, "cost": self.cost, "upper_bound": self.upper_bound,
                "gap": self.gap, "seconds": self.seconds}


def _labels(labels: Any, n: int, name: str) -> np.ndarray:
    if labels is None:
        return np.arange(n)
    out = np.asarray(list(labels) if not isinstance(labels, (np.ndarray, pd.Index, pd.Series)) else labels)
    if out.ndim != 1 or len(out) != n:
        raise ValueError(f"optimize: {name} has {len(out)} labels, the response array has {n} along that axis")
    return out


def _float_array(x: Any, name: str) -> np.ndarray:
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise ValueError(f"optimize: {name} must be numeric: {e}") from None
    return arr


def _broadcast(x: Any, name: str, n: int, offers: int, channels: int, axis_1d: str) -> np.ndarray:
    """``x`` as an (n, offers, channels) float64 view: scalars and per-offer / per-channel /
    per-customer arrays are broadcast with zero strides, so nothing is copied."""
    arr = _float_array(x, name)
    shape = (n, offers, channels)
    if arr.ndim == 0:
        view = arr.reshape(1, 1, 1)
    elif arr.ndim == 1:
        want = offers if axis_1d == "offer" else channels
        if arr.shape[0] != want:
            raise ValueError(f"optimize: {name} has {arr.shape[0]} entries; a 1-d {name} gives one per {axis_1d} "
                             f"({want})")
        view = arr.reshape(1, offers, 1) if axis_1d == "offer" else arr.reshape(1, 1, channels)
    elif arr.ndim == 2:
        want = (n, offers) if axis_1d == "offer" else (n, channels)
        if arr.shape != want:
            raise ValueError(f"optimize: {name} has shape {arr.shape}; a 2-d {name} is (customers, {axis_1d}s) = {want}")
        view = arr.reshape(n, offers, 1) if axis_1d == "offer" else arr.reshape(n, 1, channels)
    elif arr.ndim == 3:
        if arr.shape != shape:
            raise ValueError(f"optimize: {name} has shape {arr.shape}, the response array has shape {shape}")
        view = arr
    else:
        raise ValueError(f"optimize: {name} must be a scalar or a 1-, 2- or 3-d array, got {arr.ndim} dimensions")
    return np.broadcast_to(view, shape)


def _capacity(capacity: Any, channel_labels: np.ndarray) -> list[float]:
    k = len(channel_labels)
    if capacity is None:
        return []
    if isinstance(capacity, dict):
        unknown = [c for c in capacity if c not in set(channel_labels.tolist())]
        if unknown:
            raise ValueError(f"optimize: capacity names unknown channels {unknown}; channels are {channel_labels.tolist()}")
        out = [np.inf] * k
        for i, c in enumerate(channel_labels.tolist()):
            if c in capacity and capacity[c] is not None:
                out[i] = float(capacity[c])
        return out
    if isinstance(capacity, numbers.Number):
        return [float(capacity)] * k
    arr = np.asarray([np.inf if c is None else c for c in capacity], dtype=np.float64)
    if arr.ndim != 1 or len(arr) != k:
        raise ValueError(f"optimize: capacity has {arr.size} entries for {k} channels")
    return arr.tolist()


def _solve_exact(cand: dict[str, np.ndarray], n: int, n_channels: int, budget: float, capacity: list[float],
                 time_limit: float | None, mip_rel_gap: float) -> tuple[np.ndarray, float]:
    """HiGHS (through scipy.optimize.milp) on the pruned candidates: which candidates are taken and
    the solver's proven upper bound on the optimum."""
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import csr_matrix, vstack

    m = len(cand["profit"])
    if m == 0:
        return np.zeros(0, dtype=bool), 0.0
    indptr = cand["indptr"]
    owner = np.repeat(np.arange(n), np.diff(indptr))
    keep = np.diff(indptr) > 1  # a customer with one candidate needs no choice row
    rows = np.cumsum(keep) - 1
    sel = keep[owner]
    blocks = [csr_matrix((np.ones(sel.sum()), (rows[owner[sel]], np.nonzero(sel)[0])), shape=(int(keep.sum()), m))]
    upper = [np.ones(int(keep.sum()))]
    if np.isfinite(budget):
        blocks.append(csr_matrix(cand["cost"].reshape(1, m)))
        upper.append(np.array([budget]))
    cap = capacity or [np.inf] * n_channels
    for c in range(n_channels):
        if np.isfinite(cap[c]):
            blocks.append(csr_matrix((cand["channel"] == c).astype(np.float64).reshape(1, m)))
            upper.append(np.array([cap[c]]))
    # HiGHS's presolve spends most of its time on the one-row-per-customer structure and removes
    # almost nothing (measured 4x slower in total on 5,000 customers), so it is switched off.
    options: dict[str, Any] = {"mip_rel_gap": mip_rel_gap, "disp": False, "presolve": False}
    if time_limit is not None:
        options["time_limit"] = float(time_limit)
    A = vstack(blocks, format="csr")
    ub = np.concatenate(upper)
    res = milp(-cand["profit"], integrality=np.ones(m), bounds=Bounds(0, 1),
               constraints=LinearConstraint(A, -np.inf, ub), options=options)
    if res.x is None:
        raise RuntimeError(f"optimize: the exact solver found no solution ({res.message})")
    bound = getattr(res, "mip_dual_bound", None)
    return res.x > 0.5, (-float(bound) if bound is not None and np.isfinite(bound) else float(-res.fun))


def optimize(response: Any, *, value: Any, cost: Any, budget: float = np.inf, capacity: Any = None,
             method: str = "greedy", customers: Any = None, offers: Any = None, channels: Any = None,
             contact_windows: pd.DataFrame | None = None, max_iter: int = 50, tol: float = 1e-7,
             time_limit: float | None = None, mip_rel_gap: float = 1e-6, n_jobs: int | None = None) -> CampaignPlan:
    """Chooses for each customer at most one (offer, channel) contact to maximise the expected
    profit  sum(response x value - cost)  within ``budget`` (total contact cost) and ``capacity``
    (contacts per channel).

    ``response`` is P(response) per customer x offer x channel, from any calibrated model (a 2-d
    array is one channel). ``value`` is a scalar, one per offer, (customers, offers) or the full
    cube; ``cost`` a scalar, one per channel, (customers, channels) or the full cube. ``capacity``
    is None (unlimited), a number for every channel, a sequence with one entry per channel or a
    dict {channel: limit} (None / inf = unlimited).

    ``method``: ``"greedy"`` (dual-price greedy in C++, for millions of customers, with a proven
    LP upper bound), ``"exact"`` (the integer program solved by HiGHS through
    ``scipy.optimize.milp``, for moderate sizes; ``time_limit`` in seconds, ``mip_rel_gap`` its
    stopping gap) or ``"auto"`` (exact up to 100,000 customers, greedy beyond).
    ``contact_windows`` (from :func:`contact_windows`, indexed by customer id) adds each contacted
    customer's best contact window to the assignment.
    """
    if method not in ("greedy", "exact", "auto"):
        raise ValueError(f"optimize: method must be 'greedy', 'exact' or 'auto', got {method!r}")
    if isinstance(budget, bool) or not isinstance(budget, numbers.Real):
        raise ValueError(f"optimize: budget must be a number > 0, got {budget!r}")
    budget = float(budget)
    if not budget > 0:  # also catches NaN
        raise ValueError(f"optimize: budget must be > 0, got {budget!r}")
    r = _float_array(response, "response")
    if r.ndim == 2:
        r = r[:, :, None]
    if r.ndim != 3:
        raise ValueError(f"optimize: response must be 3-d (customers, offers, channels) or 2-d (customers, offers), "
                         f"got {r.ndim} dimensions")
    n, n_offers, n_channels = r.shape
    customer_labels = _labels(customers, n, "customers")
    offer_labels = _labels(offers, n_offers, "offers")
    channel_labels = _labels(channels, n_channels, "channels")
    v = _broadcast(value, "value", n, n_offers, n_channels, "offer")
    k = _broadcast(cost, "cost", n, n_offers, n_channels, "channel")
    cap = _capacity(capacity, channel_labels)
    threads = 0 if n_jobs is None or n_jobs < 0 else int(n_jobs)
    if method == "auto":
        method = "exact" if n <= 100_000 else "greedy"
    start = _time.perf_counter()
    prices: dict[str, Any] = {}
    if method == "greedy":
        opts = _core.CampaignOptimizerOptions()
        opts.max_iter, opts.tol, opts.n_threads = int(max_iter), float(tol), threads
        res = _core.optimize_campaign(r, v, k, budget, cap, opts)
        offer = np.asarray(res.offer)
        channel = np.asarray(res.channel)
        upper, n_cand = float(res.upper_bound), int(res.n_candidates)
        prices = {"budget": float(res.budget_price),
                  "channel": dict(zip(channel_labels.tolist(), map(float, res.channel_price))),
                  "rounds": int(res.n_iter)}
    else:
        cand = _core.campaign_candidates(r, v, k, budget, cap, threads)
        taken, upper = _solve_exact(cand, n, n_channels, budget, cap, time_limit, mip_rel_gap)
        n_cand = len(cand["profit"])
        owner = np.repeat(np.arange(n), np.diff(cand["indptr"]))
        offer = np.full(n, -1, dtype=np.int32)
        channel = np.full(n, -1, dtype=np.int32)
        offer[owner[taken]] = cand["offer"][taken]
        channel[owner[taken]] = cand["channel"][taken]
    seconds = _time.perf_counter() - start
    rows = np.nonzero(offer >= 0)[0]
    o, c = offer[rows].astype(np.intp), channel[rows].astype(np.intp)
    p_, v_, k_ = r[rows, o, c], v[rows, o, c], k[rows, o, c]
    assignment = pd.DataFrame({"customer": customer_labels[rows], "offer": offer_labels[o], "channel": channel_labels[c],
                               "response": p_, "value": v_, "cost": k_, "expected_profit": p_ * v_ - k_})
    if contact_windows is not None:
        assignment = assignment.join(contact_windows, on="customer")
    profit = float(assignment["expected_profit"].sum())
    upper = max(upper, profit)
    counts = pd.Series(np.bincount(c, minlength=n_channels), index=channel_labels, name="contacts")
    return CampaignPlan(assignment=assignment, expected_profit=profit,
                        expected_value=float((assignment["response"] * assignment["value"]).sum()),
                        cost=float(assignment["cost"].sum()), channel_contacts=counts, upper_bound=upper,
                        gap=(upper - profit) / max(abs(upper), 1e-300), method=method, seconds=seconds,
                        n_candidates=n_cand, prices=prices)


# --- Timing --------------------------------------------------------------------------------------

def contact_windows(transactions: pd.DataFrame, *, customer: str, time: str, as_of: Any = None,
                    lead: float = 0.25) -> pd.DataFrame:
    """Each customer's best contact window from their purchase history, indexed by customer.

    Columns: ``n_purchase_days``; ``last_purchase``; ``typical_weekday`` (0 = Monday, the most
    frequent purchase weekday, ties to the earliest) and ``weekday_share`` (its share of purchase
    days); ``cycle_days`` (median days between purchase days; NaN with one purchase day);
    ``next_purchase`` (last purchase + cycle, or ``as_of`` when that is already past: the customer
    is due); ``window_start`` / ``window_end`` (from ``lead`` x cycle days, at least one day,
    before the predicted purchase, never before ``as_of``, up to the predicted purchase);
    ``best_contact_date`` (the first typical weekday in the window, else its start). ``as_of``
    defaults to the day after the last transaction.
    """
    for col in (customer, time):
        if col not in transactions.columns:
            raise ValueError(f"contact_windows: no column {col!r} in transactions (columns: {list(transactions.columns)})")
    if not lead >= 0:
        raise ValueError(f"contact_windows: lead must be >= 0, got {lead!r}")
    t = pd.to_datetime(transactions[time])
    if t.isna().any():
        raise ValueError(f"contact_windows: {time}: missing or unparseable time at row {int(np.argmax(t.isna().to_numpy()))}")
    if len(t) == 0:
        raise ValueError("contact_windows: transactions is empty")
    days = pd.DataFrame({"customer": transactions[customer].to_numpy(), "day": t.dt.normalize().to_numpy()})
    days = days.drop_duplicates().sort_values(["customer", "day"], kind="stable")
    as_of = (days["day"].max() + pd.Timedelta(days=1)) if as_of is None else pd.Timestamp(as_of).normalize()
    g = days.groupby("customer", sort=True)["day"]
    out = pd.DataFrame({"n_purchase_days": g.size(), "last_purchase": g.max()})
    weekday = days.assign(weekday=days["day"].dt.day_of_week)
    counts = weekday.groupby(["customer", "weekday"]).size().rename("k").reset_index()
    counts = counts.sort_values(["customer", "k", "weekday"], ascending=[True, False, True], kind="stable")
    top = counts.drop_duplicates("customer").set_index("customer")
    out["typical_weekday"] = top["weekday"].reindex(out.index).astype(np.int64)
    out["weekday_share"] = top["k"].reindex(out.index) / out["n_purchase_days"]
    gaps = days.assign(gap=g.diff().dt.days).dropna(subset=["gap"])
    out["cycle_days"] = gaps.groupby("customer")["gap"].median().reindex(out.index)
    cycle = pd.to_timedelta(out["cycle_days"], unit="D")
    predicted = out["last_purchase"] + cycle
    out["next_purchase"] = predicted.where(predicted.isna() | (predicted >= as_of), as_of)
    lead_days = pd.to_timedelta(np.maximum(1.0, lead * out["cycle_days"]).round(), unit="D")
    out["window_start"] = (out["next_purchase"] - lead_days).clip(lower=as_of)
    out["window_end"] = out["next_purchase"]
    offset = (out["typical_weekday"] - out["window_start"].dt.day_of_week) % 7
    first = out["window_start"] + pd.to_timedelta(offset, unit="D")
    out["best_contact_date"] = first.where(first <= out["window_end"], out["window_start"])
    out.index.name = customer
    return out
