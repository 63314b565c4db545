// SPDX-License-Identifier: Apache-2.0
// Robust z-scores: distance from the median in units of the scaled median absolute deviation.
#pragma once

#include <crmine/core/estimator.hpp>

#include <cstdint>
#include <iosfwd>

namespace crmine {

/// How the per-feature |z| of a row combine into its deviation.
enum class RobustZAggregate : std::uint8_t {
  max_abs = 0,  ///< the largest |z| over the features: one extreme feature is enough
  rms = 1,      ///< sqrt(mean z^2) over the features that have a scale: many moderate deviations add up
};

/// Hyperparameters of RobustZ.
struct RobustZOptions {
  RobustZAggregate aggregate = RobustZAggregate::max_abs;  ///< how |z| combine over features
  double contamination = 0.1;  ///< expected outlier share in (0, 0.5]; sets offset() at that quantile of the training scores
  int n_threads = 0;           ///< 0 = OpenMP default
};

/// Throws InvalidArgument naming the first invalid field.
void validate(const RobustZOptions& options);

/// Robust z-scores (Iglewicz & Hoaglin 1993): z = (x - median) / scale per feature with
/// scale = 1.482602218505602 x MAD (scipy's median_abs_deviation(scale='normal'), consistent for
/// the normal). When MAD = 0 (more than half the values are equal, e.g. mostly-zero spend) the scale
/// falls back to 1.2533141373155 x the mean absolute deviation from the median (sqrt(pi/2), also
/// consistent for the normal); when that is 0 too the feature is constant and is ignored (its z is
/// 0). score_samples = -aggregate(|z|).
class RobustZ final : public Detector {
 public:
  explicit RobustZ(RobustZOptions options = {});

  RobustZ& fit(MatrixRef X) override;
  Eigen::VectorXd score_samples(MatrixRef X) const override;
  double offset() const override;
  Eigen::Index n_features() const override { return center_.size(); }
  bool is_fitted() const override { return fitted_; }

  const RobustZOptions& options() const { return options_; }
  /// Per-feature medians.
  const Eigen::VectorXd& center() const;
  /// Per-feature scales (0 for an ignored constant feature).
  const Eigen::VectorXd& scale() const;
  /// The signed z of every value, n_samples x n_features (0 in ignored features).
  RowMatrix z_scores(MatrixRef X) const;

  void save(std::ostream& out) const override;
  static RobustZ load(std::istream& in);

 private:
  RobustZOptions options_;
  Eigen::VectorXd center_;
  Eigen::VectorXd scale_;
  double offset_ = 0;
  bool fitted_ = false;
};

}  // namespace crmine
