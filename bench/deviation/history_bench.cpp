// SPDX-License-Identifier: Apache-2.0
// Google Benchmark of the per-customer history baselines (the streaming and the regrouping pass), churn_alerts and
// peer_deviations.
#include <crmine/deviation.hpp>

#include <benchmark/benchmark.h>

#include <algorithm>
#include <memory>
#include <numeric>
#include <random>

#include "common/generators.hpp"

namespace {

/// A synthetic log (customers are 5% of the rows) and the view over it; `shuffled` puts the rows
/// out of time order, which sends history_baselines down its regrouping path.
struct Input {
  crmine::bench::SyntheticLog data;
  crmine::TransactionLog log;
};

std::unique_ptr<Input> input(std::int64_t rows, bool shuffled) {
  auto in = std::make_unique<Input>();
  in->data = crmine::bench::make_log(rows, rows / 20, 730, 42);
  if (shuffled) {
    std::vector<std::size_t> perm(in->data.customer.size());
    std::iota(perm.begin(), perm.end(), std::size_t{0});
    std::shuffle(perm.begin(), perm.end(), std::mt19937_64(7));
    const auto sorted = in->data;
    for (std::size_t i = 0; i < perm.size(); ++i) {
      in->data.customer[i] = sorted.customer[perm[i]];
      in->data.time[i] = sorted.time[perm[i]];
      in->data.amount[i] = sorted.amount[perm[i]];
    }
  }
  in->log.customer = in->data.customer;
  in->log.time = in->data.time;
  in->log.amount = in->data.amount;
  return in;
}

/// Arguments: rows, threads, shuffled (0 = time order, as a real log).
void BM_HistoryBaselines(benchmark::State& state) {
  const auto in = input(state.range(0), state.range(2) != 0);
  crmine::HistoryOptions options;
  options.n_jobs = static_cast<int>(state.range(1));
  for (auto _ : state) benchmark::DoNotOptimize(crmine::history_baselines(in->log, options));
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_HistoryBaselines)
    ->ArgsProduct({{1 << 20, 1 << 23}, {1, 2}, {0}})
    ->Args({1 << 20, 2, 1})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

void BM_ChurnAlerts(benchmark::State& state) {
  const auto in = input(state.range(0), false);
  const auto history = crmine::history_baselines(in->log);
  for (auto _ : state) benchmark::DoNotOptimize(crmine::churn_alerts(history, {}));
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(history.size()));
}
BENCHMARK(BM_ChurnAlerts)->Arg(1 << 20)->Unit(benchmark::kMillisecond)->UseRealTime();

/// peer_deviations over a customers x 5 feature table in 20 segments (argument: customers).
void BM_PeerDeviations(benchmark::State& state) {
  const auto n = static_cast<Eigen::Index>(state.range(0));
  std::mt19937_64 rng(3);
  std::lognormal_distribution<double> spend(3.0, 1.0);
  crmine::RowMatrix X(n, 5);
  Eigen::VectorXi segment(n);
  for (Eigen::Index i = 0; i < n; ++i) {
    for (Eigen::Index f = 0; f < 5; ++f) X(i, f) = spend(rng);
    segment[i] = static_cast<int>(rng() % 20);
  }
  for (auto _ : state) benchmark::DoNotOptimize(crmine::peer_deviations(X, segment));
}
BENCHMARK(BM_PeerDeviations)->Arg(1 << 16)->Arg(1 << 20)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
