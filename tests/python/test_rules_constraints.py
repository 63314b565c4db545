# SPDX-License-Identifier: Apache-2.0
"""Item constraints pushed into mining ("who buys what with product P") equal mining everything
and filtering, on Groceries and random baskets, for all three miners; the compact result forms
('tuple', 'codes') hold the same itemsets as the mlxtend-shaped default."""

import numpy as np
import pandas as pd
import pytest

from crmine import rules

from conftest import shared_path

ALGORITHMS = ["fpgrowth", "eclat", "apriori"]


@pytest.fixture(scope="module")
def groceries() -> list[list[str]]:
    with open(shared_path("groceries/groceries.csv")) as f:
        return [line.rstrip("\n").split(",") for line in f]


@pytest.fixture(scope="module")
def random_baskets() -> list[list[int]]:
    rng = np.random.default_rng(6)
    popularity = 1.0 / (np.arange(40) + 3.0)
    return [list(rng.choice(40, size=rng.integers(1, 12), p=popularity / popularity.sum())) for _ in range(1500)]


def _as_dict(frame: pd.DataFrame) -> dict:
    return dict(zip(frame["itemsets"], frame["count"]))


def _filtered(frame: pd.DataFrame, wanted: set) -> dict:
    return {s: c for s, c in _as_dict(frame).items() if s & wanted}


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_contains_equals_mine_then_filter_on_groceries(groceries, algorithm):
    every = rules.frequent_itemsets(groceries, min_support=0.001, algorithm=algorithm)
    for wanted in (["whole milk"], ["canned beer", "red/blush wine", "liquor"]):
        some = rules.frequent_itemsets(groceries, min_support=0.001, algorithm=algorithm, contains=wanted)
        expected = _filtered(every, set(wanted))
        assert _as_dict(some) == expected and len(expected) > 50
        # supports are relative to all baskets, not to those holding the item
        assert np.allclose(some["support"], some["count"] / len(groceries))


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_contains_equals_mine_then_filter_on_random_baskets(random_baskets, algorithm):
    for min_support, max_len, wanted in ((5, None, {0}), (3, 3, {7, 31, 2}), (0.01, 2, {39})):
        every = rules.frequent_itemsets(random_baskets, min_support=min_support, max_len=max_len, algorithm=algorithm)
        some = rules.frequent_itemsets(random_baskets, min_support=min_support, max_len=max_len, algorithm=algorithm,
                                       contains=sorted(wanted))
        assert _as_dict(some) == _filtered(every, wanted)
    closed = rules.frequent_itemsets(random_baskets, min_support=5, kind="closed", algorithm=algorithm)
    some = rules.frequent_itemsets(random_baskets, min_support=5, kind="closed", algorithm=algorithm, contains=3)
    assert _as_dict(some) == _filtered(closed, {3})


def _rule_set(frame: pd.DataFrame) -> dict:
    return {(a, c): (round(s, 12), round(conf, 12), round(lift, 9))
            for a, c, s, conf, lift in zip(frame["antecedents"], frame["consequents"], frame["support"],
                                            frame["confidence"], frame["lift"])}


def test_mine_rules_equals_mine_then_filter_on_groceries(groceries):
    itemsets = rules.frequent_itemsets(groceries, min_support=0.001)
    for kwargs in ({"consequent_items": ["whole milk"], "max_consequent_len": 1},
                   {"antecedent_items": ["yogurt", "butter"]},
                   {"consequent_items": ["other vegetables"], "antecedent_items": ["root vegetables"]}):
        expected = rules.association_rules(itemsets, "confidence", 0.3, **kwargs)
        got = rules.mine_rules(groceries, 0.001, "confidence", 0.3, **kwargs)
        assert len(got) == len(expected) > 20
        assert _rule_set(got) == _rule_set(expected)
    top = rules.mine_rules(groceries, 0.001, "lift", 0.0, consequent_items="whole milk", top_k=10)
    assert list(top["lift"]) == sorted(rules.association_rules(itemsets, "lift", 0.0, consequent_items=["whole milk"])
                                       ["lift"], reverse=True)[:10]


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_mine_rules_equals_mine_then_filter_on_random_baskets(random_baskets, algorithm):
    itemsets = rules.frequent_itemsets(random_baskets, min_support=4, algorithm=algorithm)
    expected = rules.association_rules(itemsets, "lift", 1.1, consequent_items=[5, 9])
    got = rules.mine_rules(random_baskets, 4, "lift", 1.1, consequent_items=[5, 9], algorithm=algorithm)
    assert len(expected) > 20 and _rule_set(got) == _rule_set(expected)
    # No constraint: the same as association_rules on the full result.
    plain = rules.mine_rules(random_baskets, 20, "confidence", 0.2, algorithm=algorithm)
    full = rules.association_rules(rules.frequent_itemsets(random_baskets, min_support=20, algorithm=algorithm),
                                   "confidence", 0.2)
    assert len(plain) == len(full) > 20 and _rule_set(plain) == _rule_set(full)


def test_constraint_errors_name_the_argument(random_baskets):
    with pytest.raises(ValueError, match="contains: item 'caviar'"):
        rules.frequent_itemsets(random_baskets, min_support=5, contains=["caviar"])
    with pytest.raises(ValueError, match="contains: is empty"):
        rules.frequent_itemsets(random_baskets, min_support=5, contains=[])
    with pytest.raises(ValueError, match="consequent_items: item 99"):
        rules.mine_rules(random_baskets, 5, consequent_items=[99])
    with pytest.raises(ValueError, match="metric"):
        rules.mine_rules(random_baskets, 5, metric="surprise", consequent_items=[1])
    with pytest.raises(ValueError, match="itemsets: must be one of"):
        rules.frequent_itemsets(random_baskets, min_support=5, itemsets="list")


def test_result_forms_hold_the_same_itemsets(groceries):
    default = rules.frequent_itemsets(groceries, min_support=0.002)
    tuples = rules.frequent_itemsets(groceries, min_support=0.002, itemsets="tuple")
    codes = rules.frequent_itemsets(groceries, min_support=0.002, itemsets="codes")
    assert isinstance(codes, rules.ItemsetArrays) and len(codes) == len(default) == len(tuples)
    assert all(isinstance(t, tuple) for t in tuples["itemsets"])
    assert dict(zip(map(frozenset, tuples["itemsets"]), tuples["count"])) == _as_dict(default)
    assert {frozenset(codes.itemset(s)): codes.count[s] for s in range(len(codes))} == _as_dict(default)
    pd.testing.assert_frame_equal(codes.to_frame(), default)
    assert codes.n_baskets == len(groceries) and np.array_equal(codes.support, default["support"])
    # Rules from each form agree with those from the default frame.
    expected = _rule_set(rules.association_rules(default, "confidence", 0.4))
    assert _rule_set(rules.association_rules(codes, "confidence", 0.4)) == expected
    assert _rule_set(rules.association_rules(tuples, "confidence", 0.4)) == expected
