// SPDX-License-Identifier: Apache-2.0
// Model checks: calibration/holdout table and cumulative tracking of repeat purchases.
#include <crmine/clv/diagnostics.hpp>
#include <crmine/core/errors.hpp>

#include "engine.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

namespace crmine {

CalibrationHoldoutTable calibration_holdout_table(const TransactionModel& model, const ClvData& calibration,
                                                  std::span<const double> frequency_holdout, double duration_holdout,
                                                  int max_frequency) {
  const char* caller = "calibration_holdout_table";
  if (max_frequency < 1) detail::throw_invalid(caller, "max_frequency", "is ", max_frequency, "; must be >= 1");
  if (!std::isfinite(duration_holdout) || duration_holdout <= 0.0)
    detail::throw_invalid(caller, "duration_holdout", "is ", duration_holdout, "; must be finite and > 0");
  if (frequency_holdout.size() != calibration.size())
    detail::throw_invalid(caller, "frequency_holdout", "has ", frequency_holdout.size(), " entries, frequency has ",
                          calibration.size());
  for (std::size_t i = 0; i < frequency_holdout.size(); ++i)
    if (!std::isfinite(frequency_holdout[i]) || frequency_holdout[i] < 0.0)
      detail::throw_invalid(caller, "frequency_holdout", "row ", i, " is ", frequency_holdout[i], "; must be >= 0");
  const std::vector<double> predicted =
      model.conditional_expected_number_of_purchases_up_to_time(duration_holdout, calibration);
  const auto rows = static_cast<std::size_t>(max_frequency) + 1;
  std::vector<double> n(rows, 0.0), actual(rows, 0.0), expected(rows, 0.0);
  for (std::size_t i = 0; i < predicted.size(); ++i) {
    const auto k = static_cast<std::size_t>(std::min(calibration.frequency[i], static_cast<double>(max_frequency)));
    n[k] += 1.0;
    actual[k] += frequency_holdout[i];
    expected[k] += predicted[i];
  }
  CalibrationHoldoutTable out;
  for (std::size_t k = 0; k < rows; ++k) {
    if (n[k] == 0.0) continue;
    out.frequency.push_back(static_cast<double>(k));
    out.n_customers.push_back(n[k]);
    out.actual.push_back(actual[k] / n[k]);
    out.predicted.push_back(expected[k] / n[k]);
  }
  return out;
}

TrackingTable expected_cumulative_transactions(const TransactionModel& model, const TransactionLog& log,
                                               const TrackingOptions& options) {
  const char* caller = "expected_cumulative_transactions";
  if (!std::isfinite(options.unit_days) || options.unit_days <= 0.0)
    detail::throw_invalid(caller, "unit_days", "is ", options.unit_days, "; must be > 0");
  if (options.period_days < 1) detail::throw_invalid(caller, "period_days", "is ", options.period_days, "; must be >= 1");
  validate(log, caller, ReturnPolicy::net);
  // Purchase occasions as clv_summary counts them: distinct orders when the log has order ids
  // (an order dated by its earliest purchase row), else distinct days. Sorted by (customer, key,
  // day), the first entry of a (customer, key) run carries the occasion's day.
  struct Occasion {
    std::int64_t customer, key, day;
    bool operator<(const Occasion& o) const {
      return customer != o.customer ? customer < o.customer : key != o.key ? key < o.key : day < o.day;
    }
  };
  std::vector<Occasion> purchases;
  purchases.reserve(log.size());
  std::int64_t first_day = std::numeric_limits<std::int64_t>::max(), last_day = std::numeric_limits<std::int64_t>::min();
  for (std::size_t i = 0; i < log.size(); ++i) {
    const std::int64_t day = day_of(log.time[i], log.ticks_per_day);
    first_day = std::min(first_day, day);
    last_day = std::max(last_day, day);
    if (log.amount.empty() || log.amount[i] >= 0.0)
      purchases.push_back({log.customer[i], log.has_order() ? log.order[i] : day, day});
  }
  const std::int64_t end = options.end_day == TrackingOptions::kUnset ? last_day : options.end_day;
  if (end < first_day)
    detail::throw_invalid(caller, "end_day", "day ", end, " is before the first transaction (day ", first_day, ")");
  std::sort(purchases.begin(), purchases.end());
  const auto n_days = static_cast<std::size_t>(end - first_day + 1);
  std::vector<double> acquired(n_days, 0.0), repeats(n_days, 0.0);  // per day since first_day
  for (std::size_t lo = 0; lo < purchases.size();) {
    std::size_t hi = lo;
    while (hi < purchases.size() && purchases[hi].customer == purchases[lo].customer) ++hi;
    // The customer's occasions are the first entries of its key runs; the earliest is the
    // acquisition, every other one a repeat purchase on its day.
    std::int64_t acquisition = std::numeric_limits<std::int64_t>::max();
    for (std::size_t i = lo; i < hi; ++i)
      if (i == lo || purchases[i].key != purchases[i - 1].key) acquisition = std::min(acquisition, purchases[i].day);
    bool acquisition_seen = false;
    for (std::size_t i = lo; i < hi; ++i) {
      if (i != lo && purchases[i].key == purchases[i - 1].key) continue;
      const std::int64_t day = purchases[i].day;
      const bool first = !acquisition_seen && day == acquisition;
      acquisition_seen = acquisition_seen || first;
      if (day > end) continue;
      (first ? acquired : repeats)[static_cast<std::size_t>(day - first_day)] += 1.0;
    }
    lo = hi;
  }
  // E[X(u)] for every whole-day age u = 1..n_days, each computed once.
  std::vector<double> expected(n_days + 1, 0.0);
  for (std::size_t u = 1; u <= n_days; ++u)
    expected[u] = model.expected_number_of_purchases_up_to_time(static_cast<double>(u) / options.unit_days);
  TrackingTable out;
  const auto period = static_cast<std::size_t>(options.period_days);
  double actual = 0.0;
  std::size_t counted = 0;
  for (std::size_t boundary = period; boundary <= n_days; boundary += period) {
    for (; counted < boundary; ++counted) actual += repeats[counted];
    double predicted = 0.0;
    for (std::size_t d = 0; d < boundary; ++d)
      if (acquired[d] > 0.0) predicted += acquired[d] * expected[boundary - d];
    out.period_end.push_back(first_day + static_cast<std::int64_t>(boundary));
    out.actual.push_back(actual);
    out.predicted.push_back(predicted);
  }
  return out;
}

}  // namespace crmine
