// SPDX-License-Identifier: Apache-2.0
// Evaluation of binary scores: ROC/PR AUC, log loss, Brier, confusion matrix, lift and calibration tables.
#pragma once

#include <crmine/classify/detail/checks.hpp>

#include <cstdint>
#include <vector>

namespace crmine {

/// Area under the ROC curve (ties count one half); `y` 0/1, `score` any monotone score.
double roc_auc(LabelRef y, VectorRef score, VectorRef sample_weight = Eigen::VectorXd());
/// Area under the precision-recall curve as average precision: sum over distinct thresholds of
/// (recall_k - recall_{k-1}) x precision_k (the step interpolation, no trapezoids).
double pr_auc(LabelRef y, VectorRef score, VectorRef sample_weight = Eigen::VectorXd());
/// Mean negative log-likelihood of P(y=1) = `proba`, clipped to [eps, 1 - eps] with machine eps.
double log_loss(LabelRef y, VectorRef proba, VectorRef sample_weight = Eigen::VectorXd());
/// Mean squared difference between P(y=1) and y.
double brier_score(LabelRef y, VectorRef proba, VectorRef sample_weight = Eigen::VectorXd());

/// Counts (weighted when weights are given) at a threshold: predicted 1 when score >= threshold.
struct ConfusionMatrix {
  double tn = 0, fp = 0, fn = 0, tp = 0;
  double precision() const { return tp + fp > 0 ? tp / (tp + fp) : 0.0; }
  double recall() const { return tp + fn > 0 ? tp / (tp + fn) : 0.0; }
  double accuracy() const { return (tp + tn) / (tp + tn + fp + fn); }
};
ConfusionMatrix confusion_matrix(LabelRef y, VectorRef score, double threshold = 0.5, VectorRef sample_weight = Eigen::VectorXd());

/// Rows ranked by score (highest first; equal scores keep input order) and cut into `n_bins`
/// groups of equal size (sizes differ by at most one). Bin 0 holds the best-scored rows.
struct LiftTable {
  std::vector<std::int64_t> n;             ///< rows per bin
  std::vector<std::int64_t> responders;    ///< rows with y = 1 per bin
  std::vector<double> min_score, max_score;
  std::vector<double> response_rate;       ///< responders / n
  std::vector<double> lift;                ///< response_rate / overall rate
  std::vector<double> cumulative_response_rate;
  std::vector<double> cumulative_lift;
  std::vector<double> cumulative_gain;     ///< share of all responders in bins 0..k
  double overall_rate = 0.0;
};
LiftTable lift_table(LabelRef y, VectorRef score, int n_bins = 10);
/// Lift of the best-scored 10% of rows.
double top_decile_lift(LabelRef y, VectorRef score);

/// Predicted probability against observed rate in `n_bins` equal-width bins of [0, 1].
struct CalibrationTable {
  std::vector<double> lower, upper;     ///< bin edges
  std::vector<std::int64_t> n;          ///< rows in the bin (empty bins are kept with n = 0)
  std::vector<double> mean_predicted;   ///< NaN for an empty bin
  std::vector<double> observed_rate;    ///< NaN for an empty bin
};
CalibrationTable calibration_table(LabelRef y, VectorRef proba, int n_bins = 10);

/// Stratified k-fold assignment: fold index 0..n_splits-1 per row, each class shuffled with
/// `seed` and dealt round-robin, so every fold holds the same class shares (up to one row).
Eigen::VectorXi stratified_kfold(LabelRef y, int n_splits, std::uint64_t seed);

/// Stratified train/test split: true for the test rows (round(test_fraction x class size) per class).
std::vector<bool> stratified_split(LabelRef y, double test_fraction, std::uint64_t seed);

}  // namespace crmine
