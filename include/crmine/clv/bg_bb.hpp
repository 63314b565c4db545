// SPDX-License-Identifier: Apache-2.0
// BG/BB (Fader, Hardie & Shang 2010): repeat purchasing over discrete purchase opportunities.
#pragma once

#include <crmine/clv/model.hpp>

namespace crmine {

/// BG/BB: at each of n discrete opportunities an alive customer buys with probability
/// p ~ Beta(alpha, beta) and then dies with probability theta ~ Beta(gamma, delta).
///
/// Fader, P. S., Hardie, B. G. S. & Shang, J. (2010). Customer-base analysis in a discrete-time
/// noncontractual setting. Marketing Science 29(6), 1086-1108.
/// Data: frequency x, recency t_x (the opportunity of the last purchase, 0 if none) and T = n,
/// the number of opportunities, all whole numbers with x <= t_x <= n. Prediction horizons t are
/// whole numbers of opportunities. Parameters: alpha, beta, gamma, delta.
class BetaGeoBetaBinom final : public TransactionModel {
 public:
  explicit BetaGeoBetaBinom(ClvFitOptions options = {}) : TransactionModel(std::move(options)) {}
  BetaGeoBetaBinom& fit(const ClvData& data) override;
  double log_likelihood(const ClvData& data, Eigen::VectorXd* gradient = nullptr) const override;
  std::vector<double> conditional_probability_alive(const ClvData& customers) const override;
  std::vector<double> conditional_expected_number_of_purchases_up_to_time(double t,
                                                                          const ClvData& customers) const override;
  double expected_number_of_purchases_up_to_time(double t) const override;
  double probability_of_n_purchases_up_to_time(double t, int n) const override;
  std::vector<double> conditional_probability_of_n_purchases_up_to_time(int n, double t,
                                                                        const ClvData& customers) const override;
  std::vector<std::string> param_names() const override { return {"alpha", "beta", "gamma", "delta"}; }
  ModelTag tag() const override { return kTag; }
  /// Reads a model written by `save`; ModelFormatError when the bytes are not one.
  static BetaGeoBetaBinom load(std::istream& in) {
    BetaGeoBetaBinom model;
    model.read(in, kTag);
    return model;
  }
  static constexpr ModelTag kTag = model_tag("BGBB");
};

}  // namespace crmine
