// SPDX-License-Identifier: Apache-2.0
// The product affinity graph: products as vertices, lift as edge weight; components as
// candidate bundles, PageRank and betweenness to find the products that drive cross-sell.
#pragma once

#include <crmine/rules/itemsets.hpp>

#include <cstdint>
#include <iosfwd>
#include <span>
#include <string>
#include <vector>

namespace crmine {

/// Options of affinity_graph.
struct AffinityOptions {
  double min_lift = 1.0;   ///< keep item pairs with lift >= min_lift (> 0)
  double damping = 0.85;   ///< PageRank damping factor in (0, 1)
  int max_iter = 200;      ///< PageRank power iterations at most
  double tol = 1e-12;      ///< PageRank stops when the L1 change is below this
};

/// An undirected weighted graph over items, with its analysis.
struct AffinityGraph {
  std::vector<std::int32_t> vertex_item;  ///< vertex -> dense item id, ascending
  std::vector<std::int32_t> source, target;  ///< edge endpoints as vertex indices, source < target
  std::vector<double> lift;                  ///< edge weight
  std::vector<double> support;               ///< support of the item pair
  std::vector<std::int32_t> component;       ///< vertex -> connected component, numbered by smallest vertex
  std::vector<double> pagerank;              ///< lift-weighted PageRank, sums to 1
  std::vector<double> betweenness;           ///< Brandes betweenness (unweighted), normalised to [0, 1]
  std::int32_t n_components = 0;

  std::int32_t n_vertices() const { return static_cast<std::int32_t>(vertex_item.size()); }
  std::int64_t n_edges() const { return static_cast<std::int64_t>(lift.size()); }
  /// Writes "source<TAB>target<TAB>lift<TAB>support" lines using `labels[item]` as names
  /// (item ids when labels is empty).
  void write_edge_list(std::ostream& out, std::span<const std::string> labels = {}) const;
  /// Writes GraphML with vertex attributes label, component, pagerank, betweenness and edge
  /// attributes lift and support.
  void write_graphml(std::ostream& out, std::span<const std::string> labels = {}) const;
};

/// Builds the graph from item pairs (a[k], b[k]) with their lift and support.
AffinityGraph affinity_graph(std::span<const std::int32_t> a, std::span<const std::int32_t> b,
                             std::span<const double> lift, std::span<const double> support,
                             const AffinityOptions& options = {});

/// Builds the graph from the 2-itemsets of a mining result (lift from the 1-itemset counts).
AffinityGraph affinity_graph(const Itemsets& itemsets, const AffinityOptions& options = {});

}  // namespace crmine
