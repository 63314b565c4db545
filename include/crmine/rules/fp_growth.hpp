// SPDX-License-Identifier: Apache-2.0
// FP-Growth (Han, Pei & Yin 2000) on an array FP-tree with items recoded by descending support.
#pragma once

#include <crmine/rules/itemsets.hpp>

namespace crmine {

/// FP-Growth (Han, Pei & Yin 2000) on an array FP-tree with items recoded by descending support; parallel over the first-level items. Ignores options.algorithm and options.kind.
Itemsets fp_growth(const BasketView& baskets, const ItemsetOptions& options);

}  // namespace crmine
