// SPDX-License-Identifier: Apache-2.0
// PrefixSpan with max gap against brute force, and the affinity graph's components,
// centralities and exports.
#include "rules_test_util.hpp"

#include <crmine/core/errors.hpp>
#include <crmine/rules.hpp>

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <sstream>

namespace crmine {
namespace {

/// A log of `n_customers` with random items on random days; items 0 -> 1 planted 3 days apart.
struct RandomLog {
  std::vector<std::int64_t> customer, time, item;
  std::vector<double> amount;
  TransactionLog view() const {
    TransactionLog log;
    log.customer = customer;
    log.time = time;
    log.amount = amount;
    log.item = item;
    return log;
  }
};

RandomLog random_log(std::uint64_t seed, int n_customers) {
  std::mt19937_64 rng(seed);
  RandomLog r;
  for (int c = 0; c < n_customers; ++c) {
    const int n_rows = 1 + static_cast<int>(rng() % 8);
    for (int k = 0; k < n_rows; ++k) {
      const std::int64_t day = static_cast<std::int64_t>(rng() % 40);
      r.customer.push_back(c);
      r.time.push_back(day);
      r.item.push_back(static_cast<std::int64_t>(rng() % 6) * 10);  // item ids 0, 10, ..., 50
      r.amount.push_back(1.0);
      if (rng() % 3 == 0) {
        r.customer.push_back(c);
        r.time.push_back(day + 3);
        r.item.push_back(10);
        r.amount.push_back(1.0);
      }
    }
  }
  return r;
}

/// Does the sequence of events hold the pattern with every gap in (0, max_gap]?
bool holds(const SequenceDatabase& db, std::int64_t s, std::span<const std::int32_t> pattern, std::int64_t max_gap,
           std::int64_t from_event, std::size_t k) {
  if (k == pattern.size()) return true;
  for (std::int64_t j = from_event; j < db.sequence_indptr[static_cast<std::size_t>(s) + 1]; ++j) {
    if (k > 0 && max_gap > 0 && db.event_day[static_cast<std::size_t>(j)] - db.event_day[static_cast<std::size_t>(from_event) - 1] > max_gap)
      break;
    const auto b = db.items.begin() + db.event_indptr[static_cast<std::size_t>(j)];
    const auto e = db.items.begin() + db.event_indptr[static_cast<std::size_t>(j) + 1];
    if (std::binary_search(b, e, pattern[k]) && holds(db, s, pattern, max_gap, j + 1, k + 1)) return true;
  }
  return false;
}

TEST(SequentialPatterns, MatchBruteForceWithAndWithoutGap) {
  const RandomLog r = random_log(7, 150);
  const SequenceDatabase db = make_sequences(r.view());
  ASSERT_EQ(db.size(), 150);
  for (const std::int64_t gap : {0, 5}) {
    SequenceOptions o;
    o.min_count = 15;
    o.max_len = 3;
    o.max_gap = gap;
    const SequentialPatterns p = sequential_patterns(db, o);
    ASSERT_GT(p.size(), 10);
    // Counts are right...
    for (std::int64_t k = 0; k < p.size(); ++k) {
      std::int64_t c = 0;
      for (std::int64_t s = 0; s < db.size(); ++s) c += holds(db, s, p.pattern(k), gap, db.sequence_indptr[static_cast<std::size_t>(s)], 0);
      EXPECT_EQ(c, p.count[static_cast<std::size_t>(k)]);
    }
    // ...and no frequent pattern of length <= 2 is missing.
    std::int64_t frequent_pairs = 0, found_pairs = 0;
    for (std::int32_t x = 0; x < db.n_items(); ++x)
      for (std::int32_t y = 0; y < db.n_items(); ++y) {
        const std::int32_t pat[2] = {x, y};
        std::int64_t c = 0;
        for (std::int64_t s = 0; s < db.size(); ++s) c += holds(db, s, pat, gap, db.sequence_indptr[static_cast<std::size_t>(s)], 0);
        frequent_pairs += c >= 15;
      }
    for (std::int64_t k = 0; k < p.size(); ++k) found_pairs += p.pattern(k).size() == 2;
    EXPECT_EQ(found_pairs, frequent_pairs);
    o.n_threads = 1;
    const SequentialPatterns one = sequential_patterns(db, o);
    o.n_threads = 3;
    const SequentialPatterns three = sequential_patterns(db, o);
    EXPECT_EQ(one.items, three.items);
    EXPECT_EQ(one.count, three.count);
  }
}

TEST(SequentialPatterns, BadInputThrows) {
  const RandomLog r = random_log(8, 20);
  const SequenceDatabase db = make_sequences(r.view());
  SequenceOptions o;
  o.min_support = 0.0;
  EXPECT_THROW(sequential_patterns(db, o), InvalidArgument);
  o.min_support = 0.1;
  o.max_gap = -1;
  EXPECT_THROW(sequential_patterns(db, o), InvalidArgument);
  o.max_gap = 0;
  o.min_count = 21;
  EXPECT_THROW(sequential_patterns(db, o), InvalidArgument);
  o.min_count = 1;
  o.max_len = 0;
  o.max_patterns = 10;
  EXPECT_THROW(sequential_patterns(db, o), LimitExceeded);
  TransactionLog no_items = r.view();
  no_items.item = {};
  EXPECT_THROW(make_sequences(no_items), InvalidArgument);
}

TEST(AffinityGraph, ComponentsCentralityAndExport) {
  // Star 0-1, 0-2, 0-3 and a separate pair 7-8; edge 4-5 falls below the lift threshold.
  const std::vector<std::int32_t> a{0, 0, 3, 7, 4}, b{1, 2, 0, 8, 5};
  const std::vector<double> lift{2.0, 3.0, 1.5, 4.0, 0.9}, support{0.1, 0.1, 0.1, 0.05, 0.2};
  const AffinityGraph g = affinity_graph(a, b, lift, support, {.min_lift = 1.0});
  EXPECT_EQ(g.vertex_item, (std::vector<std::int32_t>{0, 1, 2, 3, 7, 8}));
  EXPECT_EQ(g.n_edges(), 4);
  EXPECT_EQ(g.n_components, 2);
  EXPECT_EQ(g.component, (std::vector<std::int32_t>{0, 0, 0, 0, 1, 1}));
  EXPECT_NEAR(g.betweenness[0], 3.0 / 10.0, 1e-12);  // centre of the star: 3 of the (6-1)(6-2)/2 pairs
  EXPECT_EQ(g.betweenness[1], 0.0);
  double total = 0;
  for (double p : g.pagerank) total += p;
  EXPECT_NEAR(total, 1.0, 1e-9);
  EXPECT_GT(g.pagerank[0], g.pagerank[1]);
  EXPECT_GT(g.pagerank[2], g.pagerank[1]);  // the higher-lift leaf
  std::ostringstream edges, graphml;
  const std::vector<std::string> labels{"milk", "bread", "butter", "jam", "x", "y", "z", "tea", "cups"};
  g.write_edge_list(edges, labels);
  EXPECT_NE(edges.str().find("milk\tbread\t2\t0.10000000000000001"), std::string::npos);
  g.write_graphml(graphml, labels);
  EXPECT_NE(graphml.str().find("<graphml"), std::string::npos);
  EXPECT_NE(graphml.str().find("cups"), std::string::npos);
  EXPECT_NE(graphml.str().find("attr.name=\"lift\""), std::string::npos);
  EXPECT_THROW(affinity_graph(a, b, lift, support, {.min_lift = 0.0}), InvalidArgument);
  const std::vector<std::int32_t> loop{1};
  const std::vector<double> one{1.0};
  EXPECT_THROW(affinity_graph(loop, loop, one, one), InvalidArgument);
}

}  // namespace
}  // namespace crmine
