// SPDX-License-Identifier: Apache-2.0
// Validity indices on hand-computed examples, the k sweep, profiles and the feature scaler.
#include <crmine/cluster.hpp>

#include <gtest/gtest.h>

#include "cluster/helpers.hpp"

namespace crmine {
namespace {

RowMatrix line(std::initializer_list<double> values) {
  RowMatrix X(static_cast<Eigen::Index>(values.size()), 1);
  Eigen::Index i = 0;
  for (double v : values) X(i++, 0) = v;
  return X;
}

TEST(Metrics, SilhouetteMatchesHandComputation) {
  const RowMatrix X = line({0, 1, 10, 11});
  Eigen::VectorXi labels(4);
  labels << 0, 0, 1, 1;
  const Eigen::VectorXd s = silhouette_samples(X, labels);
  // Row 0: a = 1, b = (10 + 11) / 2 = 10.5; row 1: a = 1, b = 9.5.
  EXPECT_NEAR(s[0], 9.5 / 10.5, 1e-15);
  EXPECT_NEAR(s[1], 8.5 / 9.5, 1e-15);
  EXPECT_NEAR(silhouette_score(X, labels), (2 * 9.5 / 10.5 + 2 * 8.5 / 9.5) / 4, 1e-15);
  labels << 0, 1, 1, 1;  // a singleton cluster scores 0
  EXPECT_EQ(silhouette_samples(X, labels)[0], 0.0);
}

TEST(Metrics, SampledSilhouetteIsCloseToExact) {
  const auto b = test::make_blobs(4000, 2, 3, 5.0, 31);
  const double exact = silhouette_score(b.X, b.truth);
  const double sampled = silhouette_score(b.X, b.truth, 1500, 7);
  EXPECT_NEAR(sampled, exact, 0.02);
  EXPECT_EQ(sampled, silhouette_score(b.X, b.truth, 1500, 7, 1));
}

TEST(Metrics, DaviesBouldinAndCalinskiHarabaszMatchHandComputation) {
  const RowMatrix X = line({0, 2, 10, 12});
  Eigen::VectorXi labels(4);
  labels << 0, 0, 1, 1;
  // Centres 1 and 11, scatters 1 and 1, separation 10: DB = 0.2.
  EXPECT_NEAR(davies_bouldin_score(X, labels), 0.2, 1e-15);
  // Between = 2*25 + 2*25 = 100 over k-1 = 1; within = 4 over n-k = 2: CH = 50.
  EXPECT_NEAR(calinski_harabasz_score(X, labels), 50.0, 1e-12);
}

TEST(Metrics, BadLabelsThrowNamingTheArgument) {
  const RowMatrix X = line({0, 1, 2});
  Eigen::VectorXi one_cluster = Eigen::VectorXi::Zero(3);
  EXPECT_INVALID_NAMING(silhouette_score(X, one_cluster), "labels");
  EXPECT_INVALID_NAMING(davies_bouldin_score(X, Eigen::VectorXi::Zero(2)), "labels");
  Eigen::VectorXi negative(3);
  negative << 0, -1, 1;
  EXPECT_INVALID_NAMING(calinski_harabasz_score(X, negative), "labels");
}

TEST(KSweep, SuggestsThePlantedK) {
  const auto b = test::make_blobs(3000, 3, 5, 9.0, 32);
  KSweepOptions o;
  o.ks = {2, 3, 4, 5, 6, 7};
  o.silhouette_sample_size = 1000;
  const KSweepResult r = k_sweep(b.X, o);
  EXPECT_EQ(r.suggested_k, 5);
  ASSERT_EQ(r.rows.size(), 6u);
  for (std::size_t i = 1; i < r.rows.size(); ++i) EXPECT_LT(r.rows[i].inertia, r.rows[i - 1].inertia);
  o.ks = {1};
  EXPECT_INVALID_NAMING(k_sweep(b.X, o), "ks");
}

TEST(Profiles, SizesSharesEffectsAndNames) {
  RowMatrix X(6, 2);  // spend, recency
  X << 100, 5, 120, 3, 110, 4, 10, 300, 12, 280, 11, 320;
  Eigen::VectorXi labels(6);
  labels << 0, 0, 0, 1, 1, 1;
  Eigen::VectorXd value = X.col(0);
  ProfileOptions o;
  o.feature_names = {"spend", "recency"};
  o.high_words = {"high spend", "lapsed"};
  o.low_words = {"low spend", "recent"};
  const auto p = segment_profiles(X, labels, value, o);
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[0].size, 3);
  EXPECT_DOUBLE_EQ(p[0].share, 0.5);
  EXPECT_DOUBLE_EQ(p[0].mean[0], 110.0);
  EXPECT_DOUBLE_EQ(p[0].median[1], 4.0);
  EXPECT_NEAR(p[0].value_share, 330.0 / 363.0, 1e-15);
  EXPECT_GT(p[0].effect[0], 0.5);
  EXPECT_LT(p[0].effect[1], -0.5);
  EXPECT_EQ(p[0].name, "recent, high spend");  // recency separates more than spend here
  EXPECT_EQ(p[1].name, "lapsed, low spend");
  EXPECT_INVALID_NAMING(segment_profiles(X, labels.head(3)), "labels");
}

TEST(FeatureScaler, StandardRobustLogAndInverse) {
  RowMatrix X(5, 2);
  X << 1, 0, 2, 10, 3, 20, 4, 30, 100, 40;
  FeatureScaler standard;
  standard.fit(X);
  const RowMatrix Z = standard.transform(X);
  EXPECT_NEAR(Z.col(0).mean(), 0.0, 1e-12);
  EXPECT_NEAR(std::sqrt(Z.col(1).array().square().mean()), 1.0, 1e-12);
  EXPECT_LT((standard.inverse_transform(Z) - X).cwiseAbs().maxCoeff(), 1e-9);
  FeatureScaler robust(ScalerOptions{ScaleMethod::robust, {1, 0}});
  robust.fit(X);
  EXPECT_NEAR(robust.center()[0], std::log1p(3.0), 1e-12);
  EXPECT_NEAR(robust.scale()[1], 20.0, 1e-12);
  EXPECT_LT((robust.inverse_transform(robust.transform(X)) - X).cwiseAbs().maxCoeff(), 1e-9);
  const FeatureScaler back = test::round_trip(robust);
  EXPECT_EQ(back.transform(X), robust.transform(X));
  RowMatrix negative = X;
  negative(0, 0) = -2;
  EXPECT_INVALID_NAMING(robust.transform(negative), "log1p");
}

}  // namespace
}  // namespace crmine
