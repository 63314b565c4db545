// SPDX-License-Identifier: Apache-2.0
// GoogleTests of gradient boosting's native categorical splits: set splits a threshold cannot make,
// missing and unseen categories, scoring, the model record (schema 3, older schemas) and thread invariance.
#include <crmine/classify.hpp>
#include <crmine/core/errors.hpp>
#include <crmine/core/random.hpp>
#include <crmine/core/serialize.hpp>

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <sstream>

namespace crmine {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

/// Column 0: one of 12 categories, uniformly; categories {1, 4, 7, 9, 10} respond 80% of the time, the
/// rest 20%. The positive set is not an interval of codes, so no threshold on the code isolates it.
/// Column 1: numeric noise.
struct Planted {
  RowMatrix X;
  Eigen::VectorXi y;
};
bool planted_in(int c) { return c == 1 || c == 4 || c == 7 || c == 9 || c == 10; }
Planted planted(Eigen::Index n, std::uint64_t seed) {
  Random rng(seed);
  Planted d{RowMatrix(n, 2), Eigen::VectorXi(n)};
  for (Eigen::Index i = 0; i < n; ++i) {
    const int c = static_cast<int>(rng.below(12));
    d.X(i, 0) = c;
    d.X(i, 1) = rng.uniform();
    d.y[i] = rng.uniform() < (planted_in(c) ? 0.8 : 0.2) ? 1 : 0;
  }
  return d;
}

GradientBoostingOptions stump(std::vector<std::int32_t> categorical) {
  GradientBoostingOptions o;
  o.n_estimators = 1;
  o.learning_rate = 1.0;
  o.num_leaves = 2;
  o.categorical_features = std::move(categorical);
  return o;
}

std::uint64_t bits(std::initializer_list<int> codes) {
  std::uint64_t b = 0;
  for (const int c : codes) b |= std::uint64_t{1} << c;
  return b;
}

TEST(GradientBoostingCategorical, OneSplitSendsExactlyThePlantedSetOfCategoriesLeft) {
  const Planted d = planted(6000, 3);
  GradientBoostingClassifier m(stump({0}));
  m.fit(d.X, d.y);
  const TreeNode& root = m.trees()[0][0];
  ASSERT_EQ(root.feature, 0);
  ASSERT_TRUE(root.is_categorical());
  ASSERT_EQ(root.categories.size(), 1u);
  EXPECT_EQ(root.categories[0], bits({1, 4, 7, 9, 10}));
  // The same stump on the code as a number can only cut the codes into two intervals.
  GradientBoostingClassifier numeric(stump({}));
  numeric.fit(d.X, d.y);
  const Eigen::VectorXd zc = m.decision_function(d.X), zn = numeric.decision_function(d.X);
  EXPECT_GT(roc_auc(d.y, zc), 0.79);
  EXPECT_LT(roc_auc(d.y, zn), roc_auc(d.y, zc) - 0.1);
}

TEST(GradientBoostingCategorical, FewCategoriesSplitOneAgainstTheRest) {
  // Three categories (at most max_cat_to_onehot = 4): category 2 alone carries the signal.
  Random rng(8);
  const Eigen::Index n = 3000;
  RowMatrix X(n, 1);
  Eigen::VectorXi y(n);
  for (Eigen::Index i = 0; i < n; ++i) {
    const int c = static_cast<int>(rng.below(3));
    X(i, 0) = c;
    y[i] = rng.uniform() < (c == 2 ? 0.9 : 0.3) ? 1 : 0;
  }
  GradientBoostingClassifier m(stump({0}));
  m.fit(X, y);
  const TreeNode& root = m.trees()[0][0];
  ASSERT_TRUE(root.is_categorical());
  EXPECT_EQ(root.categories, std::vector<std::uint64_t>{bits({2})});
}

TEST(GradientBoostingCategorical, MissingCodesTakeTheLearnedSideAndUnseenCodesGoRight) {
  Planted d = planted(6000, 4);
  // Missing rows (NaN and negative codes alike) respond like the planted set, so they join it on the left.
  Random rng(5);
  for (Eigen::Index i = 0; i < d.X.rows(); i += 10) {
    d.X(i, 0) = (i / 10) % 2 ? kNaN : -1.0;
    d.y[i] = rng.uniform() < 0.8 ? 1 : 0;
  }
  GradientBoostingClassifier m(stump({0}));
  m.fit(d.X, d.y);
  const TreeNode& root = m.trees()[0][0];
  ASSERT_TRUE(root.is_categorical());
  EXPECT_TRUE(root.missing_left);
  EXPECT_EQ(root.categories[0], bits({1, 4, 7, 9, 10}));
  const RowMatrix probe = (RowMatrix(6, 2) << 1, 0.5, kNaN, 0.5, -3, 0.5, 0, 0.5, 40, 0.5, 200, 0.5).finished();
  const Eigen::VectorXd z = m.decision_function(probe);
  EXPECT_EQ(z[1], z[0]);  // NaN: left
  EXPECT_EQ(z[2], z[0]);  // negative code: missing, left
  EXPECT_NE(z[3], z[0]);
  EXPECT_EQ(z[4], z[3]);  // unseen codes: right
  EXPECT_EQ(z[5], z[3]);
}

TEST(GradientBoostingCategorical, BlockScoringEqualsWalkingAndTheRecordRoundTripsBitwise) {
  // Deeper trees mixing categorical and numeric splits; 1001 rows end in a partial scoring block.
  Planted d = planted(5000, 6);
  for (Eigen::Index i = 0; i < d.X.rows(); i += 13) d.X(i, 0) = kNaN;
  GradientBoostingOptions o;
  o.n_estimators = 25;
  o.num_leaves = 15;
  o.min_data_per_group = 20;
  o.categorical_features = {0};
  GradientBoostingClassifier m(o);
  m.fit(d.X, d.y);
  int categorical_nodes = 0;
  for (const auto& tree : m.trees())
    for (const TreeNode& t : tree) categorical_nodes += t.is_categorical();
  EXPECT_GT(categorical_nodes, 10);
  const RowMatrix scored = d.X.topRows(1001);
  const Eigen::VectorXd z = m.decision_function(scored);
  for (Eigen::Index i = 0; i < scored.rows(); ++i) {
    double walked = m.init_score();
    for (const auto& tree : m.trees()) {
      std::size_t k = 0;
      while (tree[k].feature >= 0) k = static_cast<std::size_t>(tree[k].goes_left(scored(i, tree[k].feature)) ? tree[k].left : tree[k].right);
      walked += tree[k].value;
    }
    ASSERT_EQ(z[i], walked) << "row " << i;
  }
  std::stringstream s;
  m.save(s);
  const std::string bytes = s.str();
  const GradientBoostingClassifier back = GradientBoostingClassifier::load(s);
  EXPECT_EQ(back.options().categorical_features, o.categorical_features);
  EXPECT_EQ(back.options().min_data_per_group, 20);
  EXPECT_EQ(back.decision_function(scored), z);
  std::stringstream again;
  back.save(again);
  EXPECT_EQ(again.str(), bytes);
}

TEST(GradientBoostingCategorical, TrainsBitwiseTheSameAtOneAndTwoThreads) {
  // 40k rows, so histograms and partitions run in parallel.
  const Planted d = planted(40000, 7);
  GradientBoostingOptions o;
  o.n_estimators = 10;
  o.subsample = 0.8;
  o.categorical_features = {0};
  o.n_threads = 1;
  GradientBoostingClassifier a(o);
  a.fit(d.X, d.y);
  o.n_threads = 2;
  GradientBoostingClassifier b(o);
  b.fit(d.X, d.y);
  EXPECT_EQ(a.decision_function(d.X), b.decision_function(d.X));
  for (std::size_t t = 0; t < a.trees().size(); ++t)
    for (std::size_t k = 0; k < a.trees()[t].size(); ++k) ASSERT_EQ(a.trees()[t][k].categories, b.trees()[t][k].categories);
}

TEST(GradientBoostingCategorical, RegressorSplitsCategoriesByTheirMeanTarget) {
  // Squared error: categories whose mean target is high form the set, whatever their codes.
  Random rng(9);
  const Eigen::Index n = 6000;
  RowMatrix X(n, 1);
  Eigen::VectorXd y(n);
  for (Eigen::Index i = 0; i < n; ++i) {
    const int c = static_cast<int>(rng.below(12));
    X(i, 0) = c;
    y[i] = (planted_in(c) ? 3.0 : -1.0) + rng.uniform();
  }
  GradientBoostingRegressor m(stump({0}));
  m.fit(X, y);
  const TreeNode& root = m.trees()[0][0];
  ASSERT_TRUE(root.is_categorical());
  EXPECT_EQ(root.categories[0], bits({1, 4, 7, 9, 10}));
  const Eigen::VectorXd p = m.predict(X);
  for (Eigen::Index i = 0; i < n; ++i) ASSERT_NEAR(p[i], planted_in(static_cast<int>(X(i, 0))) ? 3.5 : -0.5, 0.05);
}

TEST(GradientBoostingCategorical, BadCodesAndColumnsAreNamed) {
  Planted d = planted(500, 10);
  auto fit_error = [&](const RowMatrix& X, std::vector<std::int32_t> cats) {
    GradientBoostingOptions o = stump(std::move(cats));
    o.min_data_per_group = 1;
    try {
      GradientBoostingClassifier(o).fit(X, d.y);
    } catch (const InvalidArgument& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  RowMatrix X = d.X;
  X(3, 0) = 2.5;
  EXPECT_NE(fit_error(X, {0}).find("not an integer category code"), std::string::npos);
  X(3, 0) = 255;
  EXPECT_NE(fit_error(X, {0}).find("codes must be below 255"), std::string::npos);
  EXPECT_NE(fit_error(d.X, {2}).find("categorical_features"), std::string::npos);
  EXPECT_NE(fit_error(d.X, {0, 0}).find("twice"), std::string::npos);
  GradientBoostingClassifier m(stump({0}));
  m.fit(d.X, d.y);
  RowMatrix probe = d.X.topRows(2);
  probe(1, 0) = 0.5;
  EXPECT_THROW(m.decision_function(probe), InvalidArgument);
  GradientBoostingOptions bad;
  bad.cat_smooth = -1;
  EXPECT_THROW(validate(bad), InvalidArgument);
}

/// The options every GBMC schema starts with (all of schema 1's), as default values.
void write_schema_one_options(ModelWriter& w, const GradientBoostingOptions& o) {
  w.i32(o.n_estimators), w.f64(o.learning_rate), w.i32(o.num_leaves), w.i32(o.max_depth), w.i32(o.min_child_samples);
  w.f64(o.min_child_weight), w.f64(o.reg_lambda), w.f64(o.min_split_gain), w.f64(o.subsample), w.f64(o.colsample_bytree);
  w.i32(o.max_bins), w.f64(o.validation_fraction), w.i32(o.n_iter_no_change), w.u64(o.seed), w.i32(o.n_threads);
}

TEST(GradientBoostingCategorical, SchemaTwoRecordsLoadWithNumericSplitsOnly) {
  // A record as written before categorical splits: growth policy but no categorical options, nodes
  // without category sets.
  ModelWriter w(model_tag("GBMC"), 2);
  const GradientBoostingOptions o;
  write_schema_one_options(w, o);
  w.u8(static_cast<std::uint8_t>(GrowthPolicy::depthwise));
  w.i64(1), w.f64(0.5), w.u64(1), w.u64(3);
  const std::int32_t feature[3] = {0, -1, -1}, left[3] = {1, -1, -1}, right[3] = {2, -1, -1};
  const double threshold[3] = {2.0, 0.0, 0.0}, values[3] = {0.0, -1.0, 1.0};
  for (int k = 0; k < 3; ++k) w.i32(feature[k]), w.f64(threshold[k]), w.i32(left[k]), w.i32(right[k]), w.boolean(false), w.f64(values[k]);
  w.f64_vector({1.0}), w.f64_vector({}), w.u64(0);
  std::stringstream s;
  w.finish(s);
  const GradientBoostingClassifier m = GradientBoostingClassifier::load(s);
  EXPECT_EQ(m.options().growth, GrowthPolicy::depthwise);
  EXPECT_TRUE(m.options().categorical_features.empty());
  EXPECT_FALSE(m.trees()[0][0].is_categorical());
  const RowMatrix X = (RowMatrix(2, 1) << 1.0, 3.0).finished();
  EXPECT_EQ(m.decision_function(X), Eigen::Vector2d(-0.5, 1.5));
}

/// A schema 3 stump record on one feature whose root sends `categories` left; `categorical` lists the
/// categorical columns.
std::string schema_three_stump(const std::vector<std::int32_t>& categorical, const std::vector<std::uint64_t>& categories) {
  ModelWriter w(model_tag("GBMC"), 3);
  const GradientBoostingOptions o;
  write_schema_one_options(w, o);
  w.u8(0), w.i32_vector(categorical), w.i32(o.max_cat_to_onehot), w.i32(o.max_cat_threshold), w.f64(o.cat_smooth), w.f64(o.cat_l2);
  w.i32(o.min_data_per_group);
  w.i64(1), w.f64(0.0), w.u64(1), w.u64(3);
  w.i32(0), w.f64(0.0), w.i32(1), w.i32(2), w.boolean(false), w.f64(0.0), w.u64(categories.size());
  for (const std::uint64_t word : categories) w.u64(word);
  for (const double v : {-1.0, 1.0}) w.i32(-1), w.f64(0.0), w.i32(-1), w.i32(-1), w.boolean(false), w.f64(v), w.u64(0);
  w.f64_vector({1.0}), w.f64_vector({}), w.u64(0);
  std::stringstream s;
  w.finish(s);
  return s.str();
}

TEST(GradientBoostingCategorical, HandWrittenRecordsScoreBySetAndMalformedSetsAreRejected) {
  {
    std::stringstream s(schema_three_stump({0}, {0, bits({3})}));  // code 67 goes left
    const GradientBoostingClassifier m = GradientBoostingClassifier::load(s);
    const RowMatrix X = (RowMatrix(4, 1) << 67.0, 3.0, 128.0, kNaN).finished();
    EXPECT_EQ(m.decision_function(X), Eigen::Vector4d(-1.0, 1.0, 1.0, 1.0));
  }
  for (const auto& bad : {schema_three_stump({}, {bits({3})}), schema_three_stump({0}, {bits({3}), 0}),
                          schema_three_stump({0}, {1, 1, 1, 1, 1}), schema_three_stump({1}, {bits({3})})}) {
    std::stringstream s(bad);
    EXPECT_THROW(GradientBoostingClassifier::load(s), ModelFormatError);
  }
}

}  // namespace
}  // namespace crmine
