// SPDX-License-Identifier: Apache-2.0
// Frequent itemsets: published counts on retail.dat and Groceries, agreement of the three
// miners, thread-count independence, closed/maximal sets, limits and bad input.
#include "rules_test_util.hpp"

#include <crmine/core/errors.hpp>
#include <crmine/rules.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <numeric>
#include <span>

namespace crmine {
namespace {

using test::baskets_of;
using test::expect_identical;
using test::expect_same;
using test::groceries;
using test::random_baskets;
using test::retail;

std::map<std::size_t, std::int64_t> by_length(const Itemsets& s) {
  std::map<std::size_t, std::int64_t> out;
  for (std::int64_t k = 0; k < s.size(); ++k) ++out[s.itemset(k).size()];
  return out;
}

std::int64_t count_of(const Itemsets& s, std::vector<std::int32_t> items) {
  for (std::int64_t k = 0; k < s.size(); ++k) {
    const auto x = s.itemset(k);
    if (std::equal(x.begin(), x.end(), items.begin(), items.end())) return s.count[static_cast<std::size_t>(k)];
  }
  return -1;
}


/// The number of baskets holding every item of `x` (sorted), each basket counted once.
std::int64_t count_by_brute_force(const Baskets& b, std::span<const std::int32_t> x) {
  std::int64_t count = 0;
  for (std::int64_t t = 0; t < b.size(); ++t) {
    std::vector<std::int32_t> basket(b.indices.begin() + b.indptr[static_cast<std::size_t>(t)],
                                     b.indices.begin() + b.indptr[static_cast<std::size_t>(t) + 1]);
    std::sort(basket.begin(), basket.end());
    count += std::includes(basket.begin(), basket.end(), x.begin(), x.end());
  }
  return count;
}

constexpr ItemsetAlgorithm kAlgorithms[] = {ItemsetAlgorithm::fp_growth, ItemsetAlgorithm::eclat, ItemsetAlgorithm::apriori};

TEST(FrequentItemsets, RetailReferenceCounts) {
  if (retail().size() == 0) GTEST_SKIP() << "retail.dat not available";
  ASSERT_EQ(retail().size(), 88162);
  for (const auto algorithm : kAlgorithms) {
    ItemsetOptions o;
    o.algorithm = algorithm;
    o.min_support = 0.01;
    Itemsets s = frequent_itemsets(retail().view(), o);
    EXPECT_EQ(s.min_count, 882);
    EXPECT_EQ(s.size(), 159);
    EXPECT_EQ(by_length(s), (std::map<std::size_t, std::int64_t>{{1, 70}, {2, 58}, {3, 25}, {4, 6}}));
    EXPECT_EQ(count_of(s, {39}), 50675);
    EXPECT_EQ(count_of(s, {48}), 42135);
    EXPECT_EQ(count_of(s, {39, 48}), 29142);
    o.min_support = 0.005;
    s = frequent_itemsets(retail().view(), o);
    EXPECT_EQ(s.min_count, 441);
    EXPECT_EQ(s.size(), 580);
    EXPECT_EQ(by_length(s), (std::map<std::size_t, std::int64_t>{{1, 221}, {2, 237}, {3, 102}, {4, 19}, {5, 1}}));
  }
}

TEST(FrequentItemsets, GroceriesReferenceCounts) {
  if (groceries().size() == 0) GTEST_SKIP() << "groceries.csv not available";
  ASSERT_EQ(groceries().size(), 9835);
  for (const auto algorithm : kAlgorithms) {
    ItemsetOptions o;
    o.algorithm = algorithm;
    o.min_support = 0.01;
    const Itemsets s = frequent_itemsets(groceries().view(), o);
    EXPECT_EQ(s.min_count, 99);
    EXPECT_EQ(s.size(), 333);
    EXPECT_EQ(by_length(s), (std::map<std::size_t, std::int64_t>{{1, 88}, {2, 213}, {3, 32}}));
  }
}

TEST(FrequentItemsets, AlgorithmsAgreeOnRandomBaskets) {
  for (std::uint64_t seed = 1; seed <= 12; ++seed) {
    const Baskets b = random_baskets(seed, 300 + 50 * static_cast<std::int64_t>(seed), 40, 12);
    ItemsetOptions o;
    o.min_count = 2 + static_cast<std::int64_t>(seed % 5);
    o.max_len = seed % 3 == 0 ? 3 : 0;
    o.algorithm = ItemsetAlgorithm::fp_growth;
    const Itemsets fp = frequent_itemsets(b.view(), o);
    o.algorithm = ItemsetAlgorithm::eclat;
    const Itemsets ec = frequent_itemsets(b.view(), o);
    o.algorithm = ItemsetAlgorithm::apriori;
    const Itemsets ap = frequent_itemsets(b.view(), o);
    EXPECT_GT(fp.size(), 40) << "seed " << seed;
    expect_same(fp, ec);
    expect_same(fp, ap);
    // Brute-force check of a sample of counts: each basket counted once.
    for (std::int64_t k = 0; k < fp.size(); k += 7) {
      EXPECT_EQ(count_by_brute_force(b, fp.itemset(k)), fp.count[static_cast<std::size_t>(k)]);
    }
  }
}

TEST(FrequentItemsets, RepeatedLongBasketsAreCountedExactly) {
  // Baskets longer than the packed sort key of preparation (40 items: 6 bits, 10 per key), equal
  // in their first ten or more items and differing after, repeated, next to short duplicates and a
  // basket that is a prefix of a long one: every itemset's count equals a count by brute force.
  std::vector<std::int32_t> a(15), b, c(10), d;
  std::iota(a.begin(), a.end(), 0);
  b = a;
  b.back() = 39;  // equal to `a` in the first 14 items
  std::iota(c.begin(), c.end(), 0);  // a prefix of `a` exactly as long as the key
  d = {3, 1, 2, 39, 39};  // unsorted, with a repeated item
  const Baskets baskets = baskets_of({a, b, c, d, {7}, {7}, a, {39, 0}}, 2, 40);
  for (const auto algorithm : kAlgorithms) {
    ItemsetOptions o;
    o.algorithm = algorithm;
    o.min_count = 3;
    const Itemsets found = frequent_itemsets(baskets.view(), o);
    EXPECT_GT(found.size(), 30000);
    for (std::int64_t k = 0; k < found.size(); k += 97) {
      const auto x = found.itemset(k);
      EXPECT_EQ(count_by_brute_force(baskets, x), found.count[static_cast<std::size_t>(k)]) << "itemset " << k;
      EXPECT_TRUE(std::is_sorted(x.begin(), x.end()));
    }
  }
}

TEST(FpGrowth, WideSparseBasketsAgreeWithEclat) {
  // Long baskets over many items, as in retail.dat: first-level trees are built from long
  // transaction prefixes with thousands of distinct parents per item.
  const Baskets b = random_baskets(5, 4000, 900, 40);
  ItemsetOptions o;
  o.min_count = 12;
  o.n_threads = 1;
  const Itemsets fp = frequent_itemsets(b.view(), o);
  o.algorithm = ItemsetAlgorithm::eclat;
  const Itemsets ec = frequent_itemsets(b.view(), o);
  EXPECT_GT(fp.size(), 1000);
  expect_same(fp, ec);
}

TEST(FrequentItemsets, ThreadCountDoesNotChangeTheResult) {
  const Baskets b = random_baskets(99, 2000, 60, 15);
  for (const auto algorithm : kAlgorithms) {
    ItemsetOptions o;
    o.algorithm = algorithm;
    o.min_count = 6;
    o.n_threads = 1;
    const Itemsets one = frequent_itemsets(b.view(), o);
    o.n_threads = 4;
    expect_identical(one, frequent_itemsets(b.view(), o));
  }
}

TEST(FpGrowth, LargeResultsAreIdenticalOnEveryThreadCount) {
  // Enough itemsets that the busiest first-level items' buffers pass 64 KiB (mapped from the
  // system) and the first level passes 2^16 prefix items (the automatic count uses every core).
  const Baskets b = random_baskets(17, 3000, 40, 24);
  ItemsetOptions o;
  o.min_count = 30;
  o.n_threads = 1;
  const Itemsets one = frequent_itemsets(b.view(), o);
  EXPECT_GT(one.size(), 50000);
  for (const int threads : {0, 2, 3}) {
    o.n_threads = threads;
    expect_identical(one, frequent_itemsets(b.view(), o));
  }
  o.algorithm = ItemsetAlgorithm::eclat;
  expect_same(one, frequent_itemsets(b.view(), o));
}

TEST(FrequentItemsets, ClosedAndMaximal) {
  // Baskets {0,1,2} x3, {0,1} x1, {3} x2: closed = {0,1,2}:3, {0,1}:4, {3}:2; maximal = {0,1,2}, {3}.
  Baskets b;
  for (auto basket : std::vector<std::vector<std::int32_t>>{{0, 1, 2}, {0, 1, 2}, {2, 1, 0}, {0, 1}, {3}, {3, 3}}) {
    b.indices.insert(b.indices.end(), basket.begin(), basket.end());
    b.indptr.push_back(static_cast<std::int64_t>(b.indices.size()));
  }
  b.item_ids = {0, 1, 2, 3};
  ItemsetOptions o;
  o.min_count = 2;
  o.kind = ItemsetKind::closed;
  Itemsets closed = frequent_itemsets(b.view(), o);
  closed.sort();
  EXPECT_EQ(closed.items, (std::vector<std::int32_t>{3, 0, 1, 0, 1, 2}));
  EXPECT_EQ(closed.count, (std::vector<std::int64_t>{2, 4, 3}));
  o.kind = ItemsetKind::maximal;
  Itemsets maximal = frequent_itemsets(b.view(), o);
  maximal.sort();
  EXPECT_EQ(maximal.items, (std::vector<std::int32_t>{3, 0, 1, 2}));
}

TEST(FrequentItemsets, LimitsStopWithLimitExceeded) {
  const Baskets b = random_baskets(5, 3000, 50, 20);
  for (const auto algorithm : kAlgorithms) {
    ItemsetOptions o;
    o.algorithm = algorithm;
    o.min_count = 3;
    o.max_itemsets = 100;
    EXPECT_THROW(frequent_itemsets(b.view(), o), LimitExceeded);
    o.max_itemsets = 0;
    o.max_memory = 1000;
    EXPECT_THROW(frequent_itemsets(b.view(), o), LimitExceeded);
  }
}

TEST(FrequentItemsets, BadInputThrows) {
  const Baskets b = random_baskets(3, 100, 10, 5);
  ItemsetOptions o;
  o.min_support = 0.0;
  EXPECT_THROW(frequent_itemsets(b.view(), o), InvalidArgument);
  o.min_support = 1.5;
  EXPECT_THROW(frequent_itemsets(b.view(), o), InvalidArgument);
  o.min_support = 0.1;
  o.max_len = -1;
  EXPECT_THROW(frequent_itemsets(b.view(), o), InvalidArgument);
  o.max_len = 0;
  o.min_count = 101;
  EXPECT_THROW(frequent_itemsets(b.view(), o), InvalidArgument);
  o.min_count = 0;
  BasketView bad = b.view();
  bad.n_items = 3;  // items 3..9 become unknown ids
  EXPECT_THROW(frequent_itemsets(bad, o), InvalidArgument);
  const std::vector<std::int64_t> no_baskets{0};
  EXPECT_THROW(frequent_itemsets(BasketView{no_baskets, {}, 5}, o), InvalidArgument);
  const std::vector<std::int64_t> empties{0, 0, 0};
  EXPECT_THROW(frequent_itemsets(BasketView{empties, {}, 5}, o), InvalidArgument);
  const std::vector<std::int64_t> decreasing{0, 2, 1};
  const std::vector<std::int32_t> idx{0, 1};
  EXPECT_THROW(frequent_itemsets(BasketView{decreasing, idx, 5}, o), InvalidArgument);
}

TEST(FrequentItemsets, MinCountForIsExactCeiling) {
  EXPECT_EQ(min_count_for(0.01, 88162), 882);
  EXPECT_EQ(min_count_for(0.005, 88162), 441);
  EXPECT_EQ(min_count_for(0.1, 30), 3);  // 0.1 * 30 is 3.0000000000000004 in doubles
  EXPECT_EQ(min_count_for(1.0, 7), 7);
  EXPECT_THROW(min_count_for(0.0, 7), InvalidArgument);
}

TEST(MakeBaskets, GroupsByOrderAndByCustomerDay) {
  const std::vector<std::int64_t> customer{1, 1, 2, 1, 2};
  const std::vector<std::int64_t> time{10, 10, 10, 11, 10};
  const std::vector<double> amount{1, 1, 1, 1, 1};
  const std::vector<std::int64_t> order{7, 7, 8, 9, 8};
  const std::vector<std::int64_t> item{500, 300, 500, 300, 500};
  TransactionLog log;
  log.customer = customer;
  log.time = time;
  log.amount = amount;
  log.order = order;
  log.item = item;
  Baskets by_order = make_baskets(log);
  EXPECT_EQ(by_order.item_ids, (std::vector<std::int64_t>{300, 500}));
  EXPECT_EQ(by_order.indptr, (std::vector<std::int64_t>{0, 2, 3, 4}));
  EXPECT_EQ(by_order.indices, (std::vector<std::int32_t>{0, 1, 1, 0}));  // order 8's duplicate counted once
  EXPECT_EQ(by_order.keys, (std::vector<std::int64_t>{7, 8, 9}));
  Baskets by_day = make_baskets(log, {BasketKey::customer_day, 0});
  EXPECT_EQ(by_day.indptr, (std::vector<std::int64_t>{0, 2, 3, 4}));
  EXPECT_EQ(by_day.keys, (std::vector<std::int64_t>{1, 1, 2}));
  EXPECT_EQ(by_day.days, (std::vector<std::int64_t>{10, 11, 10}));
  log.item = {};
  EXPECT_THROW(make_baskets(log), InvalidArgument);
}

TEST(BasketsFromIndicators, RowAndColumnMajorTablesGiveTheSameBaskets) {
  // 21 baskets x 19 items, random and mostly zero, non-zero flags other than 1 included, so both
  // the eight-byte words and the tails of rows and columns are exercised.
  std::mt19937 gen(7);
  const std::int64_t rows = 21, cols = 19;
  std::vector<std::uint8_t> row_major(static_cast<std::size_t>(rows * cols)), col_major(row_major.size());
  std::vector<std::vector<std::int32_t>> expected(static_cast<std::size_t>(rows));
  for (std::int64_t i = 0; i < rows; ++i)
    for (std::int64_t j = 0; j < cols; ++j) {
      const std::uint8_t flag = gen() % 5 == 0 ? static_cast<std::uint8_t>(1 + gen() % 255) : 0;
      row_major[static_cast<std::size_t>(i * cols + j)] = col_major[static_cast<std::size_t>(j * rows + i)] = flag;
      if (flag != 0) expected[static_cast<std::size_t>(i)].push_back(static_cast<std::int32_t>(j));
    }
  const IndicatorView views[] = {{row_major.data(), rows, cols, cols, 1},
                                 {col_major.data(), rows, cols, 1, rows},
                                 // Every other column of the row-major table: neither stride is 1.
                                 {row_major.data(), rows, (cols + 1) / 2, cols, 2}};
  for (const IndicatorView& view : views) {
    const Baskets b = baskets_from_indicators(view);
    ASSERT_EQ(b.size(), rows);
    EXPECT_EQ(b.n_items(), view.cols);
    EXPECT_EQ(b.keys.size(), static_cast<std::size_t>(rows));
    for (std::int64_t i = 0; i < rows; ++i) {
      std::vector<std::int32_t> want;
      for (const std::int32_t j : expected[static_cast<std::size_t>(i)])
        if (view.col_stride != 2) want.push_back(j);
        else if (j % 2 == 0) want.push_back(j / 2);
      const std::vector<std::int32_t> got(b.indices.begin() + b.indptr[static_cast<std::size_t>(i)],
                                          b.indices.begin() + b.indptr[static_cast<std::size_t>(i) + 1]);
      EXPECT_EQ(got, want) << "basket " << i << ", col_stride " << view.col_stride;
    }
  }
  EXPECT_THROW(baskets_from_indicators({row_major.data(), -1, cols, cols, 1}), InvalidArgument);
  EXPECT_THROW(baskets_from_indicators({nullptr, rows, cols, cols, 1}), InvalidArgument);
  EXPECT_EQ(baskets_from_indicators({row_major.data(), 0, cols, cols, 1}).size(), 0);
}

}  // namespace
}  // namespace crmine
