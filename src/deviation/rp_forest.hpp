// SPDX-License-Identifier: Apache-2.0
// Approximate k-nearest-neighbour candidates for LocalOutlierFactor: a random-projection forest.
#pragma once

#include <crmine/core/matrix.hpp>
#include <crmine/core/random.hpp>

#include "../cluster/common.hpp"  // for_each_block, squared_distance

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numbers>
#include <utility>
#include <vector>

namespace crmine::detail {

/// A forest of random-projection trees (Dasgupta & Freund 2008; the candidate stage of Annoy and
/// PyNNDescent): each node splits its rows at the median of their projection on a Gaussian random
/// direction, down to leaves of at most `leaf_rows` rows. Rows close to each other tend to share a
/// leaf in several trees, so the union of a query's leaves is a small candidate set that holds most
/// of its true neighbours. Tree t draws from Random(seed, t) alone, so the forest (and every
/// neighbour list derived from it) is the same at any thread count.
class RpForest {
 public:
  RpForest(MatrixRef X, int n_trees, int leaf_rows, std::uint64_t seed, int n_threads) : d_(X.cols()), trees_(static_cast<std::size_t>(n_trees)) {
    for_each_block(n_trees, 1, n_threads, [&](Eigen::Index t, Eigen::Index, Eigen::Index) {
      build_tree(X, trees_[static_cast<std::size_t>(t)], leaf_rows, Random(seed, static_cast<std::uint64_t>(t)));
    });
  }

  /// Appends the rows sharing a leaf with training row `row` in any tree (row itself included,
  /// duplicates across trees not removed).
  void training_candidates(Eigen::Index row, std::vector<int>& out) const {
    for (const Tree& tree : trees_) append_leaf(tree, tree.leaf_of[static_cast<std::size_t>(row)], out);
  }

  /// Appends the rows of the leaf a new point q falls into, in every tree.
  void query_candidates(const double* q, std::vector<int>& out) const {
    for (const Tree& tree : trees_) {
      int id = 0;
      while (tree.nodes[static_cast<std::size_t>(id)].left >= 0) {
        const Node& node = tree.nodes[static_cast<std::size_t>(id)];
        const double* dir = tree.directions.data() + static_cast<std::size_t>(node.direction) * static_cast<std::size_t>(d_);
        double p = 0;
        for (Eigen::Index f = 0; f < d_; ++f) p += q[f] * dir[f];
        id = p < node.threshold ? node.left : node.right;
      }
      append_leaf(tree, id, out);
    }
  }

 private:
  struct Node {
    int begin, end, left, right;  // left < 0: a leaf holding order[begin, end)
    int direction;                // index of the split direction (internal nodes)
    double threshold;             // projection < threshold: left
  };
  struct Tree {
    std::vector<int> order;     // row ids, each leaf's rows contiguous
    std::vector<int> leaf_of;   // leaf node of each training row
    std::vector<Node> nodes;
    std::vector<double> directions;  // one d-vector per internal node
  };

  static void append_leaf(const Tree& tree, int leaf, std::vector<int>& out) {
    const Node& node = tree.nodes[static_cast<std::size_t>(leaf)];
    out.insert(out.end(), tree.order.begin() + node.begin, tree.order.begin() + node.end);
  }

  void build_tree(MatrixRef X, Tree& tree, int leaf_rows, Random rng) const {
    const int n = static_cast<int>(X.rows());
    tree.order.resize(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) tree.order[static_cast<std::size_t>(i)] = i;
    tree.leaf_of.assign(static_cast<std::size_t>(n), -1);
    std::vector<std::pair<double, int>> proj;
    std::vector<double> dir(static_cast<std::size_t>(d_));
    // Explicit stack instead of recursion: depth is only log2(n / leaf_rows), but this keeps the
    // node numbering independent of anything but the draws.
    std::vector<int> pending{0};
    tree.nodes.push_back({0, n, -1, -1, -1, 0.0});
    while (!pending.empty()) {
      const int id = pending.back();
      pending.pop_back();
      const int begin = tree.nodes[static_cast<std::size_t>(id)].begin, end = tree.nodes[static_cast<std::size_t>(id)].end;
      if (end - begin > leaf_rows) {
        for (auto& g : dir) g = gaussian(rng);
        proj.resize(static_cast<std::size_t>(end - begin));
        for (int p = begin; p < end; ++p) {
          const int row = tree.order[static_cast<std::size_t>(p)];
          double s = 0;
          for (Eigen::Index f = 0; f < d_; ++f) s += X(row, f) * dir[static_cast<std::size_t>(f)];
          proj[static_cast<std::size_t>(p - begin)] = {s, row};
        }
        const auto [lo, hi] = std::minmax_element(proj.begin(), proj.end());
        if (lo->first < hi->first) {  // otherwise every row projects alike (duplicates): keep a leaf
          const auto mid = proj.begin() + (end - begin) / 2;
          std::nth_element(proj.begin(), mid, proj.end());
          for (int p = begin; p < end; ++p) tree.order[static_cast<std::size_t>(p)] = proj[static_cast<std::size_t>(p - begin)].second;
          const int split = begin + (end - begin) / 2;
          Node& node = tree.nodes[static_cast<std::size_t>(id)];
          node.threshold = mid->first;
          node.direction = static_cast<int>(tree.directions.size() / static_cast<std::size_t>(d_));
          tree.directions.insert(tree.directions.end(), dir.begin(), dir.end());
          const int left = static_cast<int>(tree.nodes.size());
          tree.nodes[static_cast<std::size_t>(id)].left = left;
          tree.nodes[static_cast<std::size_t>(id)].right = left + 1;
          tree.nodes.push_back({begin, split, -1, -1, -1, 0.0});
          tree.nodes.push_back({split, end, -1, -1, -1, 0.0});
          pending.push_back(left + 1);
          pending.push_back(left);
          continue;
        }
      }
      for (int p = begin; p < end; ++p) tree.leaf_of[static_cast<std::size_t>(tree.order[static_cast<std::size_t>(p)])] = id;
    }
  }

  /// Standard normal by Box-Muller from our own uniform draws (std distributions are not portable).
  static double gaussian(Random& rng) {
    const double u1 = 1.0 - rng.uniform(), u2 = rng.uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
  }

  Eigen::Index d_;
  std::vector<Tree> trees_;
};

}  // namespace crmine::detail
