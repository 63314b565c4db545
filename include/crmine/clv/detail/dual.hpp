// SPDX-License-Identifier: Apache-2.0
// Forward-mode dual numbers and the special functions the CLV likelihoods need, exact in their
// first derivatives so the optimisers get analytic gradients without hand-derived formulas.
#pragma once

#include <array>
#include <cmath>

namespace crmine::detail {

/// ln Gamma(x) without touching the global `signgam` (std::lgamma does, which races in threads).
inline double log_gamma(double x) {
#if defined(__GLIBC__) || defined(__APPLE__)
  int sign = 0;
  return ::lgamma_r(x, &sign);
#else
  return std::lgamma(x);
#endif
}

/// The digamma function psi(x) = d ln Gamma(x) / dx for x > 0 (recurrence + asymptotic series).
inline double digamma(double x) {
  double result = 0.0;
  while (x < 6.0) {
    result -= 1.0 / x;
    x += 1.0;
  }
  const double inv = 1.0 / x, inv2 = inv * inv;
  return result + std::log(x) - 0.5 * inv -
         inv2 * (1.0 / 12 - inv2 * (1.0 / 120 - inv2 * (1.0 / 252 - inv2 * (1.0 / 240 - inv2 * (1.0 / 132)))));
}

/// A value with its gradient with respect to N seeded inputs.
template <int N>
struct Dual {
  double v = 0.0;
  std::array<double, N> d{};

  Dual() = default;
  Dual(double value) : v(value) {}  // NOLINT: constants promote implicitly, as in arithmetic
  /// The i-th input variable with value `value` and derivative `slope` (e.g. d exp(theta)/d theta).
  static Dual variable(double value, int i, double slope = 1.0) {
    Dual x(value);
    x.d[static_cast<std::size_t>(i)] = slope;
    return x;
  }
  Dual& operator+=(const Dual& o) {
    v += o.v;
    for (int i = 0; i < N; ++i) d[i] += o.d[i];
    return *this;
  }
  Dual& operator-=(const Dual& o) {
    v -= o.v;
    for (int i = 0; i < N; ++i) d[i] -= o.d[i];
    return *this;
  }
  Dual& operator*=(const Dual& o) {
    for (int i = 0; i < N; ++i) d[i] = d[i] * o.v + v * o.d[i];
    v *= o.v;
    return *this;
  }
  Dual& operator*=(double c) {
    v *= c;
    for (int i = 0; i < N; ++i) d[i] *= c;
    return *this;
  }
  Dual& operator/=(const Dual& o) {
    const double inv = 1.0 / o.v;
    for (int i = 0; i < N; ++i) d[i] = (d[i] - v * inv * o.d[i]) * inv;
    v *= inv;
    return *this;
  }
};

template <int N> Dual<N> operator+(Dual<N> a, const Dual<N>& b) { return a += b; }
template <int N> Dual<N> operator-(Dual<N> a, const Dual<N>& b) { return a -= b; }
template <int N> Dual<N> operator*(Dual<N> a, const Dual<N>& b) { return a *= b; }
template <int N> Dual<N> operator/(Dual<N> a, const Dual<N>& b) { return a /= b; }
template <int N> Dual<N> operator+(Dual<N> a, double b) { a.v += b; return a; }
template <int N> Dual<N> operator+(double b, Dual<N> a) { a.v += b; return a; }
template <int N> Dual<N> operator-(Dual<N> a, double b) { a.v -= b; return a; }
template <int N> Dual<N> operator-(double b, const Dual<N>& a) { return Dual<N>(b) - a; }
template <int N> Dual<N> operator*(Dual<N> a, double b) { return a *= b; }
template <int N> Dual<N> operator*(double b, Dual<N> a) { return a *= b; }
template <int N> Dual<N> operator/(Dual<N> a, double b) { return a *= 1.0 / b; }
template <int N> Dual<N> operator/(double b, const Dual<N>& a) { return Dual<N>(b) / a; }
template <int N> Dual<N> operator-(Dual<N> a) { return a *= -1.0; }

/// Applies f with f(a.v) = value and f'(a.v) = slope.
template <int N>
Dual<N> chain(const Dual<N>& a, double value, double slope) {
  Dual<N> r(value);
  for (int i = 0; i < N; ++i) r.d[i] = slope * a.d[i];
  return r;
}

template <int N> Dual<N> log(const Dual<N>& a) { return chain(a, std::log(a.v), 1.0 / a.v); }
template <int N> Dual<N> exp(const Dual<N>& a) { const double e = std::exp(a.v); return chain(a, e, e); }
template <int N> Dual<N> log1p(const Dual<N>& a) { return chain(a, std::log1p(a.v), 1.0 / (1.0 + a.v)); }
template <int N> Dual<N> expm1(const Dual<N>& a) { return chain(a, std::expm1(a.v), std::exp(a.v)); }
template <int N> Dual<N> log_gamma(const Dual<N>& a) { return chain(a, log_gamma(a.v), digamma(a.v)); }

inline double value_of(double x) { return x; }
template <int N> double value_of(const Dual<N>& x) { return x.v; }

/// ln(1 + e^u) without overflow.
template <typename S>
S softplus(const S& u) {
  using std::exp;
  using std::log1p;
  return value_of(u) > 0.0 ? u + log1p(exp(-u)) : log1p(exp(u));
}

/// ln(e^a + e^b) without overflow.
template <typename S>
S log_add_exp(const S& a, const S& b) {
  using std::exp;
  using std::log1p;
  return value_of(a) >= value_of(b) ? a + log1p(exp(b - a)) : b + log1p(exp(a - b));
}

/// ln Beta(a, b).
template <typename S>
S log_beta(const S& a, const S& b) {
  return log_gamma(a) + log_gamma(b) - log_gamma(a + b);
}

}  // namespace crmine::detail
