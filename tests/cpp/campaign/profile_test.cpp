// SPDX-License-Identifier: Apache-2.0
// Specification of spend_trend: the least-squares slope of each customer's spend per period.
#include <crmine/campaign/profile.hpp>
#include <crmine/core/errors.hpp>
#include <crmine/core/random.hpp>

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <vector>

namespace crmine {
namespace {

struct Log {
  std::vector<std::int64_t> customer, time;
  std::vector<double> amount;
  TransactionLog view() const {
    TransactionLog log;
    log.customer = customer;
    log.time = time;
    log.amount = amount;
    return log;
  }
  void add(std::int64_t c, std::int64_t day, double a) {
    customer.push_back(c);
    time.push_back(day);
    amount.push_back(a);
  }
};

/// Least-squares slope of s on 0..m-1, the textbook way.
double slope_of(const std::vector<double>& s) {
  const double m = static_cast<double>(s.size());
  double ubar = (m - 1) / 2, sbar = 0;
  for (double v : s) sbar += v / m;
  double num = 0, den = 0;
  for (std::size_t u = 0; u < s.size(); ++u) {
    num += (static_cast<double>(u) - ubar) * (s[u] - sbar);
    den += (static_cast<double>(u) - ubar) * (static_cast<double>(u) - ubar);
  }
  return num / den;
}

TEST(SpendTrend, SlopeIsTheLeastSquaresFitOfSpendPerPeriod) {
  // Day 0 = 1970-01-01. Customer 5 buys in Jan (10 + 5), Mar (20) and Apr (30); the log ends in
  // Apr, so the series is Jan..Apr = 15, 0, 20, 30. Customer 2 buys in Feb and Apr, returns 4 in
  // Apr: 8, 0, -4 + 2. Customer 9 buys only in Apr: one period, no slope.
  Log l;
  l.add(5, 3, 10);
  l.add(2, 40, 8);
  l.add(5, 20, 5);
  l.add(5, 70, 20);
  l.add(5, 100, 30);
  l.add(2, 95, -4);
  l.add(2, 110, 2);
  l.add(9, 115, 7);
  const SpendTrend t = spend_trend(l.view());
  ASSERT_EQ(t.size(), 3u);
  EXPECT_EQ(t.customer, (std::vector<std::int64_t>{2, 5, 9}));
  EXPECT_EQ(t.periods, (std::vector<std::int64_t>{3, 4, 1}));
  EXPECT_NEAR(t.slope[1], slope_of({15, 0, 20, 30}), 1e-12);
  EXPECT_NEAR(t.mean_spend[1], 65.0 / 4, 1e-12);
  EXPECT_NEAR(t.relative_slope[1], slope_of({15, 0, 20, 30}) / (65.0 / 4), 1e-12);
  EXPECT_NEAR(t.slope[0], slope_of({8, 0, -2}), 1e-12);
  EXPECT_DOUBLE_EQ(t.last_period_spend[0], -2.0);
  EXPECT_TRUE(std::isnan(t.slope[2]));
  EXPECT_DOUBLE_EQ(t.last_period_spend[2], 7.0);

  // A later as-of date adds empty periods at the end: the trend turns down.
  SpendTrendOptions o;
  o.as_of_day = 160;  // June
  const SpendTrend later = spend_trend(l.view(), o);
  EXPECT_NEAR(later.slope[1], slope_of({15, 0, 20, 30, 0, 0}), 1e-12);
  EXPECT_DOUBLE_EQ(later.last_period_spend[1], 0.0);
  o.period = Period::week;
  o.as_of_day = CustomerSummary::kNoDay;
  EXPECT_EQ(spend_trend(l.view(), o).periods[1], period_index(115, Period::week) - period_index(3, Period::week) + 1);
}

TEST(SpendTrend, DoesNotDependOnRowOrderOrThreads) {
  Log l;
  Random rng(4);
  for (int i = 0; i < 50000; ++i)
    l.add(static_cast<std::int64_t>(rng.below(3000)), static_cast<std::int64_t>(rng.below(700)), 1 + 100 * rng.uniform());
  SpendTrendOptions o;
  o.n_jobs = 1;
  const SpendTrend a = spend_trend(l.view(), o);
  o.n_jobs = 2;
  const SpendTrend b = spend_trend(l.view(), o);
  EXPECT_EQ(a.slope, b.slope);
  Log reversed;
  for (std::size_t i = l.customer.size(); i-- > 0;) reversed.add(l.customer[i], l.time[i], l.amount[i]);
  const SpendTrend c = spend_trend(reversed.view(), o);
  ASSERT_EQ(a.size(), c.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::isnan(a.slope[i])) continue;
    EXPECT_NEAR(a.slope[i], c.slope[i], 1e-9 * (1 + std::abs(a.slope[i])));
  }
}

TEST(SpendTrend, RejectsAnAsOfDateBeforeTheLog) {
  Log l;
  l.add(1, 10, 5);
  l.add(1, 50, 5);
  SpendTrendOptions o;
  o.as_of_day = 20;
  EXPECT_THROW(spend_trend(l.view(), o), InvalidArgument);
  Log returns_only;
  returns_only.add(1, 10, -5);
  EXPECT_THROW(spend_trend(returns_only.view()), InvalidArgument);
}

}  // namespace
}  // namespace crmine
