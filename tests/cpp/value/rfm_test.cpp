// SPDX-License-Identifier: Apache-2.0
// Specification of rfm, quantile_scores, contribution and cohort_retention on hand-checked logs.
#include <crmine/core/errors.hpp>
#include <crmine/value.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

namespace crmine {
namespace {

TEST(QuantileScores, EqualValuesShareAScoreAndScoresFollowStrictRanks) {
  // n = 10, q = 5: score = 1 + floor(5 w / 10) with w = number of strictly smaller values.
  const std::vector<double> v = {1, 1, 1, 1, 1, 1, 2, 3, 4, 5};
  const auto s = quantile_scores(v, 5, true);
  EXPECT_EQ(s, (std::vector<std::uint8_t>{1, 1, 1, 1, 1, 1, 4, 4, 5, 5}));
  const auto r = quantile_scores(v, 5, false);  // smaller is better: w = strictly larger values
  EXPECT_EQ(r, (std::vector<std::uint8_t>{3, 3, 3, 3, 3, 3, 2, 2, 1, 1}));
  const std::vector<double> distinct = {9, 8, 7, 6, 5, 4, 3, 2, 1, 0};
  EXPECT_EQ(quantile_scores(distinct, 5, true), (std::vector<std::uint8_t>{5, 5, 4, 4, 3, 3, 2, 2, 1, 1}));
}

TEST(QuantileScores, IntegerAndRealValuesFollowTheDefinitionAtEveryQ) {
  // Keys over a narrow range are counted one value per bucket, wide ones are selected within the
  // buckets that hold a threshold; both must give 1 + floor(q w / n), w = number of strictly
  // worse values, counted here by brute force.
  std::mt19937_64 rng(5);
  for (bool integral : {true, false}) {
    for (int q : {2, 3, 5, 7, 10}) {
      std::vector<double> v(997);
      for (auto& x : v) {
        const double draw = std::floor(std::exponential_distribution<double>(0.05)(rng)) - 3.0;
        x = integral ? draw : draw + 0.5 * std::uniform_real_distribution<double>(0, 1)(rng);
      }
      for (bool higher : {true, false}) {
        const auto s = quantile_scores(v, q, higher);
        for (std::size_t i = 0; i < v.size(); ++i) {
          std::size_t worse = 0;
          for (double x : v) worse += higher ? x < v[i] : x > v[i];
          ASSERT_EQ(s[i], 1 + (static_cast<std::size_t>(q) * worse) / v.size())
              << "integral=" << integral << " q=" << q << " higher=" << higher << " i=" << i;
        }
      }
    }
  }
}

TEST(QuantileScores, CrowdedBucketsNeighbouringDoublesAndSignedZerosFollowTheDefinition) {
  // 30,000 values where one bucket of the selection holds most of them (ties and doubles one ulp
  // apart), with -0.0 and +0.0 (equal values, so they must share a score).
  std::mt19937_64 rng(11);
  std::vector<double> v(30000);
  const double crowded = 37.25;
  for (auto& x : v) {
    switch (rng() % 6) {
      case 0: x = -0.0; break;
      case 1: x = 0.0; break;
      case 2: x = crowded; break;
      case 3: x = std::nextafter(crowded, 100.0); break;
      case 4: x = std::nextafter(crowded, 0.0); break;
      default: x = std::uniform_real_distribution<double>(-1e6, 1e6)(rng);
    }
  }
  std::vector<double> sorted = v;
  std::sort(sorted.begin(), sorted.end());
  for (int q : {2, 5, 20}) {
    for (bool higher : {true, false}) {
      const auto s = quantile_scores(v, q, higher);
      for (std::size_t i = 0; i < v.size(); ++i) {
        const auto smaller = static_cast<std::size_t>(std::lower_bound(sorted.begin(), sorted.end(), v[i]) - sorted.begin());
        const auto larger = static_cast<std::size_t>(sorted.end() - std::upper_bound(sorted.begin(), sorted.end(), v[i]));
        const std::size_t worse = higher ? smaller : larger;
        ASSERT_EQ(s[i], 1 + (static_cast<std::size_t>(q) * worse) / v.size()) << "q=" << q << " i=" << i;
      }
    }
  }
}

CustomerSummary summary_of(const std::vector<std::int64_t>& customer, const std::vector<std::int64_t>& day,
                           const std::vector<double>& amount) {
  TransactionLog log;
  log.customer = customer;
  log.time = day;
  log.amount = amount;
  return summarize(log);
}

TEST(Rfm, RecencyFrequencyMonetaryAndDefaultSegments) {
  // Customer 1: days 0, 5, 9 (recent, frequent); 2: day 1 only; 3: days 2, 3; 4: day 9 only.
  const std::vector<std::int64_t> customer = {1, 2, 3, 1, 3, 1, 4};
  const std::vector<std::int64_t> day = {0, 1, 2, 5, 3, 9, 9};
  const std::vector<double> amount = {10, 100, 20, 10, 20, 10, 5};
  const RfmTable t = rfm(summary_of(customer, day, amount));
  ASSERT_EQ(t.customer, (std::vector<std::int64_t>{1, 2, 3, 4}));
  EXPECT_EQ(t.as_of_day, 10);
  EXPECT_EQ(t.recency, (std::vector<std::int32_t>{1, 9, 7, 1}));
  EXPECT_EQ(t.frequency, (std::vector<std::int64_t>{3, 1, 2, 1}));
  EXPECT_DOUBLE_EQ(t.monetary[0], 10.0);
  EXPECT_DOUBLE_EQ(t.monetary[1], 100.0);
  EXPECT_EQ(t.r_score, (std::vector<std::uint8_t>{3, 1, 2, 3}));  // w = 2, 0, 1, 2 of n = 4
  EXPECT_EQ(t.f_score, (std::vector<std::uint8_t>{4, 1, 3, 1}));
  EXPECT_EQ(t.segment_names.size(), 11u);
  EXPECT_EQ(t.segment_names[static_cast<std::size_t>(t.segment[0])], "Loyal");    // R3 F4
  EXPECT_EQ(t.segment_names[static_cast<std::size_t>(t.segment[1])], "Lost");     // R1 F1
  EXPECT_EQ(t.segment_names[static_cast<std::size_t>(t.segment[3])], "About to Sleep");  // R3 F1
}

TEST(Rfm, RejectsBadOptions) {
  const auto s = summary_of({1, 2}, {0, 1}, {1.0, 2.0});
  RfmOptions o;
  o.q = 1;
  EXPECT_THROW(rfm(s, o), InvalidArgument);
  o.q = 4;  // the default map needs q = 5
  EXPECT_THROW(rfm(s, o), InvalidArgument);
  o.segment_map = {{"All", 1, 4, 1, 4, 1, 4}};
  EXPECT_NO_THROW(rfm(s, o));
  o.segment_map = {{"Bad", 0, 4, 1, 4, 1, 4}};
  EXPECT_THROW(rfm(s, o), InvalidArgument);
  RfmOptions early;
  early.as_of_day = 0;  // before customer 2's purchase on day 1
  EXPECT_THROW(rfm(s, early), InvalidArgument);
}

TEST(Contribution, RanksSharesGiniAndAbcClasses) {
  const std::vector<std::int64_t> id = {10, 11, 12, 13};
  const std::vector<double> value = {10.0, 60.0, 30.0, 0.0};
  const Contribution c = contribution(id, value);
  EXPECT_EQ(c.rank, (std::vector<std::int64_t>{3, 1, 2, 4}));
  EXPECT_DOUBLE_EQ(c.total, 100.0);
  // Share held by the customers ranked before: 60 has 0% (A), 30 has 60% (A), 10 has 90% (B),
  // 0 has 100% (C).
  EXPECT_EQ(c.abc, (std::vector<char>{'B', 'A', 'A', 'C'}));
  // Ascending 0, 10, 30, 60: sum (2i - 5) x_i = -3*0 - 1*10 + 1*30 + 3*60 = 200; / (4 * 100).
  EXPECT_DOUBLE_EQ(c.gini, 0.5);
  EXPECT_DOUBLE_EQ(c.top_shares[3], 0.6);  // top 20% = ceil(0.8) = 1 customer
  EXPECT_DOUBLE_EQ(c.curve_value_share.front(), 0.0);
  EXPECT_DOUBLE_EQ(c.curve_value_share.back(), 1.0);
  EXPECT_THROW(contribution(id, std::vector<double>{1.0, 2.0}), InvalidArgument);
  EXPECT_THROW(contribution(id, std::vector<double>{-1.0, 0.0, 0.0, 0.0}), InvalidArgument);
  EXPECT_THROW(contribution(id, std::vector<double>{NAN, 0.0, 0.0, 1.0}), InvalidArgument);
}

TEST(CohortRetention, CountsActiveCustomersAndRevenueByMonthSinceAcquisition) {
  const std::int64_t jan1 = days_from_civil(2024, 1, 1);
  const std::int64_t feb3 = days_from_civil(2024, 2, 3);
  const std::int64_t mar9 = days_from_civil(2024, 3, 9);
  // 1: Jan, Jan, Mar. 2: Feb, Mar. 3: Jan only. Rows deliberately out of time order.
  const std::vector<std::int64_t> customer = {1, 2, 1, 3, 2, 1};
  const std::vector<std::int64_t> day = {mar9, feb3, jan1, jan1 + 5, mar9, jan1 + 3};
  const std::vector<double> amount = {5, 7, 1, 2, 11, 3};
  TransactionLog log;
  log.customer = customer;
  log.time = day;
  log.amount = amount;
  for (int jobs : {1, 2}) {
    CohortOptions o;
    o.n_jobs = jobs;
    const CohortTable t = cohort_retention(log, o);
    ASSERT_EQ(t.n_cohorts(), 2u);  // Jan and Feb
    ASSERT_EQ(t.n_offsets, 3);
    EXPECT_EQ(t.size, (std::vector<std::int64_t>{2, 1}));
    EXPECT_EQ(t.active, (std::vector<std::int64_t>{2, 0, 1, 1, 1, 0}));
    EXPECT_EQ(t.revenue, (std::vector<double>{6, 0, 5, 7, 11, 0}));
    EXPECT_EQ(t.cohort_start_day[0], jan1);
    EXPECT_DOUBLE_EQ(t.retention(0, 2), 0.5);
  }
}

TEST(Calendar, PeriodsRoundTripAndWeeksStartOnMonday) {
  EXPECT_EQ(days_from_civil(1970, 1, 1), 0);
  for (std::int64_t d = -800000; d < 800000; d += 997) {
    const CivilDate c = civil_from_days(d);
    EXPECT_EQ(days_from_civil(c.year, c.month, c.day), d);
    for (Period p : {Period::week, Period::month, Period::quarter, Period::year}) {
      const std::int64_t start = period_start_day(period_index(d, p), p);
      EXPECT_LE(start, d);
      EXPECT_EQ(period_index(start, p), period_index(d, p));
      EXPECT_NE(period_index(start - 1, p), period_index(d, p));
    }
  }
  const std::int64_t monday = days_from_civil(2024, 1, 8);
  EXPECT_EQ(period_start_day(period_index(monday + 6, Period::week), Period::week), monday);
}

}  // namespace
}  // namespace crmine

namespace crmine {
namespace {

void expect_same_table(const RfmTable& a, const RfmTable& b) {
  EXPECT_EQ(a.customer, b.customer);
  EXPECT_EQ(a.recency, b.recency);
  EXPECT_EQ(a.frequency, b.frequency);
  EXPECT_EQ(a.monetary, b.monetary);
  EXPECT_EQ(a.revenue, b.revenue);
  EXPECT_EQ(a.r_score, b.r_score);
  EXPECT_EQ(a.f_score, b.f_score);
  EXPECT_EQ(a.m_score, b.m_score);
  EXPECT_EQ(a.segment, b.segment);
  EXPECT_EQ(a.segment_names, b.segment_names);
  EXPECT_EQ(a.as_of_day, b.as_of_day);
  EXPECT_EQ(a.excluded_without_purchase, b.excluded_without_purchase);
}

TEST(RfmOfALog, EqualsRfmOfItsSummaryOnEveryPath) {
  // Dense ids without returns fold straight into RFM states; returns, sparse ids, a cost column or
  // days out of order go through the summary. Every path gives the table of rfm(summarize(log)).
  std::mt19937_64 rng(21);
  const std::size_t n = 50000;
  std::vector<std::int64_t> customer(n), day(n), sparse(n);
  std::vector<double> amount(n), with_returns(n), cost(n);
  for (std::size_t i = 0; i < n; ++i) {
    customer[i] = static_cast<std::int64_t>(rng() % 3000) * 2 + 5;  // every other id: gaps in the range
    sparse[i] = customer[i] * 1'000'003;
    day[i] = 19000 + static_cast<std::int64_t>(i * 400 / n);
    amount[i] = 1.0 + static_cast<double>(rng() % 10000) / 100.0;
    with_returns[i] = rng() % 25 == 0 ? -amount[i] / 2 : amount[i];
    cost[i] = amount[i] * 0.6;
  }
  std::vector<std::int64_t> shuffled_day = day;
  std::shuffle(shuffled_day.begin(), shuffled_day.end(), rng);
  RfmOptions custom;
  custom.q = 4;
  custom.monetary = Monetary::total;
  custom.segment_map = {{"Top", 3, 4, 3, 4, 1, 4}};
  for (const RfmOptions& options : {RfmOptions{}, custom}) {
    for (int variant = 0; variant < 5; ++variant) {
      TransactionLog log;
      log.customer = variant == 2 ? sparse : customer;
      log.time = variant == 4 ? shuffled_day : day;
      log.amount = variant == 1 ? with_returns : amount;
      if (variant == 3) log.cost = cost;
      for (int threads : {1, 2}) {
        RfmOptions o = options;
        o.n_jobs = threads;
        SummaryOptions s;
        s.n_jobs = threads;
        SCOPED_TRACE(testing::Message() << "variant " << variant << " threads " << threads << " q " << o.q);
        expect_same_table(rfm(log, o, s), rfm(summarize(log, s), o));
      }
    }
  }
}

TEST(RfmOfALog, ChecksOptionsAndTheAsOfDayLikeTheSummaryPath) {
  const std::vector<std::int64_t> customer = {1, 2, 3, 1};
  const std::vector<std::int64_t> day = {100, 101, 102, 103};
  const std::vector<double> amount = {10, 20, 30, 40};
  TransactionLog log;
  log.customer = customer;
  log.time = day;
  log.amount = amount;
  RfmOptions early;
  early.as_of_day = 102;  // before customer 1's last purchase (day 103)
  EXPECT_THROW(rfm(log, early), InvalidArgument);
  RfmOptions bad_q;
  bad_q.q = 1;
  EXPECT_THROW(rfm(log, bad_q), InvalidArgument);
  const std::vector<double> nan_amount = {10, std::nan(""), 30, 40};
  log.amount = nan_amount;
  EXPECT_THROW(rfm(log), InvalidArgument);
}

}  // namespace
}  // namespace crmine
