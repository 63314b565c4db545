// SPDX-License-Identifier: Apache-2.0
// Internal k-means building blocks shared by KMeans, MiniBatchKMeans, GaussianMixture and KPrototypes.
#pragma once

#include <crmine/cluster/kmeans.hpp>
#include <crmine/core/random.hpp>
#include <crmine/core/serialize.hpp>

namespace crmine::detail {

struct KMeansRun {
  RowMatrix centres;
  Eigen::VectorXi labels;
  double inertia = 0;
  int n_iter = 0;
  bool converged = false;
  long long n_dist = 0;
};

/// Greedy k-means++; throws InvalidArgument(where, "n_clusters", ...) if X has fewer than k
/// distinct rows of positive weight.
RowMatrix seed_kmeans_plus_plus(MatrixRef X, const Eigen::VectorXd& w, int k, Random& rng, int n_threads, const char* where);

/// k-means|| with per-chunk sampling streams derived from `seed`.
RowMatrix seed_kmeans_parallel(MatrixRef X, const Eigen::VectorXd& w, int k, Random& rng, std::uint64_t seed,
                               int n_threads, const char* where);

/// Iterates from `centres` until convergence or options.max_iter (Lloyd or Hamerly).
KMeansRun run_kmeans(MatrixRef X, const Eigen::VectorXd& w, RowMatrix centres, const KMeansOptions& options,
                     KMeansAlgorithm algorithm, int n_threads);

FitReport read_report(ModelReader& r);
void write_fit_report(ModelWriter& w, const FitReport& r);

}  // namespace crmine::detail
