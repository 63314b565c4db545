// SPDX-License-Identifier: Apache-2.0
// Penalised logistic regression (L2, L1, elastic net) fitted by a proximal Newton method.
#pragma once

#include <crmine/classify/detail/checks.hpp>
#include <crmine/core/estimator.hpp>

#include <array>
#include <cmath>
#include <iosfwd>
#include <limits>
#include <span>
#include <string>
#include <vector>

namespace crmine {

/// Hyperparameters of LogisticRegression. Names and defaults match the Python keyword arguments.
/// The objective is  C * sum_i s_i * logloss_i + l1_ratio * |w|_1 + (1 - l1_ratio) / 2 * |w|_2^2
/// (scikit-learn's parameterisation; the intercept is never penalised).
struct LogisticRegressionOptions {
  double C = 1.0;                               ///< inverse penalty strength; > 0; +inf = no penalty
  double l1_ratio = 0.0;                        ///< 0 = L2 (ridge), 1 = L1 (lasso), in between = elastic net
  bool fit_intercept = true;                    ///< learn an unpenalised intercept
  bool standardize = true;                      ///< penalise coefficients of features scaled to mean 0, sd 1 (as StandardScaler
                                                ///< before scikit-learn); coefficients are reported on the raw scale
  std::array<double, 2> class_weight{1.0, 1.0};  ///< weight of a row of class 0 and of class 1 (multiplies sample weights)
  int max_iter = 100;                           ///< Newton iterations; >= 1
  double tol = 1e-8;                            ///< converged when the largest step is <= tol x (1 + largest coefficient); > 0
  int n_threads = 0;                            ///< 0 = OpenMP default; results do not depend on it
  /// (C++ only.) From 100,000 rows on, first fit a subsample of one row in eight to a loose
  /// tolerance and start the Newton iterations on all rows from there: about two fewer passes
  /// over the rows. The stopping rule on all rows is unchanged, so the model equals the one
  /// without it to within tol; false starts from the base rate (to compare, or to reproduce
  /// fits of versions before it).
  bool subsample_warm_start = true;
};

/// Throws InvalidArgument naming the first invalid field.
void validate(const LogisticRegressionOptions& options);

namespace detail {
/// The logistic function without overflow: LogisticRegression's probabilities are exactly these.
inline double sigmoid(double z) {
  if (z >= 0) return 1.0 / (1.0 + std::exp(-z));
  const double e = std::exp(z);
  return e / (1.0 + e);
}
}  // namespace detail

/// Binary logistic regression. Each Newton step minimises the penalised quadratic model of the
/// log-likelihood by cyclic coordinate descent (newGLMNET: Yuan, Ho & Lin 2012), followed by an
/// Armijo backtracking line search; with no L1 part this is Newton's method with a Cholesky
/// solve. Gradients and Hessians are reduced over fixed row chunks in chunk order, so the model
/// is bitwise the same at any thread count. Features may not contain NaN.
class LogisticRegression final : public Classifier {
 public:
  explicit LogisticRegression(LogisticRegressionOptions options = {});

  LogisticRegression& fit(MatrixRef X, const Eigen::Ref<const Eigen::VectorXi>& y) override;
  /// Weighted fit: `sample_weight` is empty (all ones) or one non-negative weight per row.
  LogisticRegression& fit(MatrixRef X, LabelRef y, VectorRef sample_weight);
  /// Fits on the rows `rows` (indices into X, any order) of X, y and sample_weight, which have
  /// one entry per row of X: bit for bit the model fit(X(rows, :), y(rows), sample_weight(rows))
  /// gives, without copying those rows (the two-model uplift learner fits each group in place).
  LogisticRegression& fit_rows(MatrixRef X, LabelRef y, VectorRef sample_weight, std::span<const Eigen::Index> rows);
  Eigen::VectorXi predict(MatrixRef X) const override;
  RowMatrix predict_proba(MatrixRef X) const override;
  /// The log-odds X * coef + intercept.
  Eigen::VectorXd decision_function(MatrixRef X) const;

  bool is_fitted() const override { return fitted_; }
  const LogisticRegressionOptions& options() const { return options_; }
  /// Coefficients on the scale of the raw features, one per feature.
  const Eigen::VectorXd& coef() const;
  double intercept() const;
  /// Coefficients of the standardised features (the penalised ones); equal to coef() without standardisation.
  const Eigen::VectorXd& coef_standardized() const;
  Eigen::Index n_features() const { return coef_.size(); }
  const FitReport& report() const;

  /// Optional column names kept in the model file (used by rule export and the C++ scorer).
  void set_feature_names(std::vector<std::string> names);
  const std::vector<std::string>& feature_names() const { return feature_names_; }

  void save(std::ostream& out) const override;
  static LogisticRegression load(std::istream& in);

 private:
  /// The fit on all rows of X (`rows` null) or on the `n` rows listed in `rows`.
  LogisticRegression& fit_impl(const char* where, MatrixRef X, LabelRef y, VectorRef sample_weight, const Eigen::Index* rows,
                               Eigen::Index n);

  LogisticRegressionOptions options_;
  Eigen::VectorXd coef_;
  Eigen::VectorXd coef_std_;
  double intercept_ = 0.0;
  FitReport report_;
  std::vector<std::string> feature_names_;
  bool fitted_ = false;
};

/// Hyperparameters of LinearRegression: ordinary least squares (alpha = 0) or ridge.
struct LinearRegressionOptions {
  double alpha = 0.0;         ///< ridge penalty alpha * |w|^2 on the raw-scale coefficients; >= 0
  bool fit_intercept = true;  ///< learn an unpenalised intercept (by centring)
};

/// Throws InvalidArgument naming the first invalid field.
void validate(const LinearRegressionOptions& options);

/// Least squares  sum_i s_i (y_i - x_i w - b)^2 + alpha |w|^2 , scikit-learn's LinearRegression
/// (alpha = 0; minimum-norm solution via a complete orthogonal decomposition when X is rank
/// deficient) and Ridge (alpha > 0; Cholesky on the centred normal equations).
class LinearRegression final : public Regressor {
 public:
  explicit LinearRegression(LinearRegressionOptions options = {});

  LinearRegression& fit(MatrixRef X, VectorRef y) override;
  LinearRegression& fit(MatrixRef X, VectorRef y, VectorRef sample_weight);
  Eigen::VectorXd predict(MatrixRef X) const override;

  bool is_fitted() const override { return fitted_; }
  const LinearRegressionOptions& options() const { return options_; }
  const Eigen::VectorXd& coef() const;
  double intercept() const;
  Eigen::Index n_features() const { return coef_.size(); }
  /// Rank of the centred design (OLS only; n_features for ridge).
  Eigen::Index rank() const { return rank_; }

  void set_feature_names(std::vector<std::string> names);
  const std::vector<std::string>& feature_names() const { return feature_names_; }

  void save(std::ostream& out) const override;
  static LinearRegression load(std::istream& in);

 private:
  LinearRegressionOptions options_;
  Eigen::VectorXd coef_;
  double intercept_ = 0.0;
  Eigen::Index rank_ = 0;
  std::vector<std::string> feature_names_;
  bool fitted_ = false;
};

}  // namespace crmine
