// SPDX-License-Identifier: Apache-2.0
// GoogleTests of CART's categorical splits: the sorted-prefix shortcut finds the best of all subsets,
// rules name the categories, missing/unseen codes, the model record and thread invariance.
#include <crmine/classify.hpp>
#include <crmine/core/errors.hpp>
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

constexpr int kLevels = 7;

/// Column 0: one of 7 categories with its own response rate (or mean target); column 1: noise.
struct Data {
  RowMatrix X;
  Eigen::VectorXi y;
  Eigen::VectorXd target;
};
Data make(Eigen::Index n, std::uint64_t seed) {
  Random rng(seed);
  const double rate[kLevels] = {0.15, 0.7, 0.4, 0.85, 0.3, 0.55, 0.05};
  Data d{RowMatrix(n, 2), Eigen::VectorXi(n), Eigen::VectorXd(n)};
  for (Eigen::Index i = 0; i < n; ++i) {
    const int c = static_cast<int>(rng.below(kLevels));
    d.X(i, 0) = c;
    d.X(i, 1) = rng.uniform();
    d.y[i] = rng.uniform() < rate[c] ? 1 : 0;
    d.target[i] = 10 * rate[c] + rng.uniform();
  }
  return d;
}

/// Impurity decrease (weighted, as CART's gain) of sending the categories in `mask` left, by brute force.
double gain_of(const Data& d, unsigned mask, bool squared, bool entropy) {
  double w[2] = {0, 0}, s[2] = {0, 0}, q[2] = {0, 0};
  for (Eigen::Index i = 0; i < d.X.rows(); ++i) {
    const int side = (mask >> static_cast<int>(d.X(i, 0))) & 1u ? 0 : 1;
    const double v = squared ? d.target[i] : d.y[i];
    w[side] += 1, s[side] += v, q[side] += v * v;
  }
  auto impurity = [&](double n, double sum, double sq) {
    const double m = sum / n;
    if (squared) return n * (sq / n - m * m);
    if (!entropy) return n * 2 * m * (1 - m);
    double h = 0;
    if (m > 0) h -= m * std::log2(m);
    if (m < 1) h -= (1 - m) * std::log2(1 - m);
    return n * h;
  };
  return impurity(w[0] + w[1], s[0] + s[1], q[0] + q[1]) - impurity(w[0], s[0], q[0]) - impurity(w[1], s[1], q[1]);
}

double best_subset_gain(const Data& d, bool squared, bool entropy) {
  double best = -1;
  for (unsigned mask = 1; mask + 1 < (1u << kLevels); ++mask) best = std::max(best, gain_of(d, mask, squared, entropy));
  return best;
}

TEST(DecisionTreeCategorical, OneSplitIsTheBestOfAllSubsetsOfCategories) {
  // Breiman's shortcut tries 6 prefixes of the categories ordered by class-1 share (or mean); it
  // must reach the best of all 2^7 - 2 subsets, for gini, entropy and squared error alike.
  const Data d = make(4000, 1);
  for (const auto criterion : {TreeCriterion::gini, TreeCriterion::entropy}) {
    DecisionTreeOptions o;
    o.criterion = criterion;
    o.max_depth = 1;
    o.categorical_features = {0};
    DecisionTreeClassifier m(o);
    m.fit(d.X, d.y);
    const TreeNode& root = m.nodes()[0];
    ASSERT_EQ(root.feature, 0);
    ASSERT_TRUE(root.is_categorical());
    const bool entropy = criterion == TreeCriterion::entropy;
    EXPECT_NEAR(gain_of(d, static_cast<unsigned>(root.categories[0]), false, entropy), best_subset_gain(d, false, entropy), 1e-9);
  }
  DecisionTreeRegressorOptions ro;
  ro.max_depth = 1;
  ro.categorical_features = {0};
  DecisionTreeRegressor r(ro);
  r.fit(d.X, d.target);
  ASSERT_TRUE(r.nodes()[0].is_categorical());
  EXPECT_NEAR(gain_of(d, static_cast<unsigned>(r.nodes()[0].categories[0]), true, false), best_subset_gain(d, true, false), 1e-6);
}

TEST(DecisionTreeCategorical, RulesNameTheCategoriesOfEachSide) {
  const Data d = make(4000, 2);
  DecisionTreeOptions o;
  o.max_depth = 1;
  o.categorical_features = {0};
  DecisionTreeClassifier m(o);
  m.fit(d.X, d.y);
  const std::vector<std::vector<std::string>> names = {{"North", "South", "East", "West", "Centre", "Coast", "Alps"}, {}};
  const std::string rules = m.export_rules({"region", "noise"}, 3, names);
  // The left set in code order, by name and by code.
  std::string by_name, by_code;
  for (int c = 0; c < kLevels; ++c)
    if ((m.nodes()[0].categories[0] >> c) & 1u) {
      by_name += (by_name.empty() ? "" : ", ") + names[0][static_cast<std::size_t>(c)];
      by_code += (by_code.empty() ? "" : ", ") + std::to_string(c);
    }
  EXPECT_NE(rules.find("region in {" + by_name + "} THEN"), std::string::npos) << rules;
  EXPECT_NE(rules.find("region not in {" + by_name + "} THEN"), std::string::npos) << rules;
  EXPECT_NE(m.export_rules().find("x0 in {" + by_code + "}"), std::string::npos) << m.export_rules();
}

TEST(DecisionTreeCategorical, MissingCodesFollowTheirSideUnseenGoRightAndTheRecordRoundTrips) {
  Data d = make(4000, 3);
  Random rng(4);
  for (Eigen::Index i = 0; i < d.X.rows(); i += 9) {
    d.X(i, 0) = (i / 9) % 2 ? std::numeric_limits<double>::quiet_NaN() : -1.0;
    d.y[i] = rng.uniform() < 0.9 ? 1 : 0;  // missing rows respond like the high-rate categories
  }
  DecisionTreeOptions o;
  o.max_depth = 3;
  o.categorical_features = {0};
  DecisionTreeClassifier m(o);
  m.fit(d.X, d.y);
  const TreeNode& root = m.nodes()[0];
  ASSERT_TRUE(root.is_categorical());
  const RowMatrix probe = (RowMatrix(4, 2) << std::numeric_limits<double>::quiet_NaN(), 0.5, -2, 0.5, 300, 0.5, 70, 0.5).finished();
  const Eigen::VectorXi leaf = m.apply(probe);
  EXPECT_EQ(leaf[0], leaf[1]);  // NaN and negative codes are both missing
  // Unseen codes go right at the root.
  for (const Eigen::Index i : {2, 3}) {
    std::int32_t k = 0;
    while (m.nodes()[static_cast<std::size_t>(k)].feature >= 0) {
      const TreeNode& t = m.nodes()[static_cast<std::size_t>(k)];
      if (k == 0) {
        EXPECT_FALSE(t.goes_left(probe(i, t.feature)));
      }
      k = t.goes_left(probe(i, t.feature)) ? t.left : t.right;
    }
    EXPECT_EQ(k, leaf[i]);
  }
  std::stringstream s;
  m.save(s);
  const std::string bytes = s.str();
  const DecisionTreeClassifier back = DecisionTreeClassifier::load(s);
  EXPECT_EQ(back.options().categorical_features, o.categorical_features);
  EXPECT_EQ(back.predict_proba(d.X), m.predict_proba(d.X));
  std::stringstream again;
  back.save(again);
  EXPECT_EQ(again.str(), bytes);
}

TEST(DecisionTreeCategorical, SameTreeAtOneAndTwoThreadsAndBadCodesAreNamed) {
  const Data d = make(60000, 5);
  DecisionTreeOptions o;
  o.min_samples_leaf = 20;
  o.categorical_features = {0};
  o.n_threads = 1;
  DecisionTreeClassifier a(o);
  a.fit(d.X, d.y);
  o.n_threads = 2;
  DecisionTreeClassifier b(o);
  b.fit(d.X, d.y);
  ASSERT_EQ(a.nodes().size(), b.nodes().size());
  for (std::size_t k = 0; k < a.nodes().size(); ++k) {
    EXPECT_EQ(a.nodes()[k].feature, b.nodes()[k].feature);
    EXPECT_EQ(a.nodes()[k].threshold, b.nodes()[k].threshold);
    EXPECT_EQ(a.nodes()[k].categories, b.nodes()[k].categories);
  }
  RowMatrix bad = d.X.topRows(100);
  bad(5, 0) = 1.5;
  EXPECT_THROW(a.predict_proba(bad), InvalidArgument);
  DecisionTreeOptions wrong = o;
  wrong.categorical_features = {3};
  EXPECT_THROW(DecisionTreeClassifier(wrong).fit(d.X, d.y), InvalidArgument);
  bad(5, 0) = 70000;
  EXPECT_THROW(DecisionTreeClassifier(o).fit(bad, d.y.head(100)), InvalidArgument);
}

TEST(DecisionTreeCategorical, SchemaOneRecordsLoadWithNumericSplitsOnly) {
  // A classifier record as written before categorical splits: no category words per node, no
  // categorical column list after the importances.
  ModelWriter w(model_tag("DTRC"), 1);
  const DecisionTreeOptions o;
  w.u8(0), w.i32(o.max_depth), w.i32(o.min_samples_split), w.i32(o.min_samples_leaf), w.f64(o.min_impurity_decrease), w.f64(o.ccp_alpha);
  w.f64(1.0), w.f64(1.0), w.i32(o.n_threads);
  w.i64(1), w.i32(1), w.boolean(false), w.u64(3);
  const std::int32_t feature[3] = {0, -1, -1}, left[3] = {1, -1, -1}, right[3] = {2, -1, -1};
  const double value[3] = {0.5, 0.2, 0.9};
  for (int k = 0; k < 3; ++k)
    w.i32(feature[k]), w.f64(k == 0 ? 2.0 : 0.0), w.i32(left[k]), w.i32(right[k]), w.boolean(false), w.f64(value[k]), w.f64(0.0), w.f64(1.0), w.i64(1);
  w.f64_vector({1.0}), w.u64(0);
  std::stringstream s;
  w.finish(s);
  const DecisionTreeClassifier m = DecisionTreeClassifier::load(s);
  EXPECT_TRUE(m.options().categorical_features.empty());
  EXPECT_FALSE(m.nodes()[0].is_categorical());
  const RowMatrix X = (RowMatrix(2, 1) << 1.0, 3.0).finished();
  EXPECT_EQ(m.predict_proba(X).col(1), Eigen::Vector2d(0.2, 0.9));
}

}  // namespace
}  // namespace crmine
