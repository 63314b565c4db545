// SPDX-License-Identifier: Apache-2.0
// Mixed naive Bayes: Gaussian likelihoods for numeric features, smoothed categorical ones for codes.
#pragma once

#include <crmine/classify/detail/checks.hpp>
#include <crmine/core/estimator.hpp>

#include <iosfwd>
#include <string>
#include <vector>

namespace crmine {

/// Hyperparameters of NaiveBayes. Names and defaults match the Python keyword arguments.
struct NaiveBayesOptions {
  double var_smoothing = 1e-9;  ///< added to every variance, as a fraction of the largest feature variance; >= 0
  double alpha = 1.0;           ///< additive (Laplace/Lidstone) smoothing of category counts; > 0
  bool fit_prior = true;        ///< learn class priors from the data; false = uniform priors
};

/// Throws InvalidArgument naming the first invalid field.
void validate(const NaiveBayesOptions& options);

/// Binary naive Bayes over numeric features (class-conditional Gaussians) and categorical
/// features given as integer codes 0..K-1 (class-conditional categorical distributions with
/// additive smoothing), combined under the conditional independence assumption. A NaN numeric
/// value or a negative code is missing and that feature is left out of the row's likelihood;
/// a code never seen in training (>= the training K of its column) is treated the same way.
class NaiveBayes final : public Classifier {
 public:
  explicit NaiveBayes(NaiveBayesOptions options = {});

  /// Numeric features only.
  NaiveBayes& fit(MatrixRef X, const Eigen::Ref<const Eigen::VectorXi>& y) override;
  /// `X` numeric (n x p, may have 0 columns), `codes` categorical (n x q, may have 0 columns).
  NaiveBayes& fit(MatrixRef X, MatrixXiRef codes, LabelRef y, VectorRef sample_weight);
  Eigen::VectorXi predict(MatrixRef X) const override;
  RowMatrix predict_proba(MatrixRef X) const override;
  RowMatrix predict_proba(MatrixRef X, MatrixXiRef codes) const;
  /// log P(c) + log P(x | c) per row and class (n x 2).
  RowMatrix joint_log_likelihood(MatrixRef X, MatrixXiRef codes) const;

  bool is_fitted() const override { return fitted_; }
  const NaiveBayesOptions& options() const { return options_; }
  Eigen::Index n_numeric() const { return theta_.cols(); }
  Eigen::Index n_categorical() const { return static_cast<Eigen::Index>(log_prob_.size()); }
  /// Class log priors (2).
  const Eigen::Vector2d& class_log_prior() const;
  /// Per-class means and variances of the numeric features (2 x p).
  const RowMatrix& theta() const;
  const RowMatrix& var() const;
  /// Per categorical feature, 2 x K log probabilities of each code.
  const std::vector<RowMatrix>& category_log_prob() const;

  void set_feature_names(std::vector<std::string> names);
  const std::vector<std::string>& feature_names() const { return feature_names_; }

  void save(std::ostream& out) const override;
  static NaiveBayes load(std::istream& in);

 private:
  NaiveBayesOptions options_;
  Eigen::Vector2d log_prior_ = Eigen::Vector2d::Zero();
  RowMatrix theta_, var_;
  std::vector<RowMatrix> log_prob_;
  std::vector<std::string> feature_names_;
  bool fitted_ = false;
};

}  // namespace crmine
