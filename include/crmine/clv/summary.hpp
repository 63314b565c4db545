// SPDX-License-Identifier: Apache-2.0
// The CLV models' input from a transaction log: frequency, recency, T and mean repeat spend per
// customer, with an optional calibration/holdout split.
#pragma once

#include <crmine/core/transactions.hpp>

#include <cstdint>
#include <limits>
#include <vector>

namespace crmine {

/// Options of `clv_summary`.
struct ClvSummaryOptions {
  static constexpr std::int64_t kUnset = std::numeric_limits<std::int64_t>::min();
  double unit_days = 7.0;                   ///< days per model time unit: 7 = weeks, 1 = days; > 0
  std::int64_t calibration_end = kUnset;    ///< last day (day number, inclusive) of calibration;
                                            ///< kUnset = the last day in the log
  std::int64_t observation_end = kUnset;    ///< last day of the holdout period (inclusive); kUnset =
                                            ///< no holdout, or the last day in the log when
                                            ///< calibration_end is set; >= calibration_end
  ReturnPolicy returns = ReturnPolicy::net; ///< what negative amounts mean
  int n_jobs = 0;                           ///< threads; 0 = all cores
};

/// Per customer (ascending id) with a first purchase on or before calibration_end.
///
/// frequency = purchase occasions after the first (distinct days, or orders when the log has
/// them), recency = last - first purchase day, T = calibration_end - first purchase day (both in
/// units of unit_days), monetary_value = mean revenue of the repeat occasions (0 when none).
/// Holdout columns are filled when a holdout period exists.
struct ClvSummary {
  std::vector<std::int64_t> customer;
  std::vector<std::int32_t> first_day;
  std::vector<double> frequency, recency, T, monetary_value;
  std::vector<double> frequency_holdout;       ///< purchase occasions in the holdout period
  std::vector<double> monetary_value_holdout;  ///< mean revenue per holdout occasion (0 when none)
  bool has_holdout = false;
  double duration_holdout = 0.0;               ///< holdout length in model units
  std::int64_t calibration_end = 0;            ///< the day numbers actually used
  std::int64_t observation_end = 0;

  std::size_t size() const { return customer.size(); }
};

/// Builds the CLV summary of a log (validated first; see `validate`).
ClvSummary clv_summary(const TransactionLog& log, const ClvSummaryOptions& options = {});

}  // namespace crmine
