// SPDX-License-Identifier: Apache-2.0
// LocalOutlierFactor: scikit-learn's values, kd-tree = brute force, novelty semantics, seeds-free
// determinism across threads, save/load, bad input.
#include <crmine/deviation.hpp>

#include <gtest/gtest.h>

#include "deviation/detector_helpers.hpp"

namespace crmine {
namespace {

using test::auc;
using test::make_planted;

RowMatrix seven_points() {
  RowMatrix X(7, 2);
  X << 0.34, 0.95, 3.21, 2.33, 0.38, 1.73, 1.92, 0.64, 2.94, 0.45, 9.0, 8.5, 1.72, 2.35;
  return X;
}

TEST(LocalOutlierFactor, MatchesScikitLearnOnSmallData) {
  // sklearn.neighbors.LocalOutlierFactor(n_neighbors=3).fit(X).negative_outlier_factor_ and, with
  // novelty=True, score_samples([[2, 2], [6, 6]]) (no distance ties, so the neighbours are unique).
  const double expected[] = {-0.96986973, -1.03056546, -0.96986973, -1.02571452, -1.03056546, -4.69610185, -0.97748757};
  for (auto alg : {NeighborAlgorithm::brute, NeighborAlgorithm::kd_tree}) {
    LocalOutlierFactorOptions o;
    o.n_neighbors = 3;
    o.algorithm = alg;
    o.leaf_size = 2;
    o.novelty = true;
    LocalOutlierFactor m(o);
    m.fit(seven_points());
    for (int i = 0; i < 7; ++i) EXPECT_NEAR(m.negative_outlier_factor()[i], expected[i], 1e-8) << i;
    RowMatrix q(2, 2);
    q << 2, 2, 6, 6;
    const Eigen::VectorXd s = m.score_samples(q);
    EXPECT_NEAR(s[0], -0.94004343, 1e-8);
    EXPECT_NEAR(s[1], -2.53073282, 1e-8);
  }
}

TEST(LocalOutlierFactor, KdTreeAndBruteForceAgreeAtAnyThreadCount) {
  const auto p = make_planted(3000, 4, 30, 31);
  LocalOutlierFactorOptions o;
  o.algorithm = NeighborAlgorithm::brute;
  o.n_threads = 1;
  LocalOutlierFactor brute(o);
  brute.fit(p.X);
  o.algorithm = NeighborAlgorithm::kd_tree;
  o.n_threads = 2;
  LocalOutlierFactor tree(o);
  tree.fit(p.X);
  EXPECT_LT((brute.negative_outlier_factor() - tree.negative_outlier_factor()).cwiseAbs().maxCoeff(), 1e-9);
  EXPECT_EQ(tree.algorithm_used(), NeighborAlgorithm::kd_tree);
  EXPECT_GT(auc(p.is_outlier, -tree.negative_outlier_factor()), 0.95);
  o.n_threads = 1;
  LocalOutlierFactor tree1(o);
  tree1.fit(p.X);
  EXPECT_TRUE(tree1.negative_outlier_factor() == tree.negative_outlier_factor());
}

TEST(LocalOutlierFactor, NoveltyScoresNewRowsOtherwiseOnlyTrainingRows) {
  const auto p = make_planted(1500, 3, 15, 32);
  LocalOutlierFactorOptions o;
  o.contamination = 0.01;
  LocalOutlierFactor plain(o);
  plain.fit(p.X);
  EXPECT_THROW(plain.score_samples(p.X), InvalidArgument);
  EXPECT_NEAR((plain.training_labels().array() == -1).cast<double>().mean(), 0.01, 0.001);
  o.novelty = true;
  LocalOutlierFactor novel(o);
  novel.fit(p.X);
  test::expect_detector_contract(novel, p.X);
  test::expect_round_trip(novel, p.X);
  EXPECT_TRUE(novel.negative_outlier_factor() == plain.negative_outlier_factor());
}

TEST(LocalOutlierFactor, FewerRowsThanNeighboursUsesAllOtherRows) {
  LocalOutlierFactor m;  // n_neighbors 20 > 6
  m.fit(seven_points());
  EXPECT_EQ(m.n_neighbors_used(), 6);
  // Duplicates: distance 0 neighbours give lrd 1e10 and finite factors.
  RowMatrix dup = RowMatrix::Zero(30, 2);
  dup(29, 0) = 1;
  LocalOutlierFactor d;
  d.fit(dup);
  EXPECT_TRUE(d.negative_outlier_factor().allFinite());
  EXPECT_LT(d.negative_outlier_factor()[29], -1e6);
}

TEST(LocalOutlierFactor, RejectsBadInput) {
  LocalOutlierFactorOptions o;
  o.n_neighbors = 0;
  EXPECT_THROW(LocalOutlierFactor(o).fit(seven_points()), InvalidArgument);
  o = {};
  o.contamination = 0.7;
  EXPECT_THROW(LocalOutlierFactor(o).fit(seven_points()), InvalidArgument);
  EXPECT_THROW(LocalOutlierFactor().fit(seven_points().topRows(1)), InvalidArgument);
  EXPECT_THROW(LocalOutlierFactor().negative_outlier_factor(), NotFittedError);
}

}  // namespace
}  // namespace crmine
