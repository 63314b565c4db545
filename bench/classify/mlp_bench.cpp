// SPDX-License-Identifier: Apache-2.0
// Google Benchmark of MLPClassifier: epochs of Adam on mini-batches, and scoring rows.
#include <crmine/classify/mlp.hpp>
#include <crmine/core/random.hpp>

#include <benchmark/benchmark.h>

#include <cmath>

namespace {

/// n rows of p standard-normal features; y from a logistic model with a sine term (seeded).
void make_data(Eigen::Index n, Eigen::Index p, std::uint64_t seed, crmine::RowMatrix& X, Eigen::VectorXi& y) {
  crmine::Random rng(seed);
  X.resize(n, p);
  y.resize(n);
  for (Eigen::Index i = 0; i < n; ++i) {
    double eta = -1.5;
    for (Eigen::Index j = 0; j < p; ++j) {
      const double u1 = rng.uniform() + 1e-300, u2 = rng.uniform();
      X(i, j) = std::sqrt(-2 * std::log(u1)) * std::cos(6.283185307179586 * u2);
      if (j % 3 == 0) eta += 0.4 * X(i, j);
    }
    eta += std::sin(2 * X(i, 1));
    y[i] = rng.uniform() < 1 / (1 + std::exp(-eta)) ? 1 : 0;
  }
}

/// Args: rows, hidden units, threads. Five epochs with scikit-learn's default batch of 200.
void BM_MLPClassifier_fit(benchmark::State& state) {
  crmine::RowMatrix X;
  Eigen::VectorXi y;
  make_data(state.range(0), 50, 42, X, y);
  crmine::MLPOptions o;
  o.hidden_layer_sizes = {static_cast<int>(state.range(1))};
  o.max_iter = 5;
  o.n_threads = static_cast<int>(state.range(2));
  for (auto _ : state) {
    crmine::MLPClassifier m(o);
    m.fit(X, y);
    benchmark::DoNotOptimize(m.network().loss_curve.back());
  }
  state.SetItemsProcessed(state.iterations() * state.range(0) * o.max_iter);
}
BENCHMARK(BM_MLPClassifier_fit)
    ->ArgsProduct({{1 << 14, 1 << 16}, {100}, {1, 2}})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

/// Args: rows, threads. Scores rows with a 50 -> 100 -> 1 network.
void BM_MLPClassifier_predict_proba(benchmark::State& state) {
  crmine::RowMatrix X;
  Eigen::VectorXi y;
  make_data(4096, 50, 7, X, y);
  crmine::MLPOptions o;
  o.max_iter = 1;
  o.n_threads = static_cast<int>(state.range(1));
  crmine::MLPClassifier m(o);
  m.fit(X, y);
  crmine::RowMatrix Xs;
  Eigen::VectorXi ys;
  make_data(state.range(0), 50, 8, Xs, ys);
  for (auto _ : state) benchmark::DoNotOptimize(m.predict_proba(Xs));
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_MLPClassifier_predict_proba)
    ->ArgsProduct({{1 << 16, 1 << 20}, {1, 2}})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
