// SPDX-License-Identifier: Apache-2.0
// Silhouette (exact and sampled), Davies-Bouldin, Calinski-Harabasz and the k sweep.
#include <crmine/cluster/metrics.hpp>
#include <crmine/core/random.hpp>

#include "common.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace crmine {
namespace {

/// Checks labels against X and returns the number of clusters (max label + 1).
int check_labels(const char* where, MatrixRef X, LabelsRef labels, bool need_two) {
  detail::check_data(where, "X", X);
  if (labels.size() != X.rows()) detail::throw_invalid(where, "labels", "has ", labels.size(), " entries, X has ", X.rows(), " rows");
  if (labels.minCoeff() < 0) detail::throw_invalid(where, "labels", "must be >= 0, got ", labels.minCoeff());
  const int k = labels.maxCoeff() + 1;
  std::vector<char> used(static_cast<std::size_t>(k), 0);
  for (Eigen::Index i = 0; i < labels.size(); ++i) used[labels[i]] = 1;
  const auto distinct = std::count(used.begin(), used.end(), 1);
  if (need_two && (distinct < 2 || distinct > X.rows() - 1))
    detail::throw_invalid(where, "labels", "need between 2 and n_samples - 1 distinct clusters, got ", distinct);
  return k;
}

double chunked_mean(const Eigen::VectorXd& v) {
  double total = 0;
  for (Eigen::Index c = 0; c < detail::chunk_count(v.size()); ++c) {
    const Eigen::Index b = c * detail::kChunkRows;
    total += v.segment(b, std::min(v.size(), b + detail::kChunkRows) - b).sum();
  }
  return total / static_cast<double>(v.size());
}

RowMatrix centroids_of(MatrixRef X, LabelsRef labels, int k, Eigen::VectorXd& counts) {
  RowMatrix c = RowMatrix::Zero(k, X.cols());
  counts = Eigen::VectorXd::Zero(k);
  for (Eigen::Index i = 0; i < X.rows(); ++i) {
    c.row(labels[i]) += X.row(i);
    counts[labels[i]] += 1;
  }
  for (int j = 0; j < k; ++j)
    if (counts[j] > 0) c.row(j) /= counts[j];
  return c;
}

}  // namespace

Eigen::VectorXd silhouette_samples(MatrixRef X, LabelsRef labels, int n_threads) {
  const int k = check_labels("silhouette_samples", X, labels, true);
  const Eigen::Index n = X.rows();
  Eigen::VectorXd size = Eigen::VectorXd::Zero(k);
  for (Eigen::Index i = 0; i < n; ++i) size[labels[i]] += 1;
  Eigen::VectorXd s(n);
  detail::for_each_chunk(n, n_threads, [&](Eigen::Index, Eigen::Index b, Eigen::Index e) {
    Eigen::VectorXd sums(k);
    for (Eigen::Index i = b; i < e; ++i) {
      sums.setZero();
      for (Eigen::Index j = 0; j < n; ++j)
        sums[labels[j]] += std::sqrt(detail::squared_distance(X.row(i).data(), X.row(j).data(), X.cols()));
      const int own = labels[i];
      if (size[own] <= 1) {
        s[i] = 0;
        continue;
      }
      const double a = sums[own] / (size[own] - 1);
      double bmin = std::numeric_limits<double>::infinity();
      for (int c = 0; c < k; ++c)
        if (c != own && size[c] > 0) bmin = std::min(bmin, sums[c] / size[c]);
      const double m = std::max(a, bmin);
      s[i] = m > 0 ? (bmin - a) / m : 0.0;
    }
  });
  return s;
}

double silhouette_score(MatrixRef X, LabelsRef labels, Eigen::Index sample_size, std::uint64_t seed, int n_threads) {
  if (sample_size < 0) detail::throw_invalid("silhouette_score", "sample_size", "must be >= 0, got ", sample_size);
  if (sample_size == 0 || sample_size >= X.rows()) return chunked_mean(silhouette_samples(X, labels, n_threads));
  check_labels("silhouette_score", X, labels, true);
  // Partial Fisher-Yates: the first sample_size entries are a uniform sample without replacement.
  std::vector<Eigen::Index> idx(static_cast<std::size_t>(X.rows()));
  std::iota(idx.begin(), idx.end(), Eigen::Index{0});
  Random rng(seed);
  for (Eigen::Index i = 0; i < sample_size; ++i) {
    const auto j = i + static_cast<Eigen::Index>(rng.below(static_cast<std::uint64_t>(X.rows() - i)));
    std::swap(idx[i], idx[j]);
  }
  RowMatrix Xs(sample_size, X.cols());
  Eigen::VectorXi ls(sample_size);
  for (Eigen::Index i = 0; i < sample_size; ++i) {
    Xs.row(i) = X.row(idx[i]);
    ls[i] = labels[idx[i]];
  }
  return chunked_mean(silhouette_samples(Xs, ls, n_threads));
}

double davies_bouldin_score(MatrixRef X, LabelsRef labels) {
  const int k = check_labels("davies_bouldin_score", X, labels, true);
  Eigen::VectorXd counts;
  const RowMatrix c = centroids_of(X, labels, k, counts);
  Eigen::VectorXd scatter = Eigen::VectorXd::Zero(k);
  for (Eigen::Index i = 0; i < X.rows(); ++i) scatter[labels[i]] += (X.row(i) - c.row(labels[i])).norm();
  std::vector<int> present;
  for (int j = 0; j < k; ++j)
    if (counts[j] > 0) scatter[j] /= counts[j], present.push_back(j);
  double total = 0;
  for (int a : present) {
    double worst = 0;
    for (int b : present) {
      if (a == b) continue;
      const double sep = (c.row(a) - c.row(b)).norm();
      const double spread = scatter[a] + scatter[b];
      worst = std::max(worst, sep > 0 ? spread / sep : (spread > 0 ? std::numeric_limits<double>::infinity() : 0.0));
    }
    total += worst;
  }
  return total / static_cast<double>(present.size());
}

double calinski_harabasz_score(MatrixRef X, LabelsRef labels) {
  const int k = check_labels("calinski_harabasz_score", X, labels, true);
  Eigen::VectorXd counts;
  const RowMatrix c = centroids_of(X, labels, k, counts);
  const Eigen::RowVectorXd mean = X.colwise().mean();
  double between = 0, within = 0;
  int present = 0;
  for (int j = 0; j < k; ++j)
    if (counts[j] > 0) between += counts[j] * (c.row(j) - mean).squaredNorm(), ++present;
  for (Eigen::Index i = 0; i < X.rows(); ++i) within += (X.row(i) - c.row(labels[i])).squaredNorm();
  if (within == 0) return std::numeric_limits<double>::infinity();
  return between / (present - 1) / (within / static_cast<double>(X.rows() - present));
}

KSweepResult k_sweep(MatrixRef X, const KSweepOptions& options) {
  constexpr const char* where = "k_sweep";
  if (options.ks.empty()) detail::throw_invalid(where, "ks", "is empty");
  for (int k : options.ks)
    if (k < 2) detail::throw_invalid(where, "ks", "every k must be >= 2, got ", k);
  if (options.silhouette_sample_size < 0) detail::throw_invalid(where, "silhouette_sample_size", "must be >= 0");
  KSweepResult result;
  double best = -std::numeric_limits<double>::infinity();
  for (int k : options.ks) {
    KMeansOptions o = options.kmeans;
    o.n_clusters = k;
    KMeans model(o);
    model.fit(X);
    KSweepRow row;
    row.k = k;
    row.inertia = model.inertia();
    const auto& labels = model.labels();
    row.silhouette = silhouette_score(X, labels, options.silhouette_sample_size, o.seed, o.n_threads);
    row.davies_bouldin = davies_bouldin_score(X, labels);
    row.calinski_harabasz = calinski_harabasz_score(X, labels);
    if (row.silhouette > best || (row.silhouette == best && k < result.suggested_k)) best = row.silhouette, result.suggested_k = k;
    result.rows.push_back(row);
  }
  return result;
}

}  // namespace crmine
