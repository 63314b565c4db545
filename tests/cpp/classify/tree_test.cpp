// SPDX-License-Identifier: Apache-2.0
// GoogleTests of CART growth on presorted rows: the splits of sorting every node, at any thread count.
#include <crmine/classify.hpp>
#include <crmine/core/errors.hpp>
#include <crmine/core/random.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>
#include <vector>

namespace crmine {
namespace {

/// The textbook CART search, written independently: sort each node's (value, row) pairs for every
/// feature, try every midpoint with NaN on either side (Gini). The fitted split must be one of the
/// best: indicators of one variable can tie exactly, and which of them rounding favours is open.
struct Reference {
  const RowMatrix& X;
  const Eigen::VectorXi& y;
  const Eigen::VectorXd& w;
  DecisionTreeOptions o;

  static double gini_mass(double sw, double swy) { return sw > 0 ? sw * 2.0 * (swy / sw) * (1.0 - swy / sw) : 0.0; }

  /// Checks that the fitted subtree at `k` splits `rows` as the search would.
  void expect_same(const std::vector<TreeNode>& nodes, std::int32_t k, const std::vector<Eigen::Index>& rows, int depth) const {
    const TreeNode& t = nodes[static_cast<std::size_t>(k)];
    double sw = 0, swy = 0;
    for (const Eigen::Index i : rows) sw += w[i], swy += w[i] * y[i];
    ASSERT_EQ(t.n_samples, static_cast<std::int64_t>(rows.size()));
    ASSERT_NEAR(t.value, swy / sw, 1e-12);
    double best = -std::numeric_limits<double>::infinity(), chosen = best;
    const bool may_split = (o.max_depth < 0 || depth < o.max_depth) && static_cast<int>(rows.size()) >= o.min_samples_split &&
                           static_cast<int>(rows.size()) >= 2 * o.min_samples_leaf && gini_mass(sw, swy) / sw > 1e-12;
    for (Eigen::Index j = 0; may_split && j < X.cols(); ++j) {
      std::vector<std::pair<double, Eigen::Index>> v;
      double mw = 0, mwy = 0;
      int mn = 0;
      for (const Eigen::Index i : rows)
        if (std::isnan(X(i, j))) mw += w[i], mwy += w[i] * y[i], ++mn;
        else v.emplace_back(X(i, j), i);
      std::sort(v.begin(), v.end());
      double lw = 0, lwy = 0;
      for (std::size_t q = 0; q + 1 < v.size(); ++q) {
        lw += w[v[q].second], lwy += w[v[q].second] * y[v[q].second];
        if (v[q].first == v[q + 1].first) continue;
        for (int side = 0; side < (mn > 0 ? 2 : 1); ++side) {
          const double aw = lw + side * mw, awy = lwy + side * mwy;
          const auto an = static_cast<int>(q + 1) + side * mn, bn = static_cast<int>(rows.size()) - an;
          if (an < o.min_samples_leaf || bn < o.min_samples_leaf || aw <= 0 || sw - aw <= 0) continue;
          const double gain = gini_mass(sw, swy) - gini_mass(aw, awy) - gini_mass(sw - aw, swy - awy);
          best = std::max(best, gain);
          const bool left_missing = side == 1 || (mn == 0 && aw >= sw - aw);
          if (j == t.feature && 0.5 * (v[q].first + v[q + 1].first) == t.threshold && left_missing == t.missing_left) chosen = gain;
        }
      }
    }
    if (!(best > 1e-12 * std::max(1.0, sw))) {
      ASSERT_EQ(t.feature, -1) << "node " << k << " should be a leaf";
      return;
    }
    ASSERT_GE(t.feature, 0) << "node " << k << " should split, gain " << best;
    ASSERT_GE(chosen, best - 1e-9 * std::max(1.0, best)) << "node " << k << " splits on feature " << t.feature << " at " << t.threshold;
    std::vector<Eigen::Index> left, right;
    for (const Eigen::Index i : rows)
      (std::isnan(X(i, t.feature)) ? t.missing_left : X(i, t.feature) <= t.threshold) ? left.push_back(i) : right.push_back(i);
    expect_same(nodes, t.left, left, depth + 1);
    expect_same(nodes, t.right, right, depth + 1);
  }
};

TEST(DecisionTreeClassifier, PresortedGrowthMakesTheSplitsOfSortingEveryNode) {
  // Columns of the kinds CRM tables have: continuous, heavily tied, one-hot indicators of a
  // three-level variable, and a continuous one with NaN; weighted rows. 5000 rows, so nodes below the
  // top levels are grown as whole subtrees on separate threads.
  const Eigen::Index n = 5000;
  RowMatrix X(n, 6);
  Eigen::VectorXi y(n);
  Eigen::VectorXd w(n);
  Random rng(17);
  for (Eigen::Index i = 0; i < n; ++i) {
    X(i, 0) = rng.uniform() * 10 - 5;
    X(i, 1) = std::floor(rng.uniform() * 6);
    const int level = static_cast<int>(rng.below(3));
    for (int l = 0; l < 3; ++l) X(i, 2 + l) = level == l ? 1.0 : 0.0;
    X(i, 5) = rng.uniform() < 0.15 ? std::numeric_limits<double>::quiet_NaN() : rng.uniform();
    const double eta = 0.6 * X(i, 0) - 0.4 * X(i, 1) + (level == 2 ? 1.0 : 0.0) + (std::isnan(X(i, 5)) ? 1.5 : X(i, 5));
    y[i] = rng.uniform() < 1.0 / (1.0 + std::exp(-eta)) ? 1 : 0;
    w[i] = 0.5 + rng.uniform();
  }
  DecisionTreeOptions o;
  o.max_depth = 9;
  o.min_samples_leaf = 3;
  std::vector<Eigen::Index> all(static_cast<std::size_t>(n));
  std::iota(all.begin(), all.end(), Eigen::Index{0});
  std::vector<TreeNode> first;
  for (const int threads : {1, 2}) {
    o.n_threads = threads;
    DecisionTreeClassifier m(o);
    m.fit(X, y, w);
    ASSERT_GT(m.n_leaves(), 100);
    Reference{X, y, w, o}.expect_same(m.nodes(), 0, all, 0);
    // NaN was seen in training, so every rule says where missing values go.
    EXPECT_NE(m.export_rules().find("is missing"), std::string::npos);
    if (first.empty()) {
      first = m.nodes();
      continue;
    }
    // Node numbering, values and impurities are the same at any thread count.
    ASSERT_EQ(m.nodes().size(), first.size());
    for (std::size_t k = 0; k < first.size(); ++k) {
      EXPECT_EQ(m.nodes()[k].feature, first[k].feature) << k;
      EXPECT_EQ(m.nodes()[k].left, first[k].left) << k;
      EXPECT_EQ(m.nodes()[k].threshold, first[k].threshold) << k;
      EXPECT_EQ(m.nodes()[k].value, first[k].value) << k;
      EXPECT_EQ(m.nodes()[k].impurity, first[k].impurity) << k;
    }
  }
}

TEST(DecisionTreeClassifier, RemembersMissingValuesThatEndUpOnlyInTheLeftChild) {
  // Column 1 is NaN only on rows that the root's split (on column 0) sends left: after the lists are
  // partitioned no NaN is left at their end, and the tree must still know it saw missing values.
  const Eigen::Index n = 400;
  RowMatrix X(n, 2);
  Eigen::VectorXi y(n);
  for (Eigen::Index i = 0; i < n; ++i) {
    X(i, 0) = static_cast<double>(i);
    X(i, 1) = i < n / 2 && i % 3 == 0 ? std::numeric_limits<double>::quiet_NaN() : static_cast<double>(i % 7);
    y[i] = i < n / 2 ? 0 : 1;
  }
  DecisionTreeOptions o;
  o.max_depth = 1;
  // Unweighted rows count column 1 by codes; weights of 0.3 do not sum exactly, so it is ranked in a list.
  for (const Eigen::VectorXd& w : {Eigen::VectorXd(), Eigen::VectorXd(Eigen::VectorXd::Constant(n, 0.3))}) {
    DecisionTreeClassifier m(o);
    m.fit(X, y, w);
    ASSERT_EQ(m.nodes()[0].feature, 0);
    EXPECT_NE(m.export_rules().find("is missing"), std::string::npos) << m.export_rules();
  }
}

TEST(DecisionTreeClassifier, TakesNaNAndNamesTheFirstInfiniteValueByRowAndColumn) {
  RowMatrix X(300, 9);
  Eigen::VectorXi y(300);
  Random rng(5);
  for (Eigen::Index i = 0; i < X.rows(); ++i) {
    for (Eigen::Index j = 0; j < X.cols(); ++j) X(i, j) = rng.uniform() < 0.1 ? std::numeric_limits<double>::quiet_NaN() : rng.uniform();
    y[i] = static_cast<int>(i % 2);
  }
  DecisionTreeClassifier m;
  EXPECT_NO_THROW(m.fit(X, y));
  X(211, 8) = -std::numeric_limits<double>::infinity();
  X(123, 7) = std::numeric_limits<double>::infinity();
  try {
    m.fit(X, y);
    FAIL() << "infinity accepted";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("infinite value at row 123, column 7"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace crmine
