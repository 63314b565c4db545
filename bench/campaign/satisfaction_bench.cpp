// SPDX-License-Identifier: Apache-2.0
// Google Benchmark of satisfaction and the 7P profile: exact Shapley key drivers, NPS, spend trend.
#include <crmine/campaign/profile.hpp>
#include <crmine/campaign/satisfaction.hpp>
#include <crmine/core/random.hpp>

#include <benchmark/benchmark.h>

#include <cmath>
#include <vector>

namespace {

double normal(crmine::Random& rng) {
  const double u1 = 1 - rng.uniform(), u2 = rng.uniform();
  return std::sqrt(-2 * std::log(u1)) * std::cos(6.283185307179586 * u2);
}

/// n survey responses on p halo-correlated attributes with planted weights.
void make_survey(Eigen::Index n, Eigen::Index p, crmine::RowMatrix& X, Eigen::VectorXd& y) {
  crmine::Random rng(42);
  X.resize(n, p);
  y.resize(n);
  for (Eigen::Index i = 0; i < n; ++i) {
    const double halo = normal(rng);
    y[i] = normal(rng);
    for (Eigen::Index j = 0; j < p; ++j) {
      X(i, j) = 0.6 * halo + normal(rng);
      y[i] += 0.05 * static_cast<double>(p - j) * X(i, j);
    }
  }
}

void BM_KeyDrivers_shapley(benchmark::State& state) {
  crmine::RowMatrix X;
  Eigen::VectorXd y;
  make_survey(5000, state.range(0), X, y);
  crmine::KeyDriverOptions o;
  o.max_attributes = 24;
  o.n_jobs = static_cast<int>(state.range(1));
  for (auto _ : state) {
    const auto k = crmine::key_drivers(X, y, o);
    benchmark::DoNotOptimize(k.shapley.data());
  }
  state.counters["subsets"] = static_cast<double>(std::int64_t{1} << state.range(0));
  state.SetItemsProcessed(state.iterations() * (std::int64_t{1} << state.range(0)));
}
// Args: attributes, threads.
BENCHMARK(BM_KeyDrivers_shapley)
    ->ArgsProduct({{8, 12, 16, 20}, {1, 2}})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

void BM_KeyDrivers_correlation_pass(benchmark::State& state) {
  crmine::RowMatrix X;
  Eigen::VectorXd y;
  make_survey(state.range(0), 12, X, y);
  crmine::KeyDriverOptions o;
  o.shapley = false;
  for (auto _ : state) {
    const auto k = crmine::key_drivers(X, y, o);
    benchmark::DoNotOptimize(k.relative_weights.data());
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_KeyDrivers_correlation_pass)->Arg(100'000)->Arg(1'000'000)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_Nps_groups(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  crmine::Random rng(7);
  std::vector<double> scores(n);
  std::vector<std::int32_t> group(n);
  for (std::size_t i = 0; i < n; ++i) {
    scores[i] = static_cast<double>(rng.below(11));
    group[i] = static_cast<std::int32_t>(rng.below(20));
  }
  for (auto _ : state) {
    const auto t = crmine::nps(scores, group, 20);
    benchmark::DoNotOptimize(t.nps.data());
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_Nps_groups)->Arg(1'000'000)->Arg(10'000'000)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_SpendTrend(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  crmine::Random rng(9);
  std::vector<std::int64_t> customer(n), day(n);
  std::vector<double> amount(n);
  for (std::size_t i = 0; i < n; ++i) {
    customer[i] = static_cast<std::int64_t>(rng.below(n / 20 + 1));
    day[i] = 19000 + static_cast<std::int64_t>(rng.below(730));
    amount[i] = 5 + 100 * rng.uniform();
  }
  crmine::TransactionLog log;
  log.customer = customer;
  log.time = day;
  log.amount = amount;
  for (auto _ : state) {
    const auto t = crmine::spend_trend(log);
    benchmark::DoNotOptimize(t.slope.data());
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_SpendTrend)->Arg(1'000'000)->Arg(10'000'000)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
