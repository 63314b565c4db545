// SPDX-License-Identifier: Apache-2.0
// Shared itemset-mining internals: preparation of transactions, budget, sinks, lookup table.
#include "mining.hpp"

#include <crmine/core/parallel.hpp>
#include <crmine/core/radix_sort.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <cstdlib>
#include <new>
#include <numeric>
#include <utility>

#if defined(__unix__)
#include <sys/mman.h>
#endif

namespace crmine::detail {
namespace {

/// A transaction's first items packed into 64 bits (item + 1 per field of `bits` bits, 0 once it
/// has ended, the first item highest), and the transaction.
struct Keyed {
  std::uint64_t key;
  std::int64_t t;
};

/// Sorts the transactions flat[offsets[t] .. offsets[t+1]) lexicographically into `out`, merging
/// equal ones (weights summed; weights == nullptr means 1 each). Empty ones carry no
/// information and are dropped.
void merge_transactions(const std::vector<std::int32_t>& flat, const std::vector<std::int64_t>& offsets,
                        const std::int64_t* weights, Prepared& out) {
  const auto n = static_cast<std::int64_t>(offsets.size()) - 1;
  auto span_of = [&](std::int64_t b) {
    return std::span<const std::int32_t>(flat.data() + offsets[static_cast<std::size_t>(b)],
                                         static_cast<std::size_t>(offsets[static_cast<std::size_t>(b) + 1] - offsets[static_cast<std::size_t>(b)]));
  };
  std::int32_t top = 0;
  for (const std::int32_t v : flat) top = std::max(top, v);
  const int bits = std::bit_width(static_cast<std::uint32_t>(top) + 1);
  const int fields = 64 / bits;
  // Transactions that fit their key ("whole") are ordered by the key alone (radix sort); equal
  // keys of two whole transactions mean equal transactions, and a whole one sorts before a longer
  // one with its key (its prefix). Only the long ones (a few percent in data sets like Groceries)
  // need their items compared.
  std::vector<Keyed> whole, longer;
  whole.reserve(static_cast<std::size_t>(n));
  for (std::int64_t b = 0; b < n; ++b) {
    const auto x = span_of(b);
    if (x.empty()) continue;
    std::uint64_t key = 0;
    for (int f = 0; f < fields; ++f)
      key = (key << bits) | (static_cast<std::size_t>(f) < x.size() ? static_cast<std::uint64_t>(x[static_cast<std::size_t>(f)]) + 1 : 0);
    (x.size() <= static_cast<std::size_t>(fields) ? whole : longer).push_back({key, b});
  }
  {
    std::vector<Keyed> scratch;
    radix_sort_by_key(whole, scratch, [](const Keyed& k) { return k.key; });
  }
  std::sort(longer.begin(), longer.end(), [&](const Keyed& a, const Keyed& b) {
    if (a.key != b.key) return a.key < b.key;
    const auto x = span_of(a.t), y = span_of(b.t);
    return std::lexicographical_compare(x.begin() + fields, x.end(), y.begin() + fields, y.end());
  });
  out.items.reserve(flat.size());
  out.indptr.reserve(whole.size() + longer.size() + 1);
  out.weight.reserve(whole.size() + longer.size());
  const Keyed* last = nullptr;
  bool last_whole = false;
  auto emit = [&](const Keyed& cur, bool is_whole) {
    const auto t = span_of(cur.t);
    const std::int64_t w = weights == nullptr ? 1 : weights[cur.t];
    if (last != nullptr && last->key == cur.key && last_whole == is_whole &&
        (is_whole || std::ranges::equal(t, span_of(last->t)))) {
      out.weight.back() += w;
    } else {
      out.items.insert(out.items.end(), t.begin(), t.end());
      out.indptr.push_back(static_cast<std::int64_t>(out.items.size()));
      out.weight.push_back(w);
    }
    last = &cur;
    last_whole = is_whole;
  };
  std::size_t i = 0, j = 0;
  while (i < whole.size() || j < longer.size()) {
    if (j == longer.size() || (i < whole.size() && whole[i].key <= longer[j].key)) emit(whole[i++], true);
    else emit(longer[j++], false);
  }
}

/// Sorts a few items in place: an insertion sort, as itemsets mostly hold 2-8 items and
/// std::sort's set-up cost per call was a tenth of mining at low supports (one call per itemset).
void sort_short(std::int32_t* first, std::int32_t* last) {
  if (last - first > 24) {
    std::sort(first, last);
    return;
  }
  for (std::int32_t* i = first + 1; i < last; ++i) {
    const std::int32_t v = *i;
    std::int32_t* j = i;
    for (; j > first && *(j - 1) > v; --j) *j = *(j - 1);
    *j = v;
  }
}

}  // namespace

Prepared prepare(const BasketView& baskets, const ItemsetOptions& options, const char* caller) {
  validate(baskets, caller);
  const std::int64_t n = baskets.size();
  validate(options, n, caller);
  Prepared out;
  out.n_baskets = n;
  out.min_count = options.min_count > 0 ? options.min_count : min_count_for(options.min_support, n);
  const int threads = mining_threads(options.n_threads, static_cast<std::int64_t>(baskets.indices.size()));
  const std::int32_t n_items = baskets.n_items;
  const std::int64_t* indptr = baskets.indptr.data();
  const std::int32_t* indices = baskets.indices.data();

  // Item counts, each basket counting an item once: per-thread arrays reduced in a fixed order.
  std::vector<std::vector<std::int64_t>> partial(static_cast<std::size_t>(threads));
#pragma omp parallel num_threads(threads)
  {
    auto& counts = partial[static_cast<std::size_t>(thread_id())];
    counts.assign(static_cast<std::size_t>(n_items), 0);
    std::vector<std::int64_t> seen(static_cast<std::size_t>(n_items), -1);
#pragma omp for schedule(static)
    for (std::int64_t b = 0; b < n; ++b) {
      for (std::int64_t k = indptr[b]; k < indptr[b + 1]; ++k) {
        const auto it = static_cast<std::size_t>(indices[k]);
        if (seen[it] != b) {
          seen[it] = b;
          ++counts[it];
        }
      }
    }
  }
  std::vector<std::int64_t> counts(static_cast<std::size_t>(n_items), 0);
  for (const auto& p : partial)
    for (std::size_t i = 0; i < counts.size(); ++i) counts[i] += p[i];
  partial.clear();

  for (std::int32_t i = 0; i < n_items; ++i)
    if (counts[static_cast<std::size_t>(i)] >= out.min_count) out.rank_to_item.push_back(i);
  std::stable_sort(out.rank_to_item.begin(), out.rank_to_item.end(), [&](std::int32_t a, std::int32_t b) {
    return counts[static_cast<std::size_t>(a)] > counts[static_cast<std::size_t>(b)];
  });
  std::vector<std::int32_t> rank(static_cast<std::size_t>(n_items), -1);
  out.support.resize(out.rank_to_item.size());
  for (std::size_t r = 0; r < out.rank_to_item.size(); ++r) {
    rank[static_cast<std::size_t>(out.rank_to_item[r])] = static_cast<std::int32_t>(r);
    out.support[r] = counts[static_cast<std::size_t>(out.rank_to_item[r])];
  }

  // Recode: lengths first, then fill and sort each transaction by rank (duplicates removed); on
  // one thread in a single pass.
  std::vector<std::int64_t> len(static_cast<std::size_t>(n) + 1, 0);
  std::vector<std::int32_t> flat;
  // Writes basket b's frequent ranks from `dst`, each once, ascending; returns the end. `seen`
  // (one per thread) marks the items already taken from b.
  auto recode = [&](std::int64_t b, std::vector<std::int64_t>& seen, std::int32_t* dst) {
    std::int32_t* end = dst;
    for (std::int64_t k = indptr[b]; k < indptr[b + 1]; ++k) {
      const auto it = static_cast<std::size_t>(indices[k]);
      if (rank[it] >= 0 && seen[it] != b) {
        seen[it] = b;
        *end++ = rank[it];
      }
    }
    sort_short(dst, end);
    return end;
  };
  if (threads == 1) {
    flat.resize(baskets.indices.size());
    std::size_t pos = 0;
    const std::size_t words = (out.rank_to_item.size() + 63) / 64;
    if (words <= 4) {
      // Few frequent items (Groceries: 88-169): each basket's ranks as bits of a bitmap, read
      // back in ascending order, distinct, with no sort and no per-item bookkeeping.
      std::array<std::uint64_t, 4> bitmap{};
      for (std::int64_t b = 0; b < n; ++b) {
        for (std::int64_t k = indptr[b]; k < indptr[b + 1]; ++k) {
          const std::int32_t r = rank[static_cast<std::size_t>(indices[k])];
          if (r >= 0) bitmap[static_cast<std::size_t>(r) >> 6] |= std::uint64_t{1} << (r & 63);
        }
        for (std::size_t w = 0; w < words; ++w) {
          for (std::uint64_t bits = bitmap[w]; bits != 0; bits &= bits - 1)
            flat[pos++] = static_cast<std::int32_t>(w * 64 + static_cast<std::size_t>(std::countr_zero(bits)));
          bitmap[w] = 0;
        }
        len[static_cast<std::size_t>(b) + 1] = static_cast<std::int64_t>(pos);
      }
      flat.resize(pos);
      merge_transactions(flat, len, nullptr, out);
      return out;
    }
    std::vector<std::int64_t> seen(static_cast<std::size_t>(n_items), -1);
    for (std::int64_t b = 0; b < n; ++b) {
      pos = static_cast<std::size_t>(recode(b, seen, flat.data() + pos) - flat.data());
      len[static_cast<std::size_t>(b) + 1] = static_cast<std::int64_t>(pos);
    }
    flat.resize(pos);
    merge_transactions(flat, len, nullptr, out);
    return out;
  }
#pragma omp parallel num_threads(threads)
  {
    std::vector<std::int64_t> seen(static_cast<std::size_t>(n_items), -1);
#pragma omp for schedule(static)
    for (std::int64_t b = 0; b < n; ++b) {
      std::int64_t c = 0;
      for (std::int64_t k = indptr[b]; k < indptr[b + 1]; ++k) {
        const auto it = static_cast<std::size_t>(indices[k]);
        if (rank[it] >= 0 && seen[it] != b) {
          seen[it] = b;
          ++c;
        }
      }
      len[static_cast<std::size_t>(b) + 1] = c;
    }
  }
  std::partial_sum(len.begin(), len.end(), len.begin());
  flat.resize(static_cast<std::size_t>(len.back()));
#pragma omp parallel num_threads(threads)
  {
    std::vector<std::int64_t> seen(static_cast<std::size_t>(n_items), -1);
#pragma omp for schedule(static)
    for (std::int64_t b = 0; b < n; ++b) recode(b, seen, flat.data() + len[static_cast<std::size_t>(b)]);
  }

  merge_transactions(flat, len, nullptr, out);
  return out;
}

void* allocate_bytes(std::size_t bytes) {
#if defined(__unix__)
  if (bytes >= MappedAllocator<char>::kMapBytes) {
    void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    return p;
  }
#endif
  void* p = std::malloc(bytes == 0 ? 1 : bytes);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}

void deallocate_bytes(void* p, std::size_t bytes) noexcept {
#if defined(__unix__)
  if (bytes >= MappedAllocator<char>::kMapBytes) {
    munmap(p, bytes);
    return;
  }
#endif
  std::free(p);
}

void Budget::charge(std::int64_t itemsets, std::int64_t bytes, const char* caller) {
  const std::int64_t total = itemsets_.fetch_add(itemsets, std::memory_order_relaxed) + itemsets;
  const std::int64_t used = bytes_.fetch_add(bytes, std::memory_order_relaxed) + bytes;
  std::int64_t peak = peak_.load(std::memory_order_relaxed);
  while (used > peak && !peak_.compare_exchange_weak(peak, used, std::memory_order_relaxed)) {
  }
  if (max_itemsets_ > 0 && total > max_itemsets_) {
    stop_.store(true);
    throw LimitExceeded(concat(caller, ": max_itemsets: more than ", max_itemsets_,
                               " frequent itemsets; raise min_support, lower max_len or raise the limit"));
  }
  if (max_memory_ > 0 && used > max_memory_) {
    stop_.store(true);
    throw LimitExceeded(concat(caller, ": max_memory: mining needs more than ", max_memory_,
                               " bytes; raise min_support, lower max_len or raise the limit"));
  }
  if (stop_.load(std::memory_order_relaxed)) throw LimitExceeded(concat(caller, ": stopped by another thread"));
}

void Sink::flush() {
  const std::int64_t n_items = static_cast<std::int64_t>(items_.size()) - pending_items_;
  const std::int64_t bytes = pending_ * 16 + n_items * 4;
  const std::int64_t count = pending_;
  pending_ = 0;
  pending_items_ = static_cast<std::int64_t>(items_.size());
  if (budget_ != nullptr && count > 0) budget_->charge(count, bytes, caller_);
}

void collect_into(std::vector<Sink>& sinks, const Prepared& prepared, std::int32_t extra, Itemsets& out, int threads) {
  std::size_t total = 0, total_items = 0;
  for (const auto& s : sinks) {
    total += s.counts_.size();
    total_items += s.items_.size() + (extra >= 0 ? s.counts_.size() : 0);
  }
  // Each sink's ranks become dense items, sorted within each itemset, in place: one sink after
  // another from a shared counter on `threads` threads (the sinks are independent). Only the
  // concatenation below is serial, and it copies whole sinks.
  std::atomic<std::size_t> next{0};
  run_workers(total_items >= (std::size_t{1} << 16) ? threads : 1, [&] {
    for (std::size_t k; (k = next.fetch_add(1, std::memory_order_relaxed)) < sinks.size();) {
      Sink& s = sinks[k];
      std::int32_t* at = s.items_.data();
      for (const std::int32_t len : s.lens_) {
        for (std::int32_t j = 0; j < len; ++j) at[j] = prepared.rank_to_item[static_cast<std::size_t>(at[j])];
        sort_short(at, at + len);
        at += len;
      }
    }
  });
  out.indptr.reserve(out.indptr.size() + total);
  out.items.reserve(out.items.size() + total_items);
  out.count.reserve(out.count.size() + total);
  for (auto& s : sinks) {
    if (extra < 0) {
      std::int64_t end = static_cast<std::int64_t>(out.items.size());
      out.items.insert(out.items.end(), s.items_.begin(), s.items_.end());
      for (const std::int32_t len : s.lens_) out.indptr.push_back(end += len);
    } else {  // each itemset with `extra` at its place in the order
      const std::int32_t* at = s.items_.data();
      for (const std::int32_t len : s.lens_) {
        const std::int32_t* mid = std::lower_bound(at, at + len, extra);
        out.items.insert(out.items.end(), at, mid);
        out.items.push_back(extra);
        out.items.insert(out.items.end(), mid, at + len);
        out.indptr.push_back(static_cast<std::int64_t>(out.items.size()));
        at += len;
      }
    }
    out.count.insert(out.count.end(), s.counts_.begin(), s.counts_.end());
    s = Sink{};  // release as we go to keep the peak low
  }
}

Itemsets collect(std::vector<Sink>& sinks, const Prepared& prepared, int threads) {
  Itemsets out;
  out.n_baskets = prepared.n_baskets;
  out.min_count = prepared.min_count;
  collect_into(sinks, prepared, -1, out, threads);
  return out;
}

Prepared project(const Prepared& p, std::int32_t r, std::span<const std::int32_t> occurrences,
                 const std::vector<char>& excluded) {
  Prepared out;
  out.n_baskets = p.n_baskets;
  out.min_count = p.min_count;
  std::vector<std::int64_t> count(static_cast<std::size_t>(p.n_frequent()), 0);
  std::vector<std::int32_t> seen;  // the ranks counted, so the work stays proportional to the database
  auto ranks_of = [&](std::int32_t t) {
    return std::span<const std::int32_t>(p.items.data() + p.indptr[static_cast<std::size_t>(t)],
                                         static_cast<std::size_t>(p.indptr[static_cast<std::size_t>(t) + 1] - p.indptr[static_cast<std::size_t>(t)]));
  };
  for (const std::int32_t t : occurrences)
    for (const std::int32_t j : ranks_of(t)) {
      if (j == r || excluded[static_cast<std::size_t>(j)]) continue;
      if (count[static_cast<std::size_t>(j)] == 0) seen.push_back(j);
      count[static_cast<std::size_t>(j)] += p.weight[static_cast<std::size_t>(t)];
    }
  std::sort(seen.begin(), seen.end());
  std::vector<std::int32_t> local;
  for (const std::int32_t j : seen)
    if (count[static_cast<std::size_t>(j)] >= p.min_count) local.push_back(j);
  // Descending count in the conditional database keeps its FP-tree small; ties by global rank.
  std::stable_sort(local.begin(), local.end(), [&](std::int32_t a, std::int32_t b) {
    return count[static_cast<std::size_t>(a)] > count[static_cast<std::size_t>(b)];
  });
  std::vector<std::int32_t> id(static_cast<std::size_t>(p.n_frequent()), -1);
  for (std::size_t k = 0; k < local.size(); ++k) {
    id[static_cast<std::size_t>(local[k])] = static_cast<std::int32_t>(k);
    out.rank_to_item.push_back(p.rank_to_item[static_cast<std::size_t>(local[k])]);
    out.support.push_back(count[static_cast<std::size_t>(local[k])]);
  }
  std::vector<std::int32_t> flat;
  std::vector<std::int64_t> offsets{0}, weights;
  for (const std::int32_t t : occurrences) {
    const std::size_t start = flat.size();
    for (const std::int32_t j : ranks_of(t))
      if (id[static_cast<std::size_t>(j)] >= 0) flat.push_back(id[static_cast<std::size_t>(j)]);
    std::sort(flat.begin() + static_cast<std::ptrdiff_t>(start), flat.end());
    offsets.push_back(static_cast<std::int64_t>(flat.size()));
    weights.push_back(p.weight[static_cast<std::size_t>(t)]);
  }
  merge_transactions(flat, offsets, weights.data(), out);
  return out;
}

Itemsets mine_with(const BasketView& baskets, const ItemsetOptions& options, MineCore core, const char* caller) {
  for (const std::int32_t it : options.contains)
    if (it < 0 || it >= baskets.n_items)
      throw_invalid(caller, "contains", "item id ", it, " is not in [0, n_items=", baskets.n_items, ")");
  const Prepared prep = prepare(baskets, options, caller);
  Budget budget(options, prep.bytes());
  if (options.contains.empty()) {
    std::vector<Sink> sinks = core(prep, options, budget);
    Itemsets out = collect(sinks, prep, resolve_threads(options.n_threads));
    out.peak_memory = budget.peak();
    return out;
  }
  const std::int32_t n_freq = prep.n_frequent();
  std::vector<std::int32_t> rank(static_cast<std::size_t>(baskets.n_items), -1);
  for (std::int32_t r = 0; r < n_freq; ++r) rank[static_cast<std::size_t>(prep.rank_to_item[static_cast<std::size_t>(r)])] = r;
  std::vector<char> wanted(static_cast<std::size_t>(n_freq), 0);
  for (const std::int32_t it : options.contains)
    if (rank[static_cast<std::size_t>(it)] >= 0) wanted[static_cast<std::size_t>(rank[static_cast<std::size_t>(it)])] = 1;
  // Occurrence lists of the wanted ranks only: one pass over the database, the only one.
  std::vector<std::int64_t> occ_ptr(static_cast<std::size_t>(n_freq) + 1, 0);
  for (const std::int32_t j : prep.items)
    if (wanted[static_cast<std::size_t>(j)]) ++occ_ptr[static_cast<std::size_t>(j) + 1];
  for (std::size_t r = 0; r < static_cast<std::size_t>(n_freq); ++r) occ_ptr[r + 1] += occ_ptr[r];
  std::vector<std::int32_t> occ(static_cast<std::size_t>(occ_ptr.back()));
  {
    std::vector<std::int64_t> fill(occ_ptr.begin(), occ_ptr.end() - 1);
    for (std::int64_t t = 0; t < prep.n_transactions(); ++t)
      for (std::int64_t k = prep.indptr[static_cast<std::size_t>(t)]; k < prep.indptr[static_cast<std::size_t>(t) + 1]; ++k) {
        const std::int32_t j = prep.items[static_cast<std::size_t>(k)];
        if (wanted[static_cast<std::size_t>(j)]) occ[static_cast<std::size_t>(fill[static_cast<std::size_t>(j)]++)] = static_cast<std::int32_t>(t);
      }
  }
  budget.charge(0, static_cast<std::int64_t>(occ.size() * 4 + occ_ptr.size() * 8 + rank.size() * 4), caller);

  ItemsetOptions sub_options = options;
  sub_options.contains.clear();
  sub_options.max_len = options.max_len == 0 ? 0 : options.max_len - 1;
  Itemsets out;
  out.n_baskets = prep.n_baskets;
  out.min_count = prep.min_count;
  // An itemset belongs to its least frequent wanted item r (the highest rank): it is r plus an
  // itemset of r's conditional database without the wanted items ranked above r. Each such
  // database is mined whole by the algorithm's own core, so all three share this path.
  std::vector<char> excluded(static_cast<std::size_t>(n_freq), 0);
  for (std::int32_t r = n_freq - 1; r >= 0; --r) {
    if (!wanted[static_cast<std::size_t>(r)]) continue;
    const std::int32_t item = prep.rank_to_item[static_cast<std::size_t>(r)];
    out.items.push_back(item);
    out.indptr.push_back(static_cast<std::int64_t>(out.items.size()));
    out.count.push_back(prep.support[static_cast<std::size_t>(r)]);
    budget.charge(1, 20, caller);
    if (options.max_len != 1) {
      const auto b = static_cast<std::size_t>(occ_ptr[static_cast<std::size_t>(r)]);
      const auto e = static_cast<std::size_t>(occ_ptr[static_cast<std::size_t>(r) + 1]);
      const Prepared sub = project(prep, r, std::span<const std::int32_t>(occ).subspan(b, e - b), excluded);
      if (sub.n_frequent() > 0) {
        budget.charge(0, sub.bytes(), caller);
        std::vector<Sink> sinks = core(sub, sub_options, budget);
        collect_into(sinks, sub, item, out, 1);
        budget.release(sub.bytes());
      }
    }
    excluded[static_cast<std::size_t>(r)] = 1;
  }
  out.peak_memory = budget.peak();
  return out;
}

ItemsetTable::ItemsetTable(std::span<const std::int64_t> indptr, std::span<const std::int32_t> items)
    : indptr_(indptr), items_(items) {
  const std::int64_t n = static_cast<std::int64_t>(indptr.size()) - 1;
  std::uint64_t cap = 16;
  while (cap < static_cast<std::uint64_t>(n) * 2) cap <<= 1;
  mask_ = cap - 1;
  slots_.assign(cap, -1);
  for (std::int64_t s = 0; s < n; ++s) {
    std::uint64_t h = hash(get(s)) & mask_;
    while (slots_[h] >= 0) h = (h + 1) & mask_;
    slots_[h] = s;
  }
}

std::int64_t ItemsetTable::find(std::span<const std::int32_t> items) const {
  std::uint64_t h = hash(items) & mask_;
  while (true) {
    const std::int64_t s = slots_[h];
    if (s < 0) return -1;
    const auto cand = get(s);
    if (std::equal(cand.begin(), cand.end(), items.begin(), items.end())) return s;
    h = (h + 1) & mask_;
  }
}

}  // namespace crmine::detail
