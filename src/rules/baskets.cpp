// SPDX-License-Identifier: Apache-2.0
// Validation of basket views and grouping of a transaction log's rows into baskets.
#include <crmine/core/errors.hpp>
#include <crmine/core/id_index.hpp>
#include <crmine/core/parallel.hpp>
#include <crmine/rules/baskets.hpp>

#include <algorithm>
#include <bit>
#include <cstring>
#include <numeric>

namespace crmine {

void validate(const BasketView& b, const char* caller) {
  if (b.indptr.size() < 2) detail::throw_invalid(caller, "baskets", "there are no baskets");
  if (b.n_items < 0) detail::throw_invalid(caller, "n_items", "must be >= 0, got ", b.n_items);
  if (b.indptr.front() != 0) detail::throw_invalid(caller, "indptr", "must start at 0, got ", b.indptr.front());
  const std::int64_t n = b.size();
  for (std::int64_t i = 0; i < n; ++i)
    if (b.indptr[static_cast<std::size_t>(i) + 1] < b.indptr[static_cast<std::size_t>(i)])
      detail::throw_invalid(caller, "indptr", "decreases at basket ", i);
  if (b.indptr.back() != static_cast<std::int64_t>(b.indices.size()))
    detail::throw_invalid(caller, "indptr", "ends at ", b.indptr.back(), " but there are ", b.indices.size(), " indices");
  if (b.indices.empty()) detail::throw_invalid(caller, "baskets", "all ", n, " baskets are empty");
  // Plain min/max (vectorised by the compiler), where std::minmax_element's tracking of
  // positions is not: the check read each item id at a tenth of the cost of preparing them.
  std::int32_t lo = b.indices.front(), hi = lo;
  for (const std::int32_t v : b.indices) {
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  if (lo < 0 || hi >= b.n_items) {
    const std::int32_t bad = lo < 0 ? lo : hi;
    const auto at = std::find(b.indices.begin(), b.indices.end(), bad) - b.indices.begin();
    detail::throw_invalid(caller, "indices", "item id ", bad, " at position ", at, " is outside [0, n_items=", b.n_items,
                          ")");
  }
}

namespace {

/// Calls visit(k) for every non-zero byte p[k], k in [0, n), in ascending order. Eight bytes are
/// tested at once: a zero word (most of a one-hot table) costs one load and one compare.
template <class Visit>
void for_each_nonzero(const std::uint8_t* p, std::int64_t n, Visit&& visit) {
  constexpr std::uint64_t kLow7 = 0x7f7f7f7f7f7f7f7fULL;
  std::int64_t k = 0;
  for (; k + 8 <= n; k += 8) {
    std::uint64_t w;
    std::memcpy(&w, p + k, 8);
    if (w == 0) continue;
    // The high bit of each byte of `hits` is set when that byte of w is non-zero.
    for (std::uint64_t hits = (((w & kLow7) + kLow7) | w) & ~kLow7; hits != 0; hits &= hits - 1)
      visit(k + std::countr_zero(hits) / 8);
  }
  for (; k < n; ++k)
    if (p[k] != 0) visit(k);
}

}  // namespace

Baskets baskets_from_indicators(const IndicatorView& t) {
  constexpr const char* kCaller = "baskets_from_indicators";
  if (t.rows < 0 || t.cols < 0) detail::throw_invalid(kCaller, "table", "has a negative shape ", t.rows, " x ", t.cols);
  if (t.cols > INT32_MAX) detail::throw_invalid(kCaller, "table", "has ", t.cols, " columns; at most 2^31-1 items");
  if (t.data == nullptr && t.rows > 0 && t.cols > 0) detail::throw_invalid(kCaller, "table", "has no data");
  Baskets out;
  out.item_ids.resize(static_cast<std::size_t>(t.cols));
  std::iota(out.item_ids.begin(), out.item_ids.end(), std::int64_t{0});
  out.keys.resize(static_cast<std::size_t>(t.rows));
  std::iota(out.keys.begin(), out.keys.end(), std::int64_t{0});
  out.indptr.assign(static_cast<std::size_t>(t.rows) + 1, 0);
  if (t.rows == 0 || t.cols == 0) return out;
  if (t.col_stride == 1) {
    // Row-major: each row's columns come out ascending in one pass.
    for (std::int64_t i = 0; i < t.rows; ++i) {
      for_each_nonzero(t.data + i * t.row_stride, t.cols,
                       [&](std::int64_t j) { out.indices.push_back(static_cast<std::int32_t>(j)); });
      out.indptr[static_cast<std::size_t>(i) + 1] = static_cast<std::int64_t>(out.indices.size());
    }
  } else if (t.row_stride == 1) {
    // Column-major: count each row's items column by column, then place every column's rows;
    // columns are visited in order, so each basket's items come out ascending.
    for (std::int64_t j = 0; j < t.cols; ++j)
      for_each_nonzero(t.data + j * t.col_stride, t.rows, [&](std::int64_t i) { ++out.indptr[static_cast<std::size_t>(i) + 1]; });
    std::partial_sum(out.indptr.begin(), out.indptr.end(), out.indptr.begin());
    out.indices.resize(static_cast<std::size_t>(out.indptr.back()));
    std::vector<std::int64_t> next(out.indptr.begin(), out.indptr.end() - 1);
    for (std::int64_t j = 0; j < t.cols; ++j)
      for_each_nonzero(t.data + j * t.col_stride, t.rows, [&](std::int64_t i) {
        out.indices[static_cast<std::size_t>(next[static_cast<std::size_t>(i)]++)] = static_cast<std::int32_t>(j);
      });
  } else {
    for (std::int64_t i = 0; i < t.rows; ++i) {
      for (std::int64_t j = 0; j < t.cols; ++j)
        if (t.data[i * t.row_stride + j * t.col_stride] != 0) out.indices.push_back(static_cast<std::int32_t>(j));
      out.indptr[static_cast<std::size_t>(i) + 1] = static_cast<std::int64_t>(out.indices.size());
    }
  }
  return out;
}

Baskets make_baskets(const TransactionLog& log, const BasketOptions& options) {
  constexpr const char* kCaller = "make_baskets";
  const std::size_t n = log.size();
  if (n == 0) detail::throw_invalid(kCaller, "customer", "the transaction log is empty");
  if (!log.has_item()) detail::throw_invalid(kCaller, "item", "the log has no item column");
  if (log.item.size() != n) detail::throw_invalid(kCaller, "item", "has ", log.item.size(), " rows but customer has ", n);
  if (options.by == BasketKey::order) {
    if (!log.has_order()) detail::throw_invalid(kCaller, "order", "by='order' needs an order column");
    if (log.order.size() != n) detail::throw_invalid(kCaller, "order", "has ", log.order.size(), " rows but customer has ", n);
  }
  if (options.by == BasketKey::customer_day) {
    if (log.time.size() != n) detail::throw_invalid(kCaller, "time", "has ", log.time.size(), " rows but customer has ", n);
    if (log.ticks_per_day <= 0)
      detail::throw_invalid(kCaller, "ticks_per_day", "must be positive, got ", log.ticks_per_day);
  }
  const IdIndex items = IdIndex::build(log.item, options.n_threads);
  if (items.size() > static_cast<std::size_t>(INT32_MAX))
    detail::throw_invalid(kCaller, "item", "more than 2^31-1 distinct items");

  std::vector<std::int64_t> key(n), day(options.by == BasketKey::customer_day ? n : 0);
  const detail::DayDivider divide(log.ticks_per_day);
  for (std::size_t r = 0; r < n; ++r) {
    key[r] = options.by == BasketKey::order ? log.order[r] : log.customer[r];
    if (!day.empty()) day[r] = divide(log.time[r]);
  }
  std::vector<std::int64_t> rows(n);
  std::iota(rows.begin(), rows.end(), 0);
  std::sort(rows.begin(), rows.end(), [&](std::int64_t a, std::int64_t b) {
    const auto ua = static_cast<std::size_t>(a), ub = static_cast<std::size_t>(b);
    if (key[ua] != key[ub]) return key[ua] < key[ub];
    if (!day.empty() && day[ua] != day[ub]) return day[ua] < day[ub];
    return a < b;
  });

  Baskets out;
  out.item_ids = items.ids();
  out.indices.reserve(n);
  std::size_t start = 0;
  while (start < n) {
    std::size_t end = start + 1;
    const auto first = static_cast<std::size_t>(rows[start]);
    while (end < n) {
      const auto r = static_cast<std::size_t>(rows[end]);
      if (key[r] != key[first] || (!day.empty() && day[r] != day[first])) break;
      ++end;
    }
    const std::size_t from = out.indices.size();
    for (std::size_t k = start; k < end; ++k)
      out.indices.push_back(static_cast<std::int32_t>(items.find(log.item[static_cast<std::size_t>(rows[k])])));
    std::sort(out.indices.begin() + static_cast<std::ptrdiff_t>(from), out.indices.end());
    out.indices.erase(std::unique(out.indices.begin() + static_cast<std::ptrdiff_t>(from), out.indices.end()),
                      out.indices.end());
    out.indptr.push_back(static_cast<std::int64_t>(out.indices.size()));
    out.keys.push_back(key[first]);
    if (!day.empty()) out.days.push_back(day[first]);
    start = end;
  }
  return out;
}

}  // namespace crmine
