// SPDX-License-Identifier: Apache-2.0
// IsolationForest: planted outliers, path-length normalisation, seeds, threads, save/load, bad input.
#include <crmine/core/serialize.hpp>
#include <crmine/deviation.hpp>

#include <gtest/gtest.h>

#include "deviation/detector_helpers.hpp"

#include <cmath>
#include <cstring>
#include <limits>
#include <sstream>
#include <string>

namespace crmine {
namespace {

using test::auc;
using test::make_planted;

/// Mean path length of every row of Q by a plain walk over nodes() with double comparisons: what
/// the scoring forms must reproduce bitwise.
Eigen::VectorXd plain_mean_path(const IsolationForest& m, const RowMatrix& Q) {
  Eigen::VectorXd h(Q.rows());
  for (Eigen::Index i = 0; i < Q.rows(); ++i) {
    double sum = 0;
    for (std::size_t t = 0; t < m.roots().size(); ++t) {
      auto at = static_cast<std::size_t>(m.roots()[t]);
      while (m.nodes()[at].feature >= 0) {
        const auto& node = m.nodes()[at];
        at = static_cast<std::size_t>(Q(i, node.feature) <= node.value ? node.left : node.left + 1);
      }
      sum += m.nodes()[at].value;
    }
    h[i] = sum * (1.0 / static_cast<double>(m.roots().size()));
  }
  return h;
}

bool is_float32(double v) { return static_cast<double>(static_cast<float>(v)) == v; }

TEST(IsolationForest, AveragePathLengthMatchesScikitLearn) {
  // sklearn.ensemble._iforest._average_path_length([0, 1, 2, 3, 256]).
  EXPECT_EQ(average_path_length(0), 0.0);
  EXPECT_EQ(average_path_length(1), 0.0);
  EXPECT_EQ(average_path_length(2), 1.0);
  EXPECT_NEAR(average_path_length(3), 1.207392357589623, 1e-13);
  EXPECT_NEAR(average_path_length(256), 10.244770920119917, 1e-12);
}

TEST(IsolationForest, RanksPlantedOutliersFirst) {
  const auto p = make_planted(3000, 6, 60, 1);
  IsolationForest m;
  m.fit(p.X);
  EXPECT_GT(auc(p.is_outlier, m.deviation_score(p.X)), 0.97);
  EXPECT_EQ(m.max_samples_used(), 256);
  EXPECT_EQ(m.offset(), -0.5);
  test::expect_detector_contract(m, p.X);
  // Scores are -2^(-E[h]/c(256)), in (-1, 0).
  const Eigen::VectorXd s = m.score_samples(p.X);
  EXPECT_GT(s.minCoeff(), -1.0);
  EXPECT_LT(s.maxCoeff(), 0.0);
  const Eigen::VectorXd h = m.mean_path_length(p.X);
  EXPECT_NEAR(s[0], -std::exp2(-h[0] / average_path_length(256)), 1e-15);
}

TEST(IsolationForest, ContaminationSetsTheOffsetAtThatQuantile) {
  const auto p = make_planted(2000, 4, 40, 2);
  IsolationForestOptions o;
  o.contamination = 0.05;
  IsolationForest m(o);
  m.fit(p.X);
  const double flagged = (m.predict(p.X).array() == -1).cast<double>().mean();
  EXPECT_NEAR(flagged, 0.05, 0.002);
}

TEST(IsolationForest, SameSeedSameForestAtAnyThreadCount) {
  const auto p = make_planted(2500, 5, 25, 3);
  IsolationForestOptions o;
  o.max_features = 0.6;
  o.n_threads = 1;
  IsolationForest one(o);
  one.fit(p.X);
  o.n_threads = 2;
  IsolationForest two(o);
  two.fit(p.X);
  EXPECT_TRUE(one.score_samples(p.X) == two.score_samples(p.X));
  o.seed = 99;
  IsolationForest other(o);
  other.fit(p.X);
  EXPECT_FALSE(one.score_samples(p.X) == other.score_samples(p.X));
}

TEST(IsolationForest, ScoreOfARowDoesNotDependOnTheRowsScoredWithIt) {
  // Rows are scored in lane groups of a transposed block, the last group padded: any subset, in
  // any order, must get bitwise the scores the whole matrix gets; deep trees (max_samples 2000,
  // depth 11) and shallow ones alike.
  const auto p = make_planted(2100, 7, 21, 8);
  for (std::int64_t max_samples : {0, 2000}) {
    IsolationForestOptions o;
    o.max_samples = max_samples;
    o.n_estimators = 30;
    IsolationForest m(o);
    m.fit(p.X);
    const Eigen::VectorXd all = m.score_samples(p.X);
    for (Eigen::Index i : {0, 5, 777, 2099}) EXPECT_EQ(m.score_samples(p.X.row(i))[0], all[i]) << i;
    const RowMatrix reversed = p.X.colwise().reverse();
    const Eigen::VectorXd back = m.score_samples(reversed.topRows(13));
    for (Eigen::Index i = 0; i < 13; ++i) EXPECT_EQ(back[i], all[p.X.rows() - 1 - i]) << i;
  }
}

TEST(IsolationForest, ScoringWalksExactlyTheSavedTreesWithDoubleComparisons) {
  // The scoring form (implicit heaps up to depth 10 whose first levels are decided with vector
  // compares, byte-addressed nodes deeper) must reach the leaf a plain walk over nodes() reaches,
  // for values at and around thresholds, -0.0 and +0.0, and large magnitudes: bitwise the same
  // mean paths, for shallow trees (max_samples 8: depth 3) and deep ones.
  auto p = make_planted(1500, 5, 15, 11);
  p.X(3, 0) = -0.0;
  p.X(4, 0) = 0.0;
  p.X(5, 1) = -1e300;
  p.X(6, 2) = 1e300;
  for (std::int64_t max_samples : {0, 8, 1024, 1500}) {
    IsolationForestOptions o;
    o.max_samples = max_samples;
    o.n_estimators = 25;
    IsolationForest m(o);
    m.fit(p.X);
    RowMatrix Q = p.X;
    // Rows exactly at thresholds go left; with -0.0 for a zero threshold too.
    for (Eigen::Index i = 0; i < 40; ++i) {
      const auto& node = m.nodes()[static_cast<std::size_t>(m.roots()[static_cast<std::size_t>(i % 25)])];
      if (node.feature >= 0) Q(i, node.feature) = node.value == 0 ? -0.0 : node.value;
    }
    const Eigen::VectorXd h = m.mean_path_length(Q), plain = plain_mean_path(m, Q);
    for (Eigen::Index i = 0; i < Q.rows(); ++i) ASSERT_EQ(h[i], plain[i]) << "max_samples " << max_samples << ", row " << i;
  }
}

TEST(IsolationForest, ThresholdsAreFloat32ValuesThatSplitTheNodeRange) {
  // Feature 1 varies only strictly between the float32s 1 and 1 + 2^-23: with no float32 threshold
  // between its values it is constant at float32 precision (as in scikit-learn, which splits a
  // float32 copy of X) and never split on. Feature 2
  // lives around 1e-42 (float32 subnormals, still split); feature 3 beyond float32's range
  // (above 3.4e38: no finite float32 between its values), so it is constant too.
  const auto p = make_planted(600, 4, 6, 21);
  RowMatrix X = p.X;
  for (Eigen::Index i = 0; i < X.rows(); ++i) {
    X(i, 1) = 1.0 + 1e-9 * (10.0 + p.X(i, 1));
    X(i, 2) = 1e-42 * (2.0 + p.X(i, 2));
    X(i, 3) = 1e39 * (5.0 + p.X(i, 3));
  }
  IsolationForest m;
  m.fit(X);
  bool split_on[4] = {};
  for (std::size_t t = 0; t < m.roots().size(); ++t) {
    const auto end = t + 1 < m.roots().size() ? static_cast<std::size_t>(m.roots()[t + 1]) : m.nodes().size();
    for (auto i = static_cast<std::size_t>(m.roots()[t]); i < end; ++i) {
      const auto& node = m.nodes()[i];
      if (node.feature < 0) continue;
      split_on[node.feature] = true;
      EXPECT_TRUE(is_float32(node.value)) << node.value;
      EXPECT_FALSE(node.value == 0 && std::signbit(node.value)) << "-0 threshold at node " << i;
      EXPECT_TRUE(std::isfinite(node.value));
    }
  }
  EXPECT_TRUE(split_on[0]);
  EXPECT_FALSE(split_on[1]);
  EXPECT_TRUE(split_on[2]);
  EXPECT_FALSE(split_on[3]);
  const Eigen::VectorXd h = m.mean_path_length(X), plain = plain_mean_path(m, X);
  EXPECT_TRUE(h == plain);
  EXPECT_GT(auc(p.is_outlier, m.deviation_score(X)), 0.9);
}

TEST(IsolationForest, PackedScoringComparesAnyDoubleWithFloat32ThresholdsExactly) {
  // Row values are doubles, thresholds float32 values: a value one double ulp above a threshold
  // goes right, one below or at it goes left, whatever float32 it rounds to; subnormal, signed
  // zero and beyond-float32 values too. Bitwise the plain walk's mean paths.
  const auto p = make_planted(1200, 4, 12, 12);
  IsolationForestOptions o;
  o.n_estimators = 40;
  IsolationForest m(o);
  m.fit(p.X);
  std::vector<double> probes;
  for (const auto& node : m.nodes()) {
    if (node.feature < 0) continue;
    const double t = node.value;
    const float tf = static_cast<float>(t);
    const double up = std::nextafter(t, 1e308), down = std::nextafter(t, -1e308);
    const double half_up = 0.5 * (t + static_cast<double>(std::nextafter(tf, 1e30f)));
    const double half_down = 0.5 * (t + static_cast<double>(std::nextafter(tf, -1e30f)));
    for (double v : {t, up, down, half_up, half_down}) probes.push_back(v);
  }
  for (double v : {0.0, -0.0, 1e-300, -1e-300, 1e-45, -1e-45, 7e-46, -7e-46, 1.5e-45, 3.4028235677973366e38,
                   3.4028236e38, 1e39, -1e39, 1e300, -1e300, std::numeric_limits<double>::denorm_min()})
    probes.push_back(v);
  RowMatrix Q(static_cast<Eigen::Index>(probes.size()), 4);
  for (Eigen::Index i = 0; i < Q.rows(); ++i)
    for (Eigen::Index j = 0; j < 4; ++j)
      Q(i, j) = j == i % 4 ? probes[static_cast<std::size_t>(i)] : p.X(i % p.X.rows(), j);
  const Eigen::VectorXd h = m.mean_path_length(Q), plain = plain_mean_path(m, Q);
  for (Eigen::Index i = 0; i < Q.rows(); ++i) ASSERT_EQ(h[i], plain[i]) << "row " << i << ", probe " << Q(i, i % 4);
}

/// A schema 1 record of `m` (as written before schema 2: every node f64 value, i32 feature, i32
/// left), with `nudge` added to every threshold so that they are not float32 values.
std::string schema_one_bytes(const IsolationForest& m, double nudge) {
  const auto& o = m.options();
  ModelWriter w(model_tag("IFOR"), 1);
  w.i32(o.n_estimators);
  w.i64(o.max_samples);
  w.f64(o.max_features);
  w.f64(o.contamination);
  w.u64(o.seed);
  w.i32(o.n_threads);
  w.i64(m.max_samples_used());
  w.i64(m.n_features());
  w.f64(m.offset());
  w.u64(m.roots().size());
  for (auto r : m.roots()) w.i64(r);
  w.u64(m.nodes().size());
  for (const auto& node : m.nodes()) {
    w.f64(node.feature >= 0 ? node.value + nudge : node.value);
    w.i32(node.feature);
    w.i32(node.left);
  }
  std::ostringstream out;
  w.finish(out);
  return out.str();
}

std::uint32_t schema_of(const std::string& bytes) {
  std::uint32_t schema;
  std::memcpy(&schema, bytes.data() + 16, sizeof schema);
  return schema;
}

TEST(IsolationForest, LoadsSchemaOneModelsWithDoubleThresholdsAndScoresThemExactly) {
  const auto p = make_planted(900, 3, 9, 13);
  for (std::int64_t max_samples : {0, 1500}) {  // heap-sized and deep trees
    IsolationForestOptions o;
    o.n_estimators = 15;
    o.max_samples = max_samples;
    IsolationForest fitted(o);
    fitted.fit(p.X);
    std::istringstream in(schema_one_bytes(fitted, 1e-12));
    const IsolationForest old = IsolationForest::load(in);
    ASSERT_FALSE(is_float32(old.nodes()[0].value));
    RowMatrix Q = p.X;
    const auto& root = old.nodes()[0];
    Q(0, root.feature) = root.value;
    Q(1, root.feature) = std::nextafter(root.value, 1e308);
    Q(2, root.feature) = static_cast<float>(root.value);
    const Eigen::VectorXd h = old.mean_path_length(Q), plain = plain_mean_path(old, Q);
    EXPECT_TRUE(h == plain);
    // Saved again it stays schema 1 (its thresholds need 8 bytes) and loads back the same.
    std::ostringstream again;
    old.save(again);
    EXPECT_EQ(schema_of(again.str()), 1u);
    std::istringstream back(again.str());
    EXPECT_TRUE(IsolationForest::load(back).mean_path_length(Q) == h);
  }
}

TEST(IsolationForest, SavesSchemaTwoWithFourByteThresholds) {
  const auto p = make_planted(700, 3, 7, 14);
  IsolationForestOptions o;
  o.n_estimators = 10;
  IsolationForest m(o);
  m.fit(p.X);
  std::ostringstream out;
  m.save(out);
  const std::string bytes = out.str();
  EXPECT_EQ(schema_of(bytes), 2u);
  // Every node 12 bytes instead of 16.
  EXPECT_EQ(schema_one_bytes(m, 0).size() - bytes.size(), 4 * m.n_nodes());
  std::istringstream in(bytes);
  const IsolationForest loaded = IsolationForest::load(in);
  ASSERT_EQ(loaded.n_nodes(), m.n_nodes());
  for (std::size_t i = 0; i < m.n_nodes(); ++i) {
    EXPECT_EQ(loaded.nodes()[i].value, m.nodes()[i].value);
    EXPECT_EQ(loaded.nodes()[i].feature, m.nodes()[i].feature);
    if (m.nodes()[i].feature >= 0) {
      EXPECT_EQ(loaded.nodes()[i].left, m.nodes()[i].left);
    }
  }
  EXPECT_TRUE(loaded.score_samples(p.X) == m.score_samples(p.X));
  // A threshold that is not a finite float32 is corrupt: find the first internal node's bits.
  std::string bad = bytes;
  const auto n_trees = m.roots().size();
  const std::size_t first_node = 28 + 4 + 8 + 8 + 8 + 8 + 4 + 8 + 8 + 8 + 8 + 8 * n_trees + 8;
  ASSERT_GE(m.nodes()[0].feature, 0);
  const std::uint32_t inf_bits = 0x7F800000u;
  std::memcpy(bad.data() + first_node + 4, &inf_bits, 4);
  // Recompute the checksum so that the field check, not the CRC, must catch it.
  const std::uint32_t crc = crc32(std::string_view(bad).substr(8, bad.size() - 12));
  std::memcpy(bad.data() + bad.size() - 4, &crc, 4);
  std::istringstream bad_in(bad);
  EXPECT_THROW(IsolationForest::load(bad_in), ModelFormatError);
}

TEST(IsolationForest, ConstantFeaturesAreNeverSplitOn) {
  auto p = make_planted(1000, 3, 10, 4);
  RowMatrix X(p.X.rows(), 4);
  X.leftCols(3) = p.X;
  X.col(3).setConstant(7.0);
  IsolationForest m;
  m.fit(X);
  EXPECT_GT(auc(p.is_outlier, m.deviation_score(X)), 0.95);
  // All-constant data: every tree is one leaf of 256 rows, every score is -2^-1.
  RowMatrix flat = RowMatrix::Constant(500, 2, 1.0);
  m.fit(flat);
  EXPECT_EQ(m.n_nodes(), 100u);
  EXPECT_LT((m.score_samples(flat).array() + 0.5).abs().maxCoeff(), 1e-12);
}

TEST(IsolationForest, SaveLoadRoundTripAndCorruptBytes) {
  const auto p = make_planted(800, 3, 8, 5);
  IsolationForestOptions o;
  o.contamination = 0.02;
  o.n_estimators = 20;
  IsolationForest m(o);
  m.fit(p.X);
  test::expect_round_trip(m, p.X);
}

TEST(IsolationForest, RejectsBadInput) {
  const auto p = make_planted(100, 3, 2, 6);
  for (double c : {0.0, 0.6, -0.5, std::numeric_limits<double>::quiet_NaN()}) {
    IsolationForestOptions o;
    o.contamination = c;
    EXPECT_THROW(IsolationForest(o).fit(p.X), InvalidArgument) << c;
  }
  IsolationForestOptions o;
  o.max_features = 0;
  EXPECT_THROW(IsolationForest(o).fit(p.X), InvalidArgument);
  o = {};
  o.n_estimators = 0;
  EXPECT_THROW(IsolationForest(o).fit(p.X), InvalidArgument);
  RowMatrix bad = p.X;
  bad(3, 1) = std::numeric_limits<double>::infinity();
  EXPECT_THROW(IsolationForest().fit(bad), InvalidArgument);
  EXPECT_THROW(IsolationForest().fit(RowMatrix(0, 3)), InvalidArgument);
  // A NaN late in a large matrix is found and named, in fit and in scoring.
  RowMatrix big = RowMatrix::Random(5000, 3);
  big(4321, 2) = std::numeric_limits<double>::quiet_NaN();
  try {
    IsolationForest().fit(big);
    ADD_FAILURE() << "fit accepted NaN";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("row 4321, column 2"), std::string::npos) << e.what();
  }
  IsolationForest fitted;
  fitted.fit(p.X);
  try {
    fitted.score_samples(big.rightCols(3));
    ADD_FAILURE() << "score_samples accepted NaN";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("row 4321, column 2"), std::string::npos) << e.what();
  }
  EXPECT_THROW(fitted.score_samples(big.leftCols(2)), InvalidArgument);
  // Rows are transposed four at a time, four features at a time: an infinity there is named too,
  // the first one in row order.
  RowMatrix wide = RowMatrix::Random(3000, 9);
  IsolationForest wide_forest;
  wide_forest.fit(wide);
  wide(2222, 7) = -std::numeric_limits<double>::infinity();
  wide(2221, 1) = std::numeric_limits<double>::infinity();
  try {
    wide_forest.score_samples(wide);
    ADD_FAILURE() << "score_samples accepted infinity";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("row 2221, column 1"), std::string::npos) << e.what();
  }
  EXPECT_THROW(IsolationForest().score_samples(p.X), NotFittedError);
}

}  // namespace
}  // namespace crmine
