// SPDX-License-Identifier: Apache-2.0
// Shared machinery of the static-covariate models: per-customer parameters, the likelihood with
// its gradient chained through them, the fit and per-customer predictions.
#pragma once

#include "engine.hpp"

#include <crmine/clv/model.hpp>
#include <crmine/core/errors.hpp>

#include <array>
#include <cmath>
#include <span>
#include <string>
#include <vector>

namespace crmine::detail {

/// How covariates scale the four base parameters: parameter j of customer i is
/// p_j exp(trans[j] gamma_trans' z_trans_i + life[j] gamma_life' z_life_i), so each sign is -1, 0
/// or +1 (CLVTools: alpha_i = alpha_0 exp(-gamma_trans' z), a_i, b_i = a_0, b_0 exp(gamma_life' z)).
struct CovariateLayout {
  std::array<double, 4> trans, life;
};

/// The covariate-scaled base parameters of customer (row) i.
inline std::array<double, 4> customer_params(const Eigen::VectorXd& p, int n_trans, int n_life,
                                             const CovariateLayout& layout, const MatrixRef& zt, const MatrixRef& zl,
                                             Eigen::Index i) {
  double et = 0.0, el = 0.0;
  for (int k = 0; k < n_trans; ++k) et += zt(i, k) * p[4 + k];
  for (int k = 0; k < n_life; ++k) el += zl(i, k) * p[4 + n_trans + k];
  std::array<double, 4> q;
  for (std::size_t j = 0; j < 4; ++j)
    q[j] = p[static_cast<Eigen::Index>(j)] * std::exp(layout.trans[j] * et + layout.life[j] * el);
  return q;
}

/// ln L and its gradient in the natural parameters, summed in fixed blocks (deterministic).
/// `row(q, x, t_x, T, g)` returns a customer's ln L at base parameters q and writes d ln L / d q
/// to g; the chain rule through q_j = p_j exp(...) gives d q_j / d p_j = q_j / p_j and
/// d q_j / d gamma_k = sign_j q_j z_k.
template <typename RowFn>
double covariate_log_likelihood(const Eigen::VectorXd& p, int n_trans, int n_life, const CovariateLayout& layout,
                                const ClvData& d, const MatrixRef& zt, const MatrixRef& zl, Eigen::VectorXd& grad,
                                int n_jobs, RowFn&& row) {
  const std::size_t n = d.size();
  const auto n_params = p.size();
  const std::size_t n_blocks = (n + kBlock - 1) / kBlock;
  std::vector<double> values(n_blocks, 0.0);
  std::vector<Eigen::VectorXd> grads(n_blocks, Eigen::VectorXd::Zero(n_params));
  const int threads = n_blocks > 1 ? resolve_threads(n_jobs) : 1;
#pragma omp parallel for schedule(static) num_threads(threads)
  for (std::ptrdiff_t b = 0; b < static_cast<std::ptrdiff_t>(n_blocks); ++b) {
    const std::size_t lo = static_cast<std::size_t>(b) * kBlock, hi = std::min(n, lo + kBlock);
    double acc = 0.0;
    Eigen::VectorXd& g = grads[static_cast<std::size_t>(b)];
    for (std::size_t i = lo; i < hi; ++i) {
      const double w = d.weights.empty() ? 1.0 : d.weights[i];
      if (w == 0.0) continue;
      const auto r = static_cast<Eigen::Index>(i);
      const std::array<double, 4> q = customer_params(p, n_trans, n_life, layout, zt, zl, r);
      std::array<double, 4> gq{};
      acc += w * row(q, d.frequency[i], d.recency[i], d.T[i], gq);
      double dt = 0.0, dl = 0.0;  // d ln L / d (gamma' z) of each group
      for (std::size_t j = 0; j < 4; ++j) {
        const auto jj = static_cast<Eigen::Index>(j);
        g[jj] += w * gq[j] * q[j] / p[jj];
        dt += gq[j] * q[j] * layout.trans[j];
        dl += gq[j] * q[j] * layout.life[j];
      }
      for (int k = 0; k < n_trans; ++k) g[4 + k] += w * dt * zt(r, k);
      for (int k = 0; k < n_life; ++k) g[4 + n_trans + k] += w * dl * zl(r, k);
    }
    values[static_cast<std::size_t>(b)] = acc;
  }
  double total = 0.0;
  grad = Eigen::VectorXd::Zero(n_params);
  for (std::size_t b = 0; b < n_blocks; ++b) {
    total += values[b];
    grad += grads[b];
  }
  return total;
}

/// The starting point of a covariate fit: options.initial_params when given (checked), else
/// `plain` (the plain model's fitted parameters) with zero coefficients.
inline Eigen::VectorXd covariate_start(const ClvFitOptions& options, Eigen::Index n_params, const char* caller,
                                       const std::function<Eigen::VectorXd()>& plain) {
  Eigen::VectorXd start = Eigen::VectorXd::Zero(n_params);
  if (!options.initial_params.empty()) {
    if (static_cast<Eigen::Index>(options.initial_params.size()) != n_params)
      throw_invalid(caller, "initial_params", "has ", options.initial_params.size(), " values, the model has ",
                    n_params);
    start = Eigen::Map<const Eigen::VectorXd>(options.initial_params.data(), n_params);
    check_params(start.head(4), 4, caller);
    if (!start.allFinite()) throw_invalid(caller, "initial_params", "contains NaN or infinity");
  } else {
    start.head(4) = plain();
  }
  return start;
}

/// Maximises covariate_log_likelihood over (log base parameters, coefficients) from `start`.
template <typename RowFn>
FitOutcome fit_covariates(const ClvData& data, const MatrixRef& zt, const MatrixRef& zl, const Eigen::VectorXd& start,
                          const ClvFitOptions& options, const CovariateLayout& layout, const char* caller, RowFn&& row) {
  const int kt = static_cast<int>(zt.cols()), kl = static_cast<int>(zl.cols());
  double total_weight = 0.0;
  for (std::size_t i = 0; i < data.size(); ++i) total_weight += data.weights.empty() ? 1.0 : data.weights[i];
  const LogLikelihood ll = [&](const Eigen::VectorXd& theta, Eigen::VectorXd& grad) {
    Eigen::VectorXd p = theta;
    p.head(4) = theta.head(4).array().exp().matrix();
    const double v = covariate_log_likelihood(p, kt, kl, layout, data, zt, zl, grad, options.n_jobs, row);
    grad.head(4) = grad.head(4).cwiseProduct(p.head(4));  // d/d log p
    return v;
  };
  return maximize(ll, start, options, total_weight, data.size(), caller, 4);
}

/// fn(q, x, t_x, T) per customer at its covariate-scaled parameters, in parallel for large inputs.
template <typename Fn>
std::vector<double> per_covariate_customer(const Eigen::VectorXd& p, int n_trans, int n_life,
                                           const CovariateLayout& layout, const ClvData& c, const MatrixRef& zt,
                                           const MatrixRef& zl, int n_jobs, Fn&& fn) {
  std::vector<double> out(c.size());
  const int threads = c.size() > 4096 ? resolve_threads(n_jobs) : 1;
#pragma omp parallel for schedule(static) num_threads(threads)
  for (std::ptrdiff_t i = 0; i < static_cast<std::ptrdiff_t>(c.size()); ++i) {
    const auto k = static_cast<std::size_t>(i);
    out[k] = fn(customer_params(p, n_trans, n_life, layout, zt, zl, i), c.frequency[k], c.recency[k], c.T[k]);
  }
  return out;
}

}  // namespace crmine::detail

namespace crmine {

template <typename Kernel>
void CovariateTransactionModel::fit_with(const ClvData& data, MatrixRef z_trans, MatrixRef z_life) {
  const char* caller = Kernel::kName;
  ClvFitOptions plain_options = options_;
  plain_options.initial_params.clear();
  detail::check_options(plain_options, 4, caller);
  detail::check_customers(data, caller, detail::DataKind::continuous, true);
  check_covariates(data, z_trans, z_life, caller, true);
  const int kt = static_cast<int>(z_trans.cols()), kl = static_cast<int>(z_life.cols());
  // The plain model's fit (collapsed, fast) with zero coefficients is a good starting point.
  const Eigen::VectorXd start = detail::covariate_start(options_, 4 + kt + kl, caller,
                                                       [&] { return Kernel::plain_fit(data, plain_options); });
  detail::FitOutcome out =
      detail::fit_covariates(data, z_trans, z_life, start, options_, Kernel::kLayout, caller, Kernel::row);
  store(std::move(out.params), std::move(out.standard_errors), std::move(out.report), kt, kl);
}

template <typename Kernel>
double CovariateTransactionModel::log_likelihood_with(const ClvData& data, MatrixRef z_trans, MatrixRef z_life,
                                                      Eigen::VectorXd* gradient) const {
  const std::string caller = detail::concat(Kernel::kName, "::log_likelihood");
  check_fitted(caller.c_str());
  detail::check_customers(data, caller.c_str(), detail::DataKind::continuous, true);
  check_covariates(data, z_trans, z_life, caller.c_str(), false);
  Eigen::VectorXd grad;
  const double v = detail::covariate_log_likelihood(params_, n_trans_, n_life_, Kernel::kLayout, data, z_trans, z_life,
                                                    grad, options_.n_jobs, Kernel::row);
  if (gradient != nullptr) *gradient = grad;
  return v;
}

template <typename Kernel>
std::vector<double> CovariateTransactionModel::alive_with(const ClvData& customers, MatrixRef z_trans,
                                                          MatrixRef z_life) const {
  const std::string caller = detail::concat(Kernel::kName, "::conditional_probability_alive");
  check_fitted(caller.c_str());
  detail::check_customers(customers, caller.c_str(), detail::DataKind::continuous, true);
  check_covariates(customers, z_trans, z_life, caller.c_str(), false);
  return detail::per_covariate_customer(params_, n_trans_, n_life_, Kernel::kLayout, customers, z_trans, z_life,
                                        options_.n_jobs, Kernel::p_alive);
}

template <typename Kernel>
std::vector<double> CovariateTransactionModel::expected_with(std::span<const double> t, std::span<const double> weight,
                                                             const ClvData& customers, MatrixRef z_trans,
                                                             MatrixRef z_life, const char* caller) const {
  check_fitted(caller);
  for (double h : t) detail::check_horizon(h, caller);
  detail::check_customers(customers, caller, detail::DataKind::continuous, true);
  check_covariates(customers, z_trans, z_life, caller, false);
  return detail::per_covariate_customer(params_, n_trans_, n_life_, Kernel::kLayout, customers, z_trans, z_life,
                                        options_.n_jobs,
                                        [&](const std::array<double, 4>& q, double x, double tx, double T) {
                                          return Kernel::expected(q, t, weight, x, tx, T);
                                        });
}

template <typename Kernel>
std::vector<double> CovariateTransactionModel::new_customer_expected_with(double t, MatrixRef z_trans,
                                                                          MatrixRef z_life) const {
  const std::string caller = detail::concat(Kernel::kName, "::expected_number_of_purchases_up_to_time");
  check_fitted(caller.c_str());
  detail::check_horizon(t, caller.c_str());
  const Eigen::Index n = check_new_customers(z_trans, z_life, caller.c_str());
  std::vector<double> out(static_cast<std::size_t>(n));
  const double one = 1.0;
  for (Eigen::Index i = 0; i < n; ++i) {
    const auto q = detail::customer_params(params_, n_trans_, n_life_, Kernel::kLayout, z_trans, z_life, i);
    // A new customer: observed for T = 0 without repeat purchases, alive for sure.
    out[static_cast<std::size_t>(i)] = Kernel::expected(q, {&t, 1}, {&one, 1}, 0.0, 0.0, 0.0);
  }
  return out;
}

/// The overrides of a covariate model `Class` as calls of the shared bodies with `Kernel`.
#define CRMINE_COVARIATE_MODEL_METHODS(Class, Kernel)                                                               \
  Class& Class::fit(const ClvData& data, MatrixRef z_trans, MatrixRef z_life) {                                     \
    fit_with<Kernel>(data, z_trans, z_life);                                                                        \
    return *this;                                                                                                   \
  }                                                                                                                 \
  double Class::log_likelihood(const ClvData& data, MatrixRef z_trans, MatrixRef z_life,                            \
                               Eigen::VectorXd* gradient) const {                                                   \
    return log_likelihood_with<Kernel>(data, z_trans, z_life, gradient);                                            \
  }                                                                                                                 \
  std::vector<double> Class::conditional_probability_alive(const ClvData& customers, MatrixRef z_trans,             \
                                                           MatrixRef z_life) const {                                \
    return alive_with<Kernel>(customers, z_trans, z_life);                                                          \
  }                                                                                                                 \
  std::vector<double> Class::conditional_expected_number_of_purchases_up_to_time(                                   \
      double t, const ClvData& customers, MatrixRef z_trans, MatrixRef z_life) const {                              \
    const double one = 1.0;                                                                                         \
    return expected_with<Kernel>({&t, 1}, {&one, 1}, customers, z_trans, z_life,                                    \
                                 #Class "::conditional_expected_number_of_purchases_up_to_time");                   \
  }                                                                                                                 \
  std::vector<double> Class::discounted_expected_purchases(const ClvData& customers, MatrixRef z_trans,             \
                                                           MatrixRef z_life, const ClvOptions& options) const {     \
    detail::check_clv_options(options, #Class "::discounted_expected_purchases");                                   \
    std::vector<double> horizons;                                                                                   \
    const std::vector<double> weights = detail::discount_weights(options, horizons);                                \
    return expected_with<Kernel>(horizons, weights, customers, z_trans, z_life,                                     \
                                 #Class "::discounted_expected_purchases");                                         \
  }                                                                                                                 \
  std::vector<double> Class::expected_number_of_purchases_up_to_time(double t, MatrixRef z_trans,                   \
                                                                     MatrixRef z_life) const {                      \
    return new_customer_expected_with<Kernel>(t, z_trans, z_life);                                                  \
  }

}  // namespace crmine
