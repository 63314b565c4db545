// SPDX-License-Identifier: Apache-2.0
// Key-driver analysis: exact Shapley (general dominance) decomposition of R^2 and relative weights.
#include <crmine/campaign/satisfaction.hpp>
#include <crmine/core/errors.hpp>
#include <crmine/core/parallel.hpp>

#include <Eigen/Eigenvalues>

#include <algorithm>
#include <bit>
#include <cmath>
#include <vector>

namespace crmine {
namespace {

constexpr int kMaxExactAttributes = 26;       // 2^26 doubles = 512 MiB of subset R^2
constexpr Eigen::Index kChunkRows = 8192;     // fixed chunks: sums do not depend on the threads
constexpr double kCollinear = 1e-10;          // smallest eigenvalue of Rxx treated as singular
constexpr Eigen::Index kParallelAttributes = 12;  // fewer attributes: subsets run on one thread

/// An incremental Cholesky factor of the correlation matrix of a growing attribute set. Adding
/// attribute j to a set of size k solves one triangular system (O(k^2)) and raises R^2 by the
/// square of the new entry of z = L^-1 r, which is what makes all 2^p subsets affordable.
class GrowingCholesky {
 public:
  GrowingCholesky(const Eigen::MatrixXd& R, const Eigen::VectorXd& r)
      : R_(R), r_(r), L_(Eigen::MatrixXd::Zero(R.rows(), R.rows())), z_(R.rows()), vars_(static_cast<std::size_t>(R.rows())) {}

  /// Puts attribute j at position k (dropping positions >= k) and returns the R^2 increment.
  double add(Eigen::Index k, Eigen::Index j) {
    double norm = 0.0, dot = 0.0;
    for (Eigen::Index i = 0; i < k; ++i) {
      double v = R_(vars_[static_cast<std::size_t>(i)], j);
      for (Eigen::Index m = 0; m < i; ++m) v -= L_(i, m) * L_(k, m);
      v /= L_(i, i);
      L_(k, i) = v;
      norm += v * v;
      dot += v * z_[i];
    }
    // Rxx was checked to be well conditioned, so the pivot stays positive; the floor only guards
    // against rounding in nearly collinear subsets.
    const double pivot = std::sqrt(std::max(R_(j, j) - norm, 1e-300));
    L_(k, k) = pivot;
    z_[k] = (r_[j] - dot) / pivot;
    vars_[static_cast<std::size_t>(k)] = j;
    return z_[k] * z_[k];
  }

 private:
  const Eigen::MatrixXd& R_;
  const Eigen::VectorXd& r_;
  Eigen::MatrixXd L_;
  Eigen::VectorXd z_;
  std::vector<Eigen::Index> vars_;
};

/// Visits every superset of the current set that adds attributes >= next, depth first.
void grow(GrowingCholesky& chol, Eigen::Index depth, std::uint32_t mask, Eigen::Index next, double r2, Eigen::Index p,
          double* out) {
  for (Eigen::Index j = next; j < p; ++j) {
    const double r2j = r2 + chol.add(depth, j);
    const std::uint32_t m = mask | (1u << j);
    out[m] = r2j;
    grow(chol, depth + 1, m, j + 1, r2j, p, out);
  }
}

void check_correlation(const char* where, MatrixRef Rxx, VectorRef rxy) {
  if (Rxx.rows() != Rxx.cols() || Rxx.rows() == 0)
    detail::throw_invalid(where, "Rxx", "must be a non-empty square matrix, got ", Rxx.rows(), " x ", Rxx.cols());
  if (rxy.size() != Rxx.rows())
    detail::throw_invalid(where, "rxy", "has ", rxy.size(), " entries but Rxx is ", Rxx.rows(), " x ", Rxx.rows());
  if (!Rxx.allFinite()) detail::throw_invalid(where, "Rxx", "contains NaN or inf");
  if (!rxy.allFinite()) detail::throw_invalid(where, "rxy", "contains NaN or inf");
}

}  // namespace

std::vector<double> all_subsets_r2(MatrixRef Rxx, VectorRef rxy, int n_jobs) {
  check_correlation("all_subsets_r2", Rxx, rxy);
  const Eigen::Index p = Rxx.rows();
  if (p > kMaxExactAttributes)
    detail::throw_invalid("all_subsets_r2", "Rxx", p, " attributes would need 2^", p, " subsets; the limit is ",
                          kMaxExactAttributes);
  const Eigen::MatrixXd R = Rxx;
  const Eigen::VectorXd r = rxy;
  std::vector<double> out(std::size_t{1} << p, 0.0);
  // Tasks fix the first `fixed` attributes in or out and grow the rest: 2^fixed equal subtrees.
  const Eigen::Index fixed = std::min<Eigen::Index>(p, 6);
  const std::int64_t tasks = std::int64_t{1} << fixed;
  // A few thousand subsets take microseconds: waking a thread team would cost more.
  const int threads = p >= kParallelAttributes ? detail::resolve_threads(n_jobs) : 1;
  detail::ExceptionCollector errors;
#pragma omp parallel num_threads(threads)
  {
    GrowingCholesky chol(R, r);
#pragma omp for schedule(dynamic, 1)
    for (std::int64_t t = 0; t < tasks; ++t) {
      errors.run([&] {
        const auto base = static_cast<std::uint32_t>(t);
        Eigen::Index depth = 0;
        double r2 = 0.0;
        for (Eigen::Index j = 0; j < fixed; ++j)
          if (base & (1u << j)) r2 += chol.add(depth++, j);
        out[base] = r2;
        grow(chol, depth, base, fixed, r2, p, out.data());
      });
    }
  }
  errors.rethrow();
  return out;
}

KeyDrivers key_drivers_from_correlation(MatrixRef Rxx, VectorRef rxy, const KeyDriverOptions& options) {
  constexpr const char* where = "key_drivers";
  check_correlation(where, Rxx, rxy);
  const Eigen::Index p = Rxx.rows();
  if (options.max_attributes < 1 || options.max_attributes > kMaxExactAttributes)
    detail::throw_invalid(where, "max_attributes", "must be in 1..", kMaxExactAttributes, ", got ",
                          options.max_attributes);
  if (options.shapley && p > options.max_attributes)
    detail::throw_invalid(where, "X", p, " attributes exceed max_attributes=", options.max_attributes,
                          ": exact Shapley visits 2^p subsets (2^", p,
                          "); raise max_attributes (at most 26), group attributes, or turn shapley off and use "
                          "relative weights");
  const Eigen::MatrixXd R = Rxx;
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(R);
  if (eig.info() != Eigen::Success) detail::throw_invalid(where, "X", "the attribute correlation matrix has no eigendecomposition");
  const Eigen::VectorXd& lambda = eig.eigenvalues();
  if (lambda.minCoeff() < kCollinear * std::max(1.0, lambda.maxCoeff())) {
    // The eigenvector of the null direction names the attributes involved.
    const Eigen::VectorXd v = eig.eigenvectors().col(0);
    Eigen::Index worst;
    v.cwiseAbs().maxCoeff(&worst);
    detail::throw_invalid(where, "X", "attributes are perfectly collinear (attribute ", worst,
                          " is a linear combination of others); drop or combine them");
  }
  KeyDrivers out;
  out.correlation = rxy;
  out.beta = R.ldlt().solve(out.correlation);
  out.r2 = out.correlation.dot(out.beta);

  // Johnson (2000): Lambda = Rxx^(1/2) links the attributes to their closest orthogonal
  // counterparts Z; y is regressed on Z (beta_z = Lambda^-1 rxy) and each Z's share goes back to
  // the attributes in proportion to the squared loadings.
  const Eigen::MatrixXd& V = eig.eigenvectors();
  const Eigen::MatrixXd Lambda = V * lambda.cwiseSqrt().asDiagonal() * V.transpose();
  const Eigen::VectorXd beta_z = V * lambda.cwiseSqrt().cwiseInverse().asDiagonal() * (V.transpose() * out.correlation);
  out.relative_weights = Lambda.cwiseAbs2() * beta_z.cwiseAbs2();

  if (options.shapley) {
    const std::vector<double> r2 = all_subsets_r2(R, out.correlation, options.n_jobs);
    const std::uint32_t n_masks = 1u << p;
    out.conditional_dominance = RowMatrix::Zero(p, p);
    // Per attribute, in mask order: the sums, and so the result, do not depend on the threads.
    const int threads = p >= kParallelAttributes ? detail::resolve_threads(options.n_jobs) : 1;
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1)
    for (Eigen::Index j = 0; j < p; ++j) {
      const std::uint32_t bit = 1u << j;
      std::vector<double> sums(static_cast<std::size_t>(p), 0.0);
      for (std::uint32_t m = 0; m < n_masks; ++m)
        if (!(m & bit)) sums[static_cast<std::size_t>(std::popcount(m))] += r2[m | bit] - r2[m];
      double binom = 1.0;  // C(p-1, k)
      for (Eigen::Index k = 0; k < p; ++k) {
        out.conditional_dominance(j, k) = sums[static_cast<std::size_t>(k)] / binom;
        binom = binom * static_cast<double>(p - 1 - k) / static_cast<double>(k + 1);
      }
    }
    out.shapley = out.conditional_dominance.rowwise().mean();
  }
  return out;
}

KeyDrivers key_drivers(MatrixRef X, VectorRef y, const KeyDriverOptions& options) {
  constexpr const char* where = "key_drivers";
  const Eigen::Index n = X.rows(), p = X.cols();
  if (p == 0) detail::throw_invalid(where, "X", "has no attribute columns");
  if (y.size() != n) detail::throw_invalid(where, "y", "has ", y.size(), " values but X has ", n, " rows");
  if (n < p + 2)
    detail::throw_invalid(where, "X", "has ", n, " rows; ", p, " attributes need at least ", p + 2);
  if (!X.allFinite()) {
    for (Eigen::Index i = 0; i < n; ++i)
      for (Eigen::Index j = 0; j < p; ++j)
        if (!std::isfinite(X(i, j)))
          detail::throw_invalid(where, "X", "row ", i, ", column ", j, " is ", X(i, j),
                                " (drop or impute missing ratings first)");
  }
  if (!y.allFinite()) {
    for (Eigen::Index i = 0; i < n; ++i)
      if (!std::isfinite(y[i])) detail::throw_invalid(where, "y", "row ", i, " is ", y[i]);
  }
  // Means, then centred cross-products of [X y], both summed chunk by chunk in chunk order.
  const Eigen::Index q = p + 1;
  const Eigen::Index n_chunks = (n + kChunkRows - 1) / kChunkRows;
  const int threads = static_cast<int>(std::min<Eigen::Index>(detail::resolve_threads(options.n_jobs), n_chunks));
  std::vector<Eigen::VectorXd> part_sum(static_cast<std::size_t>(n_chunks));
#pragma omp parallel for num_threads(threads) schedule(static)
  for (Eigen::Index c = 0; c < n_chunks; ++c) {
    const Eigen::Index lo = c * kChunkRows, len = std::min(kChunkRows, n - lo);
    Eigen::VectorXd s(q);
    s.head(p) = X.middleRows(lo, len).colwise().sum().transpose();
    s[p] = y.segment(lo, len).sum();
    part_sum[static_cast<std::size_t>(c)] = s;
  }
  Eigen::VectorXd mean = Eigen::VectorXd::Zero(q);
  for (const auto& s : part_sum) mean += s;
  mean /= static_cast<double>(n);
  std::vector<Eigen::MatrixXd> part_cross(static_cast<std::size_t>(n_chunks));
#pragma omp parallel for num_threads(threads) schedule(static)
  for (Eigen::Index c = 0; c < n_chunks; ++c) {
    const Eigen::Index lo = c * kChunkRows, len = std::min(kChunkRows, n - lo);
    Eigen::MatrixXd Z(len, q);
    Z.leftCols(p) = X.middleRows(lo, len).rowwise() - mean.head(p).transpose();
    Z.col(p) = y.segment(lo, len).array() - mean[p];
    Eigen::MatrixXd G = Eigen::MatrixXd::Zero(q, q);
    G.selfadjointView<Eigen::Lower>().rankUpdate(Z.transpose());
    part_cross[static_cast<std::size_t>(c)] = G.selfadjointView<Eigen::Lower>();
  }
  Eigen::MatrixXd cov = Eigen::MatrixXd::Zero(q, q);
  for (const auto& G : part_cross) cov += G;
  const Eigen::VectorXd sd = cov.diagonal().cwiseSqrt();
  for (Eigen::Index j = 0; j < p; ++j)
    if (!(sd[j] > 1e-12 * std::max(1.0, std::abs(mean[j])) * std::sqrt(static_cast<double>(n))))
      detail::throw_invalid(where, "X", "attribute column ", j, " is constant (", mean[j],
                            "); it carries no information about the outcome, drop it");
  if (!(sd[p] > 1e-12 * std::max(1.0, std::abs(mean[p])) * std::sqrt(static_cast<double>(n))))
    detail::throw_invalid(where, "y", "the outcome is constant (", mean[p], "); there is nothing to explain");
  const Eigen::MatrixXd corr = sd.cwiseInverse().asDiagonal() * cov * sd.cwiseInverse().asDiagonal();
  KeyDrivers out = key_drivers_from_correlation(corr.topLeftCorner(p, p), corr.col(p).head(p), options);
  out.n = n;
  out.mean = mean.head(p);
  return out;
}

}  // namespace crmine
