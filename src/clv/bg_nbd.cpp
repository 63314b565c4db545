// SPDX-License-Identifier: Apache-2.0
// BG/NBD and MBG/NBD: likelihoods (templated so duals give exact gradients), fits and predictions.
#include <crmine/clv/bg_nbd.hpp>
#include <crmine/clv/detail/hyp2f1.hpp>
#include <crmine/core/errors.hpp>

#include "engine.hpp"

#include <cmath>

namespace crmine {
namespace {

using detail::Dual;
using detail::log_gamma;
using detail::softplus;

/// The two models differ only in whether a customer can drop out at the first purchase; `shift`
/// is 0 for BG/NBD and 1 for MBG/NBD (Batislam et al.'s b + x + 1 and a / (b + x)).
template <int Shift>
struct BetaGeoFamily {
  static constexpr const char* kName = Shift == 0 ? "BetaGeo" : "ModifiedBetaGeo";

  /// Terms of ln L that depend on x only (summed once per distinct x).
  template <typename S>
  static S x_term(const std::array<S, 4>& p, double x) {
    using std::log;
    const S &r = p[0], &alpha = p[1], &a = p[2], &b = p[3];
    return log_gamma(r + x) - log_gamma(r) + r * log(alpha) + log_gamma(b + (x + Shift)) + log_gamma(a + b) -
           log_gamma(a + b + (x + Shift)) - log_gamma(b);
  }

  /// The dropout-odds exponent u: ln L has + softplus(u); P(alive) = 1 / (1 + e^u).
  template <typename S>
  static S log_odds_dead(const std::array<S, 4>& p, double x, double tx, double T) {
    using std::log;
    const S &r = p[0], &alpha = p[1], &a = p[2], &b = p[3];
    return log(a) - log(b + (x + Shift - 1.0)) + (r + x) * (log(alpha + T) - log(alpha + tx));
  }

  template <typename S>
  static S row_term(const std::array<S, 4>& p, double x, double tx, double T) {
    using std::log;
    const S &r = p[0], &alpha = p[1];
    S ll = -(r + x) * log(alpha + T);
    if (Shift == 1 || x > 0.0) ll += softplus(log_odds_dead(p, x, tx, T));
    return ll;
  }

  template <typename S>
  static S total(const detail::Collapsed& d, const std::array<S, 4>& p, int n_jobs) {
    return detail::sum_log_likelihood<S>(
        d, [&](double x) { return x_term(p, x); }, [&](double x, double tx, double T) { return row_term(p, x, tx, T); },
        n_jobs);
  }

  static std::array<double, 4> values(const Eigen::VectorXd& params) {
    return {params[0], params[1], params[2], params[3]};
  }

  static double p_alive(const std::array<double, 4>& p, double x, double tx, double T) {
    if (Shift == 0 && x == 0.0) return 1.0;
    return std::exp(-softplus(log_odds_dead(p, x, tx, T)));
  }

  /// E[Y(t) | x, t_x, T]. The hypergeometric factor is Euler-transformed,
  /// (1-z)^(r+x) 2F1(r+x, b+x+s; a+b+x+s-1; z) = (1-z)^(a-1) 2F1(a+b-r+s-1, a-1; a+b+x+s-1; z),
  /// whose parameters stay small however many purchases x the customer made.
  static double conditional_expected(const std::array<double, 4>& p, double t, double x, double tx, double T) {
    const double r = p[0], alpha = p[1], a = p[2], b = p[3];
    if (t == 0.0) return 0.0;
    const double z = t / (alpha + T + t);
    const double log_one_minus_z = -std::log1p(t / (alpha + T));
    const double c = a + b + x + Shift - 1.0;
    const double f = detail::hyp2f1(a + b - r + Shift - 1.0, a - 1.0, c, z);
    const double bracket = -std::expm1((a - 1.0) * log_one_minus_z) * 1.0 +
                           std::exp((a - 1.0) * log_one_minus_z) * (1.0 - f);
    // 1 - (1-z)^(a-1) f written as the sum above keeps precision when f is close to 1.
    return c / (a - 1.0) * bracket * p_alive(p, x, tx, T);
  }
};

template <typename Family>
detail::FitOutcome fit_family(const ClvData& data, const ClvFitOptions& options) {
  detail::check_options(options, 4, Family::kName);
  const detail::Collapsed d = detail::collapse(data, Family::kName, detail::DataKind::continuous);
  const detail::LogLikelihood ll = [&](const Eigen::VectorXd& theta, Eigen::VectorXd& grad) {
    const auto p = detail::log_seeded<4>(theta.array().exp().matrix());
    const Dual<4> v = Family::total(d, p, options.n_jobs);
    for (int i = 0; i < 4; ++i) grad[i] = v.d[static_cast<std::size_t>(i)];
    return v.v;
  };
  return detail::maximize(ll, detail::initial_point(options, Eigen::Vector4d(1.0, 1.0, 1.0, 1.0)), options,
                          d.total_weight, d.size(), Family::kName);
}

template <typename Family>
double family_log_likelihood(const Eigen::VectorXd& params, const ClvData& data, Eigen::VectorXd* gradient,
                             int n_jobs) {
  const detail::Collapsed d = detail::as_rows(data, Family::kName, detail::DataKind::continuous);
  if (gradient == nullptr) return Family::total(d, Family::values(params), n_jobs);
  std::array<Dual<4>, 4> p;
  for (int i = 0; i < 4; ++i) p[static_cast<std::size_t>(i)] = Dual<4>::variable(params[i], i);
  const Dual<4> v = Family::total(d, p, n_jobs);
  gradient->resize(4);
  for (int i = 0; i < 4; ++i) (*gradient)[i] = v.d[static_cast<std::size_t>(i)];
  return v.v;
}

using BG = BetaGeoFamily<0>;
using MBG = BetaGeoFamily<1>;

}  // namespace

#define CRMINE_BETA_GEO_METHODS(Class, Family)                                                                     \
  Class& Class::fit(const ClvData& data) {                                                                         \
    detail::FitOutcome out = fit_family<Family>(data, options_);                                                   \
    params_ = std::move(out.params);                                                                               \
    standard_errors_ = std::move(out.standard_errors);                                                             \
    report_ = std::move(out.report);                                                                               \
    fitted_ = true;                                                                                                \
    return *this;                                                                                                  \
  }                                                                                                                \
  double Class::log_likelihood(const ClvData& data, Eigen::VectorXd* gradient) const {                             \
    check_fitted(#Class "::log_likelihood");                                                                       \
    return family_log_likelihood<Family>(params_, data, gradient, options_.n_jobs);                                \
  }                                                                                                                \
  std::vector<double> Class::conditional_probability_alive(const ClvData& customers) const {                       \
    check_fitted(#Class "::conditional_probability_alive");                                                        \
    const auto p = Family::values(params_);                                                                        \
    return detail::per_customer(customers, #Class "::conditional_probability_alive", detail::DataKind::continuous, options_.n_jobs,                      \
                        [&](double x, double tx, double T) { return Family::p_alive(p, x, tx, T); });              \
  }                                                                                                                \
  std::vector<double> Class::conditional_expected_number_of_purchases_up_to_time(double t,                         \
                                                                                 const ClvData& customers) const { \
    const char* caller = #Class "::conditional_expected_number_of_purchases_up_to_time";                           \
    check_fitted(caller);                                                                                          \
    detail::check_horizon(t, caller);                                                                                      \
    const auto p = Family::values(params_);                                                                        \
    return detail::per_customer(customers, caller, detail::DataKind::continuous, options_.n_jobs, [&](double x, double tx, double T) {                   \
      return Family::conditional_expected(p, t, x, tx, T);                                                         \
    });                                                                                                            \
  }                                                                                                                \
  double Class::expected_number_of_purchases_up_to_time(double t) const {                                          \
    const char* caller = #Class "::expected_number_of_purchases_up_to_time";                                       \
    check_fitted(caller);                                                                                          \
    detail::check_horizon(t, caller);                                                                                      \
    /* A new customer is one observed for T = 0 without repeat purchases; for MBG/NBD the */                      \
    /* conditional form at x = 0 already includes the chance of dying at the first purchase. */                  \
    return Family::conditional_expected(Family::values(params_), t, 0.0, 0.0, 0.0);                                \
  }

CRMINE_BETA_GEO_METHODS(BetaGeo, BG)
CRMINE_BETA_GEO_METHODS(ModifiedBetaGeo, MBG)
#undef CRMINE_BETA_GEO_METHODS

}  // namespace crmine
