// SPDX-License-Identifier: Apache-2.0
// Gaussian mixture models fitted by expectation-maximisation, with BIC/AIC for choosing k.
#pragma once

#include <crmine/core/estimator.hpp>

#include <cstdint>
#include <iosfwd>
#include <vector>

namespace crmine {

/// Shape of each component's covariance matrix.
enum class CovarianceType : std::uint8_t {
  full = 0,  ///< one general d x d covariance per component
  diag = 1,  ///< one diagonal covariance per component
};

/// How responsibilities are initialised.
enum class MixtureInit : std::uint8_t {
  kmeans = 0,  ///< hard assignment by a seeded KMeans (best of 3 restarts)
  random = 1,  ///< random responsibilities, normalised per row
};

/// Hyperparameters of GaussianMixture. Names and defaults match the Python keyword arguments.
struct GaussianMixtureOptions {
  int n_components = 1;                              ///< k; 1 <= k <= n_samples
  CovarianceType covariance_type = CovarianceType::full;  ///< covariance shape
  double tol = 1e-3;                                 ///< converged when the mean log-likelihood gains less; >= 0
  double reg_covar = 1e-6;                           ///< added to covariance diagonals, keeps them positive definite; >= 0
  int max_iter = 100;                                ///< EM iterations per restart; >= 1
  int n_init = 1;                                    ///< restarts; the highest log-likelihood wins; >= 1
  MixtureInit init = MixtureInit::kmeans;            ///< initialisation of responsibilities
  std::uint64_t seed = 1234;                         ///< same data + same seed => same model at any n_threads
  int n_threads = 0;                                 ///< 0 = OpenMP default
};

/// Throws InvalidArgument naming the first invalid field.
void validate(const GaussianMixtureOptions& options);

/// Gaussian mixture fitted by EM (Dempster, Laird & Rubin 1977), parameterised internally by the
/// Cholesky factors of the covariances. Sums over rows are reduced per fixed chunk in order.
class GaussianMixture final : public Clusterer {
 public:
  explicit GaussianMixture(GaussianMixtureOptions options = {});

  GaussianMixture& fit(MatrixRef X) override;
  /// Weighted fit: row i counts as sample_weight[i] rows (non-negative, finite, not all zero;
  /// empty = all ones), in the k-means start, the M-step and the log-likelihood.
  GaussianMixture& fit(MatrixRef X, VectorRef sample_weight);
  /// Most probable component of each row.
  Eigen::VectorXi predict(MatrixRef X) const override;
  /// Posterior component probabilities, n x k.
  RowMatrix predict_proba(MatrixRef X) const;
  /// Mahalanobis distance of each row to each component mean.
  RowMatrix transform(MatrixRef X) const override;
  /// Log density log p(x) of each row.
  Eigen::VectorXd score_samples(MatrixRef X) const;
  /// Mean log density of the rows of X.
  double score(MatrixRef X) const;
  /// Bayesian information criterion on X: -2 log L + p log n (lower is better).
  double bic(MatrixRef X) const;
  /// Akaike information criterion on X: -2 log L + 2 p.
  double aic(MatrixRef X) const;
  /// Free parameters of the model.
  long long n_parameters() const;

  int n_clusters() const override { return options_.n_components; }
  bool is_fitted() const override { return fitted_; }
  const FitReport& report() const override;
  const GaussianMixtureOptions& options() const { return options_; }
  const Eigen::VectorXd& weights() const;
  const RowMatrix& means() const;
  /// Covariance of component j: d x d for full, 1 x d (the diagonal) for diag.
  RowMatrix covariance(int j) const;
  /// Mean log-likelihood of the training rows at the end of the best run.
  double lower_bound() const { return report().objective; }

  void save(std::ostream& out) const override;
  static GaussianMixture load(std::istream& in);

 private:
  /// log w_j + log N(x_i | j), n x k.
  RowMatrix weighted_log_prob(MatrixRef X) const;
  void set_cholesky();

  GaussianMixtureOptions options_;
  Eigen::VectorXd weights_;
  RowMatrix means_;
  std::vector<RowMatrix> covariances_;  // full: d x d; diag: 1 x d
  std::vector<RowMatrix> inv_chol_;     // full: inverse lower Cholesky factor; diag: 1 x d of 1/sd
  Eigen::VectorXd log_det_;             // log |Sigma_j|
  FitReport report_;
  bool fitted_ = false;
};

}  // namespace crmine
