// SPDX-License-Identifier: Apache-2.0
// KMeans and MiniBatchKMeans: planted blobs, exact variants agree, seeds, threads, save/load, bad input.
#include <crmine/cluster.hpp>

#include <gtest/gtest.h>

#include "cluster/helpers.hpp"

#include <limits>
#include <utility>

namespace crmine {
namespace {

using test::adjusted_rand;
using test::make_blobs;

KMeansOptions opts(int k, int threads = 0) {
  KMeansOptions o;
  o.n_clusters = k;
  o.n_threads = threads;
  return o;
}

TEST(KMeans, RecoversSeparatedBlobs) {
  const auto b = make_blobs(6000, 5, 6, 12.0, 1);
  for (auto alg : {KMeansAlgorithm::lloyd, KMeansAlgorithm::hamerly, KMeansAlgorithm::yinyang}) {
    for (auto init : {KMeansInit::kmeans_plus_plus, KMeansInit::kmeans_parallel}) {
      KMeansOptions o = opts(6);
      o.algorithm = alg;
      o.init = init;
      o.n_init = 3;
      KMeans m(o);
      m.fit(b.X);
      const double ari = adjusted_rand(m.labels(), b.truth);
      EXPECT_GT(ari, 0.99) << "algorithm " << int(alg) << " init " << int(init);
      EXPECT_TRUE(m.report().converged);
      EXPECT_TRUE((m.predict(b.X).array() == m.labels().array()).all());
    }
  }
}

TEST(KMeans, LloydAndHamerlyReachTheSameCentres) {
  const auto b = make_blobs(5000, 4, 8, 3.0, 2);  // overlapping: many iterations
  KMeansOptions o = opts(8);
  o.tol = 0;
  o.algorithm = KMeansAlgorithm::lloyd;
  KMeans lloyd(o);
  lloyd.fit(b.X);
  o.algorithm = KMeansAlgorithm::hamerly;
  KMeans hamerly(o);
  hamerly.fit(b.X);
  EXPECT_EQ(lloyd.report().n_iter, hamerly.report().n_iter);
  EXPECT_NEAR(lloyd.inertia(), hamerly.inertia(), 1e-9 * lloyd.inertia());
  EXPECT_LT((lloyd.centroids() - hamerly.centroids()).cwiseAbs().maxCoeff(), 1e-9);
  // Hamerly's bounds must actually skip work.
  EXPECT_LT(hamerly.report().n_distance_evaluations, lloyd.report().n_distance_evaluations / 2);
}

TEST(KMeans, YinyangReachesLloydsCentresWithFarFewerDistances) {
  const auto b = make_blobs(3000, 6, 40, 2.0, 12);  // k = 40 overlapping blobs: many iterations
  KMeansOptions o = opts(40);
  o.tol = 0;
  o.algorithm = KMeansAlgorithm::lloyd;
  KMeans lloyd(o);
  lloyd.fit(b.X);
  o.algorithm = KMeansAlgorithm::yinyang;
  KMeans yinyang(o);
  yinyang.fit(b.X);
  o.algorithm = KMeansAlgorithm::hamerly;
  KMeans hamerly(o);
  hamerly.fit(b.X);
  EXPECT_GT(lloyd.report().n_iter, 10);
  EXPECT_EQ(lloyd.report().n_iter, yinyang.report().n_iter);
  EXPECT_EQ(lloyd.labels(), yinyang.labels());
  EXPECT_NEAR(lloyd.inertia(), yinyang.inertia(), 1e-9 * lloyd.inertia());
  EXPECT_LT((lloyd.centroids() - yinyang.centroids()).cwiseAbs().maxCoeff(), 1e-9);
  // Group bounds prune more than Hamerly's single bound at this k.
  EXPECT_LT(yinyang.report().n_distance_evaluations, hamerly.report().n_distance_evaluations);
  EXPECT_LT(yinyang.report().n_distance_evaluations, lloyd.report().n_distance_evaluations / 4);
}

TEST(KMeans, AutomaticChoosesYinyangFromThirtyTwoClusters) {
  const auto b = make_blobs(2000, 3, 4, 6.0, 13);
  const std::pair<int, KMeansAlgorithm> cases[] = {
      {2, KMeansAlgorithm::lloyd}, {8, KMeansAlgorithm::hamerly}, {31, KMeansAlgorithm::hamerly}, {32, KMeansAlgorithm::yinyang}};
  for (const auto& [k, expected] : cases) {
    KMeans m(opts(k));
    m.fit(b.X);
    EXPECT_EQ(m.algorithm_used(), expected) << "k = " << k;
  }
}

TEST(KMeans, PredictMatchesDirectNearestCentreOnNearTies) {
  // Rows exactly half-way between two centres, far from the origin, where ||x||^2 - 2 x.c + ||c||^2
  // loses most digits: the blocked kernel must re-check and break the tie to the lower index.
  RowMatrix centres(2, 2);
  centres << 1e4, 1e4, 1e4 + 2, 1e4;
  RowMatrix X(300, 2);
  for (Eigen::Index i = 0; i < X.rows(); ++i) X.row(i) << 1e4 + 1 + 1e-9 * static_cast<double>(i - 150), 1e4 + 0.5 * static_cast<double>(i % 7);
  const KMeans m = KMeans::from_centroids(centres);
  const Eigen::VectorXi labels = m.predict(X);
  for (Eigen::Index i = 0; i < X.rows(); ++i) {
    const double d0 = (X.row(i) - centres.row(0)).squaredNorm(), d1 = (X.row(i) - centres.row(1)).squaredNorm();
    EXPECT_EQ(labels[i], d1 < d0 ? 1 : 0) << "row " << i;
  }
}

TEST(KMeans, PredictIsTheExactNearestCentreForEveryK) {
  // k <= 16 takes the direct kernel (one to four panels of lanes), larger k the blocked products:
  // both must give the argmin of the plainly summed squared distance, lowest index on ties.
  const auto b = make_blobs(700, 7, 5, 2.0, 31);
  for (int k : {1, 2, 3, 4, 5, 8, 11, 12, 13, 16, 17, 24}) {
    RowMatrix centres = b.X.topRows(k);
    if (k > 2) centres.row(2) = centres.row(1);  // an exact tie: the lower index must win
    const Eigen::VectorXi labels = KMeans::from_centroids(centres).predict(b.X);
    for (Eigen::Index i = 0; i < b.X.rows(); ++i) {
      int best = 0;
      double best_d = std::numeric_limits<double>::infinity();
      for (int j = 0; j < k; ++j) {
        double s = 0;
        for (Eigen::Index f = 0; f < b.X.cols(); ++f) s += (b.X(i, f) - centres(j, f)) * (b.X(i, f) - centres(j, f));
        if (s < best_d) best_d = s, best = j;
      }
      ASSERT_EQ(labels[i], best) << "k = " << k << ", row " << i;
    }
  }
}

TEST(KMeans, SeedRepeatabilityAndSeedMatters) {
  const auto b = make_blobs(3000, 3, 5, 2.0, 3);
  KMeans a(opts(5)), c(opts(5));
  a.fit(b.X);
  c.fit(b.X);
  EXPECT_EQ(a.centroids(), c.centroids());
  KMeansOptions o = opts(5);
  o.seed = 99;
  KMeans other(o);
  other.fit(b.X);
  EXPECT_NE(a.centroids(), other.centroids());
}

TEST(KMeans, OneAndTwoThreadsGiveBitwiseEqualModels) {
  const auto b = make_blobs(20000, 6, 7, 2.5, 4);  // several chunks
  for (auto init : {KMeansInit::kmeans_plus_plus, KMeansInit::kmeans_parallel}) {
    for (auto alg : {KMeansAlgorithm::lloyd, KMeansAlgorithm::hamerly, KMeansAlgorithm::yinyang}) {
      KMeansOptions o = opts(init == KMeansInit::kmeans_parallel && alg == KMeansAlgorithm::yinyang ? 33 : 7, 1);
      o.init = init;
      o.algorithm = alg;
      o.n_init = 2;
      KMeans one(o);
      one.fit(b.X);
      o.n_threads = 2;
      KMeans two(o);
      two.fit(b.X);
      EXPECT_EQ(one.centroids(), two.centroids());
      EXPECT_EQ(one.inertia(), two.inertia());
      EXPECT_EQ(one.labels(), two.labels());
    }
  }
}

TEST(KMeans, SampleWeightsActLikeRepeatedRows) {
  RowMatrix X(5, 1);
  X << 0, 1, 2, 10, 11;
  Eigen::VectorXd w(5);
  w << 1, 1, 1, 1, 0;  // the 11 does not count
  KMeans m(opts(2));
  m.fit(X, w);
  const double lo = std::min(m.centroids()(0, 0), m.centroids()(1, 0));
  const double hi = std::max(m.centroids()(0, 0), m.centroids()(1, 0));
  EXPECT_DOUBLE_EQ(lo, 1.0);
  EXPECT_DOUBLE_EQ(hi, 10.0);
  EXPECT_DOUBLE_EQ(m.inertia(), 2.0);
  w << 1, 1, 1, 3, 1;
  m.fit(X, w);
  EXPECT_DOUBLE_EQ(std::max(m.centroids()(0, 0), m.centroids()(1, 0)), 10.25);
}

TEST(KMeans, SaveLoadRoundTrip) {
  const auto b = make_blobs(2000, 3, 4, 8.0, 5);
  KMeans m(opts(4));
  m.fit(b.X);
  const KMeans back = test::round_trip(m);
  EXPECT_EQ(back.centroids(), m.centroids());
  EXPECT_EQ(back.predict(b.X), m.predict(b.X));
  EXPECT_EQ(back.report().n_iter, m.report().n_iter);
  EXPECT_EQ(back.options().seed, m.options().seed);
  EXPECT_EQ(test::bytes_of(back), test::bytes_of(m));
}

TEST(KMeans, CorruptOrForeignFilesAreModelFormatErrors) {
  const auto b = make_blobs(500, 2, 3, 8.0, 6);
  KMeans m(opts(3));
  m.fit(b.X);
  const std::string bytes = test::bytes_of(m);
  for (std::size_t at : {std::size_t{3}, std::size_t{30}, bytes.size() / 2, bytes.size() - 1}) {
    std::string bad = bytes;
    bad[at] = static_cast<char>(bad[at] ^ 0x01);
    std::istringstream in(bad);
    EXPECT_THROW(KMeans::load(in), ModelFormatError) << at;
  }
  std::istringstream truncated(bytes.substr(0, bytes.size() - 9));
  EXPECT_THROW(KMeans::load(truncated), ModelFormatError);
  MiniBatchKMeansOptions mo;
  mo.n_clusters = 3;
  MiniBatchKMeans mb(mo);
  mb.fit(b.X);
  std::istringstream foreign(test::bytes_of(mb));
  EXPECT_THROW(KMeans::load(foreign), ModelFormatError);
}

TEST(KMeans, BadInputThrowsNamingTheArgument) {
  RowMatrix X(4, 2);
  X << 0, 0, 1, 1, 0, 0, 1, 1;  // two distinct rows
  EXPECT_INVALID_NAMING(KMeans(opts(0)).fit(X), "n_clusters");
  EXPECT_INVALID_NAMING(KMeans(opts(5)).fit(X), "n_clusters");
  EXPECT_INVALID_NAMING(KMeans(opts(3)).fit(X), "distinct");
  EXPECT_INVALID_NAMING(KMeans(opts(3)).fit(RowMatrix(0, 2)), "X");
  RowMatrix bad = X;
  bad(2, 1) = std::numeric_limits<double>::quiet_NaN();
  EXPECT_INVALID_NAMING(KMeans(opts(2)).fit(bad), "NaN");
  bad(2, 1) = std::numeric_limits<double>::infinity();
  EXPECT_INVALID_NAMING(KMeans(opts(2)).fit(bad), "X");
  EXPECT_INVALID_NAMING(KMeans(opts(2)).fit(X, Eigen::VectorXd::Ones(3)), "sample_weight");
  EXPECT_INVALID_NAMING(KMeans(opts(2)).fit(X, -Eigen::VectorXd::Ones(4)), "sample_weight");
  KMeansOptions o = opts(2);
  o.tol = -1;
  EXPECT_INVALID_NAMING(KMeans(o).fit(X), "tol");
  o = opts(2);
  o.n_init = 0;
  EXPECT_INVALID_NAMING(KMeans(o).fit(X), "n_init");
  KMeans unfitted(opts(2));
  EXPECT_THROW(unfitted.predict(X), NotFittedError);
  KMeans fitted(opts(2));
  fitted.fit(X);
  EXPECT_INVALID_NAMING(fitted.predict(RowMatrix::Zero(2, 3)), "features");
  // All-identical rows: k = 1 works, k = 2 is an error.
  const RowMatrix same = RowMatrix::Ones(10, 2);
  KMeans one(opts(1));
  one.fit(same);
  EXPECT_EQ(one.inertia(), 0.0);
  EXPECT_INVALID_NAMING(KMeans(opts(2)).fit(same), "distinct");
}

TEST(KMeans, TransformGivesEuclideanDistances) {
  RowMatrix X(4, 2);
  X << 0, 0, 0, 1, 10, 0, 10, 1;
  KMeans m(opts(2));
  m.fit(X);
  const RowMatrix D = m.transform(X);
  for (Eigen::Index i = 0; i < 4; ++i) EXPECT_NEAR(D.row(i).minCoeff(), 0.5, 1e-12);
}

TEST(MiniBatchKMeans, RecoversBlobsAndIsThreadIndependent) {
  const auto b = make_blobs(30000, 4, 5, 10.0, 7);
  MiniBatchKMeansOptions o;
  o.n_clusters = 5;
  o.batch_size = 512;
  o.n_threads = 1;
  MiniBatchKMeans one(o);
  one.fit(b.X);
  EXPECT_GT(adjusted_rand(one.labels(), b.truth), 0.99);
  o.n_threads = 2;
  MiniBatchKMeans two(o);
  two.fit(b.X);
  EXPECT_EQ(one.centroids(), two.centroids());
  EXPECT_EQ(one.inertia(), two.inertia());
  // Within a few percent of full k-means.
  KMeans full(opts(5));
  full.fit(b.X);
  EXPECT_LT(one.inertia(), full.inertia() * 1.05);
  const MiniBatchKMeans back = test::round_trip(one);
  EXPECT_EQ(back.centroids(), one.centroids());
  EXPECT_INVALID_NAMING(MiniBatchKMeans(MiniBatchKMeansOptions{.n_clusters = 2, .batch_size = 0}).fit(b.X), "batch_size");
}

}  // namespace
}  // namespace crmine

namespace crmine {
namespace {

TEST(LoadClusterer, DispatchesOnTheModelTag) {
  const auto b = test::make_blobs(1500, 2, 3, 8.0, 41);
  KMeansOptions ko;
  ko.n_clusters = 3;
  KMeans km(ko);
  km.fit(b.X);
  GaussianMixtureOptions go;
  go.n_components = 3;
  GaussianMixture gm(go);
  gm.fit(b.X);
  std::istringstream a(test::bytes_of(km)), g(test::bytes_of(gm));
  const auto from_km = load_clusterer(a);
  const auto from_gm = load_clusterer(g);
  EXPECT_EQ(from_km->predict(b.X), km.predict(b.X));
  EXPECT_EQ(from_gm->predict(b.X), gm.predict(b.X));
  EXPECT_EQ(from_gm->n_clusters(), 3);
  FeatureScaler scaler;
  scaler.fit(b.X);
  std::istringstream s(test::bytes_of(scaler));
  EXPECT_THROW(load_clusterer(s), ModelFormatError);
  std::istringstream junk("definitely not a model");
  EXPECT_THROW(load_clusterer(junk), ModelFormatError);
}

}  // namespace
}  // namespace crmine
