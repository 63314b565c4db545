// SPDX-License-Identifier: Apache-2.0
// HBOS, RobustZ and Mahalanobis: reference values (pyod, scipy), planted outliers, save/load, bad input.
#include <crmine/deviation.hpp>

#include <gtest/gtest.h>

#include "deviation/detector_helpers.hpp"

#include <limits>

namespace crmine {
namespace {

using test::auc;
using test::make_planted;

// --- HBOS ----------------------------------------------------------------------------------------

TEST(HBOS, MatchesPyodOnAHandCheckableHistogram) {
  // pyod.models.hbos.HBOS(n_bins=5).fit(X): hist_ = [0.15, 0.2, 0.05, 0, 0.1], edges 0, 2, ..., 10;
  // -decision_function at the query points below.
  RowMatrix X(10, 1);
  X << 0, 1, 1, 2, 3, 3, 3, 4, 9, 10;
  HBOSOptions o;
  o.n_bins = 5;
  HBOS m(o);
  m.fit(X);
  EXPECT_TRUE(m.densities().isApprox((RowMatrix(1, 5) << 0.15, 0.2, 0.05, 0, 0.1).finished()));
  EXPECT_TRUE(m.bin_edges().isApprox((RowMatrix(1, 6) << 0, 2, 4, 6, 8, 10).finished()));
  RowMatrix q(7, 1);
  q << 0, 1, 9.5, 10, 10.4, 12, -3;
  const Eigen::VectorXd s = m.score_samples(q);
  const double expected[] = {-2.0, -2.0, -2.321928094887362, -2.321928094887362, -2.321928094887362,
                             -3.321928094887362, -3.321928094887362};
  for (int i = 0; i < 7; ++i) EXPECT_NEAR(s[i], expected[i], 1e-12) << i;
}

TEST(HBOS, RanksPlantedSpikesAndThreadsDoNotMatter) {
  const auto p = make_planted(4000, 5, 60, 11);
  HBOSOptions o;
  o.n_threads = 1;
  HBOS one(o);
  one.fit(p.X);
  o.n_threads = 2;
  HBOS two(o);
  two.fit(p.X);
  EXPECT_TRUE(one.score_samples(p.X) == two.score_samples(p.X));
  // Features are scored independently, so broken correlations are invisible to HBOS; spikes and
  // shifts are not.
  EXPECT_GT(auc(p.is_outlier, one.deviation_score(p.X)), 0.75);
  EXPECT_NEAR((one.predict(p.X).array() == -1).cast<double>().mean(), 0.1, 0.01);
  test::expect_detector_contract(one, p.X);
  EXPECT_TRUE(one.feature_scores(p.X).rowwise().sum().isApprox(one.score_samples(p.X)));
  test::expect_round_trip(one, p.X);
}

TEST(HBOS, ConstantFeatureSpansPlusMinusHalfLikeNumpy) {
  RowMatrix X = RowMatrix::Constant(20, 1, 3.0);
  HBOS m;
  m.fit(X);
  EXPECT_DOUBLE_EQ(m.bin_edges()(0, 0), 2.5);
  EXPECT_DOUBLE_EQ(m.bin_edges()(0, 10), 3.5);
}

TEST(HBOS, RejectsBadOptions) {
  const auto p = make_planted(100, 2, 1, 12);
  HBOSOptions o;
  o.n_bins = 1;
  EXPECT_THROW(HBOS(o).fit(p.X), InvalidArgument);
  o = {};
  o.alpha = 0;
  EXPECT_THROW(HBOS(o).fit(p.X), InvalidArgument);
  o = {};
  o.contamination = kAutoContamination;  // HBOS has no 'auto' rule
  EXPECT_THROW(HBOS(o).fit(p.X), InvalidArgument);
}

// --- RobustZ -------------------------------------------------------------------------------------

TEST(RobustZ, MedianAndScaledMadLikeScipy) {
  // scipy.stats.median_abs_deviation([1, 2, 3, 4, 100], scale='normal') = 1.482602218505602.
  RowMatrix X(5, 2);
  X << 1, 0, 2, 0, 3, 0, 4, 5, 100, 0;
  RobustZ m;
  m.fit(X);
  EXPECT_DOUBLE_EQ(m.center()[0], 3.0);
  EXPECT_NEAR(m.scale()[0], 1.482602218505602, 1e-15);
  // Column 2 has MAD 0: the scale falls back to sqrt(pi/2) x mean |x - median| = 1.2533 x 1.
  EXPECT_NEAR(m.scale()[1], 1.2533141373155003, 1e-15);
  const RowMatrix z = m.z_scores(X);
  EXPECT_NEAR(z(4, 0), 97 / 1.482602218505602, 1e-12);
  EXPECT_NEAR(m.deviation_score(X)[4], 97 / 1.482602218505602, 1e-12);  // max |z|
}

TEST(RobustZ, ConstantFeatureIsIgnored) {
  RowMatrix X(6, 2);
  X << 1, 7, 2, 7, 3, 7, 4, 7, 5, 7, 6, 7;
  RobustZOptions o;
  o.aggregate = RobustZAggregate::rms;
  RobustZ m(o);
  m.fit(X);
  EXPECT_EQ(m.scale()[1], 0.0);
  RowMatrix q(1, 2);
  q << 3.5, 1000;
  EXPECT_EQ(m.z_scores(q)(0, 1), 0.0);
  EXPECT_EQ(m.deviation_score(q)[0], 0.0);  // the row is at the median of the only scaled feature
}

TEST(RobustZ, RanksPlantedOutliersSaveLoadAndContract) {
  const auto p = make_planted(3000, 6, 60, 13);
  for (auto agg : {RobustZAggregate::max_abs, RobustZAggregate::rms}) {
    RobustZOptions o;
    o.aggregate = agg;
    o.contamination = 0.05;
    RobustZ m(o);
    m.fit(p.X);
    EXPECT_GT(auc(p.is_outlier, m.deviation_score(p.X)), 0.8) << int(agg);
    test::expect_detector_contract(m, p.X);
    test::expect_round_trip(m, p.X);
  }
}

// --- Mahalanobis (MCD) ---------------------------------------------------------------------------

TEST(Mahalanobis, Chi2QuantilesMatchScipy) {
  EXPECT_NEAR(chi2_quantile(0.5, 1), 0.454936423119572, 1e-12);
  EXPECT_NEAR(chi2_quantile(0.975, 2), 7.377758908227871, 1e-12);
  EXPECT_NEAR(chi2_quantile(0.975, 10), 20.483177350807388, 1e-11);
  EXPECT_NEAR(chi2_quantile(0.5, 20), 19.337429229428256, 1e-11);
  EXPECT_NEAR(chi2_quantile(0.01, 3), 0.11483180189911707, 1e-12);
}

TEST(Mahalanobis, RobustEstimateIgnoresAFifthOfGrossOutliers) {
  // Inliers N(0, diag(1, 4, 9)); 20% of the rows far away in one cluster pull the classical
  // estimate, not the MCD.
  Random rng(21);
  RowMatrix X(2000, 3);
  for (Eigen::Index i = 0; i < X.rows(); ++i)
    for (Eigen::Index j = 0; j < 3; ++j) X(i, j) = (i < 1600 ? (j + 1.0) * test::normal(rng) : 20.0 + 0.5 * test::normal(rng));
  Mahalanobis m;
  m.fit(X);
  EXPECT_LT(m.location().cwiseAbs().maxCoeff(), 0.25);
  const Eigen::Vector3d var(1, 4, 9);
  // Sampling error of a variance from ~1600 rows after trimming is several percent; scikit-learn
  // MinCovDet gives the same estimate on the same rows (tests/python/test_deviation_detectors.py).
  for (int j = 0; j < 3; ++j) EXPECT_NEAR(m.covariance()(j, j) / var[j], 1.0, 0.15) << j;
  EXPECT_EQ(m.support_size(), 1002);
  Eigen::VectorXi truth = Eigen::VectorXi::Zero(2000);
  truth.tail(400).setOnes();
  EXPECT_GT(auc(truth, m.deviation_score(X)), 0.999);
  EXPECT_TRUE(m.deviation_score(X).isApprox(m.mahalanobis(X)));
}

TEST(Mahalanobis, FindsBrokenCorrelationsSeedsThreadsSaveLoad) {
  const auto p = make_planted(3000, 5, 60, 14);
  MahalanobisOptions o;
  o.n_threads = 1;
  Mahalanobis one(o);
  one.fit(p.X);
  o.n_threads = 2;
  Mahalanobis two(o);
  two.fit(p.X);
  EXPECT_TRUE(one.score_samples(p.X) == two.score_samples(p.X));
  EXPECT_GT(auc(p.is_outlier, one.deviation_score(p.X)), 0.97);
  test::expect_detector_contract(one, p.X);
  test::expect_round_trip(one, p.X);
}

TEST(Mahalanobis, ExplainsSingularAndTooSmallInput) {
  const auto p = make_planted(500, 3, 5, 15);
  RowMatrix X(500, 4);
  X.leftCols(3) = p.X;
  X.col(3).setConstant(1.0);
  try {
    Mahalanobis().fit(X);
    FAIL() << "a constant feature must be refused";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("feature 3 is constant"), std::string::npos) << e.what();
  }
  // A 0/1 flag that is 0 in 90% of the rows: every h-subset may be constant in it.
  for (Eigen::Index i = 0; i < 500; ++i) X(i, 3) = i % 10 == 0 ? 1.0 : 0.0;
  try {
    Mahalanobis().fit(X);
    FAIL() << "an exact fit must be reported";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("feature 3"), std::string::npos) << e.what();
  }
  EXPECT_THROW(Mahalanobis().fit(p.X.topRows(4)), InvalidArgument);
  MahalanobisOptions o;
  o.support_fraction = 1.5;
  EXPECT_THROW(Mahalanobis(o).fit(p.X), InvalidArgument);
}

}  // namespace
}  // namespace crmine
