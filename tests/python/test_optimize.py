# SPDX-License-Identifier: Apache-2.0
"""crmine.campaign.optimize: the dual-price greedy against HiGHS (scipy.optimize.milp) on the full,
unpruned integer program, brute force on tiny problems, bad input, determinism; contact windows."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

import crmine as cm

scipy_optimize = pytest.importorskip("scipy.optimize")
sparse = pytest.importorskip("scipy.sparse")


def make_problem(n: int, offers: int = 3, channels: int = 2, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    base = rng.beta(1.2, 12.0, size=(n, offers, 1))
    lift = np.linspace(1.0, 0.5, channels).reshape(1, 1, channels)  # the costlier channel converts better first
    response = np.clip(base * lift[:, :, ::-1] * rng.uniform(0.7, 1.3, size=(n, offers, channels)), 0, 1)
    return {"response": response, "value": 30.0 + 40.0 * np.arange(offers), "cost": 0.3 + 3.0 * np.arange(channels)}


def reference_milp(response, value, cost, budget, capacity, max_offers: int = 1) -> float:
    """The whole integer program (every customer x offer x channel, nothing pruned, one binary per
    contact) solved by HiGHS: at most ``max_offers`` contacts per customer, one per offer."""
    n, o, c = response.shape
    v = np.broadcast_to(np.asarray(value, dtype=float).reshape(1, o, 1), response.shape)
    k = np.broadcast_to(np.asarray(cost, dtype=float).reshape(1, 1, c), response.shape)
    profit = (response * v - k).ravel()
    m = profit.size
    per_customer = sparse.csr_matrix((np.ones(m), (np.repeat(np.arange(n), o * c), np.arange(m))), shape=(n, m))
    per_offer = sparse.csr_matrix((np.ones(m), (np.repeat(np.arange(n * o), c), np.arange(m))), shape=(n * o, m))
    rows = [per_customer, per_offer, sparse.csr_matrix(k.ravel().reshape(1, m))]
    ub = [np.full(n, float(max_offers)), np.ones(n * o), [budget]]
    for ch in range(c):
        if np.isfinite(capacity[ch]):
            rows.append(sparse.csr_matrix((np.tile(np.arange(c), n * o) == ch).astype(float).reshape(1, m)))
            ub.append([capacity[ch]])
    res = scipy_optimize.milp(-profit, integrality=np.ones(m), bounds=scipy_optimize.Bounds(0, 1),
                              constraints=scipy_optimize.LinearConstraint(sparse.vstack(rows), -np.inf, np.concatenate(ub)),
                              options={"mip_rel_gap": 1e-9, "presolve": False})
    assert res.success
    return -res.fun


def check_feasible(plan, budget, capacity, channels, max_offers: int = 1) -> None:
    assert plan.cost <= budget * (1 + 1e-12)
    a = plan.assignment
    assert a["customer"].value_counts().max() <= max_offers
    assert not a.duplicated(["customer", "offer"]).any()
    for i, ch in enumerate(channels):
        assert plan.channel_contacts[ch] <= capacity[i]


def test_greedy_is_within_one_percent_of_highs_and_its_bound_encloses_the_optimum() -> None:
    p = make_problem(1500, seed=1)
    budget, capacity = 450.0, [np.inf, 75.0]
    best = reference_milp(p["response"], p["value"], p["cost"], budget, capacity)
    greedy = cm.campaign.optimize(**p, budget=budget, capacity=capacity)
    exact = cm.campaign.optimize(**p, budget=budget, capacity=capacity, method="exact")
    check_feasible(greedy, budget, capacity, [0, 1])
    check_feasible(exact, budget, capacity, [0, 1])
    assert exact.expected_profit == pytest.approx(best, rel=1e-9)
    assert exact.status == "optimal" and exact.gap < 1e-8
    assert exact.n_free < exact.n_candidates  # reduced-cost fixing settled some candidates
    assert greedy.expected_profit <= best + 1e-6
    assert greedy.upper_bound >= best - 1e-6
    assert (best - greedy.expected_profit) / best < 0.01
    assert greedy.gap < 0.01


def test_exact_stopped_by_its_time_limit_returns_the_greedys_plan_and_says_so() -> None:
    p = make_problem(1500, seed=1)
    budget, capacity = 450.0, [np.inf, 75.0]
    greedy = cm.campaign.optimize(**p, budget=budget, capacity=capacity)
    stopped = cm.campaign.optimize(**p, budget=budget, capacity=capacity, method="exact", time_limit=1e-9)
    assert stopped.n_free > 0  # there was a search to stop
    assert stopped.status.startswith("time limit reached")
    check_feasible(stopped, budget, capacity, [0, 1])
    assert stopped.expected_profit == pytest.approx(greedy.expected_profit, rel=1e-12)
    assert stopped.expected_profit <= stopped.upper_bound <= greedy.upper_bound + 1e-6


def test_greedy_and_exact_agree_with_brute_force_on_tiny_problems() -> None:
    for seed in range(5):
        rng = np.random.default_rng(seed)
        response = rng.uniform(0, 0.6, size=(5, 2, 2))
        value, cost, budget, capacity = [10.0, 16.0], [1.0, 2.5], 5.0, [3.0, 1.0]
        best = 0.0
        for pick in itertools.product(range(5), repeat=5):
            used, cap_used, profit = 0.0, [0, 0], 0.0
            for i, choice in enumerate(pick):
                if choice:
                    o, c = divmod(choice - 1, 2)
                    used += cost[c]
                    cap_used[c] += 1
                    profit += response[i, o, c] * value[o] - cost[c]
            if used <= budget and cap_used[0] <= capacity[0] and cap_used[1] <= capacity[1]:
                best = max(best, profit)
        exact = cm.campaign.optimize(response, value=value, cost=cost, budget=budget, capacity=capacity, method="exact")
        greedy = cm.campaign.optimize(response, value=value, cost=cost, budget=budget, capacity=capacity)
        assert exact.expected_profit == pytest.approx(best, abs=1e-9)
        assert greedy.expected_profit <= best + 1e-9 <= greedy.upper_bound + 2e-9


def test_several_offers_per_customer_agree_with_brute_force_on_tiny_problems() -> None:
    for seed in range(4):
        rng = np.random.default_rng(10 + seed)
        response = rng.uniform(0, 0.6, size=(4, 2, 2))
        value, cost, budget, capacity = [10.0, 16.0], [1.0, 2.5], 6.0, [4.0, 2.0]
        best = 0.0
        # Per customer and offer: 0 = no contact, 1 + c = channel c; both offers allowed.
        for pick in itertools.product(range(9), repeat=4):
            used, cap_used, profit = 0.0, [0, 0], 0.0
            for i, choice in enumerate(pick):
                for o, c in enumerate(divmod(choice, 3)):
                    if c:
                        used += cost[c - 1]
                        cap_used[c - 1] += 1
                        profit += response[i, o, c - 1] * value[o] - cost[c - 1]
            if used <= budget and cap_used[0] <= capacity[0] and cap_used[1] <= capacity[1]:
                best = max(best, profit)
        kw = dict(value=value, cost=cost, budget=budget, capacity=capacity, max_offers_per_customer=2)
        exact = cm.campaign.optimize(response, **kw, method="exact")
        greedy = cm.campaign.optimize(response, **kw)
        check_feasible(exact, budget, capacity, [0, 1], max_offers=2)
        check_feasible(greedy, budget, capacity, [0, 1], max_offers=2)
        assert exact.expected_profit == pytest.approx(best, abs=1e-9)
        assert greedy.expected_profit <= best + 1e-9 <= greedy.upper_bound + 2e-9


def test_several_offers_per_customer_match_highs_on_the_full_program() -> None:
    p = make_problem(600, offers=3, channels=2, seed=8)
    budget, capacity = 500.0, [np.inf, 60.0]
    one = cm.campaign.optimize(**p, budget=budget, capacity=capacity, method="exact")
    for m in (2, 3):
        best = reference_milp(p["response"], p["value"], p["cost"], budget, capacity, max_offers=m)
        greedy = cm.campaign.optimize(**p, budget=budget, capacity=capacity, max_offers_per_customer=m)
        exact = cm.campaign.optimize(**p, budget=budget, capacity=capacity, max_offers_per_customer=m, method="exact")
        check_feasible(greedy, budget, capacity, [0, 1], max_offers=m)
        check_feasible(exact, budget, capacity, [0, 1], max_offers=m)
        assert exact.expected_profit == pytest.approx(best, rel=1e-9) and exact.status == "optimal"
        assert greedy.expected_profit <= best + 1e-6 <= greedy.upper_bound + 1e-6
        assert (best - greedy.expected_profit) / best < 0.01
        assert greedy.assignment["customer"].value_counts().max() > 1  # the option is used
        assert best >= one.expected_profit - 1e-6  # more contacts allowed never earn less


def test_assignment_names_customers_offers_and_channels_and_adds_up() -> None:
    p = make_problem(400, offers=2, channels=3, seed=2)
    plan = cm.campaign.optimize(**{**p, "cost": [0.2, 1.0, 4.0]}, budget=150.0, capacity={"phone": 20},
                                customers=[f"c{i}" for i in range(400)], offers=["coupon", "bundle"],
                                channels=["email", "sms", "phone"])
    a = plan.assignment
    assert set(a["offer"]) <= {"coupon", "bundle"} and set(a["channel"]) <= {"email", "sms", "phone"}
    assert plan.channel_contacts["phone"] <= 20
    assert plan.expected_profit == pytest.approx((a["response"] * a["value"] - a["cost"]).sum())
    assert (a["expected_profit"] > 0).all()
    assert plan.summary()["contacts"] == len(a)


def test_value_and_cost_broadcast_like_the_full_cube() -> None:
    p = make_problem(500, seed=3)
    n, o, c = p["response"].shape
    full_v = np.broadcast_to(p["value"].reshape(1, o, 1), (n, o, c)).copy()
    per_customer_cost = np.broadcast_to(p["cost"].reshape(1, c), (n, c)).copy()
    a = cm.campaign.optimize(**p, budget=120.0)
    b = cm.campaign.optimize(p["response"], value=full_v, cost=per_customer_cost, budget=120.0)
    assert a.expected_profit == b.expected_profit
    pd.testing.assert_frame_equal(a.assignment, b.assignment)


def test_same_plan_at_any_thread_count() -> None:
    p = make_problem(60000, offers=4, channels=3, seed=4)
    kw = dict(budget=4000.0, capacity=[np.inf, 2000.0, 300.0])
    a = cm.campaign.optimize(**p, **kw, n_jobs=1)
    b = cm.campaign.optimize(**p, **kw, n_jobs=2)
    assert a.expected_profit == b.expected_profit and a.upper_bound == b.upper_bound
    pd.testing.assert_frame_equal(a.assignment, b.assignment)


@pytest.mark.parametrize("change, match", [
    ({"budget": 0.0}, "budget"),
    ({"budget": -3.0}, "budget"),
    ({"budget": float("nan")}, "budget"),
    ({"capacity": [5.0]}, "capacity"),
    ({"capacity": [-1.0, 4.0]}, "capacity"),
    ({"capacity": [0.0, 0.0]}, "infeasible"),
    ({"capacity": {"fax": 3}}, "capacity"),
    ({"value": [1.0, 2.0]}, "value"),
    ({"cost": np.ones((7, 2))}, "cost"),
    ({"value": [1.0, np.nan, 3.0]}, "value"),
    ({"cost": [1.0, -2.0]}, "cost"),
    ({"method": "simplex"}, "method"),
    ({"max_offers_per_customer": 0}, "max_offers_per_customer"),
    ({"max_offers_per_customer": 1.5}, "max_offers_per_customer"),
])
def test_bad_input_names_the_argument(change, match) -> None:
    kw = {**make_problem(10, seed=5), "budget": 10.0, **change}
    with pytest.raises(ValueError, match=match):
        cm.campaign.optimize(**kw)


@pytest.mark.parametrize("bad", [1.5, -0.1, np.nan])
def test_probabilities_outside_the_unit_interval_are_rejected(bad) -> None:
    p = make_problem(10, seed=6)
    p["response"][4, 1, 0] = bad
    with pytest.raises(ValueError, match=r"response.*customer 4, offer 1, channel 0"):
        cm.campaign.optimize(**p, budget=10.0)


def test_response_shape_mismatch_is_rejected() -> None:
    with pytest.raises(ValueError, match="response"):
        cm.campaign.optimize(np.zeros(5), value=1.0, cost=1.0, budget=1.0)
    with pytest.raises(ValueError, match="customers"):
        cm.campaign.optimize(np.zeros((3, 2, 1)), value=1.0, cost=1.0, budget=1.0, customers=["a"])


def test_contact_windows_follow_the_purchase_cycle_and_weekday() -> None:
    # Customer 1 buys every 14 days on Mondays; customer 2 once; customer 3 is long overdue.
    rows = [(1, d) for d in pd.date_range("2024-01-01", periods=6, freq="14D")]
    rows += [(2, pd.Timestamp("2024-03-01"))]
    rows += [(3, pd.Timestamp("2023-01-02")), (3, pd.Timestamp("2023-01-09"))]
    tx = pd.DataFrame(rows, columns=["cid", "when"])
    w = cm.campaign.contact_windows(tx, customer="cid", time="when", as_of="2024-03-12")
    one = w.loc[1]
    assert one["typical_weekday"] == 0 and one["cycle_days"] == 14
    assert one["next_purchase"] == pd.Timestamp("2024-03-25")
    assert one["window_start"] == pd.Timestamp("2024-03-21") and one["window_end"] == pd.Timestamp("2024-03-25")
    assert one["best_contact_date"] == pd.Timestamp("2024-03-25")  # the first Monday in the window
    assert pd.isna(w.loc[2, "next_purchase"])
    assert w.loc[3, "next_purchase"] == pd.Timestamp("2024-03-12")  # overdue: due now
    plan = cm.campaign.optimize(np.full((3, 1, 1), 0.5), value=10.0, cost=1.0, customers=[1, 2, 3], contact_windows=w)
    assert "best_contact_date" in plan.assignment.columns
    with pytest.raises(ValueError, match="when2"):
        cm.campaign.contact_windows(tx, customer="cid", time="when2")
