// SPDX-License-Identifier: Apache-2.0
// The Gaussian hypergeometric function 2F1(a, b; c; z) on 0 <= z < 1, summed with rescaling so
// that its logarithm is finite however large the terms grow (hundreds of purchases, long ages).
#pragma once

#include <crmine/clv/detail/dual.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <span>

namespace crmine::detail {

/// Terms after which a series is declared divergent in practice (z extremely close to 1).
inline constexpr int kHyp2f1MaxTerms = 2'000'000;

/// ln 2F1(a, b; c; z) for a, b, c > 0 and 0 <= z < 1, where every term is positive.
///
/// The sum is kept as mantissa * exp(log_scale); the mantissa is rescaled before it can overflow.
/// Returns NaN if the series has not converged after kHyp2f1MaxTerms terms.
template <typename S>
S log_hyp2f1_positive(const S& a, const S& b, const S& c, const S& z) {
  using std::log;
  constexpr double kBig = 1e200, kLogBig = 460.51701859880914;  // ln 1e200
  S term(1.0), sum(1.0);
  double log_scale = 0.0;
  const double zv = value_of(z);
  for (int k = 0; k < kHyp2f1MaxTerms; ++k) {
    const double kd = static_cast<double>(k);
    const S ratio = (a + kd) * (b + kd) / ((c + kd) * (kd + 1.0)) * z;
    term *= ratio;
    sum += term;
    if (value_of(sum) > kBig) {
      term *= 1.0 / kBig;
      sum *= 1.0 / kBig;
      log_scale += kLogBig;
    }
    // The ratios tend monotonically to z, so once q = max(ratio, z) < 1 the tail is below
    // term * q / (1 - q) (tested without the division, which would dominate a term's cost).
    const double q = std::max(value_of(ratio), zv);
    if (q < 1.0 && value_of(term) * q <= 1e-17 * value_of(sum) * (1.0 - q)) return log(sum) + log_scale;
  }
  return S(std::numeric_limits<double>::quiet_NaN());
}

/// The same for dual numbers, without dual arithmetic per term: with t_k the terms and
/// D_k = d ln t_k = sum_{j<k} [da/(a+j) + db/(b+j) - dc/(c+j) + dz/z], d ln S = sum_k t_k D_k / S.
/// Scalar work per term instead of dual divisions: this series is most of a Pareto/NBD fit.
template <int N>
Dual<N> log_hyp2f1_positive(const Dual<N>& a, const Dual<N>& b, const Dual<N>& c, const Dual<N>& z) {
  const double av = a.v, bv = b.v, cv = c.v, zv = z.v;
  Dual<N> out;
  if (zv == 0.0) {  // only the first term survives: d ln S = (a b / c) dz
    for (int i = 0; i < N; ++i) out.d[static_cast<std::size_t>(i)] = av * bv / cv * z.d[static_cast<std::size_t>(i)];
    return out;
  }
  constexpr double kBig = 1e200, kLogBig = 460.51701859880914;
  std::array<double, N> dlog{}, dsum{}, step{};
  double term = 1.0, sum = 1.0, log_scale = 0.0;
  for (int k = 0; k < kHyp2f1MaxTerms; ++k) {
    const double kd = static_cast<double>(k);
    const double ia = 1.0 / (av + kd), ib = 1.0 / (bv + kd), ic = 1.0 / (cv + kd);
    const double ratio = (av + kd) * (bv + kd) * ic / (kd + 1.0) * zv;
    term *= ratio;
    sum += term;
    for (std::size_t i = 0; i < static_cast<std::size_t>(N); ++i) {
      step[i] = a.d[i] * ia + b.d[i] * ib - c.d[i] * ic + z.d[i] / zv;
      dlog[i] += step[i];
      dsum[i] += term * dlog[i];
    }
    if (sum > kBig) {
      term *= 1.0 / kBig;
      sum *= 1.0 / kBig;
      for (double& v : dsum) v *= 1.0 / kBig;
      log_scale += kLogBig;
    }
    const double q = std::max(ratio, zv);
    if (q < 1.0 && term * q <= 1e-17 * sum * (1.0 - q)) {
      out.v = std::log(sum) + log_scale;
      for (std::size_t i = 0; i < static_cast<std::size_t>(N); ++i) out.d[i] = dsum[i] / sum;
      return out;
    }
  }
  return Dual<N>(std::numeric_limits<double>::quiet_NaN());
}

/// ln 2F1(a, b; a + 1; z_j), a, b > 0, 0 <= z_j < 1, for two arguments at once (Pareto/NBD's
/// form, needed at z(t_x) and z(T) for every customer): the terms are t_k = a/(a+k) (b)_k z^k / k!,
/// whose coefficients (the divisions) both arguments share.
template <typename S>
std::array<S, 2> log_hyp2f1_a_plus_1_pair(const S& a, const S& b, const S& z1, const S& z2) {
  return {log_hyp2f1_positive(a, b, a + 1.0, z1), log_hyp2f1_positive(a, b, a + 1.0, z2)};
}

/// For dual numbers, with scalar work per term whatever N: as d ln t_{k+1} = da/a - da/(a+k+1)
/// + db B_k + (k+1) dz/z with B_k = sum_{m<=k} 1/(b+m), the gradient of the sum needs only the
/// scalar sums of t_k, t_k/(a+k), t_k B_k and k t_k.
template <int N>
std::array<Dual<N>, 2> log_hyp2f1_a_plus_1_pair(const Dual<N>& a, const Dual<N>& b, const Dual<N>& z1,
                                                const Dual<N>& z2) {
  if (z1.v == 0.0 || z2.v == 0.0)
    return {log_hyp2f1_positive(a, b, a + 1.0, z1), log_hyp2f1_positive(a, b, a + 1.0, z2)};
  const double av = a.v, bv = b.v;
  const std::array<const Dual<N>*, 2> z{&z1, &z2};
  static const std::array<double, 256> kInverse = [] {
    std::array<double, 256> t{};
    for (std::size_t k = 0; k < t.size(); ++k) t[k] = 1.0 / static_cast<double>(k + 1);
    return t;
  }();
  constexpr double kBig = 1e200, kLogBig = 460.51701859880914;
  // Per argument: the sum (with t_0 = 1), the sum without t_0, and sum t_k/(a+k), t_k B_{k-1}, k t_k.
  std::array<double, 2> power{1.0, 1.0}, sum{1.0, 1.0}, tail{}, by_a{}, by_b{}, by_k{}, log_scale{};
  std::array<bool, 2> done{false, false};
  double b_cum = 0.0;
  for (int k = 0; k < kHyp2f1MaxTerms && !(done[0] && done[1]); ++k) {
    const double kd = static_cast<double>(k), k1 = kd + 1.0;
    // One division for both reciprocals: divisions bound the cost of a term.
    const double inv = 1.0 / ((bv + kd) * (av + k1)), ib = (av + k1) * inv, ia = (bv + kd) * inv;
    const double inv_k1 = k < 256 ? kInverse[static_cast<std::size_t>(k)] : 1.0 / k1;
    const double u_ratio = (bv + kd) * inv_k1;       // u_{k+1} / u_k without z
    const double ratio = (av + kd) * ia * u_ratio;  // t_{k+1} / t_k without z
    b_cum += ib;
    for (std::size_t j = 0; j < 2; ++j) {
      if (done[j]) continue;
      const double zv = z[j]->v;
      power[j] *= u_ratio * zv;
      const double term = av * ia * power[j];
      sum[j] += term;
      tail[j] += term;
      by_a[j] += term * ia;
      by_b[j] += term * b_cum;
      by_k[j] += term * k1;
      if (sum[j] > kBig) {
        for (double* v : {&power[j], &sum[j], &tail[j], &by_a[j], &by_b[j], &by_k[j]}) *v *= 1.0 / kBig;
        log_scale[j] += kLogBig;
      }
      const double q = std::max(ratio * zv, zv);
      done[j] = q < 1.0 && term * q <= 1e-17 * sum[j] * (1.0 - q);
    }
  }
  std::array<Dual<N>, 2> out;
  for (std::size_t j = 0; j < 2; ++j) {
    if (!done[j]) {
      out[j] = Dual<N>(std::numeric_limits<double>::quiet_NaN());
      continue;
    }
    out[j].v = std::log(sum[j]) + log_scale[j];
    const double zv = z[j]->v;
    for (std::size_t i = 0; i < static_cast<std::size_t>(N); ++i)
      out[j].d[i] = (a.d[i] * (tail[j] / av - by_a[j]) + b.d[i] * by_b[j] + z[j]->d[i] / zv * by_k[j]) / sum[j];
  }
  return out;
}

/// 2F1(a, b; c; z) for real a, b, c (c not a non-positive integer) and 0 <= z < 1 by direct
/// summation; terms may change
/// sign while a + k, b + k or c + k is negative. Meant for parameters of moderate size (the
/// Euler-transformed forms used by the BG/NBD predictions); NaN if it does not converge.
inline double hyp2f1(double a, double b, double c, double z) {
  double term = 1.0, sum = 1.0;
  if (z == 0.0) return 1.0;
  const double k_min = std::max({0.0, -a, -b, -c});
  for (int k = 0; k < kHyp2f1MaxTerms; ++k) {
    const double kd = static_cast<double>(k);
    const double ratio = (a + kd) * (b + kd) / ((c + kd) * (kd + 1.0)) * z;
    term *= ratio;
    sum += term;
    if (term == 0.0) return sum;
    const double q = std::max(std::abs(ratio), z);
    if (kd > k_min && q < 1.0 && std::abs(term) * q <= 1e-17 * std::abs(sum) * (1.0 - q)) return sum;
  }
  return std::numeric_limits<double>::quiet_NaN();
}

/// 2F1(a, b; c; z_m) - 1 for several arguments z_m in [0, 1) at once, written to `out`: the
/// series' coefficients do not depend on z, so each further argument costs one multiply-add per
/// term instead of a series of its own (CLV sums the same customer's expectation over every
/// period of the horizon; scoring shares one series among the customers of equal frequency).
/// Each argument stops at its own convergence (the test of `hyp2f1`), so its value does not
/// depend on the other arguments: a customer scored in a batch gets exactly its value scored
/// alone. NaN entries for arguments whose series do not converge. `power` and `active` are work
/// space of z.size() entries.
inline void hyp2f1_minus_one(double a, double b, double c, std::span<const double> z, std::span<double> out,
                             std::span<double> power, std::span<std::size_t> active) {
  std::size_t n_active = 0;
  for (std::size_t j = 0; j < z.size(); ++j) {
    out[j] = 0.0;
    power[j] = 1.0;
    if (z[j] != 0.0) active[n_active++] = j;
  }
  const double k_min = std::max({0.0, -a, -b, -c});
  double coef = 1.0;
  for (int k = 0; k < kHyp2f1MaxTerms && n_active > 0; ++k) {
    const double kd = static_cast<double>(k);
    const double ratio = (a + kd) * (b + kd) / ((c + kd) * (kd + 1.0));
    coef *= ratio;
    for (std::size_t q = 0; q < n_active; ++q) {
      const std::size_t j = active[q];
      power[j] *= z[j];
      out[j] += coef * power[j];
    }
    if (coef == 0.0) return;
    if (kd > k_min) {
      const double grow = std::max(std::abs(ratio), 1.0);
      for (std::size_t q = 0; q < n_active;) {
        const std::size_t j = active[q];
        const double bound = grow * z[j];
        if (bound < 1.0 && std::abs(coef * power[j]) * bound <= 1e-17 * std::abs(1.0 + out[j]) * (1.0 - bound))
          active[q] = active[--n_active];  // converged: drop it (order does not affect any value)
        else
          ++q;
      }
    }
  }
  for (std::size_t q = 0; q < n_active; ++q) out[active[q]] = std::numeric_limits<double>::quiet_NaN();
}

}  // namespace crmine::detail
