// SPDX-License-Identifier: Apache-2.0
// Internals shared by the itemset miners: recoded transactions, output sinks and the budget.
#pragma once

#include <crmine/core/errors.hpp>
#include <crmine/core/parallel.hpp>
#include <crmine/rules/itemsets.hpp>

#include <atomic>
#include <cstdint>
#include <span>
#include <system_error>
#include <thread>
#include <vector>

namespace crmine::detail {

/// Baskets reduced to their frequent items, recoded by descending support (rank 0 = most
/// frequent), each sorted ascending by rank; identical transactions merged into one with a weight.
struct Prepared {
  std::int64_t n_baskets = 0;
  std::int64_t min_count = 0;
  std::vector<std::int32_t> rank_to_item;  ///< rank -> dense item id
  std::vector<std::int64_t> support;       ///< rank -> basket count
  std::vector<std::int64_t> indptr{0};     ///< transactions (distinct, lexicographically sorted)
  std::vector<std::int32_t> items;
  std::vector<std::int64_t> weight;        ///< number of baskets with exactly this transaction

  std::int32_t n_frequent() const { return static_cast<std::int32_t>(support.size()); }
  std::int64_t n_transactions() const { return static_cast<std::int64_t>(weight.size()); }
  std::int64_t bytes() const {
    return static_cast<std::int64_t>(indptr.size() * 8 + items.size() * 4 + weight.size() * 8 + support.size() * 12);
  }
};

/// Threads for a mining phase: the caller's n_threads, or for 0 all cores unless the work is
/// too small to repay waking them (on a busy machine that costs more than the mining); `work`
/// is in the unit of `threshold` (by default item occurrences of the baskets).
inline int mining_threads(int n_threads, std::int64_t work, std::int64_t threshold = std::int64_t{1} << 19) {
  if (n_threads > 0) return n_threads;
  return work < threshold ? 1 : resolve_threads(0);
}

/// Runs worker() on the calling thread and on threads-1 helper threads, and returns when all
/// have returned; the workers share their tasks themselves (e.g. through an atomic counter).
/// Plain threads rather than an OpenMP team for calls of a few milliseconds: a team's idle
/// threads spin at its barriers, and on a busy machine a spinning thread took the time slice
/// its partner needed (Groceries at 0.01 with 2 threads: median 44 ms instead of 3 ms while one
/// core was busy); joining a thread sleeps. A helper that cannot be started leaves its share to
/// the others. worker must not throw.
template <typename Worker>
void run_workers(int threads, Worker&& worker) {
  std::vector<std::thread> helpers;
  for (int t = 1; t < threads; ++t) {
    try {
      helpers.emplace_back([&worker] { worker(); });
    } catch (const std::system_error&) {
      break;
    }
  }
  worker();
  for (auto& h : helpers) h.join();
}

/// Validates and prepares: counts items once per basket, keeps those with count >= min_count.
Prepared prepare(const BasketView& baskets, const ItemsetOptions& options, const char* caller);

/// Shared limits on itemsets and memory; sinks report to it in batches.
class Budget {
 public:
  Budget(const ItemsetOptions& options, std::int64_t base_bytes)
      : max_itemsets_(options.max_itemsets), max_memory_(options.max_memory), bytes_(base_bytes), peak_(base_bytes) {}

  /// Adds to the running totals; throws LimitExceeded when a limit is passed.
  void charge(std::int64_t itemsets, std::int64_t bytes, const char* caller);
  /// Working memory that is released again (e.g. a thread's scratch at the end of a task).
  void release(std::int64_t bytes) { bytes_.fetch_sub(bytes, std::memory_order_relaxed); }
  bool stopped() const { return stop_.load(std::memory_order_relaxed); }
  std::int64_t peak() const { return peak_.load(); }

 private:
  std::int64_t max_itemsets_, max_memory_;
  std::atomic<std::int64_t> itemsets_{0}, bytes_{0}, peak_{0};
  std::atomic<bool> stop_{false};
};

void* allocate_bytes(std::size_t bytes);
void deallocate_bytes(void* p, std::size_t bytes) noexcept;

/// An allocator that maps blocks of 64 KiB and more straight from the system (mmap) and hands
/// them back on release (munmap); smaller ones come from malloc. For the buffers that mining's
/// helper threads grow: glibc gives each thread a heap of its own, and it returns the free top
/// of a thread's heap to the system only beyond its trim threshold, which freeing large arrays
/// (a result's, numpy's) raises to tens of MiB. Groceries at min support 0.0002 with 2 threads
/// kept ~20 MiB of a helper's freed sinks resident through later calls (peak 246 -> 268 MiB).
template <typename T>
struct MappedAllocator {
  using value_type = T;
  static constexpr std::size_t kMapBytes = std::size_t{64} << 10;
  MappedAllocator() = default;
  template <typename U>
  MappedAllocator(const MappedAllocator<U>&) noexcept {}
  T* allocate(std::size_t n) { return static_cast<T*>(allocate_bytes(n * sizeof(T))); }
  void deallocate(T* p, std::size_t n) noexcept { deallocate_bytes(p, n * sizeof(T)); }
  template <typename U>
  bool operator==(const MappedAllocator<U>&) const noexcept { return true; }
};
template <typename T>
using MappedVector = std::vector<T, MappedAllocator<T>>;

/// Itemsets found by one task, as ranks, appended without per-itemset allocation.
class Sink {
 public:
  Sink() = default;
  void bind(Budget* budget, const char* caller) { budget_ = budget; caller_ = caller; }
  void emit(const std::int32_t* ranks, std::int32_t len, std::int64_t count) {
    items_.insert(items_.end(), ranks, ranks + len);
    lens_.push_back(len);
    counts_.push_back(count);
    if (++pending_ >= 4096) flush();
  }
  /// Reports pending itemsets to the budget (throws LimitExceeded when over).
  void flush();
  std::int64_t size() const { return static_cast<std::int64_t>(counts_.size()); }

  MappedVector<std::int32_t> items_;
  MappedVector<std::int32_t> lens_;
  MappedVector<std::int64_t> counts_;

 private:
  Budget* budget_ = nullptr;
  const char* caller_ = "";
  std::int64_t pending_ = 0;
  std::int64_t pending_items_ = 0;
};

/// Concatenates sinks in their order, maps ranks to dense items sorted within each itemset (on
/// up to `threads` threads when there are many).
Itemsets collect(std::vector<Sink>& sinks, const Prepared& prepared, int threads = 1);

/// Appends the sinks' itemsets to `out` as collect does, each with the dense item `extra` added
/// when extra >= 0 (the conditioning item of a conditional database). Empties the sinks.
void collect_into(std::vector<Sink>& sinks, const Prepared& prepared, std::int32_t extra, Itemsets& out, int threads = 1);

/// An algorithm's core: mines every frequent itemset of a prepared database (within
/// options.max_len) into sinks of its ranks, charging itemsets and working memory to `budget`.
using MineCore = std::vector<Sink> (*)(const Prepared& prepared, const ItemsetOptions& options, Budget& budget);

/// The conditional database of rank r: the transactions holding r, without r and without the
/// ranks marked in `excluded`, reduced to the ranks frequent there (count >= min_count) and
/// recoded by descending count there; rank_to_item still gives dense items, and n_baskets and
/// min_count are those of `prepared`, so supports stay relative to all baskets.
Prepared project(const Prepared& prepared, std::int32_t r, std::span<const std::int32_t> occurrences,
                 const std::vector<char>& excluded);

/// Prepares, mines with `core` and collects: the whole database, or with options.contains only
/// the itemsets holding one of those items, each mined from the conditional database of its
/// least frequent wanted item. The one constraint path of the three algorithms.
Itemsets mine_with(const BasketView& baskets, const ItemsetOptions& options, MineCore core, const char* caller);

/// Open-addressing lookup of itemsets (sorted spans) in an Itemsets result.
class ItemsetTable {
 public:
  explicit ItemsetTable(const Itemsets& itemsets) : ItemsetTable(itemsets.indptr, itemsets.items) {}
  ItemsetTable(std::span<const std::int64_t> indptr, std::span<const std::int32_t> items);
  /// Index of the itemset equal to `items` (sorted ascending), or -1.
  std::int64_t find(std::span<const std::int32_t> items) const;
  static std::uint64_t hash(std::span<const std::int32_t> items) {
    std::uint64_t h = 0x9E3779B97F4A7C15ull ^ items.size();
    for (const std::int32_t v : items) {
      h ^= static_cast<std::uint64_t>(static_cast<std::uint32_t>(v)) + 0x9E3779B97F4A7C15ull + (h << 6) + (h >> 2);
      h *= 0xBF58476D1CE4E5B9ull;
    }
    return h ^ (h >> 31);
  }

 private:
  std::span<const std::int32_t> get(std::int64_t s) const {
    return items_.subspan(static_cast<std::size_t>(indptr_[static_cast<std::size_t>(s)]),
                          static_cast<std::size_t>(indptr_[static_cast<std::size_t>(s) + 1] - indptr_[static_cast<std::size_t>(s)]));
  }
  std::span<const std::int64_t> indptr_;
  std::span<const std::int32_t> items_;
  std::vector<std::int64_t> slots_;
  std::uint64_t mask_ = 0;
};

}  // namespace crmine::detail
