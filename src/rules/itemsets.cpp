// SPDX-License-Identifier: Apache-2.0
// Algorithm dispatch, support thresholds, canonical order and closed/maximal filtering.
#include "mining.hpp"

#include <crmine/rules/apriori.hpp>
#include <crmine/rules/eclat.hpp>
#include <crmine/rules/fp_growth.hpp>

#include <algorithm>
#include <cmath>
#include <numeric>

namespace crmine {

std::int64_t min_count_for(double min_support, std::int64_t n_baskets) {
  if (!(min_support > 0.0 && min_support <= 1.0))
    detail::throw_invalid("min_count_for", "min_support", "must be in (0, 1], got ", min_support);
  const double n = static_cast<double>(n_baskets);
  auto c = static_cast<std::int64_t>(std::ceil(min_support * n));
  // Settle rounding of min_support * n so that the result is exactly the smallest c with
  // c / n >= min_support, the comparison users (and mlxtend) make.
  while (c > 1 && static_cast<double>(c - 1) / n >= min_support) --c;
  while (static_cast<double>(c) / n < min_support) ++c;
  return std::max<std::int64_t>(c, 1);
}

void validate(const ItemsetOptions& o, std::int64_t n_baskets, const char* caller) {
  if (o.min_count < 0) detail::throw_invalid(caller, "min_count", "must be >= 0, got ", o.min_count);
  if (o.min_count > n_baskets)
    detail::throw_invalid(caller, "min_count", o.min_count, " is above the number of baskets (", n_baskets, ")");
  if (o.min_count == 0 && !(o.min_support > 0.0 && o.min_support <= 1.0))
    detail::throw_invalid(caller, "min_support", "must be in (0, 1], got ", o.min_support);
  if (o.max_len < 0) detail::throw_invalid(caller, "max_len", "must be >= 1 (or 0 for no limit), got ", o.max_len);
  if (o.max_itemsets < 0) detail::throw_invalid(caller, "max_itemsets", "must be >= 0, got ", o.max_itemsets);
  if (o.max_memory < 0) detail::throw_invalid(caller, "max_memory", "must be >= 0, got ", o.max_memory);
  if (o.n_threads < 0) detail::throw_invalid(caller, "n_threads", "must be >= 0, got ", o.n_threads);
}

void Itemsets::sort() {
  std::vector<std::int64_t> order(count.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](std::int64_t a, std::int64_t b) {
    const auto x = itemset(a), y = itemset(b);
    if (x.size() != y.size()) return x.size() < y.size();
    return std::lexicographical_compare(x.begin(), x.end(), y.begin(), y.end());
  });
  Itemsets out;
  out.n_baskets = n_baskets;
  out.min_count = min_count;
  out.peak_memory = peak_memory;
  out.indptr.reserve(indptr.size());
  out.items.reserve(items.size());
  out.count.reserve(count.size());
  for (const std::int64_t s : order) {
    const auto x = itemset(s);
    out.items.insert(out.items.end(), x.begin(), x.end());
    out.indptr.push_back(static_cast<std::int64_t>(out.items.size()));
    out.count.push_back(count[static_cast<std::size_t>(s)]);
  }
  *this = std::move(out);
}

Itemsets filter_itemsets(const Itemsets& in, ItemsetKind kind) {
  if (kind == ItemsetKind::all) return in;
  const detail::ItemsetTable table(in);
  std::vector<char> keep(static_cast<std::size_t>(in.size()), 1);
  std::vector<std::int32_t> sub;
  for (std::int64_t s = 0; s < in.size(); ++s) {
    const auto x = in.itemset(s);
    if (x.size() < 2) continue;
    // Every immediate subset is frequent (downward closure), so it is in the table.
    for (std::size_t drop = 0; drop < x.size(); ++drop) {
      sub.clear();
      for (std::size_t j = 0; j < x.size(); ++j)
        if (j != drop) sub.push_back(x[j]);
      const std::int64_t t = table.find(sub);
      if (t < 0) continue;
      if (kind == ItemsetKind::maximal || in.count[static_cast<std::size_t>(t)] == in.count[static_cast<std::size_t>(s)])
        keep[static_cast<std::size_t>(t)] = 0;
    }
  }
  Itemsets out;
  out.n_baskets = in.n_baskets;
  out.min_count = in.min_count;
  out.peak_memory = in.peak_memory;
  for (std::int64_t s = 0; s < in.size(); ++s) {
    if (!keep[static_cast<std::size_t>(s)]) continue;
    const auto x = in.itemset(s);
    out.items.insert(out.items.end(), x.begin(), x.end());
    out.indptr.push_back(static_cast<std::int64_t>(out.items.size()));
    out.count.push_back(in.count[static_cast<std::size_t>(s)]);
  }
  return out;
}

Itemsets frequent_itemsets(const BasketView& baskets, const ItemsetOptions& options) {
  Itemsets found;
  switch (options.algorithm) {
    case ItemsetAlgorithm::fp_growth: found = fp_growth(baskets, options); break;
    case ItemsetAlgorithm::eclat: found = eclat(baskets, options); break;
    case ItemsetAlgorithm::apriori: found = apriori(baskets, options); break;
    default: detail::throw_invalid("frequent_itemsets", "algorithm", "unknown value ", static_cast<int>(options.algorithm));
  }
  return options.kind == ItemsetKind::all ? found : filter_itemsets(found, options.kind);
}

}  // namespace crmine
