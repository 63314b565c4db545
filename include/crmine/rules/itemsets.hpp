// SPDX-License-Identifier: Apache-2.0
// Frequent itemsets: options, result and the algorithm-independent entry point.
#pragma once

#include <crmine/rules/baskets.hpp>

#include <cstdint>
#include <limits>
#include <span>
#include <vector>

namespace crmine {

/// The frequent-itemset miner. All three return the same itemsets with the same counts.
enum class ItemsetAlgorithm {
  fp_growth,  ///< Han, Pei & Yin (2000), compact array FP-tree; the default and usually fastest
  eclat,      ///< Zaki (2000) vertical mining with tidsets at the top and diffsets below
  apriori     ///< Agrawal & Srikant (1994) level-wise candidates counted with a prefix trie
};

/// Which frequent itemsets to return.
enum class ItemsetKind {
  all,     ///< every frequent itemset
  closed,  ///< those with no proper superset of the same support
  maximal  ///< those with no frequent proper superset (within max_len)
};

/// Hyperparameters of frequent-itemset mining. Names follow mlxtend.
struct ItemsetOptions {
  /// Minimum support as a fraction of baskets in (0, 1]: an itemset is frequent when
  /// count / n_baskets >= min_support, i.e. count >= ceil(min_support * n_baskets).
  double min_support = 0.5;
  /// Minimum support as a basket count (>= 1); when > 0 it replaces min_support.
  std::int64_t min_count = 0;
  /// Longest itemset returned (>= 1); 0 = no limit.
  int max_len = 0;
  ItemsetAlgorithm algorithm = ItemsetAlgorithm::fp_growth;  ///< miner to use
  ItemsetKind kind = ItemsetKind::all;                       ///< all, closed or maximal itemsets
  /// When non-empty, only the itemsets holding at least one of these dense item ids ("who buys
  /// what with product P"). Pushed into mining: only the conditional databases of these items
  /// (the baskets holding them) are mined, so this is far cheaper than mining everything and
  /// filtering, with the same result; supports stay relative to all baskets.
  std::vector<std::int32_t> contains;
  /// Stop with LimitExceeded once more than this many itemsets are found; 0 = no limit.
  std::int64_t max_itemsets = 0;
  /// Stop with LimitExceeded once result and working memory would exceed this many bytes;
  /// 0 = no limit.
  std::int64_t max_memory = 0;
  int n_threads = 0;  ///< 0 = all cores; the result is identical for every thread count
};

/// Frequent itemsets in CSR form: itemset s holds items[indptr[s] .. indptr[s+1]), ascending
/// dense item ids, with its basket count. The order of itemsets is fixed for a given algorithm
/// and input (independent of the thread count); `sort()` gives the canonical order.
struct Itemsets {
  std::vector<std::int64_t> indptr{0};
  std::vector<std::int32_t> items;
  std::vector<std::int64_t> count;  ///< number of baskets containing the itemset
  std::int64_t n_baskets = 0;       ///< support denominator
  std::int64_t min_count = 0;       ///< the count threshold that was applied
  std::int64_t peak_memory = 0;     ///< bytes of working memory and result at the peak (estimate)

  std::int64_t size() const { return static_cast<std::int64_t>(count.size()); }
  std::span<const std::int32_t> itemset(std::int64_t s) const {
    return {items.data() + indptr[s], static_cast<std::size_t>(indptr[s + 1] - indptr[s])};
  }
  double support(std::int64_t s) const { return static_cast<double>(count[s]) / static_cast<double>(n_baskets); }
  /// Reorders into the canonical order: by length, then lexicographically by items.
  void sort();
};

/// The smallest count c with c / n_baskets >= min_support (so ceil(min_support * n_baskets)
/// without floating-point surprises). Throws InvalidArgument for min_support outside (0, 1].
std::int64_t min_count_for(double min_support, std::int64_t n_baskets);

/// Checks options against a basket count; throws InvalidArgument naming the field.
void validate(const ItemsetOptions& options, std::int64_t n_baskets, const char* caller);

/// Mines frequent itemsets with options.algorithm (only those holding one of options.contains
/// when given), then keeps closed or maximal ones if asked. Closed and maximal are judged among
/// all frequent itemsets: a superset of an itemset holding a wanted item holds it too.
Itemsets frequent_itemsets(const BasketView& baskets, const ItemsetOptions& options);

/// Keeps the closed or maximal itemsets of a complete (downward-closed) result.
Itemsets filter_itemsets(const Itemsets& itemsets, ItemsetKind kind);

}  // namespace crmine
