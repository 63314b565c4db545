// SPDX-License-Identifier: Apache-2.0
// Mahalanobis distance to a robust centre and covariance (minimum covariance determinant, FastMCD).
#pragma once

#include <crmine/core/estimator.hpp>

#include <cstdint>
#include <iosfwd>

namespace crmine {

/// Hyperparameters of Mahalanobis; names follow scikit-learn's MinCovDet / EllipticEnvelope.
struct MahalanobisOptions {
  double support_fraction = 0;  ///< share h/n of rows the raw MCD covers, in (0, 1]; 0 = (n + d + 1) / 2 rows, the maximal breakdown point
  int n_trials = 500;           ///< random (d+1)-subsets that start concentration steps (Rousseeuw & Van Driessen use 500); >= 1
  double contamination = 0.1;   ///< expected outlier share in (0, 0.5]; sets offset() at that quantile of the training scores
  std::uint64_t seed = 1234;    ///< same data + same seed => the same estimate at any n_threads
  int n_threads = 0;            ///< 0 = OpenMP default
};

/// Throws InvalidArgument naming the first invalid field.
void validate(const MahalanobisOptions& options);

/// Squared Mahalanobis distance to the reweighted minimum covariance determinant estimate,
/// scikit-learn's EllipticEnvelope: score_samples = -d^2(x).
///
/// FastMCD (Rousseeuw & Van Driessen 1999): n_trials random (d+1)-subsets, each enlarged to h rows
/// and improved by two concentration steps (C-steps: keep the h rows closest under the current
/// estimate, which never increases the covariance determinant) on a random subsample of at most 1500
/// rows (the paper's nested extension, flattened); the 10 best are iterated to convergence on all
/// rows and the smallest determinant wins. Then, as scikit-learn does, the raw covariance is scaled
/// for consistency at the normal (Croux & Haesbroeck 1999, scikit-learn's factor) and the estimate is recomputed from
/// the rows with d^2 below the chi2_d 0.975 quantile. Subsets whose covariance is singular (an exact
/// fit: e.g. more than half the rows share the value of a 0/1 flag) are not followed; when every
/// start is singular, fit throws InvalidArgument naming the feature. A constant feature is refused.
/// Distances use the pseudo-inverse of the final covariance (scikit-learn's pinvh), so features that
/// are collinear among the reweighted rows add no distance along the degenerate direction.
class Mahalanobis final : public Detector {
 public:
  explicit Mahalanobis(MahalanobisOptions options = {});

  Mahalanobis& fit(MatrixRef X) override;
  Eigen::VectorXd score_samples(MatrixRef X) const override;
  double offset() const override;
  Eigen::Index n_features() const override { return location_.size(); }
  bool is_fitted() const override { return fitted_; }

  const MahalanobisOptions& options() const { return options_; }
  /// Squared Mahalanobis distances of the rows of X to the fitted estimate.
  Eigen::VectorXd mahalanobis(MatrixRef X) const;
  /// Reweighted robust location and covariance (scikit-learn's location_, covariance_).
  const Eigen::VectorXd& location() const;
  const RowMatrix& covariance() const;
  /// The raw MCD estimate before correction and reweighting (raw_location_, raw_covariance_).
  const Eigen::VectorXd& raw_location() const;
  const RowMatrix& raw_covariance() const;
  /// Rows in the raw MCD subset (h).
  std::int64_t support_size() const { return support_size_; }

  void save(std::ostream& out) const override;
  static Mahalanobis load(std::istream& in);

 private:
  void derive(const char* where);

  MahalanobisOptions options_;
  Eigen::VectorXd location_, raw_location_;
  RowMatrix covariance_, raw_covariance_;
  RowMatrix whitening_;  // Lambda^-1/2 V^T of the covariance (pseudo-inverse square root), derived
  std::int64_t support_size_ = 0;
  double offset_ = 0;
  bool fitted_ = false;
};

/// The p-quantile of the chi-square distribution with `dof` degrees of freedom (p in (0, 1)).
double chi2_quantile(double p, double dof);

}  // namespace crmine
