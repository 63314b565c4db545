// SPDX-License-Identifier: Apache-2.0
// Google Benchmark of campaign optimisation and look-alike scoring: the dual-price greedy on
// customers x 5 offers x 3 channels, reduced-cost fixing for the exact solver, brute-force kNN and
// LookAlike scoring.
#include <crmine/campaign.hpp>
#include <crmine/core/random.hpp>

#include <benchmark/benchmark.h>

#include <algorithm>
#include <vector>

namespace {

/// Responses per customer x offer x channel, value per offer, cost per channel (broadcast).
struct Campaign {
  std::vector<double> response, value{25, 40, 60, 90, 140}, cost{0.05, 0.4, 4.0};
  crmine::CampaignProblem problem;
  explicit Campaign(std::int64_t n) : response(static_cast<std::size_t>(n * 15)) {
    crmine::Random rng(42);
    const double lift[3] = {1.0, 1.6, 3.0};
    for (std::int64_t i = 0; i < n; ++i)
      for (int o = 0; o < 5; ++o) {
        const double base = 0.08 * rng.uniform() * rng.uniform();
        for (int c = 0; c < 3; ++c) response[static_cast<std::size_t>(i * 15 + o * 3 + c)] = base * lift[c] * (0.8 + 0.4 * rng.uniform());
      }
    problem.n_customers = n;
    problem.n_offers = 5;
    problem.n_channels = 3;
    problem.response = {response.data(), {15, 3, 1}};
    problem.value = {value.data(), {0, 1, 0}};
    problem.cost = {cost.data(), {0, 0, 1}};
    problem.budget = 0.12 * static_cast<double>(n);
    problem.capacity = {1e300, 0.10 * static_cast<double>(n), 0.02 * static_cast<double>(n)};
  }
};

void BM_optimize_campaign(benchmark::State& state) {
  const Campaign c(state.range(0));
  double gap = 0;
  for (auto _ : state) {
    const auto a = crmine::optimize_campaign(c.problem);
    gap = a.gap;
    benchmark::DoNotOptimize(a.expected_profit);
  }
  state.counters["gap"] = gap;
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_optimize_campaign)->Arg(1 << 16)->Arg(1 << 20)->Unit(benchmark::kMillisecond)->UseRealTime();

/// The reduction in front of the exact solver: reduced-cost fixing at the greedy's prices (candidates
/// and greedy built once outside the loop). Counters: candidates left free and fixed as taken.
void BM_fix_by_reduced_cost(benchmark::State& state) {
  const Campaign c(state.range(0));
  const auto cand = crmine::campaign_candidates(c.problem);
  const auto greedy = crmine::optimize_campaign(cand, 3, c.problem.budget, c.problem.capacity);
  std::int64_t n_free = 0, n_taken = 0;
  for (auto _ : state) {
    const auto fix = crmine::fix_by_reduced_cost(cand, 3, c.problem.budget, c.problem.capacity, greedy.budget_price,
                                                 greedy.channel_price, greedy.expected_profit);
    n_free = std::count(fix.begin(), fix.end(), crmine::CandidateFix::free);
    n_taken = std::count(fix.begin(), fix.end(), crmine::CandidateFix::taken);
    benchmark::DoNotOptimize(fix.data());
  }
  state.counters["candidates"] = static_cast<double>(cand.size());
  state.counters["free"] = static_cast<double>(n_free);
  state.counters["taken"] = static_cast<double>(n_taken);
  state.SetItemsProcessed(state.iterations() * cand.size());
}
BENCHMARK(BM_fix_by_reduced_cost)->Arg(100000)->Arg(1 << 20)->Unit(benchmark::kMillisecond)->UseRealTime();

crmine::RowMatrix random_rows(Eigen::Index n, Eigen::Index d, std::uint64_t seed) {
  crmine::Random rng(seed);
  crmine::RowMatrix X(n, d);
  for (Eigen::Index i = 0; i < X.size(); ++i) X.data()[i] = rng.uniform();
  return X;
}

void BM_nearest_neighbors(benchmark::State& state) {
  const auto R = random_rows(state.range(0), 10, 1), Q = random_rows(state.range(0) / 5, 10, 2);
  for (auto _ : state) benchmark::DoNotOptimize(crmine::nearest_neighbors(R, Q, 20).indices.data());
  state.SetItemsProcessed(state.iterations() * Q.rows());
}
BENCHMARK(BM_nearest_neighbors)->Arg(1 << 14)->Arg(1 << 16)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_LookAlike_score(benchmark::State& state) {
  const auto X = random_rows(state.range(0), 10, 3), P = random_rows(state.range(0) / 5, 10, 4);
  Eigen::VectorXi best(X.rows());
  for (Eigen::Index i = 0; i < X.rows(); ++i) best[i] = X(i, 0) + X(i, 1) > 1.4 ? 1 : 0;
  crmine::LookAlike m;
  m.fit(X, best, Eigen::VectorXd());
  for (auto _ : state) benchmark::DoNotOptimize(m.score(P).expected_value.data());
  state.SetItemsProcessed(state.iterations() * P.rows());
}
BENCHMARK(BM_LookAlike_score)->Arg(1 << 14)->Arg(1 << 16)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
