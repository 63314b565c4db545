// SPDX-License-Identifier: Apache-2.0
// Apriori: level-wise candidate generation (join of siblings, subset pruning) with support
// counted by walking each transaction down a prefix trie of the frequent itemsets.
#include "mining.hpp"

#include <crmine/core/parallel.hpp>
#include <crmine/rules/apriori.hpp>

#include <algorithm>

namespace crmine {
namespace {

using detail::Budget;
using detail::Sink;
constexpr const char* kCaller = "apriori";

/// The trie of frequent itemsets plus the current candidates. Node 0 is the root; children of
/// a node are contiguous and ascending by item.
struct Trie {
  std::vector<std::int32_t> item, parent;
  std::vector<std::int64_t> count, child_begin, child_end;

  std::int64_t add(std::int32_t it, std::int32_t par) {
    item.push_back(it);
    parent.push_back(par);
    count.push_back(0);
    child_begin.push_back(0);
    child_end.push_back(0);
    return static_cast<std::int64_t>(item.size()) - 1;
  }
  std::int64_t find_child(std::int64_t node, std::int32_t it) const {
    const auto b = item.begin() + child_begin[static_cast<std::size_t>(node)];
    const auto e = item.begin() + child_end[static_cast<std::size_t>(node)];
    const auto at = std::lower_bound(b, e, it);
    return at != e && *at == it ? at - item.begin() : -1;
  }
  std::int64_t bytes() const { return static_cast<std::int64_t>(item.capacity() * 32); }
};

/// Adds weight w to every candidate (depth k) contained in transaction t[pos..len).
void count_candidates(const Trie& trie, std::int64_t node, const std::int32_t* t, std::size_t pos, std::size_t len,
                      std::size_t depth, std::size_t k, std::int64_t w, std::int64_t first_candidate,
                      std::vector<std::int64_t>& counts) {
  std::int64_t c = trie.child_begin[static_cast<std::size_t>(node)];
  const std::int64_t ce = trie.child_end[static_cast<std::size_t>(node)];
  if (c == ce || len - pos < k - depth) return;
  std::size_t j = pos;
  while (c < ce && j < len) {
    const std::int32_t ci = trie.item[static_cast<std::size_t>(c)];
    if (ci < t[j]) {
      ++c;
    } else if (ci > t[j]) {
      ++j;
    } else {
      if (depth + 1 == k)
        counts[static_cast<std::size_t>(c - first_candidate)] += w;
      else
        count_candidates(trie, c, t, j + 1, len, depth + 1, k, w, first_candidate, counts);
      ++c;
      ++j;
    }
  }
}


/// Mines a prepared database level by level, counting in parallel over transactions.
std::vector<Sink> apriori_core(const detail::Prepared& prep, const ItemsetOptions& options, Budget& budget) {
  const std::int32_t n_freq = prep.n_frequent();
  const int threads = detail::mining_threads(options.n_threads, static_cast<std::int64_t>(prep.items.size()));
  Trie trie;
  trie.add(-1, -1);
  for (std::int32_t r = 0; r < n_freq; ++r) trie.count[static_cast<std::size_t>(trie.add(r, 0))] = prep.support[static_cast<std::size_t>(r)];
  trie.child_begin[0] = 1;
  trie.child_end[0] = 1 + n_freq;
  budget.charge(n_freq, n_freq * 20, kCaller);

  std::int64_t level_begin = 1, level_end = 1 + n_freq;
  std::vector<std::int32_t> path, sub;
  for (std::size_t k = 2; options.max_len == 0 || k <= static_cast<std::size_t>(options.max_len); ++k) {
    // Join siblings a < b of level k-1 into candidate a + item(b); prune by the other subsets.
    const std::int64_t cand_begin = static_cast<std::int64_t>(trie.item.size());
    for (std::int64_t a = level_begin; a < level_end; ++a) {
      const std::int64_t par = trie.parent[static_cast<std::size_t>(a)];
      const std::int64_t sib_end = trie.child_end[static_cast<std::size_t>(par)];
      path.clear();
      for (std::int64_t x = a; x > 0; x = trie.parent[static_cast<std::size_t>(x)]) path.push_back(trie.item[static_cast<std::size_t>(x)]);
      std::reverse(path.begin(), path.end());
      trie.child_begin[static_cast<std::size_t>(a)] = static_cast<std::int64_t>(trie.item.size());
      for (std::int64_t b = a + 1; b < sib_end; ++b) {
        const std::int32_t ib = trie.item[static_cast<std::size_t>(b)];
        bool ok = true;
        for (std::size_t drop = 0; ok && drop + 2 < k; ++drop) {
          std::int64_t node = 0;
          for (std::size_t j = 0; j < path.size() && node >= 0; ++j)
            if (j != drop) node = trie.find_child(node, path[j]);
          if (node >= 0) node = trie.find_child(node, ib);
          ok = node >= 0;
        }
        if (ok) trie.add(ib, static_cast<std::int32_t>(a));
      }
      trie.child_end[static_cast<std::size_t>(a)] = static_cast<std::int64_t>(trie.item.size());
    }
    const std::int64_t n_cand = static_cast<std::int64_t>(trie.item.size()) - cand_begin;
    if (n_cand == 0) break;
    budget.charge(0, n_cand * 32 * (threads + 1), kCaller);

    // Count: per-thread arrays summed in thread order (integers, so any order gives the same).
    std::vector<std::vector<std::int64_t>> partial(static_cast<std::size_t>(threads));
    const std::int64_t n_tr = prep.n_transactions();
#pragma omp parallel num_threads(threads)
    {
      auto& counts = partial[static_cast<std::size_t>(detail::thread_id())];
      counts.assign(static_cast<std::size_t>(n_cand), 0);
#pragma omp for schedule(dynamic, 256)
      for (std::int64_t t = 0; t < n_tr; ++t) {
        const auto b = static_cast<std::size_t>(prep.indptr[static_cast<std::size_t>(t)]);
        const auto e = static_cast<std::size_t>(prep.indptr[static_cast<std::size_t>(t) + 1]);
        if (e - b >= k)
          count_candidates(trie, 0, prep.items.data() + b, 0, e - b, 0, k, prep.weight[static_cast<std::size_t>(t)],
                           cand_begin, counts);
      }
    }
    for (const auto& p : partial)
      for (std::int64_t c = 0; c < n_cand; ++c) trie.count[static_cast<std::size_t>(cand_begin + c)] += p[static_cast<std::size_t>(c)];
    partial.clear();
    budget.release(n_cand * 32 * threads);

    // Keep the frequent candidates, compacting level k in place.
    std::int64_t w = cand_begin;
    for (std::int64_t a = level_begin; a < level_end; ++a) {
      const std::int64_t cb = trie.child_begin[static_cast<std::size_t>(a)];
      const std::int64_t ce = trie.child_end[static_cast<std::size_t>(a)];
      trie.child_begin[static_cast<std::size_t>(a)] = w;
      for (std::int64_t c = cb; c < ce; ++c) {
        if (trie.count[static_cast<std::size_t>(c)] < prep.min_count) continue;
        const auto uw = static_cast<std::size_t>(w), uc = static_cast<std::size_t>(c);
        trie.item[uw] = trie.item[uc];
        trie.parent[uw] = trie.parent[uc];
        trie.count[uw] = trie.count[uc];
        trie.child_begin[uw] = trie.child_end[uw] = 0;
        ++w;
      }
      trie.child_end[static_cast<std::size_t>(a)] = w;
    }
    for (auto* v : {&trie.child_begin, &trie.child_end, &trie.count}) v->resize(static_cast<std::size_t>(w));
    trie.item.resize(static_cast<std::size_t>(w));
    trie.parent.resize(static_cast<std::size_t>(w));
    budget.charge(w - cand_begin, 0, kCaller);
    level_begin = cand_begin;
    level_end = w;
    if (level_end == level_begin) break;
  }

  std::vector<Sink> sinks(1);
  Sink& sink = sinks[0];
  std::vector<std::int32_t> buf;
  for (std::size_t node = 1; node < trie.item.size(); ++node) {
    buf.clear();
    for (std::int64_t x = static_cast<std::int64_t>(node); x > 0; x = trie.parent[static_cast<std::size_t>(x)])
      buf.push_back(trie.item[static_cast<std::size_t>(x)]);
    sink.emit(buf.data(), static_cast<std::int32_t>(buf.size()), trie.count[node]);
  }
  return sinks;
}

}  // namespace

Itemsets apriori(const BasketView& baskets, const ItemsetOptions& options) {
  return detail::mine_with(baskets, options, &apriori_core, kCaller);
}

}  // namespace crmine
