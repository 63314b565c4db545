// SPDX-License-Identifier: Apache-2.0
// Association rules: arules' published Groceries counts, metric identities, top-k, item
// constraints, thread independence; recommendations exclude owned items and cite their rule.
#include "rules_test_util.hpp"

#include <crmine/core/errors.hpp>
#include <crmine/rules.hpp>

#include <gtest/gtest.h>

#include <cmath>
#include <sstream>

namespace crmine {
namespace {

using test::groceries;

std::int64_t arules_count(double min_support, double min_confidence) {
  ItemsetOptions io;
  io.min_support = min_support;
  io.max_len = 10;  // arules' default maxlen
  const Itemsets s = frequent_itemsets(groceries().view(), io);
  RuleOptions ro;
  ro.metric = RuleMetric::confidence;
  ro.min_threshold = min_confidence;
  ro.max_consequent_len = 1;
  return association_rules(s, ro).size();
}

TEST(AssociationRules, GroceriesMatchesArules) {
  if (groceries().size() == 0) GTEST_SKIP() << "groceries.csv not available";
  EXPECT_EQ(arules_count(0.001, 0.5), 5668);
  EXPECT_EQ(arules_count(0.001, 0.8), 410);
  EXPECT_EQ(arules_count(0.005, 0.5), 120);
}

TEST(AssociationRules, MetricsFollowTheirDefinitions) {
  const Baskets b = test::random_baskets(11, 800, 25, 8);
  ItemsetOptions io;
  io.min_count = 8;
  const Itemsets s = frequent_itemsets(b.view(), io);
  RuleOptions ro;
  ro.min_threshold = 0.0;
  const Rules r = association_rules(s, ro);
  ASSERT_GT(r.size(), 50);
  const double n = static_cast<double>(b.size());
  for (std::int64_t k = 0; k < r.size(); ++k) {
    const auto u = static_cast<std::size_t>(k);
    // Recount supports by brute force.
    auto count = [&](std::vector<std::int32_t> x) {
      std::sort(x.begin(), x.end());
      double c = 0;
      for (std::int64_t t = 0; t < b.size(); ++t) {
        std::vector<std::int32_t> basket(b.indices.begin() + b.indptr[static_cast<std::size_t>(t)], b.indices.begin() + b.indptr[static_cast<std::size_t>(t) + 1]);
        std::sort(basket.begin(), basket.end());
        c += std::includes(basket.begin(), basket.end(), x.begin(), x.end());
      }
      return c / n;
    };
    std::vector<std::int32_t> a(r.antecedent(k).begin(), r.antecedent(k).end()), c(r.consequent(k).begin(), r.consequent(k).end());
    std::vector<std::int32_t> ac = a;
    ac.insert(ac.end(), c.begin(), c.end());
    const double sA = count(a), sC = count(c), sAC = count(ac);
    EXPECT_DOUBLE_EQ(r.antecedent_support[u], sA);
    EXPECT_DOUBLE_EQ(r.consequent_support[u], sC);
    EXPECT_DOUBLE_EQ(r.support[u], sAC);
    EXPECT_NEAR(r.confidence[u], sAC / sA, 1e-12);
    EXPECT_NEAR(r.lift[u], sAC / sA / sC, 1e-12);
    EXPECT_NEAR(r.leverage[u], sAC - sA * sC, 1e-12);
    EXPECT_NEAR(r.jaccard[u], sAC / (sA + sC - sAC), 1e-12);
    if (sAC < sA) {
      EXPECT_NEAR(r.conviction[u], (1 - sC) / (1 - sAC / sA), 1e-9);
    }
    const double lev = sAC - sA * sC;
    EXPECT_NEAR(r.zhangs_metric[u], lev / std::max(sAC * (1 - sA), sA * (sC - sAC)), 1e-12);
    EXPECT_GE(r.zhangs_metric[u], -1.0);
    EXPECT_LE(r.zhangs_metric[u], 1.0);
  }
  if (r.size() > 0) {
    RuleOptions top = ro;
    top.metric = RuleMetric::lift;
    top.top_k = 10;
    const Rules best = association_rules(s, top);
    ASSERT_EQ(best.size(), 10);
    std::vector<double> lifts = r.lift;
    std::sort(lifts.rbegin(), lifts.rend());
    for (std::size_t k = 0; k < 10; ++k) EXPECT_EQ(best.lift[k], lifts[k]);
  }
}

TEST(AssociationRules, ConstraintsAndThreads) {
  const Baskets b = test::random_baskets(12, 1500, 30, 10);
  ItemsetOptions io;
  io.min_count = 10;
  const Itemsets s = frequent_itemsets(b.view(), io);
  RuleOptions ro;
  ro.min_threshold = 0.1;
  ro.consequent_items = {3};
  ro.n_threads = 1;
  const Rules one = association_rules(s, ro);
  ASSERT_GT(one.size(), 0);
  for (std::int64_t k = 0; k < one.size(); ++k) {
    const auto c = one.consequent(k);
    EXPECT_NE(std::find(c.begin(), c.end(), 3), c.end());
  }
  ro.n_threads = 3;
  const Rules three = association_rules(s, ro);
  EXPECT_EQ(one.antecedent_items, three.antecedent_items);
  EXPECT_EQ(one.confidence, three.confidence);
  ro.consequent_items = {};
  ro.min_threshold = 0.0;
  ro.max_rules = 5;
  EXPECT_THROW(association_rules(s, ro), LimitExceeded);
}

TEST(AssociationRules, BadInputThrows) {
  const std::vector<std::int64_t> indptr{0, 2};
  const std::vector<std::int32_t> items{1, 2};
  const std::vector<double> support{0.5};
  RuleOptions ro;
  EXPECT_THROW(association_rules(ItemsetSupportView{indptr, items, support}, ro), InvalidArgument);  // subsets missing
  const std::vector<std::int32_t> unsorted{2, 1};
  EXPECT_THROW(association_rules(ItemsetSupportView{indptr, unsorted, support}, ro), InvalidArgument);
  const std::vector<double> bad_support{1.5};
  EXPECT_THROW(association_rules(ItemsetSupportView{indptr, items, bad_support}, ro), InvalidArgument);
  EXPECT_THROW(parse_rule_metric("nonsense"), InvalidArgument);
  EXPECT_EQ(parse_rule_metric("zhangs_metric"), RuleMetric::zhangs_metric);
}

TEST(Recommender, RecommendsUnownedItemsWithTheirRule) {
  // 0 and 1 go together; 2 goes with 3.
  const Baskets b = test::baskets_of({{0, 1}, {0, 1, 4}, {2, 3}, {0}, {2, 3, 4}}, 20, 5);
  ItemsetOptions io;
  io.min_count = 10;
  RuleOptions ro;
  ro.min_threshold = 0.3;
  ro.max_consequent_len = 1;
  const Recommender rec(association_rules(frequent_itemsets(b.view(), io), ro), 5);
  const std::vector<std::int64_t> qptr{0, 1, 2, 4};
  const std::vector<std::int32_t> qidx{1, 2, 0, 1};
  const Recommendations out = rec.recommend(BasketView{qptr, qidx, 5}, 2);
  EXPECT_EQ(out.item[0], 0);  // {1} -> {0} with confidence 1
  EXPECT_DOUBLE_EQ(out.score[0], 1.0);
  const auto r0 = rec.rules().antecedent(out.rule[0]);
  EXPECT_EQ(std::vector<std::int32_t>(r0.begin(), r0.end()), std::vector<std::int32_t>{1});
  EXPECT_EQ(out.item[2], 3);  // {2} -> {3}
  for (std::size_t j = 4; j < 6; ++j) EXPECT_TRUE(out.item[j] != 0 && out.item[j] != 1);  // owned items never come back
  const std::vector<std::int32_t> unknown{7};
  const std::vector<std::int64_t> uptr{0, 1};
  EXPECT_THROW(rec.recommend(BasketView{uptr, unknown, 5}, 2), InvalidArgument);
  EXPECT_THROW(rec.recommend(BasketView{qptr, qidx, 5}, 0), InvalidArgument);
}

TEST(Recommender, SavedBytesLoadToTheSameRecommendations) {
  const Baskets b = test::baskets_of({{0, 1}, {0, 1, 4}, {2, 3}, {0}, {2, 3, 4}, {1, 4}}, 5, 5);
  ItemsetOptions io;
  io.min_count = 3;
  RuleOptions ro;
  ro.min_threshold = 0.2;
  const Recommender rec(association_rules(frequent_itemsets(b.view(), io), ro), 5, RuleMetric::lift);
  std::ostringstream out;
  rec.save(out);
  std::istringstream in(out.str());
  const Recommender back = Recommender::load(in);
  EXPECT_EQ(back.n_items(), 5);
  EXPECT_EQ(back.metric(), RuleMetric::lift);
  EXPECT_EQ(back.rules().antecedent_items, rec.rules().antecedent_items);
  EXPECT_EQ(back.rules().consequent_indptr, rec.rules().consequent_indptr);
  EXPECT_EQ(back.rules().conviction, rec.rules().conviction);  // +inf survives
  const Recommendations a = rec.recommend(b.view(), 3), c = back.recommend(b.view(), 3);
  EXPECT_EQ(a.item, c.item);
  EXPECT_EQ(a.rule, c.rule);
  EXPECT_EQ(a.score, c.score);

  const std::string bytes = out.str();
  for (const std::size_t at : {std::size_t{2}, std::size_t{13}, bytes.size() / 2, bytes.size() - 1}) {
    std::string bad = bytes;
    bad[at] = static_cast<char>(bad[at] ^ 0x5A);
    std::istringstream bad_in(bad);
    EXPECT_THROW(Recommender::load(bad_in), ModelFormatError) << "flipped byte " << at;
  }
  std::istringstream cut(bytes.substr(0, bytes.size() - 9));
  EXPECT_THROW(Recommender::load(cut), ModelFormatError);
}

}  // namespace
}  // namespace crmine
