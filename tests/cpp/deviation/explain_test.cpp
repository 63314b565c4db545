// SPDX-License-Identifier: Apache-2.0
// Specification of the alert explanations: robust z, a detector's score gain per feature, top features.
#include <crmine/core/errors.hpp>
#include <crmine/deviation/explain.hpp>
#include <crmine/deviation/isolation_forest.hpp>
#include <crmine/deviation/robust_z.hpp>

#include "detector_helpers.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace crmine {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

RowMatrix rows(std::initializer_list<std::initializer_list<double>> values) {
  RowMatrix m(static_cast<Eigen::Index>(values.size()), static_cast<Eigen::Index>(values.begin()->size()));
  Eigen::Index i = 0;
  for (const auto& r : values) {
    Eigen::Index j = 0;
    for (double v : r) m(i, j++) = v;
    ++i;
  }
  return m;
}

TEST(RobustContributions, AreValueMinusReferenceOverAPositiveScale) {
  const RowMatrix X = rows({{3, 1, 5}, {0, 2, 5}});
  const RowMatrix ref = rows({{1, 1, 5}});
  const RowMatrix scale = rows({{2, 0, kNaN}});
  const RowMatrix z = robust_contributions(X, ref, scale);
  EXPECT_DOUBLE_EQ(z(0, 0), 1.0);
  EXPECT_DOUBLE_EQ(z(1, 0), -0.5);
  // A zero or unknown spread cannot judge the feature, even where the value equals the reference.
  EXPECT_TRUE(std::isnan(z(0, 1)) && std::isnan(z(1, 1)) && std::isnan(z(0, 2)));
}

TEST(RobustContributions, TakeOneReferenceRowPerRow) {
  const RowMatrix X = rows({{3, 1}, {0, 2}});
  const RowMatrix z = robust_contributions(X, rows({{1, 1}, {2, 0}}), rows({{1, 1}, {4, 4}}));
  EXPECT_DOUBLE_EQ(z(0, 0), 2.0);
  EXPECT_DOUBLE_EQ(z(1, 0), -0.5);
  EXPECT_DOUBLE_EQ(z(1, 1), 0.5);
}

TEST(DetectorContributions, AreTheScoreGainOfResettingEachFeature) {
  const auto data = test::make_planted(300, 4, 0, 3);
  RobustZ detector;  // max |z|: resetting the one extreme feature removes the whole deviation
  detector.fit(data.X);
  RowMatrix odd = data.X.topRows(2);
  odd(0, 2) = 25.0;
  odd(1, 1) = -30.0;
  const RowMatrix ref = detector.center().transpose();
  const RowMatrix c = detector_contributions(detector, odd, ref);
  for (Eigen::Index i = 0; i < 2; ++i)
    for (Eigen::Index j = 0; j < 4; ++j) {
      RowMatrix variant = odd.row(i);
      variant(0, j) = ref(0, j);
      EXPECT_DOUBLE_EQ(c(i, j), detector.score_samples(variant)[0] - detector.score_samples(odd.row(i))[0]);
    }
  EXPECT_GT(c(0, 2), 1.0);
  EXPECT_GT(c(1, 1), 1.0);
}

TEST(DetectorContributions, DoNotDependOnTheBlocksRowsAreScoredIn) {
  const auto data = test::make_planted(2000, 3, 20, 5);
  IsolationForest forest;
  forest.fit(data.X);
  const RowMatrix ref = RowMatrix::Zero(1, 3);
  // 20,000 rows x 4 variants cross several blocks of the scorer.
  RowMatrix many(20000, 3);
  for (Eigen::Index i = 0; i < many.rows(); ++i) many.row(i) = data.X.row(i % data.X.rows());
  const RowMatrix all = detector_contributions(forest, many, ref);
  const RowMatrix one = detector_contributions(forest, data.X.topRows(2000), ref);
  EXPECT_EQ(all.topRows(2000), one);
  EXPECT_EQ(all.middleRows(2000, 2000), one);
  // Any scorer: a custom function sees the same variants.
  const RowMatrix through_function =
      detector_contributions([&](MatrixRef block) { return forest.score_samples(block); }, data.X, ref);
  EXPECT_EQ(through_function, one);
}

TEST(DetectorContributions, RejectNaNMismatchesAndUnfittedDetectors) {
  RobustZ detector;
  const RowMatrix X = rows({{1, 2}, {3, 4}, {5, 7}});
  EXPECT_THROW(detector_contributions(detector, X, rows({{0, 0}})), NotFittedError);
  detector.fit(X);
  EXPECT_THROW(detector_contributions(detector, rows({{1, 2, 3}}), rows({{0, 0, 0}})), InvalidArgument);
  EXPECT_THROW(detector_contributions(detector, rows({{1, kNaN}}), rows({{0, 0}})), InvalidArgument);
  EXPECT_THROW(detector_contributions(detector, X, rows({{0, kNaN}})), InvalidArgument);
  EXPECT_THROW(detector_contributions(detector, X, rows({{0, 0}, {0, 0}})), InvalidArgument);
  const ScoreFunction short_scores = [](MatrixRef block) { return Eigen::VectorXd::Zero(block.rows() - 1).eval(); };
  EXPECT_THROW(detector_contributions(short_scores, X, rows({{0, 0}})), InvalidArgument);
}

TEST(TopContributions, RankByStrengthKeepColumnOrderOnTiesAndSkipNonFinite) {
  const RowMatrix X = rows({{1, 2, 3, 4}, {5, 5, 5, 5}});
  const RowMatrix ref = rows({{0, 2, 9, 0}});
  const RowMatrix contribution = rows({{1, 0, -6, 4}, {5, 3, -4, 5}});
  // Row 0: 4 > 1 = 1 (ties by column) > NaN. Row 1: +inf takes rank 1 and is skipped.
  const RowMatrix strength = rows({{1, kNaN, 1, 4}, {kInf, 3, 4, 5}});
  const Explanation e = top_contributions(X, ref, contribution, strength, 3);
  ASSERT_EQ(e.size(), 5u);
  EXPECT_EQ(e.row, (std::vector<std::int64_t>{0, 0, 0, 1, 1}));
  EXPECT_EQ(e.rank, (std::vector<std::int32_t>{1, 2, 3, 2, 3}));
  EXPECT_EQ(e.feature, (std::vector<std::int32_t>{3, 0, 2, 3, 2}));
  EXPECT_EQ(e.value, (std::vector<double>{4, 1, 3, 5, 5}));
  EXPECT_EQ(e.reference, (std::vector<double>{0, 0, 9, 0, 9}));
  EXPECT_EQ(e.contribution, (std::vector<double>{4, 1, -6, 5, -4}));
  EXPECT_EQ(e.direction, (std::vector<Direction>{Direction::above, Direction::above, Direction::below, Direction::above,
                                                 Direction::below}));
  // top beyond the feature count keeps every finite feature.
  EXPECT_EQ(top_contributions(X, ref, contribution, strength, 10).size(), 6u);
}

TEST(TopContributions, RejectBadArguments) {
  const RowMatrix X = rows({{1, 2}});
  const RowMatrix ok = rows({{0, 0}});
  EXPECT_THROW(top_contributions(X, ok, ok, ok, 0), InvalidArgument);
  EXPECT_THROW(top_contributions(X, ok, rows({{0, 0, 0}}), ok, 1), InvalidArgument);
  EXPECT_THROW(top_contributions(X, rows({{0}}), ok, ok, 1), InvalidArgument);
  EXPECT_THROW(top_contributions(RowMatrix(0, 2), ok, RowMatrix(0, 2), RowMatrix(0, 2), 1), InvalidArgument);
  EXPECT_THROW(robust_contributions(X, ok, rows({{1, 1}, {1, 1}, {1, 1}})), InvalidArgument);
}

}  // namespace
}  // namespace crmine
