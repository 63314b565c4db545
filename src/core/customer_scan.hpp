// SPDX-License-Identifier: Apache-2.0
// Visits a transaction log customer by customer, each customer's rows in order, cache-friendly.
//
// Per-customer aggregation over a log whose customers arrive in random order is a random scatter
// into state arrays far larger than the caches. Instead, rows are radix-partitioned chunk by chunk
// into blocks of neighbouring customers, and each block is handed to the visitor while its state
// is hot in cache. The partition is stable and chunks are visited in order, so every customer's
// rows still arrive in log order: visitors may rely on that, and results do not depend on the
// thread count. For visitors that need each customer's rows sorted by a key (e.g. to count
// distinct orders in one pass) `visit_sorted` regroups the log in bounded-memory slices.
#pragma once

#include <crmine/core/id_index.hpp>
#include <crmine/core/parallel.hpp>
#include <crmine/core/transactions.hpp>

#include <algorithm>
#include <bit>
#include <memory>
#include <cstdint>
#include <span>
#include <type_traits>
#include <vector>

namespace crmine::detail {

/// One row of the log, as a visitor sees it.
struct ScanEntry {
  std::int64_t key;      ///< the ordering key: order id or day (caller's choice)
  double amount;
  double cost;           ///< 0 when the log has no cost column
  std::uint32_t pos;     ///< customer position in the IdIndex
  std::int32_t day;      ///< day number of the row

  static ScanEntry make(std::int64_t key, double amount, double cost, std::uint32_t pos, std::int32_t day) {
    return {key, amount, cost, pos, day};
  }
};

/// A row for visitors that key occasions by day and need no cost: half the size of ScanEntry,
/// so the partition moves half the bytes (the scan is bound by memory traffic).
struct CompactScanEntry {
  std::uint32_t pos;
  std::int32_t day;
  double amount;

  static CompactScanEntry make(std::int64_t, double amount, double, std::uint32_t pos, std::int32_t day) {
    return {pos, day, amount};
  }
};

class CustomerScan {
 public:
  /// `index` must be built from `log.customer`. `key` = nullptr uses the day as the key. Rows with a negative amount are skipped when
  /// `drop_returns`; the caller has validated the log.
  /// `block_bits` caps the number of blocks at 2^block_bits, for visitors with per-block state.
  CustomerScan(const TransactionLog& log, const IdIndex& index, const std::int64_t* key, bool drop_returns,
               int threads, int block_bits = kMaxBlockBits)
      : log_(log), index_(index), key_(key), drop_returns_(drop_returns), threads_(threads),
        divide_(log.ticks_per_day) {
    const std::uint64_t n_pos = index.n_positions();
    const int width = n_pos > 1 ? static_cast<int>(std::bit_width(n_pos - 1)) : 1;
    block_bits = std::clamp(block_bits, 0, kMaxBlockBits);
    // Blocks of 2^kMinBlockShift or more customers keep a block's state (256 KiB) in L2 while its rows are folded.
    shift_ = std::max(std::min(width, kMinBlockShift), width - block_bits);
    n_blocks_ = static_cast<std::size_t>(((n_pos == 0 ? 1 : n_pos - 1) >> shift_) + 1);
    // A block's state is only reused while it is in cache if a chunk brings several rows per
    // customer; with fewer, every row misses to memory however the rows are grouped. So chunks
    // grow with the customer count, up to a quarter of the log (bounded extra memory).
    const auto n_rows = static_cast<std::int64_t>(log.size());
    const std::int64_t wanted = kRowsPerPositionPerChunk * static_cast<std::int64_t>(std::min<std::uint64_t>(n_pos, 1ull << 40));
    chunk_rows_ = std::max<std::int64_t>(1, std::min(n_rows, std::clamp(wanted, kMinChunkRows, std::max(kMinChunkRows, n_rows / 4))));
  }

  std::size_t n_blocks() const { return n_blocks_; }
  /// The block a position belongs to; blocks are ranges of positions, i.e. of customers.
  std::size_t block_of(std::uint64_t pos) const { return static_cast<std::size_t>(pos >> shift_); }

  /// Calls `visit(block, entries)` for each chunk of the log and each non-empty block; calls for
  /// one block never overlap, and for a given customer come in log order. `visit` returns false
  /// when it saw rows out of the order it needs; the result is false if any call did.
  /// `Entry` is ScanEntry, or CompactScanEntry for visitors that need neither key nor cost.
  template <typename Entry = ScanEntry, typename Visit>
  bool visit_in_log_order(Visit&& visit) const {
    const std::int64_t n = static_cast<std::int64_t>(log_.size());
    const std::int64_t chunk = chunk_rows_;
    // A direct index gives a row's position by subtraction: recomputing it beats storing it.
    const bool store_pos = !index_.is_direct();
    std::vector<std::uint32_t> pos(store_pos ? static_cast<std::size_t>(chunk) : 0);
    // Not value-initialised: zeroing the buffer that the scatter overwrites costs as much as the scatter.
    std::unique_ptr<Entry[]> entries(new Entry[static_cast<std::size_t>(chunk)]);
    std::vector<std::int64_t> counts(n_blocks_ * static_cast<std::size_t>(threads_));
    std::vector<std::int64_t> block_begin(n_blocks_ + 1);
    bool ok = true;
    ExceptionCollector errors;
    for (std::int64_t begin = 0; begin < n; begin += chunk) {
      const std::int64_t end = std::min(n, begin + chunk);
      std::fill(counts.begin(), counts.end(), 0);
      // Hashed ids are looked up for the whole chunk at once (partition by partition, in cache).
      if (store_pos)
        index_.known_positions(log_.customer.subspan(static_cast<std::size_t>(begin), static_cast<std::size_t>(end - begin)),
                               std::span<std::uint32_t>(pos.data(), static_cast<std::size_t>(end - begin)), threads_);
      // Pass 1: position of each row and per-thread block histograms over contiguous row ranges.
#pragma omp parallel num_threads(threads_)
      {
        const int t = thread_id();
        std::int64_t* hist = counts.data() + static_cast<std::size_t>(t) * n_blocks_;
        const auto [lo, hi] = thread_range(begin, end, t);
        if (store_pos) {
          for (std::int64_t i = lo; i < hi; ++i) {
            std::uint32_t& p = pos[static_cast<std::size_t>(i - begin)];
            if (drop_returns_ && log_.amount[static_cast<std::size_t>(i)] < 0.0) p = kSkip;
            if (p != kSkip) ++hist[p >> shift_];
          }
        } else {
          for (std::int64_t i = lo; i < hi; ++i) {
            const std::uint32_t p = row_position(i);
            if (p != kSkip) ++hist[p >> shift_];
          }
        }
      }
      stable_scatter_offsets(counts, n_blocks_, static_cast<std::size_t>(threads_), block_begin);
#pragma omp parallel num_threads(threads_)
      {
        const int t = thread_id();
        std::int64_t* next = counts.data() + static_cast<std::size_t>(t) * n_blocks_;
        const auto [lo, hi] = thread_range(begin, end, t);
        for (std::int64_t i = lo; i < hi; ++i) {
          const std::uint32_t p = store_pos ? pos[static_cast<std::size_t>(i - begin)] : row_position(i);
          if (p == kSkip) continue;
          entries[static_cast<std::size_t>(next[p >> shift_]++)] = make_entry<Entry>(i, p);
        }
      }
      bool chunk_ok = true;
      const auto blocks = static_cast<std::int64_t>(n_blocks_);
#pragma omp parallel for num_threads(threads_) schedule(dynamic, 4) reduction(&& : chunk_ok)
      for (std::int64_t b = 0; b < blocks; ++b) {
        const std::int64_t lo = block_begin[static_cast<std::size_t>(b)];
        const std::int64_t hi = block_begin[static_cast<std::size_t>(b) + 1];
        if (lo == hi) continue;
        errors.run([&] {
          chunk_ok = visit(static_cast<std::size_t>(b),
                           std::span<const Entry>(entries.get() + lo, static_cast<std::size_t>(hi - lo))) &&
                     chunk_ok;
        });
      }
      errors.rethrow();
      ok = ok && chunk_ok;
    }
    return ok;
  }

  /// Calls `visit(block, entries)` with every customer's rows sorted by (key, log order), in
  /// slices of whole customers that bound the memory used to about kSliceRows entries.
  template <typename Entry = ScanEntry, typename Visit>
  void visit_sorted(Visit&& visit) const {
    const std::int64_t n = static_cast<std::int64_t>(log_.size());
    const std::int64_t n_slices = std::max<std::int64_t>(1, (n + kSliceRows - 1) / kSliceRows);
    const std::uint64_t n_pos = index_.n_positions();
    ExceptionCollector errors;
    for (std::int64_t s = 0; s < n_slices; ++s) {
      // Slices are ranges of blocks so that a block is never split between slices.
      const std::size_t b_lo = n_blocks_ * static_cast<std::size_t>(s) / static_cast<std::size_t>(n_slices);
      const std::size_t b_hi = n_blocks_ * static_cast<std::size_t>(s + 1) / static_cast<std::size_t>(n_slices);
      const std::uint64_t p_lo = static_cast<std::uint64_t>(b_lo) << shift_;
      const std::uint64_t p_hi = std::min<std::uint64_t>(n_pos, static_cast<std::uint64_t>(b_hi) << shift_);
      if (p_lo >= p_hi) continue;
      std::vector<std::vector<Entry>> per_thread(static_cast<std::size_t>(threads_));
#pragma omp parallel num_threads(threads_)
      {
        const int t = thread_id();
        const auto [lo, hi] = thread_range(0, n, t);
        auto& mine = per_thread[static_cast<std::size_t>(t)];
        if (index_.is_direct()) {
          for (std::int64_t i = lo; i < hi; ++i) {
            const std::uint32_t p = row_position(i);
            if (p != kSkip && p >= p_lo && p < p_hi) mine.push_back(make_entry<Entry>(i, p));
          }
        } else {
          // Hashed ids: looked up a cache-sized run of rows at a time, each thread on its own.
          constexpr std::int64_t kRun = std::int64_t{1} << 15;
          std::vector<std::uint32_t> run_pos(static_cast<std::size_t>(std::min(kRun, std::max<std::int64_t>(hi - lo, 1))));
          for (std::int64_t r = lo; r < hi; r += kRun) {
            const std::int64_t r_end = std::min(hi, r + kRun);
            const auto len = static_cast<std::size_t>(r_end - r);
            index_.known_positions(log_.customer.subspan(static_cast<std::size_t>(r), len),
                                   std::span<std::uint32_t>(run_pos.data(), len), 1);
            for (std::int64_t i = r; i < r_end; ++i) {
              const std::uint32_t p = run_pos[static_cast<std::size_t>(i - r)];
              if (p == kSkip || p < p_lo || p >= p_hi) continue;
              if (drop_returns_ && log_.amount[static_cast<std::size_t>(i)] < 0.0) continue;
              mine.push_back(make_entry<Entry>(i, p));
            }
          }
        }
      }
      std::vector<Entry> entries;
      for (auto& part : per_thread) entries.insert(entries.end(), part.begin(), part.end());
      per_thread.clear();
      // Stable: equal (customer, key) rows keep log order, so sums are reproducible.
      std::stable_sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
        return a.pos != b.pos ? a.pos < b.pos : key_of(a) < key_of(b);
      });
      std::vector<std::int64_t> bounds(b_hi - b_lo + 1);
      for (std::size_t b = b_lo; b <= b_hi; ++b)
        bounds[b - b_lo] = std::lower_bound(entries.begin(), entries.end(), static_cast<std::uint64_t>(b) << shift_,
                                            [](const Entry& e, std::uint64_t p) { return e.pos < p; }) -
                           entries.begin();
      const auto blocks = static_cast<std::int64_t>(b_hi - b_lo);
#pragma omp parallel for num_threads(threads_) schedule(dynamic, 4)
      for (std::int64_t b = 0; b < blocks; ++b) {
        const std::int64_t lo = bounds[static_cast<std::size_t>(b)];
        const std::int64_t hi = bounds[static_cast<std::size_t>(b) + 1];
        if (lo == hi) continue;
        errors.run([&] {
          visit(b_lo + static_cast<std::size_t>(b),
                std::span<const Entry>(entries.data() + lo, static_cast<std::size_t>(hi - lo)));
        });
      }
      errors.rethrow();
    }
  }

 public:
  static constexpr int kMaxBlockBits = 10;  // at most 1024 blocks
  static constexpr int kMinBlockShift = 12;  // at least 4096 customer positions per block

 private:
  static constexpr std::int64_t kMinChunkRows = 1 << 20;      // 1M rows: a 32 MiB entry buffer
  static constexpr std::int64_t kRowsPerPositionPerChunk = 8;  // rows per customer a chunk aims for
  static constexpr std::int64_t kSliceRows = 1 << 24;  // 16M rows: a 512 MiB sort buffer
  static constexpr std::uint32_t kSkip = 0xFFFFFFFFu;

  std::pair<std::int64_t, std::int64_t> thread_range(std::int64_t begin, std::int64_t end, int t) const {
    const std::int64_t len = end - begin;
    return {begin + len * t / threads_, begin + len * (t + 1) / threads_};
  }

  // The index was built from this log's customer column, so every id has a position.
  std::uint32_t row_position(std::int64_t i) const {
    if (drop_returns_ && log_.amount[static_cast<std::size_t>(i)] < 0.0) return kSkip;
    return static_cast<std::uint32_t>(index_.known_position(log_.customer[static_cast<std::size_t>(i)]));
  }

  template <typename Entry>
  Entry make_entry(std::int64_t i, std::uint32_t p) const {
    const auto r = static_cast<std::size_t>(i);
    const auto day = static_cast<std::int32_t>(divide_(log_.time[r]));
    if constexpr (std::is_same_v<Entry, CompactScanEntry>) {
      return Entry::make(0, log_.amount[r], 0.0, p, day);
    } else {
      return Entry::make(key_ ? key_[r] : day, log_.amount[r], log_.has_cost() ? log_.cost[r] : 0.0, p, day);
    }
  }

  static std::int64_t key_of(const ScanEntry& e) { return e.key; }
  static std::int64_t key_of(const CompactScanEntry& e) { return e.day; }

  const TransactionLog& log_;
  const IdIndex& index_;
  const std::int64_t* key_;
  bool drop_returns_;
  int threads_;
  DayDivider divide_;
  int shift_ = 0;
  std::size_t n_blocks_ = 1;
  std::int64_t chunk_rows_ = kMinChunkRows;
};

}  // namespace crmine::detail
