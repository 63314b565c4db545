// SPDX-License-Identifier: Apache-2.0
// Market baskets as a CSR view (indptr, indices), and building them from a transaction log.
#pragma once

#include <crmine/core/transactions.hpp>

#include <cstdint>
#include <span>
#include <vector>

namespace crmine {

/// Baskets in compressed sparse row form: basket b holds indices[indptr[b] .. indptr[b+1]).
///
/// A non-owning view, so numpy arrays and scipy CSR matrices pass without a copy. Items are dense
/// ids in [0, n_items); within a basket they need not be sorted, and a repeated item is counted
/// once. Empty baskets are allowed and count towards the basket total (support denominators).
struct BasketView {
  std::span<const std::int64_t> indptr;   ///< n_baskets + 1 non-decreasing offsets, indptr[0] == 0
  std::span<const std::int32_t> indices;  ///< item id per entry, each in [0, n_items)
  std::int32_t n_items = 0;               ///< number of distinct item ids the indices may use

  std::int64_t size() const { return indptr.empty() ? 0 : static_cast<std::int64_t>(indptr.size()) - 1; }
};

/// Throws InvalidArgument naming `caller` when the view is malformed: no baskets, offsets that
/// decrease or overrun, or an item id outside [0, n_items). All baskets empty is also an error.
void validate(const BasketView& baskets, const char* caller);

/// How rows of a log are grouped into baskets.
enum class BasketKey {
  order,         ///< one basket per order id (the log must have an order column)
  customer_day,  ///< one basket per customer and calendar day
  customer       ///< one basket per customer: everything they ever bought
};

/// Options of make_baskets.
struct BasketOptions {
  BasketKey by = BasketKey::order;  ///< grouping of rows into baskets
  int n_threads = 0;                ///< 0 = all cores
};

/// Baskets that own their arrays; `item_ids` maps a dense item back to the log's item id and
/// `keys` gives each basket's order id (by order), customer id (otherwise).
struct Baskets {
  std::vector<std::int64_t> indptr{0};
  std::vector<std::int32_t> indices;   ///< sorted and distinct within each basket
  std::vector<std::int64_t> item_ids;  ///< dense item -> item id of the log, ascending
  std::vector<std::int64_t> keys;      ///< basket -> order id or customer id
  std::vector<std::int64_t> days;      ///< basket -> day number (customer_day only; else empty)

  std::int64_t size() const { return static_cast<std::int64_t>(indptr.size()) - 1; }
  std::int32_t n_items() const { return static_cast<std::int32_t>(item_ids.size()); }
  BasketView view() const { return {indptr, indices, n_items()}; }
};

/// A dense table of presence flags, one row per basket and one column per item (the one-hot table
/// mlxtend takes), seen through byte strides so row-major and column-major tables (pandas hands
/// out the latter) pass without a copy. A byte is 0 (item absent) or anything else (present).
struct IndicatorView {
  const std::uint8_t* data = nullptr;
  std::int64_t rows = 0;        ///< baskets
  std::int64_t cols = 0;        ///< items
  std::int64_t row_stride = 0;  ///< bytes from one row to the next (may be negative)
  std::int64_t col_stride = 0;  ///< bytes from one column to the next (may be negative)
};

/// Baskets from an indicator table: basket b holds the columns in which row b is non-zero,
/// ascending; item_ids are the column positions and keys the row positions. One-hot tables are
/// mostly zeros, so contiguous rows or columns are read eight bytes at a time and all-zero words
/// skipped. Throws InvalidArgument on a negative shape or more than 2^31-1 columns.
Baskets baskets_from_indicators(const IndicatorView& table);

/// Groups the rows of `log` (which must have an item column) into baskets. Baskets are ordered
/// by key (and day), items within a basket ascending and distinct.
Baskets make_baskets(const TransactionLog& log, const BasketOptions& options = {});

}  // namespace crmine
