// SPDX-License-Identifier: Apache-2.0
// CART decision trees (classification and regression) with cost-complexity pruning and rule export.
#pragma once

#include <crmine/classify/detail/checks.hpp>
#include <crmine/core/estimator.hpp>

#include <array>
#include <cmath>
#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

namespace crmine {

/// Impurity measure of a classification tree.
enum class TreeCriterion : std::uint8_t {
  gini = 0,     ///< Gini index 2p(1-p)
  entropy = 1,  ///< Shannon entropy in bits
};

/// Hyperparameters of DecisionTreeClassifier. Names and defaults match the Python keyword arguments.
struct DecisionTreeOptions {
  TreeCriterion criterion = TreeCriterion::gini;  ///< impurity measure
  int max_depth = -1;                             ///< deepest level (root = 0); -1 = unlimited
  int min_samples_split = 2;                      ///< rows a node needs to be split; >= 2
  int min_samples_leaf = 1;                       ///< rows every leaf keeps; >= 1
  double min_impurity_decrease = 0.0;             ///< split only if weighted impurity falls by at least this; >= 0
  double ccp_alpha = 0.0;                         ///< cost-complexity pruning strength (Breiman et al. 1984); >= 0
  std::array<double, 2> class_weight{1.0, 1.0};   ///< weight of a row of class 0 and of class 1
  int n_threads = 0;                              ///< 0 = OpenMP default; results do not depend on it
  /// Columns of X holding integer category codes in [0, 65536) (NaN or negative = missing), split by
  /// sets of categories: Breiman's exact shortcut orders the categories by their class-1 share and
  /// tries every prefix. Codes unseen in training go right.
  std::vector<std::int32_t> categorical_features{};
};

/// Hyperparameters of DecisionTreeRegressor (squared error criterion).
struct DecisionTreeRegressorOptions {
  int max_depth = -1;                  ///< deepest level (root = 0); -1 = unlimited
  int min_samples_split = 2;           ///< rows a node needs to be split; >= 2
  int min_samples_leaf = 1;            ///< rows every leaf keeps; >= 1
  double min_impurity_decrease = 0.0;  ///< split only if weighted impurity falls by at least this; >= 0
  double ccp_alpha = 0.0;              ///< cost-complexity pruning strength; >= 0
  int n_threads = 0;                   ///< 0 = OpenMP default; results do not depend on it
  /// Category-code columns as in DecisionTreeOptions; categories are ordered by their mean target.
  std::vector<std::int32_t> categorical_features{};
};

void validate(const DecisionTreeOptions& options);
void validate(const DecisionTreeRegressorOptions& options);

/// One node of a fitted tree; a leaf has feature == -1.
struct TreeNode {
  std::int32_t feature = -1;     ///< split feature, -1 for a leaf
  double threshold = 0.0;        ///< rows with x <= threshold go left
  std::int32_t left = -1;        ///< child indices into nodes()
  std::int32_t right = -1;
  bool missing_left = false;     ///< where NaN goes (learned when NaN was seen, else the heavier child)
  double value = 0.0;            ///< P(y = 1) (classifier) or the mean target (regressor)
  double impurity = 0.0;         ///< node impurity under the training criterion
  double weight = 0.0;           ///< summed training weight
  std::int64_t n_samples = 0;    ///< training rows
  /// A categorical split's left set as a bitset over category codes (code c goes left when bit c % 64
  /// of word c / 64 is set); empty for a numeric split. Codes past the bitset (unseen in training)
  /// go right; NaN and negative codes are missing and follow missing_left.
  std::vector<std::uint64_t> categories{};

  bool is_categorical() const { return !categories.empty(); }
  /// Whether a row with value x (NaN = missing) goes to the left child.
  bool goes_left(double x) const {
    if (std::isnan(x)) return missing_left;
    if (categories.empty()) return x <= threshold;
    return category_goes_left(x, categories.data(), categories.size(), missing_left);
  }
  /// The categorical test on a non-NaN x against `n_words` bitset words.
  static bool category_goes_left(double x, const std::uint64_t* words, std::size_t n_words, bool missing_left) {
    if (x < 0) return missing_left;
    if (!(x < 64.0 * static_cast<double>(n_words))) return false;
    const auto c = static_cast<std::size_t>(x);
    return (words[c >> 6] >> (c & 63)) & 1u;
  }
};

namespace detail {

/// The fitted CART structure shared by the classifier and the regressor.
struct CartTree {
  std::vector<TreeNode> nodes;
  Eigen::VectorXd importances;
  Eigen::Index n_features = 0;
  int depth = 0;
  bool saw_missing = false;  ///< NaN occurred in training (rules mention missing values only then)
  std::vector<std::int32_t> categorical_features{};  ///< columns split by category sets (ascending)

  /// The leaf value of each row of X (NaN follows missing_left).
  Eigen::VectorXd predict(MatrixRef X, int n_threads) const;
  /// Leaf index of each row.
  Eigen::VectorXi apply(MatrixRef X, int n_threads) const;
};

/// Split criterion of the builder.
enum class CartCriterion : std::uint8_t { gini, entropy, squared_error };

struct CartLimits {
  CartCriterion criterion = CartCriterion::gini;
  int max_depth = -1;
  int min_samples_split = 2;
  int min_samples_leaf = 1;
  double min_impurity_decrease = 0.0;
  double ccp_alpha = 0.0;
  int n_threads = 0;
  std::vector<std::int32_t> categorical_features{};
  /// Sum a node's rows on features of few distinct values by counting them when the sums are exact
  /// (the same tree as ranked lists, faster); false ranks every feature in lists (tests compare both).
  bool count_small_features = true;
};

/// Grows (and prunes) a tree on targets `y` (0/1 for the class criteria) with per-row weights.
CartTree build_cart(MatrixRef X, const Eigen::VectorXd& y, const Eigen::VectorXd& weight, const CartLimits& limits);

/// "IF ... THEN ..." lines, one per leaf, highest value first. `categories[j]`, when given, names
/// feature j's category codes (a categorical split then reads "region in {North, West}").
std::string cart_rules(const CartTree& tree, const std::vector<std::string>& names, bool classifier, int precision,
                       const std::vector<std::vector<std::string>>& categories = {});

}  // namespace detail

/// CART classification tree (Breiman, Friedman, Olshen & Stone 1984): exact best splits over
/// sorted feature values (thresholds at midpoints), NaN routed to the better side, optional
/// minimal cost-complexity pruning. Ties between splits go to the lowest feature index, so the
/// tree does not depend on a seed or on the thread count.
class DecisionTreeClassifier final : public Classifier {
 public:
  explicit DecisionTreeClassifier(DecisionTreeOptions options = {});

  DecisionTreeClassifier& fit(MatrixRef X, const Eigen::Ref<const Eigen::VectorXi>& y) override;
  DecisionTreeClassifier& fit(MatrixRef X, LabelRef y, VectorRef sample_weight);
  Eigen::VectorXi predict(MatrixRef X) const override;
  RowMatrix predict_proba(MatrixRef X) const override;
  /// Index into nodes() of the leaf each row lands in.
  Eigen::VectorXi apply(MatrixRef X) const;

  bool is_fitted() const override { return fitted_; }
  const DecisionTreeOptions& options() const { return options_; }
  const std::vector<TreeNode>& nodes() const;
  /// Normalised total impurity decrease per feature (sums to 1 unless the tree is a single leaf).
  const Eigen::VectorXd& feature_importances() const;
  int depth() const;
  int n_leaves() const;
  Eigen::Index n_features() const { return tree_.n_features; }
  /// The tree as readable if-then rules, one per leaf, highest P(y=1) first; `names` override
  /// the stored feature names. One-hot columns named "column=level" read as "column = level";
  /// categorical splits read "column in {a, b}" with `categories[j]` naming feature j's codes.
  std::string export_rules(const std::vector<std::string>& names = {}, int precision = 4,
                           const std::vector<std::vector<std::string>>& categories = {}) const;

  void set_feature_names(std::vector<std::string> names);
  const std::vector<std::string>& feature_names() const { return feature_names_; }

  void save(std::ostream& out) const override;
  static DecisionTreeClassifier load(std::istream& in);

 private:
  DecisionTreeOptions options_;
  detail::CartTree tree_;
  std::vector<std::string> feature_names_;
  bool fitted_ = false;
};

/// CART regression tree minimising the weighted squared error.
class DecisionTreeRegressor final : public Regressor {
 public:
  explicit DecisionTreeRegressor(DecisionTreeRegressorOptions options = {});

  DecisionTreeRegressor& fit(MatrixRef X, VectorRef y) override;
  DecisionTreeRegressor& fit(MatrixRef X, VectorRef y, VectorRef sample_weight);
  Eigen::VectorXd predict(MatrixRef X) const override;
  Eigen::VectorXi apply(MatrixRef X) const;

  bool is_fitted() const override { return fitted_; }
  const DecisionTreeRegressorOptions& options() const { return options_; }
  const std::vector<TreeNode>& nodes() const;
  const Eigen::VectorXd& feature_importances() const;
  int depth() const;
  int n_leaves() const;
  Eigen::Index n_features() const { return tree_.n_features; }
  std::string export_rules(const std::vector<std::string>& names = {}, int precision = 4,
                           const std::vector<std::vector<std::string>>& categories = {}) const;

  void set_feature_names(std::vector<std::string> names);
  const std::vector<std::string>& feature_names() const { return feature_names_; }

  void save(std::ostream& out) const override;
  static DecisionTreeRegressor load(std::istream& in);

 private:
  DecisionTreeRegressorOptions options_;
  detail::CartTree tree_;
  std::vector<std::string> feature_names_;
  bool fitted_ = false;
};

}  // namespace crmine
