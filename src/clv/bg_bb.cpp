// SPDX-License-Identifier: Apache-2.0
// BG/BB: likelihood over discrete opportunities, fit and predictions (Fader, Hardie & Shang 2010).
#include <crmine/clv/bg_bb.hpp>
#include <crmine/core/errors.hpp>

#include "engine.hpp"

#include <cmath>

namespace crmine {
namespace {

using detail::Dual;
using detail::log_beta;
using detail::log_gamma;

constexpr const char* kName = "BetaGeoBetaBinom";

/// ln L without the -ln B(alpha, beta) - ln B(gamma, delta) normalisers (eq. 5 of the paper): alive
/// through all n opportunities, or dead right after opportunity t_x + i, i = 0..n - t_x - 1.
template <typename S>
S log_mixture(const std::array<S, 4>& p, double x, double tx, double n) {
  const S &alpha = p[0], &beta = p[1], &gamma = p[2], &delta = p[3];
  S acc = log_beta(alpha + x, beta + (n - x)) + log_beta(gamma, delta + n);
  for (double i = 0.0; i < n - tx; i += 1.0)
    acc = detail::log_add_exp(acc, log_beta(alpha + x, beta + (tx - x + i)) + log_beta(gamma + 1.0, delta + (tx + i)));
  return acc;
}

template <typename S>
S total(const detail::Collapsed& d, const std::array<S, 4>& p, int n_jobs) {
  const S norm = -log_beta(p[0], p[1]) - log_beta(p[2], p[3]);
  return detail::sum_log_likelihood<S>(
      d, [&](double) { return norm; }, [&](double x, double tx, double n) { return log_mixture(p, x, tx, n); },
      n_jobs);
}

std::array<double, 4> values(const Eigen::VectorXd& params) { return {params[0], params[1], params[2], params[3]}; }

void check_periods(double t, const char* caller) {
  detail::check_horizon(t, caller);
  if (t != std::floor(t)) detail::throw_invalid(caller, "t", "is ", t, "; must be a whole number of opportunities");
}

/// ln C(n, k).
double log_choose(double n, double k) { return log_gamma(n + 1.0) - log_gamma(k + 1.0) - log_gamma(n - k + 1.0); }

/// P(X(n) = x) over the first n opportunities of a customer alive at the start (Fader, Hardie &
/// Shang 2010, eq. 8): alive throughout with x purchases, or dead after opportunity i >= x with x
/// purchases among the first i.
double bgbb_pmf(double alpha, double beta, double gamma, double delta, double n, double x) {
  if (x > n) return 0.0;
  const double norm = log_beta(alpha, beta) + log_beta(gamma, delta);
  double acc = log_choose(n, x) + log_beta(alpha + x, beta + n - x) + log_beta(gamma, delta + n);
  for (double i = x; i < n; i += 1.0)
    acc = detail::log_add_exp(acc, log_choose(i, x) + log_beta(alpha + x, beta + i - x) + log_beta(gamma + 1.0, delta + i));
  return std::exp(acc - norm);
}

}  // namespace

BetaGeoBetaBinom& BetaGeoBetaBinom::fit(const ClvData& data) {
  detail::check_options(options_, 4, kName);
  const detail::Collapsed d = detail::collapse(data, kName, detail::DataKind::discrete, options_.n_jobs);
  const detail::LogLikelihood ll = [&](const Eigen::VectorXd& theta, Eigen::VectorXd& grad) {
    const auto p = detail::log_seeded<4>(theta.array().exp().matrix());
    const Dual<4> v = total(d, p, options_.n_jobs);
    for (int i = 0; i < 4; ++i) grad[i] = v.d[static_cast<std::size_t>(i)];
    return v.v;
  };
  detail::FitOutcome out = detail::maximize(ll, detail::initial_point(options_, Eigen::Vector4d(1.0, 1.0, 1.0, 1.0)),
                                            options_, d.total_weight, d.size(), kName);
  params_ = std::move(out.params);
  standard_errors_ = std::move(out.standard_errors);
  report_ = std::move(out.report);
  fitted_ = true;
  return *this;
}

double BetaGeoBetaBinom::log_likelihood(const ClvData& data, Eigen::VectorXd* gradient) const {
  check_fitted("BetaGeoBetaBinom::log_likelihood");
  const detail::Collapsed d = detail::as_rows(data, kName, detail::DataKind::discrete);
  // The per-x term is a constant normaliser; as_rows gives one "distinct x" per row, so it is
  // added once per row, as it must be.
  if (gradient == nullptr) return total(d, values(params_), options_.n_jobs);
  std::array<Dual<4>, 4> p;
  for (int i = 0; i < 4; ++i) p[static_cast<std::size_t>(i)] = Dual<4>::variable(params_[i], i);
  const Dual<4> v = total(d, p, options_.n_jobs);
  gradient->resize(4);
  for (int i = 0; i < 4; ++i) (*gradient)[i] = v.d[static_cast<std::size_t>(i)];
  return v.v;
}

std::vector<double> BetaGeoBetaBinom::conditional_probability_alive(const ClvData& customers) const {
  const char* caller = "BetaGeoBetaBinom::conditional_probability_alive";
  check_fitted(caller);
  const auto p = values(params_);
  return detail::per_customer(customers, caller, detail::DataKind::discrete, options_.n_jobs,
                              [&](double x, double tx, double n) {
                                // P(alive at n+1) = B(a+x, b+n-x) B(g, d+n+1) / (B(a,b) B(g,d) L).
                                return std::exp(log_beta(p[0] + x, p[1] + n - x) + log_beta(p[2], p[3] + n + 1.0) -
                                                log_mixture(p, x, tx, n));
                              });
}

std::vector<double> BetaGeoBetaBinom::conditional_expected_number_of_purchases_up_to_time(
    double t, const ClvData& customers) const {
  const char* caller = "BetaGeoBetaBinom::conditional_expected_number_of_purchases_up_to_time";
  check_fitted(caller);
  check_periods(t, caller);
  const auto p = values(params_);
  const double alpha = p[0], beta = p[1], gamma = p[2], delta = p[3];
  return detail::per_customer(customers, caller, detail::DataKind::discrete, options_.n_jobs,
                              [&](double x, double tx, double n) {
                                // Eq. 13: B(a+x+1, b+n-x) delta/(gamma-1) Gamma(gamma+delta)/Gamma(1+delta)
                                // [G(1+d+n)/G(g+d+n) - G(1+d+n+t)/G(g+d+n+t)] / (B(a,b) B(g,d) L).
                                const double lead = log_beta(alpha + x + 1.0, beta + n - x) - log_mixture(p, x, tx, n) +
                                                    log_gamma(gamma + delta) - log_gamma(1.0 + delta) +
                                                    log_beta(gamma, delta);
                                const double u = log_gamma(1.0 + delta + n) - log_gamma(gamma + delta + n);
                                const double v = log_gamma(1.0 + delta + n + t) - log_gamma(gamma + delta + n + t);
                                return delta / (gamma - 1.0) * std::exp(lead + u) * -std::expm1(v - u);
                              });
}

double BetaGeoBetaBinom::expected_number_of_purchases_up_to_time(double t) const {
  const char* caller = "BetaGeoBetaBinom::expected_number_of_purchases_up_to_time";
  check_fitted(caller);
  check_periods(t, caller);
  const double alpha = params_[0], beta = params_[1], gamma = params_[2], delta = params_[3];
  // Eq. 7: alpha/(alpha+beta) delta/(gamma-1) [1 - Gamma(g+d) Gamma(1+d+t) / (Gamma(g+d+t) Gamma(1+d))].
  const double log_ratio =
      log_gamma(gamma + delta) + log_gamma(1.0 + delta + t) - log_gamma(gamma + delta + t) - log_gamma(1.0 + delta);
  return alpha / (alpha + beta) * delta / (gamma - 1.0) * -std::expm1(log_ratio);
}

double BetaGeoBetaBinom::probability_of_n_purchases_up_to_time(double t, int n) const {
  const char* caller = "BetaGeoBetaBinom::probability_of_n_purchases_up_to_time";
  check_fitted(caller);
  check_periods(t, caller);
  detail::check_count(n, caller);
  return bgbb_pmf(params_[0], params_[1], params_[2], params_[3], t, n);
}

std::vector<double> BetaGeoBetaBinom::conditional_probability_of_n_purchases_up_to_time(
    int k, double t, const ClvData& customers) const {
  const char* caller = "BetaGeoBetaBinom::conditional_probability_of_n_purchases_up_to_time";
  check_fitted(caller);
  check_periods(t, caller);
  detail::check_count(k, caller);
  const auto p = values(params_);
  // Alive after opportunity n (the likelihood's first term over L), the customer restarts with
  // p ~ Beta(alpha + x, beta + n - x) and theta ~ Beta(gamma, delta + n).
  return detail::per_customer(customers, caller, detail::DataKind::discrete, options_.n_jobs,
                              [&](double x, double tx, double n) {
                                const double alive = std::exp(log_beta(p[0] + x, p[1] + n - x) +
                                                              log_beta(p[2], p[3] + n) - log_mixture(p, x, tx, n));
                                return detail::mix_dead(alive, bgbb_pmf(p[0] + x, p[1] + n - x, p[2], p[3] + n, t, k), k);
                              });
}

}  // namespace crmine
