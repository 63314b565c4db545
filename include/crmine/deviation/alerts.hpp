// SPDX-License-Identifier: Apache-2.0
// Churn early warning from the history baselines and P(alive), and the top-k metrics alerts are judged by.
#pragma once

#include <crmine/classify/metrics.hpp>
#include <crmine/deviation/history.hpp>

#include <cstdint>
#include <span>
#include <vector>

namespace crmine {

/// Options of `churn_alerts`. Names and defaults match the Python keyword arguments.
struct ChurnOptions {
  double gap_ratio = 3.0;          ///< flag when the current gap is at least this many usual gaps; > 1
  int min_gaps = 2;                ///< gaps a usual gap must rest on before it can flag; >= 1
  double p_alive_threshold = 0.3;  ///< flag when P(alive) is below this; in (0, 1)
  int horizon_days = 365;          ///< value at risk covers this many days of usual spend; >= 1
  int within_days = 90;            ///< early warning: the gap crossed gap_ratio usual gaps at most this
                                   ///< many days ago; >= 0
};

/// Customers flagged as churning, ranked by value at risk (highest first; ties in customer order).
///
/// An early warning is about customers who are slipping now, not those lost long ago: a gap
/// flags when it crossed `gap_ratio` usual gaps within the last `within_days` days, and P(alive)
/// flags only customers who bought within the history window (the last window + 1 periods).
///
/// The usual spend rate is total spend / (last - first purchase + usual gap): n occasions cover
/// n - 1 gaps plus the cycle that follows the last one. Without a gap it is total spend / days
/// since the first purchase (at least one period). Value at risk = rate x horizon x P(not alive),
/// with P(not alive) = 1 - P(alive) where P(alive) is known, else 1: the spend expected to be lost.
struct ChurnAlerts {
  std::vector<std::int64_t> row;       ///< row of the customer in the HistoryBaselines
  std::vector<double> usual_value;     ///< spend over the horizon at the usual rate
  std::vector<double> value_at_risk;
  std::vector<std::uint8_t> by_gap;    ///< 1 when the purchase gap flagged the customer
  std::vector<std::uint8_t> by_p_alive;  ///< 1 when P(alive) flagged the customer
  std::size_t size() const { return row.size(); }
};

/// Flags the customers of `history` whose current gap is `gap_ratio` usual gaps or more (with at
/// least `min_gaps` gaps behind it) or whose P(alive) is below the threshold. `p_alive` is empty
/// or one value per customer of `history` (NaN = unknown); throws InvalidArgument otherwise, and
/// for options out of range.
ChurnAlerts churn_alerts(const HistoryBaselines& history, std::span<const double> p_alive,
                         const ChurnOptions& options = {});

/// Share of the k best-scored rows that are labelled 1 (equal scores keep input order).
/// `y` 0/1, `score` higher = more suspicious, no NaN; 1 <= k <= rows.
double precision_at_k(LabelRef y, VectorRef score, std::int64_t k);
/// Share of the rows labelled 1 that are among the k best-scored (NaN when no row is labelled 1).
double recall_at_k(LabelRef y, VectorRef score, std::int64_t k);

}  // namespace crmine
