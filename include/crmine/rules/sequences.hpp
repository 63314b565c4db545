// SPDX-License-Identifier: Apache-2.0
// Sequential patterns over customers' time-ordered purchases: PrefixSpan (Pei et al. 2001)
// with a maximum gap between consecutive elements.
#pragma once

#include <crmine/core/transactions.hpp>

#include <cstdint>
#include <span>
#include <vector>

namespace crmine {

/// One sequence per customer: its purchase events (distinct days) in time order, each event a
/// sorted set of dense items.
struct SequenceDatabase {
  std::vector<std::int64_t> sequence_indptr{0};  ///< sequence -> range of events
  std::vector<std::int64_t> event_day;           ///< event -> day number, ascending within a sequence
  std::vector<std::int64_t> event_indptr{0};     ///< event -> range of items
  std::vector<std::int32_t> items;               ///< sorted and distinct within an event
  std::vector<std::int64_t> item_ids;            ///< dense item -> item id of the log
  std::vector<std::int64_t> keys;                ///< sequence -> customer id

  std::int64_t size() const { return static_cast<std::int64_t>(sequence_indptr.size()) - 1; }
  std::int32_t n_items() const { return static_cast<std::int32_t>(item_ids.size()); }
};

/// Groups a log with an item column by customer, then by day.
SequenceDatabase make_sequences(const TransactionLog& log, int n_threads = 0);

/// Options of sequential_patterns.
struct SequenceOptions {
  double min_support = 0.01;   ///< fraction of customers in (0, 1] whose sequence holds the pattern
  std::int64_t min_count = 0;  ///< the same as a customer count (>= 1); replaces min_support when > 0
  int max_len = 3;             ///< longest pattern (>= 1); 0 = no limit
  /// Largest gap in days between consecutive pattern elements (>= 1); 0 = no limit. Elements
  /// always lie in strictly later events (later days).
  std::int64_t max_gap = 0;
  std::int64_t max_patterns = 0;  ///< stop with LimitExceeded beyond this many; 0 = no limit
  int n_threads = 0;              ///< 0 = all cores; the result does not depend on it
};

/// Patterns a1 -> a2 -> ... (one item per element) in CSR form with customer counts.
struct SequentialPatterns {
  std::vector<std::int64_t> indptr{0};
  std::vector<std::int32_t> items;
  std::vector<std::int64_t> count;
  std::int64_t n_sequences = 0;

  std::int64_t size() const { return static_cast<std::int64_t>(count.size()); }
  std::span<const std::int32_t> pattern(std::int64_t p) const {
    return {items.data() + indptr[p], static_cast<std::size_t>(indptr[p + 1] - indptr[p])};
  }
};

/// Mines sequential patterns with PrefixSpan; grouped by first item, then depth first.
SequentialPatterns sequential_patterns(const SequenceDatabase& db, const SequenceOptions& options);

}  // namespace crmine
