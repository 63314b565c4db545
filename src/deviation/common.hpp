// SPDX-License-Identifier: Apache-2.0
// Internal helpers of the deviation detectors: input checks, contamination thresholds, row blocks.
#pragma once

#include <crmine/core/estimator.hpp>

// The cluster area's input checks, fixed-chunk loops and type-7 quantile are exactly what the
// detectors need; one copy keeps error messages and thread-invariance identical across areas.
#include "../cluster/common.hpp"
#include "../cluster/stats.hpp"

#include <vector>

namespace crmine::detail {

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
