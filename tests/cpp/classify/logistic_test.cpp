// SPDX-License-Identifier: Apache-2.0
// GoogleTests of LogisticRegression's Newton solver on ill-conditioned designs, where its
// single-precision Hessians and reused Hessians must still reach the exact optimum.
#include <crmine/classify/logistic.hpp>
#include <crmine/core/random.hpp>

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace crmine {
namespace {

/// n rows: x0 ~ N(0,1), x1 = 1000 x N(0,1) + 5000 (badly scaled), x2 = x0 (an exact duplicate);
/// y drawn from a logistic model in x0 and x1.
struct Collinear {
  RowMatrix X;
  Eigen::VectorXi y;
};
Collinear collinear_data(Eigen::Index n, std::uint64_t seed) {
  Random rng(seed);
  Collinear d{RowMatrix(n, 3), Eigen::VectorXi(n)};
  auto normal = [&] { return std::sqrt(-2 * std::log(rng.uniform() + 1e-300)) * std::cos(6.283185307179586 * rng.uniform()); };
  for (Eigen::Index i = 0; i < n; ++i) {
    d.X(i, 0) = normal();
    d.X(i, 1) = 1000.0 * normal() + 5000.0;
    d.X(i, 2) = d.X(i, 0);
    const double eta = -0.3 + 0.8 * d.X(i, 0) - 0.5 * (d.X(i, 1) - 5000.0) / 1000.0;
    d.y[i] = rng.uniform() < 1.0 / (1.0 + std::exp(-eta)) ? 1 : 0;
  }
  return d;
}

TEST(LogisticRegression, UnpenalisedDuplicateColumnConvergesToTheReducedModel) {
  const Collinear d = collinear_data(9000, 11);  // several 2048-row chunks
  LogisticRegressionOptions o;
  o.C = std::numeric_limits<double>::infinity();
  o.standardize = false;
  LogisticRegression full(o);
  full.fit(d.X, d.y);
  ASSERT_TRUE(full.report().converged);
  const RowMatrix reduced_X = d.X.leftCols(2);
  LogisticRegression reduced(o);
  reduced.fit(reduced_X, d.y);
  ASSERT_TRUE(reduced.report().converged);
  // The duplicate splits the reduced model's x0 effect; the fitted probabilities are the same.
  EXPECT_NEAR(full.coef()[0] + full.coef()[2], reduced.coef()[0], 1e-6);
  EXPECT_NEAR(full.coef()[1], reduced.coef()[1], 1e-9);
  EXPECT_LT((full.predict_proba(d.X) - reduced.predict_proba(reduced_X)).cwiseAbs().maxCoeff(), 1e-8);
  // Stationarity of the unpenalised log-likelihood on the raw, badly scaled features.
  const Eigen::VectorXd r = reduced.predict_proba(reduced_X).col(1) - d.y.cast<double>();
  EXPECT_LT(std::abs(r.sum()), 1e-6);
  EXPECT_LT(std::abs(reduced_X.col(0).dot(r)), 1e-6);
  EXPECT_LT(std::abs(reduced_X.col(1).dot(r)), 1e-6 * 5000.0);
}

TEST(LogisticRegression, ElasticNetOnBadlyScaledFeaturesIsThreadInvariant) {
  const Collinear d = collinear_data(9000, 12);
  LogisticRegressionOptions o;
  o.C = 0.05;
  o.l1_ratio = 0.5;
  o.standardize = true;
  o.n_threads = 1;
  LogisticRegression one(o);
  one.fit(d.X, d.y);
  o.n_threads = 2;
  LogisticRegression two(o);
  two.fit(d.X, d.y);
  ASSERT_TRUE(one.report().converged);
  EXPECT_EQ(one.coef(), two.coef());
  EXPECT_EQ(one.intercept(), two.intercept());
  EXPECT_EQ(one.report().n_iter, two.report().n_iter);
}

TEST(LogisticRegression, FusedNarrowPassReachesTheSameOptimumAsTheWidePass) {
  // Three informative columns take the fused pass for narrow designs; padded with 22 constant
  // columns (which an L2 penalty pins at zero) the same problem takes the general pass.
  const Collinear d = collinear_data(9000, 13);
  const RowMatrix narrow_X = d.X.leftCols(2);
  RowMatrix wide_X = RowMatrix::Constant(d.X.rows(), 24, 3.0);
  wide_X.leftCols(2) = narrow_X;
  LogisticRegressionOptions o;
  o.C = 0.5;
  o.tol = 1e-10;
  LogisticRegression narrow(o), wide(o);
  narrow.fit(narrow_X, d.y);
  wide.fit(wide_X, d.y);
  ASSERT_TRUE(narrow.report().converged);
  ASSERT_TRUE(wide.report().converged);
  EXPECT_NEAR(narrow.coef()[0], wide.coef()[0], 1e-9);
  EXPECT_NEAR(narrow.coef()[1], wide.coef()[1], 1e-12);
  EXPECT_NEAR(narrow.intercept(), wide.intercept(), 1e-8);
  EXPECT_EQ(wide.coef().tail(22).cwiseAbs().maxCoeff(), 0.0);
}

}  // namespace
}  // namespace crmine
