// SPDX-License-Identifier: Apache-2.0
// Validation of transaction logs, shared by every analysis that reads one.
#include <crmine/core/errors.hpp>
#include <crmine/core/parallel.hpp>
#include <crmine/core/transactions.hpp>

#include <algorithm>
#include <cmath>
#include <limits>

namespace crmine {
namespace {

/// Index of the first row where `bad(row)` holds, or n. Parallel, yet always the *first* row,
/// so the error message does not depend on the thread count.
template <typename Pred>
std::int64_t first_bad_row(std::int64_t n, int n_jobs, Pred bad) {
  std::int64_t first = n;
  const int threads = detail::resolve_threads(n_jobs);
#pragma omp parallel for num_threads(threads) reduction(min : first) schedule(static)
  for (std::int64_t i = 0; i < n; ++i) {
    if (i < first && bad(i)) first = i;
  }
  return first;
}

}  // namespace

std::int64_t first_non_finite(std::span<const double> values, int n_jobs) {
  const auto n = static_cast<std::int64_t>(values.size());
  const double* v = values.data();
  const std::int64_t r = first_bad_row(n, n_jobs, [&](std::int64_t i) { return !std::isfinite(v[i]); });
  return r < n ? r : -1;
}

LogFacts validate(const TransactionLog& log, const char* caller, ReturnPolicy returns, int n_jobs) {
  const std::size_t n = log.customer.size();
  if (n == 0) detail::throw_invalid(caller, "customer", "the transaction log is empty");
  auto check_length = [&](std::size_t got, const char* column) {
    if (got != n)
      detail::throw_invalid(caller, column, "has ", got, " rows but customer has ", n);
  };
  check_length(log.time.size(), "time");
  check_length(log.amount.size(), "amount");
  if (log.has_order()) check_length(log.order.size(), "order");
  if (log.has_cost()) check_length(log.cost.size(), "cost");
  if (log.has_item()) check_length(log.item.size(), "item");
  if (log.ticks_per_day <= 0)
    detail::throw_invalid(caller, "ticks_per_day", "must be positive, got ", log.ticks_per_day);

  const auto rows = static_cast<std::int64_t>(n);
  const double* amount = log.amount.data();
  const int threads = detail::resolve_threads(n_jobs);
  // One pass finds both the first non-finite and the first negative amount: on 100M rows each
  // pass over a column is a tenth of a second.
  std::int64_t first_non_finite_row = rows, first_negative_row = rows;
#pragma omp parallel for num_threads(threads) reduction(min : first_non_finite_row, first_negative_row) schedule(static)
  for (std::int64_t i = 0; i < rows; ++i) {
    const double a = amount[i];
    if (!std::isfinite(a)) first_non_finite_row = std::min(first_non_finite_row, i);
    if (a < 0.0) first_negative_row = std::min(first_negative_row, i);
  }
  if (first_non_finite_row < rows)
    detail::throw_invalid(caller, "amount", "row ", first_non_finite_row, " is not finite (",
                          amount[first_non_finite_row], ")");
  if (returns == ReturnPolicy::error && first_negative_row < rows)
    detail::throw_invalid(caller, "amount", "row ", first_negative_row, " is negative (", amount[first_negative_row],
                          "), a return or cancellation; choose returns='net' or 'drop' to accept them");
  LogFacts facts;
  facts.has_negative_amount = first_negative_row < rows;
  if (log.has_cost()) {
    if (auto r = first_non_finite(log.cost, n_jobs); r >= 0)
      detail::throw_invalid(caller, "cost", "row ", r, " is not finite (", log.cost[static_cast<std::size_t>(r)], ")");
  }
  // Days must fit 32 bits; checking the extremes suffices and avoids a division per row.
  const std::int64_t tpd = log.ticks_per_day;
  const std::int64_t* time = log.time.data();
  std::int64_t t_min = time[0], t_max = time[0];
#pragma omp parallel for num_threads(threads) reduction(min : t_min) reduction(max : t_max) schedule(static)
  for (std::int64_t i = 0; i < rows; ++i) {
    t_min = std::min(t_min, time[i]);
    t_max = std::max(t_max, time[i]);
  }
  constexpr std::int64_t lo = std::numeric_limits<std::int32_t>::min() + 1;
  constexpr std::int64_t hi = std::numeric_limits<std::int32_t>::max() - 1;
  auto out_of_range = [&](std::int64_t t) {
    const std::int64_t d = day_of(t, tpd);
    return d < lo || d > hi;
  };
  if (out_of_range(t_min) || out_of_range(t_max)) {
    const auto r = first_bad_row(rows, n_jobs, [&](std::int64_t i) { return out_of_range(time[i]); });
    detail::throw_invalid(caller, "time", "row ", r, " is out of the supported range (", time[r],
                          " ticks, ", tpd, " ticks per day); missing dates (NaT) are not allowed");
  }
  return facts;
}

}  // namespace crmine
