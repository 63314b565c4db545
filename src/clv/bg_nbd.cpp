// SPDX-License-Identifier: Apache-2.0
// BG/NBD and MBG/NBD: likelihoods (templated so duals give exact gradients), fits and predictions.
#include <crmine/clv/bg_nbd.hpp>
#include <crmine/clv/detail/hyp2f1.hpp>
#include <crmine/core/errors.hpp>

#include "covariates.hpp"
#include "engine.hpp"

#include <cmath>
#include <span>
#include <vector>

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
    const double log_a = std::log(p[2]);
    return detail::sum_log_likelihood<Gradient>(
        d, [&](double x) { return x_term(p, x); }, [&](double x, double tx, double T) { return row_term(p, log_a, x, tx, T); },
        n_jobs);
  }

  /// The terms of ln L_i that depend on x only, with their gradient.
  static Gradient x_term(const std::array<double, 4>& p, double x) {
    const double r = p[0], alpha = p[1], a = p[2], b = p[3];
    Gradient g;
    g.v = log_gamma(r + x) - log_gamma(r) + r * std::log(alpha) + log_gamma(b + x + Shift) + log_gamma(a + b) -
          log_gamma(a + b + x + Shift) - log_gamma(b);
    const double common = detail::digamma(a + b) - detail::digamma(a + b + x + Shift);
    g.g = {detail::digamma(r + x) - detail::digamma(r) + std::log(alpha), r / alpha, common,
           common + detail::digamma(b + x + Shift) - detail::digamma(b)};
    return g;
  }

  /// The rest of ln L_i, with its gradient; log_a = ln a.
  static Gradient row_term(const std::array<double, 4>& p, double log_a, double x, double tx, double T) {
    const double r = p[0], alpha = p[1], a = p[2], b = p[3];
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

  /// Work space of `alive_expectation`, one per thread.
  struct Scratch {
    std::vector<double> z, tail, power;
  };

  /// E[Y(t) | x, t_x, T] is P(alive | x, t_x, T) times K(x, T, t) = c / (a-1) [1 - (1-z)^(a-1) F],
  /// which does not depend on t_x; this returns sum_j weight_j K(x, T, t_j). F is Euler-transformed,
  /// (1-z)^(r+x) 2F1(r+x, b+x+s; a+b+x+s-1; z) = (1-z)^(a-1) 2F1(a+b-r+s-1, a-1; a+b+x+s-1; z),
  /// so its parameters stay small however many purchases x the customer made, and the series
  /// of all horizons share their coefficients (z_j = t_j / (alpha + T + t_j)).
  static double alive_expectation(const std::array<double, 4>& p, double x, double T, std::span<const double> t,
                                  std::span<const double> weight, Scratch& s) {
    const double r = p[0], alpha = p[1], a = p[2], b = p[3];
    const std::size_t m = t.size();
    s.z.resize(m);
    s.tail.resize(m);
    s.power.resize(m);
    for (std::size_t j = 0; j < m; ++j) s.z[j] = t[j] / (alpha + T + t[j]);
    const double c = a + b + x + Shift - 1.0;
    detail::hyp2f1_minus_one(a + b - r + Shift - 1.0, a - 1.0, c, s.z, s.tail, s.power);
    double total = 0.0;
    for (std::size_t j = 0; j < m; ++j) {
      const double scaled_log = (a - 1.0) * -std::log1p(t[j] / (alpha + T));
      // 1 - (1-z)^(a-1) (1 + tail), written so that precision survives when both are near 1.
      const double bracket = -std::expm1(scaled_log) - std::exp(scaled_log) * s.tail[j];
      total += weight[j] * bracket;
    }
    return c / (a - 1.0) * total;
  }

  /// E[Y(t) | x, t_x, T] for one customer.
  static double conditional_expected(const std::array<double, 4>& p, double t, double x, double tx, double T) {
    Scratch s;
    const double one = 1.0;
    return alive_expectation(p, x, T, {&t, 1}, {&one, 1}, s) * p_alive(p, x, tx, T);
  }

  /// Per customer, P(alive) sum_j weight_j K(x, T, t_j): expected purchases (one horizon, weight
  /// 1) or their discounted sum over a horizon's periods. K is evaluated once per distinct
  /// (x, T) when pairs repeat (day-resolution data: a few thousand pairs for millions of
  /// customers) and scattered back; P(alive) is cheap and computed per customer.
  static std::vector<double> expected(const std::array<double, 4>& p, const ClvData& c, std::span<const double> t,
                                      std::span<const double> weight, int n_jobs, const char* caller) {
    detail::check_customers(c, caller, detail::DataKind::continuous, true);
    const std::size_t n = c.size();
    std::vector<double> out(n);
    const int threads = n > 4096 ? detail::resolve_threads(n_jobs) : 1;
    const detail::DistinctRows pairs =
        n > 4096 ? detail::distinct_rows<2>({c.frequency, c.T}, {}, n_jobs, 0.5) : detail::DistinctRows{};
    std::vector<double> k(pairs.size());
#pragma omp parallel num_threads(threads)
    {
      Scratch s;
#pragma omp for schedule(dynamic, 256)
      for (std::ptrdiff_t j = 0; j < static_cast<std::ptrdiff_t>(pairs.size()); ++j) {
        const std::size_t i = pairs.first[static_cast<std::size_t>(j)];
        k[static_cast<std::size_t>(j)] = alive_expectation(p, c.frequency[i], c.T[i], t, weight, s);
      }
#pragma omp for schedule(static)
      for (std::ptrdiff_t ii = 0; ii < static_cast<std::ptrdiff_t>(n); ++ii) {
        const auto i = static_cast<std::size_t>(ii);
        const double kk = pairs.size() > 0 ? k[pairs.index[i]] : alive_expectation(p, c.frequency[i], c.T[i], t, weight, s);
        out[i] = kk * p_alive(p, c.frequency[i], c.recency[i], c.T[i]);
      }
    }
    return out;
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
    const double one = 1.0;                                                                                        \
    return Family::expected(Family::values(params_), customers, {&t, 1}, {&one, 1}, options_.n_jobs, caller);      \
  }                                                                                                                \
  std::vector<double> Class::discounted_expected_purchases(const ClvData& customers, const ClvOptions& options)    \
      const {                                                                                                      \
    const char* caller = #Class "::discounted_expected_purchases";                                                 \
    check_fitted(caller);                                                                                          \
    detail::check_clv_options(options, caller);                                                                    \
    std::vector<double> horizons;                                                                                  \
    const std::vector<double> weights = detail::discount_weights(options, horizons);                               \
    return Family::expected(Family::values(params_), customers, horizons, weights, options_.n_jobs, caller);       \
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

namespace crmine {
namespace {

/// BG/NBD's per-customer functions for the covariate model.
struct BetaGeoKernel {
  static constexpr const char* kName = "BetaGeoCovariates";
  /// alpha_i = alpha_0 exp(-gamma_trans' z_trans_i); a_i, b_i = a_0, b_0 exp(gamma_life' z_life_i).
  static constexpr detail::CovariateLayout kLayout{{0.0, -1.0, 0.0, 0.0}, {0.0, 0.0, 1.0, 1.0}};

  /// A customer's ln L at parameters q and its gradient in q (the plain model's hand-derived terms).
  static double row(const std::array<double, 4>& q, double x, double tx, double T, std::array<double, 4>& g) {
    Gradient v = BG::x_term(q, x);
    v += BG::row_term(q, std::log(q[2]), x, tx, T);
    g = v.g;
    return v.v;
  }
  static double p_alive(const std::array<double, 4>& q, double x, double tx, double T) { return BG::p_alive(q, x, tx, T); }
  static double expected(const std::array<double, 4>& q, std::span<const double> t, std::span<const double> weight,
                         double x, double tx, double T) {
    thread_local BG::Scratch scratch;
    return BG::alive_expectation(q, x, T, t, weight, scratch) * BG::p_alive(q, x, tx, T);
  }
  static Eigen::VectorXd plain_fit(const ClvData& data, const ClvFitOptions& options) {
    BetaGeo plain(options);
    return plain.fit(data).params();
  }
};

}  // namespace

CRMINE_COVARIATE_MODEL_METHODS(BetaGeoCovariates, BetaGeoKernel)

}  // namespace crmine
