// SPDX-License-Identifier: Apache-2.0
// The CLV summary of a transaction log, built on the per-customer summary of the value area.
#include <crmine/clv/summary.hpp>
#include <crmine/core/errors.hpp>
#include <crmine/value/summary.hpp>

#include <algorithm>
#include <cmath>

namespace crmine {
namespace {

/// Owned copies of the rows of a log whose day lies in [first, last].
struct SubLog {
  std::vector<std::int64_t> customer, time, order;
  std::vector<double> amount, cost;
  TransactionLog view(const TransactionLog& like) const {
    TransactionLog log;
    log.customer = customer;
    log.time = time;
    log.ticks_per_day = like.ticks_per_day;
    log.amount = amount;
    if (like.has_order()) log.order = order;
    if (like.has_cost()) log.cost = cost;
    return log;
  }
};

SubLog rows_between(const TransactionLog& log, std::int64_t first, std::int64_t last) {
  SubLog s;
  for (std::size_t i = 0; i < log.size(); ++i) {
    const std::int64_t day = day_of(log.time[i], log.ticks_per_day);
    if (day < first || day > last) continue;
    s.customer.push_back(log.customer[i]);
    s.time.push_back(log.time[i]);
    s.amount.push_back(log.amount[i]);
    if (log.has_order()) s.order.push_back(log.order[i]);
    if (log.has_cost()) s.cost.push_back(log.cost[i]);
  }
  return s;
}

}  // namespace

ClvSummary clv_summary(const TransactionLog& log, const ClvSummaryOptions& options) {
  const char* caller = "clv_summary";
  if (!(options.unit_days > 0.0) || !std::isfinite(options.unit_days))
    detail::throw_invalid(caller, "unit_days", "is ", options.unit_days, "; must be > 0");
  validate(log, caller, options.returns, options.n_jobs);
  std::int64_t last_day = std::numeric_limits<std::int64_t>::min();
  std::int64_t first_day = std::numeric_limits<std::int64_t>::max();
  for (std::int64_t t : log.time) {
    last_day = std::max(last_day, day_of(t, log.ticks_per_day));
    first_day = std::min(first_day, day_of(t, log.ticks_per_day));
  }
  const bool cal_set = options.calibration_end != ClvSummaryOptions::kUnset;
  const bool obs_set = options.observation_end != ClvSummaryOptions::kUnset;
  ClvSummary out;
  out.calibration_end = cal_set ? options.calibration_end : last_day;
  out.observation_end = obs_set ? options.observation_end : (cal_set ? std::max(last_day, out.calibration_end) : last_day);
  if (out.observation_end < out.calibration_end)
    detail::throw_invalid(caller, "observation_end", "day ", out.observation_end, " is before calibration_end day ",
                          out.calibration_end);
  if (out.calibration_end < first_day)
    detail::throw_invalid(caller, "calibration_end", "day ", out.calibration_end,
                          " is before the first transaction (day ", first_day, ")");
  out.has_holdout = out.observation_end > out.calibration_end;
  out.duration_holdout = static_cast<double>(out.observation_end - out.calibration_end) / options.unit_days;

  SummaryOptions so;
  so.returns = options.returns;
  so.n_jobs = options.n_jobs;
  const SubLog cal_rows = rows_between(log, std::numeric_limits<std::int64_t>::min(), out.calibration_end);
  const CustomerSummary cal = summarize(cal_rows.view(log), so);
  CustomerSummary hold;
  SubLog hold_rows;
  if (out.has_holdout) {
    hold_rows = rows_between(log, out.calibration_end + 1, out.observation_end);
    if (!hold_rows.customer.empty()) hold = summarize(hold_rows.view(log), so);
  }
  std::size_t h = 0;
  for (std::size_t i = 0; i < cal.size(); ++i) {
    if (cal.occasions[i] == 0) continue;  // returns only: no first purchase to anchor the customer
    const double x = static_cast<double>(cal.occasions[i] - 1);
    out.customer.push_back(cal.customer[i]);
    out.first_day.push_back(cal.first_day[i]);
    out.frequency.push_back(x);
    out.recency.push_back(static_cast<double>(cal.last_day[i] - cal.first_day[i]) / options.unit_days);
    out.T.push_back(static_cast<double>(out.calibration_end - cal.first_day[i]) / options.unit_days);
    out.monetary_value.push_back(x > 0.0 ? (cal.revenue[i] - cal.first_occasion_revenue[i]) / x : 0.0);
    if (out.has_holdout) {
      while (h < hold.size() && hold.customer[h] < cal.customer[i]) ++h;
      const bool seen = h < hold.size() && hold.customer[h] == cal.customer[i] && hold.occasions[h] > 0;
      const double n = seen ? static_cast<double>(hold.occasions[h]) : 0.0;
      out.frequency_holdout.push_back(n);
      out.monetary_value_holdout.push_back(seen ? hold.revenue[h] / n : 0.0);
    }
  }
  return out;
}

}  // namespace crmine
