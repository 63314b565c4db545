// SPDX-License-Identifier: Apache-2.0
// IsolationForest: planted outliers, path-length normalisation, seeds, threads, save/load, bad input.
#include <crmine/deviation.hpp>

#include <gtest/gtest.h>

#include "deviation/detector_helpers.hpp"

#include <limits>
#include <string>

namespace crmine {
namespace {

using test::auc;
using test::make_planted;

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
    const Eigen::VectorXd h = m.mean_path_length(Q);
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
      ASSERT_EQ(h[i], sum * (1.0 / 25)) << "max_samples " << max_samples << ", row " << i;
    }
  }
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
  EXPECT_THROW(IsolationForest().score_samples(p.X), NotFittedError);
}

}  // namespace
}  // namespace crmine
