// SPDX-License-Identifier: Apache-2.0
// Specification of the model checks: calibration/holdout table and cumulative tracking.
#include <crmine/clv.hpp>
#include <crmine/core/errors.hpp>

#include "clv_test_util.hpp"

#include <gtest/gtest.h>

#include <fstream>

namespace crmine {
namespace {

/// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

struct RawLog {
  std::vector<std::int64_t> customer, day;
  std::vector<double> amount;
  TransactionLog view() const {
    TransactionLog log;
    log.customer = customer;
    log.time = day;
    log.amount = amount;
    return log;
  }
};

/// CDNOW_sample.txt: master id, customer id, yyyymmdd, CDs, dollars.
RawLog cdnow_sample() {
  std::ifstream in(test::data_path("cdnow/CDNOW_sample.txt"));
  RawLog log;
  std::int64_t master = 0, customer = 0, date = 0, cds = 0;
  double amount = 0.0;
  while (in >> master >> customer >> date >> cds >> amount) {
    log.customer.push_back(customer);
    log.day.push_back(days_from_civil(date / 10000, static_cast<unsigned>(date / 100 % 100),
                                      static_cast<unsigned>(date % 100)));
    log.amount.push_back(amount);
  }
  return log;
}

BetaGeo published_bg_nbd() {
  BetaGeo m;
  m.set_params(Eigen::Vector4d(0.242594150135163, 4.41359212062015, 0.792919156875463, 2.4258950494563));
  return m;
}

TEST(ExpectedCumulativeTransactions, MatchesLifetimesOnCdnow) {
  const RawLog raw = cdnow_sample();
  ASSERT_EQ(raw.customer.size(), 6919u);
  const BetaGeo m = published_bg_nbd();
  // lifetimes 0.11.3: expected_cumulative_transactions(bgf, sample, 'date', 'customer_id', 546,
  // freq='D', freq_multiplier=7) with the model in weeks; its row k is our period k + 1.
  const TrackingTable t = expected_cumulative_transactions(m, raw.view(), {.unit_days = 7.0, .period_days = 7});
  ASSERT_EQ(t.actual.size(), 78u);
  const std::size_t rows[] = {0, 1, 10, 38, 39, 77};
  const double actual[] = {0, 19, 610, 2457, 2507, 4339};
  const double predicted[] = {4.405483532348177, 17.241494634632176, 529.6019007456886,
                              2501.5267096995212, 2554.0827816630203, 4165.6651091713975};
  for (std::size_t k = 0; k < 6; ++k) {
    EXPECT_EQ(t.actual[rows[k]], actual[k]) << rows[k];
    EXPECT_NEAR(t.predicted[rows[k]], predicted[k], 1e-9 * predicted[k]) << rows[k];
  }
  EXPECT_EQ(t.period_end[0], days_from_civil(1997, 1, 8));
  for (std::size_t k = 1; k < t.actual.size(); ++k) {
    EXPECT_GE(t.actual[k], t.actual[k - 1]);
    EXPECT_GT(t.predicted[k], t.predicted[k - 1]);
  }
}

TEST(ExpectedCumulativeTransactions, DailyPeriodsAndEndDay) {
  const RawLog raw = cdnow_sample();
  const BetaGeo m = published_bg_nbd();
  const TrackingTable weekly = expected_cumulative_transactions(m, raw.view(), {.unit_days = 7.0, .period_days = 7});
  const TrackingTable daily = expected_cumulative_transactions(
      m, raw.view(), {.unit_days = 7.0, .period_days = 1, .end_day = days_from_civil(1997, 9, 30)});
  ASSERT_EQ(daily.actual.size(), 273u);
  // Day 7k closes week k.
  for (std::size_t k = 1; k <= 39; ++k) {
    EXPECT_EQ(daily.actual[7 * k - 1], weekly.actual[k - 1]);
    EXPECT_DOUBLE_EQ(daily.predicted[7 * k - 1], weekly.predicted[k - 1]);
  }
}

TEST(ExpectedCumulativeTransactions, CountsOrdersAsOccasionsWhenTheLogHasThem) {
  // Customer 1: orders 10 (two lines) and 11 on day 0, order 12 with lines on days 7 and 8.
  // Customer 2: order 20 on day 3 and a return (order 21) the same day.
  const std::vector<std::int64_t> customer{1, 1, 1, 1, 1, 2, 2}, day{0, 0, 0, 7, 8, 3, 3}, order{10, 10, 11, 12, 12, 20, 21};
  const std::vector<double> amount{5, 6, 7, 8, 9, 10, -4};
  TransactionLog log;
  log.customer = customer;
  log.time = day;
  log.amount = amount;
  log.order = order;
  TrackingOptions o;
  o.period_days = 1;
  const BetaGeo model = published_bg_nbd();
  const TrackingTable by_order = expected_cumulative_transactions(model, log, o);
  // Order 11 repeats on day 0 (counted by the boundary after it), order 12 on day 7 (its first line).
  ASSERT_EQ(by_order.actual.size(), 9u);
  EXPECT_EQ(by_order.actual[0], 1.0);
  EXPECT_EQ(by_order.actual[6], 1.0);
  EXPECT_EQ(by_order.actual[7], 2.0);
  EXPECT_EQ(by_order.actual[8], 2.0);
  // The same occasions clv_summary counts: the final tally is the sum of the frequencies.
  const ClvSummary s = clv_summary(log, {.unit_days = 1.0});
  EXPECT_EQ(by_order.actual.back(), s.frequency[0] + s.frequency[1]);
  // Without order ids the occasions are days: 7 and 8 are the repeats.
  log.order = {};
  const TrackingTable by_day = expected_cumulative_transactions(model, log, o);
  EXPECT_EQ(by_day.actual[0], 0.0);
  EXPECT_EQ(by_day.actual[7], 1.0);
  EXPECT_EQ(by_day.actual[8], 2.0);
  EXPECT_EQ(by_day.predicted, by_order.predicted);  // acquisitions are the same days either way
}

TEST(ExpectedCumulativeTransactions, RejectsBadOptions) {
  const RawLog raw = cdnow_sample();
  const BetaGeo m = published_bg_nbd();
  EXPECT_THROW(expected_cumulative_transactions(m, raw.view(), {.unit_days = 0.0}), InvalidArgument);
  EXPECT_THROW(expected_cumulative_transactions(m, raw.view(), {.period_days = 0}), InvalidArgument);
  EXPECT_THROW(expected_cumulative_transactions(m, raw.view(), {.end_day = 0}), InvalidArgument);
  BetaGeo unfitted;
  EXPECT_THROW(expected_cumulative_transactions(unfitted, raw.view()), NotFittedError);
}

TEST(CalibrationHoldoutTable, GroupsAndCensorsByCalibrationFrequency) {
  const BetaGeo m = published_bg_nbd();
  const std::vector<double> x{0, 0, 1, 3, 9, 12}, tx{0, 0, 5, 20, 30, 38}, T{39, 20, 39, 39, 39, 39};
  const std::vector<double> holdout{0, 1, 2, 1, 5, 7};
  const ClvData d{x, tx, T, {}};
  const auto table = calibration_holdout_table(m, d, holdout, 39.0, 7);
  ASSERT_EQ(table.frequency, (std::vector<double>{0, 1, 3, 7}));
  EXPECT_EQ(table.n_customers, (std::vector<double>{2, 1, 1, 2}));
  EXPECT_EQ(table.actual, (std::vector<double>{0.5, 2, 1, 6}));
  const auto e = m.conditional_expected_number_of_purchases_up_to_time(39.0, d);
  EXPECT_DOUBLE_EQ(table.predicted[0], (e[0] + e[1]) / 2);
  EXPECT_DOUBLE_EQ(table.predicted[3], (e[4] + e[5]) / 2);
  EXPECT_THROW(calibration_holdout_table(m, d, holdout, 39.0, 0), InvalidArgument);
  EXPECT_THROW(calibration_holdout_table(m, d, holdout, 0.0, 7), InvalidArgument);
  const std::vector<double> short_holdout{1, 2};
  EXPECT_THROW(calibration_holdout_table(m, d, short_holdout, 39.0, 7), InvalidArgument);
}

}  // namespace
}  // namespace crmine
