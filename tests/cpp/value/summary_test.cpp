// SPDX-License-Identifier: Apache-2.0
// Specification of summarize/merge: per-customer aggregates of a transaction log.
#include <crmine/core/errors.hpp>
#include <crmine/value/summary.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <map>
#include <random>
#include <set>

namespace crmine {
namespace {

/// A small log held in vectors, viewed as a TransactionLog.
struct Log {
  std::vector<std::int64_t> customer, time, order;
  std::vector<double> amount, cost;
  TransactionLog view(bool with_order = false, bool with_cost = false) const {
    TransactionLog log;
    log.customer = customer;
    log.time = time;
    log.amount = amount;
    if (with_order) log.order = order;
    if (with_cost) log.cost = cost;
    return log;
  }
};

Log small_log() {
  // customer 7: two purchases on day 10 (one occasion), one on day 12, a return on day 13.
  // customer 3: one purchase on day 11. customer 9: a return only.
  Log l;
  l.customer = {7, 3, 7, 7, 7, 9};
  l.time = {10, 11, 10, 12, 13, 12};
  l.amount = {5.0, 20.0, 7.0, 10.0, -4.0, -1.0};
  l.order = {100, 101, 100, 102, 103, 104};
  l.cost = {2.0, 8.0, 3.0, 4.0, -1.5, -0.5};
  return l;
}

TEST(Summarize, AggregatesPerCustomerInIdOrder) {
  const Log l = small_log();
  const CustomerSummary s = summarize(l.view(false, true));
  ASSERT_EQ(s.customer, (std::vector<std::int64_t>{3, 7, 9}));
  EXPECT_EQ(s.occasions, (std::vector<std::int64_t>{1, 2, 0}));  // days: 7 bought on days 10 and 12
  EXPECT_EQ(s.first_day[1], 10);
  EXPECT_EQ(s.last_day[1], 12);
  EXPECT_DOUBLE_EQ(s.revenue[1], 18.0);
  EXPECT_DOUBLE_EQ(s.returned[1], 4.0);
  EXPECT_DOUBLE_EQ(s.first_occasion_revenue[1], 12.0);
  EXPECT_DOUBLE_EQ(s.cost[1], 7.5);
  EXPECT_EQ(s.first_day[2], CustomerSummary::kNoDay);
  EXPECT_DOUBLE_EQ(s.revenue[2], -1.0);
  EXPECT_EQ(s.min_day, 10);
  EXPECT_EQ(s.max_day, 13);
  EXPECT_EQ(s.rows_used, 6);
  EXPECT_EQ(s.profit()[1], 18.0 - 7.5);
}

TEST(Summarize, CountsOrdersAsOccasionsWhenGiven) {
  const Log l = small_log();
  const CustomerSummary s = summarize(l.view(true));
  EXPECT_EQ(s.occasions, (std::vector<std::int64_t>{1, 2, 0}));
  EXPECT_TRUE(s.occasions_are_orders);
}

TEST(Summarize, DropPolicyIgnoresReturnsAndErrorPolicyRejectsThem) {
  const Log l = small_log();
  SummaryOptions drop;
  drop.returns = ReturnPolicy::drop;
  const CustomerSummary s = summarize(l.view(), drop);
  EXPECT_EQ(s.customer, (std::vector<std::int64_t>{3, 7, 9}));  // 9 still listed: it has rows
  EXPECT_DOUBLE_EQ(s.revenue[1], 22.0);
  EXPECT_EQ(s.rows_dropped, 2);
  SummaryOptions error;
  error.returns = ReturnPolicy::error;
  try {
    summarize(l.view(), error);
    FAIL() << "expected InvalidArgument";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("amount: row 4 is negative"), std::string::npos) << e.what();
  }
}

TEST(Summarize, RejectsBadInputNamingTheColumn) {
  Log l = small_log();
  auto expect_message = [](const TransactionLog& log, const std::string& needle) {
    try {
      summarize(log);
      FAIL() << "expected InvalidArgument containing " << needle;
    } catch (const InvalidArgument& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  Log empty;
  expect_message(empty.view(), "transaction log is empty");
  Log shorter = l;
  shorter.amount.pop_back();
  expect_message(shorter.view(), "amount: has 5 rows but customer has 6");
  Log nan = l;
  nan.amount[2] = std::nan("");
  expect_message(nan.view(), "amount: row 2 is not finite");
  Log inf_cost = l;
  inf_cost.cost[1] = INFINITY;
  expect_message(inf_cost.view(false, true), "cost: row 1 is not finite");
  Log nat = l;
  nat.time[3] = std::numeric_limits<std::int64_t>::min();  // numpy's NaT
  expect_message(nat.view(), "time: row 3 is out of the supported range");
}

/// A random log: many customers, rows in random order, some returns.
Log random_log(std::size_t rows, std::int64_t customers, std::uint64_t seed, bool time_sorted) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<std::int64_t> cust(0, customers - 1), day(0, 400);
  std::gamma_distribution<double> spend(2.0, 20.0);
  Log l;
  for (std::size_t i = 0; i < rows; ++i) {
    l.customer.push_back(cust(rng) * 7919 + 13);  // sparse-ish ids
    l.time.push_back(day(rng));
    l.amount.push_back((rng() % 20 == 0) ? -spend(rng) / 4 : spend(rng));
    l.cost.push_back(0.6 * l.amount.back());
    l.order.push_back(static_cast<std::int64_t>(i));
  }
  if (time_sorted) {
    std::vector<std::size_t> idx(rows);
    std::iota(idx.begin(), idx.end(), 0);
    std::stable_sort(idx.begin(), idx.end(), [&](auto a, auto b) { return l.time[a] < l.time[b]; });
    Log s;
    for (auto i : idx) {
      s.customer.push_back(l.customer[i]);
      s.time.push_back(l.time[i]);
      s.amount.push_back(l.amount[i]);
      s.cost.push_back(l.cost[i]);
      s.order.push_back(static_cast<std::int64_t>(s.order.size()));
    }
    return s;
  }
  return l;
}

/// The same aggregates by brute force: a reference independent of the partitioned scan.
void expect_matches_brute_force(const Log& l, const CustomerSummary& s) {
  std::map<std::int64_t, std::set<std::int64_t>> days;
  std::map<std::int64_t, double> revenue;
  std::map<std::int64_t, std::pair<std::int64_t, std::int64_t>> span;
  for (std::size_t i = 0; i < l.customer.size(); ++i) {
    revenue[l.customer[i]] += l.amount[i];
    if (l.amount[i] >= 0) {
      days[l.customer[i]].insert(l.time[i]);
      auto [it, fresh] = span.try_emplace(l.customer[i], l.time[i], l.time[i]);
      it->second.first = std::min(it->second.first, l.time[i]);
      it->second.second = std::max(it->second.second, l.time[i]);
    }
  }
  ASSERT_EQ(s.size(), revenue.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto id = s.customer[i];
    EXPECT_EQ(s.occasions[i], static_cast<std::int64_t>(days[id].size())) << id;
    EXPECT_NEAR(s.revenue[i], revenue[id], 1e-9 * (1 + std::abs(revenue[id])));
    if (s.occasions[i] > 0) {
      EXPECT_EQ(s.first_day[i], span[id].first);
      EXPECT_EQ(s.last_day[i], span[id].second);
    }
  }
}

TEST(Summarize, MatchesBruteForceOnSortedAndShuffledLogs) {
  for (bool sorted : {true, false}) {
    const Log l = random_log(20000, 3000, 42, sorted);
    expect_matches_brute_force(l, summarize(l.view()));
  }
}

TEST(Summarize, MatchesBruteForceWhenTheLogSpansSeveralScanChunks) {
  // Over a million rows the scan works chunk by chunk; customers then have rows in several
  // chunks, and both the compact (day-keyed) and the full (order-keyed, with cost) paths must
  // carry their state across chunk boundaries.
  const std::size_t rows = 3'000'000;
  const Log l = random_log(rows, 200'000, 11, true);
  const auto s = summarize(l.view());
  std::vector<std::pair<std::int64_t, std::int64_t>> purchases;  // (customer, day) of non-returns
  std::vector<std::pair<std::int64_t, double>> money;
  for (std::size_t i = 0; i < rows; ++i) {
    money.emplace_back(l.customer[i], l.amount[i]);
    if (l.amount[i] >= 0) purchases.emplace_back(l.customer[i], l.time[i]);
  }
  std::sort(purchases.begin(), purchases.end());
  std::stable_sort(money.begin(), money.end(), [](auto& a, auto& b) { return a.first < b.first; });
  ASSERT_EQ(s.rows_used, static_cast<std::int64_t>(rows));
  std::size_t p = 0, m = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto id = s.customer[i];
    double revenue = 0;
    for (; m < money.size() && money[m].first == id; ++m) revenue += money[m].second;
    EXPECT_NEAR(s.revenue[i], revenue, 1e-9 * (1 + std::abs(revenue))) << id;
    std::int64_t days = 0, first = -1, last = -1;
    for (; p < purchases.size() && purchases[p].first == id; ++p) {
      if (days == 0 || purchases[p].second != last) ++days;
      if (first < 0) first = purchases[p].second;
      last = purchases[p].second;
    }
    ASSERT_EQ(s.occasions[i], days) << id;
    if (days > 0) {
      EXPECT_EQ(s.first_day[i], first);
      EXPECT_EQ(s.last_day[i], last);
    }
  }
  EXPECT_EQ(m, money.size());
  // Order ids as occasions (every row is its own order here) and costs take the full entry path.
  SummaryOptions two;
  two.n_jobs = 2;
  const auto full = summarize(l.view(true, true), two);
  std::int64_t purchase_rows = static_cast<std::int64_t>(purchases.size());
  EXPECT_EQ(std::accumulate(full.occasions.begin(), full.occasions.end(), std::int64_t{0}), purchase_rows);
  EXPECT_EQ(full.revenue, s.revenue);
}

TEST(Summarize, SameResultAtAnyThreadCount) {
  for (bool sorted : {true, false}) {
    const Log l = random_log(50000, 5000, 7, sorted);
    SummaryOptions one, two;
    one.n_jobs = 1;
    two.n_jobs = 2;
    const auto a = summarize(l.view(), one);
    const auto b = summarize(l.view(), two);
    EXPECT_EQ(a.customer, b.customer);
    EXPECT_EQ(a.occasions, b.occasions);
    EXPECT_EQ(a.revenue, b.revenue);  // bitwise: sums run in the same order
    EXPECT_EQ(a.first_occasion_revenue, b.first_occasion_revenue);
  }
}

TEST(Summarize, DenseIdsFoldStraightFromTheColumnsWithTheSameResultAsRegrouping) {
  // Dense ids (a direct index) are folded straight from the columns, each thread owning a range
  // of customers; sparse ids, or more threads than that pays for, go through the regrouping scan.
  // Both must give bitwise the same summary, in order and out of order, with and without the
  // order and cost columns, with returns dropped or netted, and without any return (where the
  // direct fold keeps a compact state).
  for (auto [sorted, with_returns] : {std::pair{true, true}, {false, true}, {true, false}, {false, false}}) {
    Log sparse = random_log(60000, 4000, 5, sorted);
    if (!with_returns)
      for (auto& a : sparse.amount) a = std::abs(a);
    Log dense = sparse;
    for (auto& id : dense.customer) id = (id - 13) / 7919;
    for (bool full : {false, true}) {
      for (ReturnPolicy returns : {ReturnPolicy::net, ReturnPolicy::drop}) {
        SummaryOptions reference_options;
        reference_options.returns = returns;
        reference_options.n_jobs = 1;
        const auto reference = summarize(sparse.view(full, full), reference_options);
        for (int threads : {1, 2, 3, 9}) {
          SummaryOptions options = reference_options;
          options.n_jobs = threads;
          const auto s = summarize(dense.view(full, full), options);
          ASSERT_EQ(s.size(), reference.size());
          for (std::size_t i = 0; i < s.size(); ++i) ASSERT_EQ(s.customer[i] * 7919 + 13, reference.customer[i]);
          EXPECT_EQ(s.occasions, reference.occasions) << sorted << full << threads;
          EXPECT_EQ(s.rows, reference.rows);
          EXPECT_EQ(s.revenue, reference.revenue);
          EXPECT_EQ(s.returned, reference.returned);
          EXPECT_EQ(s.cost, reference.cost);
          EXPECT_EQ(s.first_occasion_revenue, reference.first_occasion_revenue);
          EXPECT_EQ(s.first_day, reference.first_day);
          EXPECT_EQ(s.last_day, reference.last_day);
          EXPECT_EQ(s.min_day, reference.min_day);
          EXPECT_EQ(s.max_day, reference.max_day);
          EXPECT_EQ(s.rows_used, reference.rows_used);
        }
      }
    }
    expect_matches_brute_force(sparse, summarize(sparse.view()));
  }
}

TEST(Merge, PartitionsByCustomerMergeToTheWholeSummary) {
  const Log l = random_log(30000, 2000, 3, true);
  Log parts[3];
  for (std::size_t i = 0; i < l.customer.size(); ++i) {
    Log& p = parts[static_cast<std::size_t>(l.customer[i] % 3)];
    p.customer.push_back(l.customer[i]);
    p.time.push_back(l.time[i]);
    p.amount.push_back(l.amount[i]);
  }
  const std::vector<CustomerSummary> sums = {summarize(parts[0].view()), summarize(parts[1].view()),
                                             summarize(parts[2].view())};
  const CustomerSummary merged = merge(sums);
  const CustomerSummary whole = summarize(l.view());
  EXPECT_EQ(merged.customer, whole.customer);
  EXPECT_EQ(merged.occasions, whole.occasions);
  EXPECT_EQ(merged.revenue, whole.revenue);
  EXPECT_EQ(merged.first_day, whole.first_day);
  EXPECT_EQ(merged.min_day, whole.min_day);
  EXPECT_EQ(merged.max_day, whole.max_day);
  EXPECT_EQ(merged.rows_used, whole.rows_used);
}

TEST(Merge, RejectsACustomerInTwoParts) {
  const Log l = small_log();
  const std::vector<CustomerSummary> sums = {summarize(l.view()), summarize(l.view())};
  EXPECT_THROW(merge(sums), InvalidArgument);
}

}  // namespace
}  // namespace crmine
