// SPDX-License-Identifier: Apache-2.0
// Pareto/NBD: likelihood with a log-space hypergeometric function, fit and predictions.
#include <crmine/clv/detail/hyp2f1.hpp>
#include <crmine/clv/pareto_nbd.hpp>
#include <crmine/core/errors.hpp>

#include "covariates.hpp"
#include "engine.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <span>
#include <tuple>

namespace crmine {
namespace {

using detail::Dual;
using detail::log_gamma;

constexpr const char* kName = "ParetoNBD";

template <typename S>
S x_term(const std::array<S, 4>& p, double x) {
  using std::log;
  const S &r = p[0], &alpha = p[1], &s = p[2], &beta = p[3];
  return log_gamma(r + x) - log_gamma(r) + r * log(alpha) + s * log(beta);
}

/// ln of the likelihood's "alive at T" factor (alpha+T)^-(r+x) (beta+T)^-s (up to x-only terms).
template <typename S>
S log_alive(const std::array<S, 4>& p, double x, double T) {
  using std::log;
  return -(p[0] + x) * log(p[1] + T) - p[2] * log(p[3] + T);
}

/// ln of (alpha+T)^(r+x) (beta+T)^s times the probability density of dying in (t_x, T] relative
/// to staying alive, i.e. ln[(s/(r+s+x)) (alpha+T)^(r+x) (beta+T)^s A_0]; -inf when t_x = T.
///
/// A_0 = F(t_x) - F(T) with F(t) = 2F1(r+s+x, b2; r+s+x+1; |alpha-beta| / (m+t)) / (m+t)^(r+s+x),
/// m = max(alpha, beta), b2 = s+1 if alpha >= beta else r+x (Fader & Hardie's note, eq. 22-23):
/// choosing the larger of alpha, beta keeps the argument in [0, 1). `alive` = log_alive(p, x, T),
/// which the likelihood needs as well.
template <typename S>
S log_death_odds(const std::array<S, 4>& p, double x, double tx, double T, const S& alive, bool& defined) {
  using std::log;
  const S &r = p[0], &alpha = p[1], &s = p[2], &beta = p[3];
  defined = false;
  if (!(tx < T)) return S(-std::numeric_limits<double>::infinity());
  const bool alpha_larger = detail::value_of(alpha) >= detail::value_of(beta);
  const S m = alpha_larger ? alpha : beta;
  const S diff = alpha_larger ? alpha - beta : beta - alpha;
  const S b2 = alpha_larger ? s + 1.0 : r + x;
  const S rsx = r + s + x;
  // F(t_x) and F(T) share the series' coefficients: one pass sums both.
  const auto f = detail::log_hyp2f1_a_plus_1_pair(rsx, b2, diff / (m + tx), diff / (m + T));
  const S lf_tx = f[0] - rsx * log(m + tx), lf_T = f[1] - rsx * log(m + T);
  const S gap = lf_T - lf_tx;
  if (!(detail::value_of(gap) < 0.0)) return S(-std::numeric_limits<double>::infinity());
  defined = true;
  using std::expm1;
  return log(s) - log(rsx) - alive + lf_tx + log(-expm1(gap));
}

/// The same, computing `alive`.
template <typename S>
S log_death_odds(const std::array<S, 4>& p, double x, double tx, double T, bool& defined) {
  return log_death_odds(p, x, tx, T, log_alive(p, x, T), defined);
}

template <typename S>
S row_term(const std::array<S, 4>& p, double x, double tx, double T) {
  const S alive = log_alive(p, x, T);
  bool defined = false;
  const S odds = log_death_odds(p, x, tx, T, alive, defined);
  return defined ? alive + detail::softplus(odds) : alive;
}

template <typename S>
S total(const detail::Collapsed& d, const std::array<S, 4>& p, int n_jobs) {
  return detail::sum_log_likelihood<S>(
      d, [&](double x) { return x_term(p, x); }, [&](double x, double tx, double T) { return row_term(p, x, tx, T); },
      n_jobs);
}

std::array<double, 4> values(const Eigen::VectorXd& params) { return {params[0], params[1], params[2], params[3]}; }

double p_alive(const std::array<double, 4>& p, double x, double tx, double T) {
  bool defined = false;
  const double odds = log_death_odds(p, x, tx, T, defined);
  return defined ? std::exp(-detail::softplus(odds)) : 1.0;
}

/// [1 - q^e] / e with ln q given; its limit -ln q at e = 0.
double one_minus_pow_over(double e, double log_q) {
  if (std::abs(e) < 1e-12) return -log_q;
  return -std::expm1(e * log_q) / e;
}

/// E[Y(t) | x, T, alive at T] = (r+x)(beta+T) / ((alpha+T)(s-1)) [1 - ((beta+T)/(beta+T+t))^(s-1)];
/// with x = T = 0, E[X(t)] of a customer just acquired.
double alive_expectation(const std::array<double, 4>& q, double t, double x, double T) {
  return (q[0] + x) / (q[1] + T) * (q[3] + T) * one_minus_pow_over(q[2] - 1.0, -std::log1p(t / (q[3] + T)));
}

/// sum_j weight_j alive_expectation(t_j): the discounted form of CLV's per-period differences.
double discounted_alive_expectation(const std::array<double, 4>& q, std::span<const double> t,
                                    std::span<const double> weight, double x, double T) {
  double sum = 0.0;
  for (std::size_t j = 0; j < t.size(); ++j) sum += weight[j] * alive_expectation(q, t[j], x, T);
  return sum;
}

/// P(X(t) = n) of a customer alive at 0 (Fader & Hardie, "Deriving an expression for P(X(t) = x)
/// under the Pareto/NBD model", note 012): alive at t after n purchases, plus dead at some
/// tau <= t after exactly n purchases. The second part is
/// alpha^r beta^s B(r+n, s+1) / B(r, s) [B1 - sum_{i=0..n} Gamma(r+s+i) t^i / (Gamma(r+s) i!) B2_i],
/// where B2 is the part of B1's integral beyond t; every factor is kept in logs.
double pnbd_pmf(double r, double alpha, double s, double beta, double t, int n) {
  if (t == 0.0) return n == 0 ? 1.0 : 0.0;
  using std::log;
  const double nd = n;
  const double alive = std::exp(log_gamma(r + nd) - log_gamma(r) - log_gamma(nd + 1.0) + r * (log(alpha) - log(alpha + t)) +
                                nd * (log(t) - log(alpha + t)) + s * (log(beta) - log(beta + t)));
  // The larger of alpha, beta in the denominator keeps the hypergeometric argument in [0, 1).
  const bool alpha_larger = alpha >= beta;
  const double m = alpha_larger ? alpha : beta, diff = alpha_larger ? alpha - beta : beta - alpha;
  const double b2 = alpha_larger ? s + 1.0 : r + nd, c = r + s + nd + 1.0;
  const double log_b1 = detail::log_hyp2f1_positive(r + s, b2, c, diff / m) - (r + s) * log(m);
  double log_b2 = -std::numeric_limits<double>::infinity();
  for (int i = 0; i <= n; ++i) {
    const double id = i;
    log_b2 = detail::log_add_exp(log_b2, log_gamma(r + s + id) - log_gamma(r + s) - log_gamma(id + 1.0) + id * log(t) +
                                             detail::log_hyp2f1_positive(r + s + id, b2, c, diff / (m + t)) -
                                             (r + s + id) * log(m + t));
  }
  const double log_lead = r * log(alpha) + s * log(beta) + detail::log_beta(r + nd, s + 1.0) - detail::log_beta(r, s);
  const double gap = log_b2 - log_b1;
  // gap >= 0 only by rounding when the death part is below double precision of B1.
  const double dead = gap < 0.0 ? std::exp(log_lead + log_b1) * -std::expm1(gap) : 0.0;
  return alive + dead;
}

}  // namespace

ParetoNBD& ParetoNBD::fit(const ClvData& data) {
  detail::check_options(options_, 4, kName);
  const detail::Collapsed d = detail::collapse(data, kName, detail::DataKind::continuous, options_.n_jobs);
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

double ParetoNBD::log_likelihood(const ClvData& data, Eigen::VectorXd* gradient) const {
  check_fitted("ParetoNBD::log_likelihood");
  const detail::Collapsed d = detail::as_rows(data, kName, detail::DataKind::continuous);
  if (gradient == nullptr) return total(d, values(params_), options_.n_jobs);
  std::array<Dual<4>, 4> p;
  for (int i = 0; i < 4; ++i) p[static_cast<std::size_t>(i)] = Dual<4>::variable(params_[i], i);
  const Dual<4> v = total(d, p, options_.n_jobs);
  gradient->resize(4);
  for (int i = 0; i < 4; ++i) (*gradient)[i] = v.d[static_cast<std::size_t>(i)];
  return v.v;
}

std::vector<double> ParetoNBD::conditional_probability_alive(const ClvData& customers) const {
  check_fitted("ParetoNBD::conditional_probability_alive");
  const auto p = values(params_);
  return detail::per_customer(customers, "ParetoNBD::conditional_probability_alive", detail::DataKind::continuous, options_.n_jobs,
                      [&](double x, double tx, double T) { return p_alive(p, x, tx, T); });
}

std::vector<double> ParetoNBD::conditional_expected_number_of_purchases_up_to_time(double t,
                                                                                   const ClvData& customers) const {
  const char* caller = "ParetoNBD::conditional_expected_number_of_purchases_up_to_time";
  check_fitted(caller);
  detail::check_horizon(t, caller);
  const auto p = values(params_);
  return detail::per_customer(customers, caller, detail::DataKind::continuous, options_.n_jobs,
                              [&](double x, double tx, double T) {
                                return alive_expectation(p, t, x, T) * p_alive(p, x, tx, T);
                              });
}

std::vector<double> ParetoNBD::discounted_expected_purchases(const ClvData& customers,
                                                             const ClvOptions& options) const {
  const char* caller = "ParetoNBD::discounted_expected_purchases";
  check_fitted(caller);
  detail::check_clv_options(options, caller);
  std::vector<double> horizons;
  const std::vector<double> weights = detail::discount_weights(options, horizons);
  const auto p = values(params_);
  // P(alive) (two hypergeometric series) once per customer, not once per period.
  return detail::per_customer(customers, caller, detail::DataKind::continuous, options_.n_jobs,
                              [&](double x, double tx, double T) {
                                return discounted_alive_expectation(p, horizons, weights, x, T) * p_alive(p, x, tx, T);
                              });
}

double ParetoNBD::expected_number_of_purchases_up_to_time(double t) const {
  const char* caller = "ParetoNBD::expected_number_of_purchases_up_to_time";
  check_fitted(caller);
  detail::check_horizon(t, caller);
  return alive_expectation(values(params_), t, 0.0, 0.0);
}

}  // namespace crmine

namespace crmine {

double ParetoNBD::probability_of_n_purchases_up_to_time(double t, int n) const {
  const char* caller = "ParetoNBD::probability_of_n_purchases_up_to_time";
  check_fitted(caller);
  detail::check_horizon(t, caller);
  detail::check_count(n, caller);
  return pnbd_pmf(params_[0], params_[1], params_[2], params_[3], t, n);
}

std::vector<double> ParetoNBD::conditional_probability_of_n_purchases_up_to_time(int n, double t,
                                                                                 const ClvData& customers) const {
  const char* caller = "ParetoNBD::conditional_probability_of_n_purchases_up_to_time";
  check_fitted(caller);
  detail::check_horizon(t, caller);
  detail::check_count(n, caller);
  const auto p = values(params_);
  // Alive at T, the customer restarts with lambda ~ Gamma(r + x, alpha + T), mu ~ Gamma(s, beta + T):
  // this equals eq. 16 of Fader & Hardie's note 028 on the conditional PMF.
  return detail::per_customer(customers, caller, detail::DataKind::continuous, options_.n_jobs,
                              [&](double x, double tx, double T) {
                                return detail::mix_dead(p_alive(p, x, tx, T),
                                                        pnbd_pmf(p[0] + x, p[1] + T, p[2], p[3] + T, t, n), n);
                              });
}

}  // namespace crmine

namespace crmine {
namespace {

/// Pareto/NBD's per-customer functions for the covariate model.
struct ParetoKernel {
  static constexpr const char* kName = "ParetoNBDCovariates";
  /// alpha_i = alpha_0 exp(-gamma_trans' z_trans_i), beta_i = beta_0 exp(-gamma_life' z_life_i).
  static constexpr detail::CovariateLayout kLayout{{0.0, -1.0, 0.0, 0.0}, {0.0, 0.0, 0.0, -1.0}};

  /// A customer's ln L at parameters q and its gradient in q, by dual numbers.
  static double row(const std::array<double, 4>& q, double x, double tx, double T, std::array<double, 4>& g) {
    std::array<Dual<4>, 4> d;
    for (int j = 0; j < 4; ++j) d[static_cast<std::size_t>(j)] = Dual<4>::variable(q[static_cast<std::size_t>(j)], j);
    const Dual<4> v = x_term(d, x) + row_term(d, x, tx, T);
    g = v.d;
    return v.v;
  }
  static double p_alive(const std::array<double, 4>& q, double x, double tx, double T) {
    return crmine::p_alive(q, x, tx, T);
  }
  static double expected(const std::array<double, 4>& q, std::span<const double> t, std::span<const double> weight,
                         double x, double tx, double T) {
    return discounted_alive_expectation(q, t, weight, x, T) * crmine::p_alive(q, x, tx, T);
  }
  static Eigen::VectorXd plain_fit(const ClvData& data, const ClvFitOptions& options) {
    ParetoNBD plain(options);
    return plain.fit(data).params();
  }
};

}  // namespace

CRMINE_COVARIATE_MODEL_METHODS(ParetoNBDCovariates, ParetoKernel)

}  // namespace crmine
