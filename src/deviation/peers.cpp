// SPDX-License-Identifier: Apache-2.0
// peer_deviations: rows grouped by segment once, then every (segment, feature) summarised on its own.
#include <crmine/deviation/peers.hpp>

#include "common.hpp"

#include <cmath>
#include <limits>
#include <numbers>
#include <vector>

namespace crmine {
namespace {

// The standard normal's upper quartile: MAD / kQ3 and IQR / (2 kQ3) estimate sigma.
constexpr double kQ3 = 0.6744897501960817;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

/// Median of `v` (reordered): the mean of the two middle values for an even count.
double median(std::vector<double>& v) {
  if (v.empty()) return kNaN;
  const std::size_t mid = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid), v.end());
  const double upper = v[mid];
  if (v.size() % 2) return upper;
  return (*std::max_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid)) + upper) / 2;
}

/// Median and robust spread of one segment's values of one feature (NaN values already dropped).
std::pair<double, double> centre_and_spread(std::vector<double>& values, std::vector<double>& work) {
  if (values.empty()) return {kNaN, kNaN};
  work = values;
  const double med = median(work);
  work.resize(values.size());
  double abs_sum = 0;
  for (std::size_t i = 0; i < values.size(); ++i) {
    work[i] = std::abs(values[i] - med);
    abs_sum += work[i];
  }
  double spread = median(work) / kQ3;
  if (!(spread > 0)) {
    const double q1 = detail::quantile(values, 0.25), q3 = detail::quantile(values, 0.75);
    spread = (q3 - q1) / (2 * kQ3);
  }
  if (!(spread > 0)) spread = std::sqrt(std::numbers::pi / 2) * abs_sum / static_cast<double>(values.size());
  return {med, spread > 0 ? spread : kNaN};
}

}  // namespace

PeerDeviations peer_deviations(MatrixRef X, const Eigen::Ref<const Eigen::VectorXi>& segment, int min_peers,
                               int n_threads) {
  constexpr const char* where = "peer_deviations";
  const Eigen::Index n = X.rows(), d = X.cols();
  if (segment.size() != n) detail::throw_invalid(where, "segment", "has ", segment.size(), " labels, X has ", n, " rows");
  if (min_peers < 2) detail::throw_invalid(where, "min_peers", "must be >= 2, got ", min_peers);
  if (n_threads < 0) detail::throw_invalid(where, "n_threads", "must be >= 0, got ", n_threads);
  for (Eigen::Index i = 0; i < n; ++i)
    for (Eigen::Index f = 0; f < d; ++f)
      if (std::isinf(X(i, f))) detail::throw_invalid(where, "X", "is infinite at row ", i, ", column ", f);
  int k = 0;
  for (Eigen::Index i = 0; i < n; ++i) {
    if (segment[i] < 0) detail::throw_invalid(where, "segment", "has a negative code at row ", i, ": ", segment[i]);
    k = std::max(k, segment[i] + 1);
  }
  // Rows of each segment, in row order (a counting sort).
  std::vector<Eigen::Index> start(static_cast<std::size_t>(k) + 1, 0), rows(static_cast<std::size_t>(n));
  for (Eigen::Index i = 0; i < n; ++i) ++start[static_cast<std::size_t>(segment[i]) + 1];
  for (int g = 0; g < k; ++g) start[g + 1] += start[g];
  {
    std::vector<Eigen::Index> next(start.begin(), start.end() - 1);
    for (Eigen::Index i = 0; i < n; ++i) rows[static_cast<std::size_t>(next[static_cast<std::size_t>(segment[i])]++)] = i;
  }

  PeerDeviations out;
  out.median.resize(n, d);
  out.scale.resize(n, d);
  out.z.resize(n, d);
  const Eigen::Index units = static_cast<Eigen::Index>(k) * d;
  detail::for_each_block(units, 1, n_threads, [&](Eigen::Index unit, Eigen::Index, Eigen::Index) {
    const auto g = static_cast<std::size_t>(unit / d);
    const Eigen::Index f = unit % d;
    thread_local std::vector<double> values, work;
    values.clear();
    for (Eigen::Index r = start[g]; r < start[g + 1]; ++r)
      if (const double v = X(rows[static_cast<std::size_t>(r)], f); !std::isnan(v)) values.push_back(v);
    const auto [med, spread] = centre_and_spread(values, work);
    const bool enough = start[g + 1] - start[g] >= min_peers;
    for (Eigen::Index r = start[g]; r < start[g + 1]; ++r) {
      const Eigen::Index i = rows[static_cast<std::size_t>(r)];
      out.median(i, f) = med;
      out.scale(i, f) = spread;
      out.z(i, f) = enough ? (X(i, f) - med) / spread : kNaN;
    }
  });
  out.score.resize(n);
  out.driver.resize(n);
  for (Eigen::Index i = 0; i < n; ++i) {
    double best = -1;
    int driver = -1;
    for (Eigen::Index f = 0; f < d; ++f)
      if (const double a = std::abs(out.z(i, f)); a > best) best = a, driver = static_cast<int>(f);
    out.score[i] = driver >= 0 ? best : kNaN;
    out.driver[i] = driver;
  }
  return out;
}

}  // namespace crmine
