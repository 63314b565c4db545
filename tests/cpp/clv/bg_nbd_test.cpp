// SPDX-License-Identifier: Apache-2.0
// Specification of BetaGeo and ModifiedBetaGeo: published CDNOW fits, properties, robustness.
#include <crmine/clv.hpp>
#include <crmine/core/errors.hpp>

#include "clv_test_util.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace crmine {
namespace {

using test::Cdnow;
using test::cdnow;

/// |actual / expected - 1| small enough that both round to the same 3 significant digits or
/// differ only by rounding of the published figure.
void expect_3_digits(double actual, double expected) { EXPECT_NEAR(actual / expected, 1.0, 1.5e-3) << actual; }

TEST(BetaGeo, MatchesPublishedCdnowFit) {
  const Cdnow c = cdnow();
  BetaGeo model;
  model.fit(c.data());
  const auto& p = model.params();
  expect_3_digits(p[0], 0.2426);
  expect_3_digits(p[1], 4.4135);
  expect_3_digits(p[2], 0.7929);
  expect_3_digits(p[3], 2.4258);
  EXPECT_NEAR(model.report().log_likelihood, -9582.43, 0.01);
  EXPECT_TRUE(model.report().converged) << model.report().message;
  EXPECT_LT(model.report().gradient_norm, 1e-6);
  for (int i = 0; i < 4; ++i) EXPECT_GT(model.standard_errors()[i], 0.0);
  EXPECT_LT(model.report().n_rows, c.x.size());  // identical customers were collapsed
}

TEST(ModifiedBetaGeo, MatchesBtydplusCdnowFit) {
  const Cdnow c = cdnow();
  ModifiedBetaGeo model;
  model.fit(c.data());
  const auto& p = model.params();
  expect_3_digits(p[0], 0.525);
  expect_3_digits(p[1], 6.183);
  expect_3_digits(p[2], 0.891);
  expect_3_digits(p[3], 1.614);
  EXPECT_TRUE(model.report().converged) << model.report().message;
}

TEST(BetaGeo, PredictionsMatchLifetimesAtPaperParameters) {
  // Reference values: lifetimes 0.11.3 (BetaGeoFitter with params_ set to these values), an
  // independent implementation that evaluates the hypergeometric function without our transform.
  BetaGeo model;
  model.set_params(Eigen::Vector4d(0.242594150135163, 4.41359212062015, 0.792919156875463, 2.4258950494563));
  const std::vector<double> x{2}, tx{30.43}, T{38.86};
  const ClvData d{x, tx, T, {}};
  EXPECT_NEAR(model.conditional_expected_number_of_purchases_up_to_time(39.0, d)[0], 1.2259071754418471, 1e-10);
  EXPECT_NEAR(model.conditional_probability_alive(d)[0], 0.72660919, 1e-8);
  EXPECT_NEAR(model.expected_number_of_purchases_up_to_time(39.0), 1.1950102965072944, 1e-10);
}

template <typename Model>
void check_properties(Model& model) {
  const Cdnow c = cdnow();
  model.fit(c.data());
  const auto alive = model.conditional_probability_alive(c.data());
  for (double p : alive) {
    ASSERT_GE(p, 0.0);
    ASSERT_LE(p, 1.0);
  }
  std::vector<double> previous(c.x.size(), 0.0);
  for (double t : {1.0, 5.0, 39.0, 100.0, 520.0}) {
    const auto e = model.conditional_expected_number_of_purchases_up_to_time(t, c.data());
    for (std::size_t i = 0; i < e.size(); ++i) {
      ASSERT_TRUE(std::isfinite(e[i])) << "customer " << i << " t " << t;
      ASSERT_GE(e[i], previous[i] - 1e-12) << "customer " << i << " t " << t;
    }
    previous = e;
  }
  double prev = 0.0;
  for (double t : {0.5, 1.0, 10.0, 39.0, 200.0}) {
    const double e = model.expected_number_of_purchases_up_to_time(t);
    EXPECT_GT(e, prev);
    prev = e;
  }
  // Gradient of the log-likelihood against central finite differences, away from the optimum
  // where the gradient is not ~0. The likelihood sums thousands of customers, so its rounding
  // (~1e-12 relative, and it differs between SIMD widths) divided by a step of 1e-6 would alone be
  // ~1e-5 of the derivative: a step of 1e-4 keeps both rounding and truncation near 1e-8.
  Eigen::VectorXd grad;
  const Eigen::VectorXd p0 = model.params() * 1.3;
  model.set_params(p0);
  model.log_likelihood(c.data(), &grad);
  EXPECT_GT(grad.norm(), 1.0);
  for (int j = 0; j < p0.size(); ++j) {
    Eigen::VectorXd up = p0, down = p0;
    const double h = 1e-4 * p0[j];
    up[j] += h;
    down[j] -= h;
    model.set_params(up);
    const double f_up = model.log_likelihood(c.data());
    model.set_params(down);
    const double f_down = model.log_likelihood(c.data());
    model.set_params(p0);
    EXPECT_NEAR(grad[j], (f_up - f_down) / (2 * h), 1e-5 * (1.0 + std::abs(grad[j]))) << "parameter " << j;
  }
}

TEST(BetaGeo, Properties) {
  BetaGeo model;
  check_properties(model);
}

TEST(ModifiedBetaGeo, Properties) {
  ModifiedBetaGeo model;
  check_properties(model);
}

TEST(BetaGeo, NoNanForHugeFrequencyAndLongAge) {
  BetaGeo model;
  model.set_params(Eigen::Vector4d(0.2426, 4.4135, 0.7929, 2.4258));
  const std::vector<double> x{300, 1000, 5000, 0, 1}, tx{499, 1999.5, 9999, 0, 1e5}, T{500, 2000, 10000, 1e6, 1e6};
  const ClvData d{x, tx, T, {}};
  for (double p : model.conditional_probability_alive(d)) {
    EXPECT_TRUE(std::isfinite(p));
    EXPECT_GE(p, 0.0);
    EXPECT_LE(p, 1.0);
  }
  for (double t : {1.0, 52.0, 1000.0}) {
    const auto e = model.conditional_expected_number_of_purchases_up_to_time(t, d);
    for (double v : e) {
      EXPECT_TRUE(std::isfinite(v)) << t;
      EXPECT_GE(v, 0.0);
    }
  }
  // A frequent buyer who just bought expects roughly x / T purchases per unit time.
  const auto e = model.conditional_expected_number_of_purchases_up_to_time(1.0, d);
  EXPECT_NEAR(e[0], 300.0 / 500.0, 0.05);
  Eigen::VectorXd grad;
  EXPECT_TRUE(std::isfinite(model.log_likelihood(d, &grad)));
  EXPECT_TRUE(grad.allFinite());
}

/// Customers drawn from BG/NBD with known parameters, observed for T weeks.
Cdnow simulate_bg_nbd(double r, double alpha, double a, double b, std::size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::gamma_distribution<double> lambda_dist(r, 1.0 / alpha);
  std::gamma_distribution<double> ga(a, 1.0), gb(b, 1.0);
  std::uniform_real_distribution<double> unif(0.0, 1.0);
  Cdnow c;
  for (std::size_t i = 0; i < n; ++i) {
    const double lambda = lambda_dist(rng);
    const double u = ga(rng), v = gb(rng);
    const double p = u / (u + v);
    const double T = 20.0 + 20.0 * unif(rng);
    double t = 0.0, last = 0.0, x = 0.0;
    for (;;) {
      t += std::exponential_distribution<double>(lambda)(rng);
      if (t > T) break;
      x += 1.0;
      last = t;
      if (unif(rng) < p) break;  // dies right after this repeat purchase
    }
    c.x.push_back(x);
    c.tx.push_back(last);
    c.T.push_back(T);
  }
  return c;
}

TEST(BetaGeo, RecoversSimulatedParameters) {
  const Cdnow c = simulate_bg_nbd(0.5, 5.0, 0.8, 2.5, 40000, 42);
  BetaGeo model;
  model.fit(c.data());
  const auto& p = model.params();
  const auto& se = model.standard_errors();
  const double truth[] = {0.5, 5.0, 0.8, 2.5};
  for (int j = 0; j < 4; ++j) EXPECT_LT(std::abs(p[j] - truth[j]), 4.0 * se[j]) << j << ": " << p[j] << " se " << se[j];
}

TEST(BetaGeo, ThreadCountDoesNotChangeTheFit) {
  const Cdnow c = simulate_bg_nbd(0.5, 5.0, 0.8, 2.5, 20000, 7);
  ClvFitOptions one;
  one.n_jobs = 1;
  ClvFitOptions two;
  two.n_jobs = 2;
  BetaGeo a(one), b(two);
  a.fit(c.data());
  b.fit(c.data());
  for (int j = 0; j < 4; ++j) EXPECT_EQ(a.params()[j], b.params()[j]);
}

TEST(BetaGeo, PenaltyShrinksParameters) {
  const Cdnow c = cdnow();
  ClvFitOptions options;
  options.penalizer_coef = 0.1;
  BetaGeo plain, penalised(options);
  plain.fit(c.data());
  penalised.fit(c.data());
  EXPECT_LT(penalised.params().squaredNorm(), plain.params().squaredNorm());
  EXPECT_LT(penalised.report().log_likelihood, plain.report().log_likelihood);
}

TEST(BetaGeo, BadInputThrowsNamingTheArgument) {
  BetaGeo model;
  auto expect_error = [&](std::vector<double> x, std::vector<double> tx, std::vector<double> T, const char* name) {
    try {
      model.fit({x, tx, T, {}});
      ADD_FAILURE() << "no exception for " << name;
    } catch (const InvalidArgument& e) {
      EXPECT_NE(std::string(e.what()).find(name), std::string::npos) << e.what();
    }
  };
  expect_error({-1, 1}, {0, 1}, {2, 2}, "frequency");
  expect_error({1.5, 1}, {1, 1}, {2, 2}, "frequency");
  expect_error({1, 1}, {3, 1}, {2, 2}, "recency");
  expect_error({1, 1}, {1, 1}, {0, 2}, "T");
  expect_error({}, {}, {}, "frequency");
  expect_error({0, 0}, {0, 0}, {2, 2}, "frequency");
  expect_error({1, NAN}, {1, 1}, {2, 2}, "frequency");
  expect_error({1, 1}, {1, NAN}, {2, 2}, "recency");
  expect_error({1, 1}, {1, 1}, {2, NAN}, "T");
  expect_error({1, 1}, {1}, {2, 2}, "recency");
  EXPECT_THROW(model.conditional_probability_alive({}), NotFittedError);
}

}  // namespace
}  // namespace crmine
