// SPDX-License-Identifier: Apache-2.0
// GoogleTests of the classify area: reference results, bad input, thread invariance, round trips.
#include <crmine/classify.hpp>
#include <crmine/core/random.hpp>

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <sstream>

namespace crmine {
namespace {

/// n rows, p features N(0,1)-ish, y drawn from a logistic model with coefficients 1, -0.5, 0.25, 0...
struct Data {
  RowMatrix X;
  Eigen::VectorXi y;
};
Data logistic_data(Eigen::Index n, Eigen::Index p, std::uint64_t seed) {
  Random rng(seed);
  Data d{RowMatrix(n, p), Eigen::VectorXi(n)};
  for (Eigen::Index i = 0; i < n; ++i) {
    double eta = -0.5;
    for (Eigen::Index j = 0; j < p; ++j) {
      const double u1 = rng.uniform() + 1e-300, u2 = rng.uniform();
      d.X(i, j) = std::sqrt(-2 * std::log(u1)) * std::cos(6.283185307179586 * u2) * (1.0 + static_cast<double>(j)) + static_cast<double>(j);
      if (j < 3) eta += (j == 0 ? 1.0 : j == 1 ? -0.5 : 0.25) * (d.X(i, j) - static_cast<double>(j)) / (1.0 + static_cast<double>(j));
    }
    d.y[i] = rng.uniform() < 1.0 / (1.0 + std::exp(-eta)) ? 1 : 0;
  }
  return d;
}

/// Gradient of C * sum logloss + (1-l1)/2 |w|^2 on the standardised scale, for optimality checks.
TEST(LogisticRegression, L2SolutionSatisfiesStationarity) {
  const Data d = logistic_data(3000, 5, 7);
  LogisticRegressionOptions o;
  o.C = 0.3;
  o.standardize = false;
  LogisticRegression m(o);
  m.fit(d.X, d.y);
  ASSERT_TRUE(m.report().converged);
  const Eigen::VectorXd p1 = m.predict_proba(d.X).col(1);
  const Eigen::VectorXd r = p1 - d.y.cast<double>();
  const Eigen::VectorXd g = o.C * (d.X.transpose() * r) + m.coef();
  EXPECT_LT(g.cwiseAbs().maxCoeff(), 1e-7);
  EXPECT_LT(std::abs(r.sum()), 1e-7);  // unpenalised intercept
  EXPECT_GT(m.coef()[0], 0.5);
  EXPECT_LT(m.coef()[1], 0.0);
}

TEST(LogisticRegression, L1SolutionSatisfiesSubgradientConditions) {
  const Data d = logistic_data(3000, 6, 11);
  LogisticRegressionOptions o;
  o.C = 0.01;
  o.l1_ratio = 1.0;
  LogisticRegression m(o);
  m.fit(d.X, d.y);
  // Standardised design for the check.
  RowMatrix Z = d.X;
  for (Eigen::Index j = 0; j < Z.cols(); ++j) {
    const double mu = Z.col(j).mean(), sd = std::sqrt((Z.col(j).array() - mu).square().mean());
    Z.col(j) = (Z.col(j).array() - mu) / sd;
  }
  const Eigen::VectorXd r = m.predict_proba(d.X).col(1) - d.y.cast<double>();
  const Eigen::VectorXd g = o.C * (Z.transpose() * r);
  const Eigen::VectorXd& w = m.coef_standardized();
  int zeros = 0;
  for (Eigen::Index j = 0; j < w.size(); ++j) {
    if (w[j] == 0.0) {
      ++zeros;
      EXPECT_LE(std::abs(g[j]), 1.0 + 1e-7);
    } else {
      EXPECT_NEAR(g[j], -std::copysign(1.0, w[j]), 1e-7);
    }
  }
  EXPECT_GE(zeros, 2);  // features 3..5 carry no signal
}

TEST(LogisticRegression, SameModelAtOneAndTwoThreads) {
  const Data d = logistic_data(10000, 8, 3);
  LogisticRegressionOptions o;
  o.l1_ratio = 0.5;
  o.C = 0.05;
  o.n_threads = 1;
  LogisticRegression a(o);
  a.fit(d.X, d.y);
  o.n_threads = 2;
  LogisticRegression b(o);
  b.fit(d.X, d.y);
  std::ostringstream sa, sb;
  a.save(sa);
  b.save(sb);
  EXPECT_EQ(a.coef(), b.coef());
  // The stored options differ in n_threads only; the learned state must be bitwise identical.
  EXPECT_EQ(a.intercept(), b.intercept());
}

TEST(LogisticRegression, SaveLoadRoundTrip) {
  const Data d = logistic_data(500, 3, 5);
  LogisticRegression m;
  m.fit(d.X, d.y);
  m.set_feature_names({"a", "b", "c"});
  std::stringstream s;
  m.save(s);
  auto loaded = load_classifier(s);
  EXPECT_EQ(loaded->predict_proba(d.X), m.predict_proba(d.X));
  std::stringstream s2;
  m.save(s2);
  EXPECT_EQ(LogisticRegression::load(s2).feature_names(), m.feature_names());
}

TEST(LogisticRegression, BadInputThrows) {
  const Data d = logistic_data(100, 3, 5);
  LogisticRegression m;
  EXPECT_THROW(m.predict(d.X), NotFittedError);
  EXPECT_THROW(m.fit(d.X, Eigen::VectorXi::Zero(100)), InvalidArgument);   // one class
  EXPECT_THROW(m.fit(d.X, Eigen::VectorXi::Constant(100, 2)), InvalidArgument);
  RowMatrix bad = d.X;
  bad(3, 1) = std::numeric_limits<double>::quiet_NaN();
  EXPECT_THROW(m.fit(bad, d.y), InvalidArgument);
  m.fit(d.X, d.y);
  EXPECT_THROW(m.predict(RowMatrix::Zero(4, 2)), InvalidArgument);
  LogisticRegressionOptions o;
  o.C = -1;
  EXPECT_THROW(LogisticRegression(o).fit(d.X, d.y), InvalidArgument);
  std::stringstream s;
  m.save(s);
  std::string bytes = s.str();
  bytes[bytes.size() / 2] ^= 0x5A;
  std::istringstream corrupt(bytes);
  EXPECT_THROW(LogisticRegression::load(corrupt), ModelFormatError);
  std::istringstream truncated(s.str().substr(0, s.str().size() - 9));
  EXPECT_THROW(LogisticRegression::load(truncated), ModelFormatError);
}

TEST(LinearRegression, RecoversExactCoefficients) {
  RowMatrix X(50, 2);
  Eigen::VectorXd y(50);
  for (int i = 0; i < 50; ++i) {
    X(i, 0) = i;
    X(i, 1) = (i * 7) % 11;
    y[i] = 3.0 + 2.0 * X(i, 0) - 1.5 * X(i, 1);
  }
  LinearRegression m;
  m.fit(X, y);
  EXPECT_NEAR(m.coef()[0], 2.0, 1e-10);
  EXPECT_NEAR(m.coef()[1], -1.5, 1e-10);
  EXPECT_NEAR(m.intercept(), 3.0, 1e-9);
  LinearRegression ridge({.alpha = 10.0});
  ridge.fit(X, y);
  EXPECT_LT(std::abs(ridge.coef()[1]), 1.5);
  std::stringstream s;
  ridge.save(s);
  EXPECT_EQ(LinearRegression::load(s).predict(X), ridge.predict(X));
}

TEST(DecisionTreeClassifier, LearnsAnAxisAlignedRule) {
  RowMatrix X(400, 2);
  Eigen::VectorXi y(400);
  Random rng(1);
  for (int i = 0; i < 400; ++i) {
    X(i, 0) = rng.uniform();
    X(i, 1) = rng.uniform() < 0.4 ? 1.0 : 0.0;
    y[i] = (X(i, 0) > 0.3 && X(i, 1) == 0.0) ? 1 : 0;
  }
  DecisionTreeClassifier m({.max_depth = 2});
  m.fit(X, y);
  EXPECT_EQ(m.depth(), 2);
  EXPECT_EQ((m.predict(X).array() == y.array()).count(), 400);
  EXPECT_NEAR(m.feature_importances().sum(), 1.0, 1e-12);
  const std::string rules = m.export_rules({"tenure", "Contract=Month"});
  EXPECT_NE(rules.find("tenure > 0."), std::string::npos) << rules;
  EXPECT_NE(rules.find("Contract != Month"), std::string::npos) << rules;
  EXPECT_EQ(rules.find("missing"), std::string::npos) << rules;  // no NaN in training
}

TEST(DecisionTreeClassifier, MissingValuesGoToTheBetterSide) {
  RowMatrix X(200, 1);
  Eigen::VectorXi y(200);
  for (int i = 0; i < 200; ++i) {
    y[i] = i % 2;
    X(i, 0) = i % 4 == 1 ? std::numeric_limits<double>::quiet_NaN() : (y[i] ? 10.0 + i : -double(i));
  }
  DecisionTreeClassifier m({.max_depth = 1});
  m.fit(X, y);
  EXPECT_EQ(m.predict(X), y);
}

TEST(DecisionTreeClassifier, PruningShrinksAndThreadsDoNotMatter) {
  const Data d = logistic_data(6000, 6, 9);
  DecisionTreeOptions o;
  o.n_threads = 1;
  DecisionTreeClassifier full(o);
  full.fit(d.X, d.y);
  o.n_threads = 2;
  DecisionTreeClassifier full2(o);
  full2.fit(d.X, d.y);
  EXPECT_EQ(full.nodes().size(), full2.nodes().size());
  EXPECT_EQ(full.predict_proba(d.X), full2.predict_proba(d.X));
  o.ccp_alpha = 0.002;
  DecisionTreeClassifier pruned(o);
  pruned.fit(d.X, d.y);
  EXPECT_LT(pruned.n_leaves(), full.n_leaves() / 10);
  EXPECT_GE(pruned.n_leaves(), 2);
  std::stringstream s;
  pruned.save(s);
  auto loaded = load_classifier(s);
  EXPECT_EQ(loaded->predict_proba(d.X), pruned.predict_proba(d.X));
}

TEST(DecisionTreeRegressor, FitsAStep) {
  RowMatrix X(100, 1);
  Eigen::VectorXd y(100);
  for (int i = 0; i < 100; ++i) {
    X(i, 0) = i;
    y[i] = i < 40 ? 1.0 : 5.0;
  }
  DecisionTreeRegressor m;
  m.fit(X, y);
  EXPECT_EQ(m.n_leaves(), 2);
  EXPECT_DOUBLE_EQ(m.nodes()[0].threshold, 39.5);
  EXPECT_EQ(m.predict(X), y);
}

TEST(NaiveBayes, MixedFeaturesMatchHandComputedPosterior) {
  RowMatrix X(4, 1);
  X << 0.0, 2.0, 4.0, 6.0;
  RowMatrixXi codes(4, 1);
  codes << 0, 1, 1, 1;
  Eigen::VectorXi y(4);
  y << 0, 0, 1, 1;
  NaiveBayes m({.var_smoothing = 0.0});
  m.fit(X, codes, y, Eigen::VectorXd());
  // Class 0: mean 1, var 1; class 1: mean 5, var 1. Codes (alpha 1, K 2): class 0 {2/4, 2/4}, class 1 {1/4, 3/4}.
  RowMatrix x(1, 1);
  x << 3.0;
  RowMatrixXi c(1, 1);
  c << 1;
  const double p1 = 0.5 * std::exp(-2.0) * 0.75, p0 = 0.5 * std::exp(-2.0) * 0.5;
  EXPECT_NEAR(m.predict_proba(x, c)(0, 1), p1 / (p0 + p1), 1e-12);
  c << 7;  // an unseen code is ignored
  EXPECT_NEAR(m.predict_proba(x, c)(0, 1), 0.5, 1e-12);
  std::stringstream s;
  m.save(s);
  EXPECT_EQ(NaiveBayes::load(s).predict_proba(x, c), m.predict_proba(x, c));
}

TEST(Metrics, AucLiftAndCalibration) {
  Eigen::VectorXi y(6);
  y << 1, 0, 1, 0, 0, 1;
  Eigen::VectorXd s(6);
  s << 0.9, 0.8, 0.7, 0.7, 0.2, 0.1;
  // Pairs (pos, neg): 9 in total; 0.9 beats 3, 0.7 beats 0.2 and ties 0.7, 0.1 beats none.
  EXPECT_NEAR(roc_auc(y, s), (3 + 1.5) / 9.0, 1e-15);
  const LiftTable t = lift_table(y, s, 2);
  EXPECT_EQ(t.responders[0], 2);
  EXPECT_NEAR(t.lift[0], (2.0 / 3) / 0.5, 1e-15);
  EXPECT_NEAR(t.cumulative_gain[1], 1.0, 1e-15);
  const auto c = calibration_table(y, s, 2);
  EXPECT_EQ(c.n[0], 2);
  EXPECT_NEAR(brier_score(y, s), (0.01 + 0.64 + 0.09 + 0.49 + 0.04 + 0.81) / 6, 1e-15);
  const ConfusionMatrix m = confusion_matrix(y, s, 0.5);
  EXPECT_EQ(m.tp, 2);
  EXPECT_EQ(m.fp, 2);
  EXPECT_THROW(roc_auc(Eigen::VectorXi::Ones(6), s), InvalidArgument);
}

TEST(Metrics, StratifiedFoldsAreBalancedAndSeeded) {
  Eigen::VectorXi y(103);
  for (int i = 0; i < 103; ++i) y[i] = i % 5 == 0;
  const Eigen::VectorXi f = stratified_kfold(y, 5, 42);
  EXPECT_EQ(f, stratified_kfold(y, 5, 42));
  EXPECT_NE(f, stratified_kfold(y, 5, 43));
  for (int k = 0; k < 5; ++k) {
    int n = 0, pos = 0;
    for (int i = 0; i < 103; ++i)
      if (f[i] == k) ++n, pos += y[i];
    EXPECT_NEAR(n, 103 / 5.0, 1.0);
    EXPECT_NEAR(pos, 21 / 5.0, 1.0);
  }
}

TEST(Scoring, TopNAndProfitCurve) {
  const Data d = logistic_data(200, 3, 2);
  LogisticRegression m;
  m.fit(d.X, d.y);
  std::vector<std::int64_t> ids(200);
  for (int i = 0; i < 200; ++i) ids[static_cast<std::size_t>(i)] = 1000 + i;
  const Selection s = select_top(m, d.X, ids, 5);
  ASSERT_EQ(s.ids.size(), 5u);
  EXPECT_TRUE(std::is_sorted(s.scores.rbegin(), s.scores.rend()));
  EXPECT_EQ(s.ids[0], 1000 + s.rows[0]);
  Eigen::VectorXd p(4);
  p << 0.1, 0.5, 0.3, 0.05;
  const ProfitCurve c = profit_curve(p, 10.0, 2.0);  // expected gains 3, 1, -1, -1.5
  EXPECT_EQ(c.best_n, 2);
  EXPECT_NEAR(c.best_profit, 4.0, 1e-12);
}

}  // namespace
}  // namespace crmine

namespace crmine {
namespace {

TEST(GradientBoostingClassifier, BeatsASingleTreeAndIsThreadInvariant) {
  const Data d = logistic_data(8000, 6, 21);
  const Data t = logistic_data(4000, 6, 22);
  GradientBoostingOptions o;
  o.n_estimators = 60;
  o.subsample = 0.8;
  o.colsample_bytree = 0.8;
  o.n_threads = 1;
  GradientBoostingClassifier a(o);
  a.fit(d.X, d.y);
  o.n_threads = 2;
  GradientBoostingClassifier b(o);
  b.fit(d.X, d.y);
  EXPECT_EQ(a.predict_proba(t.X), b.predict_proba(t.X));
  DecisionTreeClassifier tree({.max_depth = 4});
  tree.fit(d.X, d.y);
  const double auc_gbm = roc_auc(t.y, a.predict_proba(t.X).col(1)), auc_tree = roc_auc(t.y, tree.predict_proba(t.X).col(1));
  EXPECT_GT(auc_gbm, auc_tree + 0.01);
  std::stringstream s;
  a.save(s);
  auto loaded = load_classifier(s);
  EXPECT_EQ(loaded->predict_proba(t.X), a.predict_proba(t.X));
}

TEST(GradientBoostingClassifier, EarlyStoppingAndMissingValues) {
  Data d = logistic_data(5000, 4, 8);
  for (Eigen::Index i = 0; i < d.X.rows(); i += 7) d.X(i, 0) = std::numeric_limits<double>::quiet_NaN();
  GradientBoostingOptions o;
  o.n_estimators = 1000;
  o.learning_rate = 0.3;
  o.validation_fraction = 0.2;
  GradientBoostingClassifier m(o);
  m.fit(d.X, d.y);
  EXPECT_LT(m.n_trees(), 1000);
  EXPECT_EQ(static_cast<int>(m.validation_loss().size()), m.n_trees() + o.n_iter_no_change);
  EXPECT_TRUE(m.predict_proba(d.X).allFinite());
  o.num_leaves = 1;
  EXPECT_THROW(GradientBoostingClassifier(o).fit(d.X, d.y), InvalidArgument);
}

}  // namespace
}  // namespace crmine
