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

/// Asks for row i of X to be brought into cache (every cache line of it), so a loop that touches
/// only some rows but will stream all of them later does not wait on each touched row.
inline void prefetch_row(MatrixRef X, Eigen::Index i) {
  const char* p = reinterpret_cast<const char*>(X.row(i).data());
  const Eigen::Index bytes = X.cols() * static_cast<Eigen::Index>(sizeof(double));
  for (Eigen::Index at = 0; at < bytes; at += 64) __builtin_prefetch(p + at);
  __builtin_prefetch(p + bytes - 1);
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

/// Exact squared distances from rows to a few centres (k <= kMaxK), each summed feature by feature
/// like squared_distance, so with the same bits, but vectorised across the centres (stored
/// feature-major, padded to whole AVX lanes) and interleaved over several rows so the additions'
/// latency is hidden. At small k this is faster than the product form of BlockDistances, which
/// has to re-measure every winner directly because of cancellation.
class DirectDistances {
 public:
  /// Up to this k the direct kernel beats BlockDistances (it works for any k).
  static constexpr Eigen::Index kMaxK = 16;

  explicit DirectDistances(const RowMatrix& centres)
      : k_(centres.rows()), d_(centres.cols()), lanes_((k_ + 3) / 4 * 4), table_(static_cast<std::size_t>(d_ * lanes_)) {
    // Panels of up to 16 centres, each d x width feature-major; spare lanes of the last panel
    // repeat centre 0 (callers only read the first k).
    for (Eigen::Index p = 0; p < lanes_; p += kPanel) {
      const Eigen::Index width = std::min(kPanel, lanes_ - p);
      double* panel = table_.data() + p * d_;
      for (Eigen::Index f = 0; f < d_; ++f)
        for (Eigen::Index l = 0; l < width; ++l) panel[f * width + l] = centres(p + l < k_ ? p + l : 0, f);
    }
  }

  static bool suits(Eigen::Index k) { return k <= kMaxK; }
  Eigen::Index k() const { return k_; }
  /// Stride of `out` in compute.
  Eigen::Index lanes() const { return lanes_; }

  /// out[r * lanes() + j] = squared_distance(rows[r], centre j) for r < m, j < k.
  void compute(const double* const* rows, Eigen::Index m, double* out) const {
    for (Eigen::Index p = 0; p < lanes_; p += kPanel) {
      const double* panel = table_.data() + p * d_;
      switch (std::min(kPanel, lanes_ - p)) {
        case 4: run<4, 4>(panel, rows, m, out + p); break;
        case 8: run<8, 4>(panel, rows, m, out + p); break;
        case 12: run<12, 2>(panel, rows, m, out + p); break;
        default: run<16, 2>(panel, rows, m, out + p); break;
      }
    }
  }

 private:
  static constexpr Eigen::Index kPanel = 16;

  template <int L, int R>
  void run(const double* panel, const double* const* rows, Eigen::Index m, double* out) const {
    Eigen::Index r = 0;
    for (; r + R <= m; r += R) block<L, R>(panel, rows + r, out + r * lanes_);
    for (; r < m; ++r) block<L, 1>(panel, rows + r, out + r * lanes_);
  }

  template <int L, int R>
  void block(const double* panel, const double* const* x, double* out) const {
    double acc[R][L] = {};
    for (Eigen::Index f = 0; f < d_; ++f) {
      const double* c = panel + f * L;
      for (int r = 0; r < R; ++r) {
        const double v = x[r][f];
        for (int l = 0; l < L; ++l) {
          const double t = v - c[l];
          acc[r][l] += t * t;
        }
      }
    }
    for (int r = 0; r < R; ++r)
      for (int l = 0; l < L; ++l) out[r * lanes_ + l] = acc[r][l];
  }

  Eigen::Index k_, d_, lanes_;
  std::vector<double> table_;  // panels of d x width
};

/// The nearest centre of given rows, exactly (the argmin of squared_distance, lowest index on
/// ties), by DirectDistances for small k and BlockDistances otherwise. Holds scratch space: one
/// copy per thread.
class NearestCentre {
 public:
  static constexpr Eigen::Index kBlockRows = BlockDistances::kBlockRows;

  explicit NearestCentre(const RowMatrix& centres) : blocked_(centres), direct_(DirectDistances::suits(centres.rows())) {
    if (direct_) small_.emplace_back(centres);
  }
  NearestCentre(const NearestCentre& other) : blocked_(other.blocked_), small_(other.small_), direct_(other.direct_) {}

  /// Calls on_row(i, label, exact_sq, second_sq) for the rows i = row_of(t), t < count, in order:
  /// exact_sq = squared_distance to the label's centre; second_sq a lower bound on the squared
  /// distance to every other centre (exact with the direct kernel), computed when WithSecond
  /// (infinity for k = 1, 0 otherwise unless WithSecond).
  template <bool WithSecond, typename RowOf, typename OnRow>
  void scan(MatrixRef X, Eigen::Index count, RowOf&& row_of, OnRow&& on_row) {
    const Eigen::Index k = blocked_.k(), d = X.cols();
    for (Eigen::Index s = 0; s < count; s += kBlockRows) {
      const Eigen::Index m = std::min(kBlockRows, count - s);
      if (direct_) {
        const DirectDistances& table = small_.front();
        pointers_.resize(static_cast<std::size_t>(m));
        for (Eigen::Index r = 0; r < m; ++r) pointers_[static_cast<std::size_t>(r)] = X.row(row_of(s + r)).data();
        scratch_.resize(static_cast<std::size_t>(m * table.lanes()));
        table.compute(pointers_.data(), m, scratch_.data());
        for (Eigen::Index r = 0; r < m; ++r) {
          const double* dist = scratch_.data() + r * table.lanes();
          Eigen::Index best = 0;
          double first = dist[0], second = std::numeric_limits<double>::infinity();
          for (Eigen::Index j = 1; j < k; ++j) {
            if (dist[j] < first) {
              second = first, first = dist[j], best = j;
            } else if (WithSecond && dist[j] < second) {
              second = dist[j];
            }
          }
          on_row(row_of(s + r), static_cast<int>(best), first, WithSecond ? second : 0.0);
        }
        continue;
      }
      // Contiguous rows are multiplied in place; scattered ones are gathered first.
      const Eigen::Index first_row = row_of(s);
      const bool contiguous = row_of(s + m - 1) - first_row == m - 1;
      if (contiguous) {
        blocked_.compute(X.middleRows(first_row, m));
      } else {
        buffer_.resize(m, d);
        for (Eigen::Index r = 0; r < m; ++r) buffer_.row(r) = X.row(row_of(s + r));
        blocked_.compute(buffer_);
      }
      for (Eigen::Index r = 0; r < m; ++r) {
        const Eigen::Index i = row_of(s + r);
        double exact = 0;
        const int best = blocked_.nearest(r, X.row(i).data(), exact);
        double second = std::numeric_limits<double>::infinity();
        if constexpr (WithSecond)
          for (Eigen::Index j = 0; j < k; ++j)
            if (j != best) second = std::min(second, blocked_.lower(r, j));
        on_row(i, best, exact, WithSecond ? second : 0.0);
      }
    }
  }

  /// scan over the contiguous rows [begin, end).
  template <bool WithSecond, typename OnRow>
  void scan_range(MatrixRef X, Eigen::Index begin, Eigen::Index end, OnRow&& on_row) {
    scan<WithSecond>(X, end - begin, [begin](Eigen::Index t) { return begin + t; }, std::forward<OnRow>(on_row));
  }

 private:
  BlockDistances blocked_;
  std::vector<DirectDistances> small_;  // one entry when the direct kernel is used
  bool direct_;
  std::vector<const double*> pointers_;
  std::vector<double> scratch_;
  RowMatrix buffer_;
};

/// Nearest centre of every row (exact distances recomputed directly for the winner).
struct Assignment {
  Eigen::VectorXi labels;
  Eigen::VectorXd min_sq;  // squared distance to the assigned centre
};

inline Assignment assign_nearest(MatrixRef X, const RowMatrix& centres, int n_threads) {
  const NearestCentre shared(centres);
  Assignment a{Eigen::VectorXi(X.rows()), Eigen::VectorXd(X.rows())};
  for_each_chunk(X.rows(), n_threads, [&](Eigen::Index, Eigen::Index begin, Eigen::Index end) {
    NearestCentre nearest = shared;
    nearest.scan_range<false>(X, begin, end, [&](Eigen::Index i, int label, double exact, double) {
      a.labels[i] = label;
      a.min_sq[i] = exact;
    });
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
