// SPDX-License-Identifier: Apache-2.0
// FP-Growth on array FP-trees: parent links, per-item node chains, a (parent, item) hash for
// child lookup and a fast path that reuses the previous insertion's prefix.
#include "mining.hpp"

#include <crmine/core/parallel.hpp>
#include <crmine/rules/fp_growth.hpp>

#include <algorithm>
#include <atomic>
#include <bit>
#include <memory>
#include <numeric>
#include <span>

namespace crmine {
namespace {

using detail::Budget;
using detail::Sink;
constexpr const char* kCaller = "fp_growth";
constexpr std::uint64_t kEmpty = ~std::uint64_t{0};

/// An FP-tree in flat arrays; node 0 is the root. Items are local ids 0..n_items-1 whose order
/// is the global rank order, so every root-to-leaf path is ascending.
struct FpTree {
  detail::MappedVector<std::int32_t> item, parent, next;
  detail::MappedVector<std::int64_t> count;
  detail::MappedVector<std::int32_t> head;     // local item -> most recent node of that item, or -1
  detail::MappedVector<std::int64_t> support;  // local item -> total count
  detail::MappedVector<std::int32_t> label;    // local item -> global rank
  std::int32_t n_items = 0;

  detail::MappedVector<std::uint64_t> keys;  // child lookup: (parent << 32 | item) -> vals
  detail::MappedVector<std::int32_t> vals;
  detail::MappedVector<std::uint32_t> gens;  // slot is in use when gens[slot] == gen
  std::uint32_t gen = 0;
  std::uint64_t mask = 0;
  int shift = 64;
  detail::MappedVector<std::int32_t> prev_items, prev_nodes;
  std::size_t prev_len = 0;

  void reset(std::int32_t items, std::size_t node_bound) {
    n_items = items;
    item.assign(1, -1);
    parent.assign(1, -1);
    next.assign(1, -1);
    count.assign(1, 0);
    head.assign(static_cast<std::size_t>(items), -1);
    support.resize(static_cast<std::size_t>(items));
    label.resize(static_cast<std::size_t>(items));
    std::uint64_t cap = 16;
    while (cap < 2 * node_bound) cap <<= 1;
    // Generation stamps make clearing the lookup O(1): trees are rebuilt millions of times.
    if (keys.size() < cap) {
      keys.assign(cap, 0);
      vals.assign(cap, 0);
      gens.assign(cap, 0);
      gen = 0;
    }
    if (++gen == 0) {
      std::fill(gens.begin(), gens.end(), 0u);
      gen = 1;
    }
    mask = cap - 1;
    shift = 64 - std::countr_zero(cap);
    prev_len = 0;
    if (prev_items.size() < static_cast<std::size_t>(items)) {
      prev_items.resize(static_cast<std::size_t>(items));
      prev_nodes.resize(static_cast<std::size_t>(items));
    }
  }

  std::int32_t add_node(std::int32_t at, std::int32_t it) {
    const auto node = static_cast<std::int32_t>(item.size());
    item.push_back(it);
    parent.push_back(at);
    count.push_back(0);
    next.push_back(head[static_cast<std::size_t>(it)]);
    head[static_cast<std::size_t>(it)] = node;
    return node;
  }

  std::int32_t child(std::int32_t at, std::int32_t it) {
    const std::uint64_t key = (static_cast<std::uint64_t>(at) << 32) | static_cast<std::uint32_t>(it);
    // Fibonacci hashing takes the product's top bits: middle bits would depend on only the
    // low bits of the parent and cluster the probes.
    std::uint64_t h = (key * 0x9E3779B97F4A7C15ull) >> shift;
    while (gens[h] == gen) {
      if (keys[h] == key) return vals[h];
      h = (h + 1) & mask;
    }
    const std::int32_t node = add_node(at, it);
    gens[h] = gen;
    keys[h] = key;
    vals[h] = node;
    return node;
  }

  /// Adds a path (ascending local items) with weight w, reusing the previous insertion's nodes
  /// for the prefix it shares (consecutive paths come from neighbouring transactions).
  void insert(const std::int32_t* path, std::size_t len, std::int64_t w) {
    std::size_t common = 0;
    while (common < len && common < prev_len && prev_items[common] == path[common]) {
      count[static_cast<std::size_t>(prev_nodes[common])] += w;
      ++common;
    }
    std::int32_t at = common ? prev_nodes[common - 1] : 0;
    for (std::size_t j = common; j < len; ++j) {
      at = child(at, path[j]);
      count[static_cast<std::size_t>(at)] += w;
      prev_items[j] = path[j];
      prev_nodes[j] = at;
    }
    prev_len = len;
  }

  std::size_t n_nodes() const { return item.size() - 1; }
  bool is_chain() const {
    for (std::size_t k = 1; k < item.size(); ++k)
      if (parent[k] != static_cast<std::int32_t>(k) - 1) return false;
    return true;
  }
  std::int64_t bytes() const {
    return static_cast<std::int64_t>(item.capacity() * 12 + count.capacity() * 8 + keys.capacity() * 16 +
                                     head.capacity() * 16 + label.capacity() * 4);
  }
};

/// Per-thread state: one tree per recursion depth (reused), scratch arrays, the prefix.
struct Workspace {
  std::vector<std::unique_ptr<FpTree>> levels;
  // cnt is all zeros and newid all -1 between builds; `touched` lists the entries a build set,
  // so clearing costs what the build touched rather than the number of items.
  std::vector<std::int64_t> cnt;
  std::vector<std::int32_t> newid, touched, path, prefix;
  std::int64_t min_count = 1;
  std::int32_t max_len = 0;
  Budget* budget = nullptr;
  std::int64_t charged = 0;

  FpTree& level(std::size_t d) {
    while (levels.size() <= d) levels.push_back(std::make_unique<FpTree>());
    return *levels[d];
  }
  /// Charges growth of this thread's working memory to the budget.
  void account() {
    std::int64_t bytes = static_cast<std::int64_t>(cnt.capacity() * 8 +
                                                   (newid.capacity() + touched.capacity() + path.capacity()) * 4);
    for (const auto& l : levels) bytes += l->bytes();
    if (bytes > charged) {
      budget->charge(0, bytes - charged, kCaller);
      charged = bytes;
    }
  }
};

/// Adds w to ws.cnt[j], remembering j the first time it is counted.
inline void count_item(Workspace& ws, std::int32_t j, std::int64_t w) {
  auto& c = ws.cnt[static_cast<std::size_t>(j)];
  if (c == 0) ws.touched.push_back(j);
  c += w;
}

/// Restores the invariants (cnt zero, newid -1) over the touched entries.
void finish_conditional(Workspace& ws) {
  for (const std::int32_t j : ws.touched) {
    ws.cnt[static_cast<std::size_t>(j)] = 0;
    ws.newid[static_cast<std::size_t>(j)] = -1;
  }
  ws.touched.clear();
}

/// Numbers the counted items j < y with ws.cnt[j] >= min_count consecutively in ascending order
/// (ws.newid) and resets `c` over them, labelled `labels[j]`; returns how many there are. Only
/// the touched items are visited: a first-level item of a sparse data set has a handful of
/// co-occurring items among thousands, and scanning all y of them for each y was quadratic.
std::int32_t start_conditional(std::int32_t y, const std::int32_t* labels, std::size_t node_bound, FpTree& c, Workspace& ws) {
  auto& touched = ws.touched;
  if (touched.size() * 16 < static_cast<std::size_t>(y)) {
    std::sort(touched.begin(), touched.end());
  } else {  // dense: a scan in order is cheaper than sorting
    touched.clear();
    for (std::int32_t j = 0; j < y; ++j)
      if (ws.cnt[static_cast<std::size_t>(j)] != 0) touched.push_back(j);
  }
  std::int32_t k = 0;
  for (const std::int32_t j : touched)
    if (ws.cnt[static_cast<std::size_t>(j)] >= ws.min_count) ws.newid[static_cast<std::size_t>(j)] = k++;
  if (k == 0) return 0;
  c.reset(k, node_bound);
  for (const std::int32_t j : touched) {
    const std::int32_t id = ws.newid[static_cast<std::size_t>(j)];
    if (id >= 0) {
      c.label[static_cast<std::size_t>(id)] = labels[j];
      c.support[static_cast<std::size_t>(id)] = ws.cnt[static_cast<std::size_t>(j)];
    }
  }
  if (ws.path.size() < static_cast<std::size_t>(k)) ws.path.resize(static_cast<std::size_t>(k));
  return k;
}

/// The conditional tree of rank y straight from the prepared transactions that hold it
/// (`occ`, ascending, y at position `pos` of each): their prefixes before y are read
/// sequentially, where walking a global tree that does not fit in cache would miss on nearly
/// every parent link (sparse data such as retail.dat hardly shares prefixes, so that tree saves
/// little).
bool build_first_level(const detail::Prepared& p, std::span<const std::int32_t> occ, std::span<const std::int32_t> pos,
                       std::int32_t y, const std::int32_t* identity, FpTree& c, Workspace& ws) {
  std::size_t total = 0;
  for (std::size_t o = 0; o < occ.size(); ++o) {
    const auto t = static_cast<std::size_t>(occ[o]);
    const std::int32_t* b = p.items.data() + p.indptr[t];
    const std::int32_t* e = b + pos[o];
    const std::int64_t w = p.weight[t];
    for (const std::int32_t* it = b; it != e; ++it) count_item(ws, *it, w);
    total += static_cast<std::size_t>(e - b);
  }
  if (start_conditional(y, identity, total + 1, c, ws) == 0) {
    finish_conditional(ws);
    return false;
  }
  for (std::size_t o = 0; o < occ.size(); ++o) {
    const auto t = static_cast<std::size_t>(occ[o]);
    const std::int32_t* b = p.items.data() + p.indptr[t];
    std::size_t len = 0;
    for (std::int32_t j = 0; j < pos[o]; ++j) {
      const std::int32_t id = ws.newid[static_cast<std::size_t>(b[j])];
      if (id >= 0) ws.path[len++] = id;
    }
    if (len > 0) c.insert(ws.path.data(), len, p.weight[t]);
  }
  finish_conditional(ws);
  return true;
}

/// Builds the conditional tree of local item y of `t` into `c`; false when it would be empty.
bool build_conditional(const FpTree& t, std::int32_t y, FpTree& c, Workspace& ws) {
  const auto uy = static_cast<std::size_t>(y);
  std::size_t total = 0;
  for (std::int32_t n = t.head[uy]; n >= 0; n = t.next[static_cast<std::size_t>(n)]) {
    const std::int64_t w = t.count[static_cast<std::size_t>(n)];
    for (std::int32_t p = t.parent[static_cast<std::size_t>(n)]; p > 0; p = t.parent[static_cast<std::size_t>(p)]) {
      count_item(ws, t.item[static_cast<std::size_t>(p)], w);
      ++total;
    }
  }
  const std::int32_t k = start_conditional(y, t.label.data(), std::min(total, t.n_nodes()) + 1, c, ws);
  if (k == 0) {
    finish_conditional(ws);
    return false;
  }
  for (std::int32_t n = t.head[uy]; n >= 0; n = t.next[static_cast<std::size_t>(n)]) {
    std::size_t len = 0;
    for (std::int32_t p = t.parent[static_cast<std::size_t>(n)]; p > 0; p = t.parent[static_cast<std::size_t>(p)]) {
      const std::int32_t id = ws.newid[static_cast<std::size_t>(t.item[static_cast<std::size_t>(p)])];
      if (id >= 0) ws.path[len++] = id;
    }
    if (len == 0) continue;
    std::reverse(ws.path.begin(), ws.path.begin() + static_cast<std::ptrdiff_t>(len));
    c.insert(ws.path.data(), len, t.count[static_cast<std::size_t>(n)]);
  }
  finish_conditional(ws);
  return true;
}

/// Emits every non-empty subset of a single-path tree's nodes (first..) appended to the prefix.
void emit_chain(const FpTree& t, std::size_t first, std::size_t depth, Workspace& ws, Sink& sink) {
  for (std::size_t k = first; k < t.item.size(); ++k) {
    ws.prefix[depth] = t.label[static_cast<std::size_t>(t.item[k])];
    sink.emit(ws.prefix.data(), static_cast<std::int32_t>(depth + 1), t.count[k]);
    if (ws.max_len == 0 || static_cast<std::int32_t>(depth + 1) < ws.max_len) emit_chain(t, k + 1, depth + 1, ws, sink);
  }
}

/// Mines tree `t` at recursion depth `depth` (prefix[0..depth) is the conditioning itemset).
void mine(const FpTree& t, std::size_t depth, Workspace& ws, Sink& sink) {
  if (t.is_chain()) {
    emit_chain(t, 1, depth, ws, sink);
    return;
  }
  for (std::int32_t y = t.n_items - 1; y >= 0; --y) {
    ws.prefix[depth] = t.label[static_cast<std::size_t>(y)];
    sink.emit(ws.prefix.data(), static_cast<std::int32_t>(depth + 1), t.support[static_cast<std::size_t>(y)]);
    if (ws.max_len != 0 && static_cast<std::int32_t>(depth + 1) >= ws.max_len) continue;
    FpTree& c = ws.level(depth + 1);
    if (build_conditional(t, y, c, ws)) mine(c, depth + 1, ws, sink);
  }
}


/// Mines a prepared database: one task per first-level rank, parallel.
std::vector<Sink> fp_growth_core(const detail::Prepared& prep, const ItemsetOptions& options, Budget& budget) {
  const std::int32_t n_freq = prep.n_frequent();
  std::vector<Sink> sinks(static_cast<std::size_t>(n_freq));
  for (auto& s : sinks) s.bind(&budget, kCaller);

  // Occurrence lists: the transactions holding each rank, in transaction order (counting sort),
  // with the rank's position in each (its prefix length there).
  if (prep.n_transactions() >= INT32_MAX)
    detail::throw_invalid(kCaller, "baskets", "more than 2^31-2 distinct baskets");
  std::vector<std::int64_t> occ_ptr(static_cast<std::size_t>(n_freq) + 1, 0);
  for (const std::int32_t r : prep.items) ++occ_ptr[static_cast<std::size_t>(r) + 1];
  for (std::size_t r = 0; r < static_cast<std::size_t>(n_freq); ++r) occ_ptr[r + 1] += occ_ptr[r];
  std::vector<std::int32_t> occ(prep.items.size()), occ_pos(prep.items.size());
  // The first-level conditional databases' total size (each occurrence's prefix length): the
  // work of the mining's first level, whatever the support, where the basket count says little
  // (Groceries' 43,367 item occurrences take 2 ms to mine at min support 0.01, 20 ms at 0.0005).
  std::int64_t first_level = 0;
  {
    std::vector<std::int64_t> fill(occ_ptr.begin(), occ_ptr.end() - 1);
    for (std::int64_t t = 0; t < prep.n_transactions(); ++t) {
      const std::int64_t start = prep.indptr[static_cast<std::size_t>(t)];
      for (std::int64_t k = start; k < prep.indptr[static_cast<std::size_t>(t) + 1]; ++k) {
        const auto at = static_cast<std::size_t>(fill[static_cast<std::size_t>(prep.items[static_cast<std::size_t>(k)])]++);
        occ[at] = static_cast<std::int32_t>(t);
        occ_pos[at] = static_cast<std::int32_t>(k - start);
        first_level += k - start;
      }
    }
  }
  std::vector<std::int32_t> identity(static_cast<std::size_t>(n_freq));
  std::iota(identity.begin(), identity.end(), 0);
  const auto index_bytes = static_cast<std::int64_t>(occ.size() * 8 + occ_ptr.size() * 8 + identity.size() * 4);
  budget.charge(0, index_bytes, kCaller);

  // 2^16 prefix items are about a millisecond of mining: more than enough to repay a thread.
  const int threads = detail::mining_threads(options.n_threads, first_level, std::int64_t{1} << 16);
  detail::ExceptionCollector errors;
  // Least frequent items first: their conditional trees hold the most items, so the large tasks
  // start early and the small ones fill the gaps at the end. Each task has its own sink, so the
  // result does not depend on which thread ran it.
  std::atomic<std::int32_t> next{0};
  detail::run_workers(threads, [&] {
    std::int64_t charged = 0;
    errors.run([&] {
      Workspace ws;
      ws.min_count = prep.min_count;
      ws.max_len = options.max_len;
      ws.budget = &budget;
      ws.prefix.resize(static_cast<std::size_t>(n_freq) + 1);
      ws.cnt.assign(static_cast<std::size_t>(n_freq), 0);
      ws.newid.assign(static_cast<std::size_t>(n_freq), -1);
      for (std::int32_t i; (i = next.fetch_add(1, std::memory_order_relaxed)) < n_freq && !budget.stopped();) {
        const std::int32_t y = n_freq - 1 - i;
        Sink& sink = sinks[static_cast<std::size_t>(y)];
        ws.prefix[0] = y;
        sink.emit(ws.prefix.data(), 1, prep.support[static_cast<std::size_t>(y)]);
        if (options.max_len != 1) {
          FpTree& c = ws.level(1);
          const auto b = static_cast<std::size_t>(occ_ptr[static_cast<std::size_t>(y)]);
          const auto e = static_cast<std::size_t>(occ_ptr[static_cast<std::size_t>(y) + 1]);
          if (build_first_level(prep, std::span<const std::int32_t>(occ).subspan(b, e - b),
                                std::span<const std::int32_t>(occ_pos).subspan(b, e - b), y, identity.data(), c, ws))
            mine(c, 1, ws, sink);
        }
        sink.flush();
        ws.account();
        charged = ws.charged;
      }
    });
    budget.release(charged);
  });
  errors.rethrow();
  budget.release(index_bytes);
  return sinks;
}

}  // namespace

Itemsets fp_growth(const BasketView& baskets, const ItemsetOptions& options) {
  return detail::mine_with(baskets, options, &fp_growth_core, kCaller);
}

}  // namespace crmine
