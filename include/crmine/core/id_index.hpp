// SPDX-License-Identifier: Apache-2.0
// Maps arbitrary int64 ids (customers, orders, items) to dense indices 0..n-1 in id order.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace crmine {

/// A dense numbering of the distinct ids in a column, in ascending id order.
///
/// Dense ids let per-entity state live in flat arrays. When the ids span a range not much wider
/// than the column (the usual case: database keys, or codes from factorising strings) the lookup
/// is one array read; otherwise an open-addressing hash table is used.
class IdIndex {
 public:
  IdIndex() = default;

  /// Numbers the distinct values of `ids`. Parallel over `n_jobs` threads (0 = all).
  static IdIndex build(std::span<const std::int64_t> ids, int n_jobs = 0);

  /// The smallest and largest id of a column, and whether they are close enough for a direct
  /// table (as `build` decides).
  struct Range {
    std::int64_t min = 0;
    std::int64_t max = -1;
    bool direct = false;
    /// Positions of a direct index over this range: max - min + 1.
    std::uint64_t width() const { return static_cast<std::uint64_t>(max) - static_cast<std::uint64_t>(min) + 1; }
  };
  static Range range_of(std::span<const std::int64_t> ids, int n_jobs = 0);
  /// `build` for a caller that already has the column's `range_of` (one pass fewer).
  static IdIndex build(std::span<const std::int64_t> ids, const Range& range, int n_jobs = 0);

  /// A direct index over the ids min .. min + n_positions - 1 for which `present(position)` holds:
  /// for callers that learn which ids occur while doing their own pass over the column.
  template <typename Present>
  static IdIndex direct_from(std::int64_t min, std::uint64_t n_positions, Present&& present) {
    IdIndex index;
    index.direct_ = true;
    index.min_ = min;
    index.table_.assign(n_positions, -1);
    std::int32_t next = 0;
    for (std::uint64_t off = 0; off < n_positions; ++off) {
      if (present(off)) {
        index.table_[off] = next++;
        index.ids_.push_back(static_cast<std::int64_t>(static_cast<std::uint64_t>(min) + off));
      }
    }
    return index;
  }

  /// Builds an index over ids that are already sorted and unique (e.g. a previous result).
  static IdIndex from_sorted_unique(std::vector<std::int64_t> sorted_ids);

  /// The dense index of `id`, or -1 when the id was not seen.
  std::int64_t find(std::int64_t id) const {
    if (direct_) {
      const std::uint64_t off = static_cast<std::uint64_t>(id) - static_cast<std::uint64_t>(min_);
      return off < table_.size() ? table_[off] : -1;
    }
    return find_hashed(id);
  }

  /// A compact, cache-friendly key for `id` in [0, n_positions()), or -1 when the id was not
  /// seen. Positions preserve id order, so a range of positions is a range of customers.
  std::int64_t position(std::int64_t id) const {
    if (direct_) {
      const std::uint64_t off = static_cast<std::uint64_t>(id) - static_cast<std::uint64_t>(min_);
      return off < table_.size() && table_[off] >= 0 ? static_cast<std::int64_t>(off) : -1;
    }
    return find_hashed(id);
  }
  /// `position(id)` for an id known to be in the index (e.g. one of the column it was built from):
  /// skips the presence check, so a direct index needs no memory access at all.
  std::uint64_t known_position(std::int64_t id) const {
    if (direct_) return static_cast<std::uint64_t>(id) - static_cast<std::uint64_t>(min_);
    return static_cast<std::uint64_t>(find_hashed(id));
  }
  /// `known_position` of each of `ids` into `out` (same length), 0xFFFFFFFF for an id not in the
  /// index. A hashed index looks the ids up partition by partition, with each partition's table
  /// in cache while its ids are looked up; row by row, a big log would miss the cache on nearly
  /// every lookup. Parallel over `n_jobs` threads (0 = all).
  void known_positions(std::span<const std::int64_t> ids, std::span<std::uint32_t> out, int n_jobs = 0) const;
  /// The dense index at a position returned by `position`.
  std::int64_t index_at_position(std::uint64_t pos) const { return direct_ ? table_[pos] : static_cast<std::int64_t>(pos); }
  /// The id at a position (any position in [0, n_positions()), present or not, for range bounds).
  std::int64_t id_at_position(std::uint64_t pos) const {
    return direct_ ? static_cast<std::int64_t>(static_cast<std::uint64_t>(min_) + pos) : ids_[pos];
  }
  /// One past the largest position.
  std::uint64_t n_positions() const { return direct_ ? table_.size() : ids_.size(); }

  /// The distinct ids in ascending order; position = dense index.
  const std::vector<std::int64_t>& ids() const { return ids_; }
  std::size_t size() const { return ids_.size(); }
  bool is_direct() const { return direct_; }

 private:
  std::int64_t find_hashed(std::int64_t id) const;
  void build_hash(int threads);

  std::vector<std::int64_t> ids_;
  bool direct_ = false;
  std::int64_t min_ = 0;
  std::vector<std::int32_t> table_;   // direct: table_[id - min_] = index or -1

  // Hashed: one open-addressing table per partition of the hash space (the hash's top bits pick the
  // partition, its low bits the slot), so that the partitions are built in parallel and each fits
  // a core's cache while it is built. Key and index share a slot: one cache miss per lookup.
  struct Slot {
    std::int64_t key = 0;
    std::int64_t index = -1;  // -1 = empty
  };
  struct Partition {
    std::uint64_t offset = 0;  // first slot in slots_
    std::uint64_t mask = 0;    // capacity - 1 (a power of two)
  };
  std::vector<Slot> slots_;
  std::vector<Partition> partitions_;
};

}  // namespace crmine
