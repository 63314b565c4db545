// SPDX-License-Identifier: Apache-2.0
// The affinity graph on Boost.Graph (kept out of the public header): components, Brandes
// betweenness and GraphML export; PageRank by power iteration with lift weights.
#include <crmine/core/errors.hpp>
#include <crmine/rules/affinity_graph.hpp>

#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/betweenness_centrality.hpp>
#include <boost/graph/connected_components.hpp>
#include <boost/graph/graphml.hpp>
#include <boost/property_map/dynamic_property_map.hpp>
#include <boost/property_map/property_map.hpp>

#include <algorithm>
#include <cmath>
#include <map>
#include <ostream>

namespace crmine {
namespace {

constexpr const char* kCaller = "affinity_graph";
using Graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::undirectedS, boost::no_property,
                                    boost::property<boost::edge_index_t, std::size_t>>;

std::string name_of(std::int32_t item, std::span<const std::string> labels) {
  return labels.empty() ? std::to_string(item) : labels[static_cast<std::size_t>(item)];
}

Graph to_boost(const AffinityGraph& g) {
  Graph out(static_cast<std::size_t>(g.n_vertices()));
  for (std::int64_t e = 0; e < g.n_edges(); ++e)
    boost::add_edge(static_cast<std::size_t>(g.source[static_cast<std::size_t>(e)]), static_cast<std::size_t>(g.target[static_cast<std::size_t>(e)]),
                     static_cast<std::size_t>(e), out);
  return out;
}

}  // namespace

AffinityGraph affinity_graph(std::span<const std::int32_t> a, std::span<const std::int32_t> b, std::span<const double> lift,
                             std::span<const double> support, const AffinityOptions& o) {
  if (a.size() != b.size() || a.size() != lift.size() || a.size() != support.size())
    detail::throw_invalid(kCaller, "edges", "a, b, lift and support must have the same length");
  if (!(o.min_lift > 0.0)) detail::throw_invalid(kCaller, "min_lift", "must be > 0, got ", o.min_lift);
  if (!(o.damping > 0.0 && o.damping < 1.0)) detail::throw_invalid(kCaller, "damping", "must be in (0, 1), got ", o.damping);
  if (o.max_iter < 1) detail::throw_invalid(kCaller, "max_iter", "must be >= 1, got ", o.max_iter);
  // Keep edges above the threshold, one per unordered pair (the first seen), in pair order.
  std::map<std::pair<std::int32_t, std::int32_t>, std::pair<double, double>> edges;
  for (std::size_t k = 0; k < a.size(); ++k) {
    if (a[k] < 0 || b[k] < 0) detail::throw_invalid(kCaller, "edges", "edge ", k, " has a negative item id");
    if (a[k] == b[k]) detail::throw_invalid(kCaller, "edges", "edge ", k, " is a self-loop on item ", a[k]);
    if (!std::isfinite(lift[k]) || !(lift[k] >= o.min_lift)) continue;
    edges.emplace(std::minmax(a[k], b[k]), std::make_pair(lift[k], support[k]));
  }
  AffinityGraph g;
  for (const auto& [pair, w] : edges) {
    g.vertex_item.push_back(pair.first);
    g.vertex_item.push_back(pair.second);
  }
  std::sort(g.vertex_item.begin(), g.vertex_item.end());
  g.vertex_item.erase(std::unique(g.vertex_item.begin(), g.vertex_item.end()), g.vertex_item.end());
  const auto vertex = [&](std::int32_t item) {
    return static_cast<std::int32_t>(std::lower_bound(g.vertex_item.begin(), g.vertex_item.end(), item) - g.vertex_item.begin());
  };
  for (const auto& [pair, w] : edges) {
    g.source.push_back(vertex(pair.first));
    g.target.push_back(vertex(pair.second));
    g.lift.push_back(w.first);
    g.support.push_back(w.second);
  }
  const auto nv = static_cast<std::size_t>(g.n_vertices());
  if (nv == 0) return g;

  const Graph graph = to_boost(g);
  std::vector<int> comp(nv);
  const int n_raw = boost::connected_components(graph, comp.data());
  // Renumber components by their smallest vertex so numbering is canonical.
  std::vector<std::int32_t> renum(static_cast<std::size_t>(n_raw), -1);
  g.component.resize(nv);
  for (std::size_t v = 0; v < nv; ++v) {
    auto& r = renum[static_cast<std::size_t>(comp[v])];
    if (r < 0) r = g.n_components++;
    g.component[v] = r;
  }

  std::vector<double> centrality(nv, 0.0);
  boost::brandes_betweenness_centrality(
      graph, boost::centrality_map(boost::make_iterator_property_map(centrality.begin(), boost::get(boost::vertex_index, graph))));
  // Normalise by the number of unordered pairs of other vertices, (n-1)(n-2)/2: the share of
  // pairs whose shortest paths pass through v (networkx's normalised value).
  const double pairs = nv > 2 ? static_cast<double>((nv - 1) * (nv - 2)) / 2.0 : 1.0;
  g.betweenness.resize(nv);
  for (std::size_t v = 0; v < nv; ++v) g.betweenness[v] = centrality[v] / pairs;

  // PageRank with lift weights: every vertex has an edge, so there are no dangling vertices.
  std::vector<double> strength(nv, 0.0);
  for (std::int64_t e = 0; e < g.n_edges(); ++e) {
    strength[static_cast<std::size_t>(g.source[static_cast<std::size_t>(e)])] += g.lift[static_cast<std::size_t>(e)];
    strength[static_cast<std::size_t>(g.target[static_cast<std::size_t>(e)])] += g.lift[static_cast<std::size_t>(e)];
  }
  std::vector<double> pr(nv, 1.0 / static_cast<double>(nv)), next(nv);
  for (int it = 0; it < o.max_iter; ++it) {
    std::fill(next.begin(), next.end(), (1.0 - o.damping) / static_cast<double>(nv));
    for (std::int64_t e = 0; e < g.n_edges(); ++e) {
      const auto s = static_cast<std::size_t>(g.source[static_cast<std::size_t>(e)]);
      const auto t = static_cast<std::size_t>(g.target[static_cast<std::size_t>(e)]);
      const double w = g.lift[static_cast<std::size_t>(e)];
      next[t] += o.damping * pr[s] * w / strength[s];
      next[s] += o.damping * pr[t] * w / strength[t];
    }
    double change = 0.0;
    for (std::size_t v = 0; v < nv; ++v) change += std::abs(next[v] - pr[v]);
    pr.swap(next);
    if (change < o.tol) break;
  }
  g.pagerank = std::move(pr);
  return g;
}

AffinityGraph affinity_graph(const Itemsets& itemsets, const AffinityOptions& options) {
  std::map<std::int32_t, double> single;
  for (std::int64_t s = 0; s < itemsets.size(); ++s)
    if (itemsets.itemset(s).size() == 1) single[itemsets.itemset(s)[0]] = itemsets.support(s);
  std::vector<std::int32_t> a, b;
  std::vector<double> lift, support;
  for (std::int64_t s = 0; s < itemsets.size(); ++s) {
    const auto x = itemsets.itemset(s);
    if (x.size() != 2) continue;
    const double sab = itemsets.support(s);
    a.push_back(x[0]);
    b.push_back(x[1]);
    support.push_back(sab);
    lift.push_back(sab / (single.at(x[0]) * single.at(x[1])));
  }
  return affinity_graph(a, b, lift, support, options);
}

void AffinityGraph::write_edge_list(std::ostream& out, std::span<const std::string> labels) const {
  out.precision(17);
  for (std::int64_t e = 0; e < n_edges(); ++e) {
    const auto u = static_cast<std::size_t>(e);
    out << name_of(vertex_item[static_cast<std::size_t>(source[u])], labels) << '\t'
        << name_of(vertex_item[static_cast<std::size_t>(target[u])], labels) << '\t' << lift[u] << '\t' << support[u] << '\n';
  }
}

void AffinityGraph::write_graphml(std::ostream& out, std::span<const std::string> labels) const {
  Graph graph = to_boost(*this);
  std::vector<std::string> names(static_cast<std::size_t>(n_vertices()));
  for (std::size_t v = 0; v < names.size(); ++v) names[v] = name_of(vertex_item[v], labels);
  const auto vid = boost::get(boost::vertex_index, graph);
  boost::dynamic_properties dp;
  dp.property("label", boost::make_iterator_property_map(names.begin(), vid));
  std::vector<int> comp(component.begin(), component.end());
  dp.property("component", boost::make_iterator_property_map(comp.begin(), vid));
  std::vector<double> pr = pagerank, bt = betweenness;
  dp.property("pagerank", boost::make_iterator_property_map(pr.begin(), vid));
  dp.property("betweenness", boost::make_iterator_property_map(bt.begin(), vid));
  const auto eid = boost::get(boost::edge_index, graph);
  std::vector<double> lifts = lift, supports = support;
  dp.property("lift", boost::make_iterator_property_map(lifts.begin(), eid));
  dp.property("support", boost::make_iterator_property_map(supports.begin(), eid));
  boost::write_graphml(out, graph, dp, true);
}

}  // namespace crmine
