// SPDX-License-Identifier: Apache-2.0
// Gamma-Gamma spend model: full-density likelihood, fit and conditional expected spend.
#include <crmine/clv/gamma_gamma.hpp>
#include <crmine/core/errors.hpp>

#include "engine.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <numeric>

namespace crmine {
namespace {

using detail::log_gamma;

constexpr const char* kName = "GammaGamma";

/// Spend rows (x, zbar) with weights; identical rows merged when `collapse_rows`. The likelihood's
/// terms in x alone (two log-gammas) are evaluated once per distinct x: repeat-purchase counts take a
/// few dozen values against thousands of customers.
struct SpendRows {
  std::vector<double> x, m, w;
  std::vector<double> group_x, group_log_x, group_w;  ///< per distinct x: value, log, summed weight
  double sum_wx_log_m = 0.0, sum_w_log_m = 0.0;      ///< sums of w x ln zbar and w ln zbar over rows
  double total_weight = 0.0;
};

SpendRows spend_rows(std::span<const double> frequency, std::span<const double> monetary_value,
                     std::span<const double> weights, bool collapse_rows, const char* caller) {
  const std::size_t n = frequency.size();
  if (n == 0) detail::throw_invalid(caller, "frequency", "is empty");
  if (monetary_value.size() != n)
    detail::throw_invalid(caller, "monetary_value", "has ", monetary_value.size(), " entries, frequency has ", n);
  if (!weights.empty() && weights.size() != n)
    detail::throw_invalid(caller, "weights", "has ", weights.size(), " entries, frequency has ", n);
  for (std::size_t i = 0; i < n; ++i) {
    const double x = frequency[i], m = monetary_value[i];
    if (!std::isfinite(x) || x < 1.0 || x != std::floor(x))
      detail::throw_invalid(caller, "frequency", "row ", i, " is ", x,
                            "; the spend model is fitted on repeat customers: whole numbers >= 1");
    if (!std::isfinite(m) || m <= 0.0)
      detail::throw_invalid(caller, "monetary_value", "row ", i, " is ", m, "; must be finite and > 0");
    if (!weights.empty() && (!std::isfinite(weights[i]) || weights[i] < 0.0))
      detail::throw_invalid(caller, "weights", "row ", i, " is ", weights[i], "; must be >= 0");
  }
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), std::size_t{0});
  if (collapse_rows)
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
      return std::pair(frequency[a], monetary_value[a]) < std::pair(frequency[b], monetary_value[b]);
    });
  SpendRows rows;
  for (std::size_t i : order) {
    const double w = weights.empty() ? 1.0 : weights[i];
    rows.total_weight += w;
    if (collapse_rows && !rows.x.empty() && rows.x.back() == frequency[i] && rows.m.back() == monetary_value[i]) {
      rows.w.back() += w;
    } else {
      rows.x.push_back(frequency[i]);
      rows.m.push_back(monetary_value[i]);
      rows.w.push_back(w);
    }
  }
  if (rows.total_weight <= 0.0) detail::throw_invalid(caller, "weights", "sum to 0");
  for (std::size_t i = 0; i < rows.m.size(); ++i) {
    const double log_m = std::log(rows.m[i]);
    rows.sum_wx_log_m += rows.w[i] * rows.x[i] * log_m;
    rows.sum_w_log_m += rows.w[i] * log_m;
  }
  rows.group_x = rows.x;
  std::sort(rows.group_x.begin(), rows.group_x.end());
  rows.group_x.erase(std::unique(rows.group_x.begin(), rows.group_x.end()), rows.group_x.end());
  rows.group_w.assign(rows.group_x.size(), 0.0);
  for (std::size_t i = 0; i < rows.x.size(); ++i)
    rows.group_w[static_cast<std::size_t>(std::lower_bound(rows.group_x.begin(), rows.group_x.end(), rows.x[i]) -
                                          rows.group_x.begin())] += rows.w[i];
  rows.group_log_x.resize(rows.group_x.size());
  for (std::size_t g = 0; g < rows.group_x.size(); ++g) rows.group_log_x[g] = std::log(rows.group_x[g]);
  return rows;
}

/// A log-likelihood with its gradient in (p, q, gamma).
struct ValueGradient {
  double v = 0.0;
  std::array<double, 3> g{};
};

/// Every term of ln f(zbar | p, q, gamma, x), so the value matches published log-likelihoods:
/// per distinct x, ln Gamma(px+q) - ln Gamma(px) + px ln x - ln Gamma(q) + q ln gamma; per row,
/// (px-1) ln zbar - (px+q) ln(gamma + x zbar). The sums of w x ln zbar and w ln zbar do not
/// depend on the parameters, so a row costs one log and one division per evaluation. The
/// gradient is hand-derived (digamma for the log-gammas).
ValueGradient total(const SpendRows& rows, double p, double q, double gamma) {
  using detail::digamma;
  ValueGradient out;
  const double log_gamma_scale = std::log(gamma), per_group = -log_gamma(q) + q * log_gamma_scale;
  const double psi_q = digamma(q);
  for (std::size_t g = 0; g < rows.group_x.size(); ++g) {
    const double x = rows.group_x[g], w = rows.group_w[g], px = p * x;
    const double psi_sum = digamma(px + q);
    out.v += w * (log_gamma(px + q) - log_gamma(px) + px * rows.group_log_x[g] + per_group);
    out.g[0] += w * x * (psi_sum - digamma(px) + rows.group_log_x[g]);
    out.g[1] += w * (psi_sum - psi_q + log_gamma_scale);
    out.g[2] += w * (q / gamma);
  }
  double sum_xl = 0.0, sum_l = 0.0, sum_inv = 0.0;
  for (std::size_t i = 0; i < rows.x.size(); ++i) {
    const double x = rows.x[i], w = rows.w[i], spend = gamma + x * rows.m[i];
    const double l = std::log(spend);
    sum_xl += w * x * l;
    sum_l += w * l;
    sum_inv += w * (p * x + q) / spend;
  }
  out.v += p * rows.sum_wx_log_m - rows.sum_w_log_m - (p * sum_xl + q * sum_l);
  out.g[0] += rows.sum_wx_log_m - sum_xl;
  out.g[1] -= sum_l;
  out.g[2] -= sum_inv;
  return out;
}

}  // namespace

void GammaGamma::check_fitted(const char* caller) const {
  if (!fitted_) throw NotFittedError(detail::concat(caller, ": the model is not fitted; call fit or set_params"));
}

const Eigen::VectorXd& GammaGamma::params() const {
  check_fitted("GammaGamma::params");
  return params_;
}

const Eigen::VectorXd& GammaGamma::standard_errors() const {
  check_fitted("GammaGamma::standard_errors");
  return standard_errors_;
}

const ClvFitReport& GammaGamma::report() const {
  check_fitted("GammaGamma::report");
  return report_;
}

void GammaGamma::set_params(const Eigen::VectorXd& params) {
  detail::check_params(params, 3, "GammaGamma::set_params");
  params_ = params;
  standard_errors_ = Eigen::VectorXd::Constant(3, std::numeric_limits<double>::quiet_NaN());
  report_ = {};
  report_.message = "parameters set, not fitted";
  fitted_ = true;
}

void GammaGamma::save(std::ostream& out) const {
  check_fitted("GammaGamma::save");
  detail::write_state(out, kTag, {options_, report_, params_, standard_errors_});
}

GammaGamma GammaGamma::load(std::istream& in) {
  detail::SavedState s = detail::read_state(in, kTag, 3);
  GammaGamma model(std::move(s.options));
  model.report_ = std::move(s.report);
  model.params_ = std::move(s.params);
  model.standard_errors_ = std::move(s.standard_errors);
  model.fitted_ = true;
  return model;
}

GammaGamma& GammaGamma::fit(std::span<const double> frequency, std::span<const double> monetary_value,
                            std::span<const double> weights) {
  detail::check_options(options_, 3, kName);
  const SpendRows rows = spend_rows(frequency, monetary_value, weights, true, kName);
  const detail::LogLikelihood ll = [&](const Eigen::VectorXd& theta, Eigen::VectorXd& grad) {
    const double p = std::exp(theta[0]), q = std::exp(theta[1]), gamma = std::exp(theta[2]);
    const ValueGradient v = total(rows, p, q, gamma);
    grad << v.g[0] * p, v.g[1] * q, v.g[2] * gamma;  // d/d log p
    return v.v;
  };
  detail::FitOutcome out = detail::maximize(ll, detail::initial_point(options_, Eigen::Vector3d(1.0, 1.0, 1.0)),
                                            options_, rows.total_weight, rows.x.size(), kName);
  params_ = std::move(out.params);
  standard_errors_ = std::move(out.standard_errors);
  report_ = std::move(out.report);
  fitted_ = true;
  return *this;
}

double GammaGamma::log_likelihood(std::span<const double> frequency, std::span<const double> monetary_value,
                                  std::span<const double> weights, Eigen::VectorXd* gradient) const {
  check_fitted("GammaGamma::log_likelihood");
  const SpendRows rows = spend_rows(frequency, monetary_value, weights, false, kName);
  const ValueGradient v = total(rows, params_[0], params_[1], params_[2]);
  if (gradient != nullptr) {
    gradient->resize(3);
    *gradient << v.g[0], v.g[1], v.g[2];
  }
  return v.v;
}

std::vector<double> GammaGamma::conditional_expected_average_profit(std::span<const double> frequency,
                                                                    std::span<const double> monetary_value) const {
  const char* caller = "GammaGamma::conditional_expected_average_profit";
  check_fitted(caller);
  const double p = params_[0], q = params_[1], gamma = params_[2];
  if (!(q > 1.0)) detail::throw_invalid(caller, "q", "is ", q, "; the expected spend exists only for q > 1");
  if (monetary_value.size() != frequency.size())
    detail::throw_invalid(caller, "monetary_value", "has ", monetary_value.size(), " entries, frequency has ",
                          frequency.size());
  std::vector<double> out(frequency.size());
  for (std::size_t i = 0; i < out.size(); ++i) {
    const double x = frequency[i], m = monetary_value[i];
    if (!std::isfinite(x) || x < 0.0 || x != std::floor(x))
      detail::throw_invalid(caller, "frequency", "row ", i, " is ", x, "; must be a whole number >= 0");
    if (!std::isfinite(m) || m < 0.0 || (x > 0.0 && m == 0.0))
      detail::throw_invalid(caller, "monetary_value", "row ", i, " is ", m, "; must be > 0 for repeat customers");
    out[i] = p * (gamma + x * m) / (p * x + q - 1.0);
  }
  return out;
}

}  // namespace crmine
