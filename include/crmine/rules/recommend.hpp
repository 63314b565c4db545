// SPDX-License-Identifier: Apache-2.0
// Basket recommendations from association rules: the best items a basket does not hold yet,
// each with the rule that justifies it.
#pragma once

#include <crmine/rules/association_rules.hpp>
#include <crmine/rules/baskets.hpp>

#include <cstdint>
#include <iosfwd>
#include <vector>

namespace crmine {

/// Top-k recommendations per query basket, k slots per query padded with item -1.
struct Recommendations {
  std::int64_t n_queries = 0;
  int k = 0;
  std::vector<std::int32_t> item;   ///< n_queries x k, best first
  std::vector<double> score;        ///< metric value of the justifying rule
  std::vector<std::int64_t> rule;   ///< index of the justifying rule in the recommender's rules
};

/// Scores items for a basket by the best rule whose antecedent the basket holds and whose
/// consequent brings the item; items already in the basket are never recommended.
class Recommender {
 public:
  /// Takes the rules (any metric filter already applied) and the metric that ranks them.
  Recommender(Rules rules, std::int32_t n_items, RuleMetric metric = RuleMetric::confidence);

  /// Top-k items for every basket of `queries` (items in [0, n_items)); parallel over queries.
  /// Ties are broken by the smaller rule index, then the smaller item id.
  Recommendations recommend(const BasketView& queries, int k, int n_threads = 0) const;

  const Rules& rules() const { return rules_; }
  std::int32_t n_items() const { return n_items_; }
  RuleMetric metric() const { return metric_; }

  /// Writes the rules, item count and metric in the versioned model format (tag "RREC").
  void save(std::ostream& out) const;
  /// Reads a record written by save; ModelFormatError when the bytes are corrupt or the rules
  /// are inconsistent (offsets, item ids, metric).
  static Recommender load(std::istream& in);

 private:
  Rules rules_;
  std::int32_t n_items_;
  RuleMetric metric_;
  std::vector<std::int64_t> by_item_indptr_;  // rules indexed by their smallest antecedent item
  std::vector<std::int64_t> by_item_rules_;
};

}  // namespace crmine
