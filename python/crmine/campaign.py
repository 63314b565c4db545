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

    ``assignment`` has one row per contact (``customer``, ``offer``, ``channel``, ``response``,
    ``value``, ``cost``, ``expected_profit``, plus the contact-window columns when windows were
    given), ordered by customer then offer. ``upper_bound`` is a proven upper bound on the best
    achievable expected profit (the Lagrangian LP dual for ``greedy``; for ``exact`` the solver's
    MIP dual bound, equal to the profit when it proved optimality), so ``gap`` =
    (upper_bound - expected_profit) / upper_bound says how far from optimal the plan can be.
    ``status`` is ``"optimal"`` when the exact solver proved optimality (within ``mip_rel_gap``),
    HiGHS's status (e.g. ``"Time limit reached"``) when it stopped early, and ``"greedy"`` for the
    greedy. ``n_free`` is the number of candidates left to the exact solver after reduced-cost
    fixing (equal to ``n_candidates`` for the greedy).
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
    status: str = "greedy"
    n_free: int = 0

    def summary(self) -> dict[str, Any]:
        """The headline figures as a flat dict (for logging or a report table)."""
        return {"method": self.method, "contacts": int(len(self.assignment)), "expected_profit": self.expected_profit,
                "expected_value": self.expected_value, "cost": self.cost, "upper_bound": self.upper_bound,
                "gap": self.gap, "status": self.status, "seconds": self.seconds}


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


def _greedy_options(max_iter: int, tol: float, threads: int) -> Any:
    opts = _core.CampaignOptimizerOptions()
    opts.max_iter, opts.tol, opts.n_threads = int(max_iter), float(tol), threads
    return opts


def _solve_exact(r: np.ndarray, v: np.ndarray, k: np.ndarray, budget: float, capacity: list[float],
                 max_offers: int, opts: Any, time_limit: float | None, mip_rel_gap: float) -> dict[str, Any]:
    """The integer program solved exactly with HiGHS (scipy.optimize.linprog), exploiting its structure.

    1. Candidates (profitable, undominated contacts) and the C++ greedy give dual prices, a plan
       (the incumbent) and the Lagrangian bound; reduced-cost fixing then settles every candidate
       whose inclusion or exclusion alone would cost more than bound - incumbent (no plan at
       least as good as the greedy's can differ there), so only the free ones reach the solver.
    2. Budget and capacities depend on a contact only through its (channel, cost) class, so they
       are written on one integer count N_k per class, linked by sum_{j in k} x_j = N_k, and the
       contact variables x stay continuous. The rows on x (one per customer, one per customer and
       offer, one per class) are two laminar families, a totally unimodular matrix: for integer
       N_k the LP over x has integral vertices, so a branch and bound on the few N_k alone, each
       node an LP solved by HiGHS, finds the integer optimum (see ``_branch_on_counts``).
    """
    from scipy.sparse import coo_matrix

    cand, greedy, fix = _core.campaign_reduction(r, v, k, budget, capacity, opts, max_offers)
    n = r.shape[0]
    profit, cost, channel, offer = cand["profit"], cand["cost"], cand["channel"], cand["offer"]
    owner = np.repeat(np.arange(n), np.diff(cand["indptr"]))
    taken, free = fix == 1, np.flatnonzero(fix == 0)
    result = {"cand": cand, "owner": owner, "taken": np.asarray(greedy.candidate, dtype=np.int64), "n_free": len(free),
              "upper": float(greedy.upper_bound), "status": "optimal"}
    if len(free) == 0:  # every candidate settled: the greedy's plan is the only one that good
        return result
    # Classes of every candidate, so taken ones count towards their class.
    classes, cls = np.unique(np.stack([channel.astype(np.float64), cost]), axis=1, return_inverse=True)
    cls = cls.ravel()
    n_cls = classes.shape[1]
    taken_per_class = np.bincount(cls[taken], minlength=n_cls).astype(np.float64)
    m_free = len(free)
    rows, cols, upper = [], [], []
    n_rows = 0

    def add_group_rows(keys: np.ndarray, limit: np.ndarray) -> None:
        """One row sum(x) <= limit per key value of the free candidates, where it can bind."""
        nonlocal n_rows
        uniq, inv, counts = np.unique(keys, return_inverse=True, return_counts=True)
        binds = counts > limit
        row = np.cumsum(binds) - 1
        sel = binds[inv]
        rows.append(n_rows + row[inv[sel]])
        cols.append(np.flatnonzero(sel))
        upper.append(limit[binds])
        n_rows += int(binds.sum())

    f_owner = owner[free]
    slots = max_offers - np.bincount(owner[taken], minlength=n)
    add_group_rows(f_owner, slots[np.unique(f_owner)].astype(np.float64))
    if max_offers > 1:
        n_offers = r.shape[1]
        f_pair = f_owner * n_offers + offer[free]
        pair_taken = np.zeros(n * n_offers, dtype=np.int64)
        np.add.at(pair_taken, owner[taken] * n_offers + offer[taken], 1)
        add_group_rows(f_pair, (1 - pair_taken[np.unique(f_pair)]).astype(np.float64))
    tu_rows = n_rows
    data = [np.ones(sum(len(c) for c in cols))]
    # Class rows: sum of free x in class k - N_k = -(taken in class k).
    rows += [n_rows + cls[free], n_rows + np.arange(n_cls)]
    cols += [np.arange(m_free), m_free + np.arange(n_cls)]
    data += [np.ones(m_free), -np.ones(n_cls)]
    n_rows += n_cls
    lower = np.concatenate([np.full(tu_rows, -np.inf), -taken_per_class])
    upper_all = np.concatenate(upper + [-taken_per_class]) if upper else -taken_per_class
    coupling = []  # (coefficients on N, limit)
    if np.isfinite(budget):
        coupling.append((classes[1], budget))
    cls_channel = classes[0].astype(np.int64)
    for c, limit in enumerate(capacity):
        if np.isfinite(limit):
            coupling.append(((cls_channel == c).astype(np.float64), limit))
    for coef, limit in coupling:
        nz = np.flatnonzero(coef)
        rows.append(np.full(len(nz), n_rows))
        cols.append(m_free + nz)
        data.append(coef[nz])
        lower = np.append(lower, -np.inf)
        upper_all = np.append(upper_all, limit)
        n_rows += 1
    A = coo_matrix((np.concatenate(data), (np.concatenate(rows), np.concatenate(cols))),
                   shape=(n_rows, m_free + n_cls)).tocsr()
    fixed_profit = float(profit[taken].sum())
    greedy_profit = float(greedy.expected_profit)
    eq = np.isfinite(lower)
    best = _branch_on_counts(-np.concatenate([profit[free], np.zeros(n_cls)]), A[~eq], upper_all[~eq], A[eq],
                             upper_all[eq], m_free, greedy_profit - fixed_profit,
                             mip_rel_gap * max(abs(greedy_profit), 1.0), time_limit)
    result["upper"] = min(result["upper"], fixed_profit + best["bound"])
    result["status"] = best["status"]
    result["nodes"] = best["nodes"]
    if best["x"] is None:  # nothing better than the greedy's plan: it is the plan returned
        return result
    x = best["x"]
    chosen = np.concatenate([np.flatnonzero(taken), free[x > 0.5]])
    result["taken"] = np.sort(chosen)
    return result


def _branch_on_counts(c: np.ndarray, A_ub: Any, b_ub: np.ndarray, A_eq: Any, b_eq: np.ndarray, m: int,
                      incumbent: float, tol: float, time_limit: float | None) -> dict[str, Any]:
    """Best-first branch and bound on the integer class counts (the columns from ``m`` on), every
    node's LP solved by HiGHS's dual simplex (``scipy.optimize.linprog``).

    Branching on the counts alone suffices: at integer counts the contact rows are totally
    unimodular, so a basic optimum is 0/1 in the contact variables (re-solved with the counts fixed
    when HiGHS's point is not basic). HiGHS is called without presolve: its presolve does not come
    back within 10 minutes on the 100,000-customer problem, while the dual simplex solves the LP in
    seconds; likewise its MILP solver on this model does not finish its root node in that time,
    hence the tree here (a handful of nodes: the LP value is concave in the counts). Nodes whose LP
    bound exceeds ``incumbent`` (the objective to beat) by at most ``tol`` are pruned.

    Returns the best x found above the incumbent (or None), an upper bound on the optimum, the
    status (``"optimal"`` or why it stopped) and the number of LP solves.
    """
    import heapq
    import time

    from scipy.optimize import linprog

    start = time.perf_counter()
    n_cols = len(c)
    n_cls = n_cols - m
    col_lo, col_hi = np.zeros(n_cols), np.concatenate([np.ones(m), np.full(n_cls, np.inf)])
    opts = {"presolve": False}

    def solve(lo: np.ndarray, hi: np.ndarray) -> Any:
        bounds = np.stack([col_lo, col_hi], axis=1)
        bounds[m:, 0], bounds[m:, 1] = lo, hi
        return linprog(c, A_ub=A_ub if A_ub.shape[0] else None, b_ub=b_ub if A_ub.shape[0] else None,
                       A_eq=A_eq if A_eq.shape[0] else None, b_eq=b_eq if A_eq.shape[0] else None,
                       bounds=bounds, method="highs-ds", options=opts)

    def prune(bound: float) -> bool:
        return bound <= incumbent + tol

    best_x, nodes = None, 0
    heap: list[Any] = [(-np.inf, 0, np.zeros(n_cls), np.full(n_cls, np.inf))]
    order = 1
    while heap:
        parent_bound = -heap[0][0]
        if prune(parent_bound):
            break
        if time_limit is not None and time.perf_counter() - start > time_limit:
            return {"x": best_x, "bound": max(parent_bound, incumbent), "nodes": nodes,
                    "status": f"time limit reached ({nodes} LP solves)"}
        _, _, lo, hi = heapq.heappop(heap)
        lp = solve(lo, hi)
        nodes += 1
        if lp.status == 2:  # infeasible branch
            continue
        if lp.status != 0:
            raise RuntimeError(f"optimize: HiGHS could not solve a node's LP ({lp.message})")
        value = -lp.fun
        if prune(value):
            continue
        counts = lp.x[m:]
        frac = np.abs(counts - np.round(counts))
        if frac.max() > 1e-6:
            b = int(np.argmax(frac))
            for lo2, hi2 in ((lo, np.where(np.arange(n_cls) == b, np.floor(counts[b]), hi)),
                             (np.where(np.arange(n_cls) == b, np.ceil(counts[b]), lo), hi)):
                heapq.heappush(heap, (-value, order, lo2, hi2))
                order += 1
            continue
        x = lp.x[:m]
        if np.abs(x - np.round(x)).max() > 1e-6:
            # Integer counts but not a vertex of the contact polytope: fixing them makes the LP totally
            # unimodular, and the dual simplex returns a 0/1 point of the same value.
            fixed = np.round(counts)
            lp = solve(fixed, fixed)
            nodes += 1
            if lp.status != 0 or np.abs(lp.x[:m] - np.round(lp.x[:m])).max() > 1e-6:
                raise RuntimeError(f"optimize: the exact solver's plan could not be made integral ({lp.message})")
            x, value = lp.x[:m], -lp.fun
        best_x, incumbent = np.round(x), value
    bound = max(-heap[0][0], incumbent) if heap else incumbent
    return {"x": best_x, "bound": bound, "status": "optimal", "nodes": nodes}


def optimize(response: Any, *, value: Any, cost: Any, budget: float = np.inf, capacity: Any = None,
             max_offers_per_customer: int = 1, method: str = "greedy", customers: Any = None, offers: Any = None,
             channels: Any = None, contact_windows: pd.DataFrame | None = None, max_iter: int = 50, tol: float = 1e-7,
             time_limit: float | None = None, mip_rel_gap: float = 1e-9, n_jobs: int | None = None) -> CampaignPlan:
    """Chooses for each customer at most ``max_offers_per_customer`` (offer, channel) contacts, each
    with a different offer (one contact by default), to maximise the expected profit
    sum(response x value - cost) within ``budget`` (total contact cost) and ``capacity`` (contacts
    per channel). A customer's contacts add up: their responses are taken as independent.

    ``response`` is P(response) per customer x offer x channel, from any calibrated model (a 2-d
    array is one channel). ``value`` is a scalar, one per offer, (customers, offers) or the full
    cube; ``cost`` a scalar, one per channel, (customers, channels) or the full cube. ``capacity``
    is None (unlimited), a number for every channel, a sequence with one entry per channel or a
    dict {channel: limit} (None / inf = unlimited).

    ``method``: ``"greedy"`` (dual-price greedy in C++, for millions of customers, with a proven
    LP upper bound), ``"exact"`` (the integer program, after reduced-cost fixing, with budget and
    capacities on integer counts per (channel, cost) class: a branch and bound on those counts
    whose LPs HiGHS solves through ``scipy.optimize.linprog``; ``time_limit`` in seconds,
    ``mip_rel_gap`` its stopping gap; see
    ``status`` and ``gap`` of the result) or ``"auto"`` (exact up to 100,000 customers, greedy
    beyond). ``contact_windows`` (from :func:`contact_windows`, indexed by customer id) adds each
    contacted customer's best contact window to the assignment.
    """
    if method not in ("greedy", "exact", "auto"):
        raise ValueError(f"optimize: method must be 'greedy', 'exact' or 'auto', got {method!r}")
    if isinstance(budget, bool) or not isinstance(budget, numbers.Real):
        raise ValueError(f"optimize: budget must be a number > 0, got {budget!r}")
    budget = float(budget)
    if not budget > 0:  # also catches NaN
        raise ValueError(f"optimize: budget must be > 0, got {budget!r}")
    if (isinstance(max_offers_per_customer, bool) or not isinstance(max_offers_per_customer, (numbers.Integral, np.integer))
            or max_offers_per_customer < 1):
        raise ValueError(f"optimize: max_offers_per_customer must be an int >= 1, got {max_offers_per_customer!r}")
    max_offers = int(max_offers_per_customer)
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
    opts = _greedy_options(max_iter, tol, threads)
    status = "greedy"
    if method == "greedy":
        res = _core.optimize_campaign(r, v, k, budget, cap, opts, max_offers)
        rows = np.asarray(res.customer)
        o, c = np.asarray(res.offer).astype(np.intp), np.asarray(res.channel).astype(np.intp)
        upper, n_cand = float(res.upper_bound), int(res.n_candidates)
        n_free = n_cand
        prices = {"budget": float(res.budget_price),
                  "channel": dict(zip(channel_labels.tolist(), map(float, res.channel_price))),
                  "rounds": int(res.n_iter)}
    else:
        if not 0 <= mip_rel_gap < 1:
            raise ValueError(f"optimize: mip_rel_gap must be in [0, 1), got {mip_rel_gap!r}")
        if time_limit is not None and not time_limit > 0:
            raise ValueError(f"optimize: time_limit must be None or > 0 seconds, got {time_limit!r}")
        ex = _solve_exact(r, v, k, budget, cap, max_offers, opts, time_limit, mip_rel_gap)
        chosen = ex["taken"]
        rows = ex["owner"][chosen]
        o = ex["cand"]["offer"][chosen].astype(np.intp)
        c = ex["cand"]["channel"][chosen].astype(np.intp)
        upper, n_cand, n_free, status = ex["upper"], len(ex["cand"]["profit"]), ex["n_free"], ex["status"]
    seconds = _time.perf_counter() - start
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
                        n_candidates=n_cand, prices=prices, status=status, n_free=n_free)


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
