// SPDX-License-Identifier: Apache-2.0
// Per-customer spend trend: one cache-friendly pass accumulating sum s_u and sum u s_u.
#include <crmine/campaign/profile.hpp>
#include <crmine/core/errors.hpp>
#include <crmine/core/id_index.hpp>

#include "../core/customer_scan.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace crmine {

SpendTrend spend_trend(const TransactionLog& log, const SpendTrendOptions& options) {
  constexpr const char* where = "spend_trend";
  SummaryOptions summary_options;
  summary_options.returns = options.returns;
  summary_options.n_jobs = options.n_jobs;
  const CustomerSummary summary = summarize(log, summary_options);  // also validates the log
  if (summary.max_day == CustomerSummary::kNoDay) detail::throw_invalid(where, "amount", "the log has no row to use");
  const std::int32_t as_of = options.as_of_day == CustomerSummary::kNoDay ? summary.max_day : options.as_of_day;
  if (as_of < summary.max_day)
    detail::throw_invalid(where, "as_of_day", "day ", as_of, " is before the last row of the log (day ",
                          summary.max_day, "); cut the log at the as-of date first");
  const Period period = options.period;
  const std::int64_t last_period = period_index(as_of, period);
  const std::size_t n_customers = summary.size();
  std::vector<std::int64_t> first_period(n_customers, 0);
  for (std::size_t i = 0; i < n_customers; ++i)
    if (summary.occasions[i] > 0) first_period[i] = period_index(summary.first_day[i], period);

  const int threads = detail::resolve_threads(options.n_jobs);
  const IdIndex index = IdIndex::from_sorted_unique(summary.customer);
  const detail::CustomerScan scan(log, index, nullptr, options.returns == ReturnPolicy::drop, threads);
  std::vector<double> sum_us(n_customers, 0.0), last_spend(n_customers, 0.0);
  // Blocks hold disjoint customers and a customer's rows come in log order: sums are reproducible.
  scan.visit_in_log_order([&](std::size_t, std::span<const detail::ScanEntry> entries) {
    for (const auto& e : entries) {
      const auto c = static_cast<std::size_t>(index.index_at_position(e.pos));
      if (summary.occasions[c] == 0) continue;
      const std::int64_t p = period_index(e.day, period);
      sum_us[c] += static_cast<double>(std::max<std::int64_t>(0, p - first_period[c])) * e.amount;
      if (p == last_period) last_spend[c] += e.amount;
    }
    return true;
  });

  SpendTrend out;
  out.as_of_day = as_of;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (std::size_t c = 0; c < n_customers; ++c) {
    if (summary.occasions[c] == 0) {
      ++out.excluded_without_purchase;
      continue;
    }
    const std::int64_t m = last_period - first_period[c] + 1;
    const double md = static_cast<double>(m);
    const double total = summary.revenue[c];
    const double mean = total / md;
    out.customer.push_back(summary.customer[c]);
    out.periods.push_back(m);
    out.mean_spend.push_back(mean);
    out.last_period_spend.push_back(last_spend[c]);
    if (m < 2) {
      out.slope.push_back(nan);
      out.relative_slope.push_back(nan);
      continue;
    }
    // sum (u - ubar)(s_u - sbar) = sum u s_u - ubar * sum s_u; sum (u - ubar)^2 = m (m^2 - 1) / 12.
    const double slope = (sum_us[c] - 0.5 * (md - 1.0) * total) / (md * (md * md - 1.0) / 12.0);
    out.slope.push_back(slope);
    out.relative_slope.push_back(mean > 0.0 ? slope / mean : nan);
  }
  if (out.customer.empty()) detail::throw_invalid(where, "amount", "the log has no purchase");
  return out;
}

}  // namespace crmine
