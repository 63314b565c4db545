// SPDX-License-Identifier: Apache-2.0
// Uplift models (two-model, class transformation, uplift trees/forests) and Qini/uplift curves.
#pragma once

#include <crmine/classify/detail/checks.hpp>
#include <crmine/core/estimator.hpp>

#include <cstdint>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

namespace crmine {

// ----------------------------------------------------------------------------- evaluation

/// Points of a Qini or uplift curve: `x` is the number of customers targeted (0, then the last
/// row of every group of tied scores, best scored first) and `y` the curve's value there.
struct UpliftCurve {
  std::vector<double> x;
  std::vector<double> y;
};

/// Qini curve (Radcliffe 2007) with scikit-uplift's definition: at the top k rows,
/// y_treated(k) - y_control(k) x n_treated(k) / n_control(k), i.e. the incremental responders
/// among the targeted, with the control count scaled to the treated group's size.
/// `y` and `treatment` are 0/1 per row; `uplift` is any score, higher = treat first.
UpliftCurve qini_curve(LabelRef y, VectorRef uplift, LabelRef treatment);

/// Uplift curve: (response rate of the targeted treated - of the targeted control) x k.
UpliftCurve uplift_curve(LabelRef y, VectorRef uplift, LabelRef treatment);

/// The Qini curve of an oracle score: treated responders first, control responders last
/// (`negative_effect`), or the straight line to the total incremental count when not.
UpliftCurve perfect_qini_curve(LabelRef y, LabelRef treatment, bool negative_effect = true);

/// The uplift curve of an oracle score (scikit-uplift's perfect_uplift_curve).
UpliftCurve perfect_uplift_curve(LabelRef y, LabelRef treatment);

/// Qini coefficient: area between the Qini curve and the random line, divided by the same area
/// of the perfect curve (trapezoidal areas, scikit-uplift's qini_auc_score).
double qini_auc_score(LabelRef y, VectorRef uplift, LabelRef treatment, bool negative_effect = true);

/// Normalised area under the uplift curve, AUUC (scikit-uplift's uplift_auc_score).
double uplift_auc_score(LabelRef y, VectorRef uplift, LabelRef treatment);

/// Response rate of treated minus control among the best `k` share of rows (0 < k <= 1),
/// scikit-uplift's uplift_at_k with strategy "overall" (k rows counted over both groups).
double uplift_at_k(LabelRef y, VectorRef uplift, LabelRef treatment, double k);

// ----------------------------------------------------------------------------- whom to treat

/// How to turn predicted uplift into a contact list.
struct TreatmentChoiceOptions {
  std::int64_t n = -1;               ///< treat at most this many customers; -1 = no limit
  bool profitable_only = true;       ///< stop before the first customer whose expected profit is <= 0
  double value_per_response = 1.0;   ///< value of one incremental response; >= 0
  double cost_per_contact = 0.0;     ///< cost of treating one customer; >= 0
};

/// Throws InvalidArgument naming the first invalid field.
void validate(const TreatmentChoiceOptions& options);

/// The chosen customers, best first, and what treating them is expected to bring.
struct TreatmentChoice {
  std::vector<std::int64_t> rows;                  ///< chosen row positions, highest uplift first
  double expected_incremental_responses = 0.0;     ///< sum of the chosen uplifts
  double expected_profit = 0.0;                    ///< sum of uplift x value - cost over the chosen
  /// Expected profit of treating the best k customers, k = 0..n_rows (profit[0] = 0).
  std::vector<double> profit_curve;
  std::int64_t best_n = 0;                         ///< k with the largest expected profit (smallest on ties)
};

/// Ranks rows by predicted `uplift` (ties keep input order) and picks whom to treat: the top
/// `n`, cut at the last profitable customer when `profitable_only`. Uplift must be finite.
TreatmentChoice choose_treatment(VectorRef uplift, const TreatmentChoiceOptions& options = {});

// ----------------------------------------------------------------------------- meta-learners

namespace detail {
/// Checks X (finite, non-empty; NaN allowed when `allow_nan`), y and treatment (0/1, one per row)
/// and that both the treated and the control group are present.
void check_uplift_fit(const char* where, MatrixRef X, LabelRef y, LabelRef treatment, bool allow_nan);
/// check_uplift_fit without the pass over X's values (for learners whose model checks them).
void check_uplift_labels(const char* where, MatrixRef X, LabelRef y, LabelRef treatment);
}  // namespace detail

class LogisticRegression;
class GradientBoostingClassifier;

/// The two-model learner with logistic regressions, fitted in place: `treated` on the treated
/// rows of (X, y) and `control` on the control rows, each read where it lies (no copy of the
/// groups). The models are bit for bit those fitted on copies of the groups' rows.
void fit_two_model_logistic(LogisticRegression& treated, LogisticRegression& control, MatrixRef X, LabelRef y,
                            LabelRef treatment);

/// P(y=1 | x) under `treated` minus under `control` per row of X, in one multithreaded pass
/// (`treated`'s n_threads): the same values as the difference of their predict_proba columns.
Eigen::VectorXd two_model_logistic_uplift(const LogisticRegression& treated, const LogisticRegression& control, MatrixRef X);

/// The class-transformation learner with a logistic regression: fits `model` on
/// z = (y == treatment), built without temporaries.
void fit_class_transformation_logistic(LogisticRegression& model, MatrixRef X, LabelRef y, LabelRef treatment);

/// 2 P(z=1 | x) - 1 per row of X under the class-transformation `model`, in one multithreaded pass.
Eigen::VectorXd class_transformation_logistic_uplift(const LogisticRegression& model, MatrixRef X);

/// The two-model learner with gradient boosting: `treated` fitted on the treated rows of (X, y),
/// `control` on the control rows (GradientBoostingClassifier::fit_rows, so each model is bit for bit
/// the one fitted on its group alone). With two or more threads (`treated`'s n_threads) and groups of
/// comparable size (the smaller at least a quarter of the rows), the two fits run at the same time,
/// each on a share of the threads proportional to its rows: a boosting fit synchronises its threads
/// several times per split, and two independent fits on one thread each have nothing to wait for.
/// Both models keep their own n_threads setting.
void fit_two_model_boosting(GradientBoostingClassifier& treated, GradientBoostingClassifier& control, MatrixRef X, LabelRef y,
                            LabelRef treatment);

/// Two-model ("T-learner") uplift: one classifier on the treated rows, one on the control rows;
/// uplift = P(y=1 | x, treated) - P(y=1 | x, control) (Hansotia & Rukstales 2002). Any of
/// crmine's classifiers can be used on either side; the rows of each group are copied once,
/// except for two logistic regressions, which fit_two_model_logistic fits in place; two gradient
/// boosting classifiers are fitted by fit_two_model_boosting.
class TwoModelUplift {
 public:
  TwoModelUplift(std::unique_ptr<Classifier> treated_model, std::unique_ptr<Classifier> control_model);

  TwoModelUplift& fit(MatrixRef X, LabelRef y, LabelRef treatment);
  /// Predicted uplift per row.
  Eigen::VectorXd predict(MatrixRef X) const;
  /// P(y=1 | x, treated) per row.
  Eigen::VectorXd predict_treated(MatrixRef X) const;
  /// P(y=1 | x, control) per row.
  Eigen::VectorXd predict_control(MatrixRef X) const;

  bool is_fitted() const { return fitted_; }
  const Classifier& treated_model() const { return *treated_; }
  const Classifier& control_model() const { return *control_; }

  /// Both models' records nested in one record (tag UP2M); loads with load_classifier.
  void save(std::ostream& out) const;
  static TwoModelUplift load(std::istream& in);

 private:
  std::unique_ptr<Classifier> treated_, control_;
  bool fitted_ = false;
};

/// Class-transformation uplift (Jaskowski & Jaroszewicz 2012): one classifier learns
/// z = 1 if (treated and responded) or (control and did not respond); with equal group sizes
/// uplift = 2 P(z=1 | x) - 1. Like scikit-uplift, no correction is made for unequal groups.
class ClassTransformationUplift {
 public:
  explicit ClassTransformationUplift(std::unique_ptr<Classifier> model);

  ClassTransformationUplift& fit(MatrixRef X, LabelRef y, LabelRef treatment);
  Eigen::VectorXd predict(MatrixRef X) const;

  bool is_fitted() const { return fitted_; }
  const Classifier& model() const { return *model_; }

  void save(std::ostream& out) const;
  static ClassTransformationUplift load(std::istream& in);

 private:
  std::unique_ptr<Classifier> model_;
  bool fitted_ = false;
};

// ----------------------------------------------------------------------------- uplift trees

/// Divergence between the treated and the control response distributions that a split tries
/// to increase (Rzepakowski & Jaroszewicz 2012), or the difference in uplift between the two
/// children (Hansotia & Rukstales 2002).
enum class UpliftCriterion : std::uint8_t {
  kl = 0,   ///< Kullback-Leibler divergence
  ed = 1,   ///< squared Euclidean distance
  chi = 2,  ///< chi-squared divergence
  ddp = 3,  ///< |uplift(left) - uplift(right)| ("delta-delta-p")
};

/// Hyperparameters of UpliftTree. Names and defaults match the Python keyword arguments.
struct UpliftTreeOptions {
  UpliftCriterion criterion = UpliftCriterion::kl;  ///< split criterion
  int max_depth = 5;                 ///< deepest level (root = 0); >= 1
  int min_samples_leaf = 100;        ///< rows every leaf keeps; >= 1
  int min_samples_treatment = 10;    ///< rows of each group (treated, control) every leaf keeps; >= 1
  double n_reg = 100.0;              ///< pseudo-rows shrinking a child's response rates to its parent's; >= 0
  double min_gain = 0.0;             ///< split only if the criterion gains more than this; >= 0
  int max_bins = 255;                ///< value bins per feature (quantiles); 2..255
  double max_features = 1.0;         ///< share of features tried at every node; (0, 1]
  std::uint64_t seed = 0;            ///< feature sampling when max_features < 1
  int n_threads = 0;                 ///< 0 = OpenMP default; the tree does not depend on it
};

/// Hyperparameters of UpliftForest: the tree's, plus bagging.
struct UpliftForestOptions {
  int n_estimators = 100;            ///< trees; >= 1
  UpliftCriterion criterion = UpliftCriterion::kl;
  int max_depth = 5;
  int min_samples_leaf = 100;
  int min_samples_treatment = 10;
  double n_reg = 100.0;
  double min_gain = 0.0;
  int max_bins = 255;
  double max_features = 0.5;         ///< share of features tried at every node; (0, 1]
  double max_samples = 1.0;          ///< rows drawn per tree, as a share of the rows; (0, 1]
  bool bootstrap = true;             ///< draw with replacement (false: a subsample without)
  std::uint64_t seed = 0;            ///< rows and features per tree come from streams of this seed
  int n_threads = 0;                 ///< 0 = OpenMP default; the forest does not depend on it
};

void validate(const UpliftTreeOptions& options);
void validate(const UpliftForestOptions& options);

/// One node of an uplift tree; a leaf has feature == -1. Rates are the shrunken estimates.
struct UpliftNode {
  std::int32_t feature = -1;    ///< split feature, -1 for a leaf
  double threshold = 0.0;       ///< rows with x <= threshold go left
  std::int32_t left = -1;
  std::int32_t right = -1;
  double uplift = 0.0;          ///< p_treated - p_control
  double p_treated = 0.0;       ///< response rate of the treated rows in the node
  double p_control = 0.0;       ///< response rate of the control rows in the node
  double n_treated = 0.0;       ///< treated training rows (bootstrap counts included)
  double n_control = 0.0;
  double gain = 0.0;            ///< criterion gain of the split (0 for a leaf)
};

/// Uplift decision tree: greedy binary splits on quantile-binned features maximising the gain
/// in divergence between the treated and control response distributions of the children over
/// the parent (Rzepakowski & Jaroszewicz 2012), with each child's rates shrunk towards its
/// parent's by `n_reg` pseudo-rows (as causalml does). Ties go to the lowest feature and bin.
class UpliftTree {
 public:
  explicit UpliftTree(UpliftTreeOptions options = {});

  UpliftTree& fit(MatrixRef X, LabelRef y, LabelRef treatment);
  /// Predicted uplift per row.
  Eigen::VectorXd predict(MatrixRef X) const;
  /// Index into nodes() of each row's leaf.
  Eigen::VectorXi apply(MatrixRef X) const;

  bool is_fitted() const { return fitted_; }
  const UpliftTreeOptions& options() const { return options_; }
  const std::vector<UpliftNode>& nodes() const;
  /// Normalised total gain per feature.
  const Eigen::VectorXd& feature_importances() const;
  Eigen::Index n_features() const { return n_features_; }
  int n_leaves() const;

  void save(std::ostream& out) const;
  static UpliftTree load(std::istream& in);

 private:
  friend class UpliftForest;
  UpliftTreeOptions options_;
  std::vector<UpliftNode> nodes_;
  Eigen::VectorXd importances_;
  Eigen::Index n_features_ = 0;
  bool fitted_ = false;
};

/// Uplift random forest (Guelman, Guillen & Perez-Marin 2015): uplift trees on bootstrap
/// samples with a random share of features per node, averaged. Tree t draws its rows and
/// features from stream t of the seed, so the forest is the same at any thread count.
class UpliftForest {
 public:
  explicit UpliftForest(UpliftForestOptions options = {});

  UpliftForest& fit(MatrixRef X, LabelRef y, LabelRef treatment);
  Eigen::VectorXd predict(MatrixRef X) const;

  bool is_fitted() const { return fitted_; }
  const UpliftForestOptions& options() const { return options_; }
  int n_trees() const { return static_cast<int>(trees_.size()); }
  const std::vector<UpliftNode>& tree(int t) const;
  const Eigen::VectorXd& feature_importances() const;
  Eigen::Index n_features() const { return n_features_; }

  void save(std::ostream& out) const;
  static UpliftForest load(std::istream& in);

 private:
  UpliftForestOptions options_;
  std::vector<std::vector<UpliftNode>> trees_;
  Eigen::VectorXd importances_;
  Eigen::Index n_features_ = 0;
  bool fitted_ = false;
};

}  // namespace crmine
