// SPDX-License-Identifier: Apache-2.0
// GoogleTests of MLPClassifier and MLPRegressor: reference optima, non-linear fits, early stopping,
// thread invariance, round trips, bad input.
#include <crmine/classify.hpp>
#include <crmine/core/random.hpp>

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <sstream>
#include <string>

namespace crmine {
namespace {

double normal(Random& rng) {
  const double u1 = rng.uniform() + 1e-300, u2 = rng.uniform();
  return std::sqrt(-2 * std::log(u1)) * std::cos(6.283185307179586 * u2);
}

/// Two features, label = XOR of their signs (no linear model separates it).
void xor_data(Eigen::Index n, std::uint64_t seed, RowMatrix& X, Eigen::VectorXi& y) {
  Random rng(seed);
  X.resize(n, 2);
  y.resize(n);
  for (Eigen::Index i = 0; i < n; ++i) {
    X(i, 0) = 2 * rng.uniform() - 1;
    X(i, 1) = 2 * rng.uniform() - 1;
    y[i] = (X(i, 0) > 0) != (X(i, 1) > 0) ? 1 : 0;
  }
}

template <typename Model>
std::string bytes_of(const Model& m) {
  std::ostringstream out;
  m.save(out);
  return out.str();
}

double accuracy(const Eigen::VectorXi& a, const Eigen::VectorXi& b) { return (a.array() == b.array()).cast<double>().mean(); }

TEST(MLPRegressor, IdentityActivationReachesTheLeastSquaresFit) {
  // A network of identity units is a linear map, so without a penalty its optimum is OLS.
  Random rng(3);
  const Eigen::Index n = 400;
  RowMatrix X(n, 3);
  Eigen::VectorXd y(n);
  for (Eigen::Index i = 0; i < n; ++i) {
    for (Eigen::Index j = 0; j < 3; ++j) X(i, j) = normal(rng) * (1.0 + static_cast<double>(j)) + 5.0;
    y[i] = 2.0 * X(i, 0) - 1.0 * X(i, 1) + 0.5 * X(i, 2) + 3.0 + 0.1 * normal(rng);
  }
  LinearRegression ols;
  ols.fit(X, y);
  MLPOptions o;
  o.hidden_layer_sizes = {4};
  o.activation = MLPActivation::identity;
  o.alpha = 0.0;
  o.learning_rate_init = 0.01;
  o.max_iter = 400;
  o.tol = 0.0;
  o.n_iter_no_change = 1000;
  MLPRegressor m(o);
  m.fit(X, y);
  const Eigen::VectorXd diff = m.predict(X) - ols.predict(X);
  EXPECT_LT(diff.cwiseAbs().maxCoeff(), 0.05);
  EXPECT_EQ(m.report().n_iter, 400);
  EXPECT_FALSE(m.report().converged);
}

TEST(MLPClassifier, IdentityActivationReachesTheLogisticRegressionFit) {
  const Eigen::Index n = 600;
  Random rng(5);
  RowMatrix X(n, 2);
  Eigen::VectorXi y(n);
  for (Eigen::Index i = 0; i < n; ++i) {
    X(i, 0) = normal(rng);
    X(i, 1) = 3 * normal(rng) + 1;
    y[i] = rng.uniform() < 1 / (1 + std::exp(-(1.5 * X(i, 0) - 0.3 * X(i, 1)))) ? 1 : 0;
  }
  LogisticRegressionOptions lo;
  lo.C = std::numeric_limits<double>::infinity();
  LogisticRegression logistic(lo);
  logistic.fit(X, y);
  MLPOptions o;
  o.hidden_layer_sizes = {3};
  o.activation = MLPActivation::identity;
  o.alpha = 0.0;
  o.learning_rate_init = 0.01;
  o.max_iter = 300;
  o.tol = 0.0;
  o.n_iter_no_change = 1000;
  MLPClassifier m(o);
  m.fit(X, y);
  const Eigen::VectorXd diff = m.predict_proba(X).col(1) - logistic.predict_proba(X).col(1);
  EXPECT_LT(diff.cwiseAbs().maxCoeff(), 0.01);
}

TEST(MLPClassifier, LearnsXorWithOneOrTwoHiddenLayers) {
  RowMatrix X, Xt;
  Eigen::VectorXi y, yt;
  xor_data(1000, 1, X, y);
  xor_data(500, 2, Xt, yt);
  for (const std::vector<int>& layers : {std::vector<int>{16}, std::vector<int>{16, 8}}) {
    MLPOptions o;
    o.hidden_layer_sizes = layers;
    o.learning_rate_init = 0.01;
    o.max_iter = 300;
    MLPClassifier m(o);
    m.fit(X, y);
    EXPECT_GT(accuracy(m.predict(Xt), yt), 0.95) << layers.size() << " hidden layers";
    const RowMatrix P = m.predict_proba(Xt);
    EXPECT_EQ(P.cols(), 2);
    EXPECT_LT((P.rowwise().sum().array() - 1).abs().maxCoeff(), 1e-12);
    EXPECT_EQ(m.network().coefs.size(), layers.size() + 1);
  }
}

TEST(MLPClassifier, SoftmaxSeparatesThreeClasses) {
  Random rng(9);
  const Eigen::Index n = 900;
  RowMatrix X(n, 2);
  Eigen::VectorXi y(n);
  const double centre[3][2] = {{0, 3}, {3, -2}, {-3, -2}};
  for (Eigen::Index i = 0; i < n; ++i) {
    y[i] = static_cast<int>(i % 3);
    X(i, 0) = centre[y[i]][0] + normal(rng);
    X(i, 1) = centre[y[i]][1] + normal(rng);
  }
  for (const MLPActivation a : {MLPActivation::relu, MLPActivation::tanh, MLPActivation::logistic}) {
    MLPOptions o;
    o.hidden_layer_sizes = {10};
    o.activation = a;
    o.learning_rate_init = 0.01;
    o.max_iter = 200;
    MLPClassifier m(o);
    m.fit(X, y);
    EXPECT_EQ(m.n_classes(), 3);
    const RowMatrix P = m.predict_proba(X);
    ASSERT_EQ(P.cols(), 3);
    EXPECT_LT((P.rowwise().sum().array() - 1).abs().maxCoeff(), 1e-12);
    EXPECT_GT(accuracy(m.predict(X), y), 0.95) << static_cast<int>(a);
  }
}

TEST(MLPClassifier, EarlyStoppingKeepsTheBestEpoch) {
  RowMatrix X;
  Eigen::VectorXi y;
  xor_data(2000, 4, X, y);
  MLPOptions o;
  o.hidden_layer_sizes = {8};
  o.early_stopping = true;
  o.max_iter = 500;
  o.learning_rate_init = 0.01;
  MLPClassifier m(o);
  m.fit(X, y);
  const auto& net = m.network();
  ASSERT_TRUE(m.report().converged);
  ASSERT_EQ(net.validation_scores.size(), static_cast<std::size_t>(m.report().n_iter));
  EXPECT_LT(m.report().n_iter, 500);
  double best = -1;
  for (double s : net.validation_scores) best = std::max(best, s);
  EXPECT_EQ(net.best_validation_score, best);
  // Stopped after more than n_iter_no_change epochs without beating the best by tol.
  EXPECT_GT(net.validation_scores.size(), static_cast<std::size_t>(o.n_iter_no_change));
}

TEST(MLPClassifier, SameBytesAtOneAndTwoThreadsAndSameSeed) {
  RowMatrix X;
  Eigen::VectorXi y;
  xor_data(1500, 6, X, y);
  MLPOptions o;
  o.hidden_layer_sizes = {64, 32};
  o.batch_size = 1000;  // 16 chunks and enough work per step to use both threads
  o.max_iter = 15;
  o.early_stopping = true;
  o.seed = 77;
  o.n_threads = 1;
  MLPClassifier one(o);
  one.fit(X, y);
  o.n_threads = 2;
  MLPClassifier two(o);
  two.fit(X, y);
  EXPECT_EQ(bytes_of(one), bytes_of(two));  // n_threads is not part of the file
  EXPECT_EQ(one.predict_proba(X), two.predict_proba(X));
  o.n_threads = 1;
  MLPClassifier again(o);
  again.fit(X, y);
  EXPECT_EQ(bytes_of(one), bytes_of(again));
  o.seed = 78;
  MLPClassifier other(o);
  other.fit(X, y);
  EXPECT_NE(bytes_of(one), bytes_of(other));
}

TEST(MLPRegressor, SameModelAtOneAndTwoThreadsAndRoundTrip) {
  Random rng(12);
  const Eigen::Index n = 3000;
  RowMatrix X(n, 5);
  Eigen::VectorXd y(n);
  for (Eigen::Index i = 0; i < n; ++i) {
    for (Eigen::Index j = 0; j < 5; ++j) X(i, j) = normal(rng);
    y[i] = std::sin(2 * X(i, 0)) + X(i, 1) + 0.1 * normal(rng);
  }
  MLPOptions o;
  o.hidden_layer_sizes = {200};
  o.activation = MLPActivation::tanh;
  o.max_iter = 12;
  o.learning_rate_init = 0.02;
  o.batch_size = 1500;  // 24 chunks, 40 x 1500 row-parameters: steps are split over threads
  o.n_threads = 1;
  MLPRegressor one(o);
  one.fit(X, y);
  o.n_threads = 2;
  MLPRegressor two(o);
  two.fit(X, y);
  EXPECT_EQ(one.network().coefs[0], two.network().coefs[0]);
  EXPECT_EQ(one.predict(X), two.predict(X));
  const double r2 = 1 - (one.predict(X) - y).squaredNorm() / (y.array() - y.mean()).square().sum();
  EXPECT_GT(r2, 0.7) << r2;  // the best linear fit explains 1 / (1 + var sin(2x) + 0.01) ≈ 0.66

  std::istringstream in(bytes_of(one));
  const MLPRegressor back = MLPRegressor::load(in);
  EXPECT_EQ(back.predict(X), one.predict(X));
  EXPECT_EQ(back.network().loss_curve, one.network().loss_curve);
  EXPECT_EQ(bytes_of(back), bytes_of(one));
}

TEST(MLPClassifier, SaveLoadAndFactoryRoundTrip) {
  RowMatrix X;
  Eigen::VectorXi y;
  xor_data(300, 8, X, y);
  MLPOptions o;
  o.hidden_layer_sizes = {8};
  o.max_iter = 20;
  MLPClassifier m(o);
  m.fit(X, y);
  m.set_feature_names({"recency", "frequency"});
  const std::string bytes = bytes_of(m);
  std::istringstream in(bytes);
  const auto loaded = load_classifier(in);
  EXPECT_EQ(loaded->predict_proba(X), m.predict_proba(X));
  std::istringstream in2(bytes);
  const MLPClassifier back = MLPClassifier::load(in2);
  EXPECT_EQ(back.feature_names(), m.feature_names());
  EXPECT_EQ(back.options().hidden_layer_sizes, o.hidden_layer_sizes);

  std::string corrupt = bytes;
  corrupt[corrupt.size() / 2] = static_cast<char>(corrupt[corrupt.size() / 2] ^ 0x5A);
  std::istringstream bad(corrupt);
  EXPECT_THROW(MLPClassifier::load(bad), ModelFormatError);
  std::istringstream truncated(bytes.substr(0, bytes.size() - 9));
  EXPECT_THROW(MLPClassifier::load(truncated), ModelFormatError);
  std::istringstream wrong(bytes);
  EXPECT_THROW(MLPRegressor::load(wrong), ModelFormatError);
}

TEST(MLPClassifier, WarmStartContinuesFromTheFittedWeights) {
  RowMatrix X;
  Eigen::VectorXi y;
  xor_data(600, 10, X, y);
  MLPOptions o;
  o.hidden_layer_sizes = {16};
  o.learning_rate_init = 0.01;
  o.max_iter = 5;
  o.warm_start = true;
  MLPClassifier m(o);
  m.fit(X, y);
  const double first = m.network().loss_curve.front();
  m.fit(X, y);
  // A cold start begins near log(2); a warm one begins where the first fit ended.
  EXPECT_LT(m.network().loss_curve.front(), first - 0.05);
}

TEST(MLPClassifier, BadInputThrows) {
  RowMatrix X;
  Eigen::VectorXi y;
  xor_data(50, 11, X, y);
  MLPClassifier m;
  EXPECT_THROW(m.predict(X), NotFittedError);
  MLPOptions o;
  o.hidden_layer_sizes = {};
  EXPECT_THROW(MLPClassifier(o).fit(X, y), InvalidArgument);
  o.hidden_layer_sizes = {4, 0};
  EXPECT_THROW(MLPClassifier(o).fit(X, y), InvalidArgument);
  o = MLPOptions{};
  o.learning_rate_init = 0;
  EXPECT_THROW(MLPClassifier(o).fit(X, y), InvalidArgument);
  o = MLPOptions{};
  o.early_stopping = true;
  o.validation_fraction = 0.01;  // 1 validation row out of 50
  EXPECT_THROW(MLPClassifier(o).fit(X, y), InvalidArgument);

  o = MLPOptions{};
  o.max_iter = 2;
  MLPClassifier small(o);
  RowMatrix Xn = X;
  Xn(3, 1) = std::nan("");
  try {
    small.fit(Xn, y);
    FAIL() << "NaN accepted";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("column 1"), std::string::npos) << e.what();
  }
  Eigen::VectorXi one_class = Eigen::VectorXi::Zero(50);
  EXPECT_THROW(small.fit(X, one_class), InvalidArgument);
  Eigen::VectorXi gap = y;
  gap[0] = 3;  // classes 0, 1, 3: class 2 never occurs
  EXPECT_THROW(small.fit(X, gap), InvalidArgument);
  small.fit(X, y);
  EXPECT_THROW(small.predict(RowMatrix::Zero(3, 3)), InvalidArgument);
  MLPRegressor reg(o);
  Eigen::VectorXd target = Eigen::VectorXd::Ones(49);
  EXPECT_THROW(reg.fit(X, target), InvalidArgument);
}

}  // namespace
}  // namespace crmine
