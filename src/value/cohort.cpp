// SPDX-License-Identifier: Apache-2.0
// Cohort retention matrices in two passes: first purchase per customer, then the cells.
#include <crmine/core/errors.hpp>
#include <crmine/core/id_index.hpp>
#include <crmine/value/cohort.hpp>
#include <crmine/value/summary.hpp>

#include "../core/customer_scan.hpp"

#include <algorithm>
#include <bit>

namespace crmine {
namespace {
constexpr std::int64_t kMaxCells = 10'000'000;
// Per-block matrices make the sums independent of the thread count; this bounds their memory.
constexpr std::int64_t kBlockMatrixBudgetBytes = 256ll << 20;
}  // namespace

CohortTable cohort_retention(const TransactionLog& log, const CohortOptions& options) {
  SummaryOptions summary_options;
  summary_options.returns = options.returns;
  summary_options.n_jobs = options.n_jobs;
  // The first pass also validates the log.
  const CustomerSummary summary = summarize(log, summary_options);
  const int threads = detail::resolve_threads(options.n_jobs);
  const Period period = options.period;

  const std::size_t n_customers = summary.size();
  std::vector<std::int64_t> first_period(n_customers, 0);
  std::int64_t min_cohort = INT64_MAX, max_cohort = INT64_MIN;
  CohortTable out;
  out.period = period;
  for (std::size_t i = 0; i < n_customers; ++i) {
    if (summary.occasions[i] == 0) {
      ++out.customers_without_purchase;
      continue;
    }
    first_period[i] = period_index(summary.first_day[i], period);
    min_cohort = std::min(min_cohort, first_period[i]);
    max_cohort = std::max(max_cohort, first_period[i]);
  }
  if (min_cohort == INT64_MAX) detail::throw_invalid("cohort_retention", "amount", "the log has no purchase");
  const std::int64_t last_period = period_index(summary.max_day, period);
  const std::int64_t n_cohorts = max_cohort - min_cohort + 1;
  const std::int64_t n_offsets = last_period - min_cohort + 1;
  if (n_cohorts * n_offsets > kMaxCells)
    detail::throw_invalid("cohort_retention", "period", "the log spans ", n_cohorts, " x ", n_offsets,
                          " cohort cells; choose a longer period");
  const auto cells = static_cast<std::size_t>(n_cohorts * n_offsets);

  const IdIndex index = IdIndex::from_sorted_unique(summary.customer);
  const std::int64_t bytes_per_block = n_cohorts * n_offsets * 16;
  const int block_bits =
      static_cast<int>(std::bit_width(static_cast<std::uint64_t>(std::max<std::int64_t>(1, kBlockMatrixBudgetBytes / bytes_per_block)))) - 1;
  const detail::CustomerScan scan(log, index, nullptr, options.returns == ReturnPolicy::drop, threads, block_bits);

  std::vector<std::vector<std::int64_t>> block_active(scan.n_blocks());
  std::vector<std::vector<double>> block_revenue(scan.n_blocks());
  std::vector<std::int64_t> last_offset(n_customers, -1);
  auto visit = [&](std::size_t block, std::span<const detail::ScanEntry> entries) {
    auto& active = block_active[block];
    auto& revenue = block_revenue[block];
    if (active.empty()) {
      active.assign(cells, 0);
      revenue.assign(cells, 0.0);
    }
    for (const auto& e : entries) {
      const auto c = static_cast<std::size_t>(index.index_at_position(e.pos));
      if (summary.occasions[c] == 0) continue;
      const std::int64_t cohort_row = first_period[c] - min_cohort;
      const std::int64_t offset = std::max<std::int64_t>(0, period_index(e.day, period) - first_period[c]);
      const auto cell = static_cast<std::size_t>(cohort_row * n_offsets + offset);
      revenue[cell] += e.amount;
      if (e.amount < 0.0) continue;
      if (offset < last_offset[c]) return false;  // rows out of time order: regroup and redo
      if (offset != last_offset[c]) {
        ++active[cell];
        last_offset[c] = offset;
      }
    }
    return true;
  };
  if (!scan.visit_in_log_order(visit)) {
    for (auto& a : block_active) a.clear();
    for (auto& r : block_revenue) r.clear();
    std::fill(last_offset.begin(), last_offset.end(), -1);
    scan.visit_sorted(visit);
  }

  out.n_offsets = n_offsets;
  out.active.assign(cells, 0);
  out.revenue.assign(cells, 0.0);
  for (std::size_t b = 0; b < scan.n_blocks(); ++b) {  // fixed block order: reproducible sums
    if (block_active[b].empty()) continue;
    for (std::size_t k = 0; k < cells; ++k) {
      out.active[k] += block_active[b][k];
      out.revenue[k] += block_revenue[b][k];
    }
  }
  out.size.assign(static_cast<std::size_t>(n_cohorts), 0);
  for (std::size_t i = 0; i < n_customers; ++i)
    if (summary.occasions[i] > 0) ++out.size[static_cast<std::size_t>(first_period[i] - min_cohort)];
  for (std::int64_t c = 0; c < n_cohorts; ++c) {
    out.cohort.push_back(min_cohort + c);
    out.cohort_start_day.push_back(static_cast<std::int32_t>(period_start_day(min_cohort + c, period)));
  }
  return out;
}

}  // namespace crmine
