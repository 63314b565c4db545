// SPDX-License-Identifier: Apache-2.0
// HBOS: one histogram per feature, scores summed over features in linear time.
#pragma once

#include <crmine/core/estimator.hpp>

#include <iosfwd>

namespace crmine {

/// Hyperparameters of HBOS; names and defaults are pyod's (pyod.models.hbos.HBOS).
struct HBOSOptions {
  int n_bins = 10;             ///< equal-width (static) bins per feature over its training range; >= 2
  double alpha = 0.1;          ///< added to every bin density before the log, so empty bins stay finite; > 0
  double tol = 0.5;            ///< values outside the training range by at most tol x the edge bin's width count as in that bin; >= 0
  double contamination = 0.1;  ///< expected outlier share in (0, 0.5]; sets offset() at that quantile of the training scores
  int n_threads = 0;           ///< 0 = OpenMP default
};

/// Throws InvalidArgument naming the first invalid field.
void validate(const HBOSOptions& options);

/// Histogram-based outlier score (Goldstein & Dengel 2012), pyod's variant: feature f gets
/// n_bins equal-width bins over its training range (numpy.histogram, density=True), and a row scores
/// sum_f log2(density_f(bin of x_f) + alpha); a value beyond the range by more than tol bin widths
/// gets the feature's lowest bin score. score_samples equals minus pyod's decision_function.
/// Fit and score are one pass over the data (linear time); features are assumed independent.
class HBOS final : public Detector {
 public:
  explicit HBOS(HBOSOptions options = {});

  HBOS& fit(MatrixRef X) override;
  Eigen::VectorXd score_samples(MatrixRef X) const override;
  double offset() const override;
  Eigen::Index n_features() const override { return edges_.rows(); }
  bool is_fitted() const override { return fitted_; }

  const HBOSOptions& options() const { return options_; }
  /// n_features x (n_bins + 1) bin edges (numpy.histogram's; a constant feature spans value +- 0.5).
  const RowMatrix& bin_edges() const;
  /// n_features x n_bins densities (count / (n x bin width)).
  const RowMatrix& densities() const;
  /// Per-feature contributions log2(density + alpha), n_samples x n_features (for explanations).
  RowMatrix feature_scores(MatrixRef X) const;

  void save(std::ostream& out) const override;
  static HBOS load(std::istream& in);

 private:
  void derive();
  double feature_score(Eigen::Index f, double x) const;

  HBOSOptions options_;
  RowMatrix edges_;
  RowMatrix density_;
  RowMatrix log_score_;          // log2(density + alpha), derived
  Eigen::VectorXd min_score_;    // lowest log_score_ of each feature, derived
  double offset_ = 0;
  bool fitted_ = false;
};

}  // namespace crmine
