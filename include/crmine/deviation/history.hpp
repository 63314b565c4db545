// SPDX-License-Identifier: Apache-2.0
// Per-customer baselines over a rolling window of the customer's own history, and today's departure from them.
#pragma once

#include <crmine/core/transactions.hpp>

#include <cstdint>
#include <limits>
#include <vector>

namespace crmine {

/// Options of `history_baselines`. Names and defaults match the Python keyword arguments.
struct HistoryOptions {
  static constexpr std::int32_t kLatest = std::numeric_limits<std::int32_t>::min();

  int period_days = 30;           ///< length of one period in days; >= 1
  int window = 12;                ///< baseline periods before the current one; >= 1
  std::int32_t as_of_day = kLatest;  ///< first day NOT observed (like RFM's as_of); the current period is
                                     ///< [as_of_day - period_days, as_of_day). Default: the day after
                                     ///< the latest row. Rows on or after it are ignored.
  double prior_weight = 2.0;      ///< pseudo-observations of the prior spread (>= 0); see `HistoryBaselines`
  double prior_cv = 1.0;          ///< coefficient of variation of the prior spread (> 0): 1 = Poisson-like
                                  ///< purchase counts and exponential gaps
  int n_jobs = 0;                 ///< threads; 0 = all cores. Results do not depend on it.
};

/// Each customer's usual behaviour and the size of the current period's departure from it.
///
/// A purchase is a row with amount >= 0, a return one with amount < 0; a purchase occasion is a
/// day with purchases (so the measures do not depend on how order ids are assigned). Periods are
/// counted back from `as_of_day`: period 0 (the current one) is [as_of - P, as_of), period k is
/// [as_of - (k+1)P, as_of - kP). The baseline of spend, returns and basket value covers periods
/// 1..window from the customer's first purchase on (`n_periods` of them, zero-spend periods
/// included); the usual purchase gap covers the customer's whole history before as_of, because a
/// stopped buyer has no recent gaps to learn from.
///
/// Departures are z = (current - mean) / spread. With few observations a sample spread is
/// unreliable (three equal gaps would make any change infinitely surprising), so the spread is
/// shrunk towards a prior: spread^2 = ((n-1) s^2 + w (cv p)^2) / (n - 1 + w), with w =
/// prior_weight, cv = prior_cv and p = (n m + w M) / (n + w), the customer's mean m shrunk
/// towards the population mean M (so one 2-dollar purchase or two purchases a day apart do not
/// make the next ordinary purchase or silence look extreme). For returns m and M are those of
/// spend: returning one usual period's spend is about one prior spread. Basket z divides the
/// spread by sqrt(current occasions), as for a mean. Values are NaN where undefined: no baseline
/// period, no baseline occasion or no current occasion (basket), fewer than one gap (gap), zero spread.
struct HistoryBaselines {
  std::vector<std::int64_t> customer;       ///< ids, ascending; every customer with a purchase before as_of
  std::vector<std::int32_t> first_day;      ///< first purchase
  std::vector<std::int32_t> last_day;       ///< last purchase before as_of
  std::vector<std::int32_t> n_periods;      ///< baseline periods covered (0..window)
  std::vector<double> total_spend;          ///< purchases over the whole history before as_of
  std::vector<std::int64_t> n_occasions;    ///< purchase days over the whole history before as_of

  std::vector<double> spend_mean, spend_spread, spend_current, spend_z;          ///< purchases per period
  std::vector<double> returns_mean, returns_spread, returns_current, returns_z;  ///< returned amount (positive) per period
  std::vector<double> return_rate_baseline;  ///< returned / purchased over the baseline periods (NaN: no purchase)
  std::vector<double> return_rate_current;   ///< returned in the current period / max(purchased in it, usual period spend)
  std::vector<std::int32_t> basket_n;        ///< purchase occasions in the baseline periods
  std::vector<std::int32_t> basket_current_n;  ///< purchase occasions in the current period
  std::vector<double> basket_mean, basket_spread, basket_current, basket_z;  ///< spend per occasion
  std::vector<std::int32_t> gap_n;           ///< gaps between consecutive occasions (= n_occasions - 1)
  std::vector<double> gap_mean, gap_spread;  ///< usual days between purchase occasions
  std::vector<double> gap_current;           ///< days since the last purchase: as_of - last_day
  std::vector<double> gap_ratio, gap_z;      ///< gap_current / gap_mean and its z

  double population_spend_mean = 0.0;   ///< M of spend: baseline spend / baseline periods over all customers
  double population_basket_mean = 0.0;  ///< M of basket: baseline spend / baseline occasions
  double population_gap_mean = 0.0;     ///< M of gap: all gaps' mean
  std::int32_t as_of_day = 0;
  int period_days = 0;
  int window = 0;
  std::int64_t rows_used = 0;     ///< rows before as_of that entered the baselines
  std::int64_t rows_after = 0;    ///< rows on or after as_of, ignored

  std::size_t size() const { return customer.size(); }
};

/// Computes every customer's baselines in one cache-friendly pass over the log (a second, sorting
/// pass only when some customer's rows are out of time order). Validates the log and the options;
/// throws InvalidArgument naming the option, or when no purchase precedes as_of.
HistoryBaselines history_baselines(const TransactionLog& log, const HistoryOptions& options = {});

}  // namespace crmine
