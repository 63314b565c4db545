// SPDX-License-Identifier: Apache-2.0
// Per-customer spend trend for the 7P profile: the slope of net spend per calendar period.
#pragma once

#include <crmine/core/calendar.hpp>
#include <crmine/core/transactions.hpp>
#include <crmine/value/summary.hpp>

#include <cstdint>
#include <vector>

namespace crmine {

/// Options of `spend_trend`.
struct SpendTrendOptions {
  Period period = Period::month;             ///< calendar unit of the spend series
  ReturnPolicy returns = ReturnPolicy::net;  ///< returns lower the spend of the period they fall in
  std::int32_t as_of_day = CustomerSummary::kNoDay;  ///< last day of the window (its period is the last
                                                     ///< one); default: the last day of the log
  int n_jobs = 0;                            ///< threads; 0 = all cores. Results do not depend on it.
};

/// The least-squares trend of each customer's net spend per period, from the period of their
/// first purchase to the period of `as_of_day`, periods without purchases counting as 0. One entry
/// per customer with a purchase, in ascending id order.
///
/// With u = 0..m-1 the periods since the first purchase and s_u the spend in them,
/// slope = sum (u - mean u)(s_u - mean s) / sum (u - mean u)^2. Because the periods form a full
/// range, the sums need only sum s_u and sum u s_u over the rows, so one pass in any row order
/// suffices. A return dated before the first purchase is booked to period 0.
struct SpendTrend {
  std::vector<std::int64_t> customer;
  std::vector<std::int64_t> periods;         ///< m: periods observed, first-purchase period to as-of
  std::vector<double> mean_spend;            ///< net spend per period over those m periods
  std::vector<double> slope;                 ///< money per period per period; NaN when m = 1
  std::vector<double> relative_slope;        ///< slope / mean_spend: the trend as a share of the
                                             ///< usual spend per period; NaN when m = 1 or mean <= 0
  std::vector<double> last_period_spend;     ///< net spend in the as-of period
  std::int32_t as_of_day = CustomerSummary::kNoDay;
  std::int64_t excluded_without_purchase = 0;  ///< customers with returns only, left out
  std::size_t size() const { return customer.size(); }
};

/// Spend trend per customer (the log is validated first). Throws InvalidArgument when as_of_day
/// is before the last row of the log or the log has no purchase.
SpendTrend spend_trend(const TransactionLog& log, const SpendTrendOptions& options = {});

}  // namespace crmine
