// SPDX-License-Identifier: Apache-2.0
// k-means clustering: exact Lloyd, Hamerly and Yinyang iterations, k-means++ / k-means|| seeding, mini-batch.
#pragma once

#include <crmine/core/estimator.hpp>

#include <cstdint>
#include <iosfwd>

namespace crmine {

/// How the first centres are chosen.
enum class KMeansInit : std::uint8_t {
  kmeans_plus_plus = 0,  ///< greedy k-means++ (Arthur & Vassilvitskii 2007), 2 + ln k trials per centre
  kmeans_parallel = 1,   ///< k-means|| (Bahmani et al. 2012): 5 rounds oversampling 2k, then k-means++
};

/// Which exact iteration runs; both give the same centres up to floating-point ties.
enum class KMeansAlgorithm : std::uint8_t {
  automatic = 0,  ///< up to 64 features: Yinyang for k >= 32, Hamerly for 4 <= k < 32; otherwise Lloyd
  lloyd = 1,      ///< every point against every centre each iteration (blocked matrix products)
  hamerly = 2,    ///< Hamerly (2010): one upper and one lower bound per point skip most distances
  yinyang = 3,    ///< Yinyang (Ding et al. 2015): a lower bound per group of ~10 centres; for large k
};

/// Hyperparameters of KMeans. Names and defaults match the Python keyword arguments.
struct KMeansOptions {
  int n_clusters = 8;                                     ///< k; 1 <= k <= distinct rows of X
  KMeansInit init = KMeansInit::kmeans_plus_plus;         ///< seeding method
  int n_init = 1;                                         ///< restarts; the lowest inertia wins; >= 1
  int max_iter = 300;                                     ///< iterations per restart; >= 1
  double tol = 1e-4;                                      ///< converged when the summed squared centre shift <= tol x mean feature variance; >= 0
  KMeansAlgorithm algorithm = KMeansAlgorithm::automatic; ///< iteration variant
  std::uint64_t seed = 1234;                              ///< same data + same seed => bitwise-same model at any n_threads
  int n_threads = 0;                                      ///< 0 = OpenMP default
};

/// Throws InvalidArgument naming the first invalid field.
void validate(const KMeansOptions& options);

/// Lloyd's k-means with k-means++ or k-means|| seeding and Hamerly's or Yinyang's exact acceleration.
/// Minimises the (weighted) sum of squared distances of rows to their nearest centre.
/// Parallel work is split into fixed chunks of rows reduced in chunk order, so results do not
/// depend on the number of threads.
class KMeans final : public Clusterer {
 public:
  explicit KMeans(KMeansOptions options = {});

  KMeans& fit(MatrixRef X) override;
  /// Weighted fit; `sample_weight` has one non-negative finite entry per row (empty = all ones).
  KMeans& fit(MatrixRef X, VectorRef sample_weight);
  Eigen::VectorXi predict(MatrixRef X) const override;
  /// Euclidean distance of each row to each centre.
  RowMatrix transform(MatrixRef X) const override;
  /// Weighted sum of squared distances of the rows of X to their nearest centre.
  double inertia_of(MatrixRef X, VectorRef sample_weight) const;

  int n_clusters() const override { return options_.n_clusters; }
  bool is_fitted() const override { return fitted_; }
  const FitReport& report() const override;
  const KMeansOptions& options() const { return options_; }
  /// k x n_features centres.
  const RowMatrix& centroids() const;
  /// Labels of the training rows from the last fit.
  const Eigen::VectorXi& labels() const;
  /// Weighted inertia of the training rows.
  double inertia() const;
  /// The iteration actually used (automatic resolved).
  KMeansAlgorithm algorithm_used() const { return algorithm_used_; }

  void save(std::ostream& out) const override;
  static KMeans load(std::istream& in);
  /// Builds a fitted model from given centres (e.g. an external initialisation); no training.
  static KMeans from_centroids(RowMatrix centroids, KMeansOptions options = {});

 private:
  KMeansOptions options_;
  RowMatrix centroids_;
  Eigen::VectorXi labels_;
  FitReport report_;
  KMeansAlgorithm algorithm_used_ = KMeansAlgorithm::automatic;
  bool fitted_ = false;
};

/// Hyperparameters of MiniBatchKMeans.
struct MiniBatchKMeansOptions {
  int n_clusters = 8;               ///< k; 1 <= k <= distinct rows of X
  int batch_size = 1024;            ///< rows per step, drawn with replacement; >= 1
  int max_iter = 100;               ///< passes over the data (steps = max_iter x n / batch_size); >= 1
  int max_no_improvement = 10;      ///< stop after this many steps without a better smoothed batch inertia; 0 = never
  int init_size = 0;                ///< rows sampled for seeding; 0 = max(3 x batch_size, 3 x k), capped at n
  int n_init = 3;                   ///< seedings tried on the init sample; the best is kept; >= 1
  std::uint64_t seed = 1234;        ///< same data + same seed => same model at any n_threads
  int n_threads = 0;                ///< 0 = OpenMP default
};

/// Throws InvalidArgument naming the first invalid field.
void validate(const MiniBatchKMeansOptions& options);

/// Mini-batch k-means (Sculley 2010) with per-centre learning rates 1 / (weight seen so far);
/// for tens of millions of rows. Labels and inertia are computed exactly on all rows at the end.
class MiniBatchKMeans final : public Clusterer {
 public:
  explicit MiniBatchKMeans(MiniBatchKMeansOptions options = {});

  MiniBatchKMeans& fit(MatrixRef X) override;
  MiniBatchKMeans& fit(MatrixRef X, VectorRef sample_weight);
  Eigen::VectorXi predict(MatrixRef X) const override;
  RowMatrix transform(MatrixRef X) const override;

  int n_clusters() const override { return options_.n_clusters; }
  bool is_fitted() const override { return fitted_; }
  const FitReport& report() const override;
  const MiniBatchKMeansOptions& options() const { return options_; }
  const RowMatrix& centroids() const;
  const Eigen::VectorXi& labels() const;
  double inertia() const;

  void save(std::ostream& out) const override;
  static MiniBatchKMeans load(std::istream& in);

 private:
  MiniBatchKMeansOptions options_;
  RowMatrix centroids_;
  Eigen::VectorXi labels_;
  FitReport report_;
  bool fitted_ = false;
};

}  // namespace crmine
