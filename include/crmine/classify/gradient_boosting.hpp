// SPDX-License-Identifier: Apache-2.0
// Histogram gradient boosting of trees grown leaf-wise or depth-wise: binary log-loss and squared error.
#pragma once

#include <crmine/classify/detail/checks.hpp>
#include <crmine/classify/tree.hpp>
#include <crmine/core/estimator.hpp>

#include <array>
#include <cstdint>
#include <iosfwd>
#include <span>
#include <string>
#include <vector>

namespace crmine {

/// The order in which a tree's leaves are split.
enum class GrowthPolicy : std::uint8_t {
  leafwise = 0,   ///< the leaf with the largest gain next (best-first: LightGBM, HistGradientBoosting)
  depthwise = 1,  ///< every splittable leaf of one depth, in node order, before any of the next (XGBoost's default)
};

/// Hyperparameters of GradientBoostingClassifier and GradientBoostingRegressor. Names and defaults
/// match the Python keyword arguments.
struct GradientBoostingOptions {
  int n_estimators = 100;             ///< boosting rounds (trees); >= 1
  double learning_rate = 0.1;         ///< shrinkage of every leaf value; > 0
  int num_leaves = 31;                ///< leaves per tree; >= 2
  int max_depth = -1;                 ///< depth limit of a tree; -1 = none
  int min_child_samples = 20;         ///< rows every leaf keeps; >= 1
  double min_child_weight = 1e-3;     ///< summed hessian every leaf keeps (the summed weight for squared error); >= 0
  double reg_lambda = 0.0;            ///< L2 penalty on leaf values; >= 0
  double min_split_gain = 0.0;        ///< smallest loss reduction for a split; >= 0
  double subsample = 1.0;             ///< share of rows drawn (without replacement) per round; (0, 1]
  double colsample_bytree = 1.0;      ///< share of features drawn per tree; (0, 1]
  int max_bins = 255;                 ///< value bins per feature (NaN gets its own bin); 2..255
  double validation_fraction = 0.0;   ///< > 0: hold out this share (stratified for classes) for early stopping
  int n_iter_no_change = 10;          ///< stop after this many rounds without a better validation loss; >= 1
  std::uint64_t seed = 1234;          ///< row/feature sampling and the validation split
  int n_threads = 0;                  ///< 0 = OpenMP default; the model does not depend on it
  GrowthPolicy growth = GrowthPolicy::leafwise;  ///< order of splits within a tree (num_leaves and max_depth bound both)
  /// Columns of X holding category codes rather than numbers (distinct, in [0, n_features)). A code
  /// is an integer in [0, max_bins); NaN or a negative value means missing. Each category gets its own
  /// bin and a split sends a set of categories left (LightGBM's categorical splits, see
  /// max_cat_to_onehot). Categories unseen in training, or too rare in the node to be placed
  /// (min_data_per_group), go right; missing values go to the learned missing side.
  std::vector<std::int32_t> categorical_features;
  /// A categorical feature with at most this many non-empty categories in a node is split one
  /// category against the rest; with more, categories are ordered by sum_gradient / (sum_hessian +
  /// cat_smooth) and the best prefix of that order (from either end) goes left. >= 1
  int max_cat_to_onehot = 4;
  int max_cat_threshold = 32;       ///< most categories a sorted split sends to its smaller-prefix side; >= 1
  double cat_smooth = 10.0;         ///< added to a category's hessian when ordering categories; >= 0
  double cat_l2 = 10.0;             ///< extra L2 penalty on the children of a sorted categorical split; >= 0
  int min_data_per_group = 100;     ///< rows a category needs in a node to be ordered (rarer ones stay right); >= 1
};

/// Throws InvalidArgument naming the first invalid field.
void validate(const GradientBoostingOptions& options);

namespace detail {
/// What a fitted gradient boosting model holds, whatever its loss; the estimators below add the fit
/// and the link from raw scores to predictions.
class BoostedTrees {
 public:
  bool is_fitted() const { return fitted_; }
  const GradientBoostingOptions& options() const { return options_; }
  /// Trees kept (the best round when early stopping).
  int n_trees() const { return static_cast<int>(trees_.size()); }
  /// The fitted trees in boosting order; leaf values are already shrunk by the learning rate.
  const std::vector<std::vector<TreeNode>>& trees() const { return trees_; }
  /// The raw score every row starts from (log-odds of the training labels, or their weighted mean).
  double init_score() const { return init_score_; }
  /// Normalised total gain per feature.
  const Eigen::VectorXd& feature_importances() const;
  /// Validation loss per round (log-loss or mean squared error; empty without early stopping).
  const std::vector<double>& validation_loss() const { return validation_loss_; }
  Eigen::Index n_features() const { return n_features_; }
  /// Threads of later fits and predictions (0 = OpenMP default); a fitted model does not depend on it.
  void set_n_threads(int n_threads);
  void set_feature_names(std::vector<std::string> names);
  const std::vector<std::string>& feature_names() const { return feature_names_; }

 protected:
  explicit BoostedTrees(GradientBoostingOptions options) : options_(options) {}
  /// Boosts trees on checked input: log-loss on 0/1 `y` when `log_loss`, else squared error; `strata`
  /// stratifies the validation split.
  void fit_trees(const char* where, bool log_loss, MatrixRef X, const Eigen::VectorXd& y, const Eigen::VectorXi& strata,
                 VectorRef sample_weight);
  /// init_score() plus every tree's leaf value per row of X, after the fitted/shape checks named `where`.
  Eigen::VectorXd raw_scores(const char* where, MatrixRef X) const;
  /// The model record (format in docs/developer/model-format.md) with the model's tag.
  void write(std::ostream& out, const std::array<char, 4>& tag, const char* where) const;
  void read(std::istream& in, const std::array<char, 4>& tag);

  GradientBoostingOptions options_;
  double init_score_ = 0.0;
  std::vector<std::vector<TreeNode>> trees_;
  Eigen::VectorXd importances_;
  std::vector<double> validation_loss_;
  Eigen::Index n_features_ = 0;
  std::vector<std::string> feature_names_;
  bool fitted_ = false;
};
}  // namespace detail

/// Gradient boosting (Friedman 2001) with second-order leaf values and split gains (Chen &
/// Guestrin 2016) over quantile-binned features with one bin for NaN, leaf-wise or depth-wise growth,
/// exclusive feature bundling and the histogram subtraction trick (Ke et al. 2017), for binary
/// log-loss. Every bin sums its rows in row order and sampling uses per-round streams of the seed, so
/// the model is bitwise the same at any thread count. Trees split on raw values, so prediction needs
/// no bins; it tests each split on blocks of rows at once (QuickScorer) and adds the trees in order.
class GradientBoostingClassifier final : public Classifier, public detail::BoostedTrees {
 public:
  explicit GradientBoostingClassifier(GradientBoostingOptions options = {});

  GradientBoostingClassifier& fit(MatrixRef X, const Eigen::Ref<const Eigen::VectorXi>& y) override;
  GradientBoostingClassifier& fit(MatrixRef X, LabelRef y, VectorRef sample_weight);
  /// Fits on the rows `rows` (indices into X, any order) of X, y and sample_weight, which have one entry per
  /// row of X: bit for bit the model fit(X(rows, :), y(rows), sample_weight(rows)) gives. The selected rows
  /// are gathered once, in parallel row chunks (binning then reads them several times; at 350k x 10 the
  /// gather is under 1% of a 100-tree fit); errors about their values name positions in `rows`.
  GradientBoostingClassifier& fit_rows(MatrixRef X, LabelRef y, VectorRef sample_weight, std::span<const Eigen::Index> rows);
  Eigen::VectorXi predict(MatrixRef X) const override;
  RowMatrix predict_proba(MatrixRef X) const override;
  /// Raw log-odds.
  Eigen::VectorXd decision_function(MatrixRef X) const;
  bool is_fitted() const override { return fitted_; }

  void save(std::ostream& out) const override;
  static GradientBoostingClassifier load(std::istream& in);
};

/// The same boosting for a numeric target with squared error: gradients are residuals, hessians the
/// sample weights, the initial score the weighted mean (LightGBM's `regression` objective,
/// scikit-learn's HistGradientBoostingRegressor).
class GradientBoostingRegressor final : public Regressor, public detail::BoostedTrees {
 public:
  explicit GradientBoostingRegressor(GradientBoostingOptions options = {});

  GradientBoostingRegressor& fit(MatrixRef X, VectorRef y) override;
  GradientBoostingRegressor& fit(MatrixRef X, VectorRef y, VectorRef sample_weight);
  Eigen::VectorXd predict(MatrixRef X) const override;
  bool is_fitted() const override { return fitted_; }

  void save(std::ostream& out) const override;
  static GradientBoostingRegressor load(std::istream& in);
};

}  // namespace crmine
