// SPDX-License-Identifier: Apache-2.0
// Specification of NPS, CSAT and key-driver analysis.
#include <crmine/campaign/satisfaction.hpp>
#include <crmine/core/errors.hpp>
#include <crmine/core/random.hpp>

#include <gtest/gtest.h>

#include <Eigen/Dense>

#include <cmath>
#include <numeric>
#include <vector>

namespace crmine {
namespace {

std::vector<double> responses(int promoters, int passives, int detractors) {
  std::vector<double> s;
  for (int i = 0; i < promoters; ++i) s.push_back(9 + i % 2);
  for (int i = 0; i < passives; ++i) s.push_back(7 + i % 2);
  for (int i = 0; i < detractors; ++i) s.push_back(i % 7);
  return s;
}

TEST(Nps, CountsClassesAndUsesTheTrinomialVarianceForWald) {
  const auto s = responses(10, 5, 5);
  NpsOptions o;
  o.interval = NpsInterval::wald;
  const NpsTable t = nps(s, {}, 1, o);
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t.promoters[0], 10);
  EXPECT_EQ(t.passives[0], 5);
  EXPECT_EQ(t.detractors[0], 5);
  EXPECT_DOUBLE_EQ(t.nps[0], 25.0);
  // var = (p+ + p- - (p+ - p-)^2) / n = (0.5 + 0.25 - 0.0625) / 20
  const double se = std::sqrt(0.6875 / 20);
  EXPECT_NEAR(t.se[0], 100 * se, 1e-12);
  EXPECT_NEAR(t.lower[0], 100 * (0.25 - 1.959963984540054 * se), 1e-9);
  EXPECT_NEAR(t.upper[0], 100 * (0.25 + 1.959963984540054 * se), 1e-9);
}

TEST(Nps, AdjustedWaldAddsThreePseudoResponses) {
  const auto s = responses(10, 5, 5);
  const NpsTable t = nps(s);  // adjusted Wald is the default
  const double pro = 10.75 / 23, det = 5.75 / 23, c = pro - det;
  const double se = std::sqrt((pro + det - c * c) / 23);
  EXPECT_DOUBLE_EQ(t.nps[0], 25.0);  // the point estimate is not adjusted
  EXPECT_NEAR(t.lower[0], 100 * (c - 1.959963984540054 * se), 1e-9);
  EXPECT_NEAR(t.upper[0], 100 * (c + 1.959963984540054 * se), 1e-9);
}

TEST(Nps, BootstrapIsSeededThreadInvariantAndCloseToWald) {
  const auto s = responses(400, 300, 300);
  NpsOptions o;
  o.interval = NpsInterval::bootstrap;
  o.n_boot = 1000;
  o.seed = 7;
  o.n_jobs = 1;
  const NpsTable one = nps(s, {}, 1, o);
  o.n_jobs = 2;
  const NpsTable two = nps(s, {}, 1, o);
  EXPECT_EQ(one.lower[0], two.lower[0]);
  EXPECT_EQ(one.upper[0], two.upper[0]);
  EXPECT_EQ(one.se[0], two.se[0]);
  o.interval = NpsInterval::wald;
  const NpsTable wald = nps(s, {}, 1, o);
  EXPECT_NEAR(one.se[0], wald.se[0], 0.1 * wald.se[0]);
  EXPECT_NEAR(one.lower[0], wald.lower[0], 1.0);
  EXPECT_NEAR(one.upper[0], wald.upper[0], 1.0);
  o.interval = NpsInterval::bootstrap;
  o.seed = 8;
  EXPECT_NE(nps(s, {}, 1, o).lower[0], one.lower[0]);
}

TEST(Nps, GroupsAreScoredSeparately) {
  const std::vector<double> s = {10, 0, 9, 9, 8, 3};
  const std::vector<std::int32_t> g = {0, 1, 0, 1, 1, 1};
  const NpsTable t = nps(s, g, 2);
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t.n[0], 2);
  EXPECT_DOUBLE_EQ(t.nps[0], 100.0);
  EXPECT_EQ(t.n[1], 4);
  EXPECT_DOUBLE_EQ(t.nps[1], -25.0);
  EXPECT_LE(t.upper[0], 100.0);
}

TEST(Nps, RejectsBadInputNamingTheArgument) {
  const std::vector<double> empty;
  EXPECT_THROW(nps(empty), InvalidArgument);
  const std::vector<double> out = {3, 11};
  try {
    nps(out);
    FAIL();
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("scores: row 1"), std::string::npos) << e.what();
  }
  EXPECT_THROW(nps(std::vector<double>{3, NAN}), InvalidArgument);
  EXPECT_THROW(nps(std::vector<double>{3, 7.5}), InvalidArgument);
  const std::vector<double> s = {1, 2};
  EXPECT_THROW(nps(s, std::vector<std::int32_t>{0, 0}, 2), InvalidArgument);  // group 1 empty
  EXPECT_THROW(nps(s, std::vector<std::int32_t>{0, 5}, 2), InvalidArgument);
  EXPECT_THROW(nps(s, std::vector<std::int32_t>{0}, 1), InvalidArgument);
  NpsOptions o;
  o.confidence = 1.0;
  EXPECT_THROW(nps(s, {}, 1, o), InvalidArgument);
}

TEST(Csat, WilsonIntervalMatchesThePublishedExample) {
  // 8 satisfied of 10 at 95%: the Wilson interval is [0.4902, 0.9433] (scipy.stats.binomtest agrees).
  std::vector<double> r(10, 5.0);
  r[0] = r[1] = 2.0;
  const CsatTable t = csat(r);
  EXPECT_DOUBLE_EQ(t.csat[0], 80.0);
  EXPECT_NEAR(t.lower[0], 49.02, 0.01);
  EXPECT_NEAR(t.upper[0], 94.33, 0.01);
  EXPECT_DOUBLE_EQ(t.mean_rating[0], 4.4);
}

TEST(Csat, RejectsRatingsOutsideTheScale) {
  EXPECT_THROW(csat(std::vector<double>{1, 6}), InvalidArgument);
  EXPECT_THROW(csat(std::vector<double>{1, NAN}), InvalidArgument);
  CsatOptions o;
  o.threshold = 6;
  EXPECT_THROW(csat(std::vector<double>{1, 2}, {}, 1, o), InvalidArgument);
}

/// n responses on p correlated attributes with y = X beta + noise.
void survey(Eigen::Index n, Eigen::Index p, std::uint64_t seed, RowMatrix& X, Eigen::VectorXd& y) {
  Random rng(seed);
  auto normal = [&] {
    const double u1 = 1 - rng.uniform(), u2 = rng.uniform();
    return std::sqrt(-2 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  };
  X.resize(n, p);
  y.resize(n);
  for (Eigen::Index i = 0; i < n; ++i) {
    const double halo = normal();
    y[i] = normal();
    for (Eigen::Index j = 0; j < p; ++j) {
      X(i, j) = 0.6 * halo + normal();
      y[i] += 0.1 * static_cast<double>(j + 1) * X(i, j);
    }
  }
}

/// R^2 of an OLS fit with intercept on the attributes in `mask`, straight from the data.
double ols_r2(const RowMatrix& X, const Eigen::VectorXd& y, std::uint32_t mask) {
  const Eigen::Index n = X.rows();
  std::vector<Eigen::Index> cols;
  for (Eigen::Index j = 0; j < X.cols(); ++j)
    if (mask & (1u << j)) cols.push_back(j);
  Eigen::MatrixXd A(n, static_cast<Eigen::Index>(cols.size()) + 1);
  A.col(0).setOnes();
  for (std::size_t k = 0; k < cols.size(); ++k) A.col(static_cast<Eigen::Index>(k) + 1) = X.col(cols[k]);
  const Eigen::VectorXd b = A.colPivHouseholderQr().solve(y);
  const double ss_res = (y - A * b).squaredNorm();
  const double ss_tot = (y.array() - y.mean()).square().sum();
  return 1 - ss_res / ss_tot;
}

TEST(KeyDrivers, ShapleyEqualsTheShapleyValueOfSubsetRegressions) {
  RowMatrix X;
  Eigen::VectorXd y;
  survey(500, 5, 1, X, y);
  const KeyDrivers k = key_drivers(X, y);
  const int p = 5;
  std::vector<double> r2(1u << p);
  for (std::uint32_t m = 0; m < r2.size(); ++m) r2[m] = m ? ols_r2(X, y, m) : 0.0;
  std::vector<double> fact(p + 1, 1.0);
  for (int i = 1; i <= p; ++i) fact[static_cast<std::size_t>(i)] = fact[static_cast<std::size_t>(i - 1)] * i;
  for (int j = 0; j < p; ++j) {
    double phi = 0;
    for (std::uint32_t m = 0; m < r2.size(); ++m) {
      if (m & (1u << j)) continue;
      const int s = std::popcount(m);
      phi += fact[static_cast<std::size_t>(s)] * fact[static_cast<std::size_t>(p - s - 1)] / fact[p] *
             (r2[m | (1u << j)] - r2[m]);
    }
    EXPECT_NEAR(k.shapley[j], phi, 1e-10) << "attribute " << j;
  }
  EXPECT_NEAR(k.r2, r2.back(), 1e-10);
  EXPECT_NEAR(k.shapley.sum(), k.r2, 1e-12);
  EXPECT_NEAR(k.relative_weights.sum(), k.r2, 1e-12);
  // Conditional dominance at size 0 is the squared correlation; general dominance is its row mean.
  for (int j = 0; j < p; ++j) EXPECT_NEAR(k.conditional_dominance(j, 0), k.correlation[j] * k.correlation[j], 1e-12);
}

TEST(KeyDrivers, UncorrelatedAttributesGetTheirSquaredCorrelations) {
  const RowMatrix R = RowMatrix::Identity(3, 3);
  const Eigen::Vector3d r(0.5, 0.3, -0.2);
  const KeyDrivers k = key_drivers_from_correlation(R, r);
  for (int j = 0; j < 3; ++j) {
    EXPECT_NEAR(k.shapley[j], r[j] * r[j], 1e-14);
    EXPECT_NEAR(k.relative_weights[j], r[j] * r[j], 1e-14);
  }
}

TEST(KeyDrivers, TwoAttributesSplitTheSharedVarianceEqually) {
  RowMatrix R(2, 2);
  R << 1, 0.5, 0.5, 1;
  const Eigen::Vector2d r(0.6, 0.4);
  const KeyDrivers k = key_drivers_from_correlation(R, r);
  const double r2 = (0.36 + 0.16 - 2 * 0.5 * 0.6 * 0.4) / (1 - 0.25);
  EXPECT_NEAR(k.r2, r2, 1e-14);
  EXPECT_NEAR(k.shapley[0], (0.36 + r2 - 0.16) / 2, 1e-14);
  EXPECT_NEAR(k.shapley[1], (0.16 + r2 - 0.36) / 2, 1e-14);
}

TEST(KeyDrivers, ResultDoesNotDependOnTheThreadCount) {
  RowMatrix X;
  Eigen::VectorXd y;
  survey(20000, 12, 2, X, y);
  KeyDriverOptions o;
  o.n_jobs = 1;
  const KeyDrivers a = key_drivers(X, y, o);
  o.n_jobs = 2;
  const KeyDrivers b = key_drivers(X, y, o);
  EXPECT_EQ(a.r2, b.r2);
  for (int j = 0; j < 12; ++j) {
    EXPECT_EQ(a.shapley[j], b.shapley[j]);
    EXPECT_EQ(a.relative_weights[j], b.relative_weights[j]);
  }
  // The planted weights grow with j, and so does the importance.
  for (int j = 1; j < 12; ++j) EXPECT_GT(a.shapley[j], a.shapley[j - 1]);
}

TEST(KeyDrivers, RejectsBadInputNamingTheArgument) {
  RowMatrix X;
  Eigen::VectorXd y;
  survey(50, 3, 3, X, y);
  RowMatrix bad = X;
  bad(4, 1) = NAN;
  try {
    key_drivers(bad, y);
    FAIL();
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("X: row 4, column 1"), std::string::npos) << e.what();
  }
  bad = X;
  bad.col(2).setConstant(3.0);
  try {
    key_drivers(bad, y);
    FAIL();
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("column 2 is constant"), std::string::npos) << e.what();
  }
  bad = X;
  bad.col(2) = 2 * X.col(0) - X.col(1);
  EXPECT_THROW(key_drivers(bad, y), InvalidArgument);
  EXPECT_THROW(key_drivers(X, Eigen::VectorXd::Constant(50, 1.0)), InvalidArgument);
  EXPECT_THROW(key_drivers(X, y.head(10)), InvalidArgument);
  EXPECT_THROW(key_drivers(X.topRows(4), y.head(4)), InvalidArgument);
  KeyDriverOptions o;
  o.max_attributes = 2;
  try {
    key_drivers(X, y, o);
    FAIL();
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("max_attributes"), std::string::npos) << e.what();
  }
  o.shapley = false;  // relative weights alone have no limit
  EXPECT_NEAR(key_drivers(X, y, o).relative_weights.sum(), key_drivers(X, y).r2, 1e-12);
}

}  // namespace
}  // namespace crmine
