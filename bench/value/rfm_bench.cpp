// SPDX-License-Identifier: Apache-2.0
// Google Benchmark of the customer-value kernels: summarize (the per-customer pass) and rfm.
#include <crmine/value.hpp>

#include <benchmark/benchmark.h>

#include "common/generators.hpp"

namespace {

crmine::TransactionLog view(const crmine::bench::SyntheticLog& l) {
  crmine::TransactionLog log;
  log.customer = l.customer;
  log.time = l.time;
  log.amount = l.amount;
  return log;
}

void BM_Summarize(benchmark::State& state) {
  const std::int64_t rows = state.range(0);
  const auto data = crmine::bench::make_log(rows, rows / 20, 730, 42);
  crmine::SummaryOptions options;
  options.n_jobs = static_cast<int>(state.range(1));
  for (auto _ : state) benchmark::DoNotOptimize(crmine::summarize(view(data), options));
  state.SetItemsProcessed(state.iterations() * rows);
}
BENCHMARK(BM_Summarize)->ArgsProduct({{1 << 20, 1 << 23}, {1, 2}})->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_Rfm(benchmark::State& state) {
  const std::int64_t rows = state.range(0);
  const auto data = crmine::bench::make_log(rows, rows / 20, 730, 42);
  const auto summary = crmine::summarize(view(data));
  for (auto _ : state) benchmark::DoNotOptimize(crmine::rfm(summary));
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(summary.size()));
}
BENCHMARK(BM_Rfm)->Arg(1 << 20)->Arg(1 << 23)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_CohortRetention(benchmark::State& state) {
  const std::int64_t rows = state.range(0);
  const auto data = crmine::bench::make_log(rows, rows / 20, 730, 42);
  for (auto _ : state) benchmark::DoNotOptimize(crmine::cohort_retention(view(data)));
  state.SetItemsProcessed(state.iterations() * rows);
}
BENCHMARK(BM_CohortRetention)->Arg(1 << 20)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
