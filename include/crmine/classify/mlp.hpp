// SPDX-License-Identifier: Apache-2.0
// Multi-layer perceptron classifier and regressor trained with Adam on mini-batches.
#pragma once

#include <crmine/classify/detail/checks.hpp>
#include <crmine/core/estimator.hpp>

#include <cstdint>
#include <iosfwd>
#include <limits>
#include <string>
#include <utility>
#include <vector>

namespace crmine {

/// Activation of the hidden units (scikit-learn's names).
enum class MLPActivation { identity, logistic, tanh, relu };

/// Hyperparameters of MLPClassifier and MLPRegressor. Names and defaults match scikit-learn's
/// MLPClassifier with solver="adam"; the Python keyword arguments are the same.
struct MLPOptions {
  std::vector<int> hidden_layer_sizes{100};        ///< units per hidden layer, input to output; 1 or more layers, each >= 1
  MLPActivation activation = MLPActivation::relu;  ///< hidden-unit activation
  double alpha = 1e-4;                             ///< L2 penalty on the weights (not the biases); >= 0
  int batch_size = 0;                              ///< rows per Adam step; 0 = min(200, n_samples); larger values are clipped to n
  double learning_rate_init = 1e-3;                ///< Adam step size; > 0
  int max_iter = 200;                              ///< epochs (passes over the training rows); >= 1
  double tol = 1e-4;                               ///< an epoch improves when the loss drops (score rises) by more than tol; >= 0
  int n_iter_no_change = 10;                       ///< stop after more than this many epochs without improvement; >= 1
  bool early_stopping = false;                     ///< hold out validation_fraction and stop on its score (accuracy / R^2), keep the best epoch
  double validation_fraction = 0.1;               ///< share held out when early_stopping; in (0, 1)
  double beta_1 = 0.9;                             ///< Adam first-moment decay; in [0, 1)
  double beta_2 = 0.999;                           ///< Adam second-moment decay; in [0, 1)
  double epsilon = 1e-8;                           ///< Adam denominator guard; > 0
  bool shuffle = true;                             ///< reshuffle the rows every epoch
  bool standardize = true;                         ///< scale inputs to mean 0, sd 1 inside the model (as a StandardScaler in front)
  bool warm_start = false;                         ///< refit from the current weights (and standardisation) when their shapes fit X and y
  std::uint64_t seed = 1234;                       ///< initial weights, shuffles and the validation split
  int n_threads = 0;                               ///< 0 = OpenMP default; the model does not depend on it
};

/// Throws InvalidArgument naming the first invalid field.
void validate(const MLPOptions& options);

namespace detail {

/// What the output layer computes: P(y=1) (one unit), class probabilities (K units) or a value.
enum class MLPOutput { logistic, softmax, identity };

/// A fitted network: weights acting on standardised inputs, the standardisation, the history.
struct MLPNetwork {
  std::vector<RowMatrix> coefs;              ///< layer l maps units of layer l (rows) to layer l+1 (columns)
  std::vector<Eigen::VectorXd> intercepts;   ///< biases of layer l+1
  Eigen::VectorXd mean, scale;               ///< input standardisation: (x - mean) / scale
  MLPActivation activation = MLPActivation::relu;
  MLPOutput output = MLPOutput::identity;
  std::vector<double> loss_curve;            ///< training loss (with the L2 term) after each epoch
  std::vector<double> validation_scores;     ///< accuracy or R^2 on the held-out rows per epoch (early stopping)
  double best_loss = std::numeric_limits<double>::infinity();
  double best_validation_score = -std::numeric_limits<double>::infinity();
  FitReport report;                          ///< n_iter = epochs run; converged = stopped before max_iter
  std::vector<std::string> feature_names;

  Eigen::Index n_features() const { return mean.size(); }
  Eigen::Index n_outputs() const { return coefs.empty() ? 0 : coefs.back().cols(); }
  /// Output-layer activations for raw rows of X (n x n_outputs), rows in parallel chunks.
  RowMatrix forward(MatrixRef X, int n_threads) const;
};

/// Options, fitted network and accessors MLPClassifier and MLPRegressor share.
class MLPBase {
 public:
  const MLPOptions& options() const { return options_; }
  /// Replaces the hyperparameters for the next fit; fitted weights stay (they seed a warm_start fit).
  void set_options(MLPOptions options) { options_ = std::move(options); }
  Eigen::Index n_features() const { return net_.n_features(); }
  /// The fitted network (weights act on standardised inputs; see its mean and scale).
  const MLPNetwork& network() const;
  const FitReport& report() const;
  /// Optional column names kept in the model file (the C++ scorer matches CSV columns by them).
  void set_feature_names(std::vector<std::string> names);
  const std::vector<std::string>& feature_names() const { return net_.feature_names; }

 protected:
  MLPBase(MLPOptions options, const char* name) : options_(std::move(options)), name_(name) {}

  MLPOptions options_;
  MLPNetwork net_;
  bool fitted_ = false;

 private:
  const char* name_;
};

}  // namespace detail

/// Feed-forward neural network classifier (binary: one logistic output; K classes: softmax),
/// trained on the log-loss plus alpha/2 |W|^2 with Adam (Kingma & Ba 2015) and Glorot-uniform
/// initial weights (Glorot & Bengio 2010), following scikit-learn's MLPClassifier step for step.
/// Each mini-batch is cut into row chunks by its size alone, chunk gradients are summed in chunk
/// order, and every random draw comes from per-purpose streams of the seed, so the model is
/// bitwise the same at any thread count. Features may not contain NaN.
class MLPClassifier final : public Classifier, public detail::MLPBase {
 public:
  explicit MLPClassifier(MLPOptions options = {});

  /// `y` holds class indices 0..K-1 (K >= 2, every class present).
  MLPClassifier& fit(MatrixRef X, const Eigen::Ref<const Eigen::VectorXi>& y) override;
  /// Weighted fit: `sample_weight` is empty (all ones) or one non-negative weight per row.
  MLPClassifier& fit(MatrixRef X, LabelRef y, VectorRef sample_weight);
  /// The most probable class (binary: P(y=1) > 0.5).
  Eigen::VectorXi predict(MatrixRef X) const override;
  /// n_samples x n_classes probabilities.
  RowMatrix predict_proba(MatrixRef X) const override;

  bool is_fitted() const override { return fitted_; }
  int n_classes() const { return n_classes_; }

  void save(std::ostream& out) const override;
  static MLPClassifier load(std::istream& in);

 private:
  int n_classes_ = 0;
};

/// Feed-forward neural network regressor: identity output, squared error (halved) plus
/// alpha/2 |W|^2, otherwise as MLPClassifier (scikit-learn's MLPRegressor with solver="adam").
/// The target is used as given (not standardised), as in scikit-learn.
class MLPRegressor final : public Regressor, public detail::MLPBase {
 public:
  explicit MLPRegressor(MLPOptions options = {});

  MLPRegressor& fit(MatrixRef X, VectorRef y) override;
  MLPRegressor& fit(MatrixRef X, VectorRef y, VectorRef sample_weight);
  Eigen::VectorXd predict(MatrixRef X) const override;

  bool is_fitted() const override { return fitted_; }

  void save(std::ostream& out) const override;
  static MLPRegressor load(std::istream& in);
};

}  // namespace crmine
