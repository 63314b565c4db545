// SPDX-License-Identifier: Apache-2.0
// Per-customer aggregation of a transaction log, in one cache-friendly pass.
#include <crmine/core/errors.hpp>
#include <crmine/core/id_index.hpp>
#include <crmine/value/summary.hpp>

#include "../core/customer_scan.hpp"

#include <algorithm>
#include <numeric>
#include <type_traits>

namespace crmine {
namespace {

/// Running state of one customer. Kept together so that a row touches one cache line.
struct alignas(64) CustomerState {
  std::int64_t last_key = 0;
  std::int64_t occasions = 0;
  std::int64_t rows = 0;
  double revenue = 0.0;
  double returned = 0.0;
  double cost = 0.0;
  double first_occasion_revenue = 0.0;
  std::int32_t first_day = CustomerSummary::kNoDay;
  std::int32_t last_day = CustomerSummary::kNoDay;
};

/// Folds a block's rows into the customers' states. Returns false as soon as a customer's
/// occasion keys go backwards, which is when counting key changes stops counting distinct keys.
template <typename Entry>
bool fold(std::span<const Entry> entries, std::vector<CustomerState>& states, std::int32_t& min_day,
          std::int32_t& max_day) {
  constexpr bool kCompact = std::is_same_v<Entry, detail::CompactScanEntry>;
  // A customer's first row in a chunk misses the cache; asking for the state a few rows ahead
  // lets those misses overlap instead of stalling one at a time.
  constexpr std::size_t kAhead = 16;
  const std::size_t n = entries.size();
  for (std::size_t i = 0; i < n; ++i) {
    if (i + kAhead < n) __builtin_prefetch(&states[entries[i + kAhead].pos], 1);
    const Entry& e = entries[i];
    CustomerState& s = states[e.pos];
    std::int64_t key;
    if constexpr (kCompact) {
      key = e.day;
    } else {
      key = e.key;
      s.cost += e.cost;
    }
    ++s.rows;
    s.revenue += e.amount;
    min_day = std::min(min_day, e.day);
    max_day = std::max(max_day, e.day);
    if (e.amount < 0.0) {
      s.returned -= e.amount;
      continue;
    }
    if (s.occasions == 0) {
      s.occasions = 1;
      s.last_key = key;
      s.first_day = s.last_day = e.day;
    } else {
      if (key < s.last_key) return false;
      if (key != s.last_key) {
        ++s.occasions;
        s.last_key = key;
      }
      s.first_day = std::min(s.first_day, e.day);
      s.last_day = std::max(s.last_day, e.day);
    }
    if (s.occasions == 1) s.first_occasion_revenue += e.amount;
  }
  return true;
}

}  // namespace

std::vector<double> CustomerSummary::profit() const {
  std::vector<double> out(revenue);
  if (has_cost)
    for (std::size_t i = 0; i < out.size(); ++i) out[i] -= cost[i];
  return out;
}

CustomerSummary summarize(const TransactionLog& log, const SummaryOptions& options) {
  validate(log, "summarize", options.returns, options.n_jobs);
  const int threads = detail::resolve_threads(options.n_jobs);
  const IdIndex index = IdIndex::build(log.customer, threads);
  const std::size_t n_customers = index.size();
  const detail::CustomerScan scan(log, index, log.has_order() ? log.order.data() : nullptr,
                                  options.returns == ReturnPolicy::drop, threads);

  // Indexed by position, not dense index: a row then needs no lookup, and a block of positions
  // is a contiguous range of states.
  std::vector<CustomerState> states(index.n_positions());
  std::vector<std::int32_t> block_min(scan.n_blocks(), std::numeric_limits<std::int32_t>::max());
  std::vector<std::int32_t> block_max(scan.n_blocks(), std::numeric_limits<std::int32_t>::min());
  auto run = [&]<typename Entry>() {
    auto visit = [&](std::size_t block, std::span<const Entry> entries) {
      return fold<Entry>(entries, states, block_min[block], block_max[block]);
    };
    // Logs in time order (the usual case) take the single streaming pass; otherwise regroup.
    if (!scan.visit_in_log_order<Entry>(visit)) {
      std::fill(states.begin(), states.end(), CustomerState{});
      std::fill(block_min.begin(), block_min.end(), std::numeric_limits<std::int32_t>::max());
      std::fill(block_max.begin(), block_max.end(), std::numeric_limits<std::int32_t>::min());
      scan.visit_sorted<Entry>(visit);
    }
  };
  if (log.has_order() || log.has_cost())
    run.template operator()<detail::ScanEntry>();
  else
    run.template operator()<detail::CompactScanEntry>();

  CustomerSummary out;
  out.customer = index.ids();
  out.first_day.resize(n_customers);
  out.last_day.resize(n_customers);
  out.occasions.resize(n_customers);
  out.rows.resize(n_customers);
  out.revenue.resize(n_customers);
  out.returned.resize(n_customers);
  out.cost.resize(n_customers);
  out.first_occasion_revenue.resize(n_customers);
  const auto n_pos = static_cast<std::int64_t>(index.n_positions());
#pragma omp parallel for num_threads(threads) schedule(static)
  for (std::int64_t p = 0; p < n_pos; ++p) {
    const std::int64_t c = index.index_at_position(static_cast<std::uint64_t>(p));
    if (c < 0) continue;  // a gap in a direct index's id range
    const CustomerState& s = states[static_cast<std::size_t>(p)];
    const auto i = static_cast<std::size_t>(c);
    out.first_day[i] = s.first_day;
    out.last_day[i] = s.last_day;
    out.occasions[i] = s.occasions;
    out.rows[i] = s.rows;
    out.revenue[i] = s.revenue;
    out.returned[i] = s.returned;
    out.cost[i] = s.cost;
    out.first_occasion_revenue[i] = s.first_occasion_revenue;
  }
  out.has_cost = log.has_cost();
  out.occasions_are_orders = log.has_order();
  const auto lo = *std::min_element(block_min.begin(), block_min.end());
  const auto hi = *std::max_element(block_max.begin(), block_max.end());
  out.min_day = lo == std::numeric_limits<std::int32_t>::max() ? CustomerSummary::kNoDay : lo;
  out.max_day = hi == std::numeric_limits<std::int32_t>::min() ? CustomerSummary::kNoDay : hi;
  out.rows_used = std::accumulate(out.rows.begin(), out.rows.end(), std::int64_t{0});
  out.rows_dropped = static_cast<std::int64_t>(log.size()) - out.rows_used;
  return out;
}

CustomerSummary merge(std::span<const CustomerSummary> parts) {
  if (parts.empty()) detail::throw_invalid("merge", "parts", "no summaries to merge");
  std::size_t total = 0;
  for (std::size_t p = 0; p < parts.size(); ++p) {
    const auto& s = parts[p];
    total += s.size();
    if (s.has_cost != parts[0].has_cost || s.occasions_are_orders != parts[0].occasions_are_orders)
      detail::throw_invalid("merge", "parts", "part ", p,
                            " differs from part 0 in having a cost column or order ids; summarise all "
                            "parts with the same columns");
  }
  // Order the customers of all parts by id; a k-way merge would be faster but this runs once
  // per reduction on per-customer (not per-row) data.
  std::vector<std::pair<std::int64_t, std::pair<std::uint32_t, std::uint32_t>>> order;
  order.reserve(total);
  for (std::size_t p = 0; p < parts.size(); ++p)
    for (std::size_t i = 0; i < parts[p].size(); ++i)
      order.push_back({parts[p].customer[i], {static_cast<std::uint32_t>(p), static_cast<std::uint32_t>(i)}});
  std::sort(order.begin(), order.end());
  CustomerSummary out;
  out.has_cost = parts[0].has_cost;
  out.occasions_are_orders = parts[0].occasions_are_orders;
  out.min_day = std::numeric_limits<std::int32_t>::max();
  out.max_day = std::numeric_limits<std::int32_t>::min();
  for (std::size_t k = 0; k < order.size(); ++k) {
    if (k > 0 && order[k].first == order[k - 1].first)
      detail::throw_invalid("merge", "parts", "customer ", order[k].first, " appears in parts ",
                            order[k - 1].second.first, " and ", order[k].second.first,
                            "; partition the log by customer before summarising");
    const auto& s = parts[order[k].second.first];
    const std::size_t i = order[k].second.second;
    out.customer.push_back(s.customer[i]);
    out.first_day.push_back(s.first_day[i]);
    out.last_day.push_back(s.last_day[i]);
    out.occasions.push_back(s.occasions[i]);
    out.rows.push_back(s.rows[i]);
    out.revenue.push_back(s.revenue[i]);
    out.returned.push_back(s.returned[i]);
    out.cost.push_back(s.cost[i]);
    out.first_occasion_revenue.push_back(s.first_occasion_revenue[i]);
  }
  for (const auto& s : parts) {
    if (s.min_day != CustomerSummary::kNoDay) out.min_day = std::min(out.min_day, s.min_day);
    if (s.max_day != CustomerSummary::kNoDay) out.max_day = std::max(out.max_day, s.max_day);
    out.rows_used += s.rows_used;
    out.rows_dropped += s.rows_dropped;
  }
  if (out.min_day == std::numeric_limits<std::int32_t>::max()) out.min_day = CustomerSummary::kNoDay;
  if (out.max_day == std::numeric_limits<std::int32_t>::min()) out.max_day = CustomerSummary::kNoDay;
  return out;
}

}  // namespace crmine
