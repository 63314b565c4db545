// SPDX-License-Identifier: Apache-2.0
// BG/NBD and MBG/NBD: likelihoods (templated so duals give exact gradients), fits and predictions.
#include <crmine/clv/bg_nbd.hpp>
#include <crmine/clv/detail/hyp2f1.hpp>
#include <crmine/core/errors.hpp>

#include "engine.hpp"

#include <cmath>

namespace crmine {
namespace {

using detail::log_gamma;
using detail::softplus;

/// A log-likelihood value with its gradient in the four natural parameters.
struct Gradient {
  double v = 0.0;
  std::array<double, 4> g{};
  Gradient() = default;
  explicit Gradient(double value) : v(value) {}
  Gradient& operator+=(const Gradient& o) {
    v += o.v;
    for (std::size_t i = 0; i < 4; ++i) g[i] += o.g[i];
    return *this;
  }
  Gradient operator*(double w) const {
    Gradient out = *this;
    out.v *= w;
    for (double& x : out.g) x *= w;
    return out;
  }
};

/// The two models differ only in whether a customer can drop out at the first purchase; `shift`
/// is 0 for BG/NBD and 1 for MBG/NBD (Batislam et al.'s b + x + 1 and a / (b + x)).
template <int Shift>
struct BetaGeoFamily {
  static constexpr const char* kName = Shift == 0 ? "BetaGeo" : "ModifiedBetaGeo";
  static constexpr int kShift = Shift;

  /// ln L and its gradient in (r, alpha, a, b), summed over the collapsed rows. Hand-derived
  /// rather than dual numbers: this is the hot loop of fits on millions of customers.
  ///
  /// ln L_i = ln Gamma(r+x) - ln Gamma(r) + r ln alpha + ln B(a, b+x+s) - ln B(a, b)
  ///          - (r+x) ln(alpha+T) + softplus(u),  u = ln a - ln(b+x+s-1) + (r+x) ln((alpha+T)/(alpha+t_x)),
  /// with s = Shift and the softplus term only for x > 0 when s = 0.
  static Gradient total(const detail::Collapsed& d, const std::array<double, 4>& p, int n_jobs) {
    const double r = p[0], alpha = p[1], a = p[2], b = p[3];
    auto x_term = [&](double x) {
      Gradient g;
      g.v = log_gamma(r + x) - log_gamma(r) + r * std::log(alpha) + log_gamma(b + x + Shift) + log_gamma(a + b) -
            log_gamma(a + b + x + Shift) - log_gamma(b);
      const double common = detail::digamma(a + b) - detail::digamma(a + b + x + Shift);
      g.g = {detail::digamma(r + x) - detail::digamma(r) + std::log(alpha), r / alpha, common,
             common + detail::digamma(b + x + Shift) - detail::digamma(b)};
      return g;
    };
    const double log_a = std::log(a);
    auto row_term = [&](double x, double tx, double T) {
      Gradient g;
      const double l1 = std::log(alpha + T), rx = r + x;
      g.v = -rx * l1;
      g.g = {-l1, -rx / (alpha + T), 0.0, 0.0};
      if (Shift == 1 || x > 0.0) {
        const double l2 = std::log(alpha + tx), bx = b + x + (Shift - 1.0);
        const double u = log_a - std::log(bx) + rx * (l1 - l2);
        const double sigma = 1.0 / (1.0 + std::exp(-u));  // d softplus / du
        g.v += softplus(u);
        g.g[0] += sigma * (l1 - l2);
        g.g[1] += sigma * rx * (1.0 / (alpha + T) - 1.0 / (alpha + tx));
        g.g[2] += sigma / a;
        g.g[3] -= sigma / bx;
      }
      return g;
    };
    return detail::sum_log_likelihood<Gradient>(d, x_term, row_term, n_jobs);
  }

  /// The dropout-odds exponent u above; P(alive) = 1 / (1 + e^u) (1 for BG/NBD when x = 0).
  static double log_odds_dead(const std::array<double, 4>& p, double x, double tx, double T) {
    const double r = p[0], alpha = p[1], a = p[2], b = p[3];
    return std::log(a) - std::log(b + (x + Shift - 1.0)) + (r + x) * (std::log(alpha + T) - std::log(alpha + tx));
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

/// P(N(t) = j) of the NBD, with the t = 0 limit (no purchase for sure).
double nbd_pmf(double r, double alpha, double t, int j) {
  if (t == 0.0) return j == 0 ? 1.0 : 0.0;
  return std::exp(detail::log_nbd_pmf(r, alpha, t, j));
}

/// P(X(t) = n) of a customer alive at time 0 (Fader, Hardie & Lee 2005, eq. 8; Batislam et al.
/// 2007 when `shift` = 1): alive after surviving the n + shift dropout chances so far, or dead at
/// the chance right after the n-th purchase (or at time 0 when shift = 1 and n = 0), which needs
/// at least n purchases by t.
double bg_pmf(double r, double alpha, double a, double b, double t, int n, int shift) {
  const double nd = n, log_norm = detail::log_beta(a, b);
  double p = std::exp(detail::log_beta(a, b + nd + shift) - log_norm) * nbd_pmf(r, alpha, t, n);
  if (n > 0 || shift == 1)
    p += std::exp(detail::log_beta(a + 1.0, b + nd - 1.0 + shift) - log_norm) * detail::nbd_upper_tail(r, alpha, t, n);
  return p;
}

template <typename Family>
detail::FitOutcome fit_family(const ClvData& data, const ClvFitOptions& options) {
  detail::check_options(options, 4, Family::kName);
  const detail::Collapsed d = detail::collapse(data, Family::kName, detail::DataKind::continuous);
  const detail::LogLikelihood ll = [&](const Eigen::VectorXd& theta, Eigen::VectorXd& grad) {
    const std::array<double, 4> p{std::exp(theta[0]), std::exp(theta[1]), std::exp(theta[2]), std::exp(theta[3])};
    const Gradient v = Family::total(d, p, options.n_jobs);
    for (std::size_t i = 0; i < 4; ++i) grad[static_cast<Eigen::Index>(i)] = v.g[i] * p[i];  // d/d log p
    return v.v;
  };
  return detail::maximize(ll, detail::initial_point(options, Eigen::Vector4d(1.0, 1.0, 1.0, 1.0)), options,
                          d.total_weight, d.size(), Family::kName);
}

template <typename Family>
double family_log_likelihood(const Eigen::VectorXd& params, const ClvData& data, Eigen::VectorXd* gradient,
                             int n_jobs) {
  const detail::Collapsed d = detail::as_rows(data, Family::kName, detail::DataKind::continuous);
  const Gradient v = Family::total(d, Family::values(params), n_jobs);
  if (gradient != nullptr) {
    gradient->resize(4);
    for (std::size_t i = 0; i < 4; ++i) (*gradient)[static_cast<Eigen::Index>(i)] = v.g[i];
  }
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
  double Class::probability_of_n_purchases_up_to_time(double t, int n) const {                                     \
    const char* caller = #Class "::probability_of_n_purchases_up_to_time";                                         \
    check_fitted(caller);                                                                                          \
    detail::check_horizon(t, caller);                                                                              \
    detail::check_count(n, caller);                                                                                \
    return bg_pmf(params_[0], params_[1], params_[2], params_[3], t, n, Family::kShift);                           \
  }                                                                                                                \
  std::vector<double> Class::conditional_probability_of_n_purchases_up_to_time(int n, double t,                    \
                                                                               const ClvData& customers) const {   \
    const char* caller = #Class "::conditional_probability_of_n_purchases_up_to_time";                             \
    check_fitted(caller);                                                                                          \
    detail::check_horizon(t, caller);                                                                              \
    detail::check_count(n, caller);                                                                                \
    const auto p = Family::values(params_);                                                                        \
    /* Alive at T, the customer restarts as a BG/NBD customer (dropout only after purchases) with */              \
    /* lambda ~ Gamma(r + x, alpha + T) and the dropout probability ~ Beta(a, b + x + shift). */                   \
    return detail::per_customer(customers, caller, detail::DataKind::continuous, options_.n_jobs,                  \
                                [&](double x, double tx, double T) {                                               \
                                  return detail::mix_dead(                                                         \
                                      Family::p_alive(p, x, tx, T),                                                \
                                      bg_pmf(p[0] + x, p[1] + T, p[2], p[3] + x + Family::kShift, t, n, 0), n);    \
                                });                                                                                \
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
