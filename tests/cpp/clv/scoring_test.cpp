// SPDX-License-Identifier: Apache-2.0
// Specification of fast scoring: the discounted CLV sum shared across periods, evaluation once per
// distinct customer, and the hash collapse of fits (order of rows and thread count do not matter).
#include <crmine/clv.hpp>
#include <crmine/core/errors.hpp>

#include "clv_test_util.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <numeric>
#include <random>
#include <set>

namespace crmine {
namespace {

/// CDNOW's customers repeated `copies` times in a shuffled order: large enough for the parallel
/// paths, with every (x, t_x, T) occurring many times.
test::Cdnow repeated_cdnow(std::size_t copies, std::uint64_t seed) {
  const test::Cdnow c = test::cdnow();
  std::vector<std::size_t> order;
  for (std::size_t k = 0; k < copies; ++k)
    for (std::size_t i = 0; i < c.x.size(); ++i) order.push_back(i);
  std::shuffle(order.begin(), order.end(), std::mt19937_64(seed));
  test::Cdnow out;
  for (std::size_t i : order) {
    out.x.push_back(c.x[i]);
    out.tx.push_back(c.tx[i]);
    out.T.push_back(c.T[i]);
  }
  return out;
}

template <typename Model>
void expect_discounted_sum_equals_per_period_differences() {
  Model model;
  model.fit(test::cdnow().data());
  const test::Cdnow c = repeated_cdnow(2, 5);
  for (double rate : {0.0, 0.01, -0.2}) {
    const ClvOptions o{12, 4.345, rate, 1.0};
    const auto fast = model.discounted_expected_purchases(c.data(), o);
    // The generic definition: one conditional expectation per period, differenced and discounted.
    const auto slow = model.TransactionModel::discounted_expected_purchases(c.data(), o);
    ASSERT_EQ(fast.size(), slow.size());
    for (std::size_t i = 0; i < fast.size(); ++i) ASSERT_NEAR(fast[i], slow[i], 1e-10 * (1.0 + slow[i])) << i;
  }
}

TEST(BetaGeo, DiscountedExpectedPurchasesEqualPerPeriodDifferences) {
  expect_discounted_sum_equals_per_period_differences<BetaGeo>();
}

TEST(ModifiedBetaGeo, DiscountedExpectedPurchasesEqualPerPeriodDifferences) {
  expect_discounted_sum_equals_per_period_differences<ModifiedBetaGeo>();
}

TEST(ParetoNBD, DiscountedExpectedPurchasesEqualPerPeriodDifferences) {
  expect_discounted_sum_equals_per_period_differences<ParetoNBD>();
}

TEST(BetaGeo, ScoringManyCustomersGivesEachCustomersOwnValue) {
  // Large inputs share work between identical (x, T) pairs; every customer must still get
  // exactly the value it gets when scored alone, at any thread count.
  BetaGeo model;
  model.fit(test::cdnow().data());
  const test::Cdnow c = repeated_cdnow(30, 9);  // 70,710 rows: grouped in hash partitions
  ClvFitOptions one;
  one.n_jobs = 1;
  BetaGeo serial(one);
  serial.set_params(model.params());
  const auto all = model.conditional_expected_number_of_purchases_up_to_time(52.0, c.data());
  const auto all_serial = serial.conditional_expected_number_of_purchases_up_to_time(52.0, c.data());
  for (std::size_t i = 0; i < c.x.size(); i += 97) {
    const std::vector<double> x{c.x[i]}, tx{c.tx[i]}, T{c.T[i]};
    const double alone = model.conditional_expected_number_of_purchases_up_to_time(52.0, {x, tx, T, {}})[0];
    EXPECT_EQ(all[i], alone) << i;
    EXPECT_EQ(all_serial[i], alone) << i;
  }
}

TEST(BetaGeo, ScoringContinuousTimesWithoutRepeatsMatchesScalarEvaluation) {
  // Distinct ages everywhere: no sharing is possible and the per-customer path is taken.
  BetaGeo model;
  model.set_params(Eigen::Vector4d(0.2426, 4.4135, 0.7929, 2.4258));
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  test::Cdnow c;
  for (int i = 0; i < 10000; ++i) {
    const double T = 1.0 + 60.0 * u(rng);
    c.x.push_back(std::floor(8.0 * u(rng)));
    c.tx.push_back(c.x.back() > 0 ? T * u(rng) : 0.0);
    c.T.push_back(T);
  }
  const auto all = model.conditional_expected_number_of_purchases_up_to_time(26.0, c.data());
  for (std::size_t i = 0; i < c.x.size(); i += 101) {
    const std::vector<double> x{c.x[i]}, tx{c.tx[i]}, T{c.T[i]};
    EXPECT_EQ(all[i], model.conditional_expected_number_of_purchases_up_to_time(26.0, {x, tx, T, {}})[0]);
  }
}

TEST(BetaGeo, RowOrderAndDuplicationDoNotChangeTheFit) {
  // The collapse groups identical rows by hashing: fitting CDNOW repeated and shuffled equals
  // fitting it once with weight 4 per customer, and the collapsed rows are CDNOW's distinct ones.
  const test::Cdnow c = test::cdnow();
  const std::vector<double> four(c.x.size(), 4.0);
  BetaGeo weighted, repeated;
  weighted.fit({c.x, c.tx, c.T, four});
  const test::Cdnow r = repeated_cdnow(4, 1);
  repeated.fit(r.data());
  EXPECT_EQ(weighted.report().n_rows, repeated.report().n_rows);
  EXPECT_DOUBLE_EQ(repeated.report().n_customers, 4.0 * static_cast<double>(c.x.size()));
  for (int j = 0; j < 4; ++j) EXPECT_NEAR(repeated.params()[j] / weighted.params()[j], 1.0, 1e-7) << j;
  ClvFitOptions one;
  one.n_jobs = 1;
  BetaGeo serial(one);
  serial.fit(r.data());
  for (int j = 0; j < 4; ++j) EXPECT_EQ(serial.params()[j], repeated.params()[j]) << j;
}

/// The model fitted to `c` with 1, 2 and 3 threads.
template <typename Model>
std::vector<Model> fits_with_1_2_3_threads(const test::Cdnow& c) {
  std::vector<Model> fits;
  fits.reserve(3);
  for (int threads : {1, 2, 3}) {
    ClvFitOptions o;
    o.n_jobs = threads;
    fits.emplace_back(o).fit(c.data());
  }
  return fits;
}

TEST(BetaGeo, CollapsedFitOfALargeInputEqualsItsUncollapsedLikelihoodAtAnyThreadCount) {
  // 70,710 rows, more than one chunk: identical rows are grouped in hash partitions. The fit's
  // rows are CDNOW's distinct ones, its log-likelihood is the one evaluated row by row, its
  // parameters are those of CDNOW weighted by 30, and 1, 2 or 3 threads give the same bits.
  const test::Cdnow c = test::cdnow(), r = repeated_cdnow(30, 4);
  std::set<std::array<double, 3>> distinct;
  for (std::size_t i = 0; i < c.x.size(); ++i) distinct.insert({c.x[i], c.tx[i], c.T[i]});
  const std::vector<double> thirty(c.x.size(), 30.0);
  BetaGeo weighted;
  weighted.fit({c.x, c.tx, c.T, thirty});
  const std::vector<BetaGeo> fits = fits_with_1_2_3_threads<BetaGeo>(r);
  const BetaGeo& m = fits.front();
  EXPECT_EQ(m.report().n_rows, distinct.size());
  EXPECT_DOUBLE_EQ(m.report().n_customers, static_cast<double>(r.x.size()));
  EXPECT_NEAR(m.report().log_likelihood / m.log_likelihood(r.data()), 1.0, 1e-12);
  for (int j = 0; j < 4; ++j) EXPECT_NEAR(m.params()[j] / weighted.params()[j], 1.0, 1e-7) << j;
  for (const BetaGeo& other : fits)
    for (int j = 0; j < 4; ++j) EXPECT_EQ(other.params()[j], m.params()[j]) << j;
}

TEST(ParetoNBD, CollapsedFitOfALargeInputIsTheSameAtAnyThreadCount) {
  const test::Cdnow r = repeated_cdnow(30, 6);
  const std::vector<ParetoNBD> fits = fits_with_1_2_3_threads<ParetoNBD>(r);
  EXPECT_NEAR(fits[0].report().log_likelihood / fits[0].log_likelihood(r.data()), 1.0, 1e-12);
  for (const ParetoNBD& other : fits)
    for (int j = 0; j < 4; ++j) EXPECT_EQ(other.params()[j], fits[0].params()[j]) << j;
}

TEST(BetaGeo, BadRowInALargeInputIsNamedByItsIndex) {
  test::Cdnow c = repeated_cdnow(40, 2);  // 94,280 rows: the check runs in parallel chunks
  c.tx[90001] = c.T[90001] + 1.0;
  c.x[90500] = -1.0;
  BetaGeo model;
  try {
    model.fit(c.data());
    FAIL() << "no exception";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("recency: row 90001"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace crmine
