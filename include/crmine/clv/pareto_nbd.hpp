// SPDX-License-Identifier: Apache-2.0
// Pareto/NBD (Schmittlein, Morrison & Colombo 1987): Poisson purchases with an exponential lifetime.
#pragma once

#include <crmine/clv/model.hpp>
#include <crmine/core/matrix.hpp>

namespace crmine {

/// Pareto/NBD: purchases are Poisson(lambda), lambda ~ Gamma(r, alpha); the lifetime is
/// exponential(mu), mu ~ Gamma(s, beta). The likelihood's Gaussian hypergeometric function is
/// summed in log space, so customers with hundreds of purchases or very long ages stay finite.
///
/// Schmittlein, D. C., Morrison, D. G. & Colombo, R. (1987). Counting your customers: who are
/// they and what will they do next? Management Science 33(1), 1-24; likelihood as in Fader &
/// Hardie (2005), "A note on deriving the Pareto/NBD model and related expressions".
/// Parameters: r, alpha, s, beta.
class ParetoNBD final : public TransactionModel {
 public:
  explicit ParetoNBD(ClvFitOptions options = {}) : TransactionModel(std::move(options)) {}
  ParetoNBD& fit(const ClvData& data) override;
  double log_likelihood(const ClvData& data, Eigen::VectorXd* gradient = nullptr) const override;
  std::vector<double> conditional_probability_alive(const ClvData& customers) const override;
  std::vector<double> conditional_expected_number_of_purchases_up_to_time(double t,
                                                                          const ClvData& customers) const override;
  double expected_number_of_purchases_up_to_time(double t) const override;
  double probability_of_n_purchases_up_to_time(double t, int n) const override;
  std::vector<double> conditional_probability_of_n_purchases_up_to_time(int n, double t,
                                                                        const ClvData& customers) const override;
  std::vector<std::string> param_names() const override { return {"r", "alpha", "s", "beta"}; }
  ModelTag tag() const override { return kTag; }
  /// Reads a model written by `save`; ModelFormatError when the bytes are not one.
  static ParetoNBD load(std::istream& in) {
    ParetoNBD model;
    model.read(in, kTag);
    return model;
  }
  static constexpr ModelTag kTag = model_tag("PNBD");
};

/// Pareto/NBD with static (time-invariant) customer covariates, parameterised as CLVTools does:
/// alpha_i = alpha_0 exp(-gamma_trans' z_trans_i) and beta_i = beta_0 exp(-gamma_life' z_life_i),
/// so a positive purchase coefficient raises the purchase rate and a positive lifetime
/// coefficient raises the dropout rate (Fader & Hardie 2007, "Incorporating time-invariant
/// covariates into the Pareto/NBD and BG/NBD models"; Bachmann, Meierer & Naef, CLVTools).
/// r and s are shared. Without covariate columns it is the plain Pareto/NBD.
///
/// Covariates are n x k row-major matrices (k may be 0, the two may differ); predictions need the
/// same columns the model was fitted with. Parameters: r, alpha_0, s, beta_0, then gamma_trans
/// (k_trans values), then gamma_life (k_life values).
class ParetoNBDCovariates {
 public:
  explicit ParetoNBDCovariates(ClvFitOptions options = {}) : options_(std::move(options)) {}
  /// Fits by maximum likelihood with exact gradients (no collapsing: customers differ in z).
  ParetoNBDCovariates& fit(const ClvData& data, MatrixRef z_trans, MatrixRef z_life);
  /// Total log-likelihood at the current parameters; optionally its gradient in the natural
  /// parameters (r, alpha_0, s, beta_0, gamma_trans, gamma_life).
  double log_likelihood(const ClvData& data, MatrixRef z_trans, MatrixRef z_life,
                        Eigen::VectorXd* gradient = nullptr) const;
  std::vector<double> conditional_probability_alive(const ClvData& customers, MatrixRef z_trans,
                                                    MatrixRef z_life) const;
  std::vector<double> conditional_expected_number_of_purchases_up_to_time(double t, const ClvData& customers,
                                                                          MatrixRef z_trans, MatrixRef z_life) const;
  /// E[X(t)] of a customer just acquired with covariates z (one value per row).
  std::vector<double> expected_number_of_purchases_up_to_time(double t, MatrixRef z_trans, MatrixRef z_life) const;

  bool is_fitted() const { return fitted_; }
  const Eigen::VectorXd& params() const;
  const Eigen::VectorXd& standard_errors() const;
  const ClvFitReport& report() const;
  const ClvFitOptions& options() const { return options_; }
  int n_trans() const { return n_trans_; }
  int n_life() const { return n_life_; }
  /// Sets r, alpha_0, s, beta_0 (> 0) and the coefficients (finite) directly.
  void set_params(const Eigen::VectorXd& params, int n_trans, int n_life);
  /// Writes the fitted model in crmine's versioned format (tag PNBC).
  void save(std::ostream& out) const;
  /// Reads a model written by `save`; ModelFormatError when the bytes are not one.
  static ParetoNBDCovariates load(std::istream& in);
  static constexpr ModelTag kTag = model_tag("PNBC");

 private:
  void check_fitted(const char* caller) const;
  /// Checks the covariates against the customers (and, once fitted, against the model).
  void check_covariates(const ClvData& data, MatrixRef z_trans, MatrixRef z_life, const char* caller,
                        bool fitting) const;
  ClvFitOptions options_;
  Eigen::VectorXd params_, standard_errors_;
  ClvFitReport report_;
  int n_trans_ = 0, n_life_ = 0;
  bool fitted_ = false;
};

}  // namespace crmine
