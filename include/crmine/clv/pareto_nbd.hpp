// SPDX-License-Identifier: Apache-2.0
// Pareto/NBD (Schmittlein, Morrison & Colombo 1987): Poisson purchases with an exponential lifetime.
#pragma once

#include <crmine/clv/model.hpp>

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
};

}  // namespace crmine
