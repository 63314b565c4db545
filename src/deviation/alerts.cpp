// SPDX-License-Identifier: Apache-2.0
// Churn early warning and the top-k alert metrics.
#include <crmine/core/errors.hpp>
#include <crmine/deviation/alerts.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace crmine {
namespace {

void check_churn_options(const ChurnOptions& o) {
  constexpr const char* where = "churn_alerts";
  if (!(o.gap_ratio > 1.0) || !std::isfinite(o.gap_ratio))
    detail::throw_invalid(where, "gap_ratio", "must be a finite number > 1, got ", o.gap_ratio);
  if (o.min_gaps < 1) detail::throw_invalid(where, "min_gaps", "must be at least 1, got ", o.min_gaps);
  if (!(o.p_alive_threshold > 0.0 && o.p_alive_threshold < 1.0))
    detail::throw_invalid(where, "p_alive_threshold", "must lie in (0, 1), got ", o.p_alive_threshold);
  if (o.horizon_days < 1) detail::throw_invalid(where, "horizon_days", "must be at least 1 day, got ", o.horizon_days);
  if (o.within_days < 0) detail::throw_invalid(where, "within_days", "must be >= 0 days, got ", o.within_days);
}

/// The k best-scored rows' count of positives, after checking the arguments.
std::int64_t hits_at_k(const char* where, LabelRef y, VectorRef score, std::int64_t k) {
  const auto n = static_cast<std::int64_t>(y.size());
  if (n == 0) detail::throw_invalid(where, "y", "is empty");
  if (score.size() != y.size()) detail::throw_invalid(where, "score", "has ", score.size(), " entries, y has ", n);
  if (k < 1 || k > n) detail::throw_invalid(where, "k", "must lie in [1, ", n, "], got ", k);
  for (Eigen::Index i = 0; i < y.size(); ++i) {
    if (y[i] != 0 && y[i] != 1) detail::throw_invalid(where, "y", "label ", y[i], " at row ", i, "; labels must be 0 or 1");
    if (std::isnan(score[i])) detail::throw_invalid(where, "score", "NaN at row ", i);
  }
  std::vector<Eigen::Index> order(static_cast<std::size_t>(n));
  std::iota(order.begin(), order.end(), Eigen::Index{0});
  // Only the top k need ordering; ties fall back on the row number, i.e. input order.
  std::partial_sort(order.begin(), order.begin() + k, order.end(), [&](Eigen::Index a, Eigen::Index b) {
    return score[a] != score[b] ? score[a] > score[b] : a < b;
  });
  std::int64_t hits = 0;
  for (std::int64_t r = 0; r < k; ++r) hits += y[order[static_cast<std::size_t>(r)]];
  return hits;
}

}  // namespace

ChurnAlerts churn_alerts(const HistoryBaselines& h, std::span<const double> p_alive, const ChurnOptions& options) {
  check_churn_options(options);
  const std::size_t n = h.size();
  if (!p_alive.empty() && p_alive.size() != n)
    detail::throw_invalid("churn_alerts", "p_alive", "has ", p_alive.size(), " entries, the baselines have ", n,
                          " customers");
  for (std::size_t i = 0; i < p_alive.size(); ++i)
    if (!std::isnan(p_alive[i]) && !(p_alive[i] >= 0.0 && p_alive[i] <= 1.0))
      detail::throw_invalid("churn_alerts", "p_alive", "entry ", i, " is ", p_alive[i], "; probabilities lie in [0, 1]");
  ChurnAlerts out;
  const double window_days = static_cast<double>(h.window + 1) * h.period_days;
  for (std::size_t i = 0; i < n; ++i) {
    const bool gap = h.gap_n[i] >= options.min_gaps && h.gap_ratio[i] >= options.gap_ratio &&
                     h.gap_current[i] - options.gap_ratio * h.gap_mean[i] <= options.within_days;
    const double p = p_alive.empty() ? std::numeric_limits<double>::quiet_NaN() : p_alive[i];
    const bool dead = !std::isnan(p) && p < options.p_alive_threshold && h.gap_current[i] <= window_days;
    if (!gap && !dead) continue;
    const double span = h.gap_n[i] > 0
                            ? static_cast<double>(h.last_day[i] - h.first_day[i]) + h.gap_mean[i]
                            : std::max<double>(h.as_of_day - h.first_day[i], h.period_days);
    const double usual = h.total_spend[i] / span * options.horizon_days;
    out.row.push_back(static_cast<std::int64_t>(i));
    out.usual_value.push_back(usual);
    out.value_at_risk.push_back(usual * (std::isnan(p) ? 1.0 : 1.0 - p));
    out.by_gap.push_back(gap);
    out.by_p_alive.push_back(dead);
  }
  std::vector<std::size_t> order(out.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return out.value_at_risk[a] > out.value_at_risk[b]; });
  auto permute = [&](auto& v) {
    auto copy = v;
    for (std::size_t r = 0; r < order.size(); ++r) v[r] = copy[order[r]];
  };
  permute(out.row);
  permute(out.usual_value);
  permute(out.value_at_risk);
  permute(out.by_gap);
  permute(out.by_p_alive);
  return out;
}

double precision_at_k(LabelRef y, VectorRef score, std::int64_t k) {
  return static_cast<double>(hits_at_k("precision_at_k", y, score, k)) / static_cast<double>(k);
}

double recall_at_k(LabelRef y, VectorRef score, std::int64_t k) {
  const std::int64_t hits = hits_at_k("recall_at_k", y, score, k);
  const std::int64_t positives = y.sum();
  return positives > 0 ? static_cast<double>(hits) / static_cast<double>(positives)
                       : std::numeric_limits<double>::quiet_NaN();
}

}  // namespace crmine
