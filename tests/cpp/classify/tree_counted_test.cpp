// SPDX-License-Identifier: Apache-2.0
// GoogleTests of CART's counted features: summing a node's rows by counting rank codes (histograms,
// sibling subtraction) must grow bit for bit the tree that the ranked lists grow.
#include <crmine/classify.hpp>
#include <crmine/core/random.hpp>

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

namespace crmine {
namespace {

/// A CRM-like table: one-hot indicators of a 5-level variable, a 0/1 flag, a few-valued count, a
/// few-valued column with NaN, category codes with missing ones, a 300-valued column (ranked in a
/// list either way) and a continuous one. Labels depend on most of them.
struct Table {
  RowMatrix X;
  Eigen::VectorXd y;
};
Table make(Eigen::Index n, std::uint64_t seed) {
  Random rng(seed);
  Table t{RowMatrix(n, 11), Eigen::VectorXd(n)};
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (Eigen::Index i = 0; i < n; ++i) {
    const int level = static_cast<int>(rng.below(5));
    for (int l = 0; l < 5; ++l) t.X(i, l) = level == l ? 1.0 : 0.0;
    t.X(i, 5) = rng.uniform() < 0.3 ? 1.0 : 0.0;
    t.X(i, 6) = std::floor(rng.uniform() * 9);
    t.X(i, 7) = rng.uniform() < 0.12 ? nan : std::floor(rng.uniform() * 4) * 0.25;
    t.X(i, 8) = rng.uniform() < 0.08 ? nan : static_cast<double>(rng.below(6));
    t.X(i, 9) = static_cast<double>(rng.below(300));
    t.X(i, 10) = rng.uniform() * 4 - 2;
    const double eta = 0.8 * (level == 1) - 0.6 * (level == 3) + 0.7 * t.X(i, 5) - 0.15 * t.X(i, 6) +
                       (std::isnan(t.X(i, 7)) ? 0.9 : t.X(i, 7)) + (t.X(i, 8) == 2 || t.X(i, 8) == 4 ? 0.8 : 0.0) +
                       std::sin(t.X(i, 9) / 40) + 0.5 * t.X(i, 10);
    t.y[i] = rng.uniform() < 1.0 / (1.0 + std::exp(-eta)) ? 1.0 : 0.0;
  }
  return t;
}

void expect_identical(const detail::CartTree& a, const detail::CartTree& b) {
  ASSERT_EQ(a.nodes.size(), b.nodes.size());
  EXPECT_EQ(a.depth, b.depth);
  EXPECT_EQ(a.saw_missing, b.saw_missing);
  for (std::size_t k = 0; k < a.nodes.size(); ++k) {
    const TreeNode &p = a.nodes[k], &q = b.nodes[k];
    ASSERT_EQ(p.feature, q.feature) << "node " << k;
    ASSERT_EQ(p.threshold, q.threshold) << "node " << k;
    ASSERT_EQ(p.left, q.left) << "node " << k;
    ASSERT_EQ(p.right, q.right) << "node " << k;
    ASSERT_EQ(p.missing_left, q.missing_left) << "node " << k;
    ASSERT_EQ(p.categories, q.categories) << "node " << k;
    // Bitwise, not within rounding: counting must reproduce the row-by-row sums exactly.
    ASSERT_EQ(p.value, q.value) << "node " << k;
    ASSERT_EQ(p.impurity, q.impurity) << "node " << k;
    ASSERT_EQ(p.weight, q.weight) << "node " << k;
    ASSERT_EQ(p.n_samples, q.n_samples) << "node " << k;
  }
  for (Eigen::Index j = 0; j < a.importances.size(); ++j) EXPECT_EQ(a.importances[j], b.importances[j]) << "feature " << j;
}

struct Case {
  detail::CartCriterion criterion;
  double w0, w1;       ///< weight of a row of class 0 / class 1
  int max_depth;
  int min_leaf;
  bool categorical;    ///< column 8 split by category sets
};

TEST(DecisionTreeCounting, GrowsTheTreeOfRankedListsBitForBit) {
  const Table t = make(6000, 3);
  // Unweighted, integer and power-of-two class weights are exact when counted; 0.1 is not, and takes
  // the lists in both fits (the comparison must still hold).
  const std::vector<Case> cases = {
      {detail::CartCriterion::gini, 1, 1, 8, 20, false},     {detail::CartCriterion::gini, 1, 1, -1, 1, true},
      {detail::CartCriterion::entropy, 1, 3, 10, 5, true},   {detail::CartCriterion::gini, 0.5, 1.25, 7, 3, false},
      {detail::CartCriterion::squared_error, 1, 1, 9, 2, true}, {detail::CartCriterion::gini, 1, 0.1, 6, 10, false},
  };
  for (const Case& c : cases)
    for (const int threads : {1, 2}) {
      detail::CartLimits lim;
      lim.criterion = c.criterion;
      lim.max_depth = c.max_depth;
      lim.min_samples_leaf = c.min_leaf;
      lim.n_threads = threads;
      if (c.categorical) lim.categorical_features = {8};
      Eigen::VectorXd w(t.y.size());
      for (Eigen::Index i = 0; i < w.size(); ++i) w[i] = t.y[i] > 0 ? c.w1 : c.w0;
      const detail::CartTree counted = detail::build_cart(t.X, t.y, w, lim);
      lim.count_small_features = false;
      const detail::CartTree listed = detail::build_cart(t.X, t.y, w, lim);
      ASSERT_GT(counted.nodes.size(), 30u);
      SCOPED_TRACE(testing::Message() << "criterion " << static_cast<int>(c.criterion) << ", weights " << c.w0 << "/" << c.w1
                                      << ", depth " << c.max_depth << ", threads " << threads);
      expect_identical(counted, listed);
    }
}

TEST(DecisionTreeCounting, ThreadedCodingAndCountingGiveTheSameTree) {
  // 70,000 x 11: coding takes row ranges on threads (per-thread sets merged, arrivals remapped to
  // ranks) and the root's histogram is counted in row chunks on threads.
  const Table t = make(70000, 21);
  detail::CartLimits lim;
  lim.max_depth = 8;
  lim.min_samples_leaf = 20;
  lim.categorical_features = {8};
  const Eigen::VectorXd w = Eigen::VectorXd::Ones(t.y.size());
  lim.n_threads = 1;
  const detail::CartTree one = detail::build_cart(t.X, t.y, w, lim);
  lim.n_threads = 2;
  const detail::CartTree two = detail::build_cart(t.X, t.y, w, lim);
  lim.count_small_features = false;
  const detail::CartTree listed = detail::build_cart(t.X, t.y, w, lim);
  ASSERT_GT(one.nodes.size(), 100u);
  expect_identical(one, two);
  expect_identical(two, listed);
}

TEST(DecisionTreeCounting, SplitsNodesOnCountedFeaturesWithMissingValuesAndCategories) {
  // A tree on columns 5-8 only (all counted): NaN goes to a learned side and a category set is used.
  const Table t = make(4000, 11);
  const RowMatrix X = t.X.middleCols(5, 4);
  detail::CartLimits lim;
  lim.max_depth = 6;
  lim.categorical_features = {3};
  const detail::CartTree tree = detail::build_cart(X, t.y, Eigen::VectorXd::Ones(t.y.size()), lim);
  EXPECT_TRUE(tree.saw_missing);
  bool category_split = false, nan_split = false;
  for (const TreeNode& node : tree.nodes) {
    category_split |= node.is_categorical();
    nan_split |= node.feature == 2;
  }
  EXPECT_TRUE(category_split);
  EXPECT_TRUE(nan_split);
  lim.count_small_features = false;
  expect_identical(tree, detail::build_cart(X, t.y, Eigen::VectorXd::Ones(t.y.size()), lim));
}

}  // namespace
}  // namespace crmine
