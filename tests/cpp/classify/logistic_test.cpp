// SPDX-License-Identifier: Apache-2.0
// GoogleTests of LogisticRegression's Newton solver on ill-conditioned designs, where its
// single-precision Hessians and reused Hessians must still reach the exact optimum.
#include <crmine/classify/logistic.hpp>
#include <crmine/core/random.hpp>
#include <crmine/core/serialize.hpp>

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

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

/// Rows of X, y and w picked by `rows`, as a caller without fit_rows would copy them.
struct Picked {
  RowMatrix X;
  Eigen::VectorXi y;
  Eigen::VectorXd w;
};
Picked pick(const RowMatrix& X, const Eigen::VectorXi& y, const Eigen::VectorXd& w, const std::vector<Eigen::Index>& rows) {
  Picked p{RowMatrix(static_cast<Eigen::Index>(rows.size()), X.cols()), Eigen::VectorXi(static_cast<Eigen::Index>(rows.size())),
           Eigen::VectorXd(w.size() ? static_cast<Eigen::Index>(rows.size()) : 0)};
  for (std::size_t r = 0; r < rows.size(); ++r) {
    const auto i = static_cast<Eigen::Index>(r);
    p.X.row(i) = X.row(rows[r]);
    p.y[i] = y[rows[r]];
    if (w.size()) p.w[i] = w[rows[r]];
  }
  return p;
}

TEST(LogisticRegression, FitRowsIsBitForBitTheFitOnCopiedRows) {
  Random rng(21);
  const Eigen::Index n = 12000;
  RowMatrix X(n, 30);  // columns 0-7 take the fused narrow pass, all 30 the wide one
  Eigen::VectorXi y(n);
  Eigen::VectorXd w(n);
  for (Eigen::Index i = 0; i < n; ++i) {
    for (Eigen::Index j = 0; j < X.cols(); ++j) X(i, j) = (rng.uniform() - 0.3) * (1.0 + static_cast<double>(j));
    y[i] = rng.uniform() < 1.0 / (1.0 + std::exp(-(X(i, 0) - 0.5 * X(i, 1) + 0.2 * X(i, 5)))) ? 1 : 0;
    w[i] = 0.5 + rng.uniform();
  }
  std::vector<Eigen::Index> rows;  // unordered, with repeats, over several row chunks
  for (Eigen::Index i = n - 1; i >= 0; i -= 3) rows.push_back(i);
  for (Eigen::Index i = 0; i < 500; ++i) rows.push_back(i * 7);
  struct Case {
    Eigen::Index cols;
    bool standardize, weighted;
    double l1_ratio;
  };
  for (const Case k : {Case{8, true, false, 0.0}, Case{8, false, true, 0.0}, Case{30, true, true, 0.0}, Case{30, true, false, 0.5}}) {
    const RowMatrix Xk = X.leftCols(k.cols);
    const Eigen::VectorXd wk = k.weighted ? w : Eigen::VectorXd();
    const Picked p = pick(Xk, y, wk, rows);
    LogisticRegressionOptions o;
    o.standardize = k.standardize;
    o.l1_ratio = k.l1_ratio;
    o.class_weight = {1.0, 2.0};
    o.n_threads = 2;
    LogisticRegression copied(o), in_place(o);
    copied.fit(p.X, p.y, p.w);
    in_place.fit_rows(Xk, y, wk, rows);
    EXPECT_EQ(in_place.coef(), copied.coef()) << k.cols << " columns";
    EXPECT_EQ(in_place.intercept(), copied.intercept());
    EXPECT_EQ(in_place.report().objective, copied.report().objective);
    EXPECT_EQ(in_place.report().n_iter, copied.report().n_iter);
  }
}

TEST(LogisticRegression, FitRowsChecksOnlyTheSelectedRows) {
  Random rng(22);
  RowMatrix X(300, 2);
  Eigen::VectorXi y(300);
  for (Eigen::Index i = 0; i < 300; ++i) {
    X(i, 0) = rng.uniform();
    X(i, 1) = rng.uniform();
    y[i] = static_cast<int>(i % 2);
  }
  X(5, 1) = std::numeric_limits<double>::quiet_NaN();
  y[7] = 3;
  std::vector<Eigen::Index> rows;
  for (Eigen::Index i = 10; i < 300; ++i) rows.push_back(i);
  LogisticRegression m;
  EXPECT_NO_THROW(m.fit_rows(X, y, Eigen::VectorXd(), rows));  // row 5's NaN and row 7's label are not used
  for (const bool standardize : {true, false}) {
    LogisticRegressionOptions o;
    o.standardize = standardize;
    LogisticRegression s(o);
    rows.push_back(5);
    try {
      s.fit_rows(X, y, Eigen::VectorXd(), rows);
      ADD_FAILURE() << "a NaN in a selected row must be rejected";
    } catch (const InvalidArgument& e) {
      EXPECT_NE(std::string(e.what()).find("NaN at row 5, column 1"), std::string::npos) << e.what();
    }
    rows.pop_back();
  }
  EXPECT_THROW(m.fit_rows(X, y, Eigen::VectorXd(), std::vector<Eigen::Index>{10, 300}), InvalidArgument);
  EXPECT_THROW(m.fit_rows(X, y, Eigen::VectorXd(), std::vector<Eigen::Index>{}), InvalidArgument);
  EXPECT_THROW(m.fit_rows(X, y, Eigen::VectorXd(), std::vector<Eigen::Index>{7, 8, 9}), InvalidArgument);  // label 3
  EXPECT_THROW(m.fit_rows(X, y, Eigen::VectorXd(), std::vector<Eigen::Index>{10, 12, 14}), InvalidArgument);  // one class
  EXPECT_THROW(m.fit_rows(X, y.head(299), Eigen::VectorXd(), rows), InvalidArgument);
  // The whole-matrix fit still rejects NaN and infinity, whichever pass finds them.
  EXPECT_THROW(m.fit(X, y.cwiseMin(1)), InvalidArgument);
  X(5, 1) = std::numeric_limits<double>::infinity();
  EXPECT_THROW(m.fit(X, y.cwiseMin(1)), InvalidArgument);
}

/// n rows of four features on different scales and a logistic response; with `sorted` the rows
/// are ordered by x0 (as a table sorted by a column arrives), which a subsample must not follow.
struct Large {
  RowMatrix X;
  Eigen::VectorXi y;
  Eigen::VectorXd w;
};
Large large_data(Eigen::Index n, std::uint64_t seed, bool sorted) {
  Random rng(seed);
  Large d{RowMatrix(n, 4), Eigen::VectorXi(n), Eigen::VectorXd(n)};
  for (Eigen::Index i = 0; i < n; ++i) {
    const double u = sorted ? (static_cast<double>(i) + 0.5) / static_cast<double>(n) : rng.uniform();
    d.X(i, 0) = 4.0 * u - 2.0;
    d.X(i, 1) = 100.0 * rng.uniform() + 50.0;
    d.X(i, 2) = rng.uniform() < 0.3 ? 1.0 : 0.0;
    d.X(i, 3) = rng.uniform() - 0.5;  // no effect: L1 removes it
    const double eta = -1.0 + 0.9 * d.X(i, 0) - 0.01 * (d.X(i, 1) - 100.0) + 0.6 * d.X(i, 2);
    d.y[i] = rng.uniform() < 1.0 / (1.0 + std::exp(-eta)) ? 1 : 0;
    d.w[i] = 0.25 + 1.5 * rng.uniform();
  }
  return d;
}

TEST(LogisticRegression, SubsampleWarmStartReachesTheColdStartOptimum) {
  // 120,000 rows: above the size from which the fit starts from a subsample's optimum. With and
  // without that warm start both fits meet the same stopping rule on all rows, so they agree to
  // within its tolerance; the warm start needs fewer Newton iterations on all rows.
  struct Case {
    const char* name;
    double C, l1_ratio;
    bool weighted, sorted;
  };
  for (const Case k : {Case{"L2", 1.0, 0.0, false, false}, Case{"L2 weighted", 0.01, 0.0, true, false},
                       Case{"L1", 1e-3, 1.0, false, false}, Case{"elastic net weighted", 1e-4, 0.5, true, false},
                       Case{"L2, rows sorted by x0", 1.0, 0.0, false, true}, Case{"unpenalised", HUGE_VAL, 0.0, false, false}}) {
    const Large d = large_data(120000, 31, k.sorted);
    const Eigen::VectorXd w = k.weighted ? d.w : Eigen::VectorXd();
    LogisticRegressionOptions o;
    o.C = k.C;
    o.l1_ratio = k.l1_ratio;
    if (k.weighted) o.class_weight = {1.0, 3.0};
    o.n_threads = 2;
    LogisticRegression warm(o);
    warm.fit(d.X, d.y, w);
    o.subsample_warm_start = false;
    LogisticRegression cold(o);
    cold.fit(d.X, d.y, w);
    ASSERT_TRUE(warm.report().converged) << k.name;
    ASSERT_TRUE(cold.report().converged) << k.name;
    EXPECT_LT(warm.report().n_iter, cold.report().n_iter) << k.name;
    const double scale = 1.0 + cold.coef_standardized().cwiseAbs().maxCoeff();
    for (Eigen::Index j = 0; j < 4; ++j) EXPECT_NEAR(warm.coef_standardized()[j], cold.coef_standardized()[j], 1e-7 * scale) << k.name << ", coefficient " << j;
    EXPECT_NEAR(warm.intercept(), cold.intercept(), 1e-7 * (1.0 + std::abs(cold.intercept()))) << k.name;
    EXPECT_NEAR(warm.report().objective, cold.report().objective, 1e-12 * cold.report().objective) << k.name;
    if (k.l1_ratio == 1.0) {  // the same coefficient, and only that one, is exactly zero
      EXPECT_EQ(cold.coef()[3], 0.0);
      EXPECT_EQ(warm.coef()[3], 0.0);
      EXPECT_NE(warm.coef()[1], 0.0);
      EXPECT_NE(warm.coef()[2], 0.0);
    }
  }
}

TEST(LogisticRegression, SubsampleWarmStartIsThreadInvariant) {
  const Large d = large_data(110000, 32, false);
  for (const double l1_ratio : {0.0, 0.5}) {
    LogisticRegressionOptions o;
    o.C = 1e-3;
    o.l1_ratio = l1_ratio;
    o.n_threads = 1;
    LogisticRegression one(o);
    one.fit(d.X, d.y, d.w);
    o.n_threads = 2;
    LogisticRegression two(o);
    two.fit(d.X, d.y, d.w);
    std::vector<Eigen::Index> rows;  // fit_rows gathers the rows first: the same warm start
    for (Eigen::Index i = 0; i < d.X.rows(); ++i) rows.push_back(i);
    o.n_threads = 3;
    LogisticRegression three(o);
    three.fit_rows(d.X, d.y, d.w, rows);
    EXPECT_EQ(one.coef(), two.coef()) << l1_ratio;
    EXPECT_EQ(one.intercept(), two.intercept());
    EXPECT_EQ(one.report().n_iter, two.report().n_iter);
    EXPECT_EQ(one.coef(), three.coef()) << l1_ratio;
    EXPECT_EQ(one.report().objective, three.report().objective);
  }
}

TEST(LogisticRegression, ModelRecordKeepsTheWarmStartOptionAndReadsSchemaOne) {
  const Collinear d = collinear_data(500, 33);
  LogisticRegressionOptions o;
  o.C = 0.5;
  o.subsample_warm_start = false;
  LogisticRegression m(o);
  m.fit(d.X.leftCols(2), d.y);
  std::stringstream s;
  m.save(s);
  const LogisticRegression back = LogisticRegression::load(s);
  EXPECT_FALSE(back.options().subsample_warm_start);
  EXPECT_EQ(back.coef(), m.coef());
  // A record written before the option existed (schema 1) loads with the option's default.
  ModelWriter w(model_tag("LOGR"), 1);
  w.f64(0.5), w.f64(0.0), w.boolean(true), w.boolean(true), w.f64(1.0), w.f64(1.0), w.i32(100), w.f64(1e-8), w.i32(0);
  w.f64_vector({0.75, -0.25}), w.f64_vector({0.7, -0.2}), w.f64(0.125), w.i32(5), w.boolean(true), w.f64(42.0), w.u64(0);
  std::stringstream old;
  w.finish(old);
  const LogisticRegression legacy = LogisticRegression::load(old);
  EXPECT_TRUE(legacy.options().subsample_warm_start);
  EXPECT_EQ(legacy.options().C, 0.5);
  EXPECT_EQ(legacy.coef(), Eigen::Vector2d(0.75, -0.25));
  EXPECT_EQ(legacy.intercept(), 0.125);
  EXPECT_EQ(legacy.report().n_iter, 5);
  const RowMatrix X = (RowMatrix(1, 2) << 2.0, 4.0).finished();
  EXPECT_DOUBLE_EQ(legacy.decision_function(X)[0], 0.75 * 2.0 - 0.25 * 4.0 + 0.125);
}

}  // namespace
}  // namespace crmine
