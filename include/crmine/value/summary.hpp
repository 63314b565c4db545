// SPDX-License-Identifier: Apache-2.0
// Per-customer aggregates of a transaction log: the mergeable state behind RFM, value and CLV.
#pragma once

#include <crmine/core/transactions.hpp>

#include <cstdint>
#include <limits>
#include <span>
#include <vector>

namespace crmine {

/// Options of `summarize`.
struct SummaryOptions {
  ReturnPolicy returns = ReturnPolicy::net;  ///< what negative amounts mean (default: net them)
  int n_jobs = 0;                            ///< threads; 0 = all cores. Results do not depend on it.
};

/// Per-customer aggregates, one entry per customer in ascending id order.
///
/// A purchase is a row with amount >= 0; a purchase occasion is a distinct order id when the log
/// has orders, else a distinct day. Customers whose rows are all returns have `occasions` = 0 and
/// `first_day` = `last_day` = kNoDay. The state is mergeable: summaries of logs that share no
/// customer merge (`merge`) into exactly the summary of the whole log, which is how partitions
/// of a log too big for one machine are summarised.
struct CustomerSummary {
  static constexpr std::int32_t kNoDay = std::numeric_limits<std::int32_t>::min();

  std::vector<std::int64_t> customer;           ///< ids, ascending and unique
  std::vector<std::int32_t> first_day;          ///< day of the first purchase
  std::vector<std::int32_t> last_day;           ///< day of the last purchase
  std::vector<std::int64_t> occasions;          ///< distinct purchase occasions
  std::vector<std::int64_t> rows;               ///< rows counted (purchases and netted returns)
  std::vector<double> revenue;                  ///< purchases minus netted returns
  std::vector<double> returned;                 ///< amount returned, as a positive number
  std::vector<double> cost;                     ///< summed cost; all 0 when the log has no cost
  std::vector<double> first_occasion_revenue;   ///< purchases in the first occasion (CLV uses
                                                ///< the repeat ones: revenue of the others)
  bool has_cost = false;
  bool occasions_are_orders = false;
  std::int32_t min_day = kNoDay;                ///< earliest day of any counted row
  std::int32_t max_day = kNoDay;                ///< latest day of any counted row
  std::int64_t rows_used = 0;                   ///< rows that entered the summary
  std::int64_t rows_dropped = 0;                ///< returns dropped by ReturnPolicy::drop

  std::size_t size() const { return customer.size(); }
  /// Profit per customer: revenue minus cost (revenue when there is no cost).
  std::vector<double> profit() const;
};

/// Summarises a log per customer; validates it first (see `validate`).
CustomerSummary summarize(const TransactionLog& log, const SummaryOptions& options = {});

/// Merges summaries of logs that share no customer. Throws InvalidArgument naming the first
/// customer found in two parts (partition by customer before summarising) or when the parts
/// disagree on cost or on what an occasion is.
CustomerSummary merge(std::span<const CustomerSummary> parts);

}  // namespace crmine
