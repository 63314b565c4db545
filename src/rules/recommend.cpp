// SPDX-License-Identifier: Apache-2.0
// Recommendations: rules indexed by their smallest antecedent item, so a basket touches only
// the rules that can fire for it.
#include <crmine/core/errors.hpp>
#include <crmine/core/parallel.hpp>
#include <crmine/core/serialize.hpp>
#include <crmine/rules/recommend.hpp>

#include <algorithm>
#include <istream>
#include <ostream>

namespace crmine {

Recommender::Recommender(Rules rules, std::int32_t n_items, RuleMetric metric)
    : rules_(std::move(rules)), n_items_(n_items), metric_(metric) {
  if (n_items < 0) detail::throw_invalid("Recommender", "n_items", "must be >= 0, got ", n_items);
  by_item_indptr_.assign(static_cast<std::size_t>(n_items) + 1, 0);
  for (std::int64_t r = 0; r < rules_.size(); ++r) {
    for (const std::int32_t x : rules_.antecedent(r))
      if (x < 0 || x >= n_items) detail::throw_invalid("Recommender", "rules", "rule ", r, " uses item ", x, " outside [0, ", n_items, ")");
    for (const std::int32_t x : rules_.consequent(r))
      if (x < 0 || x >= n_items) detail::throw_invalid("Recommender", "rules", "rule ", r, " uses item ", x, " outside [0, ", n_items, ")");
    if (rules_.antecedent(r).empty()) detail::throw_invalid("Recommender", "rules", "rule ", r, " has an empty antecedent");
    ++by_item_indptr_[static_cast<std::size_t>(*std::min_element(rules_.antecedent(r).begin(), rules_.antecedent(r).end())) + 1];
  }
  for (std::size_t i = 0; i < static_cast<std::size_t>(n_items); ++i) by_item_indptr_[i + 1] += by_item_indptr_[i];
  by_item_rules_.resize(static_cast<std::size_t>(rules_.size()));
  std::vector<std::int64_t> fill(by_item_indptr_.begin(), by_item_indptr_.end() - 1);
  for (std::int64_t r = 0; r < rules_.size(); ++r) {
    const auto first = *std::min_element(rules_.antecedent(r).begin(), rules_.antecedent(r).end());
    by_item_rules_[static_cast<std::size_t>(fill[static_cast<std::size_t>(first)]++)] = r;
  }
}

Recommendations Recommender::recommend(const BasketView& queries, int k, int n_threads) const {
  constexpr const char* kCaller = "Recommender::recommend";
  if (k < 1) detail::throw_invalid(kCaller, "k", "must be >= 1, got ", k);
  if (queries.indptr.empty()) detail::throw_invalid(kCaller, "baskets", "there are no baskets");
  if (queries.indptr.front() != 0 || queries.indptr.back() != static_cast<std::int64_t>(queries.indices.size()))
    detail::throw_invalid(kCaller, "indptr", "must run from 0 to the number of indices");
  for (std::size_t j = 0; j < queries.indices.size(); ++j)
    if (queries.indices[j] < 0 || queries.indices[j] >= n_items_)
      detail::throw_invalid(kCaller, "indices", "item ", queries.indices[j], " at position ", j, " is not a known item (n_items=", n_items_, ")");
  const std::int64_t nq = queries.size();
  Recommendations out;
  out.n_queries = nq;
  out.k = k;
  out.item.assign(static_cast<std::size_t>(nq * k), -1);
  out.score.assign(static_cast<std::size_t>(nq * k), 0.0);
  out.rule.assign(static_cast<std::size_t>(nq * k), -1);
  const std::vector<double>& score = rules_.values(metric_);
  const int threads = detail::resolve_threads(n_threads);
#pragma omp parallel num_threads(threads)
  {
    std::vector<std::int64_t> owned(static_cast<std::size_t>(n_items_), -1), best_rule(static_cast<std::size_t>(n_items_), -1);
    std::vector<std::int32_t> touched;
#pragma omp for schedule(dynamic, 64)
    for (std::int64_t q = 0; q < nq; ++q) {
      const auto b = static_cast<std::size_t>(queries.indptr[static_cast<std::size_t>(q)]);
      const auto e = static_cast<std::size_t>(queries.indptr[static_cast<std::size_t>(q) + 1]);
      for (std::size_t j = b; j < e; ++j) owned[static_cast<std::size_t>(queries.indices[j])] = q;
      touched.clear();
      for (std::size_t j = b; j < e; ++j) {
        const auto x = static_cast<std::size_t>(queries.indices[j]);
        if (j > b && std::find(queries.indices.begin() + static_cast<std::ptrdiff_t>(b), queries.indices.begin() + static_cast<std::ptrdiff_t>(j), queries.indices[j]) !=
                         queries.indices.begin() + static_cast<std::ptrdiff_t>(j))
          continue;  // a repeated item fires its rules once
        for (std::int64_t p = by_item_indptr_[x]; p < by_item_indptr_[x + 1]; ++p) {
          const std::int64_t r = by_item_rules_[static_cast<std::size_t>(p)];
          const auto ante = rules_.antecedent(r);
          if (!std::all_of(ante.begin(), ante.end(), [&](std::int32_t a) { return owned[static_cast<std::size_t>(a)] == q; })) continue;
          for (const std::int32_t c : rules_.consequent(r)) {
            const auto uc = static_cast<std::size_t>(c);
            if (owned[uc] == q) continue;
            std::int64_t& cur = best_rule[uc];
            if (cur < 0) {
              touched.push_back(c);
              cur = r;
            } else if (score[static_cast<std::size_t>(r)] > score[static_cast<std::size_t>(cur)] ||
                       (score[static_cast<std::size_t>(r)] == score[static_cast<std::size_t>(cur)] && r < cur)) {
              cur = r;
            }
          }
        }
      }
      const auto rank = [&](std::int32_t x, std::int32_t y) {
        const std::int64_t rx = best_rule[static_cast<std::size_t>(x)], ry = best_rule[static_cast<std::size_t>(y)];
        if (score[static_cast<std::size_t>(rx)] != score[static_cast<std::size_t>(ry)]) return score[static_cast<std::size_t>(rx)] > score[static_cast<std::size_t>(ry)];
        if (rx != ry) return rx < ry;
        return x < y;
      };
      const std::size_t take = std::min(touched.size(), static_cast<std::size_t>(k));
      std::partial_sort(touched.begin(), touched.begin() + static_cast<std::ptrdiff_t>(take), touched.end(), rank);
      for (std::size_t j = 0; j < take; ++j) {
        const auto slot = static_cast<std::size_t>(q * k) + j;
        out.item[slot] = touched[j];
        out.rule[slot] = best_rule[static_cast<std::size_t>(touched[j])];
        out.score[slot] = score[static_cast<std::size_t>(out.rule[slot])];
      }
      for (const std::int32_t x : touched) best_rule[static_cast<std::size_t>(x)] = -1;
    }
  }
  return out;
}

namespace {

constexpr ModelTag kRecommenderTag = model_tag("RREC");
constexpr std::uint32_t kRecommenderSchema = 1;

void write_i64s(ModelWriter& w, const std::vector<std::int64_t>& v) {
  w.u64(v.size());
  for (const std::int64_t x : v) w.i64(x);
}

std::vector<std::int64_t> read_i64s(ModelReader& r, const char* field) {
  const std::uint64_t n = r.u64(field);
  std::vector<std::int64_t> v;
  for (std::uint64_t k = 0; k < n; ++k) v.push_back(r.i64(field));  // each read is bounds-checked
  return v;
}

/// CSR offsets that start at 0, never decrease and end at the item count.
void check_offsets(ModelReader& r, const char* field, const std::vector<std::int64_t>& indptr, std::size_t n_rules,
                   std::size_t n_items) {
  if (indptr.size() != n_rules + 1 || indptr.front() != 0 || indptr.back() != static_cast<std::int64_t>(n_items))
    r.fail(field, "offsets do not match the rules");
  for (std::size_t k = 1; k < indptr.size(); ++k)
    if (indptr[k] < indptr[k - 1]) r.fail(field, "offsets decrease");
}

}  // namespace

void Recommender::save(std::ostream& out) const {
  ModelWriter w(kRecommenderTag, kRecommenderSchema);
  w.i32(n_items_);
  w.u8(static_cast<std::uint8_t>(metric_));
  write_i64s(w, rules_.antecedent_indptr);
  w.i32_vector(rules_.antecedent_items);
  write_i64s(w, rules_.consequent_indptr);
  w.i32_vector(rules_.consequent_items);
  for (const auto* v : {&rules_.antecedent_support, &rules_.consequent_support, &rules_.support, &rules_.confidence,
                        &rules_.lift, &rules_.leverage, &rules_.conviction, &rules_.zhangs_metric, &rules_.jaccard})
    w.f64_vector(*v);
  w.finish(out);
}

Recommender Recommender::load(std::istream& in) {
  ModelReader r(in, kRecommenderTag, kRecommenderSchema);
  const std::int32_t n_items = r.i32("n_items");
  const std::uint8_t metric = r.u8("metric");
  if (metric > static_cast<std::uint8_t>(RuleMetric::consequent_support)) r.fail("metric", "unknown value");
  Rules rules;
  rules.antecedent_indptr = read_i64s(r, "antecedent_indptr");
  rules.antecedent_items = r.i32_vector("antecedent_items");
  rules.consequent_indptr = read_i64s(r, "consequent_indptr");
  rules.consequent_items = r.i32_vector("consequent_items");
  const char* names[] = {"antecedent_support", "consequent_support", "support", "confidence", "lift",
                         "leverage", "conviction", "zhangs_metric", "jaccard"};
  std::vector<double>* columns[] = {&rules.antecedent_support, &rules.consequent_support, &rules.support,
                                    &rules.confidence, &rules.lift, &rules.leverage, &rules.conviction,
                                    &rules.zhangs_metric, &rules.jaccard};
  for (std::size_t c = 0; c < 9; ++c) *columns[c] = r.f64_vector(names[c]);
  r.expect_end();
  const std::size_t n_rules = rules.support.size();
  for (std::size_t c = 0; c < 9; ++c)
    if (columns[c]->size() != n_rules) r.fail(names[c], "length differs from the number of rules");
  check_offsets(r, "antecedent_indptr", rules.antecedent_indptr, n_rules, rules.antecedent_items.size());
  check_offsets(r, "consequent_indptr", rules.consequent_indptr, n_rules, rules.consequent_items.size());
  if (n_items < 0) r.fail("n_items", "negative");
  for (const auto* items : {&rules.antecedent_items, &rules.consequent_items})
    for (const std::int32_t x : *items)
      if (x < 0 || x >= n_items) r.fail("items", "item id outside [0, n_items)");
  for (std::size_t k = 0; k < n_rules; ++k)
    if (rules.antecedent_indptr[k + 1] == rules.antecedent_indptr[k]) r.fail("antecedent_indptr", "a rule has no antecedent");
  return Recommender(std::move(rules), n_items, static_cast<RuleMetric>(metric));
}

}  // namespace crmine
