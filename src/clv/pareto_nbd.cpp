// SPDX-License-Identifier: Apache-2.0
// Pareto/NBD: likelihood with a log-space hypergeometric function, fit and predictions.
#include <crmine/clv/detail/hyp2f1.hpp>
#include <crmine/clv/pareto_nbd.hpp>
#include <crmine/core/errors.hpp>

#include "engine.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
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

/// ln of (alpha+T)^(r+x) (beta+T)^s times the probability density of dying in (t_x, T] relative
/// to staying alive, i.e. ln[(s/(r+s+x)) (alpha+T)^(r+x) (beta+T)^s A_0]; -inf when t_x = T.
///
/// A_0 = F(t_x) - F(T) with F(t) = 2F1(r+s+x, b2; r+s+x+1; |alpha-beta| / (m+t)) / (m+t)^(r+s+x),
/// m = max(alpha, beta), b2 = s+1 if alpha >= beta else r+x (Fader & Hardie's note, eq. 22-23):
/// choosing the larger of alpha, beta keeps the argument in [0, 1).
template <typename S>
S log_death_odds(const std::array<S, 4>& p, double x, double tx, double T, bool& defined) {
  using std::log;
  const S &r = p[0], &alpha = p[1], &s = p[2], &beta = p[3];
  defined = false;
  if (!(tx < T)) return S(-std::numeric_limits<double>::infinity());
  const bool alpha_larger = detail::value_of(alpha) >= detail::value_of(beta);
  const S m = alpha_larger ? alpha : beta;
  const S diff = alpha_larger ? alpha - beta : beta - alpha;
  const S b2 = alpha_larger ? s + 1.0 : r + x;
  const S rsx = r + s + x;
  auto log_f = [&](double t) {
    return detail::log_hyp2f1_positive(rsx, b2, rsx + 1.0, diff / (m + t)) - rsx * log(m + t);
  };
  const S lf_tx = log_f(tx), lf_T = log_f(T);
  const S gap = lf_T - lf_tx;
  if (!(detail::value_of(gap) < 0.0)) return S(-std::numeric_limits<double>::infinity());
  defined = true;
  using std::expm1;
  return log(s) - log(rsx) + (r + x) * log(alpha + T) + s * log(beta + T) + lf_tx + log(-expm1(gap));
}

template <typename S>
S row_term(const std::array<S, 4>& p, double x, double tx, double T) {
  using std::log;
  const S &r = p[0], &alpha = p[1], &s = p[2], &beta = p[3];
  const S alive = -(r + x) * log(alpha + T) - s * log(beta + T);
  bool defined = false;
  const S odds = log_death_odds(p, x, tx, T, defined);
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
  const detail::Collapsed d = detail::collapse(data, kName, detail::DataKind::continuous);
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
  const double r = p[0], alpha = p[1], s = p[2], beta = p[3];
  return detail::per_customer(customers, caller, detail::DataKind::continuous, options_.n_jobs, [&](double x, double tx, double T) {
    // E[Y(t) | alive] = (r+x)(beta+T) / ((alpha+T)(s-1)) [1 - ((beta+T)/(beta+T+t))^(s-1)].
    const double rate = (r + x) / (alpha + T) * (beta + T);
    return rate * one_minus_pow_over(s - 1.0, -std::log1p(t / (beta + T))) * p_alive(p, x, tx, T);
  });
}

double ParetoNBD::expected_number_of_purchases_up_to_time(double t) const {
  const char* caller = "ParetoNBD::expected_number_of_purchases_up_to_time";
  check_fitted(caller);
  detail::check_horizon(t, caller);
  const double r = params_[0], alpha = params_[1], s = params_[2], beta = params_[3];
  return r * beta / alpha * one_minus_pow_over(s - 1.0, -std::log1p(t / beta));
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

constexpr const char* kCovName = "ParetoNBDCovariates";

/// alpha_i = alpha_0 exp(-z_trans_i' gamma_trans), beta_i likewise with the lifetime covariates.
struct RowScales {
  double alpha, beta;
};

RowScales scales(const Eigen::VectorXd& p, int n_trans, int n_life, const MatrixRef& zt, const MatrixRef& zl,
                 Eigen::Index i) {
  double et = 0.0, el = 0.0;
  for (int k = 0; k < n_trans; ++k) et += zt(i, k) * p[4 + k];
  for (int k = 0; k < n_life; ++k) el += zl(i, k) * p[4 + n_trans + k];
  return {p[1] * std::exp(-et), p[3] * std::exp(-el)};
}

/// ln L and its gradient in the natural parameters, summed in fixed blocks (deterministic).
double covariate_log_likelihood(const Eigen::VectorXd& p, int n_trans, int n_life, const ClvData& d,
                                const MatrixRef& zt, const MatrixRef& zl, Eigen::VectorXd& grad, int n_jobs) {
  const std::size_t n = d.size(), n_params = static_cast<std::size_t>(p.size());
  const std::size_t n_blocks = (n + detail::kBlock - 1) / detail::kBlock;
  std::vector<double> values(n_blocks, 0.0);
  std::vector<Eigen::VectorXd> grads(n_blocks, Eigen::VectorXd::Zero(static_cast<Eigen::Index>(n_params)));
  const int threads = n_blocks > 1 ? detail::resolve_threads(n_jobs) : 1;
#pragma omp parallel for schedule(static) num_threads(threads)
  for (std::ptrdiff_t b = 0; b < static_cast<std::ptrdiff_t>(n_blocks); ++b) {
    const std::size_t lo = static_cast<std::size_t>(b) * detail::kBlock, hi = std::min(n, lo + detail::kBlock);
    double acc = 0.0;
    Eigen::VectorXd& g = grads[static_cast<std::size_t>(b)];
    for (std::size_t i = lo; i < hi; ++i) {
      const double w = d.weights.empty() ? 1.0 : d.weights[i];
      if (w == 0.0) continue;
      const auto row = static_cast<Eigen::Index>(i);
      const RowScales sc = scales(p, n_trans, n_life, zt, zl, row);
      const std::array<Dual<4>, 4> q{Dual<4>::variable(p[0], 0), Dual<4>::variable(sc.alpha, 1),
                                     Dual<4>::variable(p[2], 2), Dual<4>::variable(sc.beta, 3)};
      const double x = d.frequency[i], tx = d.recency[i], T = d.T[i];
      const Dual<4> v = x_term(q, x) + row_term(q, x, tx, T);
      acc += w * v.v;
      // d alpha_i / d alpha_0 = alpha_i / alpha_0, d alpha_i / d gamma_k = -alpha_i z_ik.
      g[0] += w * v.d[0];
      g[1] += w * v.d[1] * sc.alpha / p[1];
      g[2] += w * v.d[2];
      g[3] += w * v.d[3] * sc.beta / p[3];
      for (int k = 0; k < n_trans; ++k) g[4 + k] -= w * v.d[1] * sc.alpha * zt(row, k);
      for (int k = 0; k < n_life; ++k) g[4 + n_trans + k] -= w * v.d[3] * sc.beta * zl(row, k);
    }
    values[static_cast<std::size_t>(b)] = acc;
  }
  double total = 0.0;
  grad = Eigen::VectorXd::Zero(static_cast<Eigen::Index>(n_params));
  for (std::size_t b = 0; b < n_blocks; ++b) {
    total += values[b];
    grad += grads[b];
  }
  return total;
}

}  // namespace

void ParetoNBDCovariates::check_fitted(const char* caller) const {
  if (!fitted_) throw NotFittedError(detail::concat(caller, ": the model is not fitted; call fit or set_params"));
}

const Eigen::VectorXd& ParetoNBDCovariates::params() const {
  check_fitted("ParetoNBDCovariates::params");
  return params_;
}

const Eigen::VectorXd& ParetoNBDCovariates::standard_errors() const {
  check_fitted("ParetoNBDCovariates::standard_errors");
  return standard_errors_;
}

const ClvFitReport& ParetoNBDCovariates::report() const {
  check_fitted("ParetoNBDCovariates::report");
  return report_;
}

void ParetoNBDCovariates::set_params(const Eigen::VectorXd& params, int n_trans, int n_life) {
  const char* caller = "ParetoNBDCovariates::set_params";
  if (n_trans < 0 || n_life < 0) detail::throw_invalid(caller, "n_trans", "and n_life must be >= 0");
  if (params.size() != 4 + n_trans + n_life)
    detail::throw_invalid(caller, "params", "has ", params.size(), " values, expected ", 4 + n_trans + n_life);
  detail::check_params(params.head(4), 4, caller);
  if (!params.allFinite()) detail::throw_invalid(caller, "params", "contains NaN or infinity");
  params_ = params;
  n_trans_ = n_trans;
  n_life_ = n_life;
  standard_errors_ = Eigen::VectorXd::Constant(params.size(), std::numeric_limits<double>::quiet_NaN());
  report_ = {};
  report_.message = "parameters set, not fitted";
  fitted_ = true;
}

void ParetoNBDCovariates::save(std::ostream& out) const {
  check_fitted("ParetoNBDCovariates::save");
  detail::SavedState state{options_, report_, params_, standard_errors_, n_trans_, n_life_};
  detail::write_state(out, kTag, state);
}

ParetoNBDCovariates ParetoNBDCovariates::load(std::istream& in) {
  detail::SavedState s = detail::read_state(in, kTag, 4, true);
  ParetoNBDCovariates model(std::move(s.options));
  model.report_ = std::move(s.report);
  model.params_ = std::move(s.params);
  model.standard_errors_ = std::move(s.standard_errors);
  model.n_trans_ = s.n_trans;
  model.n_life_ = s.n_life;
  model.fitted_ = true;
  return model;
}

void ParetoNBDCovariates::check_covariates(const ClvData& data, MatrixRef z_trans, MatrixRef z_life,
                                           const char* caller, bool fitting) const {
  for (const auto& [z, name, k] : {std::tuple{&z_trans, "z_trans", n_trans_}, std::tuple{&z_life, "z_life", n_life_}}) {
    if (static_cast<std::size_t>(z->rows()) != data.size() && !(z->cols() == 0))
      detail::throw_invalid(caller, name, "has ", z->rows(), " rows, frequency has ", data.size());
    if (!fitting && z->cols() != k)
      detail::throw_invalid(caller, name, "has ", z->cols(), " columns, the model was fitted with ", k);
    if (!z->allFinite()) detail::throw_invalid(caller, name, "contains NaN or infinity");
  }
}

ParetoNBDCovariates& ParetoNBDCovariates::fit(const ClvData& data, MatrixRef z_trans, MatrixRef z_life) {
  const char* caller = kCovName;
  ClvFitOptions plain_options = options_;
  plain_options.initial_params.clear();
  detail::check_options(plain_options, 4, caller);
  detail::check_customers(data, caller, detail::DataKind::continuous, true);
  check_covariates(data, z_trans, z_life, caller, true);
  const int kt = static_cast<int>(z_trans.cols()), kl = static_cast<int>(z_life.cols());
  const Eigen::Index n_params = 4 + kt + kl;
  Eigen::VectorXd start(n_params);
  if (!options_.initial_params.empty()) {
    if (static_cast<Eigen::Index>(options_.initial_params.size()) != n_params)
      detail::throw_invalid(caller, "initial_params", "has ", options_.initial_params.size(), " values, the model has ",
                            n_params);
    start = Eigen::Map<const Eigen::VectorXd>(options_.initial_params.data(), n_params);
    detail::check_params(start.head(4), 4, caller);
    if (!start.allFinite()) detail::throw_invalid(caller, "initial_params", "contains NaN or infinity");
  } else {
    // The plain model's fit (collapsed, fast) with zero coefficients is a good starting point.
    ParetoNBD plain(plain_options);
    plain.fit(data);
    start.setZero();
    start.head(4) = plain.params();
  }
  double total_weight = 0.0;
  for (std::size_t i = 0; i < data.size(); ++i) total_weight += data.weights.empty() ? 1.0 : data.weights[i];
  const detail::LogLikelihood ll = [&](const Eigen::VectorXd& theta, Eigen::VectorXd& grad) {
    Eigen::VectorXd p = theta;
    p.head(4) = theta.head(4).array().exp().matrix();
    const double v = covariate_log_likelihood(p, kt, kl, data, z_trans, z_life, grad, options_.n_jobs);
    grad.head(4) = grad.head(4).cwiseProduct(p.head(4));  // d/d log p
    return v;
  };
  detail::FitOutcome out = detail::maximize(ll, start, options_, total_weight, data.size(), caller, 4);
  params_ = std::move(out.params);
  standard_errors_ = std::move(out.standard_errors);
  report_ = std::move(out.report);
  n_trans_ = kt;
  n_life_ = kl;
  fitted_ = true;
  return *this;
}

double ParetoNBDCovariates::log_likelihood(const ClvData& data, MatrixRef z_trans, MatrixRef z_life,
                                           Eigen::VectorXd* gradient) const {
  const char* caller = "ParetoNBDCovariates::log_likelihood";
  check_fitted(caller);
  detail::check_customers(data, caller, detail::DataKind::continuous, true);
  check_covariates(data, z_trans, z_life, caller, false);
  Eigen::VectorXd grad;
  const double v = covariate_log_likelihood(params_, n_trans_, n_life_, data, z_trans, z_life, grad, options_.n_jobs);
  if (gradient != nullptr) *gradient = grad;
  return v;
}

std::vector<double> ParetoNBDCovariates::conditional_probability_alive(const ClvData& customers, MatrixRef z_trans,
                                                                      MatrixRef z_life) const {
  const char* caller = "ParetoNBDCovariates::conditional_probability_alive";
  check_fitted(caller);
  check_covariates(customers, z_trans, z_life, caller, false);
  std::vector<double> out(customers.size());
  detail::check_customers(customers, caller, detail::DataKind::continuous, true);
  for (std::size_t i = 0; i < out.size(); ++i) {
    const RowScales sc = scales(params_, n_trans_, n_life_, z_trans, z_life, static_cast<Eigen::Index>(i));
    out[i] = p_alive({params_[0], sc.alpha, params_[2], sc.beta}, customers.frequency[i], customers.recency[i],
                     customers.T[i]);
  }
  return out;
}

std::vector<double> ParetoNBDCovariates::conditional_expected_number_of_purchases_up_to_time(
    double t, const ClvData& customers, MatrixRef z_trans, MatrixRef z_life) const {
  const char* caller = "ParetoNBDCovariates::conditional_expected_number_of_purchases_up_to_time";
  check_fitted(caller);
  detail::check_horizon(t, caller);
  check_covariates(customers, z_trans, z_life, caller, false);
  detail::check_customers(customers, caller, detail::DataKind::continuous, true);
  std::vector<double> out(customers.size());
  const double r = params_[0], s = params_[2];
  for (std::size_t i = 0; i < out.size(); ++i) {
    const RowScales sc = scales(params_, n_trans_, n_life_, z_trans, z_life, static_cast<Eigen::Index>(i));
    const double x = customers.frequency[i], tx = customers.recency[i], T = customers.T[i];
    const double rate = (r + x) / (sc.alpha + T) * (sc.beta + T);
    out[i] = rate * one_minus_pow_over(s - 1.0, -std::log1p(t / (sc.beta + T))) *
             p_alive({r, sc.alpha, s, sc.beta}, x, tx, T);
  }
  return out;
}

std::vector<double> ParetoNBDCovariates::expected_number_of_purchases_up_to_time(double t, MatrixRef z_trans,
                                                                                MatrixRef z_life) const {
  const char* caller = "ParetoNBDCovariates::expected_number_of_purchases_up_to_time";
  check_fitted(caller);
  detail::check_horizon(t, caller);
  const Eigen::Index n = std::max(z_trans.rows(), z_life.rows());
  if (z_trans.cols() != n_trans_ || z_life.cols() != n_life_ || (n_trans_ > 0 && z_trans.rows() != n) ||
      (n_life_ > 0 && z_life.rows() != n))
    detail::throw_invalid(caller, "z_trans", "and z_life must have the fitted columns (", n_trans_, ", ", n_life_,
                          ") and equal rows");
  std::vector<double> out(static_cast<std::size_t>(n));
  const double r = params_[0], s = params_[2];
  for (Eigen::Index i = 0; i < n; ++i) {
    const RowScales sc = scales(params_, n_trans_, n_life_, z_trans, z_life, i);
    out[static_cast<std::size_t>(i)] = r * sc.beta / sc.alpha * one_minus_pow_over(s - 1.0, -std::log1p(t / sc.beta));
  }
  return out;
}

}  // namespace crmine
