# SPDX-License-Identifier: Apache-2.0
"""Seeded generator of realistic CRM transaction logs with planted, documented structure."""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
import pandas as pd

__all__ = ["SEGMENTS", "SampleData", "add_anomalies", "load_sample", "make_campaign", "make_survey",
           "make_transactions"]

#: Planted behavioural segments. Time is measured in weeks: ``lambda ~ Gamma(r, rate=alpha)`` is
#: the weekly purchase rate, ``p ~ Beta(a, b)`` the dropout probability after each repeat purchase
#: (BG/NBD). Spend follows Gamma-Gamma: ``nu ~ Gamma(q, rate=gamma)`` and each order's value
#: ``~ Gamma(p, rate=nu)``, so a customer's true mean order value is ``p / nu`` and the segment's
#: mean is ``p * gamma / (q - 1)``. ``discount_prob`` is the chance an order line is bought on
#: promotion and ``return_weight`` scales the segment's return propensity relative to the others.
_SEGMENT_TABLE = {
    "loyal high-value": {
        "share": 0.12, "r": 4.0, "alpha": 8.0, "a": 1.0, "b": 20.0,
        "p": 6.0, "q": 4.0, "gamma": 75.0, "discount_prob": 0.05, "return_weight": 0.8,
    },
    "regular": {
        "share": 0.28, "r": 2.0, "alpha": 10.0, "a": 1.2, "b": 8.0,
        "p": 4.0, "q": 5.0, "gamma": 60.0, "discount_prob": 0.10, "return_weight": 1.0,
    },
    "bargain hunter": {
        "share": 0.20, "r": 1.5, "alpha": 5.0, "a": 2.0, "b": 10.0,
        "p": 3.0, "q": 6.0, "gamma": 42.0, "discount_prob": 0.60, "return_weight": 2.0,
    },
    "occasional": {
        "share": 0.25, "r": 0.8, "alpha": 12.0, "a": 1.5, "b": 4.0,
        "p": 3.0, "q": 4.0, "gamma": 50.0, "discount_prob": 0.10, "return_weight": 0.8,
    },
    "one-off": {
        "share": 0.15, "r": 0.3, "alpha": 40.0, "a": 4.0, "b": 2.0,
        "p": 2.5, "q": 4.0, "gamma": 48.0, "discount_prob": 0.15, "return_weight": 1.5,
    },
}

#: Read-only view of the segment table; ``truth["segments"]`` holds a plain copy.
SEGMENTS: Mapping[str, Mapping[str, float]] = MappingProxyType(
    {name: MappingProxyType(params) for name, params in _SEGMENT_TABLE.items()})

# Preferred-channel mix (web, store, app) and mean age per segment, in SEGMENTS order.
_CHANNELS = ("web", "store", "app")
_SEGMENT_CHANNEL_MIX = np.array([[0.30, 0.20, 0.50],
                                 [0.40, 0.35, 0.25],
                                 [0.65, 0.20, 0.15],
                                 [0.25, 0.60, 0.15],
                                 [0.50, 0.35, 0.15]])
_SEGMENT_MEAN_AGE = np.array([47.0, 42.0, 34.0, 52.0, 38.0])
_REGIONS = ("north", "south", "east", "west", "central")
_REGION_SHARE = np.array([0.28, 0.24, 0.20, 0.16, 0.12])
# Category name -> median shelf price; lognormal spread around it gives realistic price ladders.
_CATEGORIES = {"grocery": 4.0, "household": 8.0, "beauty": 15.0, "toys": 20.0, "apparel": 30.0,
               "home": 35.0, "sports": 40.0, "electronics": 60.0}
_ANOMALY_KINDS = ("spend_spike", "return_burst", "silence")

_MAX_LINES = 5
_BUNDLE_ORDER_SHARE = 0.25      # chance that an order able to afford a bundle carries one
_SEQUENCE_TRIGGER_SHARE = 0.12  # fraction of eligible orders that plant an A -> B sequence
_SEQUENCE_WINDOW_DAYS = 30
_RETURN_WINDOW_DAYS = 30
_RETURN_COST_RECOVERY = 0.7     # share of a returned line's cost of goods that is recovered
_ANOMALY_WINDOW = 0.10          # anomalies happen in this final fraction of the period
_ORDER_ID_BASE = 100_000


@dataclass(frozen=True)
class SampleData:
    """A generated CRM data set and the structure planted in it.

    Attributes
    ----------
    transactions : pandas.DataFrame
        One row per order line, sorted by ``date`` then ``order_id``. Columns ``customer_id``,
        ``order_id``, ``date``, ``item``, ``category``, ``quantity``, ``unit_price``, ``amount``,
        ``cost`` and ``channel``. Return rows have negative ``quantity``, ``amount`` and ``cost``
        and an order id of their own.
    customers : pandas.DataFrame
        One row per customer, indexed by ``customer_id``, with observable attributes (``region``,
        ``channel``, ``signup_date``, ``age``) and the true latent values (``segment``,
        ``purchase_rate``, ``dropout_prob``, ``alive``, ``mean_spend``, ``is_anomalous``).
    products : pandas.DataFrame
        One row per product, indexed by ``item``: ``category``, ``base_price``, ``cost_ratio``,
        ``unit_cost`` and the planted ``popularity`` weight (sums to 1).
    truth : dict
        Everything that was planted; see :func:`make_transactions`.
    """

    transactions: pd.DataFrame
    customers: pd.DataFrame
    products: pd.DataFrame
    truth: dict


def load_sample(seed: int = 0) -> SampleData:
    """Return the default sample: 5,000 customers over 2023-2024.

    This is what ``crmine report --sample`` analyses.

    Parameters
    ----------
    seed : int, default 0
        Seed of the random generator; the same seed always gives identical frames.

    Returns
    -------
    SampleData
        Same as ``make_transactions(seed=seed)``.
    """
    return make_transactions(seed=seed)


def make_transactions(n_customers: int = 5000, *, start: str = "2023-01-01",
                      end: str = "2024-12-31", n_products: int = 80, return_rate: float = 0.02,
                      anomaly_rate: float = 0.005, seed: int = 0) -> SampleData:
    """Generate a transaction log with known customer behaviour, affinities and anomalies.

    Parameters
    ----------
    n_customers : int, default 5000
        Number of customers; every one of them places at least one order.
    start, end : str or datetime-like, default "2023-01-01", "2024-12-31"
        First and last day of the observation period (both inclusive, time of day ignored).
    n_products : int, default 80
        Catalogue size, at least 10.
    return_rate : float, default 0.02
        Approximate fraction of purchase lines that are later returned, in [0, 0.5].
    anomaly_rate : float, default 0.005
        Fraction of customers given a planted deviation in the last 10% of the period, in
        [0, 0.5]. At least one customer is anomalous when ``n_customers >= 200`` and the rate
        is positive.
    seed : int, default 0
        Seed for :func:`numpy.random.default_rng`.

    Returns
    -------
    SampleData
        ``truth`` holds:

        - ``"segments"``: dict segment name -> parameters (``share``, BG/NBD ``r``, ``alpha``,
          ``a``, ``b`` per week, Gamma-Gamma ``p``, ``q``, ``gamma``, ``discount_prob``,
          ``return_weight``).
        - ``"bundles"``: list of lists of item ids bought together in the same order.
        - ``"sequences"``: list of ``(A, B)`` item pairs: buying A is followed by buying B within
          ``"sequence_window_days"`` (30) days.
        - ``"anomalies"``: DataFrame indexed by ``customer_id`` with ``kind`` (``"spend_spike"``,
          ``"return_burst"`` or ``"silence"``) and ``onset`` (first anomalous day).
        - ``"anomaly_window"``: ``(first, last)`` Timestamps of the final 10% of the period.
        - ``"return_cost_recovery"``: share of a returned line's cost of goods that is recovered.
        - ``"params"``: the arguments used.

    Raises
    ------
    TypeError
        If ``seed``, ``n_customers`` or ``n_products`` is not an integer, or a rate not a number.
    ValueError
        If an argument is out of range; the message names the argument.
    """
    n_customers = _check_int("n_customers", n_customers, 1)
    n_products = _check_int("n_products", n_products, 10)
    return_rate = _check_rate("return_rate", return_rate)
    anomaly_rate = _check_rate("anomaly_rate", anomaly_rate)
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"seed must be an integer, got {type(seed).__name__}")
    if seed < 0:
        raise ValueError(f"seed must be non-negative, got {seed}")
    t0, t1 = _check_period(start, end)

    rng = np.random.default_rng(int(seed))
    last_day = (t1 - t0).days  # day numbers run 0..last_day inclusive
    seg_names = list(SEGMENTS)
    seg = {k: np.array([SEGMENTS[s][k] for s in seg_names]) for k in SEGMENTS[seg_names[0]]}

    products, price, unit_cost, popularity = _make_products(rng, n_products)
    cust = _make_customers(rng, n_customers, last_day, seg)
    bundles, sequences = _choose_planted_items(rng, popularity, price)

    o_cust, o_day, cust["alive"] = _bgnbd_orders(rng, cust["acq"], cust["lam"], cust["p"],
                                                 last_day)
    orders, anomalies = _plant_anomalies(rng, cust, o_cust, o_day, last_day, anomaly_rate)

    # Order values are drawn after the anomalies so that added orders follow the same spend law;
    # spikes are then pinned to a multiple of the customer's true mean.
    o_cust, o_day = orders["cust"], orders["day"]
    mean_spend = seg["p"][cust["seg"]] / cust["nu"]
    value = rng.standard_gamma(seg["p"][cust["seg"]][o_cust])
    value /= cust["nu"][o_cust]
    spike = np.flatnonzero(orders["spike"])
    value[spike] = mean_spend[o_cust[spike]] * orders["spike"][spike]
    tie = rng.random(o_cust.size)
    order = np.argsort(o_day + tie)  # keys are distinct, so no stable sort needed
    o_cust, o_day, value, tie = o_cust[order], o_day[order], value[order], tie[order]
    return_all = orders["return_all"][order]
    del orders, order
    o_channel = cust["channel"][o_cust]
    switch = np.flatnonzero(rng.random(o_cust.size) < 0.2)
    o_channel[switch] = rng.integers(0, 3, switch.size)

    l_order, first_line, l_item, l_qty = _make_lines(rng, o_cust, o_day, tie, value, last_day,
                                                     bundles, sequences, popularity, price)
    l_cust = o_cust[l_order]
    # Promotions cut the shelf price but not the cost of goods, so discount-driven customers with
    # low-margin baskets can end up unprofitable.
    on_promo = rng.random(l_order.size, dtype=np.float32) < \
        seg["discount_prob"].astype(np.float32)[cust["seg"]][l_cust]
    promo = np.flatnonzero(on_promo)
    del on_promo
    l_price = price[l_item]
    l_price[promo] *= 1.0 - rng.integers(1, 6, promo.size) / 10.0
    np.round(l_price, 2, out=l_price)
    np.maximum(l_price, 0.01, out=l_price)
    # Whole units only, so a line's amount is close to, not exactly, its share of the order value.
    l_qty /= l_price
    np.rint(l_qty, out=l_qty)
    np.maximum(l_qty, 1.0, out=l_qty)
    l_qty = l_qty.astype(np.int64)
    # Rounding every line drifts from the planted order value; the order's cheapest line absorbs
    # the difference, so order totals stay within half that line's price of their Gamma draw.
    cheapest = np.minimum.reduceat(l_price, first_line)
    drift = value - np.bincount(l_order, l_price * l_qty, o_cust.size)
    fixed = np.flatnonzero(l_price == cheapest[l_order])
    fixed = fixed[np.r_[True, l_order[fixed[1:]] != l_order[fixed[:-1]]]]  # first per order
    l_qty[fixed] += np.rint(drift / cheapest).astype(np.int64)[l_order[fixed]]
    np.maximum(l_qty, 1, out=l_qty)

    r_line, r_qty, r_day, r_forced = _make_returns(
        rng, l_order, l_cust, l_qty, o_day, return_all, last_day,
        seg["return_weight"][cust["seg"]], return_rate)

    # Purchase orders and return rows share one order-id sequence ordered by date.
    event_key = np.concatenate([o_day + tie, r_day + rng.random(r_line.size)])
    event_id = np.empty(event_key.size, np.int64)
    event_id[np.argsort(event_key)] = np.arange(_ORDER_ID_BASE + 1,
                                                _ORDER_ID_BASE + 1 + event_key.size)
    del event_key
    ret_id = event_id[o_cust.size:]
    ret_sorted = np.argsort(ret_id)
    r_line, r_qty, r_day, r_forced, ret_id = (r_line[ret_sorted], r_qty[ret_sorted],
                                              r_day[ret_sorted], r_forced[ret_sorted],
                                              ret_id[ret_sorted])
    # Purchase lines already run in order-id order; slot the return rows in among them.
    line_id = event_id[l_order]
    ret_pos = np.searchsorted(line_id, ret_id) + np.arange(r_line.size)
    line_pos = np.searchsorted(ret_id, line_id)
    line_pos += np.arange(l_order.size)

    def merged(line_values, return_values):
        out = np.empty(line_pos.size + ret_pos.size, np.result_type(line_values, return_values))
        out[line_pos] = line_values
        out[ret_pos] = return_values
        return out

    t_order = merged(line_id, ret_id)
    del line_id
    t_line = merged(np.arange(l_order.size, dtype=np.int64), r_line)
    t_qty = merged(l_qty, -r_qty)
    date = merged(o_day[l_order], r_day).astype(np.int64, copy=False)
    date *= 86_400 * 10**9
    date += pd.Timestamp(t0).value
    t_item = l_item[t_line]
    t_price = l_price[t_line]
    t_cost = unit_cost[t_item]
    t_cost *= t_qty
    t_cost[ret_pos] *= _RETURN_COST_RECOVERY
    amount = t_price * t_qty

    base_day = np.datetime64(t0.date(), "D")
    ids = _prefixed_ids("C", n_customers)
    items = products.index.to_numpy(dtype=object)
    categories = products["category"].to_numpy(dtype=object)
    channels = np.array(_CHANNELS, dtype=object)
    transactions = pd.DataFrame({
        "customer_id": _obj(ids[l_cust[t_line]]),
        "order_id": t_order,
        "date": date.view("datetime64[ns]"),
        "item": _obj(items[t_item]),
        "category": _obj(categories[t_item]),
        "quantity": t_qty,
        "unit_price": t_price,
        "amount": amount,
        "cost": t_cost,
        "channel": _obj(channels[o_channel[l_order[t_line]]]),
    }, copy=False)

    cust_index = pd.Index(ids, name="customer_id", dtype=object)
    customers = pd.DataFrame({
        "region": _obj(np.array(_REGIONS, dtype=object)[cust["region"]], cust_index),
        "channel": _obj(channels[cust["channel"]], cust_index),
        "signup_date": (base_day + cust["acq"]).astype("datetime64[ns]"),
        "segment": _obj(np.array(seg_names, dtype=object)[cust["seg"]], cust_index),
        "purchase_rate": cust["lam"],
        "dropout_prob": cust["p"],
        "alive": cust["alive"],
        "mean_spend": mean_spend,
        "age": cust["age"],
        "is_anomalous": cust["anomalous"],
    }, index=cust_index, copy=False)

    # A return burst starts with its first return, known only now.
    burst = anomalies["kind"] == 1
    if burst.any():
        first_return = np.full(n_customers, last_day, np.int64)
        np.minimum.at(first_return, l_cust[r_line[r_forced]], r_day[r_forced])
        anomalies["onset"][burst] = first_return[anomalies["cust"][burst]]
    anomaly_index = pd.Index(ids[anomalies["cust"]], name="customer_id", dtype=object)
    anomaly_frame = pd.DataFrame({
        "kind": _obj(np.array(_ANOMALY_KINDS, dtype=object)[anomalies["kind"]], anomaly_index),
        "onset": (base_day + anomalies["onset"]).astype("datetime64[ns]"),
    }, index=anomaly_index).sort_index()

    window_start = math.ceil((1.0 - _ANOMALY_WINDOW) * last_day)
    truth = {
        "segments": {name: dict(SEGMENTS[name]) for name in seg_names},
        "bundles": [[str(items[i]) for i in b] for b in bundles],
        "sequences": [(str(items[a]), str(items[b])) for a, b in sequences],
        "sequence_window_days": _SEQUENCE_WINDOW_DAYS,
        "anomalies": anomaly_frame,
        "anomaly_window": (t0 + pd.Timedelta(days=window_start), t1),
        "return_cost_recovery": _RETURN_COST_RECOVERY,
        "params": {"n_customers": n_customers, "start": t0, "end": t1, "n_products": n_products,
                       "return_rate": return_rate, "anomaly_rate": anomaly_rate, "seed": int(seed)},
    }
    return SampleData(transactions=transactions, customers=customers, products=products,
                      truth=truth)



_EXTRA_ANOMALY_KINDS = ("impossible_amount", "unusual_mix")


def add_anomalies(sample: SampleData, *, rate: float = 0.004,
                  kinds: tuple[str, ...] = _EXTRA_ANOMALY_KINDS, seed: int = 0) -> SampleData:
    """Return a copy of ``sample`` with two more kinds of planted anomaly in its anomaly window.

    ``make_transactions`` is left exactly as it is (its draws, and so every result computed on
    it, do not change); the new orders come from a stream of their own, seeded by ``seed``, and go
    to customers that are not already anomalous and had at least 3 orders before the window.

    - ``"impossible_amount"``: one order line whose unit price is the item's shelf price times 100
      or 1000 (a slipped decimal point), quantity 1 to 3: an amount no real basket of the customer
      reaches.
    - ``"unusual_mix"``: 2 to 4 orders at the customer's usual spend, every line from categories
      the customer never bought before the window (spend stays ordinary; what changes is *what*
      is bought). Only customers with at least 3 such categories are eligible.

    Parameters
    ----------
    sample : SampleData
        From :func:`make_transactions` or :func:`load_sample`.
    rate : float, default 0.004
        Share of the customers given each added kind, in [0, 0.5]; at least one per kind when
        positive.
    kinds : tuple of str
        A subset of ``("impossible_amount", "unusual_mix")``.
    seed : int, default 0

    Returns
    -------
    SampleData
        New frames: the added lines (new order ids after the last one, dated inside the anomaly
        window) are merged in date order, ``customers["is_anomalous"]`` is set for the chosen
        customers and ``truth["anomalies"]`` gains their rows (``kind``, ``onset``);
        ``truth["params"]["added_anomalies"]`` records the arguments.
    """
    if not isinstance(sample, SampleData):
        raise TypeError(f"sample must be a SampleData, got {type(sample).__name__}")
    rate = _check_rate("rate", rate)
    kinds = tuple(kinds)
    unknown = [k for k in kinds if k not in _EXTRA_ANOMALY_KINDS]
    if unknown or len(set(kinds)) != len(kinds):
        raise ValueError(f"kinds must be distinct names among {_EXTRA_ANOMALY_KINDS}, got {kinds!r}")
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    # A stream apart from make_transactions' own: same sample + same seed => same additions.
    rng = np.random.default_rng([int(seed), 0x616E6F6D])
    tx, customers, products = sample.transactions, sample.customers, sample.products
    window_start, window_end = sample.truth["anomaly_window"]
    w0 = pd.Timestamp(window_start).normalize()
    days = (pd.Timestamp(window_end).normalize() - w0).days + 1

    before = tx[(tx["date"] < w0) & (tx["quantity"] > 0)]
    n_orders = before.groupby("customer_id", sort=False)["order_id"].nunique()
    eligible = n_orders.index[n_orders >= 3].difference(customers.index[customers["is_anomalous"]])
    cats = products["category"].to_numpy(dtype=object)
    bought = before.groupby("customer_id", sort=False)["category"].agg(set)
    n_fresh = bought.map(lambda b: len(set(cats) - b))
    pools = {"impossible_amount": np.sort(eligible.to_numpy(dtype=object)),
             "unusual_mix": np.sort(eligible.intersection(n_fresh.index[n_fresh >= 3]).to_numpy(dtype=object))}
    n_each = round(rate * len(customers))
    if rate > 0:
        n_each = max(n_each, 1)
    taken: set = set()
    items = products.index.to_numpy(dtype=object)
    shelf = products["base_price"].to_numpy()
    unit_cost = products["unit_cost"].to_numpy()
    mean_spend = customers["mean_spend"]
    channel = customers["channel"]

    rows = []  # (customer, day offset, item position, quantity, unit price, kind)
    added = []  # (customer, kind, onset day offset)
    for kind in kinds:
        pool = np.array([c for c in pools[kind] if c not in taken], dtype=object)
        picked = rng.choice(pool, min(n_each, pool.size), replace=False)
        taken.update(picked)
        for cid in picked:
            if kind == "impossible_amount":
                day = int(rng.integers(0, days))
                item = int(rng.integers(0, items.size))
                price = round(float(shelf[item]) * float(rng.choice([100.0, 1000.0])), 2)
                rows.append((cid, day, item, int(rng.integers(1, 4)), price, kind))
                added.append((cid, kind, day))
            else:
                fresh = np.flatnonzero([c not in bought[cid] for c in cats])
                order_days = np.sort(rng.integers(0, days, int(rng.integers(2, 5))))
                for day in order_days:
                    budget = float(mean_spend[cid]) * float(rng.uniform(0.7, 1.3))
                    n_lines = int(rng.integers(2, 4))
                    for item in rng.choice(fresh, min(n_lines, fresh.size), replace=False):
                        qty = max(1, int(round(budget / n_lines / shelf[item])))
                        rows.append((cid, int(day), int(item), qty, round(float(shelf[item]), 2), kind))
                added.append((cid, kind, int(order_days[0])))

    # One new order per (customer, day, kind) group, ids after the last one in date order.
    new = pd.DataFrame(rows, columns=["customer_id", "day", "item_pos", "quantity", "unit_price", "kind"])
    new = new.sort_values(["day", "customer_id"], kind="stable", ignore_index=True)
    key = new[["customer_id", "day", "kind"]].apply(tuple, axis=1) if len(new) else pd.Series([], dtype=object)
    order_number = pd.factorize(key)[0] if len(new) else np.zeros(0, np.int64)
    quantity = new["quantity"].to_numpy(np.int64)
    lines = pd.DataFrame({
        "customer_id": _obj(new["customer_id"].to_numpy(dtype=object)),
        "order_id": int(tx["order_id"].max()) + 1 + np.asarray(order_number, np.int64),
        "date": (w0 + pd.to_timedelta(new["day"].to_numpy(np.int64), unit="D")).to_numpy("datetime64[ns]"),
        "item": _obj(items[new["item_pos"].to_numpy(np.int64)]),
        "category": _obj(cats[new["item_pos"].to_numpy(np.int64)]),
        "quantity": quantity,
        "unit_price": new["unit_price"].to_numpy(np.float64),
        "amount": new["unit_price"].to_numpy(np.float64) * quantity,
        "cost": unit_cost[new["item_pos"].to_numpy(np.int64)] * quantity,
        "channel": _obj(channel.reindex(new["customer_id"]).to_numpy(dtype=object)),
    })
    transactions = pd.concat([tx, lines], ignore_index=True)
    transactions = transactions.sort_values(["date", "order_id"], kind="stable", ignore_index=True)
    for col in ("customer_id", "item", "category", "channel"):
        transactions[col] = _obj(transactions[col].to_numpy(dtype=object))

    customers = customers.copy()
    added_ids = [cid for cid, _, _ in added]
    customers.loc[added_ids, "is_anomalous"] = True
    added_index = pd.Index(np.array(added_ids, dtype=object), name="customer_id", dtype=object)
    extra = pd.DataFrame({
        "kind": _obj(np.array([k for _, k, _ in added], dtype=object), added_index),
        "onset": (w0 + pd.to_timedelta(np.array([d for _, _, d in added], np.int64), unit="D")).to_numpy(
            "datetime64[ns]"),
    }, index=added_index)
    truth = dict(sample.truth)
    anomalies = pd.concat([sample.truth["anomalies"], extra]).sort_index()
    # pandas 3 infers a string dtype when concatenating; the contract is plain object columns.
    index = pd.Index(anomalies.index.to_numpy(dtype=object), name="customer_id", dtype=object)
    truth["anomalies"] = pd.DataFrame({"kind": _obj(anomalies["kind"].to_numpy(dtype=object), index),
                                       "onset": anomalies["onset"].to_numpy()}, index=index)
    truth["params"] = {**sample.truth["params"],
                       "added_anomalies": {"rate": rate, "kinds": kinds, "seed": int(seed)}}
    return SampleData(transactions=transactions, customers=customers, products=products.copy(), truth=truth)

# --------------------------------------------------------------------------- argument checks

def _check_int(name, value, minimum):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    return int(value)


def _check_rate(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    value = float(value)
    if not 0.0 <= value <= 0.5:  # also rejects NaN
        raise ValueError(f"{name} must be in [0, 0.5], got {value}")
    return value


def _check_period(start, end):
    stamps = []
    for name, value in (("start", start), ("end", end)):
        try:
            ts = pd.Timestamp(value)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{name} is not a date: {value!r}") from exc
        if pd.isna(ts):
            raise ValueError(f"{name} is not a date: {value!r}")
        if ts.tzinfo is not None:
            ts = ts.tz_localize(None)
        if not pd.Timestamp.min <= ts <= pd.Timestamp.max:  # datetime64[ns] output must hold it
            raise ValueError(f"{name} must lie between {pd.Timestamp.min.date()} and "
                             f"{pd.Timestamp.max.date()}, got {value!r}")
        stamps.append(ts.normalize())
    if stamps[1] <= stamps[0]:
        raise ValueError(f"end must be after start, got start={stamps[0].date()} "
                         f"end={stamps[1].date()}")
    return stamps[0], stamps[1]


# --------------------------------------------------------------------------- building blocks

def _obj(values, index=None):
    # pandas 3 infers its own string dtype from object arrays; the contract is plain object columns.
    return pd.Series(values, index=index, dtype=object, copy=False)


def _prefixed_ids(prefix, n, start=1):
    width = max(6 if prefix == "C" else 3, len(str(n + start - 1)))
    number = np.arange(start, n + start, dtype=np.int64)
    # Spell the ids as UCS-4 code points and view them as fixed-width strings: no Python loop.
    codes = np.empty((n, len(prefix) + width), dtype="<u4")
    codes[:, :len(prefix)] = [ord(c) for c in prefix]
    for k in range(width):
        codes[:, len(prefix) + width - 1 - k] = ord("0") + (number // 10**k) % 10
    return codes.view(f"<U{len(prefix) + width}").ravel().astype(object)


def _group_position(counts):
    """Position of each element within its group, for groups laid out back to back."""
    offsets = np.cumsum(counts) - counts
    return np.arange(int(counts.sum())) - np.repeat(offsets, counts)


def _make_products(rng, n_products):
    names = list(_CATEGORIES)
    category = rng.integers(0, len(names), n_products)
    median = np.array([_CATEGORIES[c] for c in names])[category]
    base_price = np.maximum(np.round(median * rng.lognormal(0.0, 0.45, n_products)), 1.0) - 0.01
    cost_ratio = np.round(rng.uniform(0.4, 0.8, n_products), 3)
    unit_cost = np.round(base_price * cost_ratio, 2)
    # Zipf-like popularity over a random ranking, so item numbers carry no popularity signal.
    rank = rng.permutation(n_products) + 1
    popularity = 1.0 / rank ** 1.1
    popularity /= popularity.sum()
    index = pd.Index(_prefixed_ids("P", n_products, start=0), name="item", dtype=object)
    products = pd.DataFrame({
        "category": _obj(np.array(names, dtype=object)[category], index),
        "base_price": base_price,
        "cost_ratio": cost_ratio,
        "unit_cost": unit_cost,
        "popularity": popularity,
    }, index=index)
    return products, base_price, unit_cost, popularity


def _make_customers(rng, n, last_day, seg):
    s = rng.choice(seg["share"].size, n, p=seg["share"] / seg["share"].sum())
    # Acquisitions cover the first 75% of the period so that every cohort has some history.
    acq = np.floor(rng.random(n) * 0.75 * last_day).astype(np.int32)
    lam = rng.gamma(seg["r"][s], 1.0 / seg["alpha"][s])
    p = np.clip(rng.beta(seg["a"][s], seg["b"][s]), 1e-12, 1.0)
    nu = rng.gamma(seg["q"][s], 1.0 / seg["gamma"][s])
    cum = np.cumsum(_SEGMENT_CHANNEL_MIX, axis=1)[s]
    channel = (rng.random(n)[:, None] > cum).sum(axis=1).clip(0, 2)
    region = rng.choice(len(_REGIONS), n, p=_REGION_SHARE)
    age = np.clip(np.rint(rng.normal(_SEGMENT_MEAN_AGE[s], 13.0)), 18, 85).astype(np.int64)
    return {"seg": s, "acq": acq, "lam": lam, "p": p, "nu": nu, "channel": channel,
            "region": region, "age": age, "anomalous": np.zeros(n, bool)}


def _choose_planted_items(rng, popularity, price):
    n = popularity.size
    # Popular items co-occur with everything, which would mask the planted lift, and so do cheap
    # ones, which small baskets over-draw; dear items rarely fit a follow-up order. Planted items
    # therefore avoid the top tenth by popularity and the cheapest quarter, and sequences (the
    # least popular picks) also avoid the dearest quarter.
    by_rank = np.argsort(-popularity, kind="stable")[max(2, n // 10):]
    if by_rank.size >= 18:
        sizes, n_seq = rng.integers(2, 4, 4), 3
    else:
        sizes, n_seq = np.array([2, 2]), 1
    need = int(sizes.sum()) + 2 * n_seq
    low, high = np.quantile(price, [0.25, 0.75])
    candidates = by_rank[price[by_rank] >= low]
    if candidates.size < need:
        candidates = by_rank
    mid_priced = candidates[price[candidates] <= high]
    if mid_priced.size < 2 * n_seq:
        mid_priced = candidates
    seq_pool = mid_priced[-2 * n_seq:]
    pool = rng.permutation(candidates[~np.isin(candidates, seq_pool)])
    seq_pool = rng.permutation(seq_pool)
    bundles, k = [], 0
    for size in sizes:
        bundles.append(np.sort(pool[k:k + size]))
        k += size
    sequences = [(int(seq_pool[2 * i]), int(seq_pool[2 * i + 1])) for i in range(n_seq)]
    return bundles, sequences


def _bgnbd_orders(rng, acq, lam, p, last_day):
    """First order at acquisition plus BG/NBD repeat orders until dropout or period end."""
    n = acq.size
    horizon = (last_day + 1 - acq) / 7.0  # weeks of observation; floor(7 t) stays <= last_day
    arrivals = rng.poisson(lam * horizon)           # repeats if the customer never dropped out
    lifetime = rng.geometric(p)                     # dropout comes right after this repeat
    alive = arrivals < lifetime
    n_rep = np.minimum(arrivals, lifetime)
    # A dead customer's last repeat is the lifetime-th of `arrivals` uniform arrival times, i.e.
    # a Beta order statistic; the earlier repeats are uniform before it.
    dead = ~alive
    upper = horizon.copy()
    upper[dead] = horizon[dead] * rng.beta(lifetime[dead], arrivals[dead] - lifetime[dead] + 1)
    rep_cust = np.repeat(np.arange(n, dtype=np.int32), n_rep)
    t = rng.random(rep_cust.size)
    t *= upper[rep_cust]
    ends = dead & (n_rep > 0)
    t[(np.cumsum(n_rep) - n_rep)[ends]] = upper[ends]
    t *= 7.0
    np.floor(t, out=t)
    rep_day = t.astype(np.int32)
    del t
    rep_day += acq[rep_cust]
    np.minimum(rep_day, last_day, out=rep_day)
    o_cust = np.concatenate([np.arange(n, dtype=np.int32), rep_cust])
    o_day = np.concatenate([acq, rep_day])
    return o_cust, o_day, alive


def _plant_anomalies(rng, cust, o_cust, o_day, last_day, rate):
    n = cust["acq"].size
    w0 = math.ceil((1.0 - _ANOMALY_WINDOW) * last_day)
    n_anom = round(rate * n)
    if rate > 0 and n >= 200:
        n_anom = max(n_anom, 1)
    kind = rng.permutation(np.resize(np.arange(3), max(n_anom, 3)))[:n_anom]

    history = np.bincount(o_cust[o_day < w0], minlength=n) >= 3
    eligible = [history, history, history & (cust["acq"] <= w0 - 56)]
    chosen = np.zeros(n, bool)
    picked = np.empty(n_anom, np.int32)
    for k in range(3):
        need = int((kind == k).sum())
        pool = np.flatnonzero(eligible[k] & ~chosen)
        if pool.size < need:  # short periods or tiny samples: take anyone not yet chosen
            pool = np.flatnonzero(~chosen)
        sel = rng.choice(pool, need, replace=False)
        picked[kind == k] = sel
        chosen[sel] = True
    cust["anomalous"] = chosen
    spike = picked[kind == 0]
    burst = picked[kind == 1]
    silent = picked[kind == 2]
    is_spike = np.zeros(n, bool)
    is_spike[spike] = True
    is_burst = np.zeros(n, bool)
    is_burst[burst] = True
    is_silent = np.zeros(n, bool)
    is_silent[silent] = True

    # Spend spike: every order in the window is worth 5-10x the customer's true mean, plus 1-2
    # extra such orders so the spike shows even for customers who would have been quiet.
    factor = np.zeros(n)
    factor[spike] = rng.uniform(5.0, 10.0, spike.size)
    n_extra = rng.integers(1, 3, spike.size)
    sp_cust = np.repeat(spike, n_extra)
    sp_day = rng.integers(min(w0, last_day), last_day + 1, sp_cust.size)

    # Return burst: 2-4 extra orders shortly before or in the window; everything these customers
    # bought from 30 days before the window on is returned inside the window.
    n_burst = rng.integers(2, 5, burst.size)
    bu_cust = np.repeat(burst, n_burst)
    lo = np.minimum(np.maximum(w0 - 20, cust["acq"][bu_cust]), last_day - 1)
    bu_day = lo + np.floor(rng.random(bu_cust.size) * (last_day - lo)).astype(np.int64)

    # Silence: a metronome-like history every `gap` days that stops just before the window.
    gap = rng.integers(7, 15, silent.size)
    start = cust["acq"][silent]
    n_reg = np.maximum((w0 - 1 - start) // gap + 1, 1)
    si_cust = np.repeat(silent, n_reg)
    step = _group_position(n_reg)
    jitter = np.where(step > 0, rng.integers(-1, 2, si_cust.size), 0)
    si_day = np.clip(np.repeat(start, n_reg) + step * np.repeat(gap, n_reg) + jitter,
                     np.repeat(start, n_reg), max(w0 - 1, 0))
    si_day = np.maximum(si_day, np.repeat(start, n_reg))
    cust["lam"][silent] = 7.0 / gap
    cust["alive"][silent] = False

    keep = ~is_silent[o_cust]
    o_cust, o_day = o_cust[keep], o_day[keep]
    spike_factor = np.where(o_day >= w0, factor[o_cust], 0.0)
    cat_cust = np.concatenate([o_cust, sp_cust, bu_cust, si_cust], dtype=np.int32,
                              casting="same_kind")
    cat_day = np.concatenate([o_day, sp_day, bu_day, si_day], dtype=np.int32, casting="same_kind")
    cat_spike = np.concatenate([spike_factor, factor[sp_cust],
                                np.zeros(bu_cust.size + si_cust.size)])
    return_all = is_burst[cat_cust] & (cat_day >= w0 - _RETURN_WINDOW_DAYS) & (cat_day < last_day)
    spiked = np.flatnonzero(cat_spike)
    cat_spike[spiked] *= rng.uniform(0.9, 1.1, spiked.size)

    onset = np.empty(n_anom, np.int64)
    if n_anom:
        first_spike = np.full(n, last_day + 1)
        hit = is_spike[cat_cust] & (cat_day >= w0)
        np.minimum.at(first_spike, cat_cust[hit], cat_day[hit])
        onset[kind == 0] = first_spike[spike]
        onset[kind == 1] = last_day  # replaced by the first planted return once drawn
        # The first missed order is the next step of the schedule, which lies inside the window.
        onset[kind == 2] = np.minimum(start + n_reg * gap, last_day)
    orders = {"cust": cat_cust, "day": cat_day, "spike": cat_spike, "return_all": return_all}
    return orders, {"cust": picked, "kind": kind, "onset": onset}


def _make_lines(rng, o_cust, o_day, tie, value, last_day, bundles, sequences, popularity, price):
    n_orders = o_cust.size
    n_lines = 1 + rng.binomial(_MAX_LINES - 1, 0.12 + 0.45 * value / (value + 120.0))

    # Bundles: a planted group fills the leading columns of some orders that can afford it.
    bundle_price = np.array([price[b].sum() for b in bundles])
    bundle = rng.integers(0, len(bundles), n_orders)
    bundle[(rng.random(n_orders) >= _BUNDLE_ORDER_SHARE) | (value < bundle_price[bundle])] = -1
    sizes = np.array([b.size for b in bundles])
    n_fixed = np.where(bundle >= 0, sizes[np.maximum(bundle, 0)], 0)
    items = np.full((n_orders, _MAX_LINES), -1, np.int32)
    for b, members in enumerate(bundles):
        items[np.flatnonzero(bundle == b), :members.size] = members

    # Sequences: an order followed by the same customer's next order 1-30 days later gets item A,
    # that next order gets B. Planting on existing orders keeps the BG/NBD counts untouched.
    by_cust = np.argsort(o_cust * (last_day + 2.0) + o_day + tie)
    prev, nxt = by_cust[:-1], by_cust[1:]
    gap = o_day[nxt] - o_day[prev]
    ok = (o_cust[nxt] == o_cust[prev]) & (gap >= 1) & (gap <= _SEQUENCE_WINDOW_DAYS)
    follower = np.full(n_orders, -1)
    follower[prev[ok]] = nxt[ok]
    trigger = np.flatnonzero((follower >= 0) & (rng.random(n_orders) < _SEQUENCE_TRIGGER_SHARE))
    is_target = np.zeros(n_orders, bool)
    is_target[follower[trigger]] = True
    trigger = trigger[~is_target[trigger]]  # an order carries at most one planted sequence item
    pair = rng.integers(0, len(sequences), trigger.size)
    item_a = np.array([a for a, _ in sequences])[pair]
    item_b = np.array([b for _, b in sequences])[pair]
    # Only where both orders can pay for the planted item, so order values keep their spend law.
    ok = (value[trigger] >= price[item_a]) & (value[follower[trigger]] >= price[item_b])
    seq_rows = np.concatenate([trigger[ok], follower[trigger[ok]]])
    seq_items = np.concatenate([item_a[ok], item_b[ok]])
    items[seq_rows, n_fixed[seq_rows]] = seq_items
    n_fixed[seq_rows] += 1
    n_lines = np.maximum(n_lines, n_fixed)

    # Split each order's value over its lines with Dirichlet(1) weights.
    first_line = np.cumsum(n_lines) - n_lines
    l_order = np.repeat(np.arange(n_orders, dtype=np.int32), n_lines)
    target = rng.standard_exponential(l_order.size)
    target /= np.bincount(l_order, target, n_orders)[l_order]
    target *= value[l_order]

    # Free lines follow the Zipf popularity among items priced at most 1.5x the line's value:
    # small baskets hold cheap items, and whole-unit quantities then track the planted spend.
    by_price = np.argsort(price, kind="stable")
    affordable_cdf = np.cumsum(popularity[by_price])
    full_cdf = np.cumsum(popularity)
    full_cdf[-1] = 1.0

    def draw(line_value, restricted):
        if not restricted:
            return np.minimum(np.searchsorted(full_cdf, rng.random(line_value.size), "right"),
                              price.size - 1)
        n_ok = np.maximum(np.searchsorted(price[by_price], 1.5 * line_value, "right"), 1)
        u = rng.random(line_value.size) * affordable_cdf[n_ok - 1]
        return by_price[np.minimum(np.searchsorted(affordable_cdf, u, "right"), n_ok - 1)]

    for k in range(_MAX_LINES):
        rows = np.flatnonzero((k >= n_fixed) & (k < n_lines))
        line_value = target[first_line[rows] + k]
        cand = draw(line_value, True)
        pending = np.arange(rows.size)
        rounds = 0
        while pending.size and k:
            taken = rows[pending]
            clash = items[taken, 0] == cand[pending]
            for j in range(1, k):
                clash |= items[taken, j] == cand[pending]
            pending = pending[clash]
            rounds += 1
            # Few affordable items can make a clash-free restricted draw impossible.
            cand[pending] = draw(line_value[pending], rounds < 10)
        items[rows, k] = cand

    col = np.arange(l_order.size, dtype=np.int64)
    col -= first_line[l_order]
    col += l_order * np.int64(_MAX_LINES)
    return l_order, first_line, items.ravel()[col], target


def _make_returns(rng, l_order, l_cust, l_qty, o_day, return_all, last_day, cust_weight, rate):
    """Pick returned lines; returns line index, quantity, day and whether it is a planted burst."""
    l_day = o_day[l_order]
    forced = return_all[l_order]
    eligible = l_day < last_day
    eligible &= ~forced
    if rate > 0 and eligible.any():
        # Scale the segment weights so that the expected share of returned lines is `rate`.
        lines_per_cust = np.bincount(l_cust[eligible], minlength=cust_weight.size)
        prob = rate * cust_weight * lines_per_cust.sum() / (cust_weight @ lines_per_cust)
        chosen = rng.random(l_order.size, dtype=np.float32) < \
            np.minimum(prob, 1.0).astype(np.float32)[l_cust]
        chosen &= eligible
    else:
        chosen = np.zeros(l_order.size, bool)
    del eligible
    line = np.flatnonzero(chosen)
    del chosen
    partial = rng.random(line.size) < 0.25
    qty = np.where(partial, rng.integers(1, l_qty[line] + 1), l_qty[line])
    horizon = np.minimum(_RETURN_WINDOW_DAYS, last_day - l_day[line])
    day = l_day[line] + rng.integers(1, horizon + 1)

    burst = np.flatnonzero(forced)
    w0 = math.ceil((1.0 - _ANOMALY_WINDOW) * last_day)
    lo = np.maximum(l_day[burst] + 1, w0)
    hi = np.minimum(l_day[burst] + _RETURN_WINDOW_DAYS, last_day)
    b_day = lo + np.floor(rng.random(burst.size) * (hi - lo + 1)).astype(lo.dtype)
    return (np.concatenate([line, burst]), np.concatenate([qty, l_qty[burst]]),
            np.concatenate([day, b_day]),
            np.concatenate([np.zeros(line.size, bool), np.ones(burst.size, bool)]))


#: Attributes of :func:`make_survey` and their planted weights on the latent overall satisfaction.
_SURVEY_DRIVERS = {"product_quality": 0.45, "value_for_money": 0.35, "delivery": 0.25,
                   "customer_service": 0.15, "website": 0.08, "packaging": 0.0}
_SURVEY_CHANNELS = ("web", "store", "app")
_SURVEY_CHANNEL_SHIFT = np.array([0.0, 0.25, -0.25])  # channel effect on satisfaction, in latent SDs


def _population_shapley(corr: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Shapley shares of R^2 = r_S' R_SS^-1 r_S over all subsets S, by brute force (p <= 12)."""
    p = r.size
    r2 = np.zeros(1 << p)
    for mask in range(1, 1 << p):
        idx = [j for j in range(p) if mask >> j & 1]
        r2[mask] = r[idx] @ np.linalg.solve(corr[np.ix_(idx, idx)], r[idx])
    fact = [math.factorial(k) for k in range(p + 1)]
    phi = np.zeros(p)
    for j in range(p):
        for mask in range(1 << p):
            if not mask >> j & 1:
                k = bin(mask).count("1")
                phi[j] += fact[k] * fact[p - k - 1] / fact[p] * (r2[mask | 1 << j] - r2[mask])
    return phi


def make_survey(n_respondents: int = 2000, *, drivers: Mapping[str, float] | None = None, halo: float = 0.4,
                noise: float = 0.8, scale: int = 5, start: str = "2024-01-01", end: str = "2024-12-31",
                trend: float = 0.5, n_customers: int | None = None, seed: int = 0) -> pd.DataFrame:
    """Generate customer-survey responses with planted key drivers, channel effects and a trend.

    Each respondent has latent standard-normal attribute perceptions that share a common "halo"
    factor (pairwise correlation ``halo``); latent overall satisfaction is
    ``sum_j w_j a_j + noise * e + channel effect + trend effect``. Attribute ratings are the
    latents cut into ``scale`` ordered levels (skewed towards the top, as real surveys are),
    overall satisfaction is on 1..10 and likelihood to recommend on 0..10 (NPS). The channel and
    trend effects are independent of the attributes, so they change the R^2 but not the split
    of the attributes' share.

    Parameters
    ----------
    n_respondents : int, default 2000
    drivers : mapping name -> weight, optional
        Planted weights w_j (>= 0). Default: product_quality 0.45, value_for_money 0.35,
        delivery 0.25, customer_service 0.15, website 0.08, packaging 0 (a non-driver).
        At most 12 attributes (the planted importance is computed by brute force).
    halo : float, default 0.4
        Correlation of any two latent attributes, in [0, 0.95].
    noise : float, default 0.8
        Standard deviation of the unexplained part of latent overall satisfaction (> 0).
    scale : int, default 5
        Levels of the attribute ratings (3..11), 1 = worst.
    start, end : date-like
        Response dates are uniform in this range.
    trend : float, default 0.5
        Change of latent satisfaction from start to end, in standard deviations of the noise.
    n_customers : int, optional
        Respondents are customers ``C00001..`` drawn with replacement from this many (default:
        one respondent per customer), so surveys can be joined to :func:`make_transactions`.
    seed : int, default 0

    Returns
    -------
    pandas.DataFrame
        Columns ``customer_id``, ``date``, ``channel``, one rating column per driver,
        ``overall`` (1..10) and ``recommend`` (0..10). ``frame.attrs`` holds the truth:
        ``"driver_weights"`` (the w_j), ``"importance_share"`` (each attribute's Shapley share of
        the latent R^2 explained by the attributes, summing to 1), ``"halo"``, ``"scale"`` and
        ``"channel_shift"``.
    """
    n_respondents = _check_int("n_respondents", n_respondents, 10)
    scale = _check_int("scale", scale, 3)
    if scale > 11:
        raise ValueError(f"scale must be at most 11, got {scale}")
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    weights = dict(_SURVEY_DRIVERS if drivers is None else drivers)
    if not weights or len(weights) > 12:
        raise ValueError(f"drivers must name 1..12 attributes, got {len(weights)}")
    for name, w in weights.items():
        if not isinstance(w, numbers.Real) or not math.isfinite(w) or w < 0:
            raise ValueError(f"drivers: weight of {name!r} must be a finite number >= 0, got {w!r}")
    if not any(weights.values()):
        raise ValueError("drivers: at least one weight must be positive")
    reserved = {"customer_id", "date", "channel", "overall", "recommend"} & set(weights)
    if reserved:
        raise ValueError(f"drivers: names {sorted(reserved)} are reserved for other columns")
    if not (isinstance(halo, numbers.Real) and 0.0 <= halo <= 0.95):
        raise ValueError(f"halo must be in [0, 0.95], got {halo!r}")
    if not (isinstance(noise, numbers.Real) and noise > 0 and math.isfinite(noise)):
        raise ValueError(f"noise must be a positive number, got {noise!r}")
    if not (isinstance(trend, numbers.Real) and math.isfinite(trend)):
        raise ValueError(f"trend must be a finite number, got {trend!r}")
    if n_customers is not None:
        n_customers = _check_int("n_customers", n_customers, 1)
    t0, t1 = _check_period(start, end)

    rng = np.random.default_rng(int(seed))
    names = list(weights)
    w = np.array([float(weights[k]) for k in names])
    p, n = len(names), n_respondents
    common = rng.standard_normal(n)
    latent = math.sqrt(halo) * common[:, None] + math.sqrt(1.0 - halo) * rng.standard_normal((n, p))
    channel = rng.choice(len(_SURVEY_CHANNELS), size=n, p=[0.45, 0.35, 0.20])
    days = rng.integers(0, (t1 - t0).days + 1, size=n)
    progress = days / max(1, (t1 - t0).days)
    overall = latent @ w + noise * (rng.standard_normal(n) + _SURVEY_CHANNEL_SHIFT[channel] + trend * (progress - 0.5))
    # Ratings: latents shifted up (satisfied customers dominate) and cut into `scale` levels.
    cuts = np.linspace(-1.9, 1.1, scale - 1)
    ratings = 1 + np.searchsorted(cuts, latent)
    z = (overall - overall.mean()) / overall.std()
    overall_rating = np.clip(np.rint(7.2 + 1.7 * z), 1, 10).astype(np.int64)
    recommend = np.clip(np.rint(7.4 + 2.1 * (0.85 * z + math.sqrt(1 - 0.85 ** 2) * rng.standard_normal(n))), 0, 10)

    if n_customers is None:
        cust = np.arange(1, n + 1)
    else:
        cust = rng.integers(1, n_customers + 1, size=n)
    width = max(5, len(str(int(cust.max()))))
    frame = pd.DataFrame({
        "customer_id": [f"C{c:0{width}d}" for c in cust],
        "date": pd.Timestamp(t0) + pd.to_timedelta(days, unit="D"),
        "channel": pd.Categorical.from_codes(channel, categories=list(_SURVEY_CHANNELS)),
    })
    for j, name in enumerate(names):
        frame[name] = ratings[:, j].astype(np.int64)
    frame["overall"] = overall_rating
    frame["recommend"] = recommend.astype(np.int64)
    frame = frame.sort_values("date", kind="stable").reset_index(drop=True)
    corr = np.full((p, p), float(halo))
    np.fill_diagonal(corr, 1.0)
    # Noise, channel and trend are independent of the attributes: they scale every subset's R^2
    # by the same factor, so the shares are those of the attributes' own part of the outcome.
    phi = _population_shapley(corr, corr @ w / math.sqrt(w @ corr @ w))
    frame.attrs.update(driver_weights=dict(zip(names, w.tolist())),
                       importance_share=dict(zip(names, (phi / phi.sum()).tolist())),
                       halo=float(halo), scale=scale,
                       channel_shift=dict(zip(_SURVEY_CHANNELS, (noise * _SURVEY_CHANNEL_SHIFT).tolist())))
    return frame


# --------------------------------------------------------------------------- campaign (uplift)

#: Planted effect of :func:`make_campaign`: largest for recent customers with few orders.
_CAMPAIGN_UPLIFT_NEW = 0.15      # uplift of a just-active one-order customer
_CAMPAIGN_UPLIFT_LOYAL = -0.08   # uplift of a just-active customer with 10+ orders ("sleeping dog")
_CAMPAIGN_RECENCY_DAYS = 180.0   # e-folding time of the effect in days since the last purchase


def make_campaign(sample: SampleData | None = None, *, treated_share: float = 0.5, seed: int = 0) -> pd.DataFrame:
    """Generate a randomised campaign over a sample's customers with a known uplift per customer.

    Every customer is assigned to treatment (a random ``treated_share`` of them, exactly
    rounded) or control, and responds with a probability that depends on their purchase
    history as of the day after the sample's last transaction. With ``r = exp(-recency_days /
    180)`` (1 for a customer who bought yesterday, near 0 after a lapse) and ``f = min(orders,
    10) / 10``:

    - control response probability ``p_control = 0.03 + 0.25 r f`` (recent frequent buyers buy
      anyway);
    - true uplift ``r (0.15 (1 - f) - 0.08 f)``: recent customers with few orders are persuadable
      (up to +15 points), recent loyal customers are put off by the contact ("sleeping dogs",
      down to -8 points), lapsed customers hardly react either way;
    - ``p_treated = p_control + uplift``; ``response ~ Bernoulli(p_treated or p_control)``.

    Parameters
    ----------
    sample : SampleData, optional
        The customers and their transactions; default ``load_sample(seed)``.
    treated_share : float, default 0.5
        Share of customers treated, in (0, 1).
    seed : int, default 0
        Seed of the assignment and the responses.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``customer_id``: ``treatment`` and ``response`` (0/1 int), ``p_control``,
        ``p_treated``, ``true_uplift``, and the drivers ``recency_days`` and ``orders``.
        ``attrs["as_of"]`` is the reference day of recency.
    """
    seed = _check_int("seed", seed, 0)
    if isinstance(treated_share, bool) or not isinstance(treated_share, numbers.Real):
        raise TypeError(f"treated_share must be a number, got {type(treated_share).__name__}")
    if not 0.0 < float(treated_share) < 1.0:
        raise ValueError(f"treated_share must be in (0, 1), got {treated_share}")
    if sample is None:
        sample = load_sample(seed)
    if not isinstance(sample, SampleData):
        raise TypeError(f"sample must be a SampleData from make_transactions, got {type(sample).__name__}")
    tx = sample.transactions
    purchases = tx[tx["amount"] > 0]
    as_of = tx["date"].max().normalize() + pd.Timedelta(days=1)
    per = purchases.groupby("customer_id").agg(last=("date", "max"), orders=("order_id", "nunique"))
    per = per.reindex(sample.customers.index)
    recency = (as_of - per["last"]).dt.days.to_numpy(dtype=float)
    orders = per["orders"].fillna(0).to_numpy(dtype=float)
    recency = np.where(np.isnan(recency), 10 * _CAMPAIGN_RECENCY_DAYS, recency)
    r = np.exp(-recency / _CAMPAIGN_RECENCY_DAYS)
    f = np.minimum(orders, 10.0) / 10.0
    p_control = 0.03 + 0.25 * r * f
    uplift = r * (_CAMPAIGN_UPLIFT_NEW * (1 - f) + _CAMPAIGN_UPLIFT_LOYAL * f)
    p_treated = p_control + uplift
    rng = np.random.default_rng([seed, 0xCA])
    n = len(per)
    treatment = np.zeros(n, dtype=np.int64)
    treatment[rng.permutation(n)[:int(round(float(treated_share) * n))]] = 1
    response = (rng.random(n) < np.where(treatment == 1, p_treated, p_control)).astype(np.int64)
    frame = pd.DataFrame({"treatment": treatment, "response": response, "p_control": p_control,
                          "p_treated": p_treated, "true_uplift": uplift, "recency_days": recency,
                          "orders": orders.astype(np.int64)}, index=per.index)
    frame.index.name = "customer_id"
    frame.attrs["as_of"] = as_of
    return frame
