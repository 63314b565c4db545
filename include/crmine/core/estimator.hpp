// SPDX-License-Identifier: Apache-2.0
// Small batch-level interfaces every estimator family implements (never a virtual call per row).
#pragma once

#include <crmine/core/errors.hpp>
#include <crmine/core/matrix.hpp>

#include <iosfwd>
#include <string>

namespace crmine {

/// How a fit ended; non-convergence is a status, not an exception (Python: ConvergenceWarning).
struct FitReport {
  int n_iter = 0;             ///< iterations of the best run (EM steps, Lloyd steps, mini-batch steps)
  bool converged = false;     ///< the tolerance was reached before max_iter
  double objective = 0.0;     ///< the fitted objective: inertia, cost or mean log-likelihood
  int best_init = 0;          ///< which of the n_init restarts was kept (0-based)
  long long n_distance_evaluations = 0;  ///< point-centre distances computed (pruning diagnostics)
};

/// A clustering model over dense features: learns from rows of X, labels rows.
class Clusterer {
 public:
  virtual ~Clusterer() = default;
  /// Learns the model from X (n_samples x n_features); returns *this.
  virtual Clusterer& fit(MatrixRef X) = 0;
  /// The cluster index in [0, n_clusters) of each row of X.
  virtual Eigen::VectorXi predict(MatrixRef X) const = 0;
  /// Distances (or the model's dissimilarity) of each row to each cluster, n_samples x n_clusters.
  virtual RowMatrix transform(MatrixRef X) const = 0;
  /// fit(X) then the training labels.
  virtual Eigen::VectorXi fit_predict(MatrixRef X) {
    fit(X);
    return predict(X);
  }
  virtual int n_clusters() const = 0;
  virtual bool is_fitted() const = 0;
  virtual const FitReport& report() const = 0;
  virtual void save(std::ostream& out) const = 0;
};

/// A supervised classifier over dense features (implemented by the classify area).
class Classifier {
 public:
  virtual ~Classifier() = default;
  virtual Classifier& fit(MatrixRef X, const Eigen::Ref<const Eigen::VectorXi>& y) = 0;
  virtual Eigen::VectorXi predict(MatrixRef X) const = 0;
  /// Class probabilities, n_samples x n_classes, rows sum to one.
  virtual RowMatrix predict_proba(MatrixRef X) const = 0;
  virtual bool is_fitted() const = 0;
  virtual void save(std::ostream& out) const = 0;
};

/// A supervised regressor over dense features (implemented by later areas).
class Regressor {
 public:
  virtual ~Regressor() = default;
  virtual Regressor& fit(MatrixRef X, VectorRef y) = 0;
  virtual Eigen::VectorXd predict(MatrixRef X) const = 0;
  virtual bool is_fitted() const = 0;
  virtual void save(std::ostream& out) const = 0;
};

/// The `contamination` value that asks for the detector's own default threshold (scikit-learn's
/// 'auto'): IsolationForest offset -0.5, LocalOutlierFactor offset -1.5.
inline constexpr double kAutoContamination = -1.0;

/// An outlier detector over dense features, with scikit-learn's meanings (decision D1):
/// `score_samples` is lower for more abnormal rows, `decision_function` = score_samples - offset
/// (negative = outlier), `predict` is -1 for outliers and +1 for inliers; `deviation_score` is the
/// CRM-facing score, higher = more deviant.
class Detector {
 public:
  virtual ~Detector() = default;
  /// Learns the model from X (n_samples x n_features); returns *this.
  virtual Detector& fit(MatrixRef X) = 0;
  /// Normality of each row of X: lower = more abnormal.
  virtual Eigen::VectorXd score_samples(MatrixRef X) const = 0;
  /// The threshold on score_samples set at fit from `contamination` (scikit-learn's offset_).
  virtual double offset() const = 0;
  /// score_samples(X) - offset(): negative for outliers.
  virtual Eigen::VectorXd decision_function(MatrixRef X) const {
    return (score_samples(X).array() - offset()).matrix();
  }
  /// -1 for rows whose decision_function is negative, +1 otherwise.
  virtual Eigen::VectorXi predict(MatrixRef X) const {
    const Eigen::VectorXd d = decision_function(X);
    return (d.array() < 0).select(Eigen::VectorXi::Constant(d.size(), -1), Eigen::VectorXi::Ones(d.size()));
  }
  /// -score_samples(X): higher = more deviant, for ranking customers in alerts.
  virtual Eigen::VectorXd deviation_score(MatrixRef X) const { return -score_samples(X); }
  /// Number of features seen at fit.
  virtual Eigen::Index n_features() const = 0;
  virtual bool is_fitted() const = 0;
  virtual void save(std::ostream& out) const = 0;
};

namespace detail {

/// Throws NotFittedError("<where>: call fit first") unless `fitted`.
inline void require_fitted(bool fitted, const char* where) {
  if (!fitted) throw NotFittedError(concat(where, ": this model is not fitted yet; call fit first"));
}

}  // namespace detail
}  // namespace crmine
