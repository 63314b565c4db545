// SPDX-License-Identifier: Apache-2.0
// KPrototypes, KModes and GaussianMixture: planted structure, threads, save/load, bad input.
#include <crmine/cluster.hpp>

#include <gtest/gtest.h>

#include "cluster/helpers.hpp"

#include <limits>

namespace crmine {
namespace {

using test::adjusted_rand;

struct Mixed {
  RowMatrix num;
  RowMatrixXi cat;
  Eigen::VectorXi truth;
};

/// Numeric blobs plus categorical columns that agree with the cluster 85% of the time.
Mixed make_mixed(Eigen::Index n, int k, std::uint64_t seed) {
  const auto blobs = test::make_blobs(n, 2, k, 4.0, seed);
  Random rng(seed + 1);
  Mixed m{blobs.X, RowMatrixXi(n, 3), blobs.truth};
  for (Eigen::Index i = 0; i < n; ++i)
    for (Eigen::Index c = 0; c < 3; ++c)
      m.cat(i, c) = rng.uniform() < 0.85 ? blobs.truth[i] : static_cast<std::int32_t>(rng.below(static_cast<std::uint64_t>(k + 2)));
  return m;
}

KPrototypesOptions kp(int k, int threads = 0) {
  KPrototypesOptions o;
  o.n_clusters = k;
  o.n_threads = threads;
  return o;
}

TEST(KPrototypes, RecoversPlantedMixedClusters) {
  const Mixed d = make_mixed(6000, 4, 11);
  KPrototypes m(kp(4));
  m.fit(d.num, d.cat);
  EXPECT_GT(adjusted_rand(m.labels(), d.truth), 0.95);
  EXPECT_GT(m.gamma(), 0.0);
  EXPECT_TRUE(m.report().converged);
  EXPECT_NEAR(m.cost(), m.cost_of(d.num, d.cat), 1e-9 * m.cost());
  // Both parts matter: numeric alone is blurrier than mixed.
  KPrototypesOptions o = kp(4);
  o.gamma = 0;
  KPrototypes numeric_only(o);
  numeric_only.fit(d.num, d.cat);
  EXPECT_GT(adjusted_rand(m.labels(), d.truth), adjusted_rand(numeric_only.labels(), d.truth));
}

TEST(KPrototypes, ThreadsSeedsAndSaveLoad) {
  const Mixed d = make_mixed(9000, 3, 12);
  KPrototypes one(kp(3, 1)), two(kp(3, 2));
  one.fit(d.num, d.cat);
  two.fit(d.num, d.cat);
  EXPECT_EQ(one.numeric_centroids(), two.numeric_centroids());
  EXPECT_EQ(one.categorical_centroids(), two.categorical_centroids());
  EXPECT_EQ(one.cost(), two.cost());
  const KPrototypes back = test::round_trip(one);
  EXPECT_EQ(back.predict(d.num, d.cat), one.predict(d.num, d.cat));
  EXPECT_EQ(back.gamma(), one.gamma());
  std::string bytes = test::bytes_of(one);
  bytes[bytes.size() / 2] ^= 0x40;
  std::istringstream in(bytes);
  EXPECT_THROW(KPrototypes::load(in), ModelFormatError);
}

TEST(KPrototypes, UnknownCategoriesMismatchEveryPrototype) {
  const Mixed d = make_mixed(600, 3, 13);
  KPrototypes m(kp(3));
  m.fit(d.num, d.cat);
  RowMatrixXi unseen = d.cat.topRows(5);
  unseen.setConstant(999);
  const RowMatrix D = m.transform(d.num.topRows(5), unseen);
  const RowMatrix numeric = KMeans::from_centroids(m.numeric_centroids()).transform(d.num.topRows(5));
  for (Eigen::Index i = 0; i < 5; ++i)
    for (Eigen::Index j = 0; j < 3; ++j) EXPECT_NEAR(D(i, j), numeric(i, j) * numeric(i, j) + 3 * m.gamma(), 1e-9);
}

TEST(KPrototypes, BadInputThrowsNamingTheArgument) {
  const Mixed d = make_mixed(100, 2, 14);
  EXPECT_INVALID_NAMING(KPrototypes(kp(0)).fit(d.num, d.cat), "n_clusters");
  EXPECT_INVALID_NAMING(KPrototypes(kp(200)).fit(d.num, d.cat), "n_clusters");
  RowMatrixXi neg = d.cat;
  neg(3, 1) = -1;
  EXPECT_INVALID_NAMING(KPrototypes(kp(2)).fit(d.num, neg), "X_cat");
  RowMatrix nan = d.num;
  nan(0, 0) = std::numeric_limits<double>::quiet_NaN();
  EXPECT_INVALID_NAMING(KPrototypes(kp(2)).fit(nan, d.cat), "X_num");
  EXPECT_INVALID_NAMING(KPrototypes(kp(2)).fit(d.num.topRows(10), d.cat), "X_cat");
  KPrototypes fitted(kp(2));
  fitted.fit(d.num, d.cat);
  EXPECT_INVALID_NAMING(fitted.predict(d.num, d.cat.leftCols(2)), "X_cat");
}

TEST(KModes, ClustersCategoricalRows) {
  const Mixed d = make_mixed(3000, 4, 15);
  KModes m(kp(4));
  m.fit(d.cat);
  EXPECT_GT(adjusted_rand(m.labels(), d.truth), 0.9);
  // The cost is the number of mismatches.
  const RowMatrix D = m.transform(d.cat);
  double cost = 0;
  for (Eigen::Index i = 0; i < D.rows(); ++i) cost += D.row(i).minCoeff();
  EXPECT_EQ(cost, m.cost());
  const KModes back = test::round_trip(m);
  EXPECT_EQ(back.centroids(), m.centroids());
  std::istringstream wrong(test::bytes_of(m));
  EXPECT_THROW(KPrototypes::load(wrong), ModelFormatError);
  const RowMatrixXi same = RowMatrixXi::Zero(10, 2);
  EXPECT_INVALID_NAMING(KModes(kp(2)).fit(same), "distinct");
}

TEST(GaussianMixture, RecoversBlobsWithFullAndDiagonalCovariances) {
  const auto b = test::make_blobs(6000, 3, 4, 8.0, 21);
  for (auto type : {CovarianceType::full, CovarianceType::diag}) {
    GaussianMixtureOptions o;
    o.n_components = 4;
    o.covariance_type = type;
    GaussianMixture g(o);
    g.fit(b.X);
    EXPECT_GT(adjusted_rand(g.predict(b.X), b.truth), 0.99);
    EXPECT_TRUE(g.report().converged);
    EXPECT_NEAR(g.weights().sum(), 1.0, 1e-12);
    // Unit-variance blobs: each covariance is close to the identity.
    const RowMatrix c = g.covariance(0);
    EXPECT_NEAR(c(0, 0), 1.0, 0.15);
    // Separated unit blobs of equal weight: log p(x) ~ log(1/4) + the 3-d unit Gaussian's
    // mean log density -1.5 (1 + log 2 pi).
    EXPECT_NEAR(g.score(b.X), std::log(0.25) - 1.5 * (1 + std::log(2 * 3.141592653589793)), 0.05);
    const RowMatrix p = g.predict_proba(b.X.topRows(10));
    for (Eigen::Index i = 0; i < 10; ++i) EXPECT_NEAR(p.row(i).sum(), 1.0, 1e-12);
  }
}

TEST(GaussianMixture, BicPrefersThePlantedK) {
  const auto b = test::make_blobs(3000, 2, 3, 8.0, 22);
  std::vector<double> bic;
  for (int k = 1; k <= 5; ++k) {
    GaussianMixtureOptions o;
    o.n_components = k;
    GaussianMixture g(o);
    g.fit(b.X);
    bic.push_back(g.bic(b.X));
  }
  EXPECT_EQ(std::min_element(bic.begin(), bic.end()) - bic.begin(), 2);
}

TEST(GaussianMixture, ThreadsSeedsAndSaveLoad) {
  const auto b = test::make_blobs(70000, 3, 3, 3.0, 23);  // several blocks
  GaussianMixtureOptions o;
  o.n_components = 3;
  o.n_threads = 1;
  GaussianMixture one(o);
  one.fit(b.X);
  o.n_threads = 2;
  GaussianMixture two(o);
  two.fit(b.X);
  EXPECT_EQ(one.means(), two.means());
  EXPECT_EQ(one.covariance(1), two.covariance(1));
  EXPECT_EQ(one.lower_bound(), two.lower_bound());
  const GaussianMixture back = test::round_trip(one);
  EXPECT_EQ(back.score_samples(b.X.topRows(100)), one.score_samples(b.X.topRows(100)));
  std::string bytes = test::bytes_of(one);
  std::istringstream truncated(bytes.substr(0, 40));
  EXPECT_THROW(GaussianMixture::load(truncated), ModelFormatError);
}

TEST(GaussianMixture, SampleWeightsActLikeRepeatedRows) {
  const auto b = test::make_blobs(900, 2, 3, 6.0, 25);
  // Weights 0..3: a row of weight w must count exactly as w copies of it (0 = left out).
  Eigen::VectorXd w(b.X.rows());
  Eigen::Index copies = 0;
  for (Eigen::Index i = 0; i < w.size(); ++i) copies += static_cast<Eigen::Index>(w[i] = static_cast<double>(i % 4));
  RowMatrix repeated(copies, b.X.cols());
  for (Eigen::Index i = 0, at = 0; i < w.size(); ++i)
    for (int c = 0; c < static_cast<int>(w[i]); ++c) repeated.row(at++) = b.X.row(i);
  for (auto cov : {CovarianceType::full, CovarianceType::diag}) {
    GaussianMixtureOptions o;
    o.n_components = 3;
    o.covariance_type = cov;
    o.tol = 1e-12;
    o.max_iter = 500;
    GaussianMixture weighted(o), copied(o);
    weighted.fit(b.X, w);
    copied.fit(repeated);
    // Components may come out in another order: match them by their means.
    for (int j = 0; j < 3; ++j) {
      Eigen::Index m = 0;
      (copied.means().rowwise() - weighted.means().row(j)).rowwise().squaredNorm().minCoeff(&m);
      EXPECT_LT((copied.means().row(m) - weighted.means().row(j)).cwiseAbs().maxCoeff(), 1e-8);
      EXPECT_NEAR(copied.weights()[m], weighted.weights()[j], 1e-10);
      EXPECT_LT((copied.covariance(static_cast<int>(m)) - weighted.covariance(j)).cwiseAbs().maxCoeff(), 1e-8);
    }
    EXPECT_NEAR(copied.lower_bound(), weighted.lower_bound(), 1e-9 * std::abs(copied.lower_bound()));
  }
  GaussianMixtureOptions o;
  o.n_components = 3;
  Eigen::VectorXd bad = w;
  bad[5] = -1;
  EXPECT_INVALID_NAMING(GaussianMixture(o).fit(b.X, bad), "sample_weight");
  EXPECT_INVALID_NAMING(GaussianMixture(o).fit(b.X, w.head(10)), "sample_weight");
}

TEST(GaussianMixture, BadInputThrowsNamingTheArgument) {
  const auto b = test::make_blobs(50, 2, 2, 8.0, 24);
  GaussianMixtureOptions o;
  o.n_components = 0;
  EXPECT_INVALID_NAMING(GaussianMixture(o).fit(b.X), "n_components");
  o.n_components = 2;
  o.reg_covar = -1;
  EXPECT_INVALID_NAMING(GaussianMixture(o).fit(b.X), "reg_covar");
  o.reg_covar = 0;
  RowMatrix collinear(6, 2);
  collinear << 0, 0, 1, 1, 2, 2, 10, 10, 11, 11, 12, 12;
  EXPECT_INVALID_NAMING(GaussianMixture(o).fit(collinear), "reg_covar");
  o.reg_covar = 1e-6;
  EXPECT_NO_THROW(GaussianMixture(o).fit(collinear));
  EXPECT_THROW(GaussianMixture(o).predict(b.X), NotFittedError);
}

}  // namespace
}  // namespace crmine
