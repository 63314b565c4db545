// SPDX-License-Identifier: Apache-2.0
// RFM scoring by strict-rank quantiles and segment assignment.
#include <crmine/core/errors.hpp>
#include <crmine/core/order_key.hpp>
#include <crmine/core/parallel.hpp>
#include <crmine/value/rfm.hpp>

#include "rfm_fold.hpp"

#include <algorithm>
#include <cmath>
#include <span>

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

/// A value as an unsigned key whose unsigned order is the value's order (and the reverse order
/// when `reversed`), so that one selection routine serves integers and doubles, either way up.
inline std::uint64_t ordered_key(std::int64_t v) { return static_cast<std::uint64_t>(v) ^ (std::uint64_t{1} << 63); }
inline std::uint64_t ordered_key(std::int32_t v) { return ordered_key(static_cast<std::int64_t>(v)); }
inline std::uint64_t ordered_key(double v) { return order_key(v); }

/// Scores 1 + floor(q w / n) of `values` into `scores` (w = strictly worse values).
///
/// Score = 1 + #{k : key > t_k} with t_k the m_k-th smallest key, m_k = ceil(k n / q); that
/// equals 1 + floor(q w / n). The order statistics come from a radix selection: one histogram of
/// the keys' leading bits (above their minimum) finds the bucket of each m_k, and only those
/// buckets' keys are collected and selected in. Small integers (recency in days, frequency) fall one
/// value per bucket and need no second pass; all passes are parallel. Sorting or nth_element over
/// millions of customers would cost more than the rest of the RFM table.
template <typename T>
void score_quantiles(std::span<const T> values, int q, bool higher_is_better, int threads, std::uint8_t* scores) {
  const auto n = static_cast<std::int64_t>(values.size());
  if (n == 0) return;
  const std::uint64_t flip = higher_is_better ? 0 : ~std::uint64_t{0};
  auto key = [&](std::int64_t i) { return ordered_key(values[static_cast<std::size_t>(i)]) ^ flip; };

  std::uint64_t lo = ~std::uint64_t{0}, hi = 0;
#pragma omp parallel for num_threads(threads) reduction(min : lo) reduction(max : hi) schedule(static)
  for (std::int64_t i = 0; i < n; ++i) {
    lo = std::min(lo, key(i));
    hi = std::max(hi, key(i));
  }
  constexpr int kBucketBits = 16;
  const auto span_bits = static_cast<int>(std::bit_width(hi - lo));
  const int shift = std::max(0, span_bits - kBucketBits);
  const std::size_t n_buckets = static_cast<std::size_t>((hi - lo) >> shift) + 1;
  std::vector<std::int64_t> counts(n_buckets, 0);
#pragma omp parallel num_threads(threads)
  {
    std::vector<std::int64_t> mine(n_buckets, 0);
#pragma omp for schedule(static) nowait
    for (std::int64_t i = 0; i < n; ++i) ++mine[static_cast<std::size_t>((key(i) - lo) >> shift)];
#pragma omp critical
    for (std::size_t b = 0; b < n_buckets; ++b) counts[b] += mine[b];
  }

  // For each threshold: its bucket and its rank among that bucket's keys.
  struct Target {
    std::size_t bucket;
    std::int64_t rank;
  };
  std::vector<Target> targets;
  {
    std::int64_t below = 0;
    std::size_t b = 0;
    for (int k = 1; k < q; ++k) {
      const std::int64_t m = (static_cast<std::int64_t>(k) * n + q - 1) / q;  // >= 1 as n >= 1
      while (below + counts[b] < m) below += counts[b++];
      targets.push_back({b, m - 1 - below});
    }
  }
  std::vector<std::uint64_t> thresholds(targets.size());
  if (shift == 0) {
    for (std::size_t k = 0; k < targets.size(); ++k) thresholds[k] = lo + targets[k].bucket;
  } else {
    // Collect the keys of the few buckets that hold a threshold, then select within each.
    std::vector<std::size_t> wanted;
    for (const auto& t : targets)
      if (wanted.empty() || wanted.back() != t.bucket) wanted.push_back(t.bucket);
    std::vector<std::int64_t> slot(n_buckets, -1);
    for (std::size_t w = 0; w < wanted.size(); ++w) slot[wanted[w]] = static_cast<std::int64_t>(w);
    std::vector<std::vector<std::uint64_t>> members(wanted.size());
    for (std::size_t w = 0; w < wanted.size(); ++w) members[w].reserve(static_cast<std::size_t>(counts[wanted[w]]));
#pragma omp parallel num_threads(threads)
    {
      std::vector<std::vector<std::uint64_t>> mine(wanted.size());
#pragma omp for schedule(static) nowait
      for (std::int64_t i = 0; i < n; ++i) {
        const std::uint64_t k = key(i);
        const std::int64_t w = slot[static_cast<std::size_t>((k - lo) >> shift)];
        if (w >= 0) mine[static_cast<std::size_t>(w)].push_back(k);
      }
#pragma omp critical
      for (std::size_t w = 0; w < wanted.size(); ++w) members[w].insert(members[w].end(), mine[w].begin(), mine[w].end());
    }
    for (std::size_t k = 0; k < targets.size(); ++k) {
      auto& m = members[static_cast<std::size_t>(slot[targets[k].bucket])];
      const auto nth = m.begin() + targets[k].rank;
      std::nth_element(m.begin(), nth, m.end());
      thresholds[k] = *nth;
    }
  }
#pragma omp parallel for num_threads(threads) schedule(static)
  for (std::int64_t i = 0; i < n; ++i) {
    const std::uint64_t k = key(i);
    int s = 1;
    for (std::uint64_t t : thresholds) s += k > t;
    scores[i] = static_cast<std::uint8_t>(s);
  }
}

}  // namespace

std::vector<std::uint8_t> quantile_scores(const std::vector<double>& values, int q, bool higher_is_better) {
  std::vector<std::uint8_t> scores(values.size(), 1);
  score_quantiles(std::span<const double>(values), q, higher_is_better, detail::resolve_threads(0), scores.data());
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

/// RFM from per-customer slots: `src.size()` slots, each with `exists(i)`, `occasions(i)`,
/// `last_day(i)`, `revenue(i)` and `id(i)`, in ascending id order. A summary has a slot per
/// customer; the RFM fold has one per id of a dense range, some of which do not occur.
template <typename Source>
RfmTable rfm_from(const Source& summary, std::int32_t max_day, const RfmOptions& options) {
  const int q = options.q;
  if (max_day == CustomerSummary::kNoDay) detail::throw_invalid("rfm", "summary", "has no rows");
  const std::int32_t as_of = options.as_of_day == CustomerSummary::kNoDay ? max_day + 1 : options.as_of_day;

  RfmTable out;
  out.q = q;
  out.as_of_day = as_of;
  const auto total = static_cast<std::int64_t>(summary.size());
  // Below ~100k customers a parallel pass costs more in thread hand-offs than it saves.
  const int threads = total < (std::int64_t{1} << 17) ? 1 : detail::resolve_threads(options.n_jobs);
  // The first customer (in id order) bought after as_of, so the error names the same one at any
  // thread count; and how many customers have a purchase at all.
  std::int64_t first_late = total, n_kept = 0, n_absent = 0;
#pragma omp parallel for num_threads(threads) reduction(min : first_late) reduction(+ : n_kept, n_absent) schedule(static)
  for (std::int64_t i = 0; i < total; ++i) {
    const auto u = static_cast<std::size_t>(i);
    if (!summary.exists(u)) {
      ++n_absent;
    } else if (summary.occasions(u) > 0) {
      ++n_kept;
      if (summary.last_day(u) > as_of) first_late = std::min(first_late, i);
    }
  }
  if (first_late < total) {
    const auto u = static_cast<std::size_t>(first_late);
    detail::throw_invalid("rfm", "as_of", "day ", as_of, " is before the last purchase (day ", summary.last_day(u),
                          ") of customer ", summary.id(u), "; filter the log to the as-of date first");
  }
  out.excluded_without_purchase = total - n_absent - n_kept;
  if (n_kept == 0) detail::throw_invalid("rfm", "summary", "no customer has a purchase (amount >= 0)");
  // Slots to skip (customers with returns only, ids of a range that do not occur) are often none:
  // list the kept ones only when there are some.
  std::vector<std::size_t> keep;
  if (n_kept < total) {
    keep.reserve(static_cast<std::size_t>(n_kept));
    for (std::size_t i = 0; i < summary.size(); ++i)
      if (summary.exists(i) && summary.occasions(i) > 0) keep.push_back(i);
  }
  const auto n = static_cast<std::size_t>(n_kept);
  out.customer.resize(n);
  out.recency.resize(n);
  out.frequency.resize(n);
  out.monetary.resize(n);
  out.revenue.resize(n);
  const bool mean = options.monetary == Monetary::mean;
#pragma omp parallel for num_threads(threads) schedule(static)
  for (std::int64_t k = 0; k < n_kept; ++k) {
    const auto o = static_cast<std::size_t>(k);
    const std::size_t i = keep.empty() ? o : keep[o];
    out.customer[o] = summary.id(i);
    out.recency[o] = as_of - summary.last_day(i);
    out.frequency[o] = summary.occasions(i);
    out.revenue[o] = summary.revenue(i);
    out.monetary[o] = mean ? summary.revenue(i) / static_cast<double>(summary.occasions(i)) : summary.revenue(i);
  }
  out.r_score.resize(n);
  out.f_score.resize(n);
  out.m_score.resize(n);
  score_quantiles(std::span<const std::int32_t>(out.recency), q, false, threads, out.r_score.data());
  score_quantiles(std::span<const std::int64_t>(out.frequency), q, true, threads, out.f_score.data());
  score_quantiles(std::span<const double>(out.monetary), q, true, threads, out.m_score.data());

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
#pragma omp parallel for num_threads(threads) schedule(static)
    for (std::int64_t k = 0; k < n_kept; ++k) {
      const auto o = static_cast<std::size_t>(k);
      out.segment[o] =
          cell[static_cast<std::size_t>(((out.r_score[o] - 1) * q + (out.f_score[o] - 1)) * q + (out.m_score[o] - 1))];
    }
  }
  return out;
}

void check_options(const RfmOptions& options) {
  if (options.q < 2 || options.q > 20) detail::throw_invalid("rfm", "q", "must be in 2..20, got ", options.q);
  check_map(options.segment_map, options.q, same_map(options.segment_map, default_segment_map()));
}

/// A summary's columns as RFM slots.
struct SummarySlots {
  const CustomerSummary& s;
  std::size_t size() const { return s.size(); }
  bool exists(std::size_t) const { return true; }
  std::int64_t occasions(std::size_t i) const { return s.occasions[i]; }
  std::int32_t last_day(std::size_t i) const { return s.last_day[i]; }
  double revenue(std::size_t i) const { return s.revenue[i]; }
  std::int64_t id(std::size_t i) const { return s.customer[i]; }
};

/// The RFM fold's states as slots; an id occurs when it has an occasion (the fold sees no return).
struct FoldSlots {
  const detail::RfmFold& f;
  std::size_t size() const { return f.states->size(); }
  bool exists(std::size_t i) const { return (*f.states)[i].occasions > 0; }
  std::int64_t occasions(std::size_t i) const { return (*f.states)[i].occasions; }
  std::int32_t last_day(std::size_t i) const { return (*f.states)[i].last_day; }
  double revenue(std::size_t i) const { return (*f.states)[i].revenue; }
  std::int64_t id(std::size_t i) const {
    return static_cast<std::int64_t>(static_cast<std::uint64_t>(f.min_id) + static_cast<std::uint64_t>(i));
  }
};

}  // namespace

RfmTable rfm(const CustomerSummary& summary, const RfmOptions& options) {
  check_options(options);
  return rfm_from(SummarySlots{summary}, summary.max_day, options);
}

RfmTable rfm(const TransactionLog& log, const RfmOptions& options, const SummaryOptions& summary_options) {
  check_options(options);
  // Straight from the log when it allows: no summary columns in between, a 16-byte state.
  const LogFacts facts = validate(log, "rfm", summary_options.returns, summary_options.n_jobs);
  if (auto folded = detail::fold_for_rfm(log, facts, summary_options))
    return rfm_from(FoldSlots{*folded}, folded->max_day, options);
  return rfm(detail::summarize_validated(log, facts, summary_options), options);
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
