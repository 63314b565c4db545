// SPDX-License-Identifier: Apache-2.0
// Alert explanations: robust z or a detector's score gain per feature, and the top features per row.
#include <crmine/core/errors.hpp>
#include <crmine/deviation/explain.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace crmine {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

void check_rows(const char* where, MatrixRef X) {
  if (X.rows() == 0) detail::throw_invalid(where, "X", "has no rows");
  if (X.cols() == 0) detail::throw_invalid(where, "X", "has no features");
}

/// `other` has X's columns and either one row (broadcast) or X's rows.
void check_broadcast(const char* where, const char* name, MatrixRef X, MatrixRef other) {
  if (other.cols() != X.cols())
    detail::throw_invalid(where, name, "has ", other.cols(), " features, X has ", X.cols());
  if (other.rows() != 1 && other.rows() != X.rows())
    detail::throw_invalid(where, name, "has ", other.rows(), " rows; it needs 1 (shared) or one per row of X (", X.rows(),
                          ")");
}

void check_same_shape(const char* where, const char* name, MatrixRef X, MatrixRef other) {
  if (other.rows() != X.rows() || other.cols() != X.cols())
    detail::throw_invalid(where, name, "has shape (", other.rows(), ", ", other.cols(), "), X has (", X.rows(), ", ",
                          X.cols(), ")");
}

/// Row i of a one-row-or-n-rows matrix.
inline const double* row_of(MatrixRef m, Eigen::Index i) { return m.row(m.rows() == 1 ? 0 : i).data(); }

// Variants scored per call of the scorer: large enough that each call's fixed costs (threads, checks)
// are spread thin, small enough that the block stays a few MB for any width.
constexpr Eigen::Index kVariantsPerBlock = 65536;

}  // namespace

RowMatrix robust_contributions(MatrixRef X, MatrixRef reference, MatrixRef scale) {
  constexpr const char* where = "robust_contributions";
  check_rows(where, X);
  check_broadcast(where, "reference", X, reference);
  check_broadcast(where, "scale", X, scale);
  const Eigen::Index n = X.rows(), d = X.cols();
  RowMatrix out(n, d);
  for (Eigen::Index i = 0; i < n; ++i) {
    const double* x = X.row(i).data();
    const double* r = row_of(reference, i);
    const double* s = row_of(scale, i);
    for (Eigen::Index j = 0; j < d; ++j) out(i, j) = (x[j] - r[j]) / (s[j] > 0 ? s[j] : kNaN);
  }
  return out;
}

RowMatrix detector_contributions(const ScoreFunction& score, MatrixRef X, MatrixRef reference) {
  constexpr const char* where = "detector_contributions";
  check_rows(where, X);
  check_broadcast(where, "reference", X, reference);
  const Eigen::Index n = X.rows(), d = X.cols();
  // A NaN would be scored as a value by some detectors and rejected by others; refuse it up front.
  for (Eigen::Index i = 0; i < n; ++i)
    for (Eigen::Index j = 0; j < d; ++j)
      if (std::isnan(X(i, j))) detail::throw_invalid(where, "X", "is NaN at row ", i, ", column ", j);
  for (Eigen::Index i = 0; i < reference.rows(); ++i)
    for (Eigen::Index j = 0; j < d; ++j)
      if (std::isnan(reference(i, j))) detail::throw_invalid(where, "reference", "is NaN at row ", i, ", column ", j);

  RowMatrix out(n, d);
  const Eigen::Index block_rows = std::max<Eigen::Index>(1, kVariantsPerBlock / (d + 1));
  RowMatrix variants;
  for (Eigen::Index b = 0; b < n; b += block_rows) {
    const Eigen::Index e = std::min(n, b + block_rows);
    // Row i of the block, then its d copies with one feature each set to the reference.
    variants.resize((e - b) * (d + 1), d);
    for (Eigen::Index i = b; i < e; ++i) {
      const Eigen::Index at = (i - b) * (d + 1);
      const double* r = row_of(reference, i);
      variants.middleRows(at, d + 1).rowwise() = X.row(i);
      for (Eigen::Index j = 0; j < d; ++j) variants(at + 1 + j, j) = r[j];
    }
    const Eigen::VectorXd s = score(variants);
    if (s.size() != variants.rows())
      detail::throw_invalid(where, "score", "returned ", s.size(), " scores for ", variants.rows(), " rows");
    for (Eigen::Index i = b; i < e; ++i) {
      const Eigen::Index at = (i - b) * (d + 1);
      for (Eigen::Index j = 0; j < d; ++j) out(i, j) = s[at + 1 + j] - s[at];
    }
  }
  return out;
}

RowMatrix detector_contributions(const Detector& detector, MatrixRef X, MatrixRef reference) {
  detail::require_fitted(detector.is_fitted(), "detector_contributions");
  if (X.cols() != detector.n_features())
    detail::throw_invalid("detector_contributions", "X", "has ", X.cols(), " features, the detector was fitted with ",
                          detector.n_features());
  return detector_contributions([&](MatrixRef block) { return detector.score_samples(block); }, X, reference);
}

Explanation top_contributions(MatrixRef X, MatrixRef reference, MatrixRef contribution, MatrixRef strength, int top) {
  constexpr const char* where = "top_contributions";
  if (top < 1) detail::throw_invalid(where, "top", "must be >= 1, got ", top);
  check_rows(where, X);
  check_broadcast(where, "reference", X, reference);
  check_same_shape(where, "contribution", X, contribution);
  check_same_shape(where, "strength", X, strength);
  const Eigen::Index n = X.rows(), d = X.cols();
  const Eigen::Index k = std::min<Eigen::Index>(top, d);
  Explanation out;
  const auto cap = static_cast<std::size_t>(n * k);
  out.row.reserve(cap);
  out.rank.reserve(cap);
  out.feature.reserve(cap);
  out.value.reserve(cap);
  out.reference.reserve(cap);
  out.contribution.reserve(cap);
  out.direction.reserve(cap);
  std::vector<Eigen::Index> order(static_cast<std::size_t>(d));
  std::vector<double> key(static_cast<std::size_t>(d));
  for (Eigen::Index i = 0; i < n; ++i) {
    for (Eigen::Index j = 0; j < d; ++j) {
      const double s = strength(i, j);
      key[static_cast<std::size_t>(j)] = std::isnan(s) ? -std::numeric_limits<double>::infinity() : s;
    }
    std::iota(order.begin(), order.end(), Eigen::Index{0});
    // Stable: equal strengths keep column order, so the ranking does not depend on the sort.
    std::stable_sort(order.begin(), order.end(), [&](Eigen::Index a, Eigen::Index b) {
      return key[static_cast<std::size_t>(a)] > key[static_cast<std::size_t>(b)];
    });
    const double* r = row_of(reference, i);
    for (Eigen::Index rank = 0; rank < k; ++rank) {
      const Eigen::Index j = order[static_cast<std::size_t>(rank)];
      if (!std::isfinite(key[static_cast<std::size_t>(j)])) continue;
      const double v = X(i, j), ref = r[j];
      out.row.push_back(i);
      out.rank.push_back(static_cast<std::int32_t>(rank + 1));
      out.feature.push_back(static_cast<std::int32_t>(j));
      out.value.push_back(v);
      out.reference.push_back(ref);
      out.contribution.push_back(contribution(i, j));
      out.direction.push_back(v > ref ? Direction::above : v < ref ? Direction::below : Direction::at);
    }
  }
  return out;
}

}  // namespace crmine
