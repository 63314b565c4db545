// SPDX-License-Identifier: Apache-2.0
// Association rules A -> C from frequent itemsets, with mlxtend's metrics, filters, top-k and
// item constraints.
#pragma once

#include <crmine/rules/itemsets.hpp>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace crmine {

/// A rule metric (Tan, Kumar & Srivastava 2004; Zhang's metric: Yan, Zhang & Zhang 2009).
enum class RuleMetric {
  support,             ///< s(A u C)
  confidence,          ///< s(A u C) / s(A)
  lift,                ///< confidence / s(C)
  leverage,            ///< s(A u C) - s(A) s(C)
  conviction,          ///< (1 - s(C)) / (1 - confidence); +inf when confidence == 1
  zhangs_metric,       ///< leverage / max(s(AC)(1 - s(A)), s(A)(s(C) - s(AC))); 0 when that is 0
  jaccard,             ///< s(A u C) / (s(A) + s(C) - s(A u C))
  antecedent_support,  ///< s(A)
  consequent_support   ///< s(C)
};

/// Parses mlxtend's metric names ("confidence", "zhangs_metric", "antecedent support", ...).
RuleMetric parse_rule_metric(const std::string& name);
/// mlxtend's name of a metric.
const char* rule_metric_name(RuleMetric metric);

/// Options of association_rules. Names follow mlxtend.
struct RuleOptions {
  RuleMetric metric = RuleMetric::confidence;  ///< metric that min_threshold and top_k apply to
  /// Keep rules with metric >= min_threshold, up to a relative 1e-12 so that ties by counts
  /// (confidence 4/5 against 0.8) are kept despite rounding of fractional supports.
  double min_threshold = 0.8;
  std::int64_t top_k = 0;                       ///< keep only the k best rules by metric; 0 = all
  /// When non-empty, the consequent must contain at least one of these items ("who buys P").
  std::vector<std::int32_t> consequent_items;
  /// When non-empty, the antecedent must contain at least one of these items.
  std::vector<std::int32_t> antecedent_items;
  int max_antecedent_len = 0;  ///< longest antecedent; 0 = no limit
  int max_consequent_len = 0;  ///< longest consequent (1 gives arules-style rules); 0 = no limit
  std::int64_t max_rules = 0;  ///< stop with LimitExceeded beyond this many rules; 0 = no limit
  int n_threads = 0;           ///< 0 = all cores; the result does not depend on it
};

/// Itemsets with fractional supports, e.g. from a DataFrame: items ascending within each.
struct ItemsetSupportView {
  std::span<const std::int64_t> indptr;
  std::span<const std::int32_t> items;
  std::span<const double> support;
  std::int64_t size() const { return static_cast<std::int64_t>(support.size()); }
};

/// Rules in CSR form (antecedents and consequents) with one array per metric.
struct Rules {
  std::vector<std::int64_t> antecedent_indptr{0}, consequent_indptr{0};
  std::vector<std::int32_t> antecedent_items, consequent_items;
  std::vector<double> antecedent_support, consequent_support, support, confidence, lift, leverage, conviction,
      zhangs_metric, jaccard;

  std::int64_t size() const { return static_cast<std::int64_t>(support.size()); }
  std::span<const std::int32_t> antecedent(std::int64_t r) const {
    return {antecedent_items.data() + antecedent_indptr[r], static_cast<std::size_t>(antecedent_indptr[r + 1] - antecedent_indptr[r])};
  }
  std::span<const std::int32_t> consequent(std::int64_t r) const {
    return {consequent_items.data() + consequent_indptr[r], static_cast<std::size_t>(consequent_indptr[r + 1] - consequent_indptr[r])};
  }
  /// The values of one metric, one per rule.
  const std::vector<double>& values(RuleMetric metric) const;
};

/// All rules A -> C with A, C non-empty, disjoint and A u C a given itemset, that pass the
/// options; in itemset order (then by antecedent bitmask), or best first when top_k > 0 (ties
/// by the itemset's items, then the antecedent bitmask, so the k kept never depend on the order
/// of the input).
/// Throws InvalidArgument when a needed subset is missing (the input is not downward closed).
Rules association_rules(const ItemsetSupportView& itemsets, const RuleOptions& options);

/// The same from a mining result (supports = count / n_baskets).
Rules association_rules(const Itemsets& itemsets, const RuleOptions& options);

/// Rules mined straight from baskets with the item constraints pushed into mining: with
/// rules.consequent_items (else rules.antecedent_items) only the itemsets holding one of those
/// items are mined (ItemsetOptions::contains, from their conditional databases), and the
/// supports of the other sides that lack them are counted in one pass over the baskets. The
/// rules equal association_rules(frequent_itemsets(baskets, itemsets), rules), in another
/// order (the same order with top_k). Without item constraints it is exactly that call.
/// itemsets.kind must be all; itemsets.contains is replaced by the constraint items.
Rules mine_rules(const BasketView& baskets, const ItemsetOptions& itemsets, const RuleOptions& rules);

}  // namespace crmine
