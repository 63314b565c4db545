// SPDX-License-Identifier: Apache-2.0
// RFM scoring by strict-rank quantiles and segment assignment.
#include <crmine/core/errors.hpp>
#include <crmine/core/parallel.hpp>
#include <crmine/value/rfm.hpp>

#include <algorithm>
#include <cmath>

namespace crmine {

std::vector<SegmentRule> default_segment_map() {
  // Rows: R score; columns: F score. Recent buyers who buy often are Champions, lapsed frequent
  // buyers are the ones not to lose, lapsed rare buyers are Lost.
  return {
      {"Champions", 5, 5, 4, 5},
      {"Loyal", 3, 4, 4, 5},
      {"Potential Loyalist", 4, 5, 2, 3},
      {"New", 5, 5, 1, 1},
      {"Promising", 4, 4, 1, 1},
      {"Need Attention", 3, 3, 3, 3},
      {"About to Sleep", 3, 3, 1, 2},
      {"Can't Lose Them", 1, 2, 5, 5},
      {"At Risk", 1, 2, 3, 4},
      {"Hibernating", 2, 2, 1, 2},
      {"Lost", 1, 1, 1, 2},
  };
}

namespace {

constexpr double kMaxHistogramRange = 1 << 22;

/// Counts of each integer value from `lo` on, when every value is an integer and the range is
/// below 2^22; false otherwise.
bool integer_histogram(const std::vector<double>& v, std::vector<std::size_t>& counts, double& lo) {
  lo = HUGE_VAL;
  double hi = -HUGE_VAL;
  bool integral = true;
  for (double x : v) {
    lo = std::min(lo, x);
    hi = std::max(hi, x);
    integral &= x == std::floor(x);
  }
  if (!integral || !(hi - lo < kMaxHistogramRange)) return false;
  counts.assign(static_cast<std::size_t>(hi - lo) + 1, 0);
  for (double x : v) ++counts[static_cast<std::size_t>(x - lo)];
  return true;
}

}  // namespace

std::vector<std::uint8_t> quantile_scores(const std::vector<double>& values, int q, bool higher_is_better) {
  const std::size_t n = values.size();
  std::vector<std::uint8_t> scores(n, 1);
  if (n == 0) return scores;
  // Orient so that larger is better; then score = 1 + #{k : v > s[m_k - 1]} with s sorted and
  // m_k = ceil(k n / q), which equals 1 + floor(q w / n) for w = count of strictly smaller values.
  std::vector<double> sorted(n);
  for (std::size_t i = 0; i < n; ++i) sorted[i] = higher_is_better ? values[i] : -values[i];
  auto rank_of = [&](int k) {  // m_k = ceil(k n / q)
    return (static_cast<std::size_t>(k) * n + static_cast<std::size_t>(q) - 1) / static_cast<std::size_t>(q);
  };
  std::vector<double> thresholds;
  std::vector<std::size_t> counts;
  double lo = 0.0;
  if (integer_histogram(sorted, counts, lo)) {
    // Recency in days and frequency are small integers: the order statistics come from a
    // histogram in one pass, where selection would mispredict a branch per element.
    std::size_t below = 0, bin = 0;
    for (int k = 1; k < q; ++k) {
      const std::size_t m = rank_of(k);
      if (m == 0) {
        thresholds.push_back(-HUGE_VAL);
        continue;
      }
      while (below + counts[bin] < m) below += counts[bin++];
      thresholds.push_back(lo + static_cast<double>(bin));
    }
  } else {
    auto first = sorted.begin();
    for (int k = 1; k < q; ++k) {
      const std::size_t m = rank_of(k);
      if (m == 0) {
        thresholds.push_back(-HUGE_VAL);  // every value beats it, as w >= 0 = m
        continue;
      }
      auto nth = sorted.begin() + static_cast<std::ptrdiff_t>(m - 1);
      if (nth >= first) {
        std::nth_element(first, nth, sorted.end());
        first = nth;
      }
      thresholds.push_back(*nth);
    }
  }
  for (std::size_t i = 0; i < n; ++i) {
    const double v = higher_is_better ? values[i] : -values[i];
    int s = 1;
    for (double t : thresholds) s += v > t;
    scores[i] = static_cast<std::uint8_t>(s);
  }
  return scores;
}

namespace {

void check_map(const std::vector<SegmentRule>& map, int q, bool is_default) {
  if (is_default && q != 5)
    detail::throw_invalid("rfm", "segment_map",
                          "the default segment map is defined on 5 score levels but q = ", q,
                          "; pass q = 5, your own segment map, or no map");
  for (std::size_t i = 0; i < map.size(); ++i) {
    const auto& r = map[i];
    auto bad = [&](int lo, int hi) { return lo < 1 || hi > q || lo > hi; };
    if (r.name.empty()) detail::throw_invalid("rfm", "segment_map", "rule ", i, " has an empty name");
    if (bad(r.r_min, r.r_max) || bad(r.f_min, r.f_max) || bad(r.m_min, r.m_max))
      detail::throw_invalid("rfm", "segment_map", "rule ", i, " ('", r.name, "') has a score range outside 1..", q,
                            " or with min > max");
  }
}

bool same_map(const std::vector<SegmentRule>& a, const std::vector<SegmentRule>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (a[i].name != b[i].name || a[i].r_min != b[i].r_min || a[i].r_max != b[i].r_max || a[i].f_min != b[i].f_min ||
        a[i].f_max != b[i].f_max || a[i].m_min != b[i].m_min || a[i].m_max != b[i].m_max)
      return false;
  return true;
}

}  // namespace

RfmTable rfm(const CustomerSummary& summary, const RfmOptions& options) {
  const int q = options.q;
  if (q < 2 || q > 20) detail::throw_invalid("rfm", "q", "must be in 2..20, got ", q);
  check_map(options.segment_map, q, same_map(options.segment_map, default_segment_map()));
  if (summary.max_day == CustomerSummary::kNoDay)
    detail::throw_invalid("rfm", "summary", "has no rows");
  const std::int32_t as_of =
      options.as_of_day == CustomerSummary::kNoDay ? summary.max_day + 1 : options.as_of_day;

  RfmTable out;
  out.q = q;
  out.as_of_day = as_of;
  std::vector<std::size_t> keep;
  keep.reserve(summary.size());
  for (std::size_t i = 0; i < summary.size(); ++i) {
    if (summary.occasions[i] > 0) {
      keep.push_back(i);
      if (summary.last_day[i] > as_of)
        detail::throw_invalid("rfm", "as_of", "day ", as_of, " is before the last purchase (day ", summary.last_day[i],
                              ") of customer ", summary.customer[i], "; filter the log to the as-of date first");
    }
  }
  out.excluded_without_purchase = static_cast<std::int64_t>(summary.size() - keep.size());
  if (keep.empty()) detail::throw_invalid("rfm", "summary", "no customer has a purchase (amount >= 0)");
  const std::size_t n = keep.size();
  out.customer.resize(n);
  out.recency.resize(n);
  out.frequency.resize(n);
  out.monetary.resize(n);
  out.revenue.resize(n);
  std::vector<double> r(n), f(n);
  for (std::size_t k = 0; k < n; ++k) {
    const std::size_t i = keep[k];
    out.customer[k] = summary.customer[i];
    out.recency[k] = as_of - summary.last_day[i];
    out.frequency[k] = summary.occasions[i];
    out.revenue[k] = summary.revenue[i];
    out.monetary[k] = options.monetary == Monetary::mean
                          ? summary.revenue[i] / static_cast<double>(summary.occasions[i])
                          : summary.revenue[i];
    r[k] = out.recency[k];
    f[k] = static_cast<double>(out.frequency[k]);
  }
  // The three dimensions are independent selections: one per thread where there are threads.
  const int threads = std::min(3, detail::resolve_threads(options.n_jobs));
#pragma omp parallel sections num_threads(threads)
  {
#pragma omp section
    out.r_score = quantile_scores(r, q, false);
#pragma omp section
    out.f_score = quantile_scores(f, q, true);
#pragma omp section
    out.m_score = quantile_scores(out.monetary, q, true);
  }

  const auto& map = options.segment_map;
  out.segment.assign(n, -1);
  if (!map.empty()) {
    for (const auto& rule : map) out.segment_names.push_back(rule.name);
    // A lookup over the q^3 score cells instead of matching rules per customer.
    std::vector<std::int16_t> cell(static_cast<std::size_t>(q * q * q), -1);
    bool unmatched = false;
    for (int rs = 1; rs <= q; ++rs)
      for (int fs = 1; fs <= q; ++fs)
        for (int ms = 1; ms <= q; ++ms) {
          auto& c = cell[static_cast<std::size_t>(((rs - 1) * q + (fs - 1)) * q + (ms - 1))];
          for (std::size_t k = 0; k < map.size() && c < 0; ++k) {
            const auto& rule = map[k];
            if (rs >= rule.r_min && rs <= rule.r_max && fs >= rule.f_min && fs <= rule.f_max && ms >= rule.m_min &&
                ms <= rule.m_max)
              c = static_cast<std::int16_t>(k);
          }
          if (c < 0) {
            c = static_cast<std::int16_t>(map.size());
            unmatched = true;
          }
        }
    if (unmatched) out.segment_names.push_back("Other");
    for (std::size_t k = 0; k < n; ++k)
      out.segment[k] =
          cell[static_cast<std::size_t>(((out.r_score[k] - 1) * q + (out.f_score[k] - 1)) * q + (out.m_score[k] - 1))];
  }
  return out;
}

SegmentSummary summarize_segments(const RfmTable& table) {
  if (table.segment_names.empty())
    detail::throw_invalid("summarize_segments", "table", "was scored without a segment map");
  const std::size_t k = table.segment_names.size();
  SegmentSummary out;
  out.segment = table.segment_names;
  out.customers.assign(k, 0);
  out.revenue.assign(k, 0.0);
  out.mean_recency.assign(k, 0.0);
  out.mean_frequency.assign(k, 0.0);
  out.mean_monetary.assign(k, 0.0);
  double total_revenue = 0.0;
  for (std::size_t i = 0; i < table.size(); ++i) {
    const auto s = static_cast<std::size_t>(table.segment[i]);
    ++out.customers[s];
    out.revenue[s] += table.revenue[i];
    out.mean_recency[s] += table.recency[i];
    out.mean_frequency[s] += static_cast<double>(table.frequency[i]);
    out.mean_monetary[s] += table.monetary[i];
    total_revenue += table.revenue[i];
  }
  const double n = static_cast<double>(table.size());
  out.customer_share.resize(k);
  out.revenue_share.resize(k);
  for (std::size_t s = 0; s < k; ++s) {
    const double c = static_cast<double>(out.customers[s]);
    out.customer_share[s] = c / n;
    out.revenue_share[s] = total_revenue != 0.0 ? out.revenue[s] / total_revenue : NAN;
    const double div = c > 0 ? c : NAN;
    out.mean_recency[s] /= div;
    out.mean_frequency[s] /= div;
    out.mean_monetary[s] /= div;
  }
  return out;
}

}  // namespace crmine
