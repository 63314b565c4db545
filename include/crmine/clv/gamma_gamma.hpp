// SPDX-License-Identifier: Apache-2.0
// The Gamma-Gamma model of spend per transaction (Fader, Hardie & Lee 2005; Fader & Hardie 2013).
#pragma once

#include <crmine/clv/model.hpp>

namespace crmine {

/// Gamma-Gamma spend: a customer's transaction values are Gamma(p, nu), nu ~ Gamma(q, gamma), so
/// the mean zbar of x repeat transactions has density
/// Gamma(px+q) / (Gamma(px) Gamma(q)) * gamma^q * x^(px) * zbar^(px-1) / (gamma + x zbar)^(px+q).
/// Fitted on customers with x > 0; spend is assumed independent of the purchase process.
///
/// Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). RFM and CLV: using iso-value curves for
/// customer base analysis. Journal of Marketing Research 42(4), 415-430.
/// Parameters: p, q, gamma.
class GammaGamma {
 public:
  explicit GammaGamma(ClvFitOptions options = {}) : options_(std::move(options)) {}
  /// Fits on repeat customers: every frequency must be a whole number >= 1 and every
  /// monetary_value finite and > 0. `weights` optional (customers per row).
  GammaGamma& fit(std::span<const double> frequency, std::span<const double> monetary_value,
                  std::span<const double> weights = {});
  /// Total log-likelihood with every term of the density; optionally its gradient in (p, q, gamma).
  double log_likelihood(std::span<const double> frequency, std::span<const double> monetary_value,
                        std::span<const double> weights = {}, Eigen::VectorXd* gradient = nullptr) const;
  /// E[spend per transaction | x, zbar] = p (gamma + x zbar) / (p x + q - 1); the population mean
  /// p gamma / (q - 1) for x = 0. Needs q > 1.
  std::vector<double> conditional_expected_average_profit(std::span<const double> frequency,
                                                          std::span<const double> monetary_value) const;
  std::vector<std::string> param_names() const { return {"p", "q", "gamma"}; }

  bool is_fitted() const { return fitted_; }
  const Eigen::VectorXd& params() const;
  const Eigen::VectorXd& standard_errors() const;
  const ClvFitReport& report() const;
  const ClvFitOptions& options() const { return options_; }
  void set_params(const Eigen::VectorXd& params);
  /// Writes the fitted model in crmine's versioned format (tag GAMG).
  void save(std::ostream& out) const;
  /// Reads a model written by `save`; ModelFormatError when the bytes are not one.
  static GammaGamma load(std::istream& in);
  static constexpr ModelTag kTag = model_tag("GAMG");

 private:
  void check_fitted(const char* caller) const;
  ClvFitOptions options_;
  Eigen::VectorXd params_;
  Eigen::VectorXd standard_errors_;
  ClvFitReport report_;
  bool fitted_ = false;
};

}  // namespace crmine
