// SPDX-License-Identifier: Apache-2.0
// Internal helpers of the cluster area: input checks, fixed-chunk parallel loops, distance kernels.
#pragma once

#include <crmine/core/errors.hpp>
#include <crmine/core/matrix.hpp>
#include <crmine/core/parallel.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

namespace crmine::detail {

/// Rows per work unit. Fixed (not derived from the thread count) so that per-chunk partial sums
/// reduced in chunk order give the same bits with any number of threads.
inline constexpr Eigen::Index kChunkRows = 2048;

inline Eigen::Index chunk_count(Eigen::Index n) { return (n + kChunkRows - 1) / kChunkRows; }

/// Calls fn(chunk, begin, end) for every chunk of [0, n), in parallel; rethrows the first exception.
template <typename Fn>
void for_each_chunk(Eigen::Index n, int n_threads, Fn&& fn) {
  const Eigen::Index chunks = chunk_count(n);
  const int threads = static_cast<int>(std::min<Eigen::Index>(resolve_threads(n_threads), std::max<Eigen::Index>(chunks, 1)));
  ExceptionCollector errors;
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1)
  for (Eigen::Index c = 0; c < chunks; ++c) {
    errors.run([&] {
      const Eigen::Index begin = c * kChunkRows;
      fn(c, begin, std::min(n, begin + kChunkRows));
    });
  }
  errors.rethrow();
}

/// Like for_each_chunk with a caller-chosen fixed block size (for reductions whose per-block
/// partials are large, e.g. covariance matrices).
template <typename Fn>
void for_each_block(Eigen::Index n, Eigen::Index block_rows, int n_threads, Fn&& fn) {
  const Eigen::Index blocks = (n + block_rows - 1) / block_rows;
  const int threads = static_cast<int>(std::min<Eigen::Index>(resolve_threads(n_threads), std::max<Eigen::Index>(blocks, 1)));
  ExceptionCollector errors;
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1)
  for (Eigen::Index c = 0; c < blocks; ++c) {
    errors.run([&] {
      const Eigen::Index begin = c * block_rows;
      fn(c, begin, std::min(n, begin + block_rows));
    });
  }
  errors.rethrow();
}

/// X must be non-empty with finite values.
inline void check_data(const char* where, const char* name, MatrixRef X) {
  if (X.rows() == 0) throw_invalid(where, name, "is empty (0 rows)");
  if (X.cols() == 0) throw_invalid(where, name, "has 0 features");
  for (Eigen::Index i = 0; i < X.rows(); ++i)
    for (Eigen::Index j = 0; j < X.cols(); ++j)
      if (!std::isfinite(X(i, j))) throw_invalid(where, name, "contains NaN or infinity at row ", i, ", column ", j);
}

/// X must have `cols` columns (for predict after fit).
inline void check_features(const char* where, MatrixRef X, Eigen::Index cols) {
  if (X.cols() != cols) throw_invalid(where, "X", "has ", X.cols(), " features, the model was fitted with ", cols);
  for (Eigen::Index i = 0; i < X.rows(); ++i)
    for (Eigen::Index j = 0; j < X.cols(); ++j)
      if (!std::isfinite(X(i, j))) throw_invalid(where, "X", "contains NaN or infinity at row ", i, ", column ", j);
}

/// Returns the weights to use: all ones when `w` is empty, otherwise `w` checked.
inline Eigen::VectorXd checked_weights(const char* where, VectorRef w, Eigen::Index n) {
  if (w.size() == 0) return Eigen::VectorXd::Ones(n);
  if (w.size() != n) throw_invalid(where, "sample_weight", "has ", w.size(), " entries, X has ", n, " rows");
  double total = 0;
  for (Eigen::Index i = 0; i < n; ++i) {
    if (!std::isfinite(w[i]) || w[i] < 0) throw_invalid(where, "sample_weight", "must be finite and >= 0, got ", w[i], " at ", i);
    total += w[i];
  }
  if (!(total > 0)) throw_invalid(where, "sample_weight", "all weights are zero; at least one must be positive");
  return w;
}

inline double squared_distance(const double* a, const double* b, Eigen::Index d) {
  double s = 0;
  for (Eigen::Index f = 0; f < d; ++f) {
    const double t = a[f] - b[f];
    s += t * t;
  }
  return s;
}

/// Centres stored feature-major (d x k) with their squared norms, so the distances from one row to
/// all centres are one pass vectorised across centres: ||x||^2 - 2 x.c + ||c||^2.
struct CentreTable {
  Eigen::Index k = 0, d = 0;
  std::vector<double> by_feature;  // d x k
  std::vector<double> norms;       // k

  explicit CentreTable(const RowMatrix& centres) : k(centres.rows()), d(centres.cols()), by_feature(static_cast<std::size_t>(k * d)), norms(static_cast<std::size_t>(k)) {
    for (Eigen::Index j = 0; j < k; ++j) {
      norms[j] = centres.row(j).squaredNorm();
      for (Eigen::Index f = 0; f < d; ++f) by_feature[f * k + j] = centres(j, f);
    }
  }

  /// out[j] = squared distance of x to centre j, clamped at 0.
  void distances(const double* x, double* out) const {
    double xx = 0;
    for (Eigen::Index j = 0; j < k; ++j) out[j] = 0;
    for (Eigen::Index f = 0; f < d; ++f) {
      const double v = x[f];
      xx += v * v;
      const double* row = by_feature.data() + f * k;
      for (Eigen::Index j = 0; j < k; ++j) out[j] += v * row[j];
    }
    for (Eigen::Index j = 0; j < k; ++j) out[j] = std::max(0.0, xx - 2 * out[j] + norms[j]);
  }
};

/// Nearest centre of every row (exact distances recomputed directly for the winner).
struct Assignment {
  Eigen::VectorXi labels;
  Eigen::VectorXd min_sq;  // squared distance to the assigned centre
};

inline Assignment assign_nearest(MatrixRef X, const RowMatrix& centres, int n_threads) {
  const CentreTable table(centres);
  Assignment a{Eigen::VectorXi(X.rows()), Eigen::VectorXd(X.rows())};
  for_each_chunk(X.rows(), n_threads, [&](Eigen::Index, Eigen::Index begin, Eigen::Index end) {
    std::vector<double> dist(static_cast<std::size_t>(table.k));
    for (Eigen::Index i = begin; i < end; ++i) {
      table.distances(X.row(i).data(), dist.data());
      Eigen::Index best = 0;
      for (Eigen::Index j = 1; j < table.k; ++j)
        if (dist[j] < dist[best]) best = j;
      a.labels[i] = static_cast<int>(best);
      a.min_sq[i] = squared_distance(X.row(i).data(), centres.row(best).data(), X.cols());
    }
  });
  return a;
}

/// Mean over features of the weighted feature variance (scales `tol`).
inline double mean_variance(MatrixRef X, const Eigen::VectorXd& w) {
  const double total = w.sum();
  const Eigen::RowVectorXd mean = (w.transpose() * X) / total;
  double var = 0;
  for (Eigen::Index i = 0; i < X.rows(); ++i) var += w[i] * (X.row(i) - mean).squaredNorm();
  return var / total / static_cast<double>(X.cols());
}

}  // namespace crmine::detail
