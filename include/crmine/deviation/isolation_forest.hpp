// SPDX-License-Identifier: Apache-2.0
// Isolation forest: anomalies are the rows that random axis-parallel splits isolate fastest.
#pragma once

#include <crmine/core/estimator.hpp>

#include <cstdint>
#include <iosfwd>
#include <vector>

namespace crmine {

/// Hyperparameters of IsolationForest; names and defaults are scikit-learn's.
struct IsolationForestOptions {
  int n_estimators = 100;                    ///< trees; >= 1
  std::int64_t max_samples = 0;              ///< rows drawn (without replacement) per tree; 0 = 'auto' = min(256, n); larger than n means n
  double max_features = 1.0;                 ///< share of features each tree may split on, (0, 1]; floor(share x d), at least 1
  double contamination = kAutoContamination; ///< expected outlier share in (0, 0.5]; 'auto' puts offset at -0.5 (Liu et al.)
  std::uint64_t seed = 1234;                 ///< same data + same seed => the same forest at any n_threads
  int n_threads = 0;                         ///< 0 = OpenMP default
};

/// Throws InvalidArgument naming the first invalid field.
void validate(const IsolationForestOptions& options);

/// Isolation forest (Liu, Ting & Zhou 2008, 2012). Each tree isolates a subsample with random
/// features and uniform random thresholds up to depth ceil(log2(max_samples)); the score of a row is
/// -2^(-E[h(x)] / c(max_samples)), h = edges to the leaf + c(leaf size), c(n) = 2 H(n-1) - 2(n-1)/n,
/// exactly scikit-learn's score_samples. Thresholds are float32 values, as in scikit-learn (which
/// splits a float32 copy of X): values that round to the same float32 are never split apart, and a
/// row value x (any double) goes left of threshold t when x <= t exactly. Trees are stored in one
/// flat node array and scored in blocks of rows against all trees, so scoring streams any number of
/// rows in bounded memory.
class IsolationForest final : public Detector {
 public:
  explicit IsolationForest(IsolationForestOptions options = {});

  IsolationForest& fit(MatrixRef X) override;
  Eigen::VectorXd score_samples(MatrixRef X) const override;
  double offset() const override;
  Eigen::Index n_features() const override { return n_features_; }
  bool is_fitted() const override { return fitted_; }

  const IsolationForestOptions& options() const { return options_; }
  /// Rows each tree was grown on (max_samples resolved).
  std::int64_t max_samples_used() const { return max_samples_used_; }
  /// Mean path length over the trees of each row (E[h(x)], before normalisation).
  Eigen::VectorXd mean_path_length(MatrixRef X) const;
  /// Nodes of every tree together (diagnostics and memory estimates).
  std::size_t n_nodes() const { return nodes_.size(); }

  void save(std::ostream& out) const override;
  static IsolationForest load(std::istream& in);

  /// One node of the flat forest: an internal node splits on `feature` at `value` with children
  /// `left` and `left + 1` (rows with x[feature] <= value go left); a leaf (feature < 0) holds its
  /// depth plus c(leaf size) in `value`. Thresholds of fitted forests are float32 values; those of
  /// models saved in schema 1 are any doubles (still scored exactly, through the general walk).
  struct Node {
    double value = 0;
    std::int32_t feature = -1;
    std::int32_t left = 0;
  };
  /// Every tree's nodes, tree after tree; tree t starts at roots()[t] (the saved form).
  const std::vector<Node>& nodes() const { return nodes_; }
  const std::vector<std::int64_t>& roots() const { return roots_; }

 private:
  /// Scoring form of a tree deeper than kHeapDepth: nodes addressed in bytes, `offset` being the
  /// feature's byte position in a lane group of the row block, `left` the left child's byte
  /// position from the tree's root; a leaf loops to itself with the largest key.
  struct Step {
    std::uint64_t key;
    std::uint32_t offset;
    std::uint32_t left;
  };
  void compile();
  /// Mean path length of every row of X over the trees, or (as_score) its score_samples.
  Eigen::VectorXd walk(MatrixRef X, bool as_score) const;

  IsolationForestOptions options_;
  std::vector<Node> nodes_;          // the saved form: leaves have feature -1 and their path length
  // Derived scoring form (compile()). Thresholds and row values are compared as order-preserving
  // integer keys: exactly the double comparison. Forests no deeper than kHeapDepth whose
  // thresholds are all float32 values make every tree an implicit heap of its own depth D at
  // heap_start_[t] in heap_: one 64-bit word per slot 1..2^D - 1 (the threshold's 32-bit key above
  // the feature's offset; children 2s and 2s + 1; leaves above the last level pass every row left),
  // then leaf path lengths by last-level slot. Others are walked through steps_ (64-bit keys).
  std::vector<std::uint64_t> heap_;
  std::vector<std::size_t> heap_start_;  // empty: the forest is walked through steps_
  std::vector<Step> steps_;
  std::vector<double> leaf_path_;     // path length of each leaf of steps_ (0 elsewhere)
  std::vector<int> tree_depth_;       // deepest leaf of each tree (steps every row walks)
  std::vector<std::int64_t> roots_;  // index of each tree's root in nodes_
  std::int64_t max_samples_used_ = 0;
  Eigen::Index n_features_ = 0;
  double offset_ = -0.5;
  bool fitted_ = false;
};

/// c(n): the average path length of an unsuccessful binary-search-tree search over n points,
/// scikit-learn's _average_path_length (c(0) = c(1) = 0, c(2) = 1).
double average_path_length(double n);

}  // namespace crmine
