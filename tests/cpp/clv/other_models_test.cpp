// SPDX-License-Identifier: Apache-2.0
// Specification of ParetoNBD, BetaGeoBetaBinom, GammaGamma, clv_summary and customer_lifetime_value.
#include <crmine/clv.hpp>
#include <crmine/clv/detail/hyp2f1.hpp>
#include <crmine/core/errors.hpp>

#include "clv_test_util.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace crmine {
namespace {

void expect_3_digits(double actual, double expected) { EXPECT_NEAR(actual / expected, 1.0, 1.5e-3) << actual; }

struct Columns {
  std::vector<std::vector<double>> c;
  ClvData data(int x, int tx, int T, int w = -1) const {
    return {c.at(x), c.at(tx), c.at(T), w >= 0 ? std::span<const double>(c.at(w)) : std::span<const double>()};
  }
};

Columns cdnow() { return {test::read_csv(test::data_path("cdnow/cdnow_customers_summary.csv"))}; }

TEST(ParetoNBD, MatchesPublishedCdnowFit) {
  const Columns c = cdnow();
  ParetoNBD model;
  model.fit(c.data(1, 2, 3));
  const auto& p = model.params();
  expect_3_digits(p[0], 0.5533);
  expect_3_digits(p[1], 10.5776);
  expect_3_digits(p[2], 0.6062);
  expect_3_digits(p[3], 11.6678);
  EXPECT_NEAR(model.report().log_likelihood, -9594.97, 0.01);
  EXPECT_TRUE(model.report().converged) << model.report().message;
  for (int i = 0; i < 4; ++i) EXPECT_GT(model.standard_errors()[i], 0.0);
}

TEST(ParetoNBD, PropertiesAndGradient) {
  const Columns c = cdnow();
  ParetoNBD model;
  model.fit(c.data(1, 2, 3));
  const ClvData d = c.data(1, 2, 3);
  for (double p : model.conditional_probability_alive(d)) {
    ASSERT_GE(p, 0.0);
    ASSERT_LE(p, 1.0);
  }
  std::vector<double> prev(d.size(), 0.0);
  for (double t : {1.0, 10.0, 39.0, 400.0}) {
    const auto e = model.conditional_expected_number_of_purchases_up_to_time(t, d);
    for (std::size_t i = 0; i < e.size(); ++i) ASSERT_GE(e[i], prev[i]);
    prev = e;
  }
  EXPECT_LT(model.expected_number_of_purchases_up_to_time(10.0), model.expected_number_of_purchases_up_to_time(20.0));
  Eigen::VectorXd grad;
  model.log_likelihood(d, &grad);
  const Eigen::VectorXd p0 = model.params();
  // Move away from the optimum so the gradient is not ~0.
  Eigen::VectorXd off = p0 * 1.3;
  model.set_params(off);
  model.log_likelihood(d, &grad);
  for (int j = 0; j < 4; ++j) {
    Eigen::VectorXd up = off, down = off;
    // The sum over 2,357 customers of truncated series carries rounding noise of ~1e-13
    // relative: a smaller step would difference noise; central differences lose only O(h^2).
    const double h = 1e-4 * off[j];
    up[j] += h;
    down[j] -= h;
    model.set_params(up);
    const double fu = model.log_likelihood(d);
    model.set_params(down);
    const double fd = model.log_likelihood(d);
    EXPECT_NEAR(grad[j], (fu - fd) / (2 * h), 1e-4 * (1.0 + std::abs(grad[j]))) << j;
  }
}

TEST(ParetoNBD, FactoredLikelihoodEqualsThePerCustomerOne) {
  // The fit's likelihood (logarithms per distinct T, series per distinct (x, t) sharing
  // coefficients by x, hand-derived gradient) against the per-customer dual-number form the
  // covariate model evaluates, on CDNOW and on customers whose series need rescaling, with
  // alpha > beta, alpha < beta and alpha = beta (every series argument 0).
  const test::Cdnow c = test::cdnow();
  const std::vector<double> x{300, 1000, 5000, 0, 2, 2, 700}, tx{250, 1999.5, 5000, 0, 1e5, 1, 3},
      T{500, 2000, 1e5, 1e6, 1e6, 40, 4};
  const ClvData extreme{x, tx, T, {}};
  for (const ClvData& d : {c.data(), extreme}) {
    const RowMatrix none(static_cast<Eigen::Index>(d.size()), 0);
    for (const Eigen::Vector4d& p : {Eigen::Vector4d(0.5533, 10.5776, 0.6062, 11.6678),
                                     Eigen::Vector4d(0.5533, 30.0, 0.6062, 2.0), Eigen::Vector4d(2.0, 0.3, 5.0, 0.3),
                                     Eigen::Vector4d(0.05, 0.5, 0.02, 90.0)}) {
      ParetoNBD plain;
      plain.set_params(p);
      ParetoNBDCovariates per_customer;
      per_customer.set_params(p, 0, 0);
      Eigen::VectorXd g_plain, g_ref;
      const double ll = plain.log_likelihood(d, &g_plain);
      const double ref = per_customer.log_likelihood(d, none, none, &g_ref);
      ASSERT_TRUE(std::isfinite(ref));
      EXPECT_NEAR(ll, ref, 1e-11 * std::abs(ref)) << p.transpose();
      for (int j = 0; j < 4; ++j)
        EXPECT_NEAR(g_plain[j], g_ref[j], 1e-9 * (1.0 + std::abs(g_ref[j]))) << p.transpose() << " " << j;
    }
  }
}

TEST(Hyp2f1, PairWithSharedCoefficientsEqualsTheGeneralSeries) {
  // Pareto/NBD's 2F1(a, b; a+1; z) at two arguments, with its gradient carried as scalar sums,
  // against the general dual-number series, including terms that need rescaling (a = 3000).
  using detail::Dual;
  for (double a : {0.5, 5.0, 31.0, 3000.0})
    for (double b : {0.3, 20.0, 300.0})
      for (double z1 : {0.0, 0.001, 0.5, 0.95})
        for (double z2 : {0.0005, 0.9}) {
          const double zz2 = z1 == 0.0 ? 0.0 : z2;  // both arguments are 0 when alpha = beta
          Dual<4> da = Dual<4>::variable(a, 0), db = Dual<4>::variable(b, 1), dz1 = Dual<4>::variable(z1, 2),
                  dz2 = Dual<4>::variable(zz2, 3);
          dz2.d[0] = 0.3;  // an argument that depends on a as well
          const auto pair = detail::log_hyp2f1_a_plus_1_pair(da, db, dz1, dz2);
          const std::array<Dual<4>, 2> general{detail::log_hyp2f1_positive(da, db, da + 1.0, dz1),
                                               detail::log_hyp2f1_positive(da, db, da + 1.0, dz2)};
          for (std::size_t j = 0; j < 2; ++j) {
            ASSERT_NEAR(pair[j].v, general[j].v, 1e-13 * (1.0 + std::abs(general[j].v))) << a << " " << b << " " << z1;
            for (std::size_t i = 0; i < 4; ++i)
              ASSERT_NEAR(pair[j].d[i], general[j].d[i], 1e-11 * (1.0 + std::abs(general[j].d[i])))
                  << a << " " << b << " " << z1 << " " << i;
          }
        }
}

TEST(ParetoNBD, NoNanForHugeFrequencyAndLongAge) {
  ParetoNBD model;
  // Both orderings of alpha and beta take different hypergeometric branches.
  for (const Eigen::Vector4d& p : {Eigen::Vector4d(0.5533, 10.5776, 0.6062, 11.6678),
                                   Eigen::Vector4d(0.5533, 30.0, 0.6062, 2.0)}) {
    model.set_params(p);
    const std::vector<double> x{300, 1000, 5000, 0, 2}, tx{250, 1999.5, 5000, 0, 1e5}, T{500, 2000, 1e5, 1e6, 1e6};
    const ClvData d{x, tx, T, {}};
    Eigen::VectorXd grad;
    const double ll = model.log_likelihood(d, &grad);
    EXPECT_TRUE(std::isfinite(ll));
    EXPECT_TRUE(grad.allFinite());
    for (double a : model.conditional_probability_alive(d)) {
      EXPECT_TRUE(std::isfinite(a));
      EXPECT_GE(a, 0.0);
      EXPECT_LE(a, 1.0);
    }
    for (double e : model.conditional_expected_number_of_purchases_up_to_time(52.0, d)) EXPECT_TRUE(std::isfinite(e));
  }
}

TEST(GammaGamma, MatchesPublishedCdnowFit) {
  const auto cols = test::read_csv(test::data_path("cdnow/cdnow_customers_summary_with_transactions.csv"));
  std::vector<double> x, m;
  for (std::size_t i = 0; i < cols[1].size(); ++i)
    if (cols[1][i] > 0) {
      x.push_back(cols[1][i]);
      m.push_back(cols[4][i]);
    }
  ASSERT_EQ(x.size(), 946u);
  GammaGamma model;
  model.fit(x, m);
  const auto& p = model.params();
  expect_3_digits(p[0], 6.2488);
  expect_3_digits(p[1], 3.7446);
  expect_3_digits(p[2], 15.4478);
  EXPECT_NEAR(model.report().log_likelihood, -4055.92, 0.01);
  EXPECT_TRUE(model.report().converged) << model.report().message;
  // Expected spend is a weighted mean of the population mean and the customer's own mean.
  const double pop = p[0] * p[2] / (p[1] - 1.0);
  const auto e = model.conditional_expected_average_profit(x, m);
  for (std::size_t i = 0; i < x.size(); ++i) {
    EXPECT_LE(e[i], std::max(pop, m[i]) + 1e-9);
    EXPECT_GE(e[i], std::min(pop, m[i]) - 1e-9);
  }
  EXPECT_THROW(model.fit(std::vector<double>{0.0, 1.0}, std::vector<double>{0.0, 2.0}), InvalidArgument);
  EXPECT_THROW(model.fit(std::vector<double>{1.0, 1.0}, std::vector<double>{-1.0, 2.0}), InvalidArgument);
}

TEST(GammaGamma, LikelihoodGradientMatchesFiniteDifferences) {
  const std::vector<double> x{1, 1, 2, 3, 7, 30, 2}, m{10.0, 12.5, 40.0, 3.0, 22.0, 15.0, 40.0}, w{1, 3, 2, 1, 1, 4, 0};
  GammaGamma model;
  for (const Eigen::Vector3d& p : {Eigen::Vector3d(6.25, 3.74, 15.44), Eigen::Vector3d(0.3, 40.0, 0.05)}) {
    model.set_params(p);
    Eigen::VectorXd grad;
    model.log_likelihood(x, m, w, &grad);
    for (int j = 0; j < 3; ++j) {
      Eigen::VectorXd up = p, down = p;
      const double h = 1e-5 * p[j];
      up[j] += h;
      down[j] -= h;
      model.set_params(up);
      const double fu = model.log_likelihood(x, m, w);
      model.set_params(down);
      const double fd = model.log_likelihood(x, m, w);
      EXPECT_NEAR(grad[j], (fu - fd) / (2 * h), 1e-6 * (1.0 + std::abs(grad[j]))) << p.transpose() << " " << j;
    }
  }
}

TEST(BetaGeoBetaBinom, MatchesPublishedDonationsFit) {
  const Columns c{test::read_csv(test::data_path("cdnow/donations.csv"))};
  BetaGeoBetaBinom model;
  model.fit(c.data(0, 1, 2, 3));
  const auto& p = model.params();
  expect_3_digits(p[0], 1.2035);
  expect_3_digits(p[1], 0.7497);
  expect_3_digits(p[2], 0.6567);
  expect_3_digits(p[3], 2.7834);
  EXPECT_NEAR(model.report().log_likelihood, -33225.58, 0.01);
  EXPECT_TRUE(model.report().converged) << model.report().message;
  EXPECT_EQ(model.report().n_rows, 22u);
  const ClvData d = c.data(0, 1, 2);
  for (double a : model.conditional_probability_alive(d)) {
    EXPECT_GE(a, 0.0);
    EXPECT_LE(a, 1.0);
  }
  const auto e1 = model.conditional_expected_number_of_purchases_up_to_time(1, d);
  const auto e5 = model.conditional_expected_number_of_purchases_up_to_time(5, d);
  for (std::size_t i = 0; i < e1.size(); ++i) EXPECT_LT(e1[i], e5[i]);
  EXPECT_THROW(model.conditional_expected_number_of_purchases_up_to_time(1.5, d), InvalidArgument);
  // Expected purchases of a new donor over n opportunities equal the mean of the fitted
  // distribution of x over the cohort, all of which had n = 6.
  double mean_x = 0.0, total = 0.0;
  for (std::size_t i = 0; i < c.c[0].size(); ++i) {
    mean_x += c.c[0][i] * c.c[3][i];
    total += c.c[3][i];
  }
  EXPECT_NEAR(model.expected_number_of_purchases_up_to_time(6.0), mean_x / total, 0.02 * mean_x / total);
}

TEST(CustomerLifetimeValue, DiscountedSumOfExpectedPurchases) {
  const Columns c = cdnow();
  BetaGeo model;
  model.fit(c.data(1, 2, 3));
  const std::vector<double> x{0, 2, 10}, tx{0, 30.43, 38}, T{38.86, 38.86, 38.86}, spend{30, 30, 30};
  const ClvData d{x, tx, T, {}};
  ClvOptions o;
  o.n_periods = 12;
  o.period_length = 4.345;
  o.discount_rate = 0.0;
  const auto undiscounted = customer_lifetime_value(model, d, spend, o);
  const auto e = model.conditional_expected_number_of_purchases_up_to_time(12 * 4.345, d);
  for (std::size_t i = 0; i < 3; ++i) EXPECT_NEAR(undiscounted[i], 30.0 * e[i], 1e-9);
  o.discount_rate = 0.01;
  o.margin = 0.5;
  const auto discounted = customer_lifetime_value(model, d, spend, o);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_LT(discounted[i], 0.5 * undiscounted[i]);
    EXPECT_GT(discounted[i], 0.5 * undiscounted[i] / std::pow(1.01, 12));
  }
  EXPECT_LT(discounted[0], discounted[2]);
}

TEST(ClvSummary, FrequencyRecencyAgeAndHoldout) {
  // Customer 1: days 0 (10 + 5 on the same day), 7 (20), 21 (30), holdout day 30 (8).
  // Customer 2: day 14 only. Customer 3: only in the holdout.
  const std::vector<std::int64_t> cust{1, 1, 1, 1, 2, 1, 3}, day{0, 0, 7, 21, 14, 30, 29};
  const std::vector<double> amount{10, 5, 20, 30, 9, 8, 1};
  TransactionLog log;
  log.customer = cust;
  log.time = day;
  log.amount = amount;
  ClvSummaryOptions o;
  o.calibration_end = 28;
  o.observation_end = 35;
  o.unit_days = 7;
  const ClvSummary s = clv_summary(log, o);
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s.customer[0], 1);
  EXPECT_DOUBLE_EQ(s.frequency[0], 2.0);
  EXPECT_DOUBLE_EQ(s.recency[0], 3.0);
  EXPECT_DOUBLE_EQ(s.T[0], 4.0);
  EXPECT_DOUBLE_EQ(s.monetary_value[0], 25.0);
  EXPECT_DOUBLE_EQ(s.frequency[1], 0.0);
  EXPECT_DOUBLE_EQ(s.T[1], 2.0);
  EXPECT_DOUBLE_EQ(s.monetary_value[1], 0.0);
  ASSERT_TRUE(s.has_holdout);
  EXPECT_DOUBLE_EQ(s.frequency_holdout[0], 1.0);
  EXPECT_DOUBLE_EQ(s.monetary_value_holdout[0], 8.0);
  EXPECT_DOUBLE_EQ(s.frequency_holdout[1], 0.0);
  EXPECT_DOUBLE_EQ(s.duration_holdout, 1.0);
  o.observation_end = 20;
  EXPECT_THROW(clv_summary(log, o), InvalidArgument);
}

}  // namespace
}  // namespace crmine
