// SPDX-License-Identifier: Apache-2.0
// Rule generation: every antecedent bitmask of every itemset, supports looked up in a hash
// table, filtered per block of itemsets and concatenated (or top-k merged) in block order.
#include "mining.hpp"

#include <crmine/core/parallel.hpp>
#include <crmine/rules/association_rules.hpp>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cmath>
#include <limits>

namespace crmine {
namespace {

constexpr const char* kCaller = "association_rules";
constexpr int kMetrics = 9;

struct RuleRec {
  std::int64_t itemset;
  std::uint64_t mask;  // bit j set = item j of the itemset is in the antecedent
  double m[kMetrics];  // in RuleMetric order
};

void compute(double sA, double sC, double sAC, double* m) {
  const double conf = sAC / sA;
  const double lev = sAC - sA * sC;
  const double denom = std::max(sAC * (1.0 - sA), sA * (sC - sAC));
  m[static_cast<int>(RuleMetric::support)] = sAC;
  m[static_cast<int>(RuleMetric::confidence)] = conf;
  m[static_cast<int>(RuleMetric::lift)] = conf / sC;
  m[static_cast<int>(RuleMetric::leverage)] = lev;
  m[static_cast<int>(RuleMetric::conviction)] = conf < 1.0 ? (1.0 - sC) / (1.0 - conf) : std::numeric_limits<double>::infinity();
  m[static_cast<int>(RuleMetric::zhangs_metric)] = denom == 0.0 ? 0.0 : lev / denom;
  m[static_cast<int>(RuleMetric::jaccard)] = sAC / (sA + sC - sAC);
  m[static_cast<int>(RuleMetric::antecedent_support)] = sA;
  m[static_cast<int>(RuleMetric::consequent_support)] = sC;
}

/// Best first; ties by the itemset's items, then by mask: the order depends neither on
/// scheduling nor on the order of the itemsets (mined with or without constraints).
bool better(const RuleRec& a, const RuleRec& b, int metric, const ItemsetSupportView& in) {
  if (a.m[metric] != b.m[metric]) return a.m[metric] > b.m[metric];
  if (a.itemset != b.itemset) {
    const auto* x = in.items.data();
    const auto xa = x + in.indptr[static_cast<std::size_t>(a.itemset)], xe = x + in.indptr[static_cast<std::size_t>(a.itemset) + 1];
    const auto ya = x + in.indptr[static_cast<std::size_t>(b.itemset)], ye = x + in.indptr[static_cast<std::size_t>(b.itemset) + 1];
    if (xe - xa != ye - ya) return xe - xa < ye - ya;
    return std::lexicographical_compare(xa, xe, ya, ye);
  }
  return a.mask < b.mask;
}

}  // namespace

RuleMetric parse_rule_metric(const std::string& name) {
  for (int m = 0; m < kMetrics; ++m)
    if (name == rule_metric_name(static_cast<RuleMetric>(m))) return static_cast<RuleMetric>(m);
  if (name == "antecedent_support") return RuleMetric::antecedent_support;
  if (name == "consequent_support") return RuleMetric::consequent_support;
  detail::throw_invalid(kCaller, "metric", "unknown metric '", name,
                        "'; use support, confidence, lift, leverage, conviction, zhangs_metric or jaccard");
}

const char* rule_metric_name(RuleMetric metric) {
  switch (metric) {
    case RuleMetric::support: return "support";
    case RuleMetric::confidence: return "confidence";
    case RuleMetric::lift: return "lift";
    case RuleMetric::leverage: return "leverage";
    case RuleMetric::conviction: return "conviction";
    case RuleMetric::zhangs_metric: return "zhangs_metric";
    case RuleMetric::jaccard: return "jaccard";
    case RuleMetric::antecedent_support: return "antecedent support";
    case RuleMetric::consequent_support: return "consequent support";
  }
  return "?";
}

const std::vector<double>& Rules::values(RuleMetric metric) const {
  switch (metric) {
    case RuleMetric::support: return support;
    case RuleMetric::confidence: return confidence;
    case RuleMetric::lift: return lift;
    case RuleMetric::leverage: return leverage;
    case RuleMetric::conviction: return conviction;
    case RuleMetric::zhangs_metric: return zhangs_metric;
    case RuleMetric::jaccard: return jaccard;
    case RuleMetric::antecedent_support: return antecedent_support;
    case RuleMetric::consequent_support: return consequent_support;
  }
  return support;
}

Rules association_rules(const ItemsetSupportView& in, const RuleOptions& o) {
  const std::int64_t n = in.size();
  if (static_cast<std::int64_t>(in.indptr.size()) != n + 1 || in.indptr.front() != 0 ||
      in.indptr.back() != static_cast<std::int64_t>(in.items.size()))
    detail::throw_invalid(kCaller, "itemsets", "indptr must have one entry per itemset plus one, from 0 to the item count");
  if (o.top_k < 0) detail::throw_invalid(kCaller, "top_k", "must be >= 0, got ", o.top_k);
  if (o.max_rules < 0) detail::throw_invalid(kCaller, "max_rules", "must be >= 0, got ", o.max_rules);
  if (o.max_antecedent_len < 0 || o.max_consequent_len < 0)
    detail::throw_invalid(kCaller, "max_antecedent_len/max_consequent_len", "must be >= 0");
  if (std::isnan(o.min_threshold)) detail::throw_invalid(kCaller, "min_threshold", "is NaN");
  for (std::int64_t s = 0; s < n; ++s) {
    const double sup = in.support[static_cast<std::size_t>(s)];
    if (!(sup > 0.0 && sup <= 1.0)) detail::throw_invalid(kCaller, "support", "itemset ", s, " has support ", sup, " outside (0, 1]");
    for (std::int64_t k = in.indptr[static_cast<std::size_t>(s)] + 1; k < in.indptr[static_cast<std::size_t>(s) + 1]; ++k)
      if (in.items[static_cast<std::size_t>(k)] <= in.items[static_cast<std::size_t>(k) - 1])
        detail::throw_invalid(kCaller, "itemsets", "itemset ", s, " is not sorted ascending without repeats");
    if (in.indptr[static_cast<std::size_t>(s) + 1] - in.indptr[static_cast<std::size_t>(s)] > 63)
      detail::throw_invalid(kCaller, "itemsets", "itemset ", s, " has more than 63 items");
  }
  const detail::ItemsetTable table(in.indptr, in.items);
  const int metric = static_cast<int>(o.metric);
  // Supports arrive as fractions, so a rule whose confidence is exactly 0.8 by counts (4 of 5)
  // can compute as 0.7999999999999999; a relative tolerance keeps such ties, as arules does.
  const double threshold = o.min_threshold - 1e-12 * std::max(1.0, std::abs(o.min_threshold));
  const auto has_any = [](std::span<const std::int32_t> x, std::uint64_t mask, bool inside, const std::vector<std::int32_t>& want) {
    if (want.empty()) return true;
    for (std::size_t j = 0; j < x.size(); ++j)
      if ((((mask >> j) & 1u) != 0) == inside && std::find(want.begin(), want.end(), x[j]) != want.end()) return true;
    return false;
  };

  constexpr std::int64_t kBlock = 512;
  const std::int64_t n_blocks = (n + kBlock - 1) / kBlock;
  std::vector<std::vector<RuleRec>> blocks(static_cast<std::size_t>(n_blocks));
  std::atomic<std::int64_t> total{0};
  const int threads = detail::mining_threads(o.n_threads, n * 64);
  detail::ExceptionCollector errors;
#pragma omp parallel num_threads(threads)
  {
    std::vector<std::int32_t> a, c;
#pragma omp for schedule(dynamic, 1)
    for (std::int64_t blk = 0; blk < n_blocks; ++blk) {
      errors.run([&] {
        auto& out = blocks[static_cast<std::size_t>(blk)];
        const auto heap_less = [metric, &in](const RuleRec& x, const RuleRec& y) { return better(x, y, metric, in); };
        for (std::int64_t s = blk * kBlock; s < std::min(n, (blk + 1) * kBlock); ++s) {
          const auto b = static_cast<std::size_t>(in.indptr[static_cast<std::size_t>(s)]);
          const std::span<const std::int32_t> x(in.items.data() + b, static_cast<std::size_t>(in.indptr[static_cast<std::size_t>(s) + 1]) - b);
          if (x.size() < 2) continue;
          const std::uint64_t full = (std::uint64_t{1} << x.size()) - 1;
          const double sAC = in.support[static_cast<std::size_t>(s)];
          for (std::uint64_t mask = 1; mask < full; ++mask) {
            const int na = std::popcount(mask);
            const int nc = static_cast<int>(x.size()) - na;
            if ((o.max_antecedent_len && na > o.max_antecedent_len) || (o.max_consequent_len && nc > o.max_consequent_len)) continue;
            if (!has_any(x, mask, false, o.consequent_items) || !has_any(x, mask, true, o.antecedent_items)) continue;
            a.clear();
            c.clear();
            for (std::size_t j = 0; j < x.size(); ++j) ((mask >> j) & 1u ? a : c).push_back(x[j]);
            const std::int64_t ia = table.find(a), ic = table.find(c);
            if (ia < 0 || ic < 0)
              detail::throw_invalid(kCaller, "itemsets", "a subset of itemset ", s,
                                    " is missing; rules need all frequent itemsets (not closed or maximal only)");
            RuleRec r{s, mask, {}};
            compute(in.support[static_cast<std::size_t>(ia)], in.support[static_cast<std::size_t>(ic)], sAC, r.m);
            if (!(r.m[metric] >= threshold)) continue;
            if (o.top_k > 0) {
              if (static_cast<std::int64_t>(out.size()) < o.top_k) {
                out.push_back(r);
                std::push_heap(out.begin(), out.end(), heap_less);
              } else if (better(r, out.front(), metric, in)) {
                std::pop_heap(out.begin(), out.end(), heap_less);
                out.back() = r;
                std::push_heap(out.begin(), out.end(), heap_less);
              }
            } else {
              out.push_back(r);
              if (o.max_rules > 0 && total.fetch_add(1, std::memory_order_relaxed) + 1 > o.max_rules)
                throw LimitExceeded(detail::concat(kCaller, ": max_rules: more than ", o.max_rules,
                                                   " rules pass the filters; raise min_threshold or use top_k"));
            }
          }
        }
      });
    }
  }
  errors.rethrow();

  std::vector<RuleRec> all;
  for (auto& b : blocks) {
    all.insert(all.end(), b.begin(), b.end());
    b = {};
  }
  if (o.top_k > 0) {
    std::sort(all.begin(), all.end(), [metric, &in](const RuleRec& x, const RuleRec& y) { return better(x, y, metric, in); });
    if (static_cast<std::int64_t>(all.size()) > o.top_k) all.resize(static_cast<std::size_t>(o.top_k));
  }
  Rules out;
  for (auto* v : {&out.antecedent_support, &out.consequent_support, &out.support, &out.confidence, &out.lift,
                  &out.leverage, &out.conviction, &out.zhangs_metric, &out.jaccard})
    v->reserve(all.size());
  for (const RuleRec& r : all) {
    const auto b = static_cast<std::size_t>(in.indptr[static_cast<std::size_t>(r.itemset)]);
    const auto e = static_cast<std::size_t>(in.indptr[static_cast<std::size_t>(r.itemset) + 1]);
    for (std::size_t j = 0; j < e - b; ++j) ((r.mask >> j) & 1u ? out.antecedent_items : out.consequent_items).push_back(in.items[b + j]);
    out.antecedent_indptr.push_back(static_cast<std::int64_t>(out.antecedent_items.size()));
    out.consequent_indptr.push_back(static_cast<std::int64_t>(out.consequent_items.size()));
    out.antecedent_support.push_back(r.m[static_cast<int>(RuleMetric::antecedent_support)]);
    out.consequent_support.push_back(r.m[static_cast<int>(RuleMetric::consequent_support)]);
    out.support.push_back(r.m[static_cast<int>(RuleMetric::support)]);
    out.confidence.push_back(r.m[static_cast<int>(RuleMetric::confidence)]);
    out.lift.push_back(r.m[static_cast<int>(RuleMetric::lift)]);
    out.leverage.push_back(r.m[static_cast<int>(RuleMetric::leverage)]);
    out.conviction.push_back(r.m[static_cast<int>(RuleMetric::conviction)]);
    out.zhangs_metric.push_back(r.m[static_cast<int>(RuleMetric::zhangs_metric)]);
    out.jaccard.push_back(r.m[static_cast<int>(RuleMetric::jaccard)]);
  }
  return out;
}

Rules association_rules(const Itemsets& itemsets, const RuleOptions& options) {
  std::vector<double> support(static_cast<std::size_t>(itemsets.size()));
  for (std::int64_t s = 0; s < itemsets.size(); ++s) support[static_cast<std::size_t>(s)] = itemsets.support(s);
  return association_rules(ItemsetSupportView{itemsets.indptr, itemsets.items, support}, options);
}

}  // namespace crmine
