// SPDX-License-Identifier: Apache-2.0
// BG/NBD (Fader, Hardie & Lee 2005) and MBG/NBD (Batislam, Denizel & Filiztekin 2007) models of
// repeat purchasing with a beta-geometric dropout after each purchase.
#pragma once

#include <crmine/clv/model.hpp>

namespace crmine {

/// BG/NBD: purchases are Poisson(lambda) while alive, lambda ~ Gamma(r, alpha); after every
/// repeat purchase the customer drops out with probability p ~ Beta(a, b).
///
/// Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). "Counting your customers" the easy way:
/// an alternative to the Pareto/NBD model. Marketing Science 24(2), 275-284.
/// Parameters: r, alpha, a, b.
class BetaGeo final : public TransactionModel {
 public:
  explicit BetaGeo(ClvFitOptions options = {}) : TransactionModel(std::move(options)) {}
  BetaGeo& fit(const ClvData& data) override;
  double log_likelihood(const ClvData& data, Eigen::VectorXd* gradient = nullptr) const override;
  std::vector<double> conditional_probability_alive(const ClvData& customers) const override;
  std::vector<double> conditional_expected_number_of_purchases_up_to_time(double t,
                                                                          const ClvData& customers) const override;
  double expected_number_of_purchases_up_to_time(double t) const override;
  double probability_of_n_purchases_up_to_time(double t, int n) const override;
  std::vector<double> conditional_probability_of_n_purchases_up_to_time(int n, double t,
                                                                        const ClvData& customers) const override;
  std::vector<double> discounted_expected_purchases(const ClvData& customers, const ClvOptions& options) const override;
  std::vector<std::string> param_names() const override { return {"r", "alpha", "a", "b"}; }
  ModelTag tag() const override { return kTag; }
  /// Reads a model written by `save`; ModelFormatError when the bytes are not one.
  static BetaGeo load(std::istream& in) {
    BetaGeo model;
    model.read(in, kTag);
    return model;
  }
  static constexpr ModelTag kTag = model_tag("BGNB");
};

/// MBG/NBD: as BG/NBD, but a customer may also drop out right after the first purchase, so
/// customers without repeat purchases can be dead too.
///
/// Batislam, E. P., Denizel, M. & Filiztekin, A. (2007). Empirical validation and comparison of
/// models for customer base analysis. International Journal of Research in Marketing 24(3),
/// 201-209. Parameters: r, alpha, a, b.
class ModifiedBetaGeo final : public TransactionModel {
 public:
  explicit ModifiedBetaGeo(ClvFitOptions options = {}) : TransactionModel(std::move(options)) {}
  ModifiedBetaGeo& fit(const ClvData& data) override;
  double log_likelihood(const ClvData& data, Eigen::VectorXd* gradient = nullptr) const override;
  std::vector<double> conditional_probability_alive(const ClvData& customers) const override;
  std::vector<double> conditional_expected_number_of_purchases_up_to_time(double t,
                                                                          const ClvData& customers) const override;
  double expected_number_of_purchases_up_to_time(double t) const override;
  double probability_of_n_purchases_up_to_time(double t, int n) const override;
  std::vector<double> conditional_probability_of_n_purchases_up_to_time(int n, double t,
                                                                        const ClvData& customers) const override;
  std::vector<double> discounted_expected_purchases(const ClvData& customers, const ClvOptions& options) const override;
  std::vector<std::string> param_names() const override { return {"r", "alpha", "a", "b"}; }
  ModelTag tag() const override { return kTag; }
  /// Reads a model written by `save`; ModelFormatError when the bytes are not one.
  static ModifiedBetaGeo load(std::istream& in) {
    ModifiedBetaGeo model;
    model.read(in, kTag);
    return model;
  }
  static constexpr ModelTag kTag = model_tag("MBGN");
};

/// BG/NBD with static (time-invariant) customer covariates, parameterised as CLVTools does:
/// alpha_i = alpha_0 exp(-gamma_trans' z_trans_i), a_i = a_0 exp(gamma_life' z_life_i) and
/// b_i = b_0 exp(gamma_life' z_life_i), with r shared. A positive purchase coefficient raises the
/// purchase rate (mean r / alpha_i); a lifetime coefficient scales a and b together, so it
/// keeps the mean dropout probability a / (a + b) and changes how concentrated it is across
/// customers. Without covariate columns it is the plain BG/NBD (Fader & Hardie 2007,
/// "Incorporating time-invariant covariates into the Pareto/NBD and BG/NBD models").
/// Parameters: r, alpha_0, a_0, b_0, gamma_trans, gamma_life.
class BetaGeoCovariates final : public CovariateTransactionModel {
 public:
  explicit BetaGeoCovariates(ClvFitOptions options = {}) : CovariateTransactionModel(std::move(options)) {}
  BetaGeoCovariates& fit(const ClvData& data, MatrixRef z_trans, MatrixRef z_life) override;
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
  std::vector<std::string> param_names() const override { return {"r", "alpha", "a", "b"}; }
  ModelTag tag() const override { return kTag; }
  /// Reads a model written by `save`; ModelFormatError when the bytes are not one.
  static BetaGeoCovariates load(std::istream& in) {
    BetaGeoCovariates model;
    model.read(in, kTag);
    return model;
  }
  static constexpr ModelTag kTag = model_tag("BGNC");
};

}  // namespace crmine
