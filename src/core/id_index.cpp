// SPDX-License-Identifier: Apache-2.0
// Dense numbering of int64 ids: a direct table for compact ranges, hashing otherwise.
#include <crmine/core/errors.hpp>
#include <crmine/core/id_index.hpp>
#include <crmine/core/parallel.hpp>

#include <algorithm>
#include <atomic>
#include <limits>

namespace crmine {
namespace {

/// A direct table is used when the id range is at most this many times the row count (plus a
/// floor for small logs): the table then costs at most 4 bytes x that factor per row.
constexpr std::uint64_t kDirectRangeFactor = 2;
constexpr std::uint64_t kDirectRangeFloor = 1u << 20;
constexpr std::uint64_t kMaxDense = static_cast<std::uint64_t>(std::numeric_limits<std::int32_t>::max());

inline std::uint64_t mix(std::uint64_t x) {
  // splitmix64 finaliser: spreads sequential ids over the table.
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

}  // namespace

IdIndex IdIndex::from_sorted_unique(std::vector<std::int64_t> sorted_ids) {
  if (sorted_ids.size() > kMaxDense)
    throw LimitExceeded("IdIndex: more than 2^31-1 distinct ids are not supported");
  IdIndex index;
  index.ids_ = std::move(sorted_ids);
  if (index.ids_.empty()) return index;
  const std::uint64_t range = static_cast<std::uint64_t>(index.ids_.back()) -
                              static_cast<std::uint64_t>(index.ids_.front()) + 1;
  if (range <= std::max<std::uint64_t>(kDirectRangeFloor, kDirectRangeFactor * index.ids_.size())) {
    index.direct_ = true;
    index.min_ = index.ids_.front();
    index.table_.assign(range, -1);
    for (std::size_t i = 0; i < index.ids_.size(); ++i)
      index.table_[static_cast<std::uint64_t>(index.ids_[i]) - static_cast<std::uint64_t>(index.min_)] =
          static_cast<std::int32_t>(i);
  } else {
    index.build_hash();
  }
  return index;
}

IdIndex::Range IdIndex::range_of(std::span<const std::int64_t> ids, int n_jobs) {
  const std::int64_t n = static_cast<std::int64_t>(ids.size());
  if (n == 0) return Range{};
  const int threads = detail::resolve_threads(n_jobs);
  std::int64_t lo = std::numeric_limits<std::int64_t>::max();
  std::int64_t hi = std::numeric_limits<std::int64_t>::min();
  const std::int64_t* data = ids.data();
#pragma omp parallel for num_threads(threads) reduction(min : lo) reduction(max : hi) schedule(static)
  for (std::int64_t i = 0; i < n; ++i) {
    lo = std::min(lo, data[i]);
    hi = std::max(hi, data[i]);
  }
  Range r{lo, hi, false};
  const std::uint64_t range = r.width();
  r.direct = range != 0 && range <= std::max<std::uint64_t>(kDirectRangeFloor, kDirectRangeFactor * ids.size()) &&
             range <= kMaxDense;
  return r;
}

IdIndex IdIndex::build(std::span<const std::int64_t> ids, int n_jobs) {
  const std::int64_t n = static_cast<std::int64_t>(ids.size());
  const int threads = detail::resolve_threads(n_jobs);
  if (n == 0) return IdIndex{};
  const std::int64_t* data = ids.data();
  const Range r = range_of(ids, threads);
  IdIndex index;
  if (r.direct) {
    // Mark presence, then rank the marks: index = number of present ids below.
    const std::uint64_t range = r.width();
    std::vector<std::uint8_t> present(range, 0);
#pragma omp parallel for num_threads(threads) schedule(static)
    for (std::int64_t i = 0; i < n; ++i)
      std::atomic_ref<std::uint8_t>(present[static_cast<std::uint64_t>(data[i]) - static_cast<std::uint64_t>(r.min)])
          .store(1, std::memory_order_relaxed);
    return direct_from(r.min, range, [&](std::uint64_t off) { return present[off] != 0; });
  }
  // Sparse ids: dedupe through a growing hash set, then sort the distinct ids.
  std::vector<std::int64_t> keys(1024);
  std::vector<std::uint8_t> used(1024, 0);
  std::size_t count = 0;
  auto insert = [&](std::int64_t id) {
    std::size_t mask = keys.size() - 1;
    for (std::size_t slot = mix(static_cast<std::uint64_t>(id)) & mask;; slot = (slot + 1) & mask) {
      if (!used[slot]) {
        used[slot] = 1;
        keys[slot] = id;
        ++count;
        return;
      }
      if (keys[slot] == id) return;
    }
  };
  for (std::int64_t i = 0; i < n; ++i) {
    if (2 * (count + 1) > keys.size()) {
      std::vector<std::int64_t> old_keys(keys.size() * 2);
      std::vector<std::uint8_t> old_used(keys.size() * 2, 0);
      old_keys.swap(keys);
      old_used.swap(used);
      count = 0;
      for (std::size_t s = 0; s < old_keys.size(); ++s)
        if (old_used[s]) insert(old_keys[s]);
    }
    insert(data[i]);
  }
  if (count > kMaxDense) throw LimitExceeded("IdIndex: more than 2^31-1 distinct ids are not supported");
  index.ids_.reserve(count);
  for (std::size_t s = 0; s < keys.size(); ++s)
    if (used[s]) index.ids_.push_back(keys[s]);
  std::sort(index.ids_.begin(), index.ids_.end());
  index.build_hash();
  return index;
}

void IdIndex::build_hash() {
  std::size_t capacity = 16;
  while (capacity < 2 * ids_.size()) capacity *= 2;
  keys_.assign(capacity, 0);
  values_.assign(capacity, -1);
  const std::size_t mask = capacity - 1;
  for (std::size_t i = 0; i < ids_.size(); ++i) {
    std::size_t slot = mix(static_cast<std::uint64_t>(ids_[i])) & mask;
    while (values_[slot] >= 0) slot = (slot + 1) & mask;
    keys_[slot] = ids_[i];
    values_[slot] = static_cast<std::int32_t>(i);
  }
}

std::int64_t IdIndex::find_hashed(std::int64_t id) const {
  if (keys_.empty()) return -1;
  const std::size_t mask = keys_.size() - 1;
  for (std::size_t slot = mix(static_cast<std::uint64_t>(id)) & mask;; slot = (slot + 1) & mask) {
    if (values_[slot] < 0) return -1;
    if (keys_[slot] == id) return values_[slot];
  }
}

}  // namespace crmine
