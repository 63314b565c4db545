// SPDX-License-Identifier: Apache-2.0
// Pareto/NBD: likelihood with a log-space hypergeometric function, fit and predictions.
#include <crmine/clv/detail/hyp2f1.hpp>
#include <crmine/clv/pareto_nbd.hpp>
#include <crmine/core/errors.hpp>

#include "covariates.hpp"
#include "engine.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <span>
#include <tuple>
#include <utility>
#include <vector>

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

/// ln 2F1(a, b; a+1; z) and its partial derivatives in a, b and z.
struct Series {
  double v = 0.0, da = 0.0, db = 0.0, dz = 0.0;
};

/// Coefficients c_k = a/(a+k) (b)_k / k! of 2F1(a, b; a+1; z) = sum_k c_k z^k, with the weights of
/// the gradient's sums (c_k / (a+k), c_k B_{k-1} with B_{k-1} = sum_{m<k} 1/(b+m), and k c_k) and
/// the ratios c_k / c_{k-1} of the tail bound. a = r+s+x and b depend on a customer's frequency x
/// only, so every argument z of the customers with that x (their t_x and T) shares them, and a
/// term costs an argument five multiply-adds instead of a division and a recurrence.
class SeriesTable {
 public:
  void reset(double a, double b) {
    a_ = a;
    b_ = b;
    c_.assign(1, 1.0);
    by_a_.assign(1, 0.0);
    by_b_.assign(1, 0.0);
    by_k_.assign(1, 0.0);
    ratio_.assign(1, 0.0);
    b_cum_ = 0.0;
  }
  double a() const { return a_; }
  double b() const { return b_; }

  /// Sums the series at z in (0, 1); false when a coefficient it needs would exceed 1e250 (large
  /// b: the caller sums that argument with rescaling instead).
  bool sum(double z, Series& out) {
    double power = 1.0, total = 1.0, tail = 0.0, by_a = 0.0, by_b = 0.0, by_k = 0.0;
    for (std::size_t k = 1; k < static_cast<std::size_t>(detail::kHyp2f1MaxTerms); ++k) {
      if (k == c_.size() && !grow()) return false;
      power *= z;
      const double term = c_[k] * power;
      total += term;
      tail += term;
      by_a += by_a_[k] * power;
      by_b += by_b_[k] * power;
      by_k += by_k_[k] * power;
      // The bound of log_hyp2f1_a_plus_1_pair: ratios of terms tend monotonically to z.
      const double q = std::max(ratio_[k] * z, z);
      if (q < 1.0 && term * q <= 1e-17 * total * (1.0 - q)) {
        out.v = std::log(total);
        out.da = (tail / a_ - by_a) / total;
        out.db = by_b / total;
        out.dz = by_k / (z * total);
        return true;
      }
    }
    out = {std::numeric_limits<double>::quiet_NaN(), 0.0, 0.0, 0.0};
    return true;
  }

 private:
  /// Appends 64 coefficients; false if they would exceed 1e250.
  bool grow() {
    for (int i = 0; i < 64; ++i) {
      const double k = static_cast<double>(c_.size() - 1);  // appending c_{k+1}
      const double ratio = (a_ + k) / (a_ + k + 1.0) * (b_ + k) / (k + 1.0);
      const double c = c_.back() * ratio;
      if (!(c < 1e250)) return i > 0;
      b_cum_ += 1.0 / (b_ + k);
      c_.push_back(c);
      by_a_.push_back(c / (a_ + k + 1.0));
      by_b_.push_back(c * b_cum_);
      by_k_.push_back(c * (k + 1.0));
      ratio_.push_back(ratio);
    }
    return true;
  }

  double a_ = 0.0, b_ = 0.0, b_cum_ = 0.0;
  std::vector<double> c_, by_a_, by_b_, by_k_, ratio_;
};

/// The same sum for one argument without a table, rescaled so that it cannot overflow whatever b
/// (hundreds of purchases): the pair routine's, for the rare arguments a table cannot serve.
Series series_rescaled(double a, double b, double z) {
  const Dual<3> da = Dual<3>::variable(a, 0), db = Dual<3>::variable(b, 1), dz = Dual<3>::variable(z, 2);
  const Dual<3> v = detail::log_hyp2f1_a_plus_1_pair(da, db, dz, dz)[0];
  return {v.v, v.d[0], v.d[1], v.d[2]};
}

/// A log-likelihood value with its gradient in (r, alpha, s, beta).
struct ValueGradient {
  double v = 0.0;
  std::array<double, 4> g{};
};

/// Rows (collapsed or not) rearranged so that every logarithm and series is evaluated once per
/// distinct value: ln(alpha+T) and ln(beta+T) once per distinct T, and F(t) = 2F1(r+s+x, b2;
/// r+s+x+1; z(t)) / (m+t)^(r+s+x) once per distinct (x, t) with t a customer's t_x or T,
/// grouped by x so that the series share their coefficients. Day-resolution data have a few
/// hundred distinct T, and CDNOW's 1,016 distinct rows need 1,050 series instead of 2,032.
struct ParetoRows {
  std::vector<double> T, w_T, wx_T;         ///< distinct T; per T: summed weights and weights * x
  std::vector<double> group_x;              ///< per group of series: its x (increasing)
  std::vector<std::size_t> group_begin;     ///< the series of group g: [group_begin[g], group_begin[g+1])
  std::vector<double> job_t;                ///< per series: its time t
  std::vector<std::uint32_t> row_T, row_group, row_tx_job, row_T_job;  ///< per row with t_x < T
  std::vector<double> row_w;
};

ParetoRows pareto_rows(const detail::Collapsed& d, int n_jobs) {
  ParetoRows f;
  const detail::DistinctRows ts = detail::distinct_rows<1>({std::span<const double>(d.T)}, {}, n_jobs);
  f.T.resize(ts.size());
  for (std::size_t j = 0; j < ts.size(); ++j) f.T[j] = d.T[ts.first[j]];
  f.w_T.assign(f.T.size(), 0.0);
  f.wx_T.assign(f.T.size(), 0.0);
  std::vector<double> key_x, key_t;
  std::vector<std::size_t> rows;
  for (std::size_t i = 0; i < d.size(); ++i) {
    f.w_T[ts.index[i]] += d.w[i];
    f.wx_T[ts.index[i]] += d.w[i] * d.x[i];
    if (!(d.tx[i] < d.T[i])) continue;  // no chance of having died unobserved: the alive term alone
    rows.push_back(i);
    key_x.insert(key_x.end(), {d.x[i], d.x[i]});
    key_t.insert(key_t.end(), {d.tx[i], d.T[i]});
  }
  const detail::DistinctRows keys = detail::distinct_rows<2>({std::span<const double>(key_x), key_t}, {}, n_jobs);
  // Series in order of x (stable: ties keep the key numbering, which depends on the data only).
  std::vector<std::uint32_t> order(keys.size()), position(keys.size());
  for (std::uint32_t j = 0; j < order.size(); ++j) order[j] = j;
  std::stable_sort(order.begin(), order.end(),
                   [&](std::uint32_t a, std::uint32_t b) { return key_x[keys.first[a]] < key_x[keys.first[b]]; });
  f.job_t.resize(keys.size());
  std::vector<std::uint32_t> group_of(keys.size());
  for (std::uint32_t k = 0; k < order.size(); ++k) {
    const double x = key_x[keys.first[order[k]]];
    if (f.group_x.empty() || f.group_x.back() != x) {
      f.group_x.push_back(x);
      f.group_begin.push_back(k);
    }
    position[order[k]] = k;
    group_of[k] = static_cast<std::uint32_t>(f.group_x.size() - 1);
    f.job_t[k] = key_t[keys.first[order[k]]];
  }
  f.group_begin.push_back(keys.size());
  for (std::size_t r = 0; r < rows.size(); ++r) {
    const std::size_t i = rows[r];
    f.row_T.push_back(ts.index[i]);
    f.row_tx_job.push_back(position[keys.index[2 * r]]);
    f.row_T_job.push_back(position[keys.index[2 * r + 1]]);
    f.row_group.push_back(group_of[f.row_tx_job.back()]);
    f.row_w.push_back(d.w[i]);
  }
  return f;
}

/// Series per task of the parallel pass: fixed, so the work split never depends on the thread count.
constexpr std::size_t kSeriesPerTask = 512;

/// ln L and its gradient in (r, alpha, s, beta) over factored rows: the sum of x_term + row_term
/// over the rows of `d` with hand-derived gradients. With A = (alpha+T)^-(r+x) (beta+T)^-s and
/// D = s/(r+s+x) [F(t_x) - F(T)], ln L_i = x_term + ln A + softplus(ln D - ln A).
ValueGradient pareto_total(const detail::Collapsed& d, const ParetoRows& f, const std::array<double, 4>& p,
                           int n_jobs) {
  const double r = p[0], alpha = p[1], s = p[2], beta = p[3];
  const double log_alpha = std::log(alpha), log_beta = std::log(beta), log_s = std::log(s);
  ValueGradient total;
  const double lg_r = log_gamma(r), psi_r = detail::digamma(r);
  for (std::size_t i = 0; i < d.ux.size(); ++i) {
    const double x = d.ux[i], w = d.uw[i];
    total.v += w * (log_gamma(r + x) - lg_r + r * log_alpha + s * log_beta);
    total.g[0] += w * (detail::digamma(r + x) - psi_r + log_alpha);
    total.g[1] += w * (r / alpha);
    total.g[2] += w * log_beta;
    total.g[3] += w * (s / beta);
  }
  // ln A = -(r+x) ln(alpha+T) - s ln(beta+T), summed per distinct T.
  const std::size_t nT = f.T.size();
  std::vector<double> lA(nT), lB(nT), iA(nT), iB(nT);
  for (std::size_t j = 0; j < nT; ++j) {
    lA[j] = std::log(alpha + f.T[j]);
    lB[j] = std::log(beta + f.T[j]);
    iA[j] = 1.0 / (alpha + f.T[j]);
    iB[j] = 1.0 / (beta + f.T[j]);
    const double rx_w = r * f.w_T[j] + f.wx_T[j];
    total.v -= rx_w * lA[j] + s * f.w_T[j] * lB[j];
    total.g[0] -= f.w_T[j] * lA[j];
    total.g[1] -= rx_w * iA[j];
    total.g[2] -= f.w_T[j] * lB[j];
    total.g[3] -= s * f.w_T[j] * iB[j];
  }
  // ln F(t) = ln 2F1(a, b2; a+1; z) - a ln(m+t), a = r+s+x, z = |alpha-beta| / (m+t), m =
  // max(alpha, beta), b2 = s+1 if alpha >= beta else r+x (Fader & Hardie's note, eq. 22-23),
  // with its gradient in (r, alpha, s, beta).
  const bool alpha_larger = alpha >= beta;
  const double m = alpha_larger ? alpha : beta, diff = alpha_larger ? alpha - beta : beta - alpha;
  const std::size_t n_series = f.job_t.size();
  std::vector<std::array<double, 5>> lf(n_series);
  std::vector<std::pair<std::size_t, std::size_t>> tasks;  // (group, first series)
  for (std::size_t g = 0; g + 1 < f.group_begin.size(); ++g)
    for (std::size_t k = f.group_begin[g]; k < f.group_begin[g + 1]; k += kSeriesPerTask) tasks.emplace_back(g, k);
  const int threads = n_series > detail::kBlock ? detail::resolve_threads(n_jobs) : 1;
#pragma omp parallel num_threads(threads)
  {
    SeriesTable table;
#pragma omp for schedule(dynamic, 1)
    for (std::ptrdiff_t ti = 0; ti < static_cast<std::ptrdiff_t>(tasks.size()); ++ti) {
      const auto [g, lo] = tasks[static_cast<std::size_t>(ti)];
      const double x = f.group_x[g], a = r + s + x, b2 = alpha_larger ? s + 1.0 : r + x;
      table.reset(a, b2);
      const std::size_t hi = std::min(f.group_begin[g + 1], lo + kSeriesPerTask);
      for (std::size_t k = lo; k < hi; ++k) {
        const double inv = 1.0 / (m + f.job_t[k]), log_mt = std::log(m + f.job_t[k]), z = diff * inv;
        Series sr;
        if (z == 0.0)
          sr.dz = a * b2 / (a + 1.0);  // only the first term: d ln S / dz = a b / (a+1)
        else if (!table.sum(z, sr))
          sr = series_rescaled(a, b2, z);
        const double d_a = sr.da - log_mt, d_z = sr.dz;
        const double d_m = inv * (d_z * (1.0 - z) - a), d_other = -d_z * inv;  // via m (and z), via the smaller one
        lf[k] = alpha_larger ? std::array<double, 5>{sr.v - a * log_mt, d_a, d_m, d_a + sr.db, d_other}
                             : std::array<double, 5>{sr.v - a * log_mt, d_a + sr.db, d_other, d_a, d_m};
      }
    }
  }
  std::vector<double> log_a(f.group_x.size());
  for (std::size_t g = 0; g < f.group_x.size(); ++g) log_a[g] = std::log(r + s + f.group_x[g]);
  // Per row: softplus(u), u = ln s - ln a - ln A + ln F(t_x) + ln(1 - F(T)/F(t_x)), in fixed
  // blocks added in order.
  const std::size_t n = f.row_w.size(), n_blocks = (n + detail::kBlock - 1) / detail::kBlock;
  std::vector<std::array<double, 5>> partial(n_blocks);
  const int row_threads = n_blocks > 1 ? detail::resolve_threads(n_jobs) : 1;
#pragma omp parallel for schedule(static) num_threads(row_threads)
  for (std::ptrdiff_t blk = 0; blk < static_cast<std::ptrdiff_t>(n_blocks); ++blk) {
    const std::size_t lo = static_cast<std::size_t>(blk) * detail::kBlock, hi = std::min(n, lo + detail::kBlock);
    std::array<double, 5> acc{};
    for (std::size_t i = lo; i < hi; ++i) {
      const std::array<double, 5>&ftx = lf[f.row_tx_job[i]], &fT = lf[f.row_T_job[i]];
      const double gap = fT[0] - ftx[0];
      if (!(gap < 0.0)) continue;  // F(T) rounds to F(t_x): the death term is below precision
      const std::uint32_t jT = f.row_T[i], g = f.row_group[i];
      const double rx = r + f.group_x[g];
      const double log_alive = -rx * lA[jT] - s * lB[jT];
      // e^gap - 1; expm1 (twice exp's cost) only where exp(gap) - 1 would cancel.
      const double em1 = gap < -0.5 ? std::exp(gap) - 1.0 : std::expm1(gap);
      const double gap_slope = (1.0 + em1) / em1;  // d ln(1 - e^gap) / d gap
      const double u = log_s - log_a[g] - log_alive + ftx[0] + std::log(-em1);
      const double e = std::exp(-std::abs(u)), sigma = (u >= 0.0 ? 1.0 : e) / (1.0 + e);
      const double w = f.row_w[i], ws = w * sigma, inv_a = 1.0 / (r + s + f.group_x[g]);
      acc[0] += w * (std::max(u, 0.0) + std::log(1.0 + e));  // e <= 1: log1p's precision is not needed
      const std::array<double, 4> d_alive{-lA[jT], -rx * iA[jT], -lB[jT], -s * iB[jT]};
      const std::array<double, 4> d_own{-inv_a, 0.0, 1.0 / s - inv_a, 0.0};
      for (std::size_t k = 0; k < 4; ++k)
        acc[k + 1] += ws * (d_own[k] - d_alive[k] + ftx[k + 1] + gap_slope * (fT[k + 1] - ftx[k + 1]));
    }
    partial[static_cast<std::size_t>(blk)] = acc;
  }
  for (const auto& q : partial) {
    total.v += q[0];
    for (std::size_t k = 0; k < 4; ++k) total.g[k] += q[k + 1];
  }
  return total;
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
  const ParetoRows f = pareto_rows(d, options_.n_jobs);
  const detail::LogLikelihood ll = [&](const Eigen::VectorXd& theta, Eigen::VectorXd& grad) {
    const std::array<double, 4> p{std::exp(theta[0]), std::exp(theta[1]), std::exp(theta[2]), std::exp(theta[3])};
    const ValueGradient v = pareto_total(d, f, p, options_.n_jobs);
    for (std::size_t i = 0; i < 4; ++i) grad[static_cast<Eigen::Index>(i)] = v.g[i] * p[i];  // d/d log p
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
  const ValueGradient v = pareto_total(d, pareto_rows(d, options_.n_jobs), values(params_), options_.n_jobs);
  if (gradient != nullptr) {
    gradient->resize(4);
    for (std::size_t i = 0; i < 4; ++i) (*gradient)[static_cast<Eigen::Index>(i)] = v.g[i];
  }
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
