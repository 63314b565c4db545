// SPDX-License-Identifier: Apache-2.0
// Specification of history_baselines, churn_alerts and the top-k alert metrics.
#include <crmine/core/errors.hpp>
#include <crmine/deviation/alerts.hpp>
#include <crmine/deviation/history.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <numeric>
#include <random>

namespace crmine {
namespace {

struct Rows {
  std::vector<std::int64_t> customer, day;
  std::vector<double> amount;
  void add(std::int64_t c, std::int64_t d, double a) {
    customer.push_back(c);
    day.push_back(d);
    amount.push_back(a);
  }
  TransactionLog log() const {
    TransactionLog l;
    l.customer = customer;
    l.time = day;
    l.amount = amount;
    return l;
  }
};

/// Spread shrunk towards cv x p with weight w, p = the mean m of n values shrunk towards the
/// population mean M (the documented formula, written out again).
double shrunk(int n, double var, double m, double M, double w = 2.0, double cv = 1.0) {
  const double p = (n * m + w * M) / (n + w);
  return std::sqrt(((n - 1) * var + w * cv * cv * p * p) / (n - 1 + w));
}

HistoryOptions ten_day_periods() {
  HistoryOptions o;
  o.period_days = 10;
  o.window = 3;
  o.as_of_day = 40;  // current period [30, 40), baseline [20, 30), [10, 20), [0, 10)
  return o;
}

Rows hand_log() {
  Rows r;
  r.add(1, 0, 10);
  r.add(2, 3, 50);
  r.add(1, 5, 20);
  r.add(1, 12, 30);
  r.add(2, 13, 50);
  r.add(1, 25, 10);
  r.add(1, 25, 5);     // same day: one occasion of 15
  r.add(3, 26, -40);   // returns only: not a buyer, left out
  r.add(1, 33, 100);
  r.add(4, 35, 60);    // first purchase in the current period: no baseline
  r.add(1, 35, -50);
  r.add(1, 45, 999);   // after as_of: ignored
  return r;
}

TEST(HistoryBaselines, HandComputedSpendReturnsBasketAndGap) {
  const Rows r = hand_log();
  const HistoryBaselines h = history_baselines(r.log(), ten_day_periods());
  ASSERT_EQ(h.customer, (std::vector<std::int64_t>{1, 2, 4}));
  EXPECT_EQ(h.rows_after, 1);
  EXPECT_EQ(h.rows_used, 11);
  EXPECT_EQ(h.n_periods, (std::vector<std::int32_t>{3, 3, 0}));
  // Baseline spend 75 + 100 over 3 + 3 periods; occasions 75 / 4 and 100 / 2; gaps 33 / 4 and 10 / 1.
  const double M_spend = 175.0 / 6, M_basket = 175.0 / 6, M_gap = 43.0 / 5;
  EXPECT_NEAR(h.population_spend_mean, M_spend, 1e-12);
  EXPECT_NEAR(h.population_basket_mean, M_basket, 1e-12);
  EXPECT_NEAR(h.population_gap_mean, M_gap, 1e-12);

  // Customer 1: period spends 30, 30, 15 in the baseline, 100 now; 50 returned now.
  EXPECT_DOUBLE_EQ(h.spend_mean[0], 25.0);
  EXPECT_NEAR(h.spend_spread[0], shrunk(3, 75.0, 25.0, M_spend), 1e-12);
  EXPECT_DOUBLE_EQ(h.spend_current[0], 100.0);
  EXPECT_NEAR(h.spend_z[0], 75.0 / shrunk(3, 75.0, 25.0, M_spend), 1e-12);
  EXPECT_DOUBLE_EQ(h.returns_mean[0], 0.0);
  EXPECT_NEAR(h.returns_z[0], 50.0 / shrunk(3, 0.0, 25.0, M_spend), 1e-12);  // prior: the usual period spend
  EXPECT_DOUBLE_EQ(h.return_rate_baseline[0], 0.0);
  EXPECT_DOUBLE_EQ(h.return_rate_current[0], 0.5);
  // Occasions 10, 20, 30, 15 in the baseline; one of 100 now.
  EXPECT_EQ(h.basket_n[0], 4);
  EXPECT_EQ(h.basket_current_n[0], 1);
  EXPECT_DOUBLE_EQ(h.basket_mean[0], 18.75);
  EXPECT_NEAR(h.basket_z[0], (100.0 - 18.75) / shrunk(4, 218.75 / 3, 18.75, M_basket), 1e-12);
  // Purchase days 0, 5, 12, 25, 33: gaps 5, 7, 13, 8; 7 days since the last.
  EXPECT_EQ(h.gap_n[0], 4);
  EXPECT_DOUBLE_EQ(h.gap_mean[0], 8.25);
  EXPECT_NEAR(h.gap_spread[0], shrunk(4, 34.75 / 3, 8.25, M_gap), 1e-12);
  EXPECT_DOUBLE_EQ(h.gap_current[0], 7.0);
  EXPECT_NEAR(h.gap_z[0], (7.0 - 8.25) / shrunk(4, 34.75 / 3, 8.25, M_gap), 1e-12);
  EXPECT_DOUBLE_EQ(h.total_spend[0], 175.0);
  EXPECT_EQ(h.n_occasions[0], 5);

  // Customer 2: 50, 50, 0 then silence; one gap of 10 and 27 days since.
  EXPECT_NEAR(h.spend_mean[1], 100.0 / 3, 1e-12);
  EXPECT_NEAR(h.spend_z[1], -(100.0 / 3) / shrunk(3, 2500.0 / 3, 100.0 / 3, M_spend), 1e-12);
  EXPECT_TRUE(std::isnan(h.basket_current[1]));
  EXPECT_TRUE(std::isnan(h.basket_z[1]));
  EXPECT_DOUBLE_EQ(h.gap_ratio[1], 2.7);
  EXPECT_NEAR(h.gap_z[1], 17.0 / ((10.0 + 2 * M_gap) / 3), 1e-12);  // one gap: the spread is the prior alone

  // Customer 4: no baseline period and no gap yet.
  EXPECT_TRUE(std::isnan(h.spend_z[2]));
  EXPECT_TRUE(std::isnan(h.gap_z[2]));
  EXPECT_DOUBLE_EQ(h.spend_current[2], 60.0);
}

TEST(HistoryBaselines, PeriodsBeforeTheFirstPurchaseAreNotBaseline) {
  Rows r;
  r.add(5, 2, -30);  // a return in [0, 10), before the first purchase in [10, 20)
  r.add(5, 15, 10);
  r.add(5, 32, 10);
  const HistoryBaselines h = history_baselines(r.log(), ten_day_periods());
  ASSERT_EQ(h.size(), 1u);
  EXPECT_EQ(h.n_periods[0], 2);
  EXPECT_DOUBLE_EQ(h.returns_mean[0], 0.0);
  EXPECT_DOUBLE_EQ(h.spend_mean[0], 5.0);
}

TEST(HistoryBaselines, DefaultAsOfIsTheDayAfterTheLatestRow) {
  const Rows r = hand_log();
  HistoryOptions o = ten_day_periods();
  o.as_of_day = HistoryOptions::kLatest;
  const HistoryBaselines h = history_baselines(r.log(), o);
  EXPECT_EQ(h.as_of_day, 46);
  EXPECT_EQ(h.rows_after, 0);
  EXPECT_DOUBLE_EQ(h.gap_current[0], 1.0);
}

/// A random log: customers with a personal purchase rate and spend, some returns.
Rows random_log(int n_customers, int n_days, std::uint32_t seed) {
  std::mt19937_64 rng(seed);
  Rows r;
  for (int day = 0; day < n_days; ++day)
    for (int c = 0; c < n_customers; ++c) {
      const double rate = 0.02 + 0.3 * ((c * 7919) % 100) / 100.0;
      if (std::uniform_real_distribution<>(0, 1)(rng) < rate) {
        const double amount = std::round(std::exponential_distribution<>(0.05)(rng));
        r.add(1000 + c * 3, day, amount);
        if (std::uniform_real_distribution<>(0, 1)(rng) < 0.05) r.add(1000 + c * 3, day, -amount);
      }
    }
  return r;
}

/// The baselines by brute force: every customer's period totals and purchase days kept in full.
void expect_matches_brute_force(const Rows& r, const HistoryOptions& o, const HistoryBaselines& h) {
  std::map<std::int64_t, std::map<std::int64_t, double>> spend, returned;
  std::map<std::int64_t, std::map<std::int64_t, double>> days;  // purchase day -> spend
  for (std::size_t i = 0; i < r.customer.size(); ++i) {
    if (r.day[i] >= o.as_of_day) continue;
    const std::int64_t k = (o.as_of_day - 1 - r.day[i]) / o.period_days;
    if (r.amount[i] >= 0) {
      spend[r.customer[i]][k] += r.amount[i];
      days[r.customer[i]][r.day[i]] += r.amount[i];
    } else {
      returned[r.customer[i]][k] -= r.amount[i];
    }
  }
  ASSERT_EQ(h.size(), days.size());
  auto periods_of = [&](std::int64_t first) {
    return static_cast<int>(std::min<std::int64_t>((o.as_of_day - 1 - first) / o.period_days, o.window));
  };
  double spend_total = 0, periods_total = 0, basket_total = 0, basket_count = 0, gap_total = 0, gap_count = 0;
  for (const auto& [c, occasions] : days) {
    periods_total += periods_of(occasions.begin()->first);
    for (const auto& [d, v] : occasions) {
      const std::int64_t k = (o.as_of_day - 1 - d) / o.period_days;
      if (k >= 1 && k <= o.window) {
        spend_total += v;
        basket_total += v;
        ++basket_count;
      }
    }
    gap_total += static_cast<double>(occasions.rbegin()->first - occasions.begin()->first);
    gap_count += static_cast<double>(occasions.size() - 1);
  }
  EXPECT_NEAR(h.population_spend_mean, spend_total / periods_total, 1e-9);
  EXPECT_NEAR(h.population_basket_mean, basket_total / basket_count, 1e-9);
  EXPECT_NEAR(h.population_gap_mean, gap_total / gap_count, 1e-9);
  std::size_t i = 0;
  for (const auto& [c, occasions] : days) {
    ASSERT_EQ(h.customer[i], c);
    const std::int64_t first = occasions.begin()->first;
    const int n = periods_of(first);
    ASSERT_EQ(h.n_periods[i], n);
    if (n > 0) {
      double sum = 0, sq = 0;
      for (int k = 1; k <= n; ++k) {
        const double v = spend[c].count(k) ? spend[c][k] : 0.0;
        sum += v;
        sq += v * v;
      }
      const double mean = sum / n;
      const double var = n > 1 ? (sq - sum * sum / n) / (n - 1) : 0.0;
      EXPECT_NEAR(h.spend_mean[i], mean, 1e-9);
      EXPECT_NEAR(h.spend_spread[i], shrunk(n, var, mean, h.population_spend_mean, o.prior_weight, o.prior_cv), 1e-7);
      EXPECT_NEAR(h.spend_current[i], spend[c].count(0) ? spend[c][0] : 0.0, 1e-9);
      double ret = 0;
      for (int k = 1; k <= n; ++k) ret += returned[c].count(k) ? returned[c][k] : 0.0;
      EXPECT_NEAR(h.returns_mean[i], ret / n, 1e-9);
    }
    std::vector<double> gaps;
    for (auto it = std::next(occasions.begin()); it != occasions.end(); ++it)
      gaps.push_back(static_cast<double>(it->first - std::prev(it)->first));
    ASSERT_EQ(h.gap_n[i], static_cast<int>(gaps.size()));
    if (!gaps.empty()) {
      const double mean = std::accumulate(gaps.begin(), gaps.end(), 0.0) / gaps.size();
      double ss = 0;
      for (double g : gaps) ss += (g - mean) * (g - mean);
      const int m = static_cast<int>(gaps.size());
      EXPECT_NEAR(h.gap_mean[i], mean, 1e-9);
      EXPECT_NEAR(h.gap_spread[i], shrunk(m, m > 1 ? ss / (m - 1) : 0.0, mean, h.population_gap_mean, o.prior_weight, o.prior_cv),
                  1e-9);
      EXPECT_DOUBLE_EQ(h.gap_current[i], static_cast<double>(o.as_of_day - occasions.rbegin()->first));
    }
    ++i;
  }
}

TEST(HistoryBaselines, MatchesBruteForceOnARandomLog) {
  const Rows r = random_log(300, 400, 7);
  HistoryOptions o;
  o.period_days = 28;
  o.window = 6;
  o.as_of_day = 380;
  o.prior_weight = 3.0;
  o.prior_cv = 0.5;
  expect_matches_brute_force(r, o, history_baselines(r.log(), o));
}

TEST(HistoryBaselines, UnsortedLogGivesTheSameBaselines) {
  const Rows sorted = random_log(200, 300, 11);
  Rows shuffled = sorted;
  std::vector<std::size_t> perm(sorted.customer.size());
  std::iota(perm.begin(), perm.end(), std::size_t{0});
  std::shuffle(perm.begin(), perm.end(), std::mt19937_64(3));
  for (std::size_t i = 0; i < perm.size(); ++i) {
    shuffled.customer[i] = sorted.customer[perm[i]];
    shuffled.day[i] = sorted.day[perm[i]];
    shuffled.amount[i] = sorted.amount[perm[i]];
  }
  HistoryOptions o;
  o.as_of_day = 290;
  const auto a = history_baselines(sorted.log(), o);
  const auto b = history_baselines(shuffled.log(), o);
  expect_matches_brute_force(shuffled, o, b);
  ASSERT_EQ(a.customer, b.customer);
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_DOUBLE_EQ(a.spend_z[i], b.spend_z[i]);  // integer amounts: sums are exact in any order
    EXPECT_DOUBLE_EQ(a.gap_z[i], b.gap_z[i]);
  }
}

TEST(HistoryBaselines, SameResultAtAnyThreadCount) {
  const Rows r = random_log(2000, 200, 5);
  HistoryOptions o;
  o.n_jobs = 1;
  const auto one = history_baselines(r.log(), o);
  o.n_jobs = 2;
  const auto two = history_baselines(r.log(), o);
  ASSERT_EQ(one.customer, two.customer);
  for (std::size_t i = 0; i < one.size(); ++i) {
    // Bitwise: NaN compares unequal to itself, so compare the representation.
    EXPECT_EQ(std::memcmp(&one.spend_z[i], &two.spend_z[i], sizeof(double)), 0);
    EXPECT_EQ(std::memcmp(&one.basket_z[i], &two.basket_z[i], sizeof(double)), 0);
    EXPECT_EQ(std::memcmp(&one.gap_z[i], &two.gap_z[i], sizeof(double)), 0);
    EXPECT_EQ(std::memcmp(&one.returns_z[i], &two.returns_z[i], sizeof(double)), 0);
  }
}

TEST(HistoryBaselines, RejectsBadOptionsAndInputNamingTheArgument) {
  const Rows r = hand_log();
  auto message_of = [&](HistoryOptions o, const TransactionLog& log) -> std::string {
    try {
      history_baselines(log, o);
    } catch (const InvalidArgument& e) {
      return e.what();
    }
    return "no exception";
  };
  HistoryOptions o = ten_day_periods();
  o.period_days = 0;
  EXPECT_NE(message_of(o, r.log()).find("period_days"), std::string::npos);
  o = ten_day_periods();
  o.window = -1;
  EXPECT_NE(message_of(o, r.log()).find("window"), std::string::npos);
  o = ten_day_periods();
  o.prior_cv = 0.0;
  EXPECT_NE(message_of(o, r.log()).find("prior_cv"), std::string::npos);
  o = ten_day_periods();
  o.prior_weight = std::nan("");
  EXPECT_NE(message_of(o, r.log()).find("prior_weight"), std::string::npos);
  o = ten_day_periods();
  o.as_of_day = 0;  // nothing before it
  EXPECT_NE(message_of(o, r.log()).find("as_of_day"), std::string::npos);
  Rows bad = r;
  bad.amount[2] = std::numeric_limits<double>::infinity();
  EXPECT_NE(message_of(ten_day_periods(), bad.log()).find("amount"), std::string::npos);
}

TEST(ChurnAlerts, FlagsLongGapsAndLowPAliveRankedByValueAtRisk) {
  Rows r;
  for (int d = 0; d <= 100; d += 10) r.add(1, d, 10);   // every 10 days, stops at day 100
  for (int d = 0; d <= 150; d += 5) r.add(2, d, 1);     // every 5 days, still buying
  r.add(3, 0, 500);                                     // one purchase
  r.add(3, 20, 500);
  HistoryOptions o;
  o.as_of_day = 160;
  const HistoryBaselines h = history_baselines(r.log(), o);
  // Gaps now: 60 days = 6 usual (customer 1), 10 = 2 usual (2), 140 = 7 usual but one gap only (3).
  const ChurnAlerts a = churn_alerts(h, {});
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(h.customer[static_cast<std::size_t>(a.row[0])], 1);
  EXPECT_TRUE(a.by_gap[0]);
  // 110 spent over 100 days + one 10-day cycle: 1 a day, 365 over the horizon.
  EXPECT_DOUBLE_EQ(a.usual_value[0], 365.0);
  EXPECT_DOUBLE_EQ(a.value_at_risk[0], 365.0);

  const std::vector<double> p_alive = {0.5, 0.9, 0.1};
  const ChurnAlerts b = churn_alerts(h, p_alive);
  ASSERT_EQ(b.size(), 2u);
  EXPECT_EQ(h.customer[static_cast<std::size_t>(b.row[0])], 3);  // 1000 over 40 days, 90% lost
  EXPECT_TRUE(b.by_p_alive[0]);
  EXPECT_FALSE(b.by_gap[0]);
  EXPECT_DOUBLE_EQ(b.value_at_risk[0], 1000.0 / 40.0 * 365.0 * 0.9);
  EXPECT_DOUBLE_EQ(b.value_at_risk[1], 365.0 * 0.5);

  // Early warning only: customer 1's gap crossed 3 usual gaps (day 130) 30 days ago.
  ChurnOptions recent;
  recent.within_days = 29;
  EXPECT_EQ(churn_alerts(h, {}, recent).size(), 0u);
  recent.within_days = 30;
  EXPECT_EQ(churn_alerts(h, {}, recent).size(), 1u);
}

TEST(ChurnAlerts, RejectsBadOptionsAndProbabilities) {
  Rows r;
  r.add(1, 0, 1);
  r.add(1, 5, 1);
  const HistoryBaselines h = history_baselines(r.log());
  ChurnOptions o;
  o.gap_ratio = 1.0;
  EXPECT_THROW(churn_alerts(h, {}, o), InvalidArgument);
  o = {};
  o.p_alive_threshold = 1.5;
  EXPECT_THROW(churn_alerts(h, {}, o), InvalidArgument);
  o = {};
  o.horizon_days = 0;
  EXPECT_THROW(churn_alerts(h, {}, o), InvalidArgument);
  o = {};
  o.within_days = -1;
  EXPECT_THROW(churn_alerts(h, {}, o), InvalidArgument);
  const std::vector<double> two = {0.5, 0.5};
  EXPECT_THROW(churn_alerts(h, two, {}), InvalidArgument);
  const std::vector<double> above = {1.2};
  EXPECT_THROW(churn_alerts(h, above, {}), InvalidArgument);
}

TEST(TopK, PrecisionAndRecallOfTheBestScoredRows) {
  Eigen::VectorXi y(6);
  y << 1, 0, 1, 0, 0, 1;
  Eigen::VectorXd s(6);
  s << 0.9, 0.8, 0.7, 0.7, 0.1, 0.2;
  EXPECT_DOUBLE_EQ(precision_at_k(y, s, 1), 1.0);
  EXPECT_DOUBLE_EQ(precision_at_k(y, s, 2), 0.5);
  EXPECT_DOUBLE_EQ(precision_at_k(y, s, 3), 2.0 / 3);  // the tie at 0.7 keeps input order: row 2 first
  EXPECT_DOUBLE_EQ(recall_at_k(y, s, 3), 2.0 / 3);
  EXPECT_DOUBLE_EQ(recall_at_k(y, s, 6), 1.0);
  EXPECT_THROW(precision_at_k(y, s, 0), InvalidArgument);
  EXPECT_THROW(precision_at_k(y, s, 7), InvalidArgument);
  s[3] = std::nan("");
  EXPECT_THROW(recall_at_k(y, s, 2), InvalidArgument);
  Eigen::VectorXi none = Eigen::VectorXi::Zero(6);
  s[3] = 0.0;
  EXPECT_TRUE(std::isnan(recall_at_k(none, s, 2)));
}

}  // namespace
}  // namespace crmine
