// SPDX-License-Identifier: Apache-2.0
// Ranking and probability metrics, lift and calibration tables, stratified splits.
#include <crmine/classify/metrics.hpp>
#include <crmine/core/random.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <numeric>

namespace crmine {
namespace {

void check_scores(const char* where, LabelRef y, VectorRef s, VectorRef w, bool probabilities) {
  if (y.size() == 0) detail::throw_invalid(where, "y", "is empty");
  if (s.size() != y.size()) detail::throw_invalid(where, "score", "has ", s.size(), " entries, y has ", y.size());
  if (w.size() != 0 && w.size() != y.size()) detail::throw_invalid(where, "sample_weight", "has ", w.size(), " entries, y has ", y.size());
  for (Eigen::Index i = 0; i < y.size(); ++i) {
    if (y[i] != 0 && y[i] != 1) detail::throw_invalid(where, "y", "label ", y[i], " at row ", i, "; labels must be 0 or 1");
    if (std::isnan(s[i])) detail::throw_invalid(where, "score", "NaN at row ", i);
    if (probabilities && (s[i] < 0 || s[i] > 1)) detail::throw_invalid(where, "proba", "value ", s[i], " at row ", i, " is not in [0, 1]");
    if (w.size() && (!std::isfinite(w[i]) || w[i] < 0)) detail::throw_invalid(where, "sample_weight", "entry ", i, " is ", w[i]);
  }
}

/// Row order by descending score; equal scores keep input order.
std::vector<Eigen::Index> descending(VectorRef s) {
  std::vector<Eigen::Index> order(static_cast<std::size_t>(s.size()));
  std::iota(order.begin(), order.end(), Eigen::Index{0});
  std::stable_sort(order.begin(), order.end(), [&](Eigen::Index a, Eigen::Index b) { return s[a] > s[b]; });
  return order;
}

inline double weight_of(VectorRef w, Eigen::Index i) { return w.size() ? w[i] : 1.0; }

}  // namespace

double roc_auc(LabelRef y, VectorRef score, VectorRef w) {
  check_scores("roc_auc", y, score, w, false);
  const auto order = descending(score);
  double pos = 0, neg = 0, area = 0;
  for (std::size_t k = 0; k < order.size();) {
    double tie_pos = 0, tie_neg = 0;
    const double s = score[order[k]];
    for (; k < order.size() && score[order[k]] == s; ++k) (y[order[k]] ? tie_pos : tie_neg) += weight_of(w, order[k]);
    // Each negative in this tie group is outranked by the earlier positives, half by the tied ones.
    area += tie_neg * (pos + 0.5 * tie_pos);
    pos += tie_pos;
    neg += tie_neg;
  }
  if (!(pos > 0) || !(neg > 0)) detail::throw_invalid("roc_auc", "y", "needs both classes present");
  return area / (pos * neg);
}

double pr_auc(LabelRef y, VectorRef score, VectorRef w) {
  check_scores("pr_auc", y, score, w, false);
  const auto order = descending(score);
  double total_pos = 0;
  for (Eigen::Index i = 0; i < y.size(); ++i) total_pos += y[i] * weight_of(w, i);
  if (!(total_pos > 0)) detail::throw_invalid("pr_auc", "y", "has no positive rows");
  double tp = 0, fp = 0, ap = 0, last_recall = 0;
  for (std::size_t k = 0; k < order.size();) {
    const double s = score[order[k]];
    for (; k < order.size() && score[order[k]] == s; ++k) (y[order[k]] ? tp : fp) += weight_of(w, order[k]);
    const double recall = tp / total_pos;
    if (tp + fp > 0) ap += (recall - last_recall) * tp / (tp + fp);
    last_recall = recall;
  }
  return ap;
}

double log_loss(LabelRef y, VectorRef p, VectorRef w) {
  check_scores("log_loss", y, p, w, true);
  const double eps = std::numeric_limits<double>::epsilon();
  double s = 0, total = 0;
  for (Eigen::Index i = 0; i < y.size(); ++i) {
    const double q = std::clamp(p[i], eps, 1 - eps), wi = weight_of(w, i);
    s -= wi * (y[i] ? std::log(q) : std::log1p(-q));
    total += wi;
  }
  return s / total;
}

double brier_score(LabelRef y, VectorRef p, VectorRef w) {
  check_scores("brier_score", y, p, w, true);
  double s = 0, total = 0;
  for (Eigen::Index i = 0; i < y.size(); ++i) {
    const double d = p[i] - y[i], wi = weight_of(w, i);
    s += wi * d * d;
    total += wi;
  }
  return s / total;
}

ConfusionMatrix confusion_matrix(LabelRef y, VectorRef score, double threshold, VectorRef w) {
  check_scores("confusion_matrix", y, score, w, false);
  ConfusionMatrix m;
  for (Eigen::Index i = 0; i < y.size(); ++i) {
    const bool predicted = score[i] >= threshold;
    const double wi = weight_of(w, i);
    if (y[i]) (predicted ? m.tp : m.fn) += wi;
    else (predicted ? m.fp : m.tn) += wi;
  }
  return m;
}

LiftTable lift_table(LabelRef y, VectorRef score, int n_bins) {
  check_scores("lift_table", y, score, Eigen::VectorXd(), false);
  if (n_bins < 1 || n_bins > y.size()) detail::throw_invalid("lift_table", "n_bins", "is ", n_bins, "; must be in [1, ", y.size(), "]");
  const auto order = descending(score);
  const auto n = static_cast<std::int64_t>(y.size());
  const std::int64_t total_pos = y.cast<std::int64_t>().sum();
  LiftTable t;
  t.overall_rate = static_cast<double>(total_pos) / static_cast<double>(n);
  std::int64_t cum_n = 0, cum_pos = 0;
  for (int b = 0; b < n_bins; ++b) {
    const std::int64_t begin = n * b / n_bins, end = n * (b + 1) / n_bins;
    std::int64_t pos = 0;
    for (std::int64_t k = begin; k < end; ++k) pos += y[order[static_cast<std::size_t>(k)]];
    cum_n += end - begin;
    cum_pos += pos;
    const double rate = static_cast<double>(pos) / static_cast<double>(end - begin);
    const double cum_rate = static_cast<double>(cum_pos) / static_cast<double>(cum_n);
    t.n.push_back(end - begin);
    t.responders.push_back(pos);
    t.max_score.push_back(score[order[static_cast<std::size_t>(begin)]]);
    t.min_score.push_back(score[order[static_cast<std::size_t>(end - 1)]]);
    t.response_rate.push_back(rate);
    t.cumulative_response_rate.push_back(cum_rate);
    const bool any = total_pos > 0;
    t.lift.push_back(any ? rate / t.overall_rate : std::numeric_limits<double>::quiet_NaN());
    t.cumulative_lift.push_back(any ? cum_rate / t.overall_rate : std::numeric_limits<double>::quiet_NaN());
    t.cumulative_gain.push_back(any ? static_cast<double>(cum_pos) / static_cast<double>(total_pos) : std::numeric_limits<double>::quiet_NaN());
  }
  return t;
}

double top_decile_lift(LabelRef y, VectorRef score) {
  if (y.size() < 10) detail::throw_invalid("top_decile_lift", "y", "needs at least 10 rows, has ", y.size());
  return lift_table(y, score, 10).lift[0];
}

CalibrationTable calibration_table(LabelRef y, VectorRef p, int n_bins) {
  check_scores("calibration_table", y, p, Eigen::VectorXd(), true);
  if (n_bins < 1) detail::throw_invalid("calibration_table", "n_bins", "is ", n_bins, "; must be >= 1");
  const auto nb = static_cast<std::size_t>(n_bins);
  std::vector<double> sum_p(nb, 0.0), sum_y(nb, 0.0);
  CalibrationTable t;
  t.n.assign(nb, 0);
  for (Eigen::Index i = 0; i < y.size(); ++i) {
    const auto b = std::min(nb - 1, static_cast<std::size_t>(p[i] * n_bins));
    ++t.n[b];
    sum_p[b] += p[i];
    sum_y[b] += y[i];
  }
  for (std::size_t b = 0; b < nb; ++b) {
    t.lower.push_back(static_cast<double>(b) / n_bins);
    t.upper.push_back(static_cast<double>(b + 1) / n_bins);
    const double c = static_cast<double>(t.n[b]);
    t.mean_predicted.push_back(t.n[b] ? sum_p[b] / c : std::numeric_limits<double>::quiet_NaN());
    t.observed_rate.push_back(t.n[b] ? sum_y[b] / c : std::numeric_limits<double>::quiet_NaN());
  }
  return t;
}

namespace {
/// Row indices of each class, each list shuffled by its own stream of `seed`.
std::array<std::vector<Eigen::Index>, 2> shuffled_classes(const char* where, LabelRef y, std::uint64_t seed) {
  std::array<std::vector<Eigen::Index>, 2> rows;
  for (Eigen::Index i = 0; i < y.size(); ++i) {
    if (y[i] != 0 && y[i] != 1) detail::throw_invalid(where, "y", "label ", y[i], " at row ", i, "; labels must be 0 or 1");
    rows[static_cast<std::size_t>(y[i])].push_back(i);
  }
  for (std::size_t c = 0; c < 2; ++c) {
    Random rng(seed, c);
    auto& v = rows[c];
    for (std::size_t k = v.size(); k > 1; --k) std::swap(v[k - 1], v[rng.below(k)]);
  }
  return rows;
}
}  // namespace

Eigen::VectorXi stratified_kfold(LabelRef y, int n_splits, std::uint64_t seed) {
  if (n_splits < 2) detail::throw_invalid("stratified_kfold", "n_splits", "is ", n_splits, "; must be >= 2");
  const auto rows = shuffled_classes("stratified_kfold", y, seed);
  for (std::size_t c = 0; c < 2; ++c)
    if (rows[c].size() < static_cast<std::size_t>(n_splits))
      detail::throw_invalid("stratified_kfold", "y", "class ", c, " has ", rows[c].size(), " rows, fewer than n_splits = ", n_splits);
  Eigen::VectorXi fold(y.size());
  // Class 1 continues the round-robin where class 0 stopped so fold sizes stay within one row.
  std::size_t k = 0;
  for (const auto& v : rows)
    for (const Eigen::Index i : v) fold[i] = static_cast<int>(k++ % static_cast<std::size_t>(n_splits));
  return fold;
}

std::vector<bool> stratified_split(LabelRef y, double test_fraction, std::uint64_t seed) {
  if (!(test_fraction > 0 && test_fraction < 1))
    detail::throw_invalid("stratified_split", "test_fraction", "is ", test_fraction, "; must be in (0, 1)");
  const auto rows = shuffled_classes("stratified_split", y, seed);
  std::vector<bool> test(static_cast<std::size_t>(y.size()), false);
  for (const auto& v : rows) {
    const auto k = static_cast<std::size_t>(std::llround(test_fraction * static_cast<double>(v.size())));
    for (std::size_t j = 0; j < k; ++j) test[static_cast<std::size_t>(v[j])] = true;
  }
  return test;
}

}  // namespace crmine
