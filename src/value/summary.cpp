// SPDX-License-Identifier: Apache-2.0
// Per-customer aggregation of a transaction log, in one cache-friendly pass.
#include <crmine/core/errors.hpp>
#include <crmine/core/id_index.hpp>
#include <crmine/value/summary.hpp>

#include "../core/customer_scan.hpp"
#include "../core/random_access_array.hpp"
#include "rfm_fold.hpp"

#include <algorithm>
#include <memory>
#include <numeric>
#include <optional>
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

/// The state of a customer when occasions are days and the log has neither cost nor returns (the
/// usual RFM input): what CustomerState holds, in half the bytes. Every row still misses the cache
/// once, but there is half as much state to map fresh (which costs as much as the fold itself on a
/// freshly started process) and twice as many customers fit the last-level cache.
struct alignas(32) DayState {
  std::int32_t first_day = CustomerSummary::kNoDay;
  std::int32_t last_day = CustomerSummary::kNoDay;
  std::int32_t occasions = 0;
  std::int32_t rows = 0;  // the compact fold is used only for logs under 2^31 rows
  double revenue = 0.0;
  double first_occasion_revenue = 0.0;
};
static_assert(sizeof(DayState) == 32);

/// As `absorb` below for a purchase (amount >= 0) keyed by its day, for the day-keyed states:
/// DayState, or RfmState, which keeps only what RFM needs. One body, so both count occasions alike.
template <typename State>
inline bool absorb_day(State& s, std::int32_t day, double amount) {
  constexpr bool kFull = std::is_same_v<State, DayState>;
  if constexpr (kFull) ++s.rows;
  s.revenue += amount;
  if (s.occasions == 0) {
    s.occasions = 1;
    s.last_day = day;
    if constexpr (kFull) s.first_day = day;
  } else if (day != s.last_day) {
    if (day < s.last_day) return false;
    ++s.occasions;
    s.last_day = day;
  }
  if constexpr (kFull) {
    if (s.occasions == 1) s.first_occasion_revenue += amount;
  }
  return true;
}

/// Folds one row into its customer's state. Returns false when the customer's occasion keys go
/// backwards, which is when counting key changes stops counting distinct keys.
inline bool absorb(CustomerState& s, std::int64_t key, std::int32_t day, double amount, double cost) {
  s.cost += cost;
  ++s.rows;
  s.revenue += amount;
  if (amount < 0.0) {
    s.returned -= amount;
    return true;
  }
  if (s.occasions == 0) {
    s.occasions = 1;
    s.last_key = key;
    s.first_day = s.last_day = day;
  } else {
    if (key < s.last_key) return false;
    if (key != s.last_key) {
      ++s.occasions;
      s.last_key = key;
    }
    s.first_day = std::min(s.first_day, day);
    s.last_day = std::max(s.last_day, day);
  }
  if (s.occasions == 1) s.first_occasion_revenue += amount;
  return true;
}

/// A customer's first row in a chunk misses the cache; asking for the state this many rows ahead
/// lets those misses overlap instead of stalling one at a time.
constexpr std::size_t kPrefetchAhead = 16;

/// Folds a block's rows (regrouped by CustomerScan) into the customers' states.
template <typename Entry>
bool fold(std::span<const Entry> entries, CustomerState* states, std::int32_t& min_day, std::int32_t& max_day) {
  constexpr bool kCompact = std::is_same_v<Entry, detail::CompactScanEntry>;
  const std::size_t n = entries.size();
  for (std::size_t i = 0; i < n; ++i) {
    if (i + kPrefetchAhead < n) __builtin_prefetch(&states[entries[i + kPrefetchAhead].pos], 1);
    const Entry& e = entries[i];
    min_day = std::min(min_day, e.day);
    max_day = std::max(max_day, e.day);
    bool ok;
    if constexpr (kCompact)
      ok = absorb(states[e.pos], e.day, e.day, e.amount, 0.0);
    else
      ok = absorb(states[e.pos], e.key, e.day, e.amount, e.cost);
    if (!ok) return false;
  }
  return true;
}

/// The rows of a thread's share of the customers, read straight from the log's columns, folded
/// into states of type `State` (CustomerState, or DayState when the log allows it).
template <typename State>
struct DirectFold {
  const TransactionLog& log;
  std::int64_t min_id;        ///< position = id - min_id
  std::uint64_t n_positions;
  const std::int64_t* key;  ///< order ids, or nullptr to key occasions by day
  State* states;

  std::uint64_t position(std::int64_t id) const {
    return static_cast<std::uint64_t>(id) - static_cast<std::uint64_t>(min_id);
  }

  /// Folds, in log order, every row whose customer position is in [lo, hi) with
  /// `absorb_row(state, row, day)`; false when some customer's keys go backwards.
  template <typename AbsorbRow>
  bool run(std::uint64_t lo, std::uint64_t hi, std::int32_t& min_day, std::int32_t& max_day,
           AbsorbRow&& absorb_row) const {
    const std::int64_t* customer = log.customer.data();
    const std::int64_t* time = log.time.data();
    const detail::DayDivider divide(log.ticks_per_day);
    const std::size_t n = log.size();
    const std::uint64_t width = hi - lo;
    State* mine = states + lo;
    // Rows come in batches: a branch-free pass picks this thread's rows of the batch, then the
    // fold walks only those. Skipping the other threads' rows one by one would mispredict a branch
    // on every second row, and the prefetch can then aim exactly at the states to come.
    constexpr std::size_t kBatch = 4096;
    // Every row here may be a miss, so the prefetch reaches further than the regrouped fold's.
    constexpr std::size_t kAhead = 2 * kPrefetchAhead;
    std::vector<std::uint32_t> offsets(kBatch), rows(kBatch);
    for (std::size_t begin = 0; begin < n; begin += kBatch) {
      const std::size_t end = std::min(n, begin + kBatch);
      std::size_t count = 0;
      for (std::size_t i = begin; i < end; ++i) {
        const std::uint64_t offset = position(customer[i]) - lo;
        offsets[count] = static_cast<std::uint32_t>(offset);
        rows[count] = static_cast<std::uint32_t>(i - begin);
        count += offset < width;
      }
      for (std::size_t j = 0; j < std::min(count, kAhead); ++j) __builtin_prefetch(mine + offsets[j], 1);
      for (std::size_t j = 0; j < count; ++j) {
        if (j + kAhead < count) __builtin_prefetch(mine + offsets[j + kAhead], 1);
        const std::size_t i = begin + rows[j];
        const auto day = static_cast<std::int32_t>(divide(time[i]));
        min_day = std::min(min_day, day);
        max_day = std::max(max_day, day);
        if (!absorb_row(mine[offsets[j]], i, day)) return false;
      }
    }
    return true;
  }

  /// Splits the positions into one contiguous range per thread; every customer's rows are then
  /// folded by one thread in log order, so the result does not depend on the thread count.
  bool operator()(int threads, std::int32_t& min_day, std::int32_t& max_day) const {
    const std::uint64_t n_pos = n_positions;
    const double* amount = log.amount.data();
    const double* cost = log.has_cost() ? log.cost.data() : nullptr;
    bool ok = true;
    std::int32_t lo_day = std::numeric_limits<std::int32_t>::max();
    std::int32_t hi_day = std::numeric_limits<std::int32_t>::min();
#pragma omp parallel num_threads(threads) reduction(&& : ok) reduction(min : lo_day) reduction(max : hi_day)
    {
      const auto t = static_cast<std::uint64_t>(detail::thread_id());
      const auto count = static_cast<std::uint64_t>(threads);
      const std::uint64_t lo = n_pos * t / count, hi = n_pos * (t + 1) / count;
      if constexpr (std::is_same_v<State, DayState> || std::is_same_v<State, detail::RfmState>) {
        ok = run(lo, hi, lo_day, hi_day,
                 [&](State& s, std::size_t i, std::int32_t day) { return absorb_day(s, day, amount[i]); });
      } else {
        // One instantiation per column set, so the fold tests no column's presence per row.
        auto fold_with = [&]<bool kHasKey, bool kHasCost>() {
          return run(lo, hi, lo_day, hi_day, [&](CustomerState& s, std::size_t i, std::int32_t day) {
            return absorb(s, kHasKey ? key[i] : day, day, amount[i], kHasCost ? cost[i] : 0.0);
          });
        };
        if (key != nullptr)
          ok = cost ? fold_with.template operator()<true, true>() : fold_with.template operator()<true, false>();
        else
          ok = cost ? fold_with.template operator()<false, true>() : fold_with.template operator()<false, false>();
      }
    }
    min_day = lo_day;
    max_day = hi_day;
    return ok;
  }
};

/// Every thread reads every row in the direct fold, so it pays only while threads are few.
constexpr int kMaxDirectFoldThreads = 8;

/// The per-customer states of a log and the index of its customers.
struct Folded {
  IdIndex index;
  // Indexed by position; exactly one of the two is set.
  std::unique_ptr<detail::RandomAccessArray<CustomerState>> states;
  std::unique_ptr<detail::RandomAccessArray<DayState>> day_states;
  std::int32_t min_day = std::numeric_limits<std::int32_t>::max();
  std::int32_t max_day = std::numeric_limits<std::int32_t>::min();
};

/// Whether occasions can be keyed by day into a compact state: no order ids, no cost, no return,
/// and fewer rows than a customer's int32 row count can hold.
bool folds_by_day(const TransactionLog& log, const LogFacts& facts) {
  return !log.has_order() && !log.has_cost() && !facts.has_negative_amount &&
         log.size() < static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max());
}

/// Folds the log straight from its columns into fresh `State`s over the id range; false when some
/// customer's occasion keys go backwards.
template <typename State>
bool fold_direct(const TransactionLog& log, const IdIndex::Range& range, int threads,
                 std::unique_ptr<detail::RandomAccessArray<State>>& out, Folded& f) {
  out = std::make_unique<detail::RandomAccessArray<State>>(range.width(), State{}, threads);
  const DirectFold<State> direct{log, range.min, range.width(), log.has_order() ? log.order.data() : nullptr,
                                 out->data()};
  if (!direct(threads, f.min_day, f.max_day)) return false;
  const auto& states = *out;
  f.index = IdIndex::direct_from(range.min, range.width(), [&](std::uint64_t p) { return states[p].rows > 0; });
  return true;
}

/// Dense ids straight from the columns: a row's state is found by a subtraction, so the rows need
/// no regrouping, and which customers occur is learned in the same pass (every row is folded
/// under these return policies, so a customer occurs exactly when it has rows).
std::optional<Folded> fold_dense(const TransactionLog& log, const LogFacts& facts, const SummaryOptions& options,
                                 int threads, const IdIndex::Range& range, bool& out_of_order) {
  // Dropping returns means skipping rows, which only the regrouping scan does; without any
  // return, dropping them is netting them.
  const bool drops_rows = options.returns == ReturnPolicy::drop && facts.has_negative_amount;
  if (threads > kMaxDirectFoldThreads || drops_rows || !range.direct) return std::nullopt;
  Folded f;
  const bool ok = folds_by_day(log, facts) ? fold_direct(log, range, threads, f.day_states, f) : fold_direct(log, range, threads, f.states, f);
  if (!ok) {
    out_of_order = true;
    return std::nullopt;
  }
  return f;
}

/// Any ids, through CustomerScan's regrouping: in log order when every customer's keys are (unless
/// already known not to be), else sorted per customer.
Folded fold_regrouped(const TransactionLog& log, const SummaryOptions& options, int threads,
                      const IdIndex::Range& range, bool out_of_order) {
  Folded f;
  f.index = IdIndex::build(log.customer, range, threads);
  const detail::CustomerScan scan(log, f.index, log.has_order() ? log.order.data() : nullptr,
                                  options.returns == ReturnPolicy::drop, threads);
  f.states = std::make_unique<detail::RandomAccessArray<CustomerState>>(f.index.n_positions(), CustomerState{}, threads);
  auto& states = *f.states;
  auto regrouped = [&](bool sorted) {
    std::vector<std::int32_t> block_min(scan.n_blocks(), std::numeric_limits<std::int32_t>::max());
    std::vector<std::int32_t> block_max(scan.n_blocks(), std::numeric_limits<std::int32_t>::min());
    auto run = [&]<typename Entry>() {
      auto visit = [&](std::size_t block, std::span<const Entry> entries) {
        return fold<Entry>(entries, states.data(), block_min[block], block_max[block]);
      };
      if (!sorted) return scan.visit_in_log_order<Entry>(visit);
      scan.visit_sorted<Entry>(visit);
      return true;
    };
    const bool ok = log.has_order() || log.has_cost() ? run.template operator()<detail::ScanEntry>()
                                                      : run.template operator()<detail::CompactScanEntry>();
    f.min_day = *std::min_element(block_min.begin(), block_min.end());
    f.max_day = *std::max_element(block_max.begin(), block_max.end());
    return ok;
  };
  // Logs in time order (the usual case) take a single streaming pass; otherwise regroup.
  if (out_of_order || !regrouped(false)) {
    const auto n_pos = static_cast<std::int64_t>(states.size());
#pragma omp parallel for num_threads(threads) schedule(static)
    for (std::int64_t p = 0; p < n_pos; ++p) states[static_cast<std::size_t>(p)] = CustomerState{};
    regrouped(true);
  }
  return f;
}

}  // namespace

std::optional<detail::RfmFold> detail::fold_for_rfm(const TransactionLog& log, const LogFacts& facts,
                                                    const SummaryOptions& options) {
  const int threads = detail::resolve_threads(options.n_jobs);
  if (threads > kMaxDirectFoldThreads || !folds_by_day(log, facts)) return std::nullopt;
  const IdIndex::Range range = IdIndex::range_of(log.customer, threads);
  if (!range.direct) return std::nullopt;
  RfmFold f;
  f.min_id = range.min;
  f.states = std::make_unique<RandomAccessArray<RfmState>>(range.width(), RfmState{}, threads);
  const DirectFold<RfmState> direct{log, range.min, range.width(), nullptr, f.states->data()};
  std::int32_t min_day = 0, max_day = 0;
  if (!direct(threads, min_day, max_day)) return std::nullopt;  // some customer's days go backwards
  f.max_day = max_day;
  return f;
}

std::vector<double> CustomerSummary::profit() const {
  std::vector<double> out(revenue);
  if (has_cost)
    for (std::size_t i = 0; i < out.size(); ++i) out[i] -= cost[i];
  return out;
}

CustomerSummary summarize(const TransactionLog& log, const SummaryOptions& options) {
  return detail::summarize_validated(log, validate(log, "summarize", options.returns, options.n_jobs), options);
}

CustomerSummary detail::summarize_validated(const TransactionLog& log, const LogFacts& facts,
                                            const SummaryOptions& options) {
  const int threads = detail::resolve_threads(options.n_jobs);
  bool out_of_order = false;
  const IdIndex::Range range = IdIndex::range_of(log.customer, threads);
  std::optional<Folded> dense = fold_dense(log, facts, options, threads, range, out_of_order);
  const Folded folded = dense ? std::move(*dense) : fold_regrouped(log, options, threads, range, out_of_order);
  const IdIndex& index = folded.index;
  const std::size_t n_customers = index.size();
  const std::int32_t min_day = folded.min_day, max_day = folded.max_day;

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
  auto unpack = [&](const auto& states) {
    const auto n_pos = static_cast<std::int64_t>(index.n_positions());
#pragma omp parallel for num_threads(threads) schedule(static)
    for (std::int64_t p = 0; p < n_pos; ++p) {
      const std::int64_t c = index.index_at_position(static_cast<std::uint64_t>(p));
      if (c < 0) continue;  // a gap in a direct index's id range
      const auto& s = states[static_cast<std::size_t>(p)];
      const auto i = static_cast<std::size_t>(c);
      out.first_day[i] = s.first_day;
      out.last_day[i] = s.last_day;
      out.occasions[i] = s.occasions;
      out.rows[i] = s.rows;
      out.revenue[i] = s.revenue;
      out.first_occasion_revenue[i] = s.first_occasion_revenue;
      if constexpr (std::is_same_v<std::decay_t<decltype(s)>, CustomerState>) {
        out.returned[i] = s.returned;
        out.cost[i] = s.cost;
      } else {
        out.returned[i] = 0.0;  // the compact state is only used for logs without returns or cost
        out.cost[i] = 0.0;
      }
    }
  };
  if (folded.day_states)
    unpack(*folded.day_states);
  else
    unpack(*folded.states);
  out.has_cost = log.has_cost();
  out.occasions_are_orders = log.has_order();
  out.min_day = min_day == std::numeric_limits<std::int32_t>::max() ? CustomerSummary::kNoDay : min_day;
  out.max_day = max_day == std::numeric_limits<std::int32_t>::min() ? CustomerSummary::kNoDay : max_day;
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
