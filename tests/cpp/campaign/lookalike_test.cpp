// SPDX-License-Identifier: Apache-2.0
// Tests of look-alike prospecting: exact kNN, look-alike scores, persistence, cross-sell look-alikes.
#include <crmine/campaign.hpp>
#include <crmine/core/errors.hpp>
#include <crmine/core/random.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>
#include <utility>
#include <vector>

namespace {

crmine::RowMatrix random_matrix(Eigen::Index n, Eigen::Index d, std::uint64_t seed, double shift = 0.0) {
  crmine::Random rng(seed);
  crmine::RowMatrix X(n, d);
  for (Eigen::Index i = 0; i < X.size(); ++i) X.data()[i] = rng.uniform() + shift;
  return X;
}

/// Two groups of 150 customers far apart; the first group are the best customers, worth 10 + row % 3.
struct TwoGroups {
  crmine::RowMatrix X;
  Eigen::VectorXi best;
  Eigen::VectorXd value;
  TwoGroups() : X(300, 3), best(300), value(300) {
    X.topRows(150) = random_matrix(150, 3, 1, 0.0);
    X.bottomRows(150) = random_matrix(150, 3, 2, 5.0);
    for (Eigen::Index i = 0; i < 300; ++i) {
      best[i] = i < 150 ? 1 : 0;
      value[i] = i < 150 ? 10.0 + static_cast<double>(i % 3) : 1.0;
    }
  }
};

}  // namespace

TEST(NearestNeighbors, MatchesAnExhaustiveSearch) {
  const auto R = random_matrix(3000, 5, 3), Q = random_matrix(300, 5, 4);
  const auto nb = crmine::nearest_neighbors(R, Q, 7);
  for (Eigen::Index i = 0; i < Q.rows(); ++i) {
    std::vector<std::pair<double, Eigen::Index>> all;
    for (Eigen::Index j = 0; j < R.rows(); ++j) all.emplace_back((R.row(j) - Q.row(i)).norm(), j);
    std::sort(all.begin(), all.end());
    for (int j = 0; j < 7; ++j) {
      EXPECT_EQ(nb.indices(i, j), all[j].second) << "query " << i;
      EXPECT_NEAR(nb.distances(i, j), all[j].first, 1e-9);
    }
  }
}

TEST(NearestNeighbors, ExcludeSelfSkipsTheQueryRow) {
  const auto R = random_matrix(500, 3, 5);
  const auto nb = crmine::nearest_neighbors(R, R, 3, true);
  for (Eigen::Index i = 0; i < R.rows(); ++i)
    for (int j = 0; j < 3; ++j) EXPECT_NE(nb.indices(i, j), i);
  EXPECT_THROW(crmine::nearest_neighbors(R, R, 500, true), crmine::InvalidArgument);
}

TEST(NearestNeighbors, SameAnswerAtAnyThreadCount) {
  const auto R = random_matrix(5000, 4, 6), Q = random_matrix(1000, 4, 7);
  const auto a = crmine::nearest_neighbors(R, Q, 5, false, 1);
  const auto b = crmine::nearest_neighbors(R, Q, 5, false, 2);
  EXPECT_EQ(a.indices, b.indices);
  EXPECT_EQ(a.distances, b.distances);
}

TEST(LookAlike, ProspectsNearTheBestCustomersScoreHigh) {
  TwoGroups g;
  crmine::LookAlikeOptions o;
  o.n_neighbors = 10;
  crmine::LookAlike m(o);
  m.fit(g.X, g.best, g.value);
  crmine::RowMatrix prospects(2, 3);
  prospects << 0.5, 0.5, 0.5, 5.5, 5.5, 5.5;
  const auto s = m.score(prospects);
  EXPECT_DOUBLE_EQ(s.p_best[0], 1.0);
  EXPECT_DOUBLE_EQ(s.p_best[1], 0.0);
  EXPECT_GE(s.similar_value[0], 10.0);
  EXPECT_LE(s.similar_value[0], 12.0);
  EXPECT_DOUBLE_EQ(s.expected_value[0], s.similar_value[0]);
  EXPECT_DOUBLE_EQ(s.expected_value[1], 0.0);
}

TEST(LookAlike, SaveLoadRoundTripAndCorruptBytes) {
  TwoGroups g;
  crmine::LookAlike m;
  m.fit(g.X, g.best, g.value);
  std::stringstream buf;
  m.save(buf);
  const std::string bytes = buf.str();
  std::istringstream in(bytes);
  const auto back = crmine::LookAlike::load(in);
  const auto P = random_matrix(50, 3, 8, 2.5);
  EXPECT_EQ(m.score(P).expected_value, back.score(P).expected_value);
  std::string bad = bytes;
  bad[bad.size() / 2] ^= 0x5a;
  std::istringstream corrupt(bad);
  EXPECT_THROW(crmine::LookAlike::load(corrupt), crmine::ModelFormatError);
}

TEST(LookAlike, RejectsBadInput) {
  TwoGroups g;
  crmine::LookAlike m;
  EXPECT_THROW(m.score(g.X), crmine::NotFittedError);
  Eigen::VectorXi all_best = Eigen::VectorXi::Ones(300);
  EXPECT_THROW(m.fit(g.X, all_best, g.value), crmine::InvalidArgument);
  Eigen::VectorXi short_best = g.best.head(10);
  EXPECT_THROW(m.fit(g.X, short_best, g.value), crmine::InvalidArgument);
  crmine::RowMatrix nan = g.X;
  nan(3, 1) = std::numeric_limits<double>::quiet_NaN();
  EXPECT_THROW(m.fit(nan, g.best, g.value), crmine::InvalidArgument);
  m.fit(g.X, g.best, Eigen::VectorXd());
  EXPECT_THROW(m.score(random_matrix(4, 2, 9)), crmine::InvalidArgument);
}

TEST(CrossSellScores, ProposesItemsOwnedByTheNeighboursOnly) {
  // Customers 0..3; customer 0 owns item 0; its neighbours 1, 2, 3 own {0, 1}, {1, 2}, {1}.
  const std::vector<std::int64_t> indptr{0, 1, 3, 5, 6}, items{0, 0, 1, 1, 2, 1};
  crmine::RowMatrixXl nb(4, 3);
  nb << 1, 2, 3, 0, 2, 3, 0, 1, 3, 0, 1, 2;
  const auto s = crmine::cross_sell_scores(nb, indptr, items, 3, 5, 0.3);
  ASSERT_GE(s.customer.size(), 2u);
  EXPECT_EQ(s.customer[0], 0);
  EXPECT_EQ(s.item[0], 1);
  EXPECT_DOUBLE_EQ(s.score[0], 1.0);
  EXPECT_EQ(s.item[1], 2);
  EXPECT_NEAR(s.score[1], 1.0 / 3.0, 1e-15);
  for (std::size_t t = 0; t < s.customer.size(); ++t) {
    const auto r = s.customer[t];
    for (auto j = indptr[r]; j < indptr[r + 1]; ++j) EXPECT_NE(items[j], s.item[t]) << "owned item proposed";
  }
  EXPECT_THROW(crmine::cross_sell_scores(nb, indptr, items, 2, 5, 0.3), crmine::InvalidArgument);
}
