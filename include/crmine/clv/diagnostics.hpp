// SPDX-License-Identifier: Apache-2.0
// Checking a fitted purchase model: the calibration/holdout comparison by calibration frequency
// and the tracking of cumulative expected vs actual repeat purchases over time.
#pragma once

#include <crmine/clv/model.hpp>
#include <crmine/core/transactions.hpp>

#include <cstdint>
#include <limits>
#include <span>
#include <vector>

namespace crmine {

/// Actual vs expected holdout purchases, one row per calibration frequency 0..max_frequency
/// (the last row holds every customer with frequency >= max_frequency), as in figure 4 of Fader,
/// Hardie & Lee (2005). Rows without customers are left out.
struct CalibrationHoldoutTable {
  std::vector<double> frequency;    ///< calibration frequency (the censoring value for the last row)
  std::vector<double> n_customers;  ///< customers in the row
  std::vector<double> actual;       ///< mean holdout purchases observed
  std::vector<double> predicted;    ///< mean E[purchases in the holdout | x, t_x, T]
};

/// Builds the table from calibration statistics, holdout purchases and the holdout length (model
/// time units); `max_frequency` >= 1.
CalibrationHoldoutTable calibration_holdout_table(const TransactionModel& model, const ClvData& calibration,
                                                  std::span<const double> frequency_holdout, double duration_holdout,
                                                  int max_frequency = 7);

/// Options of `expected_cumulative_transactions`.
struct TrackingOptions {
  static constexpr std::int64_t kUnset = std::numeric_limits<std::int64_t>::min();
  double unit_days = 7.0;              ///< days per model time unit (the unit the model was fitted in); > 0
  int period_days = 7;                 ///< days per reported period (7 = weekly tracking, 1 = daily); >= 1
  std::int64_t end_day = kUnset;       ///< last day tracked (inclusive); kUnset = the last day in the log
};

/// Cumulative repeat purchases at the end of each period since the first day of the log.
///
/// Period k (1-based) ends before day first_day + k * period_days. `actual` counts repeat
/// purchase occasions before that boundary, as `clv_summary` counts them: a customer's distinct
/// orders when the log has order ids (an order dated by its earliest row), else distinct
/// purchase days, after the first (earliest) one; a purchase is a row with amount >= 0; `predicted` sums, over every customer whose first
/// purchase falls before it, the model's E[X(u)] for a new customer at age u (boundary minus the
/// first purchase day, in model units). This is lifetimes' `expected_cumulative_transactions`
/// and the tracking plots of Fader, Hardie & Lee (2005, figure 2).
struct TrackingTable {
  std::vector<std::int64_t> period_end;  ///< the first day after each period (exclusive boundary)
  std::vector<double> actual;            ///< cumulative actual repeat purchases
  std::vector<double> predicted;         ///< cumulative expected repeat purchases
};

/// Builds the tracking table of `model` over `log` (validated first).
TrackingTable expected_cumulative_transactions(const TransactionModel& model, const TransactionLog& log,
                                               const TrackingOptions& options = {});

}  // namespace crmine
