// SPDX-License-Identifier: Apache-2.0
// Internal helpers of the deviation detectors: input checks, contamination thresholds, row blocks.
#pragma once

#include <crmine/core/estimator.hpp>

// The cluster area's input checks, fixed-chunk loops and type-7 quantile are exactly what the
// detectors need; one copy keeps error messages and thread-invariance identical across areas.
#include "../cluster/common.hpp"
#include "../cluster/stats.hpp"

#include <cstdint>
#include <cstring>
#include <vector>

namespace crmine::detail {

/// check_data in one branch-free pass over row chunks in parallel (the exponent bits of every value,
/// which the compiler vectorises); only a chunk holding a NaN or infinity is scanned again, to name
/// the first one. Same errors as check_data.
inline void check_data_fast(const char* where, const char* name, MatrixRef X, int n_threads) {
  if (X.rows() == 0 || X.cols() == 0) check_data(where, name, X);
  constexpr std::uint64_t kExponent = 0x7FF0000000000000ULL;
  const Eigen::Index d = X.cols();
  std::vector<unsigned char> bad(static_cast<std::size_t>(chunk_count(X.rows())), 0);
  for_each_chunk(X.rows(), n_threads, [&](Eigen::Index c, Eigen::Index b, Eigen::Index e) {
    std::uint64_t hits = 0;
    for (Eigen::Index i = b; i < e; ++i) {
      const double* row = X.row(i).data();
      for (Eigen::Index f = 0; f < d; ++f) {
        std::uint64_t bits;
        std::memcpy(&bits, &row[f], sizeof bits);
        hits += (bits & kExponent) == kExponent;
      }
    }
    bad[static_cast<std::size_t>(c)] = hits != 0;
  });
  for (std::size_t c = 0; c < bad.size(); ++c)
    if (bad[c])
      for (Eigen::Index i = static_cast<Eigen::Index>(c) * kChunkRows; i < X.rows(); ++i)
        for (Eigen::Index f = 0; f < d; ++f)
          if (!std::isfinite(X(i, f))) throw_invalid(where, name, "contains NaN or infinity at row ", i, ", column ", f);
}

/// contamination must be in (0, 0.5], or kAutoContamination where the detector has an 'auto' rule.
inline void check_contamination(const char* where, double contamination, bool auto_allowed) {
  if (auto_allowed && contamination == kAutoContamination) return;
  if (!(contamination > 0 && contamination <= 0.5))
    throw_invalid(where, "contamination", "must be in (0, 0.5]", auto_allowed ? " or 'auto'" : "", ", got ",
                  contamination);
}

/// scikit-learn's offset_: the contamination-quantile of the training scores (numpy's linear
/// percentile), so that about that share of training rows has a negative decision_function.
inline double offset_from_scores(const Eigen::VectorXd& train_scores, double contamination) {
  std::vector<double> v(train_scores.data(), train_scores.data() + train_scores.size());
  return quantile(v, contamination);
}

}  // namespace crmine::detail
