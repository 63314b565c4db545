// SPDX-License-Identifier: Apache-2.0
// NPS and CSAT with confidence intervals per group.
#include <crmine/campaign/satisfaction.hpp>
#include <crmine/core/errors.hpp>
#include <crmine/core/parallel.hpp>
#include <crmine/core/random.hpp>

#include <boost/math/distributions/normal.hpp>

#include <algorithm>
#include <cmath>

namespace crmine {
namespace {

void check_confidence(const char* where, double confidence) {
  if (!(confidence > 0.0 && confidence < 1.0))
    detail::throw_invalid(where, "confidence", "must be in (0, 1), got ", confidence);
}

/// Response counts per group; checks codes and that no group is empty.
std::vector<std::int64_t> group_sizes(const char* where, std::size_t n_values, std::span<const std::int32_t> group,
                                      std::int32_t n_groups) {
  if (n_values == 0) detail::throw_invalid(where, "scores", "no responses");
  if (n_groups < 1) detail::throw_invalid(where, "n_groups", "must be >= 1, got ", n_groups);
  std::vector<std::int64_t> size(static_cast<std::size_t>(n_groups), 0);
  if (group.empty()) {
    if (n_groups != 1) detail::throw_invalid(where, "group", "is empty but n_groups is ", n_groups);
    size[0] = static_cast<std::int64_t>(n_values);
    return size;
  }
  if (group.size() != n_values)
    detail::throw_invalid(where, "group", "has ", group.size(), " entries but there are ", n_values, " responses");
  for (std::size_t i = 0; i < n_values; ++i) {
    const std::int32_t g = group[i];
    if (g < 0 || g >= n_groups)
      detail::throw_invalid(where, "group", "row ", i, " has code ", g, ", outside 0..", n_groups - 1);
    ++size[static_cast<std::size_t>(g)];
  }
  for (std::size_t g = 0; g < size.size(); ++g)
    if (size[g] == 0) detail::throw_invalid(where, "group", "group ", g, " has no responses");
  return size;
}

std::size_t group_of(std::span<const std::int32_t> group, std::size_t i) {
  return group.empty() ? 0 : static_cast<std::size_t>(group[i]);
}

/// numpy's default (linear) quantile of sorted values.
double sorted_quantile(const std::vector<double>& sorted, double q) {
  const double h = q * static_cast<double>(sorted.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(h));
  const std::size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (h - static_cast<double>(lo)) * (sorted[hi] - sorted[lo]);
}

/// Percentile bootstrap of one group's NPS: each resample draws n responses from the observed
/// shares; resample b uses its own seeded stream, so the result does not depend on the threads.
void bootstrap_nps(std::int64_t n, std::int64_t promoters, std::int64_t detractors, const NpsOptions& o,
                   std::uint64_t stream, double& se, double& lower, double& upper) {
  const double p_pro = static_cast<double>(promoters) / static_cast<double>(n);
  const double p_det = static_cast<double>(detractors) / static_cast<double>(n);
  std::vector<double> stats(static_cast<std::size_t>(o.n_boot));
  const std::uint64_t seed = derive_seed(o.seed, stream);
  // Below about a million draws a thread team costs more than it saves.
  const int threads = static_cast<double>(o.n_boot) * static_cast<double>(n) < 1e6 ? 1 : detail::resolve_threads(o.n_jobs);
#pragma omp parallel for num_threads(threads) schedule(static)
  for (int b = 0; b < o.n_boot; ++b) {
    Random rng(seed, static_cast<std::uint64_t>(b));
    std::int64_t pro = 0, det = 0;
    for (std::int64_t i = 0; i < n; ++i) {
      const double u = rng.uniform();
      pro += u < p_pro;
      det += u >= 1.0 - p_det;
    }
    stats[static_cast<std::size_t>(b)] = 100.0 * static_cast<double>(pro - det) / static_cast<double>(n);
  }
  double mean = 0.0;
  for (double s : stats) mean += s;
  mean /= static_cast<double>(stats.size());
  double ss = 0.0;
  for (double s : stats) ss += (s - mean) * (s - mean);
  se = std::sqrt(ss / static_cast<double>(stats.size() - 1));
  std::sort(stats.begin(), stats.end());
  const double alpha = 1.0 - o.confidence;
  lower = sorted_quantile(stats, alpha / 2);
  upper = sorted_quantile(stats, 1.0 - alpha / 2);
}

}  // namespace

double normal_quantile_two_sided(double confidence) {
  check_confidence("normal_quantile_two_sided", confidence);
  return boost::math::quantile(boost::math::normal_distribution<double>(), 0.5 + confidence / 2);
}

NpsTable nps(std::span<const double> scores, std::span<const std::int32_t> group, std::int32_t n_groups,
             const NpsOptions& options) {
  constexpr const char* where = "nps";
  check_confidence(where, options.confidence);
  if (options.interval == NpsInterval::bootstrap && options.n_boot < 100)
    detail::throw_invalid(where, "n_boot", "must be >= 100, got ", options.n_boot);
  const auto sizes = group_sizes(where, scores.size(), group, n_groups);
  NpsTable t;
  const auto G = sizes.size();
  t.n = sizes;
  t.promoters.assign(G, 0);
  t.passives.assign(G, 0);
  t.detractors.assign(G, 0);
  for (std::size_t i = 0; i < scores.size(); ++i) {
    const double s = scores[i];
    if (!(s >= 0.0 && s <= 10.0) || s != std::floor(s))
      detail::throw_invalid(where, "scores", "row ", i, " is ", s, "; likelihood to recommend must be a whole number in 0..10");
    const std::size_t g = group_of(group, i);
    if (s >= 9.0) ++t.promoters[g];
    else if (s >= 7.0) ++t.passives[g];
    else ++t.detractors[g];
  }
  const double z = normal_quantile_two_sided(options.confidence);
  t.nps.resize(G);
  t.se.resize(G);
  t.lower.resize(G);
  t.upper.resize(G);
  for (std::size_t g = 0; g < G; ++g) {
    const double n = static_cast<double>(t.n[g]);
    t.nps[g] = 100.0 * static_cast<double>(t.promoters[g] - t.detractors[g]) / n;
    if (options.interval == NpsInterval::bootstrap) {
      bootstrap_nps(t.n[g], t.promoters[g], t.detractors[g], options, g, t.se[g], t.lower[g], t.upper[g]);
      continue;
    }
    const double pseudo = options.interval == NpsInterval::adjusted_wald ? 0.75 : 0.0;
    const double m = n + 4.0 * pseudo;
    const double pro = (static_cast<double>(t.promoters[g]) + pseudo) / m;
    const double det = (static_cast<double>(t.detractors[g]) + pseudo) / m;
    const double centre = pro - det;
    const double se = std::sqrt(std::max(0.0, pro + det - centre * centre) / m);
    t.se[g] = 100.0 * se;
    t.lower[g] = 100.0 * std::max(-1.0, centre - z * se);
    t.upper[g] = 100.0 * std::min(1.0, centre + z * se);
  }
  return t;
}

CsatTable csat(std::span<const double> ratings, std::span<const std::int32_t> group, std::int32_t n_groups,
               const CsatOptions& options) {
  constexpr const char* where = "csat";
  check_confidence(where, options.confidence);
  if (!std::isfinite(options.scale_min) || !std::isfinite(options.scale_max) || !(options.scale_min < options.scale_max))
    detail::throw_invalid(where, "scale", "needs finite scale_min < scale_max, got ", options.scale_min, "..",
                          options.scale_max);
  if (!(options.threshold > options.scale_min && options.threshold <= options.scale_max))
    detail::throw_invalid(where, "threshold", options.threshold, " must be in (", options.scale_min, ", ",
                          options.scale_max, "] so that both outcomes are possible");
  const auto sizes = group_sizes(where, ratings.size(), group, n_groups);
  const auto G = sizes.size();
  CsatTable t;
  t.n = sizes;
  t.satisfied.assign(G, 0);
  std::vector<double> sum(G, 0.0), sum_sq(G, 0.0);
  for (std::size_t i = 0; i < ratings.size(); ++i) {
    const double r = ratings[i];
    if (!(r >= options.scale_min && r <= options.scale_max))
      detail::throw_invalid(where, "ratings", "row ", i, " is ", r, ", outside the scale ", options.scale_min, "..",
                            options.scale_max);
    const std::size_t g = group_of(group, i);
    t.satisfied[g] += r >= options.threshold;
    sum[g] += r;
    sum_sq[g] += r * r;
  }
  const double z = normal_quantile_two_sided(options.confidence);
  for (std::size_t g = 0; g < G; ++g) {
    const double n = static_cast<double>(t.n[g]);
    const double p = static_cast<double>(t.satisfied[g]) / n;
    double lo, hi;
    if (options.interval == ProportionInterval::wilson) {
      const double z2n = z * z / n;
      const double centre = (p + z2n / 2) / (1 + z2n);
      const double half = z / (1 + z2n) * std::sqrt(p * (1 - p) / n + z2n / (4 * n));
      lo = centre - half;
      hi = centre + half;
    } else {
      const double half = z * std::sqrt(p * (1 - p) / n);
      lo = p - half;
      hi = p + half;
    }
    t.csat.push_back(100.0 * p);
    t.lower.push_back(100.0 * std::max(0.0, lo));
    t.upper.push_back(100.0 * std::min(1.0, hi));
    const double mean = sum[g] / n;
    const double var = n > 1 ? std::max(0.0, (sum_sq[g] - n * mean * mean) / (n - 1)) : 0.0;
    const double half = z * std::sqrt(var / n);
    t.mean_rating.push_back(mean);
    t.mean_lower.push_back(mean - half);
    t.mean_upper.push_back(mean + half);
  }
  return t;
}

}  // namespace crmine
