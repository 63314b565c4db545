// SPDX-License-Identifier: Apache-2.0
// Google Benchmark of the uplift area: Qini coefficient, two-model logistic uplift, uplift tree and forest.
#include <crmine/campaign/uplift.hpp>
#include <crmine/classify/gradient_boosting.hpp>
#include <crmine/classify/logistic.hpp>
#include <crmine/core/random.hpp>

#include <benchmark/benchmark.h>

#include <cmath>
#include <memory>

namespace {

/// n rows of 10 standard-normal-ish features; treatment adds 1.5 x0 - 0.4 to the log-odds.
struct Campaign {
  crmine::RowMatrix X;
  Eigen::VectorXi y, t;
  Eigen::VectorXd tau;
};

Campaign make_campaign(Eigen::Index n, std::uint64_t seed) {
  crmine::Random rng(seed);
  Campaign c{crmine::RowMatrix(n, 10), Eigen::VectorXi(n), Eigen::VectorXi(n), Eigen::VectorXd(n)};
  for (Eigen::Index i = 0; i < n; ++i) {
    for (int j = 0; j < 10; ++j) c.X(i, j) = 2 * (rng.uniform() + rng.uniform() + rng.uniform()) - 3;
    const double base = -1.2 + 0.4 * c.X(i, 1) - 0.3 * c.X(i, 2);
    const double p0 = 1 / (1 + std::exp(-base)), p1 = 1 / (1 + std::exp(-(base + 1.5 * c.X(i, 0) - 0.4)));
    c.tau[i] = p1 - p0;
    c.t[i] = rng.uniform() < 0.5;
    c.y[i] = rng.uniform() < (c.t[i] ? p1 : p0);
  }
  return c;
}

void BM_qini_auc_score(benchmark::State& state) {
  const auto c = make_campaign(state.range(0), 1);
  for (auto _ : state) benchmark::DoNotOptimize(crmine::qini_auc_score(c.y, c.tau, c.t));
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_qini_auc_score)->Range(1 << 16, 1 << 20)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_TwoModelUplift_fit(benchmark::State& state) {
  const auto c = make_campaign(state.range(0), 2);
  for (auto _ : state) {
    crmine::TwoModelUplift m(std::make_unique<crmine::LogisticRegression>(), std::make_unique<crmine::LogisticRegression>());
    m.fit(c.X, c.y, c.t);
    benchmark::DoNotOptimize(m.is_fitted());
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_TwoModelUplift_fit)->Range(1 << 16, 1 << 20)->Unit(benchmark::kMillisecond)->UseRealTime();

/// Two boosting models of 100 trees x 31 leaves (bench_uplift.py's) at range(1) threads: at 2 the
/// groups are fitted at the same time, one thread each; 1 thread fits them one after the other.
void BM_TwoModelBoosting_fit(benchmark::State& state) {
  const auto c = make_campaign(state.range(0), 2);
  crmine::GradientBoostingOptions o;
  o.n_threads = static_cast<int>(state.range(1));
  for (auto _ : state) {
    crmine::GradientBoostingClassifier treated(o), control(o);
    crmine::fit_two_model_boosting(treated, control, c.X, c.y, c.t);
    benchmark::DoNotOptimize(treated.n_trees());
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_TwoModelBoosting_fit)->ArgsProduct({{1 << 16, 1 << 19}, {1, 2}})->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_UpliftTree_fit(benchmark::State& state) {
  const auto c = make_campaign(state.range(0), 3);
  crmine::UpliftTreeOptions o;
  o.max_depth = 6;
  for (auto _ : state) {
    crmine::UpliftTree m(o);
    m.fit(c.X, c.y, c.t);
    benchmark::DoNotOptimize(m.n_leaves());
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_UpliftTree_fit)->Range(1 << 16, 1 << 20)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_UpliftForest_fit(benchmark::State& state) {
  const auto c = make_campaign(state.range(0), 4);
  crmine::UpliftForestOptions o;
  o.n_estimators = 20;
  o.max_depth = 6;
  o.max_samples = 0.5;
  for (auto _ : state) {
    crmine::UpliftForest m(o);
    m.fit(c.X, c.y, c.t);
    benchmark::DoNotOptimize(m.n_trees());
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_UpliftForest_fit)->Range(1 << 16, 1 << 18)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
