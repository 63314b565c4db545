// SPDX-License-Identifier: Apache-2.0
// Contribution analysis of per-customer value.
#include <crmine/core/errors.hpp>
#include <crmine/value/contribution.hpp>

#include <algorithm>
#include <cmath>
#include <numeric>

namespace crmine {

Contribution contribution(std::span<const std::int64_t> customer, std::span<const double> value,
                          const ContributionOptions& options) {
  const char* where = "contribution";
  const std::size_t n = customer.size();
  if (n == 0) detail::throw_invalid(where, "customer", "is empty");
  if (value.size() != n) detail::throw_invalid(where, "value", "has ", value.size(), " entries but customer has ", n);
  if (!(options.a_share > 0.0 && options.a_share <= 1.0))
    detail::throw_invalid(where, "a_share", "must be in (0, 1], got ", options.a_share);
  if (!(options.b_share >= 0.0 && options.a_share + options.b_share <= 1.0))
    detail::throw_invalid(where, "b_share", "must be >= 0 with a_share + b_share <= 1, got ", options.b_share);
  if (options.curve_points < 2) detail::throw_invalid(where, "curve_points", "must be at least 2");
  for (double f : options.top_fractions)
    if (!(f > 0.0 && f <= 1.0)) detail::throw_invalid(where, "top_fractions", "entries must be in (0, 1], got ", f);
  for (std::size_t i = 0; i < n; ++i)
    if (!std::isfinite(value[i])) detail::throw_invalid(where, "value", "entry ", i, " is not finite (", value[i], ")");

  Contribution out;
  out.customer.assign(customer.begin(), customer.end());
  out.value.assign(value.begin(), value.end());
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return value[a] != value[b] ? value[a] > value[b] : customer[a] < customer[b];
  });
  // Cumulative sums in rank order; the total is the last of them so shares end at exactly 1.
  std::vector<double> cumulative(n);
  double running = 0.0;
  for (std::size_t k = 0; k < n; ++k) cumulative[k] = running += value[order[k]];
  out.total = running;
  if (!(out.total > 0.0))
    detail::throw_invalid(where, "value", "total is ", out.total, "; shares of value need a positive total");

  out.rank.resize(n);
  out.cumulative_share.resize(n);
  out.abc.resize(n);
  const double ab = options.a_share + options.b_share;
  for (std::size_t k = 0; k < n; ++k) {
    const std::size_t i = order[k];
    const double before = k == 0 ? 0.0 : cumulative[k - 1] / out.total;
    out.rank[i] = static_cast<std::int64_t>(k) + 1;
    out.cumulative_share[i] = cumulative[k] / out.total;
    const int cls = before < options.a_share ? 0 : before < ab ? 1 : 2;
    out.abc[i] = static_cast<char>('A' + cls);
    ++out.class_counts[cls];
    if (value[i] < 0.0) {
      ++out.n_negative;
      out.negative_total += value[i];
    }
  }
  // Gini from the ascending order: G = sum_i (2i - n - 1) x_(i) / (n * sum x), i = 1..n.
  double weighted = 0.0;
  for (std::size_t k = 0; k < n; ++k) {
    const double x = value[order[n - 1 - k]];
    weighted += (2.0 * static_cast<double>(k + 1) - static_cast<double>(n) - 1.0) * x;
  }
  out.gini = weighted / (static_cast<double>(n) * out.total);

  out.top_fractions = options.top_fractions;
  for (double f : options.top_fractions) {
    const auto m = static_cast<std::size_t>(std::ceil(f * static_cast<double>(n) - 1e-9));
    out.top_shares.push_back(m == 0 ? 0.0 : cumulative[std::min(m, n) - 1] / out.total);
  }
  for (std::size_t p = 0; p < options.curve_points; ++p) {
    const double x = static_cast<double>(p) / static_cast<double>(options.curve_points - 1);
    // Linear interpolation between whole customers keeps the curve's shape at any n.
    const double pos = x * static_cast<double>(n);
    const auto whole = static_cast<std::size_t>(std::floor(pos));
    const double below = whole == 0 ? 0.0 : cumulative[std::min(whole, n) - 1];
    const double next = whole < n ? value[order[whole]] : 0.0;
    out.curve_customer_share.push_back(x);
    out.curve_value_share.push_back((below + (pos - static_cast<double>(whole)) * next) / out.total);
  }
  return out;
}

}  // namespace crmine
