// SPDX-License-Identifier: Apache-2.0
// BG/NBD and MBG/NBD: likelihoods (templated so duals give exact gradients), fits and predictions.
#include <crmine/clv/bg_nbd.hpp>
#include <crmine/clv/detail/hyp2f1.hpp>
#include <crmine/core/errors.hpp>

#include "covariates.hpp"
#include "engine.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
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
    return std::log(a / (b + (x + Shift - 1.0))) + (r + x) * std::log((alpha + T) / (alpha + tx));
  }

  static std::array<double, 4> values(const Eigen::VectorXd& params) {
    return {params[0], params[1], params[2], params[3]};
  }

  static double p_alive(const std::array<double, 4>& p, double x, double tx, double T) {
    if (Shift == 0 && x == 0.0) return 1.0;
    // 1 / (1 + e^u) keeps full relative precision for every u (0 once e^u overflows) at one exp
    // instead of softplus's three transcendental calls: scoring millions of customers is this.
    return 1.0 / (1.0 + std::exp(log_odds_dead(p, x, tx, T)));
  }

  /// Work space of `alive_expectation`, one per thread.
  struct Scratch {
    std::vector<double> z, tail, power;
    std::vector<std::size_t> active;
  };

  /// E[Y(t) | x, t_x, T] is P(alive | x, t_x, T) times K(x, T, t) = c / (a-1) [1 - (1-z)^(a-1) F],
  /// which does not depend on t_x; this writes sum_j weight_j K(x, T_i, t_j) to out[i] for every
  /// age T_i of a customer with frequency x. F is Euler-transformed,
  /// (1-z)^(r+x) 2F1(r+x, b+x+s; a+b+x+s-1; z) = (1-z)^(a-1) 2F1(a+b-r+s-1, a-1; a+b+x+s-1; z),
  /// so its parameters stay small however many purchases x the customer made, and the series of
  /// every age and horizon (z_ij = t_j / (alpha + T_i + t_j)) share their coefficients: one
  /// series with a multiply-add per argument and term.
  static void alive_expectation(const std::array<double, 4>& p, double x, std::span<const double> T,
                                std::span<const double> t, std::span<const double> weight, Scratch& s,
                                std::span<double> out) {
    const double r = p[0], alpha = p[1], a = p[2], b = p[3];
    const std::size_t m = t.size(), n = T.size();
    s.z.resize(n * m);
    s.tail.resize(n * m);
    s.power.resize(n * m);
    s.active.assign(n * m, 0);
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = 0; j < m; ++j) s.z[i * m + j] = t[j] / (alpha + T[i] + t[j]);
    const double c = a + b + x + Shift - 1.0;
    detail::hyp2f1_minus_one(a + b - r + Shift - 1.0, a - 1.0, c, s.z, s.tail, s.power, s.active);
    for (std::size_t i = 0; i < n; ++i) {
      double total = 0.0;
      for (std::size_t j = 0; j < m; ++j) {
        const double scaled_log = (a - 1.0) * -std::log1p(t[j] / (alpha + T[i]));
        // 1 - (1-z)^(a-1) (1 + tail), written so that precision survives when both are near 1.
        const double bracket = -std::expm1(scaled_log) - std::exp(scaled_log) * s.tail[i * m + j];
        total += weight[j] * bracket;
      }
      out[i] = c / (a - 1.0) * total;
    }
  }

  /// The same for one customer.
  static double alive_expectation(const std::array<double, 4>& p, double x, double T, std::span<const double> t,
                                  std::span<const double> weight, Scratch& s) {
    double out = 0.0;
    alive_expectation(p, x, {&T, 1}, t, weight, s, {&out, 1});
    return out;
  }

  /// E[Y(t) | x, t_x, T] for one customer.
  static double conditional_expected(const std::array<double, 4>& p, double t, double x, double tx, double T) {
    Scratch s;
    const double one = 1.0;
    return alive_expectation(p, x, T, {&t, 1}, {&one, 1}, s) * p_alive(p, x, tx, T);
  }

  /// Distinct (x, T) pairs per task of `expected`: fixed, so the work split (and which series
  /// share a convergence test) never depends on the thread count.
  static constexpr std::size_t kPairsPerTask = 128;

  /// Per customer, P(alive) sum_j weight_j K(x, T, t_j): expected purchases (one horizon, weight
  /// 1) or their discounted sum over a horizon's periods. K is evaluated once per distinct
  /// (x, T) when pairs repeat (day-resolution data: CDNOW's 2,357 customers have 464 pairs, millions
  /// of customers a few thousand), the pairs of one x in shared series, and scattered back; P(alive)
  /// is cheap and computed per customer.
  static std::vector<double> expected(const std::array<double, 4>& p, const ClvData& c, std::span<const double> t,
                                      std::span<const double> weight, int n_jobs, const char* caller) {
    detail::check_customers(c, caller, detail::DataKind::continuous, true);
    const std::size_t n = c.size();
    std::vector<double> out(n);
    const int threads = n > 4096 ? detail::resolve_threads(n_jobs) : 1;
    const detail::DistinctRows pairs = detail::distinct_rows<2>({c.frequency, c.T}, {}, n_jobs, 0.5);
    // Pairs in order of x (stable), cut into tasks that never span two values of x.
    std::vector<std::uint32_t> order(pairs.size());
    for (std::uint32_t j = 0; j < order.size(); ++j) order[j] = j;
    auto x_of = [&](std::uint32_t j) { return c.frequency[pairs.first[j]]; };
    std::stable_sort(order.begin(), order.end(), [&](std::uint32_t u, std::uint32_t v) { return x_of(u) < x_of(v); });
    std::vector<double> pair_T(order.size()), k_sorted(order.size()), k(order.size());
    std::vector<std::size_t> task_begin;
    for (std::size_t q = 0; q < order.size(); ++q) {
      pair_T[q] = c.T[pairs.first[order[q]]];
      if (q == 0 || x_of(order[q]) != x_of(order[q - 1]) || q - task_begin.back() == kPairsPerTask)
        task_begin.push_back(q);
    }
    task_begin.push_back(order.size());
#pragma omp parallel num_threads(threads)
    {
      Scratch s;
    const auto n_tasks = static_cast<std::ptrdiff_t>(task_begin.size()) - 1;
#pragma omp for schedule(dynamic, 1)
      for (std::ptrdiff_t task = 0; task < n_tasks; ++task) {
        const std::size_t lo = task_begin[static_cast<std::size_t>(task)], hi = task_begin[static_cast<std::size_t>(task) + 1];
        alive_expectation(p, x_of(order[lo]), std::span<const double>(pair_T).subspan(lo, hi - lo), t, weight, s,
                          std::span<double>(k_sorted).subspan(lo, hi - lo));
        for (std::size_t q = lo; q < hi; ++q) k[order[q]] = k_sorted[q];
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

/// The collapsed rows of a fit rearranged for the family's likelihood: of ln L_i's parts, the
/// x-only terms are summed per distinct x (as everywhere), -(r+x) ln(alpha+T) per distinct T,
/// and the logarithms inside the softplus are looked up per distinct x, t_x and T, so that a row
/// costs one exp and one log1p. Real data have few distinct ages and recencies (day resolution:
/// hundreds) even when they have hundreds of thousands of distinct (x, t_x, T) rows.
struct FactoredRows {
  std::vector<double> T, tx;         ///< distinct values of T and t_x
  std::vector<double> w_T, wx_T;     ///< per distinct T: summed weights and summed weight * x
  std::vector<std::uint32_t> ix, iT, itx;  ///< per softplus row: its x (in Collapsed::ux), T and t_x
  std::vector<double> w;             ///< per softplus row: its weight
};

/// Numbers every value of `v` by its distinct value; fills `values` with them.
std::vector<std::uint32_t> number_values(const std::vector<double>& v, std::vector<double>& values, int n_jobs) {
  const detail::DistinctRows rows = detail::distinct_rows<1>({std::span<const double>(v)}, {}, n_jobs);
  values.resize(rows.size());
  for (std::size_t j = 0; j < rows.size(); ++j) values[j] = v[rows.first[j]];
  return rows.index;
}

/// The rows of `d` that enter the softplus term: all of them for MBG/NBD, those with x > 0 for BG/NBD.
template <int Shift>
FactoredRows factor_rows(const detail::Collapsed& d, int n_jobs) {
  FactoredRows f;
  const std::vector<std::uint32_t> iT = number_values(d.T, f.T, n_jobs), itx = number_values(d.tx, f.tx, n_jobs);
  f.w_T.assign(f.T.size(), 0.0);
  f.wx_T.assign(f.T.size(), 0.0);
  for (std::size_t i = 0; i < d.size(); ++i) {
    f.w_T[iT[i]] += d.w[i];
    f.wx_T[iT[i]] += d.w[i] * d.x[i];
    if (Shift == 0 && d.x[i] == 0.0) continue;
    f.ix.push_back(static_cast<std::uint32_t>(std::lower_bound(d.ux.begin(), d.ux.end(), d.x[i]) - d.ux.begin()));
    f.iT.push_back(iT[i]);
    f.itx.push_back(itx[i]);
    f.w.push_back(d.w[i]);
  }
  return f;
}

/// ln L and its gradient in (r, alpha, a, b) over factored rows: the same sum as
/// BetaGeoFamily::total, with the logarithms evaluated once per distinct value. Blocks of fixed
/// size are summed in order, so the result does not depend on the thread count.
template <int Shift>
Gradient factored_total(const detail::Collapsed& d, const FactoredRows& f, const std::array<double, 4>& p,
                        int n_jobs) {
  using Family = BetaGeoFamily<Shift>;
  const double r = p[0], alpha = p[1], a = p[2], b = p[3], log_a = std::log(a);
  Gradient total;
  for (std::size_t i = 0; i < d.ux.size(); ++i) total += Family::x_term(p, d.ux[i]) * d.uw[i];
  std::vector<double> lT(f.T.size()), invT(f.T.size()), ltx(f.tx.size()), invtx(f.tx.size());
  std::vector<double> lbx(d.ux.size()), invbx(d.ux.size());
  for (std::size_t j = 0; j < f.T.size(); ++j) {
    lT[j] = std::log(alpha + f.T[j]);
    invT[j] = 1.0 / (alpha + f.T[j]);
    // -(r+x) ln(alpha+T) summed over the rows of this T.
    const double rx_w = r * f.w_T[j] + f.wx_T[j];
    total.v -= rx_w * lT[j];
    total.g[0] -= f.w_T[j] * lT[j];
    total.g[1] -= rx_w * invT[j];
  }
  for (std::size_t j = 0; j < f.tx.size(); ++j) {
    ltx[j] = std::log(alpha + f.tx[j]);
    invtx[j] = 1.0 / (alpha + f.tx[j]);
  }
  for (std::size_t j = 0; j < d.ux.size(); ++j) {
    const double bx = b + d.ux[j] + (Shift - 1.0);
    lbx[j] = std::log(bx);
    invbx[j] = 1.0 / bx;
  }
  // softplus(u) with u = ln a - ln(b+x+s-1) + (r+x)(ln(alpha+T) - ln(alpha+t_x)); per row one exp.
  const std::size_t n = f.w.size(), n_blocks = (n + detail::kBlock - 1) / detail::kBlock;
  std::vector<std::array<double, 5>> partial(n_blocks);
  const int threads = n_blocks > 1 ? detail::resolve_threads(n_jobs) : 1;
#pragma omp parallel for schedule(static) num_threads(threads)
  for (std::ptrdiff_t blk = 0; blk < static_cast<std::ptrdiff_t>(n_blocks); ++blk) {
    const std::size_t lo = static_cast<std::size_t>(blk) * detail::kBlock, hi = std::min(n, lo + detail::kBlock);
    double v = 0.0, g0 = 0.0, g1 = 0.0, ws = 0.0, g3 = 0.0;
    for (std::size_t i = lo; i < hi; ++i) {
      const std::uint32_t jx = f.ix[i], jT = f.iT[i], jtx = f.itx[i];
      const double rx = r + d.ux[jx], gap = lT[jT] - ltx[jtx];
      const double u = log_a - lbx[jx] + rx * gap;
      const double e = std::exp(-std::abs(u));
      const double sigma = (u >= 0.0 ? 1.0 : e) / (1.0 + e);  // d softplus / du
      const double ww = f.w[i], wsig = ww * sigma;
      // log(1 + e) for log1p(e), e in (0, 1]: the absolute error stays below 1e-16, which is
      // all a sum of log-likelihoods sees, at half the cost.
      v += ww * (std::max(u, 0.0) + std::log(1.0 + e));
      g0 += wsig * gap;
      g1 += wsig * rx * (invT[jT] - invtx[jtx]);
      ws += wsig;
      g3 += wsig * invbx[jx];
    }
    partial[static_cast<std::size_t>(blk)] = {v, g0, g1, ws, g3};
  }
  for (const auto& q : partial) {
    total.v += q[0];
    total.g[0] += q[1];
    total.g[1] += q[2];
    total.g[2] += q[3] / a;
    total.g[3] -= q[4];
  }
  return total;
}

template <typename Family>
detail::FitOutcome fit_family(const ClvData& data, const ClvFitOptions& options) {
  detail::check_options(options, 4, Family::kName);
  const detail::Collapsed d = detail::collapse(data, Family::kName, detail::DataKind::continuous, options.n_jobs);
  const FactoredRows f = factor_rows<Family::kShift>(d, options.n_jobs);
  const detail::LogLikelihood ll = [&](const Eigen::VectorXd& theta, Eigen::VectorXd& grad) {
    const std::array<double, 4> p{std::exp(theta[0]), std::exp(theta[1]), std::exp(theta[2]), std::exp(theta[3])};
    const Gradient v = factored_total<Family::kShift>(d, f, p, options.n_jobs);
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
