// SPDX-License-Identifier: Apache-2.0
// The Gaussian hypergeometric function 2F1(a, b; c; z) on 0 <= z < 1, summed with rescaling so
// that its logarithm is finite however large the terms grow (hundreds of purchases, long ages).
#pragma once

#include <crmine/clv/detail/dual.hpp>

#include <algorithm>
#include <cmath>
#include <limits>

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
    // term * q / (1 - q).
    const double q = std::max(value_of(ratio), zv);
    if (q < 1.0 && value_of(term) * q / (1.0 - q) <= 1e-17 * value_of(sum)) return log(sum) + log_scale;
  }
  return S(std::numeric_limits<double>::quiet_NaN());
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
    if (kd > k_min && q < 1.0 && std::abs(term) * q / (1.0 - q) <= 1e-17 * std::abs(sum)) return sum;
  }
  return std::numeric_limits<double>::quiet_NaN();
}

}  // namespace crmine::detail
