// SPDX-License-Identifier: Apache-2.0
// Apriori (Agrawal & Srikant 1994): level-wise candidates counted against a prefix trie.
#pragma once

#include <crmine/rules/itemsets.hpp>

namespace crmine {

/// Apriori (Agrawal & Srikant 1994): level-wise candidates counted against a prefix trie; parallel over the first-level items. Ignores options.algorithm and options.kind.
Itemsets apriori(const BasketView& baskets, const ItemsetOptions& options);

}  // namespace crmine
