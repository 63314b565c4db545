// SPDX-License-Identifier: Apache-2.0
// Association rules with item constraints pushed into mining: the itemsets holding a
// constraint item come from their conditional databases; the supports of the rule sides without
// one are counted in a single pass over the prepared baskets through a trie.
#include "mining.hpp"

#include <crmine/core/parallel.hpp>
#include <crmine/rules/association_rules.hpp>

#include <algorithm>
#include <bit>
#include <numeric>

namespace crmine {
namespace {

constexpr const char* kCaller = "mine_rules";

/// Itemsets to count, as a trie over keys ascending (the rarest item first, so a transaction's
/// walk leaves the trie early). Children of a node are contiguous and ascending by key.
struct CountTrie {
  std::vector<std::int32_t> key;
  std::vector<std::int64_t> child_begin, child_end, target;  // target: the itemset ending here, or -1

  /// `sets` is CSR of ascending keys, sorted lexicographically and distinct.
  CountTrie(const std::vector<std::int64_t>& indptr, const std::vector<std::int32_t>& keys) {
    struct Range {
      std::int64_t node, lo, hi;
      std::size_t depth;
    };
    auto len = [&](std::int64_t s) {
      return static_cast<std::size_t>(indptr[static_cast<std::size_t>(s) + 1] - indptr[static_cast<std::size_t>(s)]);
    };
    auto at = [&](std::int64_t s, std::size_t d) { return keys[static_cast<std::size_t>(indptr[static_cast<std::size_t>(s)]) + d]; };
    add(-1);
    std::vector<Range> queue{{0, 0, static_cast<std::int64_t>(indptr.size()) - 1, 0}};
    for (std::size_t q = 0; q < queue.size(); ++q) {
      auto [node, lo, hi, depth] = queue[q];
      if (lo < hi && len(lo) == depth) target[static_cast<std::size_t>(node)] = lo++;
      child_begin[static_cast<std::size_t>(node)] = static_cast<std::int64_t>(key.size());
      while (lo < hi) {
        std::int64_t e = lo + 1;
        while (e < hi && at(e, depth) == at(lo, depth)) ++e;
        queue.push_back({add(at(lo, depth)), lo, e, depth + 1});
        lo = e;
      }
      child_end[static_cast<std::size_t>(node)] = static_cast<std::int64_t>(key.size());
    }
  }

  std::int64_t add(std::int32_t k) {
    key.push_back(k);
    child_begin.push_back(0);
    child_end.push_back(0);
    target.push_back(-1);
    return static_cast<std::int64_t>(key.size()) - 1;
  }

  /// Adds w to the count of every itemset below `node` contained in t[pos..len) (ascending keys).
  void walk(std::int64_t node, const std::int32_t* t, std::size_t pos, std::size_t len, std::int64_t w,
            std::vector<std::int64_t>& counts) const {
    std::int64_t c = child_begin[static_cast<std::size_t>(node)];
    const std::int64_t ce = child_end[static_cast<std::size_t>(node)];
    std::size_t j = pos;
    while (c < ce && j < len) {
      const std::int32_t k = key[static_cast<std::size_t>(c)];
      if (k < t[j]) {
        ++c;
      } else if (k > t[j]) {
        ++j;
      } else {
        const auto uc = static_cast<std::size_t>(c);
        if (target[uc] >= 0) counts[static_cast<std::size_t>(target[uc])] += w;
        if (child_begin[uc] != child_end[uc]) walk(c, t, j + 1, len, w, counts);
        ++c;
        ++j;
      }
    }
  }
};

/// The basket counts of itemsets (CSR of dense items, each frequent) over a prepared database.
std::vector<std::int64_t> count_itemsets(const detail::Prepared& prep, std::int32_t n_items,
                                         const std::vector<std::int64_t>& indptr, const std::vector<std::int32_t>& items,
                                         int n_threads) {
  const std::int32_t n_freq = prep.n_frequent();
  std::vector<std::int32_t> key_of(static_cast<std::size_t>(n_items), -1);
  for (std::int32_t r = 0; r < n_freq; ++r) key_of[static_cast<std::size_t>(prep.rank_to_item[static_cast<std::size_t>(r)])] = n_freq - 1 - r;
  const auto n = static_cast<std::int64_t>(indptr.size()) - 1;
  std::vector<std::int32_t> keys(items.size());
  for (std::size_t k = 0; k < items.size(); ++k) keys[k] = key_of[static_cast<std::size_t>(items[k])];
  for (std::int64_t s = 0; s < n; ++s)
    std::sort(keys.begin() + indptr[static_cast<std::size_t>(s)], keys.begin() + indptr[static_cast<std::size_t>(s) + 1]);
  std::vector<std::int64_t> order(static_cast<std::size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  auto span_of = [&](std::int64_t s) {
    return std::span<const std::int32_t>(keys.data() + indptr[static_cast<std::size_t>(s)],
                                         static_cast<std::size_t>(indptr[static_cast<std::size_t>(s) + 1] - indptr[static_cast<std::size_t>(s)]));
  };
  std::sort(order.begin(), order.end(), [&](std::int64_t a, std::int64_t b) {
    const auto x = span_of(a), y = span_of(b);
    return std::lexicographical_compare(x.begin(), x.end(), y.begin(), y.end());
  });
  std::vector<std::int64_t> sorted_ptr{0};
  std::vector<std::int32_t> sorted_keys;
  for (const std::int64_t s : order) {
    const auto x = span_of(s);
    sorted_keys.insert(sorted_keys.end(), x.begin(), x.end());
    sorted_ptr.push_back(static_cast<std::int64_t>(sorted_keys.size()));
  }
  const CountTrie trie(sorted_ptr, sorted_keys);

  const int threads = detail::mining_threads(n_threads, static_cast<std::int64_t>(prep.items.size()));
  std::vector<std::vector<std::int64_t>> partial(static_cast<std::size_t>(threads));
#pragma omp parallel num_threads(threads)
  {
    auto& counts = partial[static_cast<std::size_t>(detail::thread_id())];
    counts.assign(static_cast<std::size_t>(n), 0);
    std::vector<std::int32_t> t;
#pragma omp for schedule(dynamic, 256)
    for (std::int64_t x = 0; x < prep.n_transactions(); ++x) {
      // Ranks ascend within a transaction, so keys (n_freq - 1 - rank) ascend read backwards.
      t.clear();
      for (std::int64_t k = prep.indptr[static_cast<std::size_t>(x) + 1] - 1; k >= prep.indptr[static_cast<std::size_t>(x)]; --k)
        t.push_back(n_freq - 1 - prep.items[static_cast<std::size_t>(k)]);
      trie.walk(0, t.data(), 0, t.size(), prep.weight[static_cast<std::size_t>(x)], counts);
    }
  }
  std::vector<std::int64_t> out(static_cast<std::size_t>(n), 0);
  for (const auto& p : partial)
    for (std::size_t k = 0; k < out.size(); ++k) out[static_cast<std::size_t>(order[k])] += p[k];
  return out;
}

}  // namespace

Rules mine_rules(const BasketView& baskets, const ItemsetOptions& itemset_options, const RuleOptions& options) {
  if (itemset_options.kind != ItemsetKind::all)
    detail::throw_invalid(kCaller, "kind", "rules need all frequent itemsets, not closed or maximal ones");
  for (const auto* list : {&options.consequent_items, &options.antecedent_items})
    for (const std::int32_t it : *list)
      if (it < 0 || it >= baskets.n_items)
        detail::throw_invalid(kCaller, list == &options.consequent_items ? "consequent_items" : "antecedent_items", "item id ",
                              it, " is not in [0, n_items=", baskets.n_items, ")");
  ItemsetOptions o = itemset_options;
  o.contains = !options.consequent_items.empty() ? options.consequent_items : options.antecedent_items;
  const Itemsets found = frequent_itemsets(baskets, o);
  if (o.contains.empty()) return association_rules(found, options);

  // Every side of a rule is a subset of a found itemset; those holding a constraint item were
  // found too, the others (subsets of X minus the constraint items, never among the found) are
  // counted here.
  std::vector<char> constrained(static_cast<std::size_t>(baskets.n_items), 0);
  for (const std::int32_t it : o.contains) constrained[static_cast<std::size_t>(it)] = 1;
  // The side holding the constraint items ("moved" side) takes all of X's constraint items plus
  // R, a subset of the others F; the other side is F \ R. Only the sizes the length limits allow
  // are counted: with one-item consequents that is F itself, one set per itemset.
  const bool by_consequent = !options.consequent_items.empty();
  const int move_limit = by_consequent ? options.max_consequent_len : options.max_antecedent_len;
  const int keep_limit = by_consequent ? options.max_antecedent_len : options.max_consequent_len;
  std::vector<std::int64_t> cand_ptr{0};
  std::vector<std::int32_t> cand, free_items, sub;
  for (std::int64_t s = 0; s < found.size(); ++s) {
    free_items.clear();
    for (const std::int32_t it : found.itemset(s))
      if (!constrained[static_cast<std::size_t>(it)]) free_items.push_back(it);
    if (free_items.empty() || free_items.size() > 62) continue;  // rules cap itemsets at 63 items
    const int m = static_cast<int>(free_items.size());
    const int k = static_cast<int>(found.itemset(s).size()) - m;
    const int max_moved = move_limit > 0 ? move_limit - k : m;
    if (max_moved < 0) continue;
    const std::uint64_t full = (std::uint64_t{1} << free_items.size()) - 1;
    for (std::uint64_t mask = 1; mask <= full; ++mask) {
      const int kept = std::popcount(mask);
      if (m - kept > max_moved || (keep_limit > 0 && kept > keep_limit)) continue;
      sub.clear();
      for (std::size_t j = 0; j < free_items.size(); ++j)
        if ((mask >> j) & 1u) sub.push_back(free_items[j]);
      cand.insert(cand.end(), sub.begin(), sub.end());
      cand_ptr.push_back(static_cast<std::int64_t>(cand.size()));
    }
  }
  // Distinct candidates, in first-seen order.
  std::vector<std::int64_t> miss_ptr{0};
  std::vector<std::int32_t> miss;
  {
    const detail::ItemsetTable seen(cand_ptr, cand);
    const auto n_cand = static_cast<std::int64_t>(cand_ptr.size()) - 1;
    for (std::int64_t c = 0; c < n_cand; ++c) {
      const std::span<const std::int32_t> x(cand.data() + cand_ptr[static_cast<std::size_t>(c)],
                                            static_cast<std::size_t>(cand_ptr[static_cast<std::size_t>(c) + 1] - cand_ptr[static_cast<std::size_t>(c)]));
      if (seen.find(x) != c) continue;  // a repeat: find returns the first equal candidate
      miss.insert(miss.end(), x.begin(), x.end());
      miss_ptr.push_back(static_cast<std::int64_t>(miss.size()));
    }
  }
  cand = {};
  cand_ptr = {};
  const detail::Prepared prep = detail::prepare(baskets, o, kCaller);
  const std::vector<std::int64_t> miss_count = count_itemsets(prep, baskets.n_items, miss_ptr, miss, options.n_threads);

  Itemsets all = found;
  for (std::size_t m = 0; m + 1 < miss_ptr.size(); ++m) {
    all.items.insert(all.items.end(), miss.begin() + miss_ptr[m], miss.begin() + miss_ptr[m + 1]);
    all.indptr.push_back(static_cast<std::int64_t>(all.items.size()));
    all.count.push_back(miss_count[m]);
  }
  return association_rules(all, options);
}

}  // namespace crmine
