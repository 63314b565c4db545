// SPDX-License-Identifier: Apache-2.0
// Internal helpers of the cluster area: input checks, fixed-chunk parallel loops, distance kernels.
#pragma once

#include <crmine/core/errors.hpp>
#include <crmine/core/matrix.hpp>
#include <crmine/core/parallel.hpp>

#include <cmath>
#include <algorithm>
#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

namespace crmine::detail {

/// Rows per work unit. Fixed (not derived from the thread count) so that per-chunk partial sums
/// reduced in chunk order give the same bits with any number of threads.
inline constexpr Eigen::Index kChunkRows = 2048;

inline Eigen::Index chunk_count(Eigen::Index n) { return (n + kChunkRows - 1) / kChunkRows; }

/// Keeps Eigen's matrix products inside a work unit on the calling thread. Eigen parallelises a
/// large product itself unless it runs in a team of more than one thread, so in a one-thread team
/// every block product would start (and spin) a nested team. The setting is local to the
/// implicit task of this parallel region.
inline void single_threaded_products() {
#ifdef _OPENMP
  omp_set_num_threads(1);
#endif
}

/// Calls fn(block, begin, end) for every block of `block_rows` rows of [0, n), in parallel;
/// rethrows the first exception. The block size is the caller's, fixed, so per-block partials
/// reduced in block order do not depend on the thread count.
template <typename Fn>
void for_each_block(Eigen::Index n, Eigen::Index block_rows, int n_threads, Fn&& fn) {
  const Eigen::Index blocks = (n + block_rows - 1) / block_rows;
  const int threads = static_cast<int>(std::min<Eigen::Index>(resolve_threads(n_threads), std::max<Eigen::Index>(blocks, 1)));
  ExceptionCollector errors;
#pragma omp parallel num_threads(threads)
  {
    single_threaded_products();
#pragma omp for schedule(dynamic, 1)
    for (Eigen::Index c = 0; c < blocks; ++c) {
      errors.run([&] {
        const Eigen::Index begin = c * block_rows;
        fn(c, begin, std::min(n, begin + block_rows));
      });
    }
  }
  errors.rethrow();
}

/// for_each_block over chunks of kChunkRows.
template <typename Fn>
void for_each_chunk(Eigen::Index n, int n_threads, Fn&& fn) {
  for_each_block(n, kChunkRows, n_threads, std::forward<Fn>(fn));
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

/// squared_distance with four interleaved partial sums: about four times shorter dependency
/// chains, so faster for a single pair, but it may differ from squared_distance in the last bit
/// (used where only a bound is needed).
inline double squared_distance_split(const double* a, const double* b, Eigen::Index d) {
  double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  Eigen::Index f = 0;
  for (; f + 4 <= d; f += 4) {
    const double t0 = a[f] - b[f], t1 = a[f + 1] - b[f + 1], t2 = a[f + 2] - b[f + 2], t3 = a[f + 3] - b[f + 3];
    s0 += t0 * t0, s1 += t1 * t1, s2 += t2 * t2, s3 += t3 * t3;
  }
  for (; f < d; ++f) {
    const double t = a[f] - b[f];
    s0 += t * t;
  }
  return (s0 + s1) + (s2 + s3);
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

/// Squared distances from blocks of rows to all centres by one matrix product per block,
/// ||x||^2 - 2 x.c + ||c||^2, which runs at GEMM speed but loses digits to cancellation. Every
/// approximate value is within `tau` of the directly summed squared_distance (each side rounds by
/// at most about d u (||x||^2 + ||c||^2), u = 2^-53, in any summation order), so a winner
/// is only trusted when no other centre is within 2 tau; otherwise the candidates are re-measured
/// with squared_distance, and the result is the exact argmin (lowest index on ties), the same
/// as comparing squared_distance to every centre.
class BlockDistances {
 public:
  static constexpr Eigen::Index kBlockRows = 256;

  explicit BlockDistances(const RowMatrix& centres)
      : centres_(centres), ct_(centres.transpose()), norms_(centres.rowwise().squaredNorm().transpose()) {
    max_norm_ = norms_.size() ? norms_.maxCoeff() : 0.0;
    rel_ = static_cast<double>(2 * centres.cols() + 8) * 2.3e-16;
  }

  Eigen::Index k() const { return centres_.rows(); }

  /// Fills dist (m x k approximate squared distances) and tau (m error bounds) for rows [0, m) of
  /// `block` (m <= kBlockRows).
  template <typename Block>
  void compute(const Eigen::MatrixBase<Block>& block) {
    const Eigen::Index m = block.rows();
    dist_.resize(m, k());
    dist_.noalias() = block * ct_;
    row_norms_ = block.rowwise().squaredNorm();
    tau_.resize(m);
    for (Eigen::Index i = 0; i < m; ++i) {
      const double xx = row_norms_[i];
      double* r = dist_.row(i).data();
      for (Eigen::Index j = 0; j < k(); ++j) r[j] = xx - 2.0 * r[j] + norms_[j];
      tau_[i] = rel_ * (xx + max_norm_);
    }
  }

  /// Exact nearest centre of block row i (x = its data): returns the label and sets `exact_sq`
  /// to squared_distance(x, centre).
  int nearest(Eigen::Index i, const double* x, double& exact_sq) const {
    const double* r = dist_.row(i).data();
    Eigen::Index best = 0;
    for (Eigen::Index j = 1; j < k(); ++j)
      if (r[j] < r[best]) best = j;
    const double limit = r[best] + 2 * tau_[i];
    const Eigen::Index d = centres_.cols();
    exact_sq = squared_distance(x, centres_.row(best).data(), d);
    for (Eigen::Index j = 0; j < k(); ++j) {
      if (j == best || r[j] > limit) continue;
      const double e = squared_distance(x, centres_.row(j).data(), d);
      if (e < exact_sq || (e == exact_sq && j < best)) exact_sq = e, best = j;
    }
    return static_cast<int>(best);
  }

  /// A lower bound on the squared distance of block row i to centre j.
  double lower(Eigen::Index i, Eigen::Index j) const { return std::max(0.0, dist_(i, j) - tau_[i]); }

 private:
  const RowMatrix& centres_;
  Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic> ct_;  // d x k
  Eigen::RowVectorXd norms_;
  double max_norm_ = 0, rel_ = 0;
  RowMatrix dist_;
  Eigen::VectorXd row_norms_, tau_;
};

/// Nearest centre of every row (exact distances recomputed directly for the winner).
struct Assignment {
  Eigen::VectorXi labels;
  Eigen::VectorXd min_sq;  // squared distance to the assigned centre
};

inline Assignment assign_nearest(MatrixRef X, const RowMatrix& centres, int n_threads) {
  const BlockDistances shared(centres);
  Assignment a{Eigen::VectorXi(X.rows()), Eigen::VectorXd(X.rows())};
  for_each_chunk(X.rows(), n_threads, [&](Eigen::Index, Eigen::Index begin, Eigen::Index end) {
    BlockDistances table = shared;
    for (Eigen::Index b = begin; b < end; b += BlockDistances::kBlockRows) {
      const Eigen::Index m = std::min(BlockDistances::kBlockRows, end - b);
      table.compute(X.middleRows(b, m));
      for (Eigen::Index r = 0; r < m; ++r) a.labels[b + r] = table.nearest(r, X.row(b + r).data(), a.min_sq[b + r]);
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
