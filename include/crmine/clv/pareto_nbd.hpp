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
  std::vector<double> discounted_expected_purchases(const ClvData& customers, const ClvOptions& options) const override;
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
/// coefficient raises the dropout rate. r and s are shared. Parameters: r, alpha_0, s, beta_0,
/// gamma_trans, gamma_life.
class ParetoNBDCovariates final : public CovariateTransactionModel {
 public:
  explicit ParetoNBDCovariates(ClvFitOptions options = {}) : CovariateTransactionModel(std::move(options)) {}
  ParetoNBDCovariates& fit(const ClvData& data, MatrixRef z_trans, MatrixRef z_life) override;
  double log_likelihood(const ClvData& data, MatrixRef z_trans, MatrixRef z_life,
                        Eigen::VectorXd* gradient = nullptr) const override;
  std::vector<double> conditional_probability_alive(const ClvData& customers, MatrixRef z_trans,
                                                    MatrixRef z_life) const override;
  std::vector<double> conditional_expected_number_of_purchases_up_to_time(double t, const ClvData& customers,
                                                                          MatrixRef z_trans,
                                                                          MatrixRef z_life) const override;
  std::vector<double> expected_number_of_purchases_up_to_time(double t, MatrixRef z_trans,
                                                              MatrixRef z_life) const override;
  std::vector<double> discounted_expected_purchases(const ClvData& customers, MatrixRef z_trans, MatrixRef z_life,
                                                    const ClvOptions& options) const override;
  std::vector<std::string> param_names() const override { return {"r", "alpha", "s", "beta"}; }
  ModelTag tag() const override { return kTag; }
  /// Reads a model written by `save`; ModelFormatError when the bytes are not one.
  static ParetoNBDCovariates load(std::istream& in) {
    ParetoNBDCovariates model;
    model.read(in, kTag);
    return model;
  }
  static constexpr ModelTag kTag = model_tag("PNBC");
};

}  // namespace crmine
