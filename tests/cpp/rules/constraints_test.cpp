// SPDX-License-Identifier: Apache-2.0
// Item constraints pushed into mining: itemsets holding given items and rules with a required
// consequent or antecedent equal mining everything and filtering, for all three miners.
#include "rules_test_util.hpp"

#include <crmine/core/errors.hpp>
#include <crmine/rules.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <tuple>

namespace crmine {
namespace {

using test::expect_same;
using test::groceries;

constexpr ItemsetAlgorithm kAlgorithms[] = {ItemsetAlgorithm::fp_growth, ItemsetAlgorithm::eclat, ItemsetAlgorithm::apriori};

bool holds_any(std::span<const std::int32_t> x, const std::vector<std::int32_t>& wanted) {
  return std::any_of(x.begin(), x.end(), [&](std::int32_t v) { return std::find(wanted.begin(), wanted.end(), v) != wanted.end(); });
}

/// The itemsets of `all` holding one of `wanted`, in canonical order.
Itemsets filtered(const Itemsets& all, const std::vector<std::int32_t>& wanted) {
  Itemsets out;
  out.n_baskets = all.n_baskets;
  out.min_count = all.min_count;
  for (std::int64_t s = 0; s < all.size(); ++s) {
    const auto x = all.itemset(s);
    if (!holds_any(x, wanted)) continue;
    out.items.insert(out.items.end(), x.begin(), x.end());
    out.indptr.push_back(static_cast<std::int64_t>(out.items.size()));
    out.count.push_back(all.count[static_cast<std::size_t>(s)]);
  }
  out.sort();
  return out;
}


using RuleKey = std::tuple<std::vector<std::int32_t>, std::vector<std::int32_t>, double, double, double, double>;

std::vector<RuleKey> rule_keys(const Rules& r, bool sorted = true) {
  std::vector<RuleKey> out;
  for (std::int64_t k = 0; k < r.size(); ++k) {
    const auto a = r.antecedent(k), c = r.consequent(k);
    const auto u = static_cast<std::size_t>(k);
    out.emplace_back(std::vector<std::int32_t>(a.begin(), a.end()), std::vector<std::int32_t>(c.begin(), c.end()),
                     r.support[u], r.confidence[u], r.antecedent_support[u], r.consequent_support[u]);
  }
  if (sorted) std::sort(out.begin(), out.end());
  return out;
}

TEST(ConstrainedItemsets, EqualMiningEverythingAndFilteringOnRandomBaskets) {
  for (std::uint64_t seed = 1; seed <= 10; ++seed) {
    const Baskets b = test::random_baskets(seed, 400 + 40 * static_cast<std::int64_t>(seed), 35, 12);
    // A frequent item, a rare one, one below min support and a repeat.
    const std::vector<std::int32_t> wanted{static_cast<std::int32_t>(seed % 4), static_cast<std::int32_t>(10 + seed),
                                           34, static_cast<std::int32_t>(seed % 4)};
    for (const auto algorithm : kAlgorithms) {
      ItemsetOptions o;
      o.algorithm = algorithm;
      o.min_count = 2 + static_cast<std::int64_t>(seed % 4);
      o.max_len = seed % 3 == 0 ? 3 : 0;
      const Itemsets all = frequent_itemsets(b.view(), o);
      o.contains = wanted;
      const Itemsets some = frequent_itemsets(b.view(), o);
      EXPECT_GT(some.size(), 20) << "seed " << seed;
      EXPECT_LT(some.size(), all.size());
      expect_same(some, filtered(all, wanted));
    }
  }
}

TEST(ConstrainedItemsets, EqualMiningEverythingAndFilteringOnGroceries) {
  if (groceries().size() == 0) GTEST_SKIP() << "groceries.csv not available";
  // Item ids in order of first appearance: 0 citrus fruit, 1 semi-finished bread, 5 yogurt,
  // 40 processed cheese.
  const std::vector<std::vector<std::int32_t>> wanted_lists{{0}, {1, 5, 40}};
  for (const auto& wanted : wanted_lists)
    for (const auto algorithm : kAlgorithms) {
      ItemsetOptions o;
      o.algorithm = algorithm;
      o.min_support = 0.001;
      const Itemsets all = frequent_itemsets(groceries().view(), o);
      o.contains = wanted;
      const Itemsets some = frequent_itemsets(groceries().view(), o);
      EXPECT_GT(some.size(), 100);
      expect_same(some, filtered(all, wanted));
    }
}

TEST(ConstrainedItemsets, ClosedMaximalThreadsAndLengthOne) {
  const Baskets b = test::random_baskets(77, 1500, 40, 14);
  const std::vector<std::int32_t> wanted{3, 17};
  for (const auto kind : {ItemsetKind::closed, ItemsetKind::maximal}) {
    ItemsetOptions o;
    o.min_count = 4;
    o.kind = kind;
    const Itemsets all = frequent_itemsets(b.view(), o);
    o.contains = wanted;
    expect_same(frequent_itemsets(b.view(), o), filtered(all, wanted));
  }
  ItemsetOptions o;
  o.min_count = 4;
  o.contains = wanted;
  o.n_threads = 1;
  const Itemsets one = frequent_itemsets(b.view(), o);
  o.n_threads = 3;
  const Itemsets three = frequent_itemsets(b.view(), o);
  EXPECT_EQ(one.items, three.items);
  EXPECT_EQ(one.count, three.count);
  o.max_len = 1;
  const Itemsets singles = frequent_itemsets(b.view(), o);
  EXPECT_EQ(singles.size(), 2);
  o.contains.clear();
  expect_same(singles, filtered(frequent_itemsets(b.view(), o), wanted));
}

TEST(ConstrainedItemsets, UnknownItemAndLimitsThrow) {
  const Baskets b = test::random_baskets(8, 2000, 30, 18);
  ItemsetOptions o;
  o.min_count = 2;
  o.contains = {30};
  EXPECT_THROW(frequent_itemsets(b.view(), o), InvalidArgument);
  o.contains = {-1};
  EXPECT_THROW(frequent_itemsets(b.view(), o), InvalidArgument);
  for (const auto algorithm : kAlgorithms) {
    o.algorithm = algorithm;
    o.contains = {0};
    o.max_itemsets = 50;
    EXPECT_THROW(frequent_itemsets(b.view(), o), LimitExceeded);
  }
}

TEST(MineRules, EqualMiningEverythingAndFilteringOnRandomBaskets) {
  for (std::uint64_t seed = 1; seed <= 8; ++seed) {
    const Baskets b = test::random_baskets(100 + seed, 900, 30, 11);
    ItemsetOptions io;
    io.min_count = 4;
    io.algorithm = kAlgorithms[seed % 3];
    const Itemsets all = frequent_itemsets(b.view(), io);
    RuleOptions ro;
    ro.min_threshold = 0.2;
    ro.n_threads = static_cast<int>(seed % 2) + 1;
    switch (seed % 4) {
      case 0: ro.consequent_items = {2}; break;
      case 1: ro.consequent_items = {1, 9}; ro.max_consequent_len = 1; break;
      case 2: ro.antecedent_items = {0, 12}; ro.max_antecedent_len = 2; ro.max_consequent_len = 2; break;
      default: ro.consequent_items = {5}; ro.antecedent_items = {0, 1}; ro.metric = RuleMetric::lift; ro.min_threshold = 1.0;
    }
    const Rules expected = association_rules(all, ro);
    const Rules got = mine_rules(b.view(), io, ro);
    EXPECT_GT(expected.size(), 5) << "seed " << seed;
    EXPECT_EQ(rule_keys(got), rule_keys(expected)) << "seed " << seed;
    ro.top_k = 7;  // best first with canonical ties: the same rules in the same order
    EXPECT_EQ(rule_keys(mine_rules(b.view(), io, ro), false), rule_keys(association_rules(all, ro), false));
  }
}

TEST(MineRules, GroceriesWhoBuysWhatWithWholeMilk) {
  if (groceries().size() == 0) GTEST_SKIP() << "groceries.csv not available";
  ItemsetOptions io;
  io.min_support = 0.001;
  const Itemsets all = frequent_itemsets(groceries().view(), io);
  const std::int32_t milk = 7;  // "whole milk" in order of first appearance
  RuleOptions ro;
  ro.min_threshold = 0.5;
  ro.max_consequent_len = 1;
  ro.consequent_items = {milk};
  const Rules expected = association_rules(all, ro);
  const Rules got = mine_rules(groceries().view(), io, ro);
  EXPECT_GT(got.size(), 1000);
  EXPECT_EQ(rule_keys(got), rule_keys(expected));
  ro.consequent_items.clear();
  ro.antecedent_items = {milk};
  EXPECT_EQ(rule_keys(mine_rules(groceries().view(), io, ro)), rule_keys(association_rules(all, ro)));
}

TEST(MineRules, BadInputThrows) {
  const Baskets b = test::random_baskets(4, 300, 20, 8);
  ItemsetOptions io;
  io.min_count = 3;
  RuleOptions ro;
  ro.consequent_items = {20};
  EXPECT_THROW(mine_rules(b.view(), io, ro), InvalidArgument);
  ro.consequent_items = {1};
  io.kind = ItemsetKind::closed;
  EXPECT_THROW(mine_rules(b.view(), io, ro), InvalidArgument);
}

}  // namespace
}  // namespace crmine
