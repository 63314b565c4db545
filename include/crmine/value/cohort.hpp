// SPDX-License-Identifier: Apache-2.0
// Cohort retention: customers and revenue by acquisition period and periods since acquisition.
#pragma once

#include <crmine/core/calendar.hpp>
#include <crmine/core/transactions.hpp>

#include <cstdint>
#include <vector>

namespace crmine {

/// Options of `cohort_retention`.
struct CohortOptions {
  Period period = Period::month;             ///< the calendar unit of cohorts and offsets
  ReturnPolicy returns = ReturnPolicy::net;  ///< returns reduce revenue in the period they happen
  int n_jobs = 0;                            ///< threads; 0 = all cores. Results do not depend on it.
};

/// Acquisition-cohort x periods-since-acquisition matrices, row-major (n_cohorts x n_offsets).
///
/// A customer's cohort is the period of their first purchase. `active[c][k]` counts the
/// customers of cohort c with a purchase k periods after their acquisition period (so column 0
/// equals the cohort size); `revenue[c][k]` is their net revenue in that period. A return dated
/// before the customer's first purchase is booked to period 0; customers with returns only
/// belong to no cohort and are counted in `customers_without_purchase`.
struct CohortTable {
  Period period = Period::month;
  std::vector<std::int64_t> cohort;            ///< period index of each cohort (see period_index)
  std::vector<std::int32_t> cohort_start_day;  ///< first day of each cohort's period
  std::int64_t n_offsets = 0;                  ///< columns: 0 .. n_offsets - 1 periods since
  std::vector<std::int64_t> size;              ///< customers acquired per cohort
  std::vector<std::int64_t> active;            ///< customers active, n_cohorts x n_offsets
  std::vector<double> revenue;                 ///< net revenue, n_cohorts x n_offsets
  std::int64_t customers_without_purchase = 0;

  std::size_t n_cohorts() const { return cohort.size(); }
  /// active / size for one cell: the retention rate.
  double retention(std::size_t c, std::size_t k) const {
    return size[c] > 0 ? static_cast<double>(active[c * static_cast<std::size_t>(n_offsets) + k]) /
                             static_cast<double>(size[c])
                       : 0.0;
  }
};

/// Builds the cohort table of a log (validated first). Throws InvalidArgument for period = day
/// or week spans so long that the matrix would pass 10 million cells.
CohortTable cohort_retention(const TransactionLog& log, const CohortOptions& options = {});

}  // namespace crmine
