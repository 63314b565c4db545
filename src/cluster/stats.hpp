// SPDX-License-Identifier: Apache-2.0
// Small order statistics used by scalers and profiles.
#pragma once

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace crmine::detail {

/// Quantile q in [0, 1] with linear interpolation between order statistics (Hyndman-Fan type 7);
/// reorders `values`; NaN when empty.
inline double quantile(std::vector<double>& values, double q) {
  if (values.empty()) return std::numeric_limits<double>::quiet_NaN();
  const double pos = q * static_cast<double>(values.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(pos));
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(lo), values.end());
  const double a = values[lo];
  if (lo + 1 >= values.size()) return a;
  const double b = *std::min_element(values.begin() + static_cast<std::ptrdiff_t>(lo) + 1, values.end());
  return a + (pos - static_cast<double>(lo)) * (b - a);
}

}  // namespace crmine::detail
