// SPDX-License-Identifier: Apache-2.0
// Eclat (Zaki 2000): tidset intersections at the first level, diffsets (dEclat) below.
#pragma once

#include <crmine/rules/itemsets.hpp>

namespace crmine {

/// Eclat (Zaki 2000): tidset intersections at the first level, diffsets (dEclat) below; parallel over the first-level items. Ignores options.algorithm and options.kind.
Itemsets eclat(const BasketView& baskets, const ItemsetOptions& options);

}  // namespace crmine
