// SPDX-License-Identifier: Apache-2.0
// Cross-sell mining: baskets, frequent itemsets, association rules, recommendations,
// sequential patterns and the product affinity graph.
#pragma once

#include <crmine/rules/apriori.hpp>
#include <crmine/rules/baskets.hpp>
#include <crmine/rules/eclat.hpp>
#include <crmine/rules/fp_growth.hpp>
#include <crmine/rules/itemsets.hpp>
#include <crmine/rules/association_rules.hpp>
#include <crmine/rules/recommend.hpp>
#include <crmine/rules/affinity_graph.hpp>
#include <crmine/rules/sequences.hpp>
