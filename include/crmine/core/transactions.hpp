// SPDX-License-Identifier: Apache-2.0
// The transaction log every customer-level analysis reads: a non-owning view of columns.
#pragma once

#include <cstdint>
#include <span>

namespace crmine {

/// What to do with rows whose amount is negative (returns, cancellations, credit notes).
enum class ReturnPolicy {
  net,   ///< subtract them from the customer's value; they never count as purchase occasions
  drop,  ///< ignore them entirely (counted in the result's `rows_dropped`)
  error  ///< throw InvalidArgument naming the first such row
};

/// A transaction log as parallel columns, one entry per row (order line or payment).
///
/// The view owns nothing: the caller keeps the columns alive while a function runs, which lets
/// numpy arrays pass without a copy. Optional columns are empty spans.
struct TransactionLog {
  std::span<const std::int64_t> customer;  ///< customer id per row; any int64 (string ids: map first)
  std::span<const std::int64_t> time;      ///< timestamp per row in ticks; rows need not be sorted
  std::int64_t ticks_per_day = 1;          ///< ticks in one day: 1 for day numbers, 86'400 for Unix
                                           ///< seconds, 86'400'000'000'000 for numpy datetime64[ns]
  std::span<const double> amount;          ///< money per row; negative = return (see ReturnPolicy)
  std::span<const std::int64_t> order;     ///< optional order/invoice id; purchase occasions = orders
  std::span<const double> cost;            ///< optional cost of the row (same sign as amount)
  std::span<const std::int64_t> item;      ///< optional product id per row

  std::size_t size() const { return customer.size(); }
  bool has_order() const { return !order.empty(); }
  bool has_cost() const { return !cost.empty(); }
  bool has_item() const { return !item.empty(); }
};

/// Checks a log before any work: equal column lengths, at least one row, finite amounts and
/// costs, positive ticks_per_day, times whose day numbers fit 32 bits, and the return policy.
/// Throws InvalidArgument naming `caller`, the column and the first offending row.
/// Returns what the checks learned on the way, so that callers need no pass of their own for it.
struct LogFacts {
  bool has_negative_amount = false;  ///< some row is a return or cancellation
};
LogFacts validate(const TransactionLog& log, const char* caller, ReturnPolicy returns, int n_jobs = 0);

/// The first row of `values` that is NaN or infinite, or -1 when all are finite. Parallel over
/// `n_jobs` threads (0 = all), yet always the first such row, whatever the thread count.
std::int64_t first_non_finite(std::span<const double> values, int n_jobs = 0);

/// The day number (days since 1970-01-01) of a timestamp, flooring towards minus infinity.
inline std::int64_t day_of(std::int64_t ticks, std::int64_t ticks_per_day) {
  const std::int64_t q = ticks / ticks_per_day;
  return (ticks % ticks_per_day != 0 && ticks < 0) ? q - 1 : q;
}

namespace detail {

/// Exact floor(t / ticks_per_day) without a hardware division per row: a floating-point
/// estimate corrected by at most a step or two. Division is the dominant cost of a pass over
/// nanosecond timestamps otherwise.
class DayDivider {
 public:
  explicit DayDivider(std::int64_t ticks_per_day)
      : d_(ticks_per_day), inverse_(1.0 / static_cast<double>(ticks_per_day)) {}
  std::int64_t operator()(std::int64_t t) const {
    if (d_ == 1) return t;
    auto q = static_cast<std::int64_t>(static_cast<double>(t) * inverse_);
    // Fix the estimate so that q * d <= t < (q + 1) * d; the products cannot overflow because
    // |q| <= |t| / d + 2.
    while (q * d_ > t) --q;
    while ((q + 1) * d_ <= t) ++q;
    return q;
  }

 private:
  std::int64_t d_;
  double inverse_;
};

}  // namespace detail
}  // namespace crmine
