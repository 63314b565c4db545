// SPDX-License-Identifier: Apache-2.0
// Specification of the static-covariate models (ParetoNBDCovariates, BetaGeoCovariates): reduction
// to the plain models, recovery of planted effects, exact gradients, saving.
#include <crmine/clv.hpp>
#include <crmine/core/errors.hpp>

#include "clv_test_util.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <sstream>

namespace crmine {
namespace {

TEST(ParetoNBDCovariates, WithoutCovariatesIsThePlainModel) {
  const test::Cdnow c = test::cdnow();
  const RowMatrix none(static_cast<Eigen::Index>(c.x.size()), 0);
  ParetoNBD plain;
  plain.fit(c.data());
  ParetoNBDCovariates cov;
  cov.fit(c.data(), none, none);
  ASSERT_EQ(cov.params().size(), 4);
  for (int j = 0; j < 4; ++j) EXPECT_NEAR(cov.params()[j] / plain.params()[j], 1.0, 1e-6) << j;
  EXPECT_NEAR(cov.report().log_likelihood, plain.report().log_likelihood, 1e-6);
  // At identical parameters the likelihood and the predictions are the plain model's.
  cov.set_params(plain.params(), 0, 0);
  EXPECT_NEAR(cov.log_likelihood(c.data(), none, none), plain.log_likelihood(c.data()), 1e-9);
  const auto a = cov.conditional_probability_alive(c.data(), none, none);
  const auto b = plain.conditional_probability_alive(c.data());
  const auto ea = cov.conditional_expected_number_of_purchases_up_to_time(39.0, c.data(), none, none);
  const auto eb = plain.conditional_expected_number_of_purchases_up_to_time(39.0, c.data());
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i], b[i]);
    EXPECT_EQ(ea[i], eb[i]);
  }
}

struct Simulated {
  test::Cdnow c;
  RowMatrix z_trans, z_life;
};

/// Pareto/NBD customers with alpha_i = alpha_0 exp(-g_t z_t), beta_i = beta_0 exp(-g_l z_l),
/// observed for T in [26, 52] weeks.
Simulated simulate(std::size_t n, std::uint64_t seed) {
  const double r = 0.8, alpha0 = 8.0, s = 0.7, beta0 = 12.0, g_trans = 0.6, g_life = -0.8;
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  std::bernoulli_distribution coin(0.5);
  std::uniform_real_distribution<double> unif(26.0, 52.0);
  Simulated out{{}, RowMatrix(static_cast<Eigen::Index>(n), 1), RowMatrix(static_cast<Eigen::Index>(n), 1)};
  for (std::size_t i = 0; i < n; ++i) {
    const auto row = static_cast<Eigen::Index>(i);
    const double zt = normal(rng), zl = coin(rng) ? 1.0 : 0.0;
    out.z_trans(row, 0) = zt;
    out.z_life(row, 0) = zl;
    const double lambda = std::gamma_distribution<double>(r, 1.0 / (alpha0 * std::exp(-g_trans * zt)))(rng);
    const double mu = std::gamma_distribution<double>(s, 1.0 / (beta0 * std::exp(-g_life * zl)))(rng);
    const double T = unif(rng), death = std::exponential_distribution<double>(mu)(rng);
    const double end = std::min(T, death);
    double t = 0.0, last = 0.0, x = 0.0;
    for (;;) {
      t += std::exponential_distribution<double>(lambda)(rng);
      if (t > end) break;
      x += 1.0;
      last = t;
    }
    out.c.x.push_back(x);
    out.c.tx.push_back(last);
    out.c.T.push_back(T);
  }
  return out;
}

TEST(ParetoNBDCovariates, RecoversPlantedCovariateEffects) {
  const Simulated sim = simulate(6000, 11);
  ParetoNBDCovariates model;
  model.fit(sim.c.data(), sim.z_trans, sim.z_life);
  ASSERT_TRUE(model.report().converged) << model.report().message;
  const auto& p = model.params();
  const auto& se = model.standard_errors();
  const double truth[] = {0.8, 8.0, 0.7, 12.0, 0.6, -0.8};
  for (int j = 0; j < 6; ++j) {
    ASSERT_TRUE(std::isfinite(se[j]) && se[j] > 0.0) << j;
    EXPECT_LT(std::abs(p[j] - truth[j]), 4.0 * se[j]) << "parameter " << j << ": " << p[j] << " se " << se[j];
  }
  // The covariates carry information: the likelihood beats the plain model's.
  ParetoNBD plain;
  plain.fit(sim.c.data());
  EXPECT_GT(model.report().log_likelihood, plain.report().log_likelihood + 10.0);
}

template <typename Model>
void expect_gradient_matches_finite_differences(const Simulated& sim, const Eigen::VectorXd& p0) {
  Model model;
  model.set_params(p0, 1, 1);
  Eigen::VectorXd grad;
  model.log_likelihood(sim.c.data(), sim.z_trans, sim.z_life, &grad);
  for (int j = 0; j < p0.size(); ++j) {
    Eigen::VectorXd up = p0, down = p0;
    const double h = 1e-6 * std::max(1.0, std::abs(p0[j]));
    up[j] += h;
    down[j] -= h;
    model.set_params(up, 1, 1);
    const double f_up = model.log_likelihood(sim.c.data(), sim.z_trans, sim.z_life);
    model.set_params(down, 1, 1);
    const double f_down = model.log_likelihood(sim.c.data(), sim.z_trans, sim.z_life);
    EXPECT_NEAR(grad[j], (f_up - f_down) / (2 * h), 1e-4 * (1.0 + std::abs(grad[j]))) << j;
  }
}

/// Saves, loads, rejects a corrupted copy, and refuses to load as `Other`.
template <typename Model, typename Other>
void expect_round_trip(const Eigen::VectorXd& p) {
  Model model;
  model.set_params(p, 2, 1);
  std::ostringstream out;
  model.save(out);
  std::istringstream in(out.str());
  const Model loaded = Model::load(in);
  EXPECT_EQ(loaded.params(), p);
  EXPECT_EQ(loaded.n_trans(), 2);
  EXPECT_EQ(loaded.n_life(), 1);
  std::string bad = out.str();
  bad[bad.size() / 2] ^= 0x21;
  std::istringstream corrupt(bad);
  EXPECT_THROW(Model::load(corrupt), ModelFormatError);
  std::istringstream as_other(out.str());
  EXPECT_THROW(Other::load(as_other), ModelFormatError);
}

TEST(ParetoNBDCovariates, GradientMatchesFiniteDifferences) {
  Eigen::VectorXd p0(6);
  p0 << 0.7, 9.0, 0.6, 10.0, 0.3, -0.4;
  expect_gradient_matches_finite_differences<ParetoNBDCovariates>(simulate(500, 3), p0);
}

TEST(ParetoNBDCovariates, SavesAndLoads) {
  Eigen::VectorXd p(7);
  p << 0.7, 9.0, 0.6, 10.0, 0.3, -0.4, 0.1;
  expect_round_trip<ParetoNBDCovariates, ParetoNBD>(p);
}

TEST(ParetoNBDCovariates, BadCovariatesThrowNamingTheArgument) {
  const Simulated sim = simulate(50, 5);
  ParetoNBDCovariates model;
  RowMatrix short_z(10, 1);
  short_z.setZero();
  EXPECT_THROW(model.fit(sim.c.data(), short_z, sim.z_life), InvalidArgument);
  RowMatrix nan_z = sim.z_life;
  nan_z(3, 0) = NAN;
  try {
    model.fit(sim.c.data(), sim.z_trans, nan_z);
    ADD_FAILURE() << "no exception";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("z_life"), std::string::npos) << e.what();
  }
  EXPECT_THROW(model.conditional_probability_alive(sim.c.data(), sim.z_trans, sim.z_life), NotFittedError);
  Eigen::VectorXd p(6);
  p << 0.7, 9.0, 0.6, 10.0, 0.3, -0.4;
  model.set_params(p, 1, 1);
  const RowMatrix two(50, 2);
  EXPECT_THROW(model.conditional_probability_alive(sim.c.data(), two, sim.z_life), InvalidArgument);
}

/// BG/NBD customers whose alpha_i = alpha_0 exp(-g_t z_t) and a_i, b_i = a_0, b_0 exp(g_l z_l).
Simulated simulate_bg_nbd(std::size_t n, std::uint64_t seed) {
  const double r = 0.6, alpha0 = 5.0, a0 = 0.9, b0 = 2.5, g_trans = 0.7, g_life = 1.0;
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  std::bernoulli_distribution coin(0.5);
  std::uniform_real_distribution<double> unif(0.0, 1.0);
  Simulated out{{}, RowMatrix(static_cast<Eigen::Index>(n), 1), RowMatrix(static_cast<Eigen::Index>(n), 1)};
  for (std::size_t i = 0; i < n; ++i) {
    const auto row = static_cast<Eigen::Index>(i);
    const double zt = normal(rng), zl = coin(rng) ? 1.0 : 0.0;
    out.z_trans(row, 0) = zt;
    out.z_life(row, 0) = zl;
    const double lambda = std::gamma_distribution<double>(r, 1.0 / (alpha0 * std::exp(-g_trans * zt)))(rng);
    const double scale = std::exp(g_life * zl);
    const double u = std::gamma_distribution<double>(a0 * scale, 1.0)(rng);
    const double v = std::gamma_distribution<double>(b0 * scale, 1.0)(rng);
    const double p = u / (u + v), T = 26.0 + 26.0 * unif(rng);
    double t = 0.0, last = 0.0, x = 0.0;
    for (;;) {
      t += std::exponential_distribution<double>(lambda)(rng);
      if (t > T) break;
      x += 1.0;
      last = t;
      if (unif(rng) < p) break;
    }
    out.c.x.push_back(x);
    out.c.tx.push_back(last);
    out.c.T.push_back(T);
  }
  return out;
}

TEST(BetaGeoCovariates, WithoutCovariatesIsThePlainModel) {
  const test::Cdnow c = test::cdnow();
  const RowMatrix none(static_cast<Eigen::Index>(c.x.size()), 0);
  BetaGeo plain;
  plain.fit(c.data());
  BetaGeoCovariates cov;
  cov.fit(c.data(), none, none);
  ASSERT_EQ(cov.params().size(), 4);
  for (int j = 0; j < 4; ++j) EXPECT_NEAR(cov.params()[j] / plain.params()[j], 1.0, 1e-6) << j;
  EXPECT_NEAR(cov.report().log_likelihood, plain.report().log_likelihood, 1e-6);
  cov.set_params(plain.params(), 0, 0);
  EXPECT_NEAR(cov.log_likelihood(c.data(), none, none), plain.log_likelihood(c.data()), 1e-8);
  const auto a = cov.conditional_probability_alive(c.data(), none, none);
  const auto b = plain.conditional_probability_alive(c.data());
  const auto ea = cov.conditional_expected_number_of_purchases_up_to_time(39.0, c.data(), none, none);
  const auto eb = plain.conditional_expected_number_of_purchases_up_to_time(39.0, c.data());
  const std::vector<double> spend(c.x.size(), 20.0);
  const auto va = customer_lifetime_value(cov, c.data(), none, none, spend);
  const auto vb = customer_lifetime_value(plain, c.data(), spend);
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i], b[i]);
    EXPECT_NEAR(ea[i], eb[i], 1e-12 * (1.0 + eb[i]));
    EXPECT_NEAR(va[i], vb[i], 1e-10 * (1.0 + vb[i]));
  }
  const RowMatrix one_new(1, 0);
  EXPECT_NEAR(cov.expected_number_of_purchases_up_to_time(52.0, one_new, one_new)[0],
              plain.expected_number_of_purchases_up_to_time(52.0), 1e-12);
}

TEST(BetaGeoCovariates, RecoversPlantedCovariateEffects) {
  const Simulated sim = simulate_bg_nbd(8000, 21);
  BetaGeoCovariates model;
  model.fit(sim.c.data(), sim.z_trans, sim.z_life);
  ASSERT_TRUE(model.report().converged) << model.report().message;
  const auto& p = model.params();
  const auto& se = model.standard_errors();
  const double truth[] = {0.6, 5.0, 0.9, 2.5, 0.7, 1.0};
  for (int j = 0; j < 6; ++j) {
    ASSERT_TRUE(std::isfinite(se[j]) && se[j] > 0.0) << j;
    EXPECT_LT(std::abs(p[j] - truth[j]), 4.0 * se[j]) << "parameter " << j << ": " << p[j] << " se " << se[j];
  }
  BetaGeo plain;
  plain.fit(sim.c.data());
  EXPECT_GT(model.report().log_likelihood, plain.report().log_likelihood + 10.0);
  // The purchase coefficient shows in predictions: new customers with z_trans = 1 buy e^0.7
  // times as often early on as those with z_trans = 0 (E[X(t)] ~ r t / alpha_i for small t).
  RowMatrix zt(2, 1), zl(2, 1);
  zt << 0.0, 1.0;
  zl << 0.0, 0.0;
  const auto e = model.expected_number_of_purchases_up_to_time(0.01, zt, zl);
  EXPECT_NEAR(e[1] / e[0], std::exp(p[4]), 1e-3);
}

TEST(BetaGeoCovariates, GradientMatchesFiniteDifferences) {
  Eigen::VectorXd p0(6);
  p0 << 0.7, 4.0, 0.8, 2.0, 0.3, -0.4;
  expect_gradient_matches_finite_differences<BetaGeoCovariates>(simulate_bg_nbd(500, 3), p0);
}

TEST(BetaGeoCovariates, SavesAndLoads) {
  Eigen::VectorXd p(7);
  p << 0.7, 4.0, 0.8, 2.0, 0.3, -0.4, 0.1;
  expect_round_trip<BetaGeoCovariates, ParetoNBDCovariates>(p);
}

TEST(BetaGeoCovariates, BadCovariatesThrowNamingTheArgument) {
  const Simulated sim = simulate_bg_nbd(50, 5);
  BetaGeoCovariates model;
  RowMatrix nan_z = sim.z_trans;
  nan_z(3, 0) = NAN;
  try {
    model.fit(sim.c.data(), nan_z, sim.z_life);
    ADD_FAILURE() << "no exception";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("z_trans"), std::string::npos) << e.what();
  }
  EXPECT_THROW(model.conditional_probability_alive(sim.c.data(), sim.z_trans, sim.z_life), NotFittedError);
  Eigen::VectorXd p(6);
  p << 0.7, 4.0, 0.8, 2.0, 0.3, -0.4;
  model.set_params(p, 1, 1);
  const RowMatrix two(50, 2);
  EXPECT_THROW(model.conditional_probability_alive(sim.c.data(), sim.z_trans, two), InvalidArgument);
  const std::vector<double> spend(49, 1.0);
  EXPECT_THROW(customer_lifetime_value(model, sim.c.data(), sim.z_trans, sim.z_life, spend), InvalidArgument);
}

}  // namespace
}  // namespace crmine
