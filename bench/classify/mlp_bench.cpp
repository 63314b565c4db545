// SPDX-License-Identifier: Apache-2.0
// Google Benchmark of MLPClassifier: epochs of Adam on mini-batches, and scoring rows.
#include <crmine/classify/mlp.hpp>

#include <benchmark/benchmark.h>

#include "synthetic.hpp"

namespace {

using bench::make_data;

/// Args: rows, hidden units, threads. Five epochs with scikit-learn's default batch of 200.
void BM_MLPClassifier_fit(benchmark::State& state) {
  crmine::MLPOptions o;
  o.hidden_layer_sizes = {static_cast<int>(state.range(1))};
  o.max_iter = 5;
  o.n_threads = static_cast<int>(state.range(2));
  bench::fit_loop<crmine::MLPClassifier>(state, o);
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
