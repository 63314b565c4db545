// SPDX-License-Identifier: Apache-2.0
// Histogram gradient boosting of leaf-wise trees for binary log-loss.
#pragma once

#include <crmine/classify/detail/checks.hpp>
#include <crmine/classify/tree.hpp>
#include <crmine/core/estimator.hpp>

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

namespace crmine {

/// Hyperparameters of GradientBoostingClassifier. Names and defaults match the Python keyword arguments.
struct GradientBoostingOptions {
  int n_estimators = 100;             ///< boosting rounds (trees); >= 1
  double learning_rate = 0.1;         ///< shrinkage of every leaf value; > 0
  int num_leaves = 31;                ///< leaves per tree, grown best-first (leaf-wise); >= 2
  int max_depth = -1;                 ///< depth limit of a tree; -1 = none
  int min_child_samples = 20;         ///< rows every leaf keeps; >= 1
  double min_child_weight = 1e-3;     ///< summed hessian every leaf keeps; >= 0
  double reg_lambda = 0.0;            ///< L2 penalty on leaf values; >= 0
  double min_split_gain = 0.0;        ///< smallest loss reduction for a split; >= 0
  double subsample = 1.0;             ///< share of rows drawn (without replacement) per round; (0, 1]
  double colsample_bytree = 1.0;      ///< share of features drawn per tree; (0, 1]
  int max_bins = 255;                 ///< value bins per feature (NaN gets its own bin); 2..255
  double validation_fraction = 0.0;   ///< > 0: hold out this stratified share for early stopping
  int n_iter_no_change = 10;          ///< stop after this many rounds without a better validation loss; >= 1
  std::uint64_t seed = 1234;          ///< row/feature sampling and the validation split
  int n_threads = 0;                  ///< 0 = OpenMP default; the model does not depend on it
};

/// Throws InvalidArgument naming the first invalid field.
void validate(const GradientBoostingOptions& options);

/// Gradient boosting (Friedman 2001) with second-order leaf values and split gains (Chen &
/// Guestrin 2016) over quantile-binned features with one bin for NaN, leaf-wise growth and the
/// histogram subtraction trick (Ke et al. 2017). Histograms are built one feature per task, each
/// summing rows in a fixed order, and sampling uses per-round streams of the seed, so the model
/// is bitwise the same at any thread count. Trees split on raw values, so prediction needs no bins;
/// it tests each split on blocks of rows at once (QuickScorer) and adds the trees in order.
class GradientBoostingClassifier final : public Classifier {
 public:
  explicit GradientBoostingClassifier(GradientBoostingOptions options = {});

  GradientBoostingClassifier& fit(MatrixRef X, const Eigen::Ref<const Eigen::VectorXi>& y) override;
  GradientBoostingClassifier& fit(MatrixRef X, LabelRef y, VectorRef sample_weight);
  Eigen::VectorXi predict(MatrixRef X) const override;
  RowMatrix predict_proba(MatrixRef X) const override;
  /// Raw log-odds.
  Eigen::VectorXd decision_function(MatrixRef X) const;

  bool is_fitted() const override { return fitted_; }
  const GradientBoostingOptions& options() const { return options_; }
  /// Trees kept (the best round when early stopping).
  int n_trees() const { return static_cast<int>(trees_.size()); }
  /// The fitted trees in boosting order; leaf values are already shrunk by the learning rate.
  const std::vector<std::vector<TreeNode>>& trees() const { return trees_; }
  /// The raw score every row starts from (the log-odds of the training labels).
  double init_score() const { return init_score_; }
  /// Normalised total gain per feature.
  const Eigen::VectorXd& feature_importances() const;
  /// Validation log-loss per round (empty without early stopping).
  const std::vector<double>& validation_loss() const { return validation_loss_; }
  Eigen::Index n_features() const { return n_features_; }

  void set_feature_names(std::vector<std::string> names);
  const std::vector<std::string>& feature_names() const { return feature_names_; }

  void save(std::ostream& out) const override;
  static GradientBoostingClassifier load(std::istream& in);

 private:
  GradientBoostingOptions options_;
  double init_score_ = 0.0;
  std::vector<std::vector<TreeNode>> trees_;
  Eigen::VectorXd importances_;
  std::vector<double> validation_loss_;
  Eigen::Index n_features_ = 0;
  std::vector<std::string> feature_names_;
  bool fitted_ = false;
};

}  // namespace crmine
