// SPDX-License-Identifier: Apache-2.0
// Cluster validity indices and a sweep over k that suggests the number of segments.
#pragma once

#include <crmine/cluster/kmeans.hpp>
#include <crmine/core/matrix.hpp>

#include <cstdint>
#include <vector>

namespace crmine {

/// Labels: one cluster index >= 0 per row of X.
using LabelsRef = Eigen::Ref<const Eigen::VectorXi>;

/// Silhouette width of every row (Rousseeuw 1987); rows alone in their cluster get 0. O(n^2 d).
Eigen::VectorXd silhouette_samples(MatrixRef X, LabelsRef labels, int n_threads = 0);

/// Mean silhouette width. sample_size > 0 computes it on that many rows drawn without replacement
/// with `seed` (distances still to the sampled rows only), so large n stays affordable.
double silhouette_score(MatrixRef X, LabelsRef labels, Eigen::Index sample_size = 0, std::uint64_t seed = 1234,
                        int n_threads = 0);

/// Davies-Bouldin index (1979): mean over clusters of the worst (s_i + s_j) / d(c_i, c_j); lower is better.
double davies_bouldin_score(MatrixRef X, LabelsRef labels);

/// Calinski-Harabasz index (1974): between- over within-cluster dispersion, scaled; higher is better.
double calinski_harabasz_score(MatrixRef X, LabelsRef labels);

/// Hyperparameters of k_sweep.
struct KSweepOptions {
  std::vector<int> ks = {2, 3, 4, 5, 6, 7, 8};  ///< candidate k, each >= 2
  KMeansOptions kmeans = {};                    ///< options of each fit (n_clusters is overwritten)
  Eigen::Index silhouette_sample_size = 10000;  ///< rows for the sampled silhouette; 0 = exact
};

/// One row of a sweep.
struct KSweepRow {
  int k = 0;
  double inertia = 0;
  double silhouette = 0;
  double davies_bouldin = 0;
  double calinski_harabasz = 0;
};

/// The sweep's table and its suggestion.
struct KSweepResult {
  std::vector<KSweepRow> rows;
  /// The k of highest silhouette; ties go to the smaller k.
  int suggested_k = 0;
};

/// Fits KMeans for each k and scores the labels.
KSweepResult k_sweep(MatrixRef X, const KSweepOptions& options = {});

}  // namespace crmine
