// SPDX-License-Identifier: Apache-2.0
// Scoring additive tree ensembles on many rows: QuickScorer's leaf bitvectors over transposed row blocks.
#pragma once

#include <crmine/classify/tree.hpp>
#include <crmine/core/matrix.hpp>

#include <cstdint>
#include <vector>

namespace crmine::detail {

/// The leaf value a row lands in when it walks `nodes` on raw values (NaN follows missing_left).
double walk_tree(const std::vector<TreeNode>& nodes, MatrixRef X, Eigen::Index i);

/// Adds the leaf values of an ensemble of trees to per-row scores, bitwise as a row-by-row walk that
/// adds the trees in order would. Trees of at most 64 leaves are scored as in QuickScorer (Lucchese et
/// al. 2015): every row keeps a 64-bit set of the leaves it can still reach; each split node clears its
/// left subtree's leaves from the rows that go right, and the row's leaf is then the lowest bit left. A
/// node is tested on 32 rows at once from a block of rows transposed to feature-major order, with no
/// branch on the data, so the cost no longer depends on how deep or unbalanced the trees are. Larger
/// trees are walked.
class ForestScorer {
 public:
  explicit ForestScorer(const std::vector<std::vector<TreeNode>>& trees);

  /// raw[i] += the value of row i's leaf in every tree, tree 0 first. raw.size() == X.rows().
  void add(MatrixRef X, Eigen::Ref<Eigen::VectorXd> raw, int n_threads) const;

 private:
  struct Split {
    double threshold;
    std::uint64_t keep;  ///< the leaves a row going right can still reach
    std::int32_t feature;
  };
  struct CategorySplit {
    std::uint64_t keep;
    std::int32_t feature;
    std::int32_t first_word, n_words;  ///< the left set's bitset in category_words_
    bool missing_left;
  };
  struct Plan {
    std::int32_t first_split = 0, n_le = 0, n_missing_left = 0;  ///< splits [first, first + n_le) send NaN right
    std::int32_t first_leaf = 0;
    std::int32_t first_category = 0, n_category = 0;  ///< categorical splits, tested after the numeric ones
    bool walk = false;  ///< more than 64 leaves (or a malformed tree): walked row by row
  };
  const std::vector<std::vector<TreeNode>>& trees_;
  std::vector<Plan> plans_;
  std::vector<Split> splits_;
  std::vector<double> leaf_values_;
  std::vector<CategorySplit> category_splits_;
  std::vector<std::uint64_t> category_words_;
};

}  // namespace crmine::detail
