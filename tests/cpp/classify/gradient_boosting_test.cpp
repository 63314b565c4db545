// SPDX-License-Identifier: Apache-2.0
// GoogleTests of gradient boosting's training engine: exact bundled histograms, thread invariance, depth-wise growth,
// the squared-error regressor.
#include <crmine/classify.hpp>
#include <crmine/core/random.hpp>
#include <crmine/core/serialize.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <sstream>

namespace crmine {
namespace {

/// One-hot columns of two categorical variables (4 and 3 levels), y depending on both, and optionally
/// one numeric column: the shape of CRM tables, where exclusive feature bundling applies.
struct OneHot {
  RowMatrix X;
  Eigen::VectorXi y;
};
OneHot one_hot(Eigen::Index n, std::uint64_t seed, bool numeric) {
  Random rng(seed);
  OneHot d{RowMatrix::Zero(n, numeric ? 8 : 7), Eigen::VectorXi(n)};
  const double effect_a[4] = {-1.0, 0.2, 0.8, -0.3}, effect_b[3] = {0.5, -0.6, 0.0};
  for (Eigen::Index i = 0; i < n; ++i) {
    // Level 0 of A is the most common, so the indicator of level 0 is dense and stays out of bundles.
    const double u = rng.uniform();
    const int a = u < 0.55 ? 0 : u < 0.75 ? 1 : u < 0.9 ? 2 : 3;
    const int b = static_cast<int>(rng.below(3));
    d.X(i, a) = 1.0;
    d.X(i, 4 + b) = 1.0;
    double eta = effect_a[a] + effect_b[b];
    if (numeric) {
      d.X(i, 7) = rng.uniform() * 4 - 2;
      eta += 0.7 * d.X(i, 7);
    }
    d.y[i] = rng.uniform() < 1.0 / (1.0 + std::exp(-eta)) ? 1 : 0;
  }
  return d;
}

TEST(GradientBoostingClassifier, BundledIndicatorsSplitAtTheExactBestGainWithExactLeafValues) {
  // One split of one tree, checked against the second-order gain and leaf values computed here
  // directly from the rows: the bundled histograms (a member's zero bin derived as the leaf total minus
  // its other bins) must reproduce them.
  const OneHot d = one_hot(3000, 5, false);
  GradientBoostingOptions o;
  o.n_estimators = 1;
  o.learning_rate = 1.0;
  o.num_leaves = 2;
  o.min_child_samples = 1;
  o.min_child_weight = 0.0;
  GradientBoostingClassifier m(o);
  m.fit(d.X, d.y);
  const double p0 = d.y.cast<double>().mean(), h = p0 * (1 - p0), init = std::log(p0 / (1 - p0));
  const Eigen::Index n = d.X.rows();
  double G = 0;
  for (Eigen::Index i = 0; i < n; ++i) G += p0 - d.y[i];
  const double H = h * static_cast<double>(n);
  int best = -1;
  double best_gain = 0, gr_best = 0, hr_best = 0;
  for (int k = 0; k < 7; ++k) {
    double gr = 0, hr = 0;
    for (Eigen::Index i = 0; i < n; ++i)
      if (d.X(i, k) == 1.0) gr += p0 - d.y[i], hr += h;
    const double gain = 0.5 * ((G - gr) * (G - gr) / (H - hr) + gr * gr / hr - G * G / H);
    if (gain > best_gain) best = k, best_gain = gain, gr_best = gr, hr_best = hr;
  }
  ASSERT_GE(best, 0);
  EXPECT_NEAR(m.feature_importances()[best], 1.0, 1e-12);
  const Eigen::VectorXd z = m.decision_function(d.X);
  for (Eigen::Index i = 0; i < n; ++i) {
    const double expected = d.X(i, best) == 1.0 ? -gr_best / hr_best : -(G - gr_best) / (H - hr_best);
    ASSERT_NEAR(z[i], init + expected, 1e-9) << "row " << i;
  }
}

TEST(GradientBoostingClassifier, OneHotTablesTrainBitwiseTheSameAtOneAndTwoThreads) {
  // Large enough (40k rows) that histogram building runs in parallel over feature groups.
  const OneHot d = one_hot(40000, 9, true);
  GradientBoostingOptions o;
  o.n_estimators = 15;
  o.subsample = 0.9;
  o.n_threads = 1;
  GradientBoostingClassifier a(o);
  a.fit(d.X, d.y);
  o.n_threads = 2;
  GradientBoostingClassifier b(o);
  b.fit(d.X, d.y);
  std::stringstream sa, sb;
  a.save(sa);
  b.save(sb);
  // Saved options differ in n_threads only; the trees must be identical, so compare the scores.
  EXPECT_EQ(a.decision_function(d.X), b.decision_function(d.X));
  EXPECT_EQ(a.feature_importances(), b.feature_importances());
}

TEST(GradientBoostingClassifier, FitRowsEqualsTheFitOnCopiedRows) {
  // Rows out of order and repeated, with weights: the model is the one fitted on the copied rows.
  const OneHot d = one_hot(5000, 17, true);
  Random rng(4);
  std::vector<Eigen::Index> rows;
  for (Eigen::Index i = d.X.rows() - 1; i >= 0; --i)
    if (rng.uniform() < 0.6) rows.push_back(i);
  rows.push_back(rows[10]);
  Eigen::VectorXd w(d.X.rows());
  for (Eigen::Index i = 0; i < w.size(); ++i) w[i] = 0.5 + rng.uniform();
  const auto m = static_cast<Eigen::Index>(rows.size());
  RowMatrix Xr(m, d.X.cols());
  Eigen::VectorXi yr(m);
  Eigen::VectorXd wr(m);
  for (Eigen::Index k = 0; k < m; ++k) {
    Xr.row(k) = d.X.row(rows[static_cast<std::size_t>(k)]);
    yr[k] = d.y[rows[static_cast<std::size_t>(k)]];
    wr[k] = w[rows[static_cast<std::size_t>(k)]];
  }
  GradientBoostingOptions o;
  o.n_estimators = 10;
  o.colsample_bytree = 0.7;
  o.n_threads = 2;
  GradientBoostingClassifier a(o), b(o);
  a.fit_rows(d.X, d.y, w, rows);
  b.fit(Xr, yr, wr);
  std::stringstream sa, sb;
  a.save(sa);
  b.save(sb);
  EXPECT_EQ(sa.str(), sb.str());
  EXPECT_THROW(a.fit_rows(d.X, d.y, w, std::vector<Eigen::Index>{}), InvalidArgument);
  EXPECT_THROW(a.fit_rows(d.X, d.y, w, std::vector<Eigen::Index>{0, d.X.rows()}), InvalidArgument);
  EXPECT_THROW(a.fit_rows(d.X, d.y.head(10), w, rows), InvalidArgument);
  EXPECT_THROW(a.fit_rows(d.X, d.y, w.head(10), rows), InvalidArgument);
  EXPECT_THROW(a.set_n_threads(-1), InvalidArgument);
}

/// The cuts the binning documents for a column of distinct-or-repeated finite values: midpoints between
/// consecutive distinct values when there are at most max_bins of them, else equal-count positions of
/// the sorted values moved to the midpoint above them (computed here with std::sort).
std::vector<double> reference_cuts(std::vector<double> v, int max_bins) {
  std::sort(v.begin(), v.end());
  std::vector<double> distinct;
  for (const double x : v)
    if (distinct.empty() || x != distinct.back()) distinct.push_back(x);
  std::vector<double> cut;
  if (static_cast<int>(distinct.size()) <= max_bins) {
    for (std::size_t k = 0; k + 1 < distinct.size(); ++k) cut.push_back(0.5 * (distinct[k] + distinct[k + 1]));
    return cut;
  }
  for (int q = 1; q < max_bins; ++q) {
    const double x = v[static_cast<std::size_t>(static_cast<double>(q) * static_cast<double>(v.size()) / max_bins)];
    const auto hi = std::upper_bound(distinct.begin(), distinct.end(), x);
    if (hi == distinct.end()) break;
    if (cut.empty() || 0.5 * (*(hi - 1) + *hi) > cut.back()) cut.push_back(0.5 * (*(hi - 1) + *hi));
  }
  return cut;
}

TEST(GradientBoostingClassifier, SplitsAtTheDocumentedCutsOfFewAndManyDistinctValues) {
  // Column 0: 20k values over 12k distinct ones, signed, of mixed magnitude, with -0.0 and 0.0 (the
  // sorted quantile path); column 1: seven levels with negative and zero codes among them (the
  // few-distinct path). Every threshold of the model must be one of the reference cuts.
  const Eigen::Index n = 20000;
  Random rng(8);
  RowMatrix X(n, 2);
  Eigen::VectorXi y(n);
  const double levels[7] = {-3.5, -0.0, 0.0, 1.0, 2.0, 1e6, -1e-9};
  for (Eigen::Index i = 0; i < n; ++i) {
    const double u = rng.uniform();
    X(i, 0) = i % 5 == 0 ? (i % 2 ? -0.0 : 0.0) : std::round((u - 0.4) * 12000) * (i % 3 ? 1.0 : 1e-7);
    X(i, 1) = levels[rng.below(7)];
    y[i] = rng.uniform() < (X(i, 0) > 0 ? 0.7 : 0.3) + (X(i, 1) > 1.5 ? 0.2 : -0.2) ? 1 : 0;
  }
  GradientBoostingOptions o;
  o.n_estimators = 20;
  o.min_child_samples = 5;
  GradientBoostingClassifier m(o);
  m.fit(X, y);
  std::array<std::vector<double>, 2> cuts;
  for (int j = 0; j < 2; ++j) {
    std::vector<double> col;
    for (Eigen::Index i = 0; i < n; ++i) col.push_back(X(i, j));
    cuts[static_cast<std::size_t>(j)] = reference_cuts(col, o.max_bins);
  }
  ASSERT_EQ(cuts[1].size(), 5u);  // -0.0 and 0.0 are one value
  int splits = 0;
  for (const auto& tree : m.trees())
    for (const TreeNode& t : tree) {
      if (t.feature < 0) continue;
      ++splits;
      const auto& c = cuts[static_cast<std::size_t>(t.feature)];
      EXPECT_NE(std::find(c.begin(), c.end(), t.threshold), c.end()) << "feature " << t.feature << " threshold " << t.threshold;
    }
  EXPECT_GT(splits, 100);
}

/// The score of row i as the plain definition: the initial score plus every tree's leaf, tree 0 first,
/// each tree walked from the root on raw values.
double walked_score(const GradientBoostingClassifier& m, const RowMatrix& X, Eigen::Index i) {
  double z = m.init_score();
  for (const auto& tree : m.trees()) {
    std::size_t k = 0;
    while (tree[k].feature >= 0) {
      const double v = X(i, tree[k].feature);
      k = static_cast<std::size_t>((std::isnan(v) ? tree[k].missing_left : v <= tree[k].threshold) ? tree[k].left : tree[k].right);
    }
    z += tree[k].value;
  }
  return z;
}

TEST(GradientBoostingClassifier, BlockScoringEqualsWalkingEveryTreeBitwise) {
  // NaN in training gives splits that send NaN left and splits that send it right; 90 leaves exceed
  // the 64-leaf bitvectors, so those trees take the walking path; 1001 rows end in a partial block.
  OneHot d = one_hot(4000, 21, true);
  for (Eigen::Index i = 0; i < d.X.rows(); i += 7) d.X(i, 7) = std::numeric_limits<double>::quiet_NaN();
  Random rng(3);
  for (Eigen::Index i = 0; i < d.X.rows(); ++i)
    if (rng.uniform() < 0.1) d.X(i, 7) = rng.uniform() * 4 - 2;  // rows on either side of the cut points
  const RowMatrix scored = d.X.topRows(1001);
  for (const int leaves : {2, 31, 64, 90})
    for (const int threads : {1, 2}) {
      GradientBoostingOptions o;
      o.n_estimators = 20;
      o.num_leaves = leaves;
      o.min_child_samples = 2;
      o.n_threads = threads;
      GradientBoostingClassifier m(o);
      m.fit(d.X, d.y);
      bool nan_left = false, nan_right = false;
      std::size_t most_leaves = 0;
      for (const auto& tree : m.trees()) {
        most_leaves = std::max(most_leaves, (tree.size() + 1) / 2);
        for (const TreeNode& t : tree)
          if (t.feature == 7) (t.missing_left ? nan_left : nan_right) = true;
      }
      EXPECT_TRUE(nan_left && nan_right) << leaves << " leaves";
      EXPECT_EQ(most_leaves, static_cast<std::size_t>(leaves));
      const Eigen::VectorXd z = m.decision_function(scored);
      for (Eigen::Index i = 0; i < scored.rows(); ++i)
        ASSERT_EQ(z[i], walked_score(m, scored, i)) << leaves << " leaves, " << threads << " threads, row " << i;
    }
}

TEST(GradientBoostingClassifier, ValidationLossIsTheLossOfTheFittedModelsPredictions) {
  // Rows outside a tree's sample are scored by walking the tree on raw values (NaN included) while
  // sampled rows take their leaf's value from the row partition; both must agree with predict.
  OneHot d = one_hot(6000, 13, true);
  for (Eigen::Index i = 0; i < d.X.rows(); i += 11) d.X(i, 7) = std::numeric_limits<double>::quiet_NaN();
  GradientBoostingOptions o;
  o.n_estimators = 40;
  o.validation_fraction = 0.25;
  o.subsample = 0.7;
  o.n_iter_no_change = 100;
  GradientBoostingClassifier m(o);
  m.fit(d.X, d.y);
  ASSERT_GE(m.n_trees(), 1);
  // Recompute the validation loss from predictions on the held-out rows.
  const auto valid = stratified_split(d.y, o.validation_fraction, derive_seed(o.seed, 0xEA51));
  const Eigen::VectorXd z = m.decision_function(d.X);
  double loss = 0;
  int nv = 0;
  for (Eigen::Index i = 0; i < d.X.rows(); ++i)
    if (valid[static_cast<std::size_t>(i)]) {
      loss += (z[i] > 0 ? z[i] + std::log1p(std::exp(-z[i])) : std::log1p(std::exp(z[i]))) - d.y[i] * z[i];
      ++nv;
    }
  // The kept model is the best round's, whose loss is entry n_trees - 1.
  EXPECT_NEAR(m.validation_loss()[static_cast<std::size_t>(m.n_trees() - 1)], loss / nv, 1e-12);
}

/// Depth of every node of a tree (root 0).
std::vector<int> node_depths(const std::vector<TreeNode>& tree) {
  std::vector<int> depth(tree.size(), 0);
  for (std::size_t k = 0; k < tree.size(); ++k)
    if (tree[k].feature >= 0) depth[static_cast<std::size_t>(tree[k].left)] = depth[static_cast<std::size_t>(tree[k].right)] = depth[k] + 1;
  return depth;
}

TEST(GradientBoostingClassifier, DepthwiseGrowthSplitsEveryLeafOfADepthBeforeTheNext) {
  // Nodes are numbered as they are made, so depth-wise growth numbers them in non-decreasing depth;
  // 6 leaves are the root's two children split, then the first two of the four grandchildren.
  const OneHot d = one_hot(4000, 17, true);
  GradientBoostingOptions o;
  o.n_estimators = 10;
  o.num_leaves = 6;
  o.growth = GrowthPolicy::depthwise;
  GradientBoostingClassifier m(o);
  m.fit(d.X, d.y);
  for (const auto& tree : m.trees()) {
    ASSERT_EQ(tree.size(), 11u);
    const std::vector<int> depth = node_depths(tree);
    EXPECT_TRUE(std::is_sorted(depth.begin(), depth.end()));
    int leaves_at_3 = 0;
    for (std::size_t k = 0; k < tree.size(); ++k) leaves_at_3 += tree[k].feature < 0 && depth[k] == 3;
    EXPECT_EQ(leaves_at_3, 4);
  }
  // Round trip keeps the policy (schema 2), so a reloaded model refits the same way.
  std::stringstream s;
  m.save(s);
  EXPECT_EQ(GradientBoostingClassifier::load(s).options().growth, GrowthPolicy::depthwise);
}

TEST(GradientBoostingClassifier, SchemaOneRecordsLoadAsLeafwise) {
  // A record as written before the growth policy existed: options without it, one stump.
  ModelWriter w(model_tag("GBMC"), 1);
  const GradientBoostingOptions o;
  w.i32(o.n_estimators), w.f64(o.learning_rate), w.i32(o.num_leaves), w.i32(o.max_depth), w.i32(o.min_child_samples);
  w.f64(o.min_child_weight), w.f64(o.reg_lambda), w.f64(o.min_split_gain), w.f64(o.subsample), w.f64(o.colsample_bytree);
  w.i32(o.max_bins), w.f64(o.validation_fraction), w.i32(o.n_iter_no_change), w.u64(o.seed), w.i32(o.n_threads);
  w.i64(1), w.f64(0.5), w.u64(1), w.u64(3);
  const TreeNode nodes[3] = {{0, 2.0, 1, 2}, {}, {}};
  const double values[3] = {0.0, -1.0, 1.0};
  for (int k = 0; k < 3; ++k) w.i32(nodes[k].feature), w.f64(nodes[k].threshold), w.i32(nodes[k].left), w.i32(nodes[k].right), w.boolean(false), w.f64(values[k]);
  w.f64_vector({1.0}), w.f64_vector({}), w.u64(0);
  std::stringstream s;
  w.finish(s);
  const GradientBoostingClassifier m = GradientBoostingClassifier::load(s);
  EXPECT_EQ(m.options().growth, GrowthPolicy::leafwise);
  const RowMatrix X = (RowMatrix(2, 1) << 1.0, 3.0).finished();
  EXPECT_EQ(m.decision_function(X), Eigen::Vector2d(-0.5, 1.5));
}

TEST(GradientBoostingRegressor, OneStumpSplitsAtTheLeastSquaresCutWithLeafMeans) {
  // Three features of 250 distinct values each get a bin per value, so the stump must find the cut a
  // direct scan finds; 3 x 251 bins also exceed the size at which histograms are filled group by group.
  Random rng(4);
  const Eigen::Index n = 3000, p = 3;
  RowMatrix X(n, p);
  Eigen::VectorXd y(n);
  for (Eigen::Index i = 0; i < n; ++i) {
    for (Eigen::Index j = 0; j < p; ++j) X(i, j) = std::floor(rng.uniform() * 250) / 25;
    y[i] = (X(i, 1) > 6.3 ? 3.0 : -1.0) + 0.5 * X(i, 2) + (rng.uniform() - 0.5) * 2.0;
  }
  GradientBoostingOptions o;
  o.n_estimators = 1;
  o.learning_rate = 1.0;
  o.num_leaves = 2;
  o.min_child_samples = 1;
  o.n_threads = 1;
  GradientBoostingRegressor m(o);
  m.fit(X, y);
  EXPECT_NEAR(m.init_score(), y.mean(), 1e-12);
  // Direct scan: the feature and cut (between distinct sorted values) that minimise the summed squared error.
  const double total = y.sum();
  double best = -1, cut = 0;
  Eigen::Index best_j = -1;
  for (Eigen::Index j = 0; j < p; ++j) {
    std::vector<Eigen::Index> order(static_cast<std::size_t>(n));
    std::iota(order.begin(), order.end(), Eigen::Index{0});
    std::sort(order.begin(), order.end(), [&](Eigen::Index a, Eigen::Index b) { return X(a, j) < X(b, j); });
    double sl = 0;
    for (std::size_t k = 0; k + 1 < order.size(); ++k) {
      sl += y[order[k]];
      if (X(order[k], j) == X(order[k + 1], j)) continue;
      const double nl = static_cast<double>(k + 1), nr = static_cast<double>(n) - nl;
      const double gain = sl * sl / nl + (total - sl) * (total - sl) / nr;
      if (gain > best) best = gain, cut = 0.5 * (X(order[k], j) + X(order[k + 1], j)), best_j = j;
    }
  }
  ASSERT_EQ(m.trees()[0].size(), 3u);
  EXPECT_EQ(m.trees()[0][0].feature, best_j);
  EXPECT_DOUBLE_EQ(m.trees()[0][0].threshold, cut);
  double left_sum = 0, left_n = 0;
  for (Eigen::Index i = 0; i < n; ++i)
    if (X(i, best_j) <= cut) left_sum += y[i], ++left_n;
  const Eigen::VectorXd pred = m.predict(X);
  for (Eigen::Index i = 0; i < n; ++i) {
    const double expected = X(i, best_j) <= cut ? left_sum / left_n : (total - left_sum) / (static_cast<double>(n) - left_n);
    ASSERT_NEAR(pred[i], expected, 1e-9) << "row " << i;
  }
}

TEST(GradientBoostingRegressor, FitsANonlinearTargetThreadInvariantlyAndRoundTrips) {
  const OneHot d = one_hot(10000, 31, true);
  Eigen::VectorXd y(d.X.rows());
  for (Eigen::Index i = 0; i < y.size(); ++i) y[i] = std::sin(2 * d.X(i, 7)) + 2 * d.X(i, 2) - d.X(i, 5) + 0.1 * d.y[i];
  GradientBoostingOptions o;
  o.n_estimators = 60;
  o.subsample = 0.8;
  o.colsample_bytree = 0.9;
  o.validation_fraction = 0.2;
  o.n_iter_no_change = 100;
  o.n_threads = 1;
  GradientBoostingRegressor a(o);
  a.fit(d.X, y);
  o.n_threads = 2;
  GradientBoostingRegressor b(o);
  b.fit(d.X, y);
  EXPECT_EQ(a.predict(d.X), b.predict(d.X));
  // Most of the variance is explained and the validation MSE falls.
  const Eigen::VectorXd r = y - a.predict(d.X);
  const double var = (y.array() - y.mean()).square().mean();
  EXPECT_LT(r.squaredNorm() / static_cast<double>(y.size()), 0.05 * var);
  EXPECT_LT(a.validation_loss().back(), 0.1 * a.validation_loss().front());
  std::stringstream s;
  a.save(s);
  const GradientBoostingRegressor c = GradientBoostingRegressor::load(s);
  EXPECT_EQ(c.predict(d.X), a.predict(d.X));
  // A classifier record is not a regressor record.
  std::stringstream t;
  GradientBoostingOptions oc;
  oc.n_estimators = 2;
  GradientBoostingClassifier(oc).fit(d.X, d.y).save(t);
  EXPECT_THROW(GradientBoostingRegressor::load(t), ModelFormatError);
  Eigen::VectorXd bad = y;
  bad[3] = std::numeric_limits<double>::quiet_NaN();
  EXPECT_THROW(GradientBoostingRegressor(o).fit(d.X, bad), InvalidArgument);
  EXPECT_THROW(GradientBoostingRegressor(o).fit(d.X, y.head(10)), InvalidArgument);
  EXPECT_THROW(GradientBoostingRegressor().predict(d.X), NotFittedError);
}

}  // namespace
}  // namespace crmine
