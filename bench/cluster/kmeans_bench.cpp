// SPDX-License-Identifier: Apache-2.0
// Google Benchmark of the cluster area: KMeans (Lloyd vs Hamerly), MiniBatchKMeans, KPrototypes, GaussianMixture.
#include <crmine/cluster.hpp>
#include <crmine/core/random.hpp>

#include <benchmark/benchmark.h>

#include <cmath>

namespace {

/// n rows of d features drawn around `k` random centres (sd 1, centres uniform in [-5, 5]).
crmine::RowMatrix make_blobs(Eigen::Index n, Eigen::Index d, int k, std::uint64_t seed) {
  crmine::Random rng(seed);
  crmine::RowMatrix centres(k, d), X(n, d);
  for (Eigen::Index i = 0; i < centres.size(); ++i) centres.data()[i] = 10 * rng.uniform() - 5;
  for (Eigen::Index i = 0; i < n; ++i) {
    const auto j = static_cast<Eigen::Index>(rng.below(static_cast<std::uint64_t>(k)));
    for (Eigen::Index f = 0; f < d; ++f) {
      const double u1 = 1 - rng.uniform(), u2 = rng.uniform();
      X(i, f) = centres(j, f) + std::sqrt(-2 * std::log(u1)) * std::cos(6.283185307179586 * u2);
    }
  }
  return X;
}

void BM_KMeans_fit(benchmark::State& state) {
  const Eigen::Index n = state.range(0);
  const int k = static_cast<int>(state.range(1));
  const auto X = make_blobs(n, 20, k, 42);
  crmine::KMeansOptions o;
  o.n_clusters = k;
  o.algorithm = static_cast<crmine::KMeansAlgorithm>(state.range(2));
  double inertia = 0;
  for (auto _ : state) {
    crmine::KMeans m(o);
    m.fit(X);
    inertia = m.inertia();
    benchmark::DoNotOptimize(inertia);
  }
  state.counters["inertia"] = inertia;
  state.SetItemsProcessed(state.iterations() * n);
}
// Args: rows, k, algorithm (1 = Lloyd, 2 = Hamerly).
BENCHMARK(BM_KMeans_fit)
    ->ArgsProduct({{1 << 16, 1 << 18}, {8, 64}, {1, 2}})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

void BM_MiniBatchKMeans_fit(benchmark::State& state) {
  const Eigen::Index n = state.range(0);
  const auto X = make_blobs(n, 20, 8, 43);
  crmine::MiniBatchKMeansOptions o;
  o.n_clusters = 8;
  o.max_iter = 1;
  for (auto _ : state) {
    crmine::MiniBatchKMeans m(o);
    m.fit(X);
    benchmark::DoNotOptimize(m.inertia());
  }
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_MiniBatchKMeans_fit)->Range(1 << 16, 1 << 20)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_KPrototypes_fit(benchmark::State& state) {
  const Eigen::Index n = state.range(0);
  const auto X = make_blobs(n, 4, 6, 44);
  crmine::Random rng(45);
  crmine::RowMatrixXi C(n, 4);
  for (Eigen::Index i = 0; i < C.size(); ++i) C.data()[i] = static_cast<std::int32_t>(rng.below(5));
  crmine::KPrototypesOptions o;
  o.n_clusters = 6;
  o.n_init = 1;
  for (auto _ : state) {
    crmine::KPrototypes m(o);
    m.fit(X, C);
    benchmark::DoNotOptimize(m.cost());
  }
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_KPrototypes_fit)->Range(1 << 14, 1 << 17)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_GaussianMixture_fit(benchmark::State& state) {
  const Eigen::Index n = state.range(0);
  const auto X = make_blobs(n, 10, 8, 46);
  crmine::GaussianMixtureOptions o;
  o.n_components = 8;
  o.covariance_type = static_cast<crmine::CovarianceType>(state.range(1));
  for (auto _ : state) {
    crmine::GaussianMixture g(o);
    g.fit(X);
    benchmark::DoNotOptimize(g.lower_bound());
  }
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_GaussianMixture_fit)->ArgsProduct({{1 << 16, 1 << 18}, {0, 1}})->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
