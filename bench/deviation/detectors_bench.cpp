// SPDX-License-Identifier: Apache-2.0
// Google Benchmark of the deviation detectors: IsolationForest, LocalOutlierFactor, HBOS, RobustZ, Mahalanobis,
// and explain's detector contributions.
#include <crmine/core/random.hpp>
#include <crmine/deviation.hpp>

#include <benchmark/benchmark.h>

#include <cmath>

namespace {

/// n rows of d correlated Gaussian features (feature j = z_j + 0.5 z_0), 1% of them shifted by 4.
crmine::RowMatrix make_data(Eigen::Index n, Eigen::Index d, std::uint64_t seed) {
  crmine::Random rng(seed);
  auto normal = [&] {
    const double u1 = 1 - rng.uniform(), u2 = rng.uniform();
    return std::sqrt(-2 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  };
  crmine::RowMatrix X(n, d);
  for (Eigen::Index i = 0; i < n; ++i) {
    const double z0 = normal();
    for (Eigen::Index f = 0; f < d; ++f) X(i, f) = (f == 0 ? z0 : normal() + 0.5 * z0) + (i % 100 == 0 ? 4.0 : 0.0);
  }
  return X;
}

template <typename Model>
void fit_and_score(benchmark::State& state, Model model, Eigen::Index d) {
  const Eigen::Index n = state.range(0);
  const auto X = make_data(n, d, 42);
  for (auto _ : state) {
    model.fit(X);
    benchmark::DoNotOptimize(model.deviation_score(X).data());
  }
  state.SetItemsProcessed(state.iterations() * n);
}

void BM_IsolationForest_fit_score(benchmark::State& state) { fit_and_score(state, crmine::IsolationForest(), 20); }
BENCHMARK(BM_IsolationForest_fit_score)->Range(1 << 14, 1 << 20)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_HBOS_fit_score(benchmark::State& state) { fit_and_score(state, crmine::HBOS(), 20); }
BENCHMARK(BM_HBOS_fit_score)->Range(1 << 14, 1 << 20)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_RobustZ_fit_score(benchmark::State& state) { fit_and_score(state, crmine::RobustZ(), 20); }
BENCHMARK(BM_RobustZ_fit_score)->Range(1 << 14, 1 << 20)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_Mahalanobis_fit_score(benchmark::State& state) { fit_and_score(state, crmine::Mahalanobis(), 10); }
BENCHMARK(BM_Mahalanobis_fit_score)->Range(1 << 12, 1 << 18)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_LocalOutlierFactor_fit(benchmark::State& state) {
  const Eigen::Index n = state.range(0);
  const auto X = make_data(n, 10, 7);
  crmine::LocalOutlierFactorOptions o;
  o.algorithm = static_cast<crmine::NeighborAlgorithm>(state.range(1));
  for (auto _ : state) {
    crmine::LocalOutlierFactor m(o);
    m.fit(X);
    benchmark::DoNotOptimize(m.negative_outlier_factor().data());
  }
  state.SetItemsProcessed(state.iterations() * n);
}
// Args: rows, algorithm (1 = brute, 2 = kd_tree, 3 = approximate: random-projection forest).
BENCHMARK(BM_LocalOutlierFactor_fit)
    ->ArgsProduct({{1 << 12, 1 << 15, 100000}, {1, 2, 3}})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

/// explain's detector contributions: each row and its 20 one-feature-reset variants scored by a fitted
/// IsolationForest in bounded blocks.
void BM_detector_contributions(benchmark::State& state) {
  const Eigen::Index n = state.range(0);
  const auto X = make_data(1 << 14, 20, 3);
  crmine::IsolationForest forest;
  forest.fit(X);
  const crmine::RowMatrix ref = X.colwise().mean();
  for (auto _ : state) benchmark::DoNotOptimize(crmine::detector_contributions(forest, X.topRows(n), ref).data());
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_detector_contributions)->Range(1 << 8, 1 << 14)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
