// SPDX-License-Identifier: Apache-2.0
// Dense numbering of int64 ids: a direct table for compact ranges, hashing otherwise.
#include <crmine/core/errors.hpp>
#include <crmine/core/id_index.hpp>
#include <crmine/core/parallel.hpp>

#include <algorithm>
#include <atomic>
#include <limits>
#include <span>

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

/// Threads for a pass over `n` ids: below ~250k ids, handing work to a second thread costs more
/// than it saves.
int threads_for(std::int64_t n, int n_jobs) { return n < (std::int64_t{1} << 18) ? 1 : detail::resolve_threads(n_jobs); }

/// Hashed indexes split the hash space into 2^kPartitionBits partitions by the hash's top bits.
constexpr int kPartitionBits = 8;
inline std::uint32_t partition_of(std::uint64_t hash) { return static_cast<std::uint32_t>(hash >> (64 - kPartitionBits)); }

constexpr std::uint32_t kNoPosition = 0xFFFFFFFFu;

/// Processes the ids of a column in blocks of `block` rows, partition by partition: each block's
/// rows are scattered (as `make(row)`, the row's index in `ids`) into a buffer grouped by the
/// partition of their hash, then `visit(partition, first, last)` sees each partition's entries,
/// partitions shared among the threads. A partition's state (a set, a table) is then in cache while its rows are
/// visited, and no two threads touch the same partition.
template <typename Entry, typename Make, typename Visit>
void by_partition(std::span<const std::int64_t> ids, std::int64_t block, int threads, Make make, Visit visit) {
  const std::size_t n_parts = std::size_t{1} << kPartitionBits;
  const auto n = static_cast<std::int64_t>(ids.size());
  const std::int64_t* data = ids.data();
  std::vector<Entry> buffer(static_cast<std::size_t>(std::min(n, block)));
  std::vector<std::int64_t> counts(n_parts * static_cast<std::size_t>(threads));
  std::vector<std::int64_t> begin_of(n_parts + 1);
  for (std::int64_t begin = 0; begin < n; begin += block) {
    const std::int64_t end = std::min(n, begin + block);
    std::fill(counts.begin(), counts.end(), 0);
#pragma omp parallel num_threads(threads)
    {
      const int t = detail::thread_id();
      std::int64_t* next = counts.data() + static_cast<std::size_t>(t) * n_parts;
      const std::int64_t lo = begin + (end - begin) * t / threads, hi = begin + (end - begin) * (t + 1) / threads;
      for (std::int64_t i = lo; i < hi; ++i) ++next[partition_of(mix(static_cast<std::uint64_t>(data[i])))];
#pragma omp barrier
#pragma omp single
      detail::stable_scatter_offsets(counts, n_parts, static_cast<std::size_t>(threads), begin_of);
      for (std::int64_t i = lo; i < hi; ++i)
        buffer[static_cast<std::size_t>(next[partition_of(mix(static_cast<std::uint64_t>(data[i])))]++)] = make(i);
#pragma omp barrier
#pragma omp for schedule(dynamic, 4)
      for (std::int64_t p = 0; p < static_cast<std::int64_t>(n_parts); ++p)
        visit(static_cast<std::size_t>(p), buffer.data() + begin_of[static_cast<std::size_t>(p)],
              buffer.data() + begin_of[static_cast<std::size_t>(p) + 1]);
    }
  }
}

/// A growing open-addressing set of ids for one partition of distinct_sparse. An empty slot
/// holds kEmpty; the id equal to kEmpty, if present, is noted aside.
struct PartitionSet {
  static constexpr std::int64_t kEmpty = std::numeric_limits<std::int64_t>::min();
  std::vector<std::int64_t> slots = std::vector<std::int64_t>(64, kEmpty);
  std::size_t size = 0;
  bool has_empty_value = false;
  void insert(std::int64_t id, std::uint64_t h) {
    if (id == kEmpty) {
      has_empty_value = true;
      return;
    }
    if (2 * (size + 1) > slots.size()) grow();
    const std::uint64_t mask = slots.size() - 1;
    for (std::uint64_t s = h & mask;; s = (s + 1) & mask) {
      if (slots[s] == id) return;
      if (slots[s] == kEmpty) {
        slots[s] = id;
        ++size;
        return;
      }
    }
  }
  void grow() {
    std::vector<std::int64_t> old(slots.size() * 2, kEmpty);
    old.swap(slots);
    const std::uint64_t mask = slots.size() - 1;
    for (std::int64_t id : old) {
      if (id == kEmpty) continue;
      std::uint64_t s = mix(static_cast<std::uint64_t>(id)) & mask;
      while (slots[s] != kEmpty) s = (s + 1) & mask;
      slots[s] = id;
    }
  }
};

/// The distinct values of a column of sparse ids, sorted. Rows are scattered chunk by chunk into
/// partitions by hash, and each partition dedupes its ids in its own small open-addressing set,
/// which stays in cache while its rows are inserted; partitions are independent, so threads
/// share the work without locks. One global hash set would miss the cache on nearly every row
/// and could only be filled by one thread.
std::vector<std::int64_t> distinct_sparse(std::span<const std::int64_t> ids, int threads) {
  const std::size_t n_parts = std::size_t{1} << kPartitionBits;
  std::vector<PartitionSet> sets(n_parts);
  // Each block reloads every set from memory, so blocks are large: 16M rows, a 128 MiB buffer.
  const std::int64_t* data = ids.data();
  by_partition<std::int64_t>(
      ids, std::int64_t{1} << 24, threads, [&](std::int64_t row) { return data[row]; },
      [&](std::size_t p, const std::int64_t* first, const std::int64_t* last) {
        for (const std::int64_t* id = first; id != last; ++id) sets[p].insert(*id, mix(static_cast<std::uint64_t>(*id)));
      });
  std::vector<std::int64_t> out;
  std::size_t total = 0;
  for (const PartitionSet& s : sets) total += s.size + (s.has_empty_value ? 1 : 0);
  out.reserve(total);
  for (const PartitionSet& s : sets) {
    if (s.has_empty_value) out.push_back(PartitionSet::kEmpty);
    for (std::int64_t id : s.slots)
      if (id != PartitionSet::kEmpty) out.push_back(id);
  }
  // Sorted in `threads` runs at once, then merged.
  const std::size_t runs = static_cast<std::size_t>(std::max(1, threads));
  std::vector<std::size_t> cut(runs + 1);
  for (std::size_t r = 0; r <= runs; ++r) cut[r] = out.size() * r / runs;
#pragma omp parallel for num_threads(threads) schedule(static)
  for (std::int64_t r = 0; r < static_cast<std::int64_t>(runs); ++r)
    std::sort(out.begin() + static_cast<std::ptrdiff_t>(cut[static_cast<std::size_t>(r)]),
              out.begin() + static_cast<std::ptrdiff_t>(cut[static_cast<std::size_t>(r) + 1]));
  for (std::size_t r = 1; r < runs; ++r)
    std::inplace_merge(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(cut[r]),
                       out.begin() + static_cast<std::ptrdiff_t>(cut[r + 1]));
  return out;
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
    index.build_hash(detail::resolve_threads(0));
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
  return build(ids, range_of(ids, n_jobs), n_jobs);
}

IdIndex IdIndex::build(std::span<const std::int64_t> ids, const Range& r, int n_jobs) {
  const std::int64_t n = static_cast<std::int64_t>(ids.size());
  const int threads = threads_for(n, n_jobs);
  if (n == 0) return IdIndex{};
  const std::int64_t* data = ids.data();
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
  index.ids_ = distinct_sparse(ids, threads);
  if (index.ids_.size() > kMaxDense) throw LimitExceeded("IdIndex: more than 2^31-1 distinct ids are not supported");
  index.build_hash(threads);
  return index;
}

void IdIndex::build_hash(int threads) {
  partitions_.assign(std::size_t{1} << kPartitionBits, Partition{});
  // ids_ is sorted: count each partition's ids, size its table to at least 1.5x that, and fill the
  // partitions in parallel, each from its own ids in ascending order (the same slots at any
  // thread count).
  const auto n = static_cast<std::int64_t>(ids_.size());
  std::vector<std::uint32_t> part(ids_.size());
  std::vector<std::int64_t> counts(partitions_.size(), 0);
  for (std::int64_t i = 0; i < n; ++i) {
    part[static_cast<std::size_t>(i)] = partition_of(mix(static_cast<std::uint64_t>(ids_[static_cast<std::size_t>(i)])));
    ++counts[part[static_cast<std::size_t>(i)]];
  }
  std::uint64_t offset = 0;
  std::vector<std::int64_t> first(partitions_.size() + 1, 0);
  for (std::size_t p = 0; p < partitions_.size(); ++p) {
    std::uint64_t capacity = 4;
    // Load at most 2/3: short probe runs, and a third less memory than a half-empty table.
    while (2 * capacity < 3 * static_cast<std::uint64_t>(counts[p])) capacity *= 2;
    partitions_[p] = {offset, capacity - 1};
    offset += capacity;
    first[p + 1] = first[p] + counts[p];
  }
  // Members of each partition, in ascending id order.
  std::vector<std::int64_t> members(ids_.size());
  {
    std::vector<std::int64_t> next(first.begin(), first.end() - 1);
    for (std::int64_t i = 0; i < n; ++i) members[static_cast<std::size_t>(next[part[static_cast<std::size_t>(i)]]++)] = i;
  }
  slots_.assign(offset, Slot{});
  const auto n_parts = static_cast<std::int64_t>(partitions_.size());
#pragma omp parallel for num_threads(threads) schedule(dynamic, 8)
  for (std::int64_t p = 0; p < n_parts; ++p) {
    const Partition& P = partitions_[static_cast<std::size_t>(p)];
    for (std::int64_t k = first[static_cast<std::size_t>(p)]; k < first[static_cast<std::size_t>(p) + 1]; ++k) {
      const std::int64_t i = members[static_cast<std::size_t>(k)];
      const std::int64_t id = ids_[static_cast<std::size_t>(i)];
      std::uint64_t slot = mix(static_cast<std::uint64_t>(id)) & P.mask;
      while (slots_[P.offset + slot].index >= 0) slot = (slot + 1) & P.mask;
      slots_[P.offset + slot] = {id, i};
    }
  }
}

void IdIndex::known_positions(std::span<const std::int64_t> ids, std::span<std::uint32_t> out, int n_jobs) const {
  if (out.size() != ids.size())
    detail::throw_invalid("IdIndex::known_positions", "out", "has ", out.size(), " entries for ", ids.size(), " ids");
  const auto n = static_cast<std::int64_t>(ids.size());
  const int threads = threads_for(n, n_jobs);
  const std::int64_t* data = ids.data();
  std::uint32_t* result = out.data();
  if (direct_) {
#pragma omp parallel for num_threads(threads) schedule(static)
    for (std::int64_t i = 0; i < n; ++i) {
      const std::int64_t p = position(data[i]);
      result[i] = p < 0 ? kNoPosition : static_cast<std::uint32_t>(p);
    }
    return;
  }
  if (slots_.empty()) {
    std::fill(out.begin(), out.end(), kNoPosition);
    return;
  }
  // Blocks of rows are scattered by partition (hash top bits), then each partition's rows are
  // looked up together, so that the lookups of a partition hit its table in cache.
  struct Pending {
    std::int64_t id;
    std::int64_t row;
  };
  // A block reloads every partition table, so a block has at least 4 rows per distinct id (2^20 to
  // 2^24 rows: 16 to 256 MiB of pending lookups).
  const std::int64_t block = std::clamp<std::int64_t>(4 * static_cast<std::int64_t>(ids_.size()), std::int64_t{1} << 20,
                                                      std::int64_t{1} << 24);
  by_partition<Pending>(
      ids, block, threads, [&](std::int64_t row) { return Pending{data[row], row}; },
      [&](std::size_t, const Pending* first, const Pending* last) {
        for (const Pending* e = first; e != last; ++e) {
          const std::int64_t index = find_hashed(e->id);
          result[e->row] = index < 0 ? kNoPosition : static_cast<std::uint32_t>(index);
        }
      });
}

std::int64_t IdIndex::find_hashed(std::int64_t id) const {
  if (slots_.empty()) return -1;
  const std::uint64_t h = mix(static_cast<std::uint64_t>(id));
  const Partition& P = partitions_[partition_of(h)];
  for (std::uint64_t slot = h & P.mask;; slot = (slot + 1) & P.mask) {
    const Slot& s = slots_[P.offset + slot];
    if (s.index < 0) return -1;
    if (s.key == id) return s.index;
  }
}

}  // namespace crmine
