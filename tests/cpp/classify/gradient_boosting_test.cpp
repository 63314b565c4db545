// SPDX-License-Identifier: Apache-2.0
// GoogleTests of GradientBoostingClassifier's training engine: exact bundled histograms, thread invariance.
#include <crmine/classify.hpp>
#include <crmine/core/random.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
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

}  // namespace
}  // namespace crmine
