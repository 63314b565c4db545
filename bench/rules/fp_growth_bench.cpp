// SPDX-License-Identifier: Apache-2.0
// Google Benchmark of frequent-itemset mining on synthetic baskets with Zipf-like item
// popularity and planted co-purchase groups: FP-Growth, Eclat and Apriori over basket counts.
#include <crmine/rules.hpp>

#include <benchmark/benchmark.h>

#include <random>

namespace {

/// Baskets of mean size ~8 over `n_items` items; one in four baskets carries a planted group.
crmine::Baskets make_baskets(std::int64_t n_baskets, std::int32_t n_items, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::geometric_distribution<int> size(1.0 / 8.0);
  std::geometric_distribution<std::int32_t> item(20.0 / n_items);
  std::uniform_int_distribution<std::int32_t> group(0, 49);
  crmine::Baskets b;
  for (std::int64_t k = 0; k < n_baskets; ++k) {
    const int s = 1 + size(rng);
    for (int j = 0; j < s; ++j) b.indices.push_back(std::min(item(rng), n_items - 1));
    if (rng() % 4 == 0) {
      const std::int32_t g = group(rng);
      for (std::int32_t j = 0; j < 4; ++j) b.indices.push_back((g * 37 + j * 11) % n_items);
    }
    b.indptr.push_back(static_cast<std::int64_t>(b.indices.size()));
  }
  for (std::int32_t i = 0; i < n_items; ++i) b.item_ids.push_back(i);
  return b;
}

template <crmine::ItemsetAlgorithm Algorithm>
void BM_FrequentItemsets(benchmark::State& state) {
  const std::int64_t n = state.range(0);
  const auto baskets = make_baskets(n, 2000, 42);
  crmine::ItemsetOptions options;
  options.algorithm = Algorithm;
  options.min_support = 0.001;
  options.n_threads = static_cast<int>(state.range(1));
  std::int64_t found = 0;
  for (auto _ : state) {
    auto result = crmine::frequent_itemsets(baskets.view(), options);
    found = result.size();
    benchmark::DoNotOptimize(result);
  }
  state.counters["itemsets"] = static_cast<double>(found);
  state.SetItemsProcessed(state.iterations() * n);
}

BENCHMARK(BM_FrequentItemsets<crmine::ItemsetAlgorithm::fp_growth>)
    ->Name("BM_FpGrowth_fit")->ArgsProduct({{1 << 14, 1 << 17, 1 << 20}, {1, 2}})->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_FrequentItemsets<crmine::ItemsetAlgorithm::eclat>)
    ->Name("BM_Eclat_fit")->ArgsProduct({{1 << 14, 1 << 17}, {1, 2}})->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_FrequentItemsets<crmine::ItemsetAlgorithm::apriori>)
    ->Name("BM_Apriori_fit")->ArgsProduct({{1 << 14, 1 << 17}, {1, 2}})->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_AssociationRules(benchmark::State& state) {
  const auto baskets = make_baskets(1 << 17, 2000, 7);
  crmine::ItemsetOptions io;
  io.min_support = 0.0005;
  const auto itemsets = crmine::frequent_itemsets(baskets.view(), io);
  crmine::RuleOptions ro;
  ro.min_threshold = 0.1;
  for (auto _ : state) benchmark::DoNotOptimize(crmine::association_rules(itemsets, ro));
  state.SetItemsProcessed(state.iterations() * itemsets.size());
}
BENCHMARK(BM_AssociationRules)->Unit(benchmark::kMillisecond)->UseRealTime();

/// Itemsets holding item range(0) (0 = the most popular, 30 = a middling one) mined from its
/// conditional database, against mining everything (range(0) = -1).
void BM_ContainsItem(benchmark::State& state) {
  const auto baskets = make_baskets(1 << 17, 2000, 42);
  crmine::ItemsetOptions options;
  options.min_support = 0.0005;
  options.n_threads = 1;
  if (state.range(0) >= 0) options.contains = {static_cast<std::int32_t>(state.range(0))};
  std::int64_t found = 0;
  for (auto _ : state) found = crmine::frequent_itemsets(baskets.view(), options).size();
  state.counters["itemsets"] = static_cast<double>(found);
}
BENCHMARK(BM_ContainsItem)->Arg(-1)->Arg(0)->Arg(30)->Unit(benchmark::kMillisecond);

/// Rules with consequent item range(0) mined with the constraint pushed in, against
/// association_rules over all itemsets filtered by the same constraint (range(1) = 0).
void BM_MineRulesConsequent(benchmark::State& state) {
  const auto baskets = make_baskets(1 << 17, 2000, 42);
  crmine::ItemsetOptions io;
  io.min_support = 0.0005;
  io.n_threads = 1;
  crmine::RuleOptions ro;
  ro.min_threshold = 0.1;
  ro.max_consequent_len = 1;
  ro.n_threads = 1;
  ro.consequent_items = {static_cast<std::int32_t>(state.range(0))};
  std::int64_t found = 0;
  for (auto _ : state)
    found = state.range(1) ? crmine::mine_rules(baskets.view(), io, ro).size()
                           : crmine::association_rules(crmine::frequent_itemsets(baskets.view(), io), ro).size();
  state.counters["rules"] = static_cast<double>(found);
}
BENCHMARK(BM_MineRulesConsequent)->ArgsProduct({{0, 30}, {1, 0}})->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
