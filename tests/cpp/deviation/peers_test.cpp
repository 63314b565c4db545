// SPDX-License-Identifier: Apache-2.0
// peer_deviations: segment medians and robust spreads with their fallbacks, small segments, NaN, threads.
#include <crmine/deviation.hpp>
#include <crmine/core/errors.hpp>

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <numbers>

namespace crmine {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kQ3 = 0.6744897501960817;

TEST(PeerDeviations, MedianAndMadPerSegment) {
  // Segment 0: 1, 2, 3, 4, 100 (median 3, MAD 1); segment 1: 10, 20, 30, 40, 50, 60 (median 35,
  // absolute deviations 25 15 5 5 15 25: MAD 15).
  RowMatrix X(11, 1);
  X << 1, 10, 2, 20, 3, 30, 4, 40, 100, 50, 60;
  Eigen::VectorXi seg(11);
  seg << 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 1;
  const PeerDeviations p = peer_deviations(X, seg, 5);
  EXPECT_EQ(p.median(0, 0), 3.0);
  EXPECT_EQ(p.median(1, 0), 35.0);
  EXPECT_DOUBLE_EQ(p.scale(8, 0), 1.0 / kQ3);
  EXPECT_DOUBLE_EQ(p.scale(10, 0), 15.0 / kQ3);
  EXPECT_DOUBLE_EQ(p.z(8, 0), 97.0 * kQ3);
  EXPECT_DOUBLE_EQ(p.z(10, 0), 25.0 * kQ3 / 15.0);
  EXPECT_DOUBLE_EQ(p.score[8], 97.0 * kQ3);
  EXPECT_EQ(p.driver[8], 0);
}

TEST(PeerDeviations, SpreadFallsBackToIqrThenMeanAbsoluteDeviation) {
  // Column 0: 1 1 1 5 9: MAD 0, type-7 quartiles 1 and 5 -> IQR 4. Column 1: 2 2 2 2 7: MAD 0,
  // IQR 0, mean absolute deviation 1. Column 2 constant: no spread, NaN z.
  RowMatrix X(5, 3);
  X << 1, 2, 4,  //
      1, 2, 4,   //
      1, 2, 4,   //
      5, 2, 4,   //
      9, 7, 4;
  const PeerDeviations p = peer_deviations(X, Eigen::VectorXi::Zero(5), 5);
  EXPECT_DOUBLE_EQ(p.scale(0, 0), 4.0 / (2 * kQ3));
  EXPECT_DOUBLE_EQ(p.scale(0, 1), std::sqrt(std::numbers::pi / 2) * 1.0);
  EXPECT_TRUE(std::isnan(p.scale(0, 2)));
  EXPECT_TRUE(std::isnan(p.z(4, 2)));
  EXPECT_DOUBLE_EQ(p.score[4], std::max(8.0 / (4.0 / (2 * kQ3)), 5.0 / std::sqrt(std::numbers::pi / 2)));
}

TEST(PeerDeviations, SmallSegmentsAndMissingValuesGetNaN) {
  RowMatrix X(7, 2);
  X << 1, kNaN,  //
      2, 5,      //
      3, 6,      //
      4, 7,      //
      50, 8,     //
      1, 1,      //
      2, 2;
  Eigen::VectorXi seg(7);
  seg << 0, 0, 0, 0, 0, 1, 1;
  const PeerDeviations p = peer_deviations(X, seg, 5);
  // NaN values are left out of the segment's statistics and keep a NaN z.
  EXPECT_EQ(p.median(0, 1), 6.5);
  EXPECT_TRUE(std::isnan(p.z(0, 1)));
  EXPECT_EQ(p.driver[0], 0);
  // Segment 1 has 2 rows < min_peers: statistics, but no z and no score.
  EXPECT_EQ(p.median(5, 0), 1.5);
  EXPECT_TRUE(std::isnan(p.z(5, 0)) && std::isnan(p.score[5]));
  EXPECT_EQ(p.driver[5], -1);
  EXPECT_FALSE(std::isnan(peer_deviations(X, seg, 2).score[5]));
}

TEST(PeerDeviations, SameResultAtAnyThreadCount) {
  RowMatrix X = RowMatrix::Random(3000, 4);
  Eigen::VectorXi seg(3000);
  for (int i = 0; i < 3000; ++i) seg[i] = (i * 7) % 13;
  const PeerDeviations one = peer_deviations(X, seg, 5, 1), two = peer_deviations(X, seg, 5, 2);
  EXPECT_TRUE(one.z == two.z);
  EXPECT_TRUE(one.scale == two.scale);
  EXPECT_TRUE(one.driver == two.driver);
}

TEST(PeerDeviations, RejectsBadInput) {
  RowMatrix X = RowMatrix::Random(6, 2);
  Eigen::VectorXi seg = Eigen::VectorXi::Zero(6);
  EXPECT_THROW(peer_deviations(X, Eigen::VectorXi::Zero(5)), InvalidArgument);
  EXPECT_THROW(peer_deviations(X, seg, 1), InvalidArgument);
  seg[2] = -1;
  EXPECT_THROW(peer_deviations(X, seg), InvalidArgument);
  seg[2] = 0;
  X(3, 1) = std::numeric_limits<double>::infinity();
  EXPECT_THROW(peer_deviations(X, seg), InvalidArgument);
}

}  // namespace
}  // namespace crmine
