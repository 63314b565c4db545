// SPDX-License-Identifier: Apache-2.0
// QuickScorer-style ensemble scoring: per-tree leaf bitvectors, split nodes tested on blocks of 32 rows.
#include "forest_scorer.hpp"

#include <crmine/core/parallel.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>

namespace crmine::detail {
namespace {

// GCC/Clang vector extensions: AVX2 registers where the target has them, narrower ones elsewhere.
using V4d = double __attribute__((vector_size(32)));
using V4i = std::int64_t __attribute__((vector_size(32)));
constexpr int kLanes = 4;
constexpr int kVecs = 8;
constexpr Eigen::Index kRows = kLanes * kVecs;  // rows scored together
constexpr int kMaxLeaves = 64;

/// In-order numbering of the leaves below node k; every split records the leaves of its left subtree.
/// Returns false when the tree has more than 64 leaves or is deeper than such a tree can be.
template <typename OnSplit>
bool number_leaves(const std::vector<TreeNode>& nodes, std::int32_t k, int depth, std::vector<double>& leaves, int& n_leaves,
                   OnSplit&& on_split) {
  if (depth > kMaxLeaves || k < 0 || static_cast<std::size_t>(k) >= nodes.size()) return false;
  const TreeNode& t = nodes[static_cast<std::size_t>(k)];
  if (t.feature < 0) {
    if (n_leaves == kMaxLeaves) return false;
    leaves.push_back(t.value);
    ++n_leaves;
    return true;
  }
  const int lo = n_leaves;
  if (!number_leaves(nodes, t.left, depth + 1, leaves, n_leaves, on_split)) return false;
  const int width = n_leaves - lo;
  const std::uint64_t left = (width == 64 ? ~std::uint64_t{0} : ((std::uint64_t{1} << width) - 1)) << lo;
  on_split(t, ~left);
  return number_leaves(nodes, t.right, depth + 1, leaves, n_leaves, on_split);
}

}  // namespace

double walk_tree(const std::vector<TreeNode>& nodes, MatrixRef X, Eigen::Index i) {
  std::int32_t k = 0;
  for (;;) {
    const TreeNode& t = nodes[static_cast<std::size_t>(k)];
    if (t.feature < 0) return t.value;
    k = t.goes_left(X(i, t.feature)) ? t.left : t.right;
  }
}

ForestScorer::ForestScorer(const std::vector<std::vector<TreeNode>>& trees) : trees_(trees) {
  std::vector<Split> le, ml;
  std::vector<CategorySplit> cat;
  std::vector<double> leaves;
  for (const auto& tree : trees) {
    Plan plan;
    le.clear();
    ml.clear();
    cat.clear();
    leaves.clear();
    int n_leaves = 0;
    const bool ok = !tree.empty() && number_leaves(tree, 0, 0, leaves, n_leaves, [&](const TreeNode& t, std::uint64_t keep) {
      if (t.is_categorical()) {
        cat.push_back(CategorySplit{keep, t.feature, static_cast<std::int32_t>(category_words_.size()), static_cast<std::int32_t>(t.categories.size()),
                                    t.missing_left});
        category_words_.insert(category_words_.end(), t.categories.begin(), t.categories.end());
      } else {
        (t.missing_left ? ml : le).push_back(Split{t.threshold, keep, t.feature});
      }
    });
    if (!ok) {
      plan.walk = true;
      plans_.push_back(plan);
      continue;
    }
    plan.first_split = static_cast<std::int32_t>(splits_.size());
    plan.n_le = static_cast<std::int32_t>(le.size());
    plan.n_missing_left = static_cast<std::int32_t>(ml.size());
    plan.first_leaf = static_cast<std::int32_t>(leaf_values_.size());
    plan.first_category = static_cast<std::int32_t>(category_splits_.size());
    plan.n_category = static_cast<std::int32_t>(cat.size());
    category_splits_.insert(category_splits_.end(), cat.begin(), cat.end());
    splits_.insert(splits_.end(), le.begin(), le.end());
    splits_.insert(splits_.end(), ml.begin(), ml.end());
    leaf_values_.insert(leaf_values_.end(), leaves.begin(), leaves.end());
    plans_.push_back(plan);
  }
}

void ForestScorer::add(MatrixRef X, Eigen::Ref<Eigen::VectorXd> raw, int n_threads) const {
  const Eigen::Index n = X.rows(), p = X.cols();
  const Eigen::Index n_blocks = (n + kRows - 1) / kRows;
  ExceptionCollector errors;
#pragma omp parallel num_threads(resolve_threads(n_threads)) if (n > 4 * kRows)
  errors.run([&] {
    // Row r of the block is lane r % 4 of vector (j * 8 + r / 4) for feature j.
    std::vector<V4d> block(static_cast<std::size_t>(p) * kVecs);
    double* cell = reinterpret_cast<double*>(block.data());
#pragma omp for schedule(static)
    for (Eigen::Index b = 0; b < n_blocks; ++b) {
      const Eigen::Index i0 = b * kRows, rows = std::min(kRows, n - i0);
      for (Eigen::Index r = 0; r < rows; ++r) {
        const double* x = X.row(i0 + r).data();
        for (Eigen::Index j = 0; j < p; ++j) cell[j * kRows + r] = x[j];
      }
      for (Eigen::Index r = rows; r < kRows; ++r)
        for (Eigen::Index j = 0; j < p; ++j) cell[j * kRows + r] = 0.0;
      double* out = raw.data() + i0;
      for (std::size_t t = 0; t < plans_.size(); ++t) {
        const Plan& plan = plans_[t];
        if (plan.walk) {
          for (Eigen::Index r = 0; r < rows; ++r) out[r] += walk_tree(trees_[t], X, i0 + r);
          continue;
        }
        V4i reach[kVecs];
        for (auto& v : reach) v = V4i{} - 1;
        const Split* s = splits_.data() + plan.first_split;
        for (std::int32_t k = 0; k < plan.n_le; ++k, ++s) {
          const V4d* col = block.data() + static_cast<std::size_t>(s->feature) * kVecs;
          const V4d th = V4d{} + s->threshold;
          const V4i keep = V4i{} + static_cast<std::int64_t>(s->keep);
#pragma GCC unroll 8
          for (int q = 0; q < kVecs; ++q) reach[q] &= (col[q] <= th) | keep;
        }
        // NaN goes left here: "not greater" is true for it.
        for (std::int32_t k = 0; k < plan.n_missing_left; ++k, ++s) {
          const V4d* col = block.data() + static_cast<std::size_t>(s->feature) * kVecs;
          const V4d th = V4d{} + s->threshold;
          const V4i keep = V4i{} + static_cast<std::int64_t>(s->keep);
#pragma GCC unroll 8
          for (int q = 0; q < kVecs; ++q) reach[q] &= ~(col[q] > th) | keep;
        }
        std::uint64_t leaf[kRows];
        std::memcpy(leaf, reach, sizeof leaf);
        // Categorical splits test set membership row by row (row r is element r of `leaf`).
        const CategorySplit* cs = category_splits_.data() + plan.first_category;
        for (std::int32_t k = 0; k < plan.n_category; ++k, ++cs) {
          const double* col = cell + static_cast<std::size_t>(cs->feature) * kRows;
          const std::uint64_t* words = category_words_.data() + cs->first_word;
          for (Eigen::Index r = 0; r < kRows; ++r) {
            const double x = col[r];
            const bool left = std::isnan(x) ? cs->missing_left : TreeNode::category_goes_left(x, words, static_cast<std::size_t>(cs->n_words), cs->missing_left);
            if (!left) leaf[r] &= cs->keep;
          }
        }
        const double* value = leaf_values_.data() + plan.first_leaf;
        for (Eigen::Index r = 0; r < rows; ++r) out[r] += value[__builtin_ctzll(leaf[r])];
      }
    }
  });
  errors.rethrow();
}

}  // namespace crmine::detail
